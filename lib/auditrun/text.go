package auditrun

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/iagen-course/iagen/lib/audit"
	"github.com/iagen-course/iagen/lib/bert"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/gpt"
	"github.com/iagen-course/iagen/lib/rnn"
)

// textModel is what the audit needs of a text family: its corpus, its prompt and sampling
// settings, and rows continuations of chars characters of a prompt drawn with a sampling and a
// seed.
type textModel struct {
	corpus, prompt string
	chars          int
	sampling       gpt.Sampling
	generate       func(prompt string, chars, rows int, s gpt.Sampling, seed int64) ([]string, error)
}

// textModelOf returns the text model of a gpt or lstm model.
func textModelOf(m family.Model) (textModel, error) {
	switch m := m.(type) {
	case *gpt.Model:
		return textModel{corpus: m.Corpus, prompt: m.Prompt, chars: m.SampleChars, sampling: m.Sampling,
			generate: func(prompt string, chars, rows int, s gpt.Sampling, seed int64) ([]string, error) {
				return m.Generate(prompt, chars, gpt.GenerateOptions{Sampling: s, Rows: rows, Seed: seed})
			}}, nil
	case *rnn.Model:
		return textModel{corpus: m.Corpus, prompt: m.Prompt, chars: m.SampleChars, sampling: m.Sampling,
			generate: func(prompt string, chars, rows int, s gpt.Sampling, seed int64) ([]string, error) {
				return m.Generate(prompt, chars, rnn.GenerateOptions{Sampling: s, Rows: rows, Seed: seed})
			}}, nil
	}
	return textModel{}, fmt.Errorf("a %T has nothing to audit: it generates neither images nor text", m)
}

// Text generates n texts from the model m (gpt or lstm) and measures their verbatim copying from
// the training split of its corpus, against validation passages of the same lengths; on the
// occupation corpus it adds the gender audit (Gender, genderPerTemplate continuations per
// prompt).
func Text(m family.Model, dataDir string, n, genderPerTemplate int) (*audit.TextReport, error) {
	tm, err := textModelOf(m)
	if err != nil {
		return nil, err
	}
	text, err := data.LoadText(data.Dir(dataDir), tm.corpus)
	if err != nil {
		return nil, err
	}
	trainText, valText := data.SplitText(text)
	idx, err := audit.NewCorpusIndex(trainText)
	if err != nil {
		return nil, err
	}
	texts, err := tm.generate(tm.prompt, tm.chars, n, tm.sampling, int64(Seed))
	if err != nil {
		return nil, err
	}
	lengths := make([]int, len(texts))
	for i, t := range texts {
		lengths[i] = utf8.RuneCountInString(t)
	}
	heldOut, err := audit.HeldOutPassages(valText, lengths)
	if err != nil {
		return nil, err
	}
	rep := &audit.TextReport{Corpus: tm.corpus, CorpusTrainChars: utf8.RuneCountInString(trainText), Prompt: tm.prompt,
		CharsPerText: tm.chars, Sampling: tm.sampling}
	if rep.TextAudit, err = audit.AuditTexts(idx, texts, heldOut, 0); err != nil {
		return nil, err
	}
	if tm.corpus == data.OccupationCorpusName {
		if rep.Gender, err = Gender(m, genderPerTemplate); err != nil {
			return nil, fmt.Errorf("gender audit: %w", err)
		}
	}
	return rep, nil
}

// lineStart precedes every sentence of the occupation corpus (one sentence per line): the
// prompts and the minimal pairs start with it, so the model reads each as a line's start.
const lineStart = "\n"

// GenderSampling draws from the model's own distribution (temperature 1, no top-k or top-p):
// a lower temperature or a nucleus sharpens every majority, so it would amplify the training
// bias by construction, whatever the model learned.
var GenderSampling = gpt.Sampling{Temperature: 1}

// Gender is the occupation–gender audit of a text model m trained on the occupation corpus:
// perTemplate continuations of each neutral prompt (audit.GenderPrompt), classified and compared
// with the corpus's truth, and the minimal pairs of that truth scored by the model's exact
// log-likelihood (family.TextScorer).
func Gender(m family.Model, perTemplate int) (*audit.GenderReport, error) {
	if perTemplate < 1 {
		return nil, fmt.Errorf("auditrun: %d continuations per prompt, want ≥ 1", perTemplate)
	}
	tm, err := textModelOf(m)
	if err != nil {
		return nil, err
	}
	scorer, ok := m.(family.TextScorer)
	if !ok {
		return nil, fmt.Errorf("a %T does not score texts (family.TextScorer)", m)
	}
	truth, pairs, err := occupationPairs(tm.corpus)
	if err != nil {
		return nil, err
	}
	c, err := audit.NewGenderClassifier(data.Occupations, data.OccupationTemplates)
	if err != nil {
		return nil, err
	}
	var prompts, gens []string
	chars := 0
	for i, tpl := range data.OccupationTemplates {
		p := audit.GenderPrompt(tpl)
		n := c.MaxChars() - utf8.RuneCountInString(p) // enough to reach every decisive mark
		out, err := tm.generate(lineStart+p, n, perTemplate, GenderSampling, int64(Seed)+int64(i))
		if err != nil {
			return nil, err
		}
		for _, s := range out {
			gens = append(gens, p+strings.SplitN(s, "\n", 2)[0]) // the sentence the prompt starts
		}
		prompts, chars = append(prompts, p), max(chars, n)
	}
	scores, err := audit.ScoreMinimalPairs(pairs, lineStart, scorer.LogLikelihood)
	if err != nil {
		return nil, err
	}
	g, err := audit.AuditTextGender(truth, c, gens, pairs, scores, audit.DefaultLevel)
	if err != nil {
		return nil, err
	}
	g.Prompts, g.PerTemplate, g.Chars, g.Sampling = prompts, perTemplate, chars, GenderSampling
	return &g, nil
}

// occupationPairs returns the truth of the occupation corpus and its minimal pairs.
func occupationPairs(corpus string) ([]data.OccupationTruth, []audit.MinimalPair, error) {
	_, truth, err := data.GeneratedOccupationText(corpus)
	if err != nil {
		return nil, nil, err
	}
	pairs, err := audit.MinimalPairs(truth, data.OccupationTemplates)
	return truth, pairs, err
}

// Masked audits a masked language model trained on the occupation corpus. It writes no text,
// so only its minimal pairs are scored: by the pseudo-log-likelihood of the characters each
// pair's sentences share, as CrowS-Pairs scores masked models (audit.ScoreMinimalPairsShared),
// and, for contrast, of the whole sentences.
func Masked(m *bert.Model) (*audit.MaskedReport, error) {
	if m.Corpus != data.OccupationCorpusName {
		return nil, fmt.Errorf("a masked model is audited by its minimal pairs, which need a model trained on %s, not %s", data.OccupationCorpusName, m.Corpus)
	}
	truth, pairs, err := occupationPairs(m.Corpus)
	if err != nil {
		return nil, err
	}
	shared, err := audit.ScoreMinimalPairsShared(pairs, lineStart, m.PseudoLogLikelihoodOf)
	if err != nil {
		return nil, err
	}
	whole, err := audit.ScoreMinimalPairs(pairs, lineStart, m.PseudoLogLikelihood)
	if err != nil {
		return nil, err
	}
	r, err := audit.AuditMaskedPairs(truth, pairs, shared, whole, audit.DefaultLevel)
	if err != nil {
		return nil, err
	}
	r.Corpus, r.Prefix = m.Corpus, lineStart
	return &r, nil
}
