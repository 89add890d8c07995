package gpt

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/train/traintest"
)

// tinyConfig is a 2-layer, 32-wide model with a 16-character context: every test compiles in
// about a second.
func tinyConfig() Config {
	c, _ := ProfileConfig("ci")
	c.Context, c.DModel, c.Heads, c.Layers, c.Batch = 16, 32, 2, 2, 8
	c.EvalBatch, c.EvalWindows, c.SampleChars = 8, 32, 40
	return c
}

func newModel(t *testing.T, b compute.Backend, cfg Config, seed int64) *Model {
	return traintest.NewModel(t, NewWithConfig, b, cfg, seed)
}

func TestProfiles(t *testing.T) {
	traintest.ProfilesAreValid(t, ProfileConfig, Config.Check)
	// bench is BENCH.md's gpt row and its details.
	b, _ := ProfileConfig("bench")
	if b.Corpus != "es-rv1909" || b.Context != 64 || b.DModel != 128 || b.Heads != 4 || b.HeadDim() != 32 || b.Layers != 4 ||
		b.MLPMult != 4 || b.Batch != 32 || b.LearningRate != 1e-3 || b.WeightDecay != 0.1 {
		t.Errorf("bench profile differs from BENCH.md: %+v", b)
	}
	for _, step := range []int{0, 1, 1000, 100000} {
		if lr := b.Schedule().At(step); lr != 1e-3 {
			t.Errorf("bench learning rate at step %d = %g, want a constant 1e-3", step, lr)
		}
	}
}

func TestLearningRateSchedule(t *testing.T) {
	c := Config{LearningRate: 1e-3, WarmupSteps: 10, DecaySteps: 110, MinLRFraction: 0.1}
	cases := []struct {
		step int
		want float64
	}{{0, 1e-4}, {4, 5e-4}, {9, 1e-3}, {10, 1e-3}, {60, 0.55e-3}, {110, 1e-4}, {500, 1e-4}}
	for _, tc := range cases {
		if got := c.Schedule().At(tc.step); !(math.Abs(got-tc.want) <= 1e-12) {
			t.Errorf("step %d: lr %g, want %g", tc.step, got, tc.want)
		}
	}
}

// logitsExec compiles a computation returning the logits [B, T, V] and the training loss of
// (tokens, targets), without updating anything.
func logitsExec(t *testing.T, m *Model) *train.Exec {
	t.Helper()
	e, err := train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		logits := Logits(scope, m.Config, m.vocabSize, in[0]) // the exported graph, the family's variables
		return []*graph.Node{logits, graph.ReduceAllMean(nll(logits, in[1]))}
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// The logits have shape [B, T, V], and the parameter count is the architecture's, counted
// here by hand (not with NumParams, which the model's Info also uses): the store's trainable
// variables, NumParams and Info must all give it.
func TestShapesAndParameterCount(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tinyConfig(), 1)
	in, tg := data.TextWindows(m.trainIDs, m.Context, 1, 0, 3)
	out, err := logitsExec(t, m).Call(in, tg)
	if err != nil {
		t.Fatal(err)
	}
	if got := out[0].Shape().Dimensions; len(got) != 3 || got[0] != 3 || got[1] != m.Context || got[2] != m.vocabSize {
		t.Errorf("logits shape %v, want [3 %d %d]", got, m.Context, m.vocabSize)
	}
	// tinyConfig: context 16, d_model 32, 2 layers, MLP 4×32 = 128 wide.
	if m.Context != 16 || m.DModel != 32 || m.Layers != 2 || m.MLPMult != 4 {
		t.Fatalf("tinyConfig changed (%+v): update the hand count below", m.Config)
	}
	const d, ctx, layers, f = 32, 16, 2, 128
	v := m.vocabSize
	embeddings := v*d + ctx*d    // token and position tables
	layerNorms := 2 * (d + d)    // two LayerNorms, gain and offset
	attention := 4 * (d*d + d)   // q, k, v and output projections with biases
	mlp := (d*f + f) + (f*d + d) // the MLP's two layers with biases
	block := layerNorms + attention + mlp
	final := (d + d) + (d*v + v) // the final LayerNorm and the untied head with its bias
	want := embeddings + layers*block + final
	if got := train.TrainableParams(m.store); got != want {
		t.Errorf("%d trainable parameters in the store, %d by hand", got, want)
	}
	if got := m.NumParams(m.vocabSize); got != want {
		t.Errorf("NumParams = %d, %d by hand", got, want)
	}
	if m.Info().Params != want || m.Info().SampleExt != ".txt" {
		t.Errorf("Info = %+v, want %d parameters", m.Info(), want)
	}
	// BENCH.md's model on the Spanish corpus (85 characters): d 128, context 64, 4 layers, MLP 512.
	benchBlock := 2*(2*128) + 4*(128*128+128) + (128*512 + 512) + (512*128 + 128)
	if b, _ := ProfileConfig("bench"); b.NumParams(85) != 85*128+64*128+4*benchBlock+2*128+128*85+85 || b.NumParams(85) != 823_381 {
		t.Errorf("bench model: %d parameters, want BENCH.md's 823,381", b.NumParams(85))
	}
}

