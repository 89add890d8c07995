package rnn

import (
	"context"
	"encoding/json"
	"fmt"
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
	"github.com/iagen-course/iagen/lib/backend/backendtest"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/gpt"
	"github.com/iagen-course/iagen/lib/nn/nntest"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/train/traintest"
)

// xlaBackend returns xla:cpu: skipped (visibly) where setup did not install it, a failure
// where it did but it does not load.
func xlaBackend(t *testing.T) compute.Backend { return backendtest.XLACPU(t) }

// tinyConfig is a 2-layer, 16-wide model of cell on windows of 8 characters.
func tinyConfig(cell Cell) Config {
	c, _ := ProfileConfig("ci")
	c.Cell, c.Context, c.Embed, c.Hidden, c.Batch = cell, 8, 8, 16, 4
	c.EvalBatch, c.EvalWindows, c.SampleChars = 4, 10, 20
	return c
}

func newModel(t *testing.T, b compute.Backend, cfg Config, seed int64) *Model {
	return traintest.NewModel(t, NewWithConfig, b, cfg, seed)
}

func TestProfiles(t *testing.T) {
	traintest.ProfilesAreValid(t, ProfileConfig, Config.Check)
	// bench is BENCH.md's lstm row and its details.
	b, _ := ProfileConfig("bench")
	if b.Corpus != "es-rv1909" || b.Cell != LSTM || b.Embed != 64 || b.Hidden != 256 || b.Layers != 2 || b.Context != 64 ||
		b.Batch != 32 || b.LearningRate != 2e-3 || b.ClipNorm != 1 {
		t.Errorf("bench profile differs from BENCH.md: %+v", b)
	}
	for _, step := range []int{0, 1, 1000, 100000} {
		if lr := b.Schedule().At(step); lr != 2e-3 {
			t.Errorf("bench learning rate at step %d = %g, want a constant 2e-3", step, lr)
		}
	}
	s, _ := ProfileConfig("small")
	if lr := s.Schedule().At(s.Steps); math.Abs(lr-2e-4) > 1e-12 {
		t.Errorf("small: learning rate %g at the end, want the cosine's floor 2e-4", lr)
	}
	// PyTorch's Embedding(85, 64) + LSTM(64, 256, num_layers=2) + Linear(256, 85).
	if n := b.NumParams(85); n != 85*64+(64*1024+256*1024+2*1024)+(256*1024+256*1024+2*1024)+256*85+85 {
		t.Errorf("bench model: %d parameters", n)
	}
	for _, bad := range []string{`{"cell": "transformer"}`, `{"loop": "spiral"}`, `{"clip_norm": -1}`, `{"cell": "gru", "forget_bias": 1}`} {
		c, err := family.Configure(family.Options{Profile: "ci", Overrides: json.RawMessage(bad)}, ProfileConfig)
		if err == nil && c.Check() == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// variables reads the model's variables (created on first use) as float64, by path.
func variables(t *testing.T, m *Model) map[string][]float64 {
	t.Helper()
	out := map[string][]float64{}
	for v := range m.store.IterVariables() {
		if v.Trainable {
			out[v.Path()] = nntest.Float64s(v.MustValue())
		}
	}
	if len(out) != 3+4*m.Layers {
		t.Fatalf("%d trainable variables, want %d", len(out), 3+4*m.Layers)
	}
	return out
}

// referenceLogits computes the model's logits for windows [B][T] in float64, directly from the
// equations of each cell (PyTorch's layout: blocks r, z, n for the GRU, i, f, g, o for the
// LSTM), one sequence and one step at a time. It returns logits[t][b][v].
func referenceLogits(cfg Config, vars map[string][]float64, vocab int, windows [][]int32) [][][]float64 {
	sigmoid := func(x float64) float64 { return 1 / (1 + math.Exp(-x)) }
	h, gh := cfg.Hidden, cfg.Cell.Gates()*cfg.Hidden
	// affine returns x·W + b for W [len(x), n] flat row-major.
	affine := func(x, w, b []float64, n int) []float64 {
		y := append([]float64(nil), b...)
		for i, xi := range x {
			for j := range n {
				y[j] += xi * w[i*n+j]
			}
		}
		return y
	}
	out := make([][][]float64, cfg.Context)
	for t := range out {
		out[t] = make([][]float64, len(windows))
	}
	for b, win := range windows {
		hs, cs := make([][]float64, cfg.Layers), make([][]float64, cfg.Layers)
		for l := range hs {
			hs[l], cs[l] = make([]float64, h), make([]float64, h)
		}
		for t, c := range win {
			x := vars["/embedding/embeddings"][int(c)*cfg.Embed : (int(c)+1)*cfg.Embed]
			for l := range cfg.Layers {
				pre := func(name string) []float64 { return vars[fmt.Sprintf("/layer_%d/%s", l, name)] }
				p := affine(x, pre("input_weights"), pre("input_biases"), gh)
				q := affine(hs[l], pre("recurrent_weights"), pre("recurrent_biases"), gh)
				next := make([]float64, h)
				for j := range h {
					switch cfg.Cell {
					case RNN:
						next[j] = math.Tanh(p[j] + q[j])
					case GRU:
						r, z := sigmoid(p[j]+q[j]), sigmoid(p[h+j]+q[h+j])
						n := math.Tanh(p[2*h+j] + r*q[2*h+j])
						next[j] = (1-z)*n + z*hs[l][j]
					case LSTM:
						i, f := sigmoid(p[j]+q[j]), sigmoid(p[h+j]+q[h+j])
						g, o := math.Tanh(p[2*h+j]+q[2*h+j]), sigmoid(p[3*h+j]+q[3*h+j])
						cs[l][j] = f*cs[l][j] + i*g
						next[j] = o * math.Tanh(cs[l][j])
					}
				}
				hs[l], x = next, next
			}
			out[t][b] = affine(x, vars["/head/weights"], vars["/head/biases"], vocab)
		}
	}
	return out
}

// logitsExec compiles the forward pass: tokens [B, T] → logits [T, B, V].
func logitsExec(t *testing.T, m *Model) *train.Exec {
	t.Helper()
	e, err := train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{m.net.forward(m.net.params(scope, in[0].Graph()), in[0]).logits}
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// checkForward compares the model's logits on a batch with referenceLogits.
func checkForward(t *testing.T, m *Model, seed int64) {
	t.Helper()
	in, _ := data.TextWindows(m.trainIDs, m.Context, seed, 0, 3)
	out, err := logitsExec(t, m).Call(in)
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](out[0])
	ids := tensors.MustCopyFlatData[int32](in)
	windows := [][]int32{ids[:m.Context], ids[m.Context : 2*m.Context], ids[2*m.Context:]}
	want := referenceLogits(m.Config, variables(t, m), m.net.vocab, windows)
	if n := train.TrainableParams(m.store); n != m.NumParams(m.net.vocab) {
		t.Errorf("%d trainable parameters, NumParams says %d", n, m.NumParams(m.net.vocab))
	}
	i := 0
	for tt := range want {
		for b := range want[tt] {
			for v, w := range want[tt][b] {
				if math.Abs(float64(got[i])-w) > 1e-5*(1+math.Abs(w)) {
					t.Fatalf("%s, %s loop: logit [t=%d, b=%d, v=%d] = %.7g, float64 reference %.7g", m.Cell, m.net.loop, tt, b, v, got[i], w)
				}
				i++
			}
		}
	}
}

// Every cell's forward pass (embedding, 2 layers, head) equals a plain float64 computation
// from its equations, on the go backend (unrolled loop) and on xla:cpu (While loop).
func TestForwardMatchesFloat64Reference(t *testing.T) {
	for _, c := range Cells {
		checkForward(t, newModel(t, traintest.GoBackend(t), tinyConfig(c), 1), 1)
	}
	xla := xlaBackend(t)
	for _, c := range Cells {
		m := newModel(t, xla, tinyConfig(c), 2)
		if m.net.loop != While {
			t.Fatalf("xla:cpu uses the %s loop, want while", m.net.loop)
		}
		checkForward(t, m, 2)
	}
}

// fromList is params.list's inverse for a network of the given layers.
func fromList(layers int, in []*graph.Node) params {
	p := params{embed: in[0], headW: in[1+4*layers], headB: in[2+4*layers]}
	for l := range layers {
		k := 1 + 4*l
		p.w, p.r, p.bx, p.bh = append(p.w, in[k]), append(p.r, in[k+1]), append(p.bx, in[k+2]), append(p.bh, in[k+3])
	}
	return p
}

// tinyInputs are the parameters of a 2-layer network (vocab 5, embed 3, hidden 4) of cell, in
// params.list order, float64, uniform in [−1, 1).
func tinyInputs(cell Cell) []*tensors.Tensor {
	const v, e, h = 5, 3, 4
	gh := cell.Gates() * h
	return []*tensors.Tensor{nntest.Rand(1, v, e),
		nntest.Rand(2, e, gh), nntest.Rand(3, h, gh), nntest.Rand(4, gh), nntest.Rand(5, gh),
		nntest.Rand(6, h, gh), nntest.Rand(7, h, gh), nntest.Rand(8, gh), nntest.Rand(9, gh),
		nntest.Rand(10, h, v), nntest.Rand(11, v)}
}

// handGradientLoss builds, for a network with parameters in, the loss on two fixed windows
// of 5 characters whose graph.Gradient is backward's hand-written gradient (withGradients).
func handGradientLoss(net network, in []*graph.Node) *graph.Node {
	g := in[0].Graph()
	w := fromList(net.layers, in)
	tokens := graph.Const(g, [][]int32{{0, 3, 1, 4, 2}, {2, 2, 0, 1, 3}})
	targets := graph.Const(g, [][]int32{{3, 1, 4, 2, 0}, {2, 0, 1, 3, 4}})
	ps := net.forward(w, tokens)
	nll, dlogits := crossEntropy(ps.logits, timeMajor(targets), nil)
	grads, _ := net.backward(w, ps, dlogits)
	return withGradients(graph.ReduceAllMean(nll), w.list(), grads.list())
}

// The hand-written back-propagation through time equals central finite differences of the
// loss, for every parameter of a 2-layer network of each cell (float64, go backend).
func TestGradientMatchesFiniteDifferences(t *testing.T) {
	for _, c := range Cells {
		net := network{cell: c, loop: Unrolled, vocab: 5, embed: 3, hidden: 4, layers: 2}
		reports := nntest.GradCheck(t, traintest.GoBackend(t), func(in []*graph.Node) *graph.Node { return handGradientLoss(net, in) },
			1e-7, tinyInputs(c)...)
		worst := 0
		for i, r := range reports {
			if r.MaxRelErr > reports[worst].MaxRelErr {
				worst = i
			}
		}
		t.Logf("%s: worst of the %d parameters (#%d): %s", c, len(reports), worst, reports[worst])
	}
}

// The While loop computes the same loss and gradients as the unrolled one (xla:cpu, float64).
func TestWhileMatchesUnrolled(t *testing.T) {
	xla := xlaBackend(t)
	for _, c := range Cells {
		e, err := graph.NewExec(xla, func(in []*graph.Node) []*graph.Node {
			var out []*graph.Node
			for _, loop := range []Loop{Unrolled, While} {
				net := network{cell: c, loop: loop, vocab: 5, embed: 3, hidden: 4, layers: 2}
				out = append(out, graph.Gradient(handGradientLoss(net, in), in...)...)
			}
			return out
		})
		if err != nil {
			t.Fatal(err)
		}
		args := make([]any, 0, 11)
		for _, x := range tinyInputs(c) {
			args = append(args, x)
		}
		out, err := e.Exec(args...)
		if err != nil {
			t.Fatal(err)
		}
		half := len(out) / 2
		for i := range half {
			if d := nntest.MaxAbsDiff(out[i], out[half+i]); !(d <= 1e-12) {
				t.Errorf("%s: gradient of parameter %d differs by %g between the loops", c, i, d)
			}
		}
	}
}

func TestResumeMatchesUninterrupted(t *testing.T) {
	b := traintest.GoBackend(t)
	cfg := tinyConfig(GRU)
	cfg.WarmupSteps, cfg.DecaySteps, cfg.MinLRFraction = 2, 8, 0.1 // the schedule must resume too
	// 11 weights, their two Adam moments, and the step counters.
	traintest.ResumeMatchesUninterrupted(t, func() train.Task { return newModel(t, b, cfg, 3) }, 8, 3, 33, "val_nats_per_char")
}

func TestRunFolderRoundTrip(t *testing.T) {
	traintest.RunFolderRoundTrip(t, "lstm", traintest.GoBackend(t), tinyConfig(LSTM), 4, 2)
}

// A training step gives the same loss and gradient norm on the go backend (unrolled loop) and
// on xla:cpu (While loop), from the same weights.
func TestAgreesAcrossBackends(t *testing.T) {
	for _, c := range Cells {
		traintest.AgreesAcrossBackends(t, func(b compute.Backend) train.Task { return newModel(t, b, tinyConfig(c), 4) },
			traintest.StepMetrics, 1e-4)
	}
}

// unigramEntropy is −Σ p ln p of the characters' frequencies in text (nats per character):
// the cross-entropy on text of the best model that ignores context.
func unigramEntropy(text string) float64 {
	counts := map[rune]float64{}
	n := 0.0
	for _, r := range text {
		counts[r]++
		n++
	}
	h := 0.0
	for _, c := range counts {
		h -= c / n * math.Log(c/n)
	}
	return h
}

// The ci profile learns: after its training, the validation loss is below the unigram entropy
// of the training text (≈ 3.0 nats/char; an untrained model is near ln V ≈ 4.4).
func TestCIProfileBeatsUnigram(t *testing.T) {
	text, err := data.LoadText(data.Dir(""), "es-rv1909")
	if err != nil {
		t.Skipf("corpus unavailable (%v): iagen data fetch es-rv1909", err)
	}
	trainText, _ := data.SplitText(text)
	unigram := unigramEntropy(trainText)
	cfg, _ := ProfileConfig("ci")
	m := newModel(t, traintest.GoBackend(t), cfg, 5)
	res, err := train.Run(context.Background(), m, train.Config{Steps: cfg.Steps, Seed: 5, Progress: train.SilentProgress()})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := res.Eval.Get("val_nats_per_char")
	t.Logf("ci: validation %.3f nats/char after %d steps; unigram entropy of the training text %.3f", got, cfg.Steps, unigram)
	if !(got < unigram-0.3) {
		t.Errorf("validation %.3f nats/char: want 0.3 below the unigram entropy %.3f", got, unigram)
	}
	bpc, _ := res.Eval.Get("val_bpc")
	if math.Abs(bpc-got/math.Ln2) > 1e-9 {
		t.Errorf("val_bpc %g for %g nats/char", bpc, got)
	}
}

// Generation carries the state: the one-step graph, fed a window character by character,
// gives the logits of the whole-window forward pass at every position.
func TestStepByStepMatchesForward(t *testing.T) {
	for _, c := range Cells {
		m := newModel(t, traintest.GoBackend(t), tinyConfig(c), 6)
		in, _ := data.TextWindows(m.trainIDs, m.Context, 6, 0, 2)
		out, err := logitsExec(t, m).Call(in)
		if err != nil {
			t.Fatal(err)
		}
		full := tensors.MustCopyFlatData[float32](out[0]) // [T, 2, V]
		ids := tensors.MustCopyFlatData[int32](in)
		state := m.net.zeroState(2)
		v := m.net.vocab
		for pos := range m.Context {
			res, err := m.oneStep.Call(append([]any{[]int32{ids[pos], ids[m.Context+pos]}}, anys(state)...)...)
			if err != nil {
				t.Fatal(err)
			}
			state = res[1:]
			step := tensors.MustCopyFlatData[float32](res[0])
			for i, x := range step {
				if y := full[pos*2*v+i]; math.Abs(float64(x-y)) > 1e-5*(1+math.Abs(float64(y))) {
					t.Fatalf("%s, position %d, logit %d: step by step %g, whole window %g", c, pos, i, x, y)
				}
			}
		}
	}
}

// Sample writes n texts that start with the prompt, the same for the same seed; the sampling
// options are set by name, and an unknown one is an error naming it.
func TestSampleAndOptions(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tinyConfig(LSTM), 7)
	if err := m.SetSampling(json.RawMessage(`{"temperature": 0.5, "top_k": 5, "prompt": "En el principio", "sample_chars": 25}`)); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "s.txt")
	if err := m.Sample(3, path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	texts := strings.Split(strings.TrimSuffix(string(raw), "\n"), "\n\n")
	if len(texts) != 3 || !strings.HasPrefix(texts[0], "En el principio") || len([]rune(texts[0])) < 25 {
		t.Errorf("3 samples of the prompt and 25 characters expected, got %q", raw)
	}
	o := GenerateOptions{Sampling: gpt.Sampling{Temperature: 1}, Rows: 2, Seed: 3}
	a, err := m.Generate("Y", 30, o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := m.Generate("Y", 30, o)
	if a[0] != b[0] || a[1] != b[1] || len([]rune(a[0])) != 30 {
		t.Errorf("same seed, different or short texts: %q, %q", a, b)
	}
	for _, bad := range []string{`{"bogus": 1}`, `{"temperature": -1}`, `{"sample_chars": 0}`} {
		err := m.SetSampling(json.RawMessage(bad))
		if err == nil || (bad == `{"bogus": 1}` && !strings.Contains(err.Error(), `unknown field "bogus"`)) {
			t.Errorf("SetSampling(%s): %v", bad, err)
		}
	}
	if _, err := m.Generate("€", 3, o); err == nil {
		t.Error("a prompt outside the vocabulary was accepted")
	}
}

// GradientByDistance equals the norm of GoMLX's automatic gradient of the last position's
// loss with respect to the embeddings, and for an untrained tanh RNN it falls with distance.
func TestGradientByDistance(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tinyConfig(RNN), 8)
	const windows = 3
	norms, err := m.GradientByDistance(windows)
	if err != nil {
		t.Fatal(err)
	}
	if len(norms) != m.Context {
		t.Fatalf("%d norms, want %d", len(norms), m.Context)
	}
	e, err := train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		w := m.net.params(scope, in[0].Graph())
		ps := &pass{tokens: timeMajor(in[0])}
		x := graph.Gather(w.embed, graph.InsertAxes(ps.tokens, -1))
		m.net.forwardFrom(w, ps, x)
		nll, _ := crossEntropy(ps.logits, timeMajor(in[1]), nil) // [T, B]
		// Σ_b ℓ_b: each window's gradient is that of its own last-position loss.
		last := graph.ReduceAllSum(graph.SliceAxis(nll, 0, graph.AxisElem(m.Context-1)))
		return graph.Gradient(last, x)
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := m.Context
	out, err := e.Call(tensors.FromFlatDataAndDimensions(m.valIDs[:windows*ctx], windows, ctx),
		tensors.FromFlatDataAndDimensions(m.valIDs[1:windows*ctx+1], windows, ctx))
	if err != nil {
		t.Fatal(err)
	}
	dx := nntest.Float64s(out[0]) // [T, B, Emb]
	for k := 1; k <= ctx; k++ {
		pos, want := ctx-k, 0.0
		for b := range windows {
			s := 0.0
			for _, g := range dx[(pos*windows+b)*m.Embed : (pos*windows+b+1)*m.Embed] {
				s += g * g
			}
			want += math.Sqrt(s) / windows
		}
		if math.Abs(norms[k-1]-want) > 1e-4*want {
			t.Errorf("k = %d: ‖∂ℓ/∂x‖ %g, automatic differentiation %g", k, norms[k-1], want)
		}
	}
	t.Logf("rnn, untrained: %.3g", norms)
	if !(norms[ctx-1] < norms[0]) {
		t.Errorf("the gradient does not fall with distance: %.3g", norms)
	}
	if _, err := m.GradientByDistance(1 << 20); err == nil {
		t.Error("more windows than the validation split holds accepted")
	}
}

// The recall task's targets are the symbols k steps back, weighted from position k on; an
// LSTM learns to recall at delay 1, far above chance.
func TestRecall(t *testing.T) {
	cfg := RecallConfig{Symbols: 4, Length: 6, Hidden: 16, Batch: 32, Steps: 150, LearningRate: 1e-2, TestSeqs: 200, Seed: 1}
	const k, n = 2, 3
	tok, tg, w := recallBatch(cfg, k, n, rand.New(rand.NewPCG(1, 2)))
	x, y, wt := tensors.MustCopyFlatData[int32](tok), tensors.MustCopyFlatData[int32](tg), tensors.MustCopyFlatData[float32](w)
	for i := range n {
		for j := range cfg.Length {
			want := float32(0)
			if j >= k {
				want = 1 / float32(n*(cfg.Length-k))
				if y[i*cfg.Length+j] != x[i*cfg.Length+j-k] {
					t.Errorf("sequence %d, position %d: target %d, want the symbol %d steps back, %d", i, j, y[i*cfg.Length+j], k, x[i*cfg.Length+j-k])
				}
			}
			if wt[j*n+i] != want {
				t.Errorf("sequence %d, position %d: weight %g, want %g", i, j, wt[j*n+i], want)
			}
		}
	}
	res, err := Recall(traintest.GoBackend(t), cfg, []Cell{LSTM}, []int{1})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res[0].Accuracy < 0.9 {
		t.Errorf("LSTM recall at delay 1: accuracy %.2f (chance 0.25)", res[0].Accuracy)
	}
	if _, err := Recall(traintest.GoBackend(t), cfg, []Cell{RNN}, []int{6}); err == nil {
		t.Error("a delay as long as the sequence accepted")
	}
}

// ForgetBias shifts exactly the forget gate's block [H, 2H) of every layer's b_x (gate order
// i, f, g, o) and leaves every other initial value as it is; cells without a forget gate refuse it.
func TestForgetBias(t *testing.T) {
	const bias = 1.5
	init := func(fb float64) map[string][]float64 {
		cfg := tinyConfig(LSTM)
		cfg.ForgetBias = fb
		m := newModel(t, traintest.GoBackend(t), cfg, 9)
		in, _ := data.TextWindows(m.trainIDs, m.Context, 9, 0, 1)
		if _, err := logitsExec(t, m).Call(in); err != nil { // creates the variables
			t.Fatal(err)
		}
		return variables(t, m)
	}
	plain, shifted := init(0), init(bias)
	h := tinyConfig(LSTM).Hidden
	for path, want := range plain {
		got := shifted[path]
		for i := range want {
			d := 0.0
			if strings.HasSuffix(path, "/input_biases") && i/h == 1 {
				d = bias
			}
			if math.Abs(got[i]-want[i]-d) > 1e-6 {
				t.Fatalf("%s[%d]: %g with forget_bias %g, %g without: want a difference of %g", path, i, got[i], bias, want[i], d)
			}
		}
	}
	for _, c := range []Cell{RNN, GRU} {
		cfg := tinyConfig(c)
		cfg.ForgetBias = 1
		if err := cfg.Check(); err == nil || !strings.Contains(err.Error(), "forget") {
			t.Errorf("%s with forget_bias 1: %v, want an error", c, err)
		}
	}
	cfg := tinyConfig(LSTM)
	cfg.ForgetBias = math.NaN()
	if cfg.Check() == nil {
		t.Error("forget_bias NaN accepted")
	}
}

// The Transformer of lib/gpt, trained and scored on the same recall task, recalls the symbol
// two steps back far above chance (1/4).
func TestRecallTransformer(t *testing.T) {
	cfg := RecallConfig{Symbols: 4, Length: 6, Batch: 32, Steps: 150, LearningRate: 1e-2, TestSeqs: 200, Seed: 1,
		Transformer: gpt.Config{DModel: 16, Heads: 2, Layers: 1, MLPMult: 2}}
	res, err := RecallTransformer(traintest.GoBackend(t), cfg, []int{2})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", res)
	if res[0].Model != Transformer || res[0].Accuracy < 0.9 {
		t.Errorf("Transformer recall at delay 2: %+v (chance 0.25)", res[0])
	}
	cfg.Transformer.Heads = 3 // 16 is not divisible by 3
	if _, err := RecallTransformer(traintest.GoBackend(t), cfg, []int{2}); err == nil {
		t.Error("a Transformer that cannot be built accepted")
	}
}

// LogLikelihood is the sum of log-softmax of the logits at every next character with the state
// carried from the first, as generation carries it (the one-step graph), for every cell.
func TestLogLikelihoodMatchesSteps(t *testing.T) {
	texts := []string{"\nLa persona que trabaja de piloto dijo que él estaba cansado.", "\nLa", "y"}
	for _, c := range Cells {
		cfg := tinyConfig(c)
		cfg.Corpus, cfg.Prompt = data.OccupationCorpusName, "El "
		m := newModel(t, traintest.GoBackend(t), cfg, 10)
		got, err := m.LogLikelihood(texts)
		if err != nil {
			t.Fatal(err)
		}
		v := m.net.vocab
		for i, s := range texts {
			ids, _ := m.vocab.Encode(s)
			state := m.net.zeroState(1)
			want := 0.0
			for k := 0; k+1 < len(ids); k++ {
				res, err := m.oneStep.Call(append([]any{[]int32{ids[k]}}, anys(state)...)...)
				if err != nil {
					t.Fatal(err)
				}
				state = res[1:]
				logits := tensors.MustCopyFlatData[float32](res[0])
				mx := math.Inf(-1)
				for _, l := range logits[:v] {
					mx = math.Max(mx, float64(l))
				}
				var z float64
				for _, l := range logits[:v] {
					z += math.Exp(float64(l) - mx)
				}
				want += float64(logits[ids[k+1]]) - mx - math.Log(z)
			}
			if math.Abs(got[i]-want) > 1e-4*(1+math.Abs(want)) {
				t.Errorf("%s, text %d: LogLikelihood %.6f, one step at a time %.6f", c, i, got[i], want)
			}
		}
	}
}
