package bert

import (
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/audit"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/gpt"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/train/traintest"
)

// tinyConfig is a 2-layer, 32-wide model over 16-character windows: each test compiles in
// about a second.
func tinyConfig() Config {
	c, _ := ProfileConfig("ci")
	c.Context, c.DModel, c.Heads, c.Layers, c.Batch = 16, 32, 2, 2, 8
	c.EvalBatch, c.EvalWindows, c.PLLWindows = 8, 16, 2
	return c
}

func newTestModel(t *testing.T, b compute.Backend, cfg Config, seed int64) *Model {
	return traintest.NewModel(t, NewWithConfig, b, cfg, seed)
}

func TestProfiles(t *testing.T) {
	traintest.ProfilesAreValid(t, ProfileConfig, Config.Check)
	c, _ := ProfileConfig("ci")
	c.MaskRate = 0
	if c.Check() == nil {
		t.Error("mask_rate 0 accepted")
	}
}

// BERT's scheme on a large constructed batch: exactly k = round(0.15·T) chosen positions per
// row, split 80/10/10 within 5 binomial standard deviations, nothing else changed or scored, and
// the same seed giving the same corruption.
func TestMaskScheme(t *testing.T) {
	const rows, length, vocab = 4000, 40, 10
	const mask = int32(vocab)
	r := rand.New(rand.NewPCG(1, 2))
	ids := make([]int32, rows*length)
	for i := range ids {
		ids[i] = int32(r.IntN(vocab))
	}
	orig := append([]int32(nil), ids...)
	b := Mask(ids, length, vocab, mask, 0.15, rand.New(rand.NewPCG(7, 0)))
	for i := range ids {
		if ids[i] != orig[i] {
			t.Fatal("Mask changed its input")
		}
	}
	const k = 6 // round(0.15·40)
	var masked, replaced, kept int
	for row := range rows {
		chosen := 0
		for t0 := range length {
			p := row*length + t0
			if b.Targets[p] != orig[p] {
				t.Fatalf("target %d changed", p)
			}
			switch {
			case b.Weights[p] == 0 && b.Inputs[p] != orig[p]:
				t.Fatalf("position %d not chosen but changed", p)
			case b.Weights[p] == 0:
			case b.Weights[p] != 1:
				t.Fatalf("weight %g at %d", b.Weights[p], p)
			case b.Inputs[p] == mask:
				masked++
				chosen++
			case b.Inputs[p] != orig[p]:
				replaced++
				chosen++
			default:
				kept++
				chosen++
			}
		}
		if chosen != k {
			t.Fatalf("row %d: %d positions chosen, want %d", row, chosen, k)
		}
	}
	n := float64(rows * k)
	// A random replacement draws the original itself with probability 1/vocab.
	for _, c := range []struct {
		name string
		got  int
		p    float64
	}{{"[MASK]", masked, 0.8}, {"random", replaced, 0.1 * (1 - 1.0/vocab)}, {"unchanged", kept, 0.1 + 0.1/vocab}} {
		sd := math.Sqrt(c.p * (1 - c.p) / n)
		if share := float64(c.got) / n; math.Abs(share-c.p) > 5*sd {
			t.Errorf("%s share %.4f, want %.4f ± %.4f", c.name, share, c.p, 5*sd)
		}
	}
	again := Mask(ids, length, vocab, mask, 0.15, rand.New(rand.NewPCG(7, 0)))
	other := Mask(ids, length, vocab, mask, 0.15, rand.New(rand.NewPCG(8, 0)))
	same, differ := true, false
	for i := range ids {
		same = same && again.Inputs[i] == b.Inputs[i] && again.Weights[i] == b.Weights[i]
		differ = differ || other.Weights[i] != b.Weights[i]
	}
	if !same || !differ {
		t.Errorf("same seed reproduces: %v; another seed differs: %v", same, differ)
	}
	// A short window still gets one prediction.
	if s := Mask([]int32{1, 2, 3}, 3, vocab, mask, 0.15, r); s.Weights[0]+s.Weights[1]+s.Weights[2] != 1 {
		t.Errorf("3-character window: weights %v, want one chosen position", s.Weights)
	}
}

