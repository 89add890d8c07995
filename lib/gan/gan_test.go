package gan

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/metrics"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/train/traintest"
)

var ()

// tiny is a DCGAN small enough to train in milliseconds.
func tiny() Config {
	return Config{Latent: 4, GenChannels: 4, DiscChannels: 2, Batch: 8, LearningRate: 2e-4, Beta1: 0.5, Beta2: 0.999,
		BNMomentum: 0.1, Steps: 10, EMADecay: 0.9, EvalSamples: 20}
}

func newModel(t *testing.T, b compute.Backend, cfg Config) *Model {
	return traintest.NewModel(t, NewWithConfig, b, cfg, 7)
}

func TestProfiles(t *testing.T) {
	traintest.ProfilesAreValid(t, ProfileConfig, Config.Check)
	b, _ := ProfileConfig("bench")
	want := Config{Latent: 64, GenChannels: 128, DiscChannels: 64, Batch: 64, LearningRate: 2e-4, Beta1: 0.5, Beta2: 0.999,
		BNMomentum: 0.1, Steps: b.Steps, EvalSamples: 10000}
	if b != want {
		t.Errorf("bench profile %+v, want BENCH.md's %+v", b, want)
	}
	if s, _ := ProfileConfig("small"); s.EvalSamples != 10000 {
		t.Errorf("small profile scores %d samples, BENCH.md wants 10,000", s.EvalSamples)
	}
	bad := tiny()
	bad.GenChannels = 5
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "even") {
		t.Errorf("odd gen_channels: %v", err)
	}
}

// TestShapes checks G's and D's shape contracts and G's output range (tanh).
func TestShapes(t *testing.T) {
	b := traintest.GoBackend(t)
	m := newModel(t, b, tiny())
	exec, err := train.NewEvalExec(b, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		x := m.Generator(scope.At(GenScope), in[0])
		return []*graph.Node{x, m.Discriminator(scope.At(DiscScope), x)}
	})
	if err != nil {
		t.Fatal(err)
	}
	z := tensors.FromFlatDataAndDimensions(make([]float32, 3*m.Latent), 3, m.Latent)
	out, err := exec.Call(z)
	if err != nil {
		t.Fatal(err)
	}
	if got := out[0].Shape().Dimensions; len(got) != 4 || got[0] != 3 || got[1] != 28 || got[2] != 28 || got[3] != 1 {
		t.Errorf("G(z) shape %v, want [3 28 28 1]", got)
	}
	if got := out[1].Shape().Dimensions; len(got) != 1 || got[0] != 3 {
		t.Errorf("D(x) shape %v, want [3]", got)
	}
	for _, v := range tensors.MustCopyFlatData[float32](out[0]) {
		if v < -1 || v > 1 || math.IsNaN(float64(v)) {
			t.Fatalf("G output %v outside [-1, 1]", v)
		}
	}
	// PacGAN packing: D scores one logit per pack of m images, stacked as m channels.
	packed := tiny()
	packed.Pack = 2
	pm := newModel(t, b, packed)
	if _, err := pm.Step(0); err != nil {
		t.Fatal(err)
	}
	if w := pm.store.GetVariable("/disc/conv1/conv/weights"); w == nil || w.Shape().Dimensions[2] != 2 {
		t.Errorf("packed D's first conv: %v, want 2 input channels", w)
	}
	packed.Pack = 3
	if err := packed.Check(); err == nil {
		t.Error("pack 3 with batch 8 accepted")
	}
	// The sampler pads to its fixed batch and returns exactly n images.
	im, err := m.Samples(7, 1)
	if err != nil {
		t.Fatal(err)
	}
	if im.N != 7 || len(im.Pixels) != 7*784 {
		t.Errorf("Samples(7): N=%d, %d pixels", im.N, len(im.Pixels))
	}
	inter, err := m.Interpolate(2, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	if inter.N != 10 {
		t.Errorf("Interpolate(2, 5): %d images, want 10", inter.N)
	}
}