// The training loss equals the mean cross-entropy computed on the host, in float64, from the
// logits: −(1/BT) Σ (logit[target] − log Σ_v exp logit[v]).
func TestLossMatchesIndependentCrossEntropy(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tinyConfig(), 2)
	in, tg := data.TextWindows(m.trainIDs, m.Context, 2, 7, 4)
	out, err := logitsExec(t, m).Call(in, tg)
	if err != nil {
		t.Fatal(err)
	}
	logits := tensors.MustCopyFlatData[float32](out[0])
	targets := tensors.MustCopyFlatData[int32](tg)
	v := m.vocabSize
	var sum float64
	for i, y := range targets {
		row := logits[i*v : (i+1)*v]
		mx := float64(row[argmax(row)])
		var z float64
		for _, l := range row {
			z += math.Exp(float64(l) - mx)
		}
		sum += mx + math.Log(z) - float64(row[y])
	}
	want := sum / float64(len(targets))
	got, _ := train.Scalar(out[1])
	if !(math.Abs(got-want) <= 1e-5*want) {
		t.Errorf("graph loss %.7f, host cross-entropy %.7f", got, want)
	}
	// An untrained model is near the uniform guess log V, not far from it.
	if !(want >= 0.5*math.Log(float64(v)) && want <= 3*math.Log(float64(v))) {
		t.Errorf("initial loss %.3f is far from log V = %.3f", want, math.Log(float64(v)))
	}
}

// Causality: changing the character at position j changes no prediction before j (and does
// change the one at j).
func TestCausalMask(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tinyConfig(), 3)
	e := logitsExec(t, m)
	in, tg := data.TextWindows(m.trainIDs, m.Context, 3, 0, 1)
	ids := tensors.MustCopyFlatData[int32](in)
	const j = 9
	changed := append([]int32(nil), ids...)
	changed[j] = (changed[j] + 1) % int32(m.vocabSize)
	a, err := e.Call(in, tg)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Call(tensors.FromFlatDataAndDimensions(changed, 1, m.Context), tg)
	if err != nil {
		t.Fatal(err)
	}
	la, lb := tensors.MustCopyFlatData[float32](a[0]), tensors.MustCopyFlatData[float32](b[0])
	v := m.vocabSize
	for pos := range m.Context {
		var d float64
		for k := range v {
			d = math.Max(d, math.Abs(float64(la[pos*v+k]-lb[pos*v+k])))
		}
		if pos < j && d != 0 {
			t.Errorf("position %d changed by %g when only position %d did: the future leaks", pos, d, j)
		}
		if pos == j && d == 0 {
			t.Errorf("position %d did not change with its own input", j)
		}
	}
}