// lossExec returns the logits [B, T, V] (no padding) and the masked loss of (tokens, targets,
// weights), without training.
func lossExec(t *testing.T, m *Model) *train.Exec {
	t.Helper()
	e, err := train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		logits := m.logits(scope, in[0], nil)
		return []*graph.Node{graph.LogSoftmax(logits, -1), maskedLoss(logits, in[1], in[2])}
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// The loss is the mean cross-entropy at the chosen positions, computed on the host, and the
// targets of unchosen positions do not enter it.
func TestLossScoresChosenPositionsOnly(t *testing.T) {
	m := newTestModel(t, traintest.GoBackend(t), tinyConfig(), 2)
	in, _ := data.TextWindows(m.trainIDs, m.Context, 2, 0, 3)
	b := Mask(tensors.MustCopyFlatData[int32](in), m.Context, m.vocabSize, m.maskID(), m.MaskRate, rand.New(rand.NewPCG(3, 3)))
	e := lossExec(t, m)
	w := tensors.FromFlatDataAndDimensions(b.Weights, 3, m.Context)
	out, err := e.Call(m.tensor(b.Inputs, 3), m.tensor(b.Targets, 3), w)
	if err != nil {
		t.Fatal(err)
	}
	logp := tensors.MustCopyFlatData[float32](out[0])
	var sum, n float64
	for p, wt := range b.Weights {
		if wt > 0 {
			sum -= float64(logp[p*m.vocabSize+int(b.Targets[p])])
			n++
		}
	}
	got, _ := train.Scalar(out[1])
	if !(math.Abs(got-sum/n) <= 1e-5*sum/n) {
		t.Errorf("graph loss %.7f, host %.7f over %v chosen positions", got, sum/n, n)
	}
	other := append([]int32(nil), b.Targets...)
	for p, wt := range b.Weights {
		if wt == 0 {
			other[p] = (other[p] + 1) % int32(m.vocabSize)
		}
	}
	out2, err := e.Call(m.tensor(b.Inputs, 3), m.tensor(other, 3), w)
	if err != nil {
		t.Fatal(err)
	}
	if got2, _ := train.Scalar(out2[1]); got2 != got {
		t.Errorf("changing unchosen targets changed the loss: %.7f → %.7f", got, got2)
	}
}

// Bidirectional: changing the character at position j changes the predictions before j too
// (a GPT's would not change).
func TestSeesBothSides(t *testing.T) {
	m := newTestModel(t, traintest.GoBackend(t), tinyConfig(), 3)
	row := append([]int32(nil), m.valIDs[:m.Context]...)
	changed := append([]int32(nil), row...)
	changed[m.Context-1] = (changed[m.Context-1] + 1) % int32(m.vocabSize)
	var a, b []float32
	if err := m.runRows([][]int32{row, changed}, func(i int, lp []float32) {
		if i == 0 {
			a = append([]float32(nil), lp...)
		} else {
			b = append([]float32(nil), lp...)
		}
	}); err != nil {
		t.Fatal(err)
	}
	if a[0] == b[0] && a[1] == b[1] {
		t.Error("position 0 did not change with the last character: the model is not bidirectional")
	}
}

// PseudoLogLikelihood equals the brute-force sum, over each position, of log p(x_t | x_{\t})
// from a separate unpadded run of its window — so the batching, the padding and its key mask
// are invisible — on texts shorter and longer than the context; PseudoLogLikelihoodOf, the sum
// over the positions it is told to score.
func TestPseudoLogLikelihoodMatchesBruteForce(t *testing.T) {
	m := newTestModel(t, traintest.GoBackend(t), tinyConfig(), 4)
	texts := []string{"Y dijo", "la tierra de Egipto y", "á"} // 6, 21 (> 16) and 1 characters
	got, err := m.PseudoLogLikelihood(texts)
	if err != nil {
		t.Fatal(err)
	}
	scored := make([][]bool, len(texts)) // every third character, from the second
	for i, s := range texts {
		for pos := range []rune(s) {
			scored[i] = append(scored[i], pos%3 == 1)
		}
	}
	gotOf, err := m.PseudoLogLikelihoodOf(texts, scored)
	if err != nil {
		t.Fatal(err)
	}
	e := lossExec(t, m)
	for i, s := range texts {
		x, _ := m.vocab.Encode(s)
		n := len(x)
		l := min(n, m.Context)
		var want, wantOf float64
		for pos := range n {
			st := max(0, min(pos-l/2, n-l))
			row := append([]int32(nil), x[st:st+l]...)
			row[pos-st] = m.maskID()
			out, err := e.Call(tensors.FromFlatDataAndDimensions(row, 1, l), tensors.FromFlatDataAndDimensions(row, 1, l),
				tensors.FromFlatDataAndDimensions(make([]float32, l), 1, l))
			if err != nil {
				t.Fatal(err)
			}
			lp := float64(tensors.MustCopyFlatData[float32](out[0])[(pos-st)*m.vocabSize+int(x[pos])])
			want += lp
			if scored[i][pos] {
				wantOf += lp
			}
		}
		if !(math.Abs(got[i]-want) <= 1e-4*math.Abs(want)) {
			t.Errorf("%q: PLL %.6f, brute force %.6f", s, got[i], want)
		}
		if !(math.Abs(gotOf[i]-wantOf) <= 1e-4*math.Abs(wantOf)) || (n == 1 && gotOf[i] != 0) {
			t.Errorf("%q: PLL of every third character %.6f, brute force %.6f", s, gotOf[i], wantOf)
		}
	}
	if _, err := m.PseudoLogLikelihoodOf(texts, scored[:2]); err == nil {
		t.Error("two score masks for three texts were accepted")
	}
	if _, err := m.PseudoLogLikelihoodOf(texts[:1], [][]bool{{true}}); err == nil {
		t.Error("a score mask shorter than its text was accepted")
	}
	if _, err := m.PseudoLogLikelihood([]string{"la ca_a"}); err == nil {
		t.Error("a character outside the vocabulary was scored")
	}
	if _, err := m.PseudoLogLikelihood([]string{""}); err == nil {
		t.Error("an empty text was scored")
	}
}

// PseudoLogLikelihood and PseudoLogLikelihoodOf plug into the minimal-pair audit as they are:
// whole sentences, and the characters the pair shares (CrowS-Pairs).
func TestMinimalPairAuditTakesPLL(t *testing.T) {
	m := newTestModel(t, traintest.GoBackend(t), tinyConfig(), 4)
	pairs := []audit.MinimalPair{{Occupation: "pastor", Stereo: "El pastor dijo", Anti: "La pastora dijo"}}
	texts := []string{"\nEl pastor dijo", "\nLa pastora dijo"}
	scores, err := audit.ScoreMinimalPairs(pairs, "\n", m.PseudoLogLikelihood)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := m.PseudoLogLikelihood(texts)
	if scores[0].Stereo != want[0] || scores[0].Anti != want[1] {
		t.Errorf("audit scores %+v, PLL %v", scores[0], want)
	}
	if scores, err = audit.ScoreMinimalPairsShared(pairs, "\n", m.PseudoLogLikelihoodOf); err != nil {
		t.Fatal(err)
	}
	inA, inB := audit.SharedChars(texts[0], texts[1])
	want, _ = m.PseudoLogLikelihoodOf(texts, [][]bool{inA, inB})
	if scores[0].Stereo != want[0] || scores[0].Anti != want[1] {
		t.Errorf("shared-character scores %+v, PLL of the shared characters %v", scores[0], want)
	}
}

// repetitiveModel trains a tiny model on "abcabc…" for steps steps.
func repetitiveModel(t *testing.T, steps int) *Model {
	t.Helper()
	text := strings.Repeat("abc", 400)
	v := data.NewVocab(text)
	ids, _ := v.Encode(text)
	cfg := tinyConfig()
	cfg.Context, cfg.Layers, cfg.LearningRate, cfg.EvalWindows, cfg.PLLWindows = 12, 1, 3e-3, 4, 1
	m, err := newModel(family.Options{Backend: traintest.GoBackend(t), Profile: "ci", Seed: 1}, cfg,
		&data.Corpus{Name: "abc", Vocab: v, Train: ids[:1000], Val: ids[1000:], Files: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := train.Run(context.Background(), m, train.Config{Steps: steps, Seed: 1, Progress: train.SilentProgress()}); err != nil {
		t.Fatal(err)
	}
	return m
}

// On a periodic text the blank is forced: FillMask must find it, confidently, in both decoding
// orders; and Gibbs sampling writes only the pattern.
func TestFillMaskForcedAnswer(t *testing.T) {
	m := repetitiveModel(t, 300)
	for _, c := range []struct{ in, want string }{{"abcabc_bc", "abcabcabc"}, {"ab___cabc", "abcabcabc"}, {"_bcabca", "abcabca"}} {
		for _, par := range []bool{false, true} {
			f, err := m.FillMask(c.in, FillOptions{Parallel: par})
			if err != nil {
				t.Fatal(err)
			}
			if f.Text != c.want {
				t.Errorf("FillMask(%q, parallel %v) = %q, want %q", c.in, par, f.Text, c.want)
			}
			for _, ch := range f.Choices {
				if ch.Prob < 0.9 {
					t.Errorf("%q: choice %+v not confident", c.in, ch)
				}
			}
		}
	}
	f, _ := m.FillMask("ab___cabc", FillOptions{})
	orders := map[int]bool{}
	for _, c := range f.Choices {
		orders[c.Order] = true
	}
	if len(f.Choices) != 3 || len(orders) != 3 {
		t.Errorf("most-confident-first fill of 3 blanks: choices %+v", f.Choices)
	}
	if _, err := m.FillMask("abd_", FillOptions{}); err == nil {
		t.Error("a character outside the vocabulary was accepted")
	}
	if _, err := m.FillMask(strings.Repeat("_", 13), FillOptions{}); err == nil {
		t.Error("a text longer than the context was accepted")
	}
	texts, err := m.GibbsSample(3, 9, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := m.GibbsSample(3, 9, 2, 1)
	for i, s := range texts {
		if len(s) != 9 || strings.Trim(s, "abc") != "" || s != again[i] {
			t.Errorf("Gibbs sample %q (again %q): want 9 characters of abc, the same with the same seed", s, again[i])
		}
	}
	t.Logf("Gibbs samples from all-[MASK]: %q", texts)
}

// The ci profile beats the unigram baseline on the masked positions (a model that ignores the
// context), by a margin, in a few seconds.
func TestCIRunBeatsUnigram(t *testing.T) {
	cfg, _ := ProfileConfig("ci")
	m := newTestModel(t, traintest.GoBackend(t), cfg, 5)
	const steps = 300 // of the profile's 400, to keep the test short
	res, err := train.Run(context.Background(), m, train.Config{Steps: steps, Seed: 5, Progress: train.SilentProgress()})
	if err != nil {
		t.Fatal(err)
	}
	nats, _ := res.Eval.Get("val_masked_nats")
	uni, _ := res.Eval.Get("val_masked_unigram_nats")
	acc, _ := res.Eval.Get("val_masked_accuracy")
	pll, _ := res.Eval.Get("val_pll_nats_per_char")
	ppl, _ := res.Eval.Get("val_pseudo_perplexity")
	t.Logf("after %d steps: masked %.3f nats (unigram %.3f), accuracy %.3f, PLL %.3f nats/char", steps, nats, uni, acc, pll)
	if !(nats < uni-0.3) {
		t.Errorf("masked-token loss %.3f nats, want 0.3 below the unigram %.3f", nats, uni)
	}
	if !(math.Abs(ppl-math.Exp(pll)) <= 1e-9*ppl) {
		t.Errorf("pseudo-perplexity %g is not exp(%g)", ppl, pll)
	}
}

func TestResumeMatchesUninterrupted(t *testing.T) {
	cfg := tinyConfig()
	cfg.WarmupSteps, cfg.DecaySteps, cfg.MinLRFraction = 2, 8, 0.1
	b := traintest.GoBackend(t)
	traintest.ResumeMatchesUninterrupted(t, func() train.Task { return newTestModel(t, b, cfg, 6) }, 8, 3, 20, "val_masked_nats")
}

func TestRunFolderRoundTrip(t *testing.T) {
	traintest.RunFolderRoundTrip(t, "bert", traintest.GoBackend(t), tinyConfig(), 3, 2)
}

// Sample writes fills of the prompts given by SetSampling, or of validation windows next to
// the truth; bad options are errors.
func TestSampleAndOptions(t *testing.T) {
	m := newTestModel(t, traintest.GoBackend(t), tinyConfig(), 7)
	dir := t.TempDir()
	path := filepath.Join(dir, "val.txt")
	if err := m.Sample(2, path); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if strings.Count(string(b), "verdad:") != 2 || strings.Count(string(b), "relleno:") != 2 {
		t.Errorf("validation fills:\n%s", b)
	}
	if err := m.SetSampling([]byte(`{"prompt": "la ca_a"}`)); err != nil {
		t.Fatal(err)
	}
	if err := m.Sample(1, path); err != nil {
		t.Fatal(err)
	}
	b, _ = os.ReadFile(path)
	if !strings.Contains(string(b), "huecos:  la ca_a") || !strings.Contains(string(b), "posición 5") {
		t.Errorf("prompt fill:\n%s", b)
	}
	for _, bad := range []string{`{"temperature": 1}`, `{"prompt": "sin huecos"}`, `{"prompt": "ca_a|"}`} {
		if err := m.SetSampling([]byte(bad)); err == nil {
			t.Errorf("options %s accepted", bad)
		}
	}
}

func TestKnownWordFraction(t *testing.T) {
	m := newTestModel(t, traintest.GoBackend(t), tinyConfig(), 8)
	if f, n := m.KnownWordFraction([]string{"Y dijo Dios", "xqzv"}); n != 4 || f != 0.75 {
		t.Errorf("known words %g of %d, want 0.75 of 4", f, n)
	}
}

// CompareWriting measures both models' texts: the right number, length and fields.
func TestCompareWriting(t *testing.T) {
	b := traintest.GoBackend(t)
	m := newTestModel(t, b, tinyConfig(), 9)
	gc, _ := gpt.ProfileConfig("ci")
	gc.Context, gc.DModel, gc.Heads, gc.Layers, gc.EvalBatch = 16, 32, 2, 1, 8
	g, err := gpt.NewWithConfig(family.Options{Backend: b, Profile: "ci", Seed: 9}, gc)
	if err != nil {
		t.Fatal(err)
	}
	if err := train.Seed(g.Store(), 9); err != nil {
		t.Fatal(err)
	}
	c, err := m.CompareWriting(g, 3, 10, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.BERT) != 3 || len(c.GPT) != 3 || len([]rune(c.BERT[0])) != 10 || len([]rune(c.GPT[0])) != 10 {
		t.Fatalf("texts %q and %q: want 3 of 10 characters each", c.BERT, c.GPT)
	}
	// Untrained, both write noise: the GPT's bits/char is near log₂ V on either.
	for _, x := range []float64{c.GPTBitsOnBERT, c.GPTBitsOnGPT} {
		if !(x > 4 && x < 10) {
			t.Errorf("untrained GPT: %.3f bits/char, want near log₂ %d = %.2f", x, m.vocabSize, math.Log2(float64(m.vocabSize)))
		}
	}
	if _, err := m.CompareWriting(g, 1, 17, 1, 1); err == nil {
		t.Error("texts longer than the GPT's context accepted")
	}
}
