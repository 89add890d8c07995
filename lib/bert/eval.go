package bert

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/iagen-course/iagen/lib/metrics"
	"github.com/iagen-course/iagen/lib/train"
)

// evalMaskSeed fixes the validation masks: every model, whatever its seed, is scored on the
// same corrupted windows.
const evalMaskSeed = 0x76616c6d61736b // "valmask"

// valWindows returns the first n non-overlapping windows of Context characters of the
// validation split (all of them when n is 0 or more than there are).
func (m *Model) valWindows(n int) [][]int32 {
	total := len(m.valIDs) / m.Context
	if n <= 0 || n > total {
		n = total
	}
	out := make([][]int32, n)
	for j := range out {
		out[j] = m.valIDs[j*m.Context : (j+1)*m.Context]
	}
	return out
}

// MaskedResult is the masked-token score of the validation split.
type MaskedResult struct {
	Chars       int     // chosen (scored) positions
	Nats        float64 // mean −log p(x_t | x̃) over them
	Accuracy    float64 // share whose most likely character is the original
	UnigramNats float64 // the same positions under the training split's character frequencies
}

// EvaluateMasked scores the first EvalWindows validation windows corrupted by Mask with a fixed
// seed: the mean cross-entropy and the accuracy at the chosen positions, next to the unigram
// baseline (add-one smoothed training frequencies) on the same positions — what a model that
// ignored the context would score.
func (m *Model) EvaluateMasked() (MaskedResult, error) {
	wins := m.valWindows(m.EvalWindows)
	flat := make([]int32, 0, len(wins)*m.Context)
	for _, w := range wins {
		flat = append(flat, w...)
	}
	b := Mask(flat, m.Context, m.vocabSize, m.maskID(), m.MaskRate, rand.New(rand.NewPCG(evalMaskSeed, 0)))
	rows := make([][]int32, len(wins))
	for i := range rows {
		rows[i] = b.Inputs[i*m.Context : (i+1)*m.Context]
	}
	counts := make([]float64, m.vocabSize)
	for _, id := range m.trainIDs {
		counts[id]++
	}
	norm := float64(len(m.trainIDs) + m.vocabSize)
	var r MaskedResult
	var nats, uni float64
	correct := 0
	v := m.vocabSize
	err := m.runRows(rows, func(i int, logp []float32) {
		for t := range m.Context {
			p := i*m.Context + t
			if b.Weights[p] == 0 {
				continue
			}
			y := b.Targets[p]
			lp := logp[t*v : (t+1)*v]
			nats -= float64(lp[y])
			uni -= math.Log((counts[y] + 1) / norm)
			if argmax(lp) == int(y) {
				correct++
			}
			r.Chars++
		}
	})
	if err != nil {
		return MaskedResult{}, err
	}
	if r.Chars == 0 {
		return MaskedResult{}, fmt.Errorf("bert: the validation split has no window of %d characters", m.Context)
	}
	n := float64(r.Chars)
	r.Nats, r.Accuracy, r.UnigramNats = nats/n, float64(correct)/n, uni/n
	return r, nil
}

// Evaluate reports the masked-token score (EvaluateMasked: val_masked_nats, val_masked_accuracy,
// val_masked_unigram_nats, val_masked_chars) and the pseudo-log-likelihood of the first
// PLLWindows validation windows per character, with its pseudo-perplexity
// (val_pll_nats_per_char, val_pseudo_perplexity, val_pll_chars). Neither is a likelihood:
// do not set them beside gpt's val_nats_per_char as if they were.
func (m *Model) Evaluate(int) (train.Metrics, error) {
	r, err := m.EvaluateMasked()
	if err != nil {
		return nil, err
	}
	ms := train.Metrics{
		{Name: "val_masked_nats", Value: r.Nats},
		{Name: "val_masked_accuracy", Value: r.Accuracy},
		{Name: "val_masked_unigram_nats", Value: r.UnigramNats},
		{Name: "val_masked_chars", Value: float64(r.Chars)},
	}
	if m.PLLWindows > 0 {
		wins := m.valWindows(m.PLLWindows)
		pll, err := m.pll(wins, nil)
		if err != nil {
			return nil, err
		}
		var sum float64
		for _, x := range pll {
			sum += x
		}
		chars := len(wins) * m.Context
		npc := metrics.NatsPerChar(-sum, chars)
		ms = append(ms, train.Metric{Name: "val_pll_nats_per_char", Value: npc},
			train.Metric{Name: "val_pseudo_perplexity", Value: metrics.Perplexity(npc)},
			train.Metric{Name: "val_pll_chars", Value: float64(chars)})
	}
	return ms, nil
}