// Every trainable variable gets a nonzero gradient from the loss.
func TestGradientsReachEveryVariable(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tinyConfig(), 4)
	var names []string
	e, err := train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		h, _, _ := m.forward(scope, in[0], false, false)
		loss := graph.ReduceAllMean(nll(m.head(scope, h), in[1]))
		grads := scope.BuildTrainableVariablesGradientsGraph(loss)
		names = names[:0]
		for v := range scope.IterVariables() {
			if v.Trainable && v.InUseByGraph(loss.Graph()) {
				names = append(names, v.Path())
			}
		}
		outs := make([]*graph.Node, len(grads))
		for i, g := range grads {
			outs[i] = graph.ReduceAllSum(graph.Abs(g))
		}
		return outs
	})
	if err != nil {
		t.Fatal(err)
	}
	in, tg := data.TextWindows(m.trainIDs, m.Context, 4, 0, 8)
	out, err := e.Call(in, tg)
	if err != nil {
		t.Fatal(err)
	}
	// Every trainable variable of the store is used by the loss graph.
	trainable := 0
	for v := range m.store.IterVariables() {
		if v.Trainable {
			trainable++
		}
	}
	wantVars := 2 + m.Layers*(2*2+4*2+2*2) + 2 + 2 // embeddings, per block (2 LNs, q/k/v/o, up/down), ln_final, head
	if len(out) != trainable || trainable != wantVars {
		t.Fatalf("%d gradients, %d trainable variables, want %d", len(out), trainable, wantVars)
	}
	for i, o := range out {
		if g, _ := train.Scalar(o); !(g > 0) || math.IsInf(g, 0) {
			t.Errorf("variable %s: Σ|∂L/∂θ| = %g", names[i], g)
		}
	}
}

// unigramEntropy is the entropy, in nats per character, of the empirical distribution of ids:
// the cross-entropy on ids of the best model that ignores context (a unigram model fitted to
// ids themselves). Every unigram model — one fitted to the training split included — scores
// at least this on ids, so a model below it has learned something a unigram model cannot.
func unigramEntropy(ids []int32) float64 {
	counts := map[int32]float64{}
	for _, id := range ids {
		counts[id]++
	}
	n := float64(len(ids))
	var h float64
	for _, c := range counts {
		h -= c / n * math.Log(c/n)
	}
	return h
}

// The ci profile's training (a short run of it here) must use context: its validation loss
// must beat every unigram model on the same characters — the entropy of the scored
// characters' own frequencies (≈ 2.99 nats/char; the untrained model is near log V ≈ 4.4, so
// "0.5 nats below the start" is met by a unigram model) — by 0.2 nats/char.
func TestCIProfileLowersLoss(t *testing.T) {
	b := traintest.GoBackend(t)
	cfg, _ := ProfileConfig("ci")
	cfg.EvalWindows = 32
	m := newModel(t, b, cfg, 5)
	before, err := m.Evaluate(0)
	if err != nil {
		t.Fatal(err)
	}
	// Evaluate scores the targets of EvalWindows non-overlapping windows from the start of the
	// validation split (data.ValWindows): characters 1 … EvalWindows·Context.
	scored := m.valIDs[1 : cfg.EvalWindows*m.Context+1]
	unigram := unigramEntropy(scored)
	const steps = 60 // of the profile's 150, to keep the test short: ≈ 2.63 nats/char
	res, err := train.Run(context.Background(), m, train.Config{Steps: steps, Seed: 5, Progress: train.SilentProgress()})
	if err != nil {
		t.Fatal(err)
	}
	b0, _ := before.Get("val_nats_per_char")
	b1, _ := res.Eval.Get("val_nats_per_char")
	chars, _ := res.Eval.Get("val_chars")
	t.Logf("validation %.3f → %.3f nats/char after %d steps; unigram entropy of the scored characters %.3f", b0, b1, steps, unigram)
	if int(chars) != len(scored) {
		t.Fatalf("%v characters scored, the unigram baseline has %d", chars, len(scored))
	}
	if !(b1 < unigram-0.2) {
		t.Errorf("validation %.3f → %.3f nats/char after %d steps: want 0.2 below the unigram entropy %.3f", b0, b1, steps, unigram)
	}
	bpc, _ := res.Eval.Get("val_bpc")
	ppl, _ := res.Eval.Get("val_perplexity")
	if !(math.Abs(bpc-b1/math.Ln2) <= 1e-9) || !(math.Abs(ppl-math.Exp(b1)) <= 1e-9) {
		t.Errorf("val_bpc %g, val_perplexity %g inconsistent with %g nats/char", bpc, ppl, b1)
	}
}

// cancelAt cancels the run's context during step stopAt.
type cancelAt struct {
	*Model
	stopAt int
	cancel func()
}

func (c *cancelAt) Step(step int) (train.Metrics, error) {
	if step == c.stopAt {
		c.cancel()
	}
	return c.Model.Step(step)
}