// TestLossMatchesDirectComputation checks L_D and L_G against −log σ(ℓ) and −log(1 − σ(ℓ))
// computed in float64, including logits large enough to overflow a naive formula.
func TestLossMatchesDirectComputation(t *testing.T) {
	b := traintest.GoBackend(t)
	real := []float32{2.5, -1, 0, 30}
	fake := []float32{-3, 0.5, 1, -40}
	exec, err := train.NewEvalExec(b, model.NewStore(), nil, func(_ *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{DiscLoss(in[0], in[1]), GenLoss(in[1])}
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Call(real, fake)
	if err != nil {
		t.Fatal(err)
	}
	sigmoid := func(x float32) float64 { return 1 / (1 + math.Exp(-float64(x))) }
	var wantD, wantG float64
	for i := range real {
		wantD += -math.Log(sigmoid(real[i]))/4 - math.Log1p(-sigmoid(fake[i]))/4
		wantG += -math.Log(sigmoid(fake[i])) / 4
	}
	gotD, _ := train.Scalar(out[0])
	gotG, _ := train.Scalar(out[1])
	if !(math.Abs(gotD-wantD) <= 1e-5*math.Max(1, wantD)) || !(math.Abs(gotG-wantG) <= 1e-5*math.Max(1, wantG)) {
		t.Errorf("L_D = %v (want %v), L_G = %v (want %v)", gotD, wantD, gotG, wantG)
	}
}

// TestSmoothedLossMatchesDirectComputation checks one-sided label smoothing against
// BCE(ℓ, y) = −y·log σ(ℓ) − (1 − y)·log(1 − σ(ℓ)) written out, and that y = 1 is discLoss.
func TestSmoothedLossMatchesDirectComputation(t *testing.T) {
	b := traintest.GoBackend(t)
	real := []float32{2.5, -1, 0, 30}
	fake := []float32{-3, 0.5, 1, -40}
	exec, err := train.NewEvalExec(b, model.NewStore(), nil, func(_ *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{discLossSmoothed(in[0], in[1], 0.9), discLossSmoothed(in[0], in[1], 1), DiscLoss(in[0], in[1])}
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Call(real, fake)
	if err != nil {
		t.Fatal(err)
	}
	sigmoid := func(x float32) float64 { return 1 / (1 + math.Exp(-float64(x))) }
	var want float64
	for i := range real {
		p := sigmoid(real[i])
		want += (-0.9*math.Log(p) - 0.1*math.Log1p(-p) - math.Log1p(-sigmoid(fake[i]))) / 4
	}
	got, _ := train.Scalar(out[0])
	one, _ := train.Scalar(out[1])
	plain, _ := train.Scalar(out[2])
	if !(math.Abs(got-want) <= 1e-4*math.Max(1, want)) || one != plain {
		t.Errorf("L_D(y=0.9) = %v (want %v); L_D(y=1) = %v, discLoss = %v", got, want, one, plain)
	}
}

// TestHingeLossMatchesDirectComputation checks the hinge losses against their formulas written
// out: L_D = mean max(0, 1 − ℓ_real) + mean max(0, 1 + ℓ_fake), L_G = −mean ℓ_fake.
func TestHingeLossMatchesDirectComputation(t *testing.T) {
	b := traintest.GoBackend(t)
	real := []float32{2.5, -1, 0.5, 30}
	fake := []float32{-3, 0.5, -0.25, -40}
	m := &Model{Config: Config{Loss: "hinge"}}
	exec, err := train.NewEvalExec(b, model.NewStore(), nil, func(_ *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{m.discObjective(in[0], in[1]), m.genObjective(in[1])}
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Call(real, fake)
	if err != nil {
		t.Fatal(err)
	}
	var wantD, wantG float64
	for i := range real {
		wantD += (math.Max(0, 1-float64(real[i])) + math.Max(0, 1+float64(fake[i]))) / 4
		wantG -= float64(fake[i]) / 4
	}
	gotD, _ := train.Scalar(out[0])
	gotG, _ := train.Scalar(out[1])
	if !(math.Abs(gotD-wantD) <= 1e-5) || !(math.Abs(gotG-wantG) <= 1e-5) {
		t.Errorf("hinge L_D = %v (want %v), L_G = %v (want %v)", gotD, wantD, gotG, wantG)
	}
}

// TestLRDecay checks that with LRDecay both Adams use lr·(1 − step/Steps) at each step, and
// that without it they keep lr.
func TestLRDecay(t *testing.T) {
	for _, decay := range []bool{false, true} {
		cfg := tiny()
		cfg.LRDecay, cfg.DiscLearningRate, cfg.Steps = decay, 8e-4, 8
		m := newModel(t, traintest.GoBackend(t), cfg)
		for step := range 6 {
			if _, err := m.Step(step); err != nil {
				t.Fatal(err)
			}
			for scope, lr := range map[string]float64{GenScope: cfg.LearningRate, DiscScope: cfg.DiscLearningRate} {
				want := lr
				if decay {
					want = lr * (1 - float64(step)/float64(cfg.Steps))
				}
				v := m.Store().GetVariable("/" + scope + "/optimizers/learning_rate")
				if v == nil {
					t.Fatalf("no learning-rate variable under /%s", scope)
				}
				got, _ := train.Scalar(v.MustValue())
				if !(math.Abs(got-want) <= 1e-6*lr) {
					t.Errorf("decay %v, step %d: %s learning rate %g, want %g", decay, step, scope, got, want)
				}
			}
		}
		// At step = Steps the decayed rate is 0: Adam must leave every weight where it was.
		before := snapshot(m.store)
		if _, err := m.Step(cfg.Steps); err != nil {
			t.Fatal(err)
		}
		after := snapshot(m.store)
		moved := false
		for v := range m.store.IterVariables() {
			if v.Trainable && !strings.HasPrefix(v.Path(), "/"+EMAScope+"/") {
				moved = moved || changed(before[v.Path()], after[v.Path()])
			}
		}
		if moved == decay {
			t.Errorf("decay %v: at the last step the weights moved = %v", decay, moved)
		}
	}
}

// TestInitStddev checks that InitStddev draws weights from N(0, σ²) and biases at 0.
func TestInitStddev(t *testing.T) {
	cfg := tiny()
	cfg.GenChannels, cfg.DiscChannels, cfg.InitStddev = 16, 16, 0.02
	m := newModel(t, traintest.GoBackend(t), cfg)
	if _, err := m.Step(0); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/gen/deconv1/conv_transpose/weights", "/disc/conv2/conv/weights"} {
		v := m.Store().GetVariable(path)
		if v == nil {
			t.Fatalf("no variable %s", path)
		}
		w := tensors.MustCopyFlatData[float32](v.MustValue())
		var sum, sq float64
		for _, x := range w {
			sum += float64(x)
			sq += float64(x) * float64(x)
		}
		mean := sum / float64(len(w))
		std := math.Sqrt(sq/float64(len(w)) - mean*mean)
		// One Adam step moves each weight by at most ≈ lr = 2e-4.
		if !(math.Abs(std-0.02) <= 0.003) || !(math.Abs(mean) <= 0.003) {
			t.Errorf("%s: mean %.4f std %.4f, want ≈ 0 and 0.02", path, mean, std)
		}
	}
}

func snapshot(store *model.Store) map[string][]float32 {
	out := map[string][]float32{}
	for v := range store.IterVariables() {
		if f, err := tensors.CopyFlatData[float32](v.MustValue()); err == nil {
			out[v.Path()] = f
		}
	}
	return out
}

func changed(a, b []float32) bool {
	for i := range a {
		if a[i] != b[i] {
			return true
		}
	}
	return false
}

// TestStepUpdatesBothPlayers checks one training step: gradients reach every trainable
// variable of both players (Adam moves a variable exactly when its gradient is non-zero),
// both players' running averages move, and the EMA copy follows G — with GenRefine, G's extra
// layers too. TestStepMatchesTwoHalves checks what each update computes.
func TestStepUpdatesBothPlayers(t *testing.T) {
	for _, refine := range []bool{false, true} {
		t.Run(fmt.Sprintf("gen_refine=%v", refine), func(t *testing.T) {
			cfg := tiny()
			cfg.GenRefine = refine
			stepUpdatesBothPlayers(t, cfg)
		})
	}
}

func stepUpdatesBothPlayers(t *testing.T, cfg Config) {
	b := traintest.GoBackend(t)
	m := newModel(t, b, cfg)
	// The first step creates and initialises the variables.
	if _, err := m.Step(0); err != nil {
		t.Fatal(err)
	}
	before := snapshot(m.store)
	if _, err := m.Step(1); err != nil {
		t.Fatal(err)
	}
	after := snapshot(m.store)
	counts := map[string]int{}
	for v := range m.store.IterVariables() {
		p := v.Path()
		switch {
		case strings.Contains(p, "/adam_") || strings.Contains(p, "/optimizers/"): // optimizer state
		case strings.HasPrefix(p, "/ema/"):
			counts["ema"]++
			if v.Trainable {
				t.Errorf("%s: the EMA copy must not be trainable", p)
			}
		case strings.HasPrefix(p, "/disc/") || strings.HasPrefix(p, "/gen/"):
			counts[strings.Split(p, "/")[1]+map[bool]string{true: "", false: "_stats"}[v.Trainable]]++
			if !changed(before[p], after[p]) {
				t.Errorf("%s: not changed by a step", p)
			}
		}
	}
	// G: dense (2) + 2 BatchNorm (2 each) + 2 transposed convs (2 each), and with GenRefine one
	// more BatchNorm and a conv; D: 2 convs + BatchNorm + dense. The EMA copies all of G.
	wantGen, wantStats := 10, 4
	if cfg.GenRefine {
		wantGen, wantStats = 14, 6
	}
	if counts["gen"] != wantGen || counts["disc"] != 8 || counts["disc_stats"] != 2 || counts["gen_stats"] != wantStats || counts["ema"] != wantGen+wantStats {
		t.Errorf("variable counts %v, want gen %d, disc 8, disc_stats 2, gen_stats %d, ema %d", counts, wantGen, wantStats, wantGen+wantStats)
	}
	// The EMA is θ_ema ← w·θ_ema + (1 − w)·θ with θ read before the G update and, at the
	// second update (n = 1), w = min(0.9, 1/11) (the warm-up).
	w := math.Min(0.9, 1.0/11)
	for v := range m.store.IterVariables() {
		p := v.Path()
		if !strings.HasPrefix(p, "/ema/") {
			continue
		}
		g := strings.TrimPrefix(p, "/ema")
		theta := before[g] // weights: before the G update
		if !m.store.GetVariable(g).Trainable {
			theta = after[g] // running averages: after the step's forward pass
		}
		for i := range after[p] {
			want := w*float64(before[p][i]) + (1-w)*float64(theta[i])
			if d := math.Abs(float64(after[p][i]) - want); !(d <= 1e-5*math.Max(1, math.Abs(want))) {
				t.Fatalf("%s[%d] = %v, want %.4f·%v + %.4f·%v", p, i, after[p][i], w, before[p][i], 1-w, theta[i])
			}
		}
	}
	want := 0
	for v := range m.store.IterVariables() {
		if v.Trainable && (strings.HasPrefix(v.Path(), "/gen/") || strings.HasPrefix(v.Path(), "/disc/")) {
			want += v.Shape().Size()
		}
	}
	if n := train.TrainableParams(m.store); n != want {
		t.Errorf("trainable parameters %d, want %d (G and D only: the EMA copy must not count)", n, want)
	}
}

// TestStepMatchesTwoHalves checks the one-execution step against the same step written the
// plain way, as two executions with their own gradients: D's update on the real batch and
// G(z), then G's update through the just-updated D on the same z, kept in the store between
// them, with G's running averages moved only by the second. After three steps from the same
// initialisation every variable — both players, their Adam states, all running averages, the
// EMA — agrees: G's gradient flows through D's new weights and not into them, and G's forward
// pass is taken once.
func TestStepMatchesTwoHalves(t *testing.T) {
	b := traintest.GoBackend(t)
	cfg := tiny()
	cfg.GenRefine = true
	m, ref := newModel(t, b, cfg), newModel(t, b, cfg)
	const zVar = "/z_batch"
	zShape := shapes.Make(dtypes.Float32, cfg.Batch, cfg.Latent)
	adam := func(scope string) optimizer.Interface {
		return optimizer.Adam().LearningRate(cfg.LearningRate).Betas(cfg.Beta1, cfg.Beta2).Epsilon(1e-8).Scope(scope).Done()
	}
	discHalf, err := train.NewTrainExec(b, ref.store, adam("adam_disc"), DiscScope, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		g := in[0].Graph()
		z := nn.StandardNormal(scope, g, zShape)
		ref.store.VariableWithShape(zVar, zShape, initializer.Zero).SetTrainable(false).SetNodeValue(z)
		fake := graph.StopGradient(ref.Generator(scope.At(GenScope), z))
		for v := range ref.store.IterVariables() { // G's running averages: left to the G half
			if !v.Trainable && strings.HasPrefix(v.Path(), "/gen/") && v.ChangedInGraph(g) {
				v.SetNodeValue(g.GetParameterByName(v.Path()))
			}
		}
		train.SetLearningRate(scope.At(DiscScope), in[1])
		return []*graph.Node{ref.discObjective(ref.Discriminator(scope.At(DiscScope), in[0]), ref.Discriminator(scope.At(DiscScope), fake))}
	})
	if err != nil {
		t.Fatal(err)
	}
	genHalf, err := train.NewTrainExec(b, ref.store, adam("adam_gen"), GenScope, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		g := in[0].Graph()
		z := ref.store.VariableWithShape(zVar, zShape, initializer.Zero).NodeValue(g)
		fakeLogits := ref.Discriminator(scope.At(DiscScope), ref.Generator(scope.At(GenScope), z))
		ref.updateEMA(g)
		train.SetLearningRate(scope.At(GenScope), in[0])
		return []*graph.Node{ref.genObjective(fakeLogits)}
	})
	if err != nil {
		t.Fatal(err)
	}
	lr := float32(cfg.LearningRate)
	for step := range 3 {
		if _, err := m.Step(step); err != nil {
			t.Fatal(err)
		}
		if _, err := discHalf.Call(ref.train.Float32(data.BatchIndices(ref.train.N, ref.Batch, ref.seed, step), -1, 1), lr); err != nil {
			t.Fatal(err)
		}
		if _, err := genHalf.Call(lr); err != nil {
			t.Fatal(err)
		}
	}
	got, want := snapshot(m.store), snapshot(ref.store)
	delete(want, zVar)
	if len(got) != len(want) || len(got) < 40 {
		t.Fatalf("%d variables in one store, %d in the other (want the same, ≥ 40)", len(got), len(want))
	}
	for p, w := range want {
		for i := range w {
			if d := math.Abs(float64(got[p][i] - w[i])); !(d <= 1e-5*math.Max(1, math.Abs(float64(w[i])))) {
				t.Fatalf("%s[%d] = %v after one-execution steps, %v after two-execution steps", p, i, got[p][i], w[i])
			}
		}
	}
}

// Both Adam states and the EMA must be in the store for this to hold (40 variables at least).
func TestResumeMatchesUninterrupted(t *testing.T) {
	b := traintest.GoBackend(t)
	traintest.ResumeMatchesUninterrupted(t, func() train.Task { return newModel(t, b, tiny()) }, 6, 3, 40, "fld")
}

// learnedDigits is what the samples of a generator that learned MNIST must show, and what a
// collapsed one cannot: at least 8 of the 10 classes covered, a class histogram close to the
// data's (total variation ≤ 0.45: a generator of one class has ≈ 0.9, of three ≈ 0.65) and a
// recall of at least 0.2 (the share of real images near some sample: ≈ 0 for one repeated
// image). It returns what fails, or "".
func learnedDigits(r metrics.ImageReport) string {
	var fails []string
	if r.ClassesCovered < 8 {
		fails = append(fails, fmt.Sprintf("%d classes covered (want ≥ 8)", r.ClassesCovered))
	}
	if !(r.ClassTV <= 0.45) {
		fails = append(fails, fmt.Sprintf("class TV %.3f (want ≤ 0.45)", r.ClassTV))
	}
	if !(r.Recall >= 0.2) {
		fails = append(fails, fmt.Sprintf("recall %.3f (want ≥ 0.2)", r.Recall))
	}
	return strings.Join(fails, ", ")
}

// TestCIProfileLearns trains the ci profile's DCGAN for 900 steps (3× the profile's 300, after
// which it still makes three classes) on the default backend and checks that the samples
// cover the digits (learnedDigits) and that the Fréchet distance falls to a tenth of the
// untrained generator's. The untrained generator already "covers" three classes, and a
// generator collapsed onto a few digits can halve the Fréchet distance, so learnedDigits is
// also checked to fail on collapsed sample sets scored by the same yardstick: one sample
// repeated, real images of one class, real images of three classes.
func TestCIProfileLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the ci profile (about a minute)")
	}
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(family.Options{Backend: b, Profile: "ci", Seed: backend.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	// The untrained G's weights come from the store's RNG: seed it, or "before" changes from run
	// to run.
	if err := m.Store().SetRNGStateFromSeed(backend.DefaultSeed); err != nil {
		t.Fatal(err)
	}
	before, err := m.Report()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := train.Run(context.Background(), m, train.Config{Steps: 3 * m.Steps, Seed: backend.DefaultSeed, Progress: train.SilentProgress()}); err != nil {
		t.Fatal(err)
	}
	after, err := m.Report()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("fld %.1f → %.1f; classes %d → %d, class TV %.3f → %.3f, recall %.3f → %.3f", before.FLD, after.FLD,
		before.ClassesCovered, after.ClassesCovered, before.ClassTV, after.ClassTV, before.Recall, after.Recall)
	if fails := learnedDigits(after); fails != "" || !(after.FLD < 0.1*before.FLD) {
		t.Errorf("ci training did not learn the digits: %s; fld %.1f → %.1f (want a tenth)", fails, before.FLD, after.FLD)
	}

	// Collapsed sample sets, as many as the evaluation's, scored by the same yardstick.
	y, err := m.scorer.Yardstick(m.EvalSamples)
	if err != nil {
		t.Fatal(err)
	}
	samples, err := m.Samples(m.EvalSamples, EvalSeed)
	if err != nil {
		t.Fatal(err)
	}
	const size = 28 * 28
	repeated := &data.Images{N: m.EvalSamples, Height: 28, Width: 28, Channels: 1, NumClasses: 10}
	for range m.EvalSamples {
		repeated.Pixels = append(repeated.Pixels, samples.Pixels[:size]...)
	}
	realOf := func(classes ...uint8) *data.Images {
		im := &data.Images{N: m.EvalSamples, Height: 28, Width: 28, Channels: 1, NumClasses: 10}
		for i := 0; len(im.Pixels) < m.EvalSamples*size; i++ {
			if slices.Contains(classes, m.train.Labels[i]) {
				im.Pixels = append(im.Pixels, m.train.Pixels[i*size:(i+1)*size]...)
			}
		}
		return im
	}
	for _, c := range []struct {
		name string
		im   *data.Images
	}{{"one sample repeated", repeated}, {"real 3s", realOf(3)}, {"real 0s, 1s and 2s", realOf(0, 1, 2)}} {
		r, err := y.Evaluate(c.im)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: classes %d, class TV %.3f, recall %.3f, fld %.1f", c.name, r.ClassesCovered, r.ClassTV, r.Recall, r.FLD)
		if learnedDigits(r) == "" {
			t.Errorf("%s passes the check a trained generator must pass: %+v", c.name, r)
		}
	}
}

// TestToyModeCounting checks mode counting, and that PacGAN's packed discriminator sees
// Pack points per logit.
func TestToyModeCounting(t *testing.T) {
	modes := [][2]float32{{0, 0}, {1, 0}, {0, 1}}
	pts := [][2]float32{{0, 0}, {0.01, 0}, {1, 0.02}, {5, 5}, {0, 0.8}}
	rep := CountToyModes(pts, modes, 0.15)
	if rep.Counts[0] != 2 || rep.Counts[1] != 1 || rep.Counts[2] != 0 || rep.Covered != 2 || !(math.Abs(rep.HighQuality-0.6) <= 1e-9) {
		t.Errorf("CountToyModes = %+v", rep)
	}
	b := traintest.GoBackend(t)
	cfg := DefaultToyConfig()
	cfg.Hidden, cfg.Batch, cfg.Pack, cfg.EvalSamples = 8, 4, 3, 50
	m, err := NewToy(b, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := train.Run(context.Background(), m, train.Config{Steps: 3, Seed: 1, Progress: train.SilentProgress()}); err != nil {
		t.Fatal(err)
	}
	if v := m.store.GetVariable("/disc/hidden0/dense/weights"); v == nil || v.Shape().Dimensions[0] != 6 {
		t.Errorf("packed D's first layer: %v, want 2·Pack = 6 inputs", v)
	}
	rep, err = m.Modes()
	if err != nil {
		t.Fatal(err)
	}
	if n := sum(rep.Counts); len(rep.Counts) != 8 || n > cfg.EvalSamples || !(math.Abs(rep.HighQuality-float64(n)/float64(cfg.EvalSamples)) <= 1e-12) {
		t.Errorf("ring8 report %+v of %d points", rep, cfg.EvalSamples)
	}
}

func sum(xs []int) int {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s
}

// toyLearned is what a toy GAN that learned ring8 must show, and what the trivial generators
// cannot: at least 6 of the 8 modes covered (a generator collapsed onto one or three modes
// covers those only) and at least 30% of the points within 3σ of a mode (a generator that
// learned the ring but not its modes — points spread along the circle — has about 19%:
// 8 arcs of 2·3σ = 0.3 on a circle of length 4π).
func toyLearned(rep ModeReport) bool { return rep.Covered >= 6 && rep.HighQuality >= 0.3 }

// TestToyGANLearnsModes trains a PacGAN (pack 4) on ring8 and checks the mode counts after
// training: the report of Modes and Evaluate agrees with a count made here from the generated
// points, and the generator learned the modes (toyLearned). The same check must fail for the
// trivial generators: all points on one mode, on three, or spread along the ring.
//
// The configuration learns ring8 in 3000 steps (8 modes, 52% of the points near one; 6 modes
// and 35% at 2400): DefaultToyConfig with batch 32 and Adam 3e-3, about 30 s on 2 cores.
func TestToyGANLearnsModes(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a toy GAN for 3000 steps")
	}
	cfg := DefaultToyConfig()
	cfg.Pack, cfg.Batch, cfg.LearningRate, cfg.Steps, cfg.EvalSamples = 4, 32, 3e-3, 3000, 1000
	m, err := NewToy(traintest.GoBackend(t), cfg, backend.DefaultSeed)
	if err != nil {
		t.Fatal(err)
	}
	res, err := train.Run(context.Background(), m, train.Config{Steps: cfg.Steps, Seed: backend.DefaultSeed, Progress: train.SilentProgress()})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := m.Modes()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("after %d steps: %+v", cfg.Steps, rep)

	// The count, made here: each point goes to its nearest mode if within 3σ = 0.15 of it; a mode
	// is covered with at least 20% of its fair share N/8 of the points.
	pts, err := m.Points(cfg.EvalSamples, EvalSeed)
	if err != nil {
		t.Fatal(err)
	}
	modes := m.Distribution().Modes()
	counts, near := make([]int, len(modes)), 0
	for _, p := range pts {
		best, bestD := -1, math.Inf(1)
		for k, c := range modes {
			if d := math.Hypot(float64(p[0]-c[0]), float64(p[1]-c[1])); d < bestD {
				best, bestD = k, d
			}
		}
		if bestD <= 0.15 {
			counts[best]++
			near++
		}
	}
	covered := 0
	for _, c := range counts {
		if c > 0 && float64(c) >= 0.2*float64(len(pts))/float64(len(modes)) {
			covered++
		}
	}
	if !slices.Equal(rep.Counts, counts) || rep.Covered != covered || !(math.Abs(rep.HighQuality-float64(near)/float64(len(pts))) <= 1e-12) {
		t.Errorf("Modes() = %+v; counted here: %v, %d covered, %d of %d near a mode", rep, counts, covered, near, len(pts))
	}
	if c, _ := res.Eval.Get("modes_covered"); c != float64(rep.Covered) {
		t.Errorf("Evaluate's modes_covered %v, Modes() %d", c, rep.Covered)
	}
	if hq, _ := res.Eval.Get("high_quality"); hq != rep.HighQuality {
		t.Errorf("Evaluate's high_quality %v, Modes() %v", hq, rep.HighQuality)
	}
	if !toyLearned(rep) {
		t.Errorf("PacGAN on ring8: %d of 8 modes covered, %.2f of the points near one; want ≥ 6 and ≥ 0.3", rep.Covered, rep.HighQuality)
	}

	// The trivial generators, as many points each.
	ring := make([][2]float32, len(pts))
	for i := range ring {
		a := 2 * math.Pi * (float64(i) + 0.5) / float64(len(ring))
		ring[i] = [2]float32{float32(2 * math.Cos(a)), float32(2 * math.Sin(a))}
	}
	for _, tc := range []struct {
		name string
		pts  [][2]float32
	}{{"one mode", onModes(modes[:1], len(pts))}, {"three modes", onModes(modes[:3], len(pts))}, {"the ring", ring}} {
		if r := CountToyModes(tc.pts, modes, toyRadius); toyLearned(r) {
			t.Errorf("a generator of %s passes the check: %+v", tc.name, r)
		}
	}
}

// onModes returns n points that cycle through modes.
func onModes(modes [][2]float32, n int) [][2]float32 {
	out := make([][2]float32, n)
	for i := range out {
		out[i] = modes[i%len(modes)]
	}
	return out
}

// TestSlerp checks Slerp against its closed form sin((1−t)Ω)/sin Ω·a + sin(tΩ)/sin Ω·b, with
// Ω the angle between a and b computed here, on random 8-dimensional latents, and what the
// notebook relies on: for |a| = |b| the path stays on the sphere, at angle tΩ from a; the ends
// are a and b; almost parallel latents are interpolated linearly.
func TestSlerp(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	norm := func(v []float32) float64 {
		var s float64
		for _, x := range v {
			s += float64(x) * float64(x)
		}
		return math.Sqrt(s)
	}
	dot := func(u, v []float32) float64 {
		var s float64
		for i := range u {
			s += float64(u[i]) * float64(v[i])
		}
		return s
	}
	for trial := range 5 {
		a, b := make([]float32, 8), make([]float32, 8)
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
		}
		if trial%2 == 0 { // equal norms: the path stays on the sphere
			s := float32(norm(a) / norm(b))
			for i := range b {
				b[i] *= s
			}
		}
		omega := math.Acos(dot(a, b) / (norm(a) * norm(b)))
		for _, tt := range []float64{0, 0.1, 0.25, 0.5, 0.8, 1} {
			got := Slerp(a, b, tt)
			for i := range got {
				want := (math.Sin((1-tt)*omega)*float64(a[i]) + math.Sin(tt*omega)*float64(b[i])) / math.Sin(omega)
				if !(math.Abs(float64(got[i])-want) <= 1e-5*(1+math.Abs(want))) {
					t.Fatalf("trial %d, t = %g: Slerp[%d] = %g, closed form %g", trial, tt, i, got[i], want)
				}
			}
			if trial%2 == 0 {
				angle := math.Acos(min(1, dot(a, got)/(norm(a)*norm(got))))
				if !(math.Abs(norm(got)-norm(a)) <= 1e-4*norm(a)) || !(math.Abs(angle-tt*omega) <= 1e-3) {
					t.Errorf("trial %d, t = %g: |Slerp| = %g (|a| = %g), angle to a %g (want %g)", trial, tt, norm(got), norm(a), angle, tt*omega)
				}
			}
		}
	}
	// Orthogonal latents of norms 1 and 2 at t = ½: sin(π/4)/sin(π/2)·(a + b).
	mid := Slerp([]float32{1, 0}, []float32{0, 2}, 0.5)
	if w := math.Sqrt(0.5); !(math.Abs(float64(mid[0])-w) <= 1e-6) || !(math.Abs(float64(mid[1])-2*w) <= 1e-6) {
		t.Errorf("Slerp(t=0.5) = %v", mid)
	}
	// Almost parallel: the linear interpolation.
	a, b := []float32{1, 2, 3}, []float32{1, 2, 3.000001}
	if got := Slerp(a, b, 0.5); !(math.Abs(float64(got[2])-3.0000005) <= 1e-6) || got[0] != 1 || got[1] != 2 {
		t.Errorf("Slerp of almost parallel latents = %v, want the midpoint", got)
	}
}

// minibatchStd appends one channel holding the batch standard deviation of the features,
// averaged: here features 0 and 2 (std 1 and 3 over the batch of two) and 0 elsewhere.
func TestMinibatchStd(t *testing.T) {
	b := traintest.GoBackend(t)
	x := [][][][]float32{{{{-1, 5}}}, {{{1, -1}}}} // [2, 1, 1, 2]: std over the batch 1 and 3
	out := graph.MustExecOnce(b, minibatchStd, x)
	got := out.Value().([][][][]float32)
	for i, want := range [][]float32{{-1, 5, 2}, {1, -1, 2}} {
		for j := range want {
			if d := math.Abs(float64(got[i][0][0][j] - want[j])); !(d <= 1e-4) {
				t.Errorf("out[%d][0][0][%d] = %v, want %v", i, j, got[i][0][0][j], want[j])
			}
		}
	}
	cfg := tiny()
	cfg.MinibatchStd = true
	m := newModel(t, b, cfg)
	if _, err := m.Step(0); err != nil {
		t.Fatalf("a step with minibatch_std: %v", err)
	}
}

// With spectral_norm D has no BatchNorm, and each of its three weights has a power-iteration
// vector that its steps update.
func TestSpectralNormDiscriminator(t *testing.T) {
	cfg := tiny()
	cfg.SpectralNorm = true
	m := newModel(t, traintest.GoBackend(t), cfg)
	if _, err := m.Step(0); err != nil {
		t.Fatal(err)
	}
	before := snapshot(m.store)
	if _, err := m.Step(1); err != nil {
		t.Fatal(err)
	}
	us := 0
	for v := range m.store.IterVariables() {
		p := v.Path()
		if strings.HasPrefix(p, "/disc/") && strings.Contains(p, "batch_norm") {
			t.Errorf("%s: D with spectral norm has no BatchNorm", p)
		}
		if strings.HasSuffix(p, "/spectral_norm/u") {
			us++
			// (The logit layer's u has one element, ±1: its σ is exact, ‖w‖.)
			if len(before[p]) > 1 && !changed(before[p], snapshot(m.store)[p]) {
				t.Errorf("%s not updated by a training step", p)
			}
		}
	}
	if us != 3 {
		t.Errorf("%d power-iteration vectors, want 3 (two convs and the logit layer)", us)
	}
}

// The generator — its EMA and the live one, BatchNorm in inference mode — gives the same images
// on the go backend and on xla:cpu (the loss functions are checked on their own above).
func TestGeneratorAgreesOnXLACPU(t *testing.T) {
	traintest.AgreesAcrossBackends(t, func(b compute.Backend) train.Task { return newModel(t, b, tiny()) },
		func(task train.Task) ([]float64, error) {
			m := task.(*Model)
			z := make([]float32, graphBatch*m.Latent)
			for i := range z {
				z[i] = float32(math.Sin(float64(i)))
			}
			var out []float64
			for _, e := range []*train.Exec{m.sampleExec, m.sampleLiveExec} {
				res, err := e.Call(tensors.FromFlatDataAndDimensions(z, graphBatch, m.Latent))
				if err != nil {
					return nil, err
				}
				out = append(out, traintest.Floats(res)...)
			}
			return out, nil
		}, 1e-4)
}

// TestRunFolderRoundTrip: a run trained into a folder, loaded and evaluated again gives the
// same metrics (the kit's contract, lib/train/traintest).
func TestRunFolderRoundTrip(t *testing.T) {
	traintest.RunFolderRoundTrip(t, "gan", traintest.GoBackend(t), tiny(), 4, 10)
}