// PseudoLogLikelihood returns, for each text, its pseudo-log-likelihood in nats (Salazar, Liang,
// Nguyen & Kirchhoff 2020, "Masked Language Model Scoring", eq. 2):
//
//	PLL(x) = Σ_t log p(x_t | x_{\t})
//
// each character masked in turn and predicted from all the others: |x| masked copies of the
// text, run as batches. It is NOT a log-likelihood — the conditionals p(x_t | x_{\t}) do not
// multiply to a distribution over texts — which is why the model does not implement
// family.TextScorer; exp(−PLL/|x|) is the pseudo-perplexity. Like a log-likelihood, it ranks
// texts, and it has LogLikelihood's signature, so it plugs into the minimal-pair audit
// (audit.ScoreMinimalPairs(pairs, "\n", m.PseudoLogLikelihood)), as CrowS-Pairs scores masked
// models. A text longer than Context is scored in windows of Context characters, each character
// as near the middle of its window as the text allows. An empty text or a character outside the
// vocabulary ("_" included) is an error.
func (m *Model) PseudoLogLikelihood(texts []string) ([]float64, error) {
	return m.PseudoLogLikelihoodOf(texts, nil)
}

// PseudoLogLikelihoodOf is PseudoLogLikelihood summed over the characters of each text that
// scored marks (scored[i][t] for the t-th character of text i; nil scores them all), each still
// predicted from all the others. CrowS-Pairs scores a masked model so: only the characters the
// two sentences of a pair share, conditioned on those that differ (audit.SharedChars).
func (m *Model) PseudoLogLikelihoodOf(texts []string, scored [][]bool) ([]float64, error) {
	if scored != nil && len(scored) != len(texts) {
		return nil, fmt.Errorf("bert: %d texts but %d score masks", len(texts), len(scored))
	}
	vocab, err := m.Vocab()
	if err != nil {
		return nil, err
	}
	ids := make([][]int32, len(texts))
	for i, s := range texts {
		if ids[i], err = vocab.Encode(s); err != nil {
			return nil, fmt.Errorf("bert: text %d: %w", i, err)
		}
		if len(ids[i]) == 0 {
			return nil, fmt.Errorf("bert: text %d is empty", i)
		}
		if scored != nil && len(scored[i]) != len(ids[i]) {
			return nil, fmt.Errorf("bert: text %d has %d characters but a score mask of %d", i, len(ids[i]), len(scored[i]))
		}
	}
	return m.pll(ids, scored)
}

// pll is PseudoLogLikelihoodOf on encoded texts.
func (m *Model) pll(texts [][]int32, scored [][]bool) ([]float64, error) {
	type copyOf struct{ text, pos int } // a masked copy: which text, which row position is masked
	var rows [][]int32
	var copies []copyOf
	var targets []int32
	for i, x := range texts {
		n := len(x)
		l := min(n, m.Context)
		for t := range n {
			if scored != nil && !scored[i][t] {
				continue
			}
			s := max(0, min(t-l/2, n-l)) // the window [s, s+l) holding t near its middle
			row := append([]int32(nil), x[s:s+l]...)
			row[t-s] = m.maskID()
			rows = append(rows, row)
			copies = append(copies, copyOf{i, t - s})
			targets = append(targets, x[t])
		}
	}
	out := make([]float64, len(texts))
	v := m.vocabSize
	err := m.runRows(rows, func(i int, logp []float32) {
		c := copies[i]
		out[c.text] += float64(logp[c.pos*v+int(targets[i])])
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// argmax is the index of the first largest element of x.
func argmax(x []float32) int { return slices.Index(x, slices.Max(x)) }