// A run interrupted and resumed from its checkpoint ends with the same weights as an
// uninterrupted one.
func TestInterruptedRunResumesToSameResult(t *testing.T) {
	b := traintest.GoBackend(t)
	cfg := tinyConfig()
	cfg.WarmupSteps, cfg.DecaySteps, cfg.MinLRFraction = 3, 12, 0.1 // the schedule must resume too
	const steps = 12
	full := newModel(t, b, cfg, 6)
	want, err := train.Run(context.Background(), full, train.Config{Steps: steps, Seed: 6, Progress: train.SilentProgress()})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	first := &cancelAt{Model: newModel(t, b, cfg, 6), stopAt: 4, cancel: cancel}
	_, err = train.Run(ctx, first, train.Config{Steps: steps, Seed: 6, Dir: dir, Progress: train.SilentProgress()})
	if !errors.Is(err, train.ErrInterrupted) {
		t.Fatalf("want an interruption, got %v", err)
	}
	second := newModel(t, b, cfg, 6)
	got, err := train.Run(context.Background(), second, train.Config{Steps: steps, Seed: 6, Dir: dir, Resume: true, Progress: train.SilentProgress()})
	if err != nil {
		t.Fatal(err)
	}
	if got.StartStep != 5 {
		t.Errorf("resumed at step %d, want 5", got.StartStep)
	}
	if w, g := want.Train[0].Value, got.Train[0].Value; w != g {
		t.Errorf("final loss %.8f after resume, %.8f uninterrupted", g, w)
	}
	compared := traintest.SameStores(t, full.store, second.store)
	if compared < 3*train.TrainableParams(full.store)/1000 && compared < 40 { // weights and both Adam moments
		t.Errorf("only %d float variables compared", compared)
	}
	ev, _ := got.Eval.Get("val_nats_per_char")
	ew, _ := want.Eval.Get("val_nats_per_char")
	if ev != ew {
		t.Errorf("validation %.8f after resume, %.8f uninterrupted", ev, ew)
	}
}

// The cached decode step gives the same next-character logits as the full forward pass at
// every position of the window.
func TestKVCacheMatchesFullForward(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tinyConfig(), 7)
	rows := 2
	in, _ := data.TextWindows(m.trainIDs, m.Context, 7, 0, rows)
	ids := tensors.MustCopyFlatData[int32](in)
	caches := m.zeroCaches(rows)
	for pos := range m.Context {
		tok := []int32{ids[pos], ids[m.Context+pos]}
		args := []any{tok, int32(pos)}
		for _, c := range caches {
			args = append(args, c)
		}
		dec, err := m.decodeExec.Call(args...)
		if err != nil {
			t.Fatal(err)
		}
		caches = dec[1:]
		full, err := m.prefill.Call(in, int32(pos))
		if err != nil {
			t.Fatal(err)
		}
		a, b := tensors.MustCopyFlatData[float32](dec[0]), tensors.MustCopyFlatData[float32](full[0])
		for i := range a {
			if !(math.Abs(float64(a[i]-b[i])) <= 1e-4*(1+math.Abs(float64(b[i])))) {
				t.Fatalf("position %d, logit %d: cached %g, full %g", pos, i, a[i], b[i])
			}
		}
	}
}

// Greedy generation gives the same text with and without the cache while the window is not
// full; longer generations (past the window) work and stay in the vocabulary.
func TestGenerateWithAndWithoutCache(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tinyConfig(), 8)
	const prompt = "Y dijo "
	n := m.Context - len(prompt)
	greedy := GenerateOptions{Rows: 2}
	a, err := m.Generate(prompt, n, greedy)
	if err != nil {
		t.Fatal(err)
	}
	greedy.NoCache = true
	b, err := m.Generate(prompt, n, greedy)
	if err != nil {
		t.Fatal(err)
	}
	if a[0] != b[0] || a[1] != b[1] || a[0] != a[1] {
		t.Errorf("greedy generation differs: cached %q, uncached %q", a, b)
	}
	long, err := m.Generate(prompt, 3*m.Context+5, GenerateOptions{Sampling: Sampling{Temperature: 1}, Rows: 3, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range long {
		if utf8.RuneCountInString(s) != 3*m.Context+5 {
			t.Errorf("generated %d characters, want %d", utf8.RuneCountInString(s), 3*m.Context+5)
		}
		if _, err := m.vocab.Encode(s); err != nil {
			t.Error(err)
		}
	}
	again, _ := m.Generate(prompt, 3*m.Context+5, GenerateOptions{Sampling: Sampling{Temperature: 1}, Rows: 3, Seed: 1})
	if strings.Join(again, "|") != strings.Join(long, "|") {
		t.Error("the same seed gave different text")
	}
	if _, err := m.Generate("€", 3, greedy); err == nil {
		t.Error("a prompt outside the vocabulary was accepted")
	}
}

func TestSamplingDistribution(t *testing.T) {
	logits := []float32{2, 1, 0, -1, 3}
	soft := func(tau float64) []float64 {
		p := make([]float64, len(logits))
		var z float64
		for i, l := range logits {
			p[i] = math.Exp(float64(l) / tau)
			z += p[i]
		}
		for i := range p {
			p[i] /= z
		}
		return p
	}
	full := soft(1)
	cases := []struct {
		name string
		s    Sampling
		want []float64
	}{
		{"greedy", Sampling{}, []float64{0, 0, 0, 0, 1}},
		{"softmax", Sampling{Temperature: 1}, full},
		{"temperature 0.5", Sampling{Temperature: 0.5}, soft(0.5)},
		{"top-2", Sampling{Temperature: 1, TopK: 2}, []float64{full[0] / (full[0] + full[4]), 0, 0, 0, full[4] / (full[0] + full[4])}},
		// The nucleus is the smallest set reaching p: {3} has 0.636 < 0.7, {3, 2} has 0.87.
		{"top-p 0.7", Sampling{Temperature: 1, TopP: 0.7}, []float64{full[0] / (full[0] + full[4]), 0, 0, 0, full[4] / (full[0] + full[4])}},
		{"top-p 0.5", Sampling{Temperature: 1, TopP: 0.5}, []float64{0, 0, 0, 0, 1}},
		{"top-p 1", Sampling{Temperature: 1, TopP: 1}, full},
		{"top-k 3 then top-p 0.99", Sampling{Temperature: 1, TopK: 3, TopP: 0.99},
			[]float64{full[0] / (full[0] + full[1] + full[4]), full[1] / (full[0] + full[1] + full[4]), 0, 0, full[4] / (full[0] + full[1] + full[4])}},
	}
	for _, tc := range cases {
		got := tc.s.Distribution(logits)
		for i := range got {
			if !(math.Abs(got[i]-tc.want[i]) <= 1e-12) {
				t.Errorf("%s: p = %v, want %v", tc.name, got, tc.want)
				break
			}
		}
	}
	if (Sampling{Temperature: -1}).Check() == nil || (Sampling{TopP: 1.5}).Check() == nil {
		t.Error("invalid sampling settings accepted")
	}
}

// Draw's frequencies match Distribution.
func TestDrawFrequencies(t *testing.T) {
	logits := []float32{1, 0.5, 0, 2}
	s := Sampling{Temperature: 1, TopK: 3}
	p := s.Distribution(logits)
	r := rand.New(rand.NewPCG(1, 2))
	const n = 40000
	counts := make([]float64, len(p))
	for range n {
		counts[s.Draw(logits, r)]++
	}
	for i := range p {
		// 4.5 standard deviations of a binomial proportion.
		if sd := math.Sqrt(p[i] * (1 - p[i]) / n); !(math.Abs(counts[i]/n-p[i]) <= 4.5*sd+1e-12) {
			t.Errorf("id %d drawn %.4f of the time, p = %.4f", i, counts[i]/n, p[i])
		}
	}
	if counts[2] != 0 {
		t.Error("a character cut by top-k was drawn")
	}
}

// The validation protocol: the padded last batch scores exactly what full batches would, and
// the per-position means average to nats/char.
func TestEvaluatePartialBatch(t *testing.T) {
	b := traintest.GoBackend(t)
	cfg := tinyConfig()
	cfg.EvalWindows, cfg.EvalBatch = 20, 8 // 2 full batches and one of 4 windows
	m := newModel(t, b, cfg, 9)
	r1, err := m.EvaluateContext(m.Context)
	if err != nil {
		t.Fatal(err)
	}
	m.EvalBatch = 4 // the same 20 windows in 5 full batches (the same compiled weights)
	r2, err := m.EvaluateContext(m.Context)
	if err != nil {
		t.Fatal(err)
	}
	if r1.Chars != 20*m.Context || r2.Chars != r1.Chars {
		t.Errorf("scored %d and %d characters, want %d", r1.Chars, r2.Chars, 20*m.Context)
	}
	if !(math.Abs(r1.NatsPerChar-r2.NatsPerChar) <= 1e-6) {
		t.Errorf("nats/char %.8f with a padded batch, %.8f without", r1.NatsPerChar, r2.NatsPerChar)
	}
	var mean float64
	for _, x := range r1.ByPosition {
		mean += x / float64(len(r1.ByPosition))
	}
	if !(math.Abs(mean-r1.NatsPerChar) <= 1e-6) {
		t.Errorf("mean of per-position NLL %.8f, nats/char %.8f", mean, r1.NatsPerChar)
	}
	short, err := m.EvaluateContext(4)
	if err != nil || short.Chars != 20*4 {
		t.Errorf("context 4: %+v, %v", short, err)
	}
	if _, err := m.EvaluateContext(m.Context + 1); err == nil {
		t.Error("a context longer than the model's was accepted")
	}
}

// The vocabulary travels in checkpoints; a model whose stored vocabulary differs from the
// corpus's refuses to decode.
func TestVocabularyInCheckpoint(t *testing.T) {
	b := traintest.GoBackend(t)
	m := newModel(t, b, tinyConfig(), 10)
	dir := t.TempDir()
	if _, err := train.SaveCheckpoint(dir, m.store, 0, 0, nil); err != nil {
		t.Fatal(err)
	}
	m2 := newModel(t, b, tinyConfig(), 11)
	if _, _, _, ok, err := train.LoadLatestCheckpoint(dir, m2.store); err != nil || !ok {
		t.Fatal(err)
	}
	if _, err := m2.Vocab(); err != nil {
		t.Errorf("restored vocabulary rejected: %v", err)
	}
	v := m2.store.GetVariable(vocabVar)
	cp := tensors.MustCopyFlatData[int32](v.MustValue())
	cp[3] = 'ж'
	if err := v.SetValue(tensors.FromValue(cp)); err != nil {
		t.Fatal(err)
	}
	if _, err := m2.Vocab(); err == nil {
		t.Error("a different vocabulary was accepted")
	}
}

// TestAttentionMaps checks the maps the notebook draws: Weights[l][h] is an n×n matrix for a
// text of n characters, causal, each row a distribution; the maps of a prefix are the top-left
// corner of the maps of the whole text (the mask makes a query blind to later characters, so a
// wrong stride or a transposed head axis shows here); the first query attends only to itself.
func TestAttentionMaps(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tinyConfig(), 12)
	const full = "Y dijo Dios: Sea"
	whole, err := m.Attention(full)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"Y", "Y dijo", full} {
		a, err := m.Attention(text)
		if err != nil {
			t.Fatal(err)
		}
		n := utf8.RuneCountInString(text)
		if string(a.Chars) != text || len(a.Weights) != m.Layers {
			t.Fatalf("%q: chars %q, %d layers", text, string(a.Chars), len(a.Weights))
		}
		for l := range a.Weights {
			if len(a.Weights[l]) != m.Heads {
				t.Fatalf("%q layer %d: %d heads, want %d", text, l, len(a.Weights[l]), m.Heads)
			}
			for h := range a.Weights[l] {
				if len(a.Weights[l][h]) != n {
					t.Fatalf("%q layer %d head %d: %d query rows, want %d", text, l, h, len(a.Weights[l][h]), n)
				}
				for i, row := range a.Weights[l][h] {
					if len(row) != n {
						t.Fatalf("%q layer %d head %d row %d: %d keys, want %d", text, l, h, i, len(row), n)
					}
					var s float64
					for j, w := range row {
						if j > i && w != 0 {
							t.Fatalf("layer %d head %d: query %d attends to future key %d (%g)", l, h, i, j, w)
						}
						if !(math.Abs(float64(w-whole.Weights[l][h][i][j])) <= 1e-5) {
							t.Fatalf("%q layer %d head %d: weight (%d, %d) = %g, %g in the maps of %q", text, l, h, i, j, w, whole.Weights[l][h][i][j], full)
						}
						s += float64(w)
					}
					if !(math.Abs(s-1) <= 1e-5) {
						t.Fatalf("layer %d head %d row %d sums to %g", l, h, i, s)
					}
				}
				if !(math.Abs(float64(a.Weights[l][h][0][0])-1) <= 1e-6) {
					t.Errorf("layer %d head %d: the first query's weight on itself is %g, want 1", l, h, a.Weights[l][h][0][0])
				}
				if d := a.MeanDistance(l, h); !(d >= 0 && d <= float64(n)) {
					t.Errorf("mean distance %g", d)
				}
			}
		}
		if svg := a.SVG(0, 0); !strings.HasPrefix(svg, "<svg") || !strings.HasSuffix(svg, "</svg>") {
			t.Error("not an SVG document")
		}
	}
	if _, err := m.Attention(strings.Repeat("a", m.Context+1)); err == nil {
		t.Error("a text longer than the context was accepted")
	}
}

// MeanDistance against closed forms: attention on the query itself is distance 0; attention
// spread evenly over keys 0…i is distance i/2 at query i, (n−1)/4 on average over n queries;
// attention on key 0 is distance i, (n−1)/2 on average.
func TestAttentionMeanDistance(t *testing.T) {
	const n = 5
	uniform := func(i, j int) float32 { return 1 / float32(i+1) }
	for _, tc := range []struct {
		name string
		w    func(i, j int) float32
		want float64
	}{
		{"diagonal", func(i, j int) float32 { return float32(b2f(i == j)) }, 0},
		{"uniform over the past", uniform, float64(n-1) / 4},
		{"first key", func(i, j int) float32 { return float32(b2f(j == 0)) }, float64(n-1) / 2},
	} {
		a := &AttentionMaps{Chars: []rune("abcde"), Weights: [][][][]float32{{make([][]float32, n)}}}
		for i := range n {
			a.Weights[0][0][i] = make([]float32, n)
			for j := 0; j <= i; j++ {
				a.Weights[0][0][i][j] = tc.w(i, j)
			}
		}
		if got := a.MeanDistance(0, 0); !(math.Abs(got-tc.want) <= 1e-6) {
			t.Errorf("%s: mean distance %g, want %g", tc.name, got, tc.want)
		}
	}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestSampleWritesText(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tinyConfig(), 13)
	path := filepath.Join(t.TempDir(), "samples.txt")
	if err := m.Sample(3, path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !utf8.Valid(raw) {
		t.Fatal("samples are not UTF-8")
	}
	// Three samples (prompt + SampleChars each) separated by blank lines, ending with a newline.
	text := string(raw)
	wantLen := 3*(utf8.RuneCountInString(m.Prompt)+m.SampleChars) + 2*2 + 1
	if !strings.HasPrefix(text, m.Prompt) || utf8.RuneCountInString(text) != wantLen || strings.Count(text, "\n\n"+m.Prompt) < 2 {
		t.Errorf("samples file %q: want 3 samples of the prompt and %d characters", text, m.SampleChars)
	}
	if err := m.Sample(0, path); err == nil {
		t.Error("0 samples accepted")
	}
}

func TestCopying(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tinyConfig(), 14)
	c, err := m.NewCopying()
	if err != nil {
		t.Fatal(err)
	}
	train := m.vocab.Decode(m.trainIDs[5000:5100])
	if f, n := c.Fraction([]string{train}, 20); f != 1 || n != 81 {
		t.Errorf("training text: %.3f of %d 20-grams found, want 1 of 81", f, n)
	}
	if f, _ := c.Fraction([]string{"qzqzqzqzqzqzqzqzqzqzqzqzqzqz"}, 20); f != 0 {
		t.Errorf("gibberish: %.3f of its 20-grams found in the corpus", f)
	}
	copied := string([]rune(train)[:40])
	long := c.LongestCopy("qzqz" + copied + "qzqz")
	if !strings.Contains(long, copied) {
		t.Errorf("longest copy %q misses the copied %q", long, copied)
	}
}

func TestDistinctNGramsAndUnigram(t *testing.T) {
	if d := DistinctNGrams([]string{"abababab"}, 2); !(math.Abs(d-2.0/7) <= 1e-12) {
		t.Errorf("distinct 2-grams of abababab = %g, want 2/7", d)
	}
	if d := DistinctNGrams([]string{"abcdef"}, 3); d != 1 {
		t.Errorf("distinct 3-grams of abcdef = %g, want 1", d)
	}
	m := newModel(t, traintest.GoBackend(t), tinyConfig(), 15)
	// A unigram model fitted to the training split scores no better on the validation split than
	// the validation characters' own entropy, and not much worse (the two splits are one book).
	if u, h := m.UnigramNatsPerChar(), unigramEntropy(m.valIDs); !(u >= h && u <= h+0.1) {
		t.Errorf("unigram cross-entropy %g nats/char; the validation characters' entropy is %g", u, h)
	}
}

// The cross-entropy is the same on the go backend and on xla:cpu.
func TestLossAgreesOnXLACPU(t *testing.T) {
	traintest.AgreesAcrossBackends(t, func(b compute.Backend) train.Task { return newModel(t, b, tinyConfig(), 6) },
		traintest.StepMetrics, 1e-4)
}

// TestRunFolderRoundTrip: a run trained into a folder, loaded and evaluated again gives the
// same metrics (the kit's contract, lib/train/traintest).
func TestRunFolderRoundTrip(t *testing.T) {
	traintest.RunFolderRoundTrip(t, "gpt", traintest.GoBackend(t), tinyConfig(), 4, 2)
}

// LogLikelihood is the sum of log-softmax of the logits (the exported graph, Logits) at every
// next character, each predicted from the Context characters before it at most: checked on a
// text longer than the context, so that both the first window and the sliding ones count.
func TestLogLikelihoodMatchesLogits(t *testing.T) {
	cfg := tinyConfig()
	cfg.Corpus, cfg.Prompt = data.OccupationCorpusName, "El "
	m := newModel(t, traintest.GoBackend(t), cfg, 9)
	texts := []string{
		"\nLa persona que trabaja de enfermera dijo que ella estaba cansada.", // 66 characters: past the context of 16
		"\nEl piloto",
		"Ay",
		"x", // context only: log-likelihood 0
	}
	got, err := m.LogLikelihood(texts)
	if err != nil {
		t.Fatal(err)
	}
	exec := logitsExec(t, m)
	for i, s := range texts {
		ids, _ := m.vocab.Encode(s)
		want := 0.0
		for k := 1; k < len(ids); k++ { // x_k from the window ending at x_{k−1}
			lo := max(0, k-m.Context)
			win := make([]int32, m.Context)
			copy(win, ids[lo:k])
			out, err := exec.Call(tensors.FromFlatDataAndDimensions(win, 1, m.Context), tensors.FromFlatDataAndDimensions(win, 1, m.Context))
			if err != nil {
				t.Fatal(err)
			}
			logits := tensors.MustCopyFlatData[float32](out[0])
			pos := k - 1 - lo
			want += logSoftmaxAt(logits[pos*m.vocabSize:(pos+1)*m.vocabSize], ids[k])
		}
		if math.Abs(got[i]-want) > 1e-4*(1+math.Abs(want)) {
			t.Errorf("text %d: LogLikelihood %.6f, log-softmax of the logits %.6f", i, got[i], want)
		}
	}
	if _, err := m.LogLikelihood([]string{"€"}); err == nil || !strings.Contains(err.Error(), "text 0") {
		t.Errorf("a character outside the vocabulary: err %v", err)
	}
	if _, err := m.LogLikelihood([]string{"a", ""}); err == nil || !strings.Contains(err.Error(), "text 1 is empty") {
		t.Errorf("an empty text: err %v", err)
	}
}

// logSoftmaxAt is log softmax(logits)[id], in float64.
func logSoftmaxAt(logits []float32, id int32) float64 {
	mx := math.Inf(-1)
	for _, l := range logits {
		mx = math.Max(mx, float64(l))
	}
	var z float64
	for _, l := range logits {
		z += math.Exp(float64(l) - mx)
	}
	return float64(logits[id]) - mx - math.Log(z)
}
