package flow

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/nn/nntest"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/train/traintest"
	"gonum.org/v1/gonum/mat"
)

// tiny is a flow small enough to train, evaluate and sample in a moment: 2 couplings of 4
// channels, batch 4.
func tiny() Config {
	c, _ := ProfileConfig("ci")
	c.Arch = Arch{Layers: 2, Hidden: 4, Alpha: 0.05}
	c.Batch, c.Warmup, c.Steps = 4, 2, 6
	c.SampleBatch, c.EvalSamples, c.EvalTestImages = 8, 20, 10
	return c
}

func newModel(t testing.TB, b compute.Backend, cfg Config) *Model {
	return traintest.NewModel(t, NewWithConfig, b, cfg, 7)
}

func TestProfiles(t *testing.T) {
	traintest.ProfilesAreValid(t, ProfileConfig, Config.Check)
	b, _ := ProfileConfig("bench")
	want := Config{Arch: Arch{Layers: 8, Hidden: 64, Alpha: 0.05}, Batch: 64, LearningRate: 1e-3, Steps: b.Steps,
		Sampling: Sampling{Temperature: 1}, SampleBatch: b.SampleBatch, EvalSamples: 10000, EvalTestImages: 10000}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("bench profile %+v, want BENCH.md's %+v", b, want)
	}
	multiScale := Arch{Layers: 4, Hidden: b.Hidden, Alpha: b.Alpha, Scales: 3}
	if s, _ := ProfileConfig("small"); s.Arch != multiScale || s.Batch != 64 || s.EvalTestImages != 10000 || s.Warmup == 0 || s.ClipNorm == 0 {
		t.Errorf("small profile %+v: BENCH.md's flow in 3 scales of 4 couplings, with a warm-up and clipped gradients, scored on the whole test set", s)
	}
	for _, c := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Alpha = 0.5 }, "alpha"},
		{func(c *Config) { c.Layers = 0 }, "layers"},
		{func(c *Config) { c.Sampling.Temperature = 0 }, "temperature"},
		{func(c *Config) { c.Decay = "step" }, "decay"},
		{func(c *Config) { c.EvalSamples = 1 }, "eval_samples"},
		{func(c *Config) { c.InvConv = true }, "inv_conv"}, // tiny has one scale
	} {
		cfg := tiny()
		c.change(&cfg)
		if err := cfg.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", cfg, err, c.want)
		}
	}
}

// The bench architecture (BENCH.md: 8 couplings, Conv3×3 1→64, 64→64, 64→2, one scale each,
// ActNorm before each) has 8·(640 + 36,928 + 1,154 + 1 + 2) = 309,800 trainable parameters,
// and maps a 28×28 image to z of the same shape and one log-determinant.
func TestBenchArchitecture(t *testing.T) {
	c, _ := ProfileConfig("bench")
	store := model.NewStore()
	e := model.MustNewExec(traintest.GoBackend(t), store, func(scope *model.Scope, v *graph.Node) (*graph.Node, *graph.Node) {
		return Forward(scope.In(NetScope), c.Arch, v, false)
	})
	v := tensors.FromFlatDataAndDimensions(make([]float32, imageSize), 1, 28, 28, 1)
	out := e.MustExec(v)
	if !out[0].Shape().Equal(v.Shape()) || out[1].Shape().Size() != 1 {
		t.Errorf("z %s and log-det %s for v %s", out[0].Shape(), out[1].Shape(), v.Shape())
	}
	if got := train.TrainableParams(store); got != 309800 {
		t.Errorf("%d trainable parameters, want 309,800", got)
	}
}

// The learning rate warms up linearly from lr/warmup (flows blow up on their first steps at the
// full rate), and small's decays to 5 % at its last step.
func TestWarmup(t *testing.T) {
	s, _ := ProfileConfig("small")
	sch := s.schedule()
	if got := sch.At(0); !(math.Abs(got-s.LearningRate/float64(s.Warmup)) < 1e-12) {
		t.Errorf("first step's learning rate %g, want %g", got, s.LearningRate/float64(s.Warmup))
	}
	if got := sch.At(s.Warmup); !(math.Abs(got-s.LearningRate) < 1e-9) {
		t.Errorf("learning rate after the warm-up %g, want %g", got, s.LearningRate)
	}
	if got := sch.At(s.Steps); !(math.Abs(got-s.MinLRFraction*s.LearningRate) < 1e-12) {
		t.Errorf("last learning rate %g, want %g", got, s.MinLRFraction*s.LearningRate)
	}
}

// float64Flow compiles Forward (with ActNorm initialisation), Forward without it and Inverse of
// a flow of arch on one store, in float64, initialises the ActNorms on a batch and gives every
// coupling's last convolution and every 1×1 convolution random weights (they start at zero: the
// identity), so that every layer does something.
func float64Flow(t *testing.T, a Arch, h, w int) (fwd, fwdNoInit, inv *model.Exec) {
	t.Helper()
	b := traintest.GoBackend(t)
	store := nntest.SeededStore(t)
	fwd = model.MustNewExec(b, store, func(scope *model.Scope, v *graph.Node) (*graph.Node, *graph.Node) {
		return Forward(scope.In(NetScope), a, v, true)
	})
	fwdNoInit = model.MustNewExec(b, store, func(scope *model.Scope, v *graph.Node) (*graph.Node, *graph.Node) {
		return Forward(scope.In(NetScope), a, v, false)
	})
	inv = model.MustNewExec(b, store, func(scope *model.Scope, z *graph.Node) *graph.Node {
		return Inverse(scope.In(NetScope), a, z)
	})
	fwd.MustExec(dequantized(1, 5, h, w))
	randomize(t, store, "/c3/", 0.3, 2*a.couplings())
	if a.InvConv {
		randomize(t, store, "/inv_conv/", 0.3, 3*a.Layers*(a.scales()-1))
	}
	return fwd, fwdNoInit, inv
}

// randomize gives the float64 variables of store whose path contains part (those that start at
// zero: the coupling networks' last layers, the 1×1 convolutions) values from N(0, std²), and checks there are want
// of them.
func randomize(t *testing.T, store *model.Store, part string, std float64, want int) {
	t.Helper()
	r := rand.New(rand.NewPCG(9, 9))
	n := 0
	for v := range store.IterVariables() {
		if strings.Contains(v.Path(), part) {
			vals := make([]float64, v.Shape().Size())
			for i := range vals {
				vals[i] = std * r.NormFloat64()
			}
			v.MustSetValue(tensors.FromFlatDataAndDimensions(vals, v.Shape().Dimensions...))
			n++
		}
	}
	if n != want {
		t.Fatalf("%d variables under %q, want %d", n, part, want)
	}
}

// dequantized returns b float64 images h×w of pixels x + u, x uniform on 0…255 and u on [0, 1).
func dequantized(seed uint64, b, h, w int) *tensors.Tensor {
	r := rand.New(rand.NewPCG(seed, 2))
	v := make([]float64, b*h*w)
	for i := range v {
		v[i] = float64(r.IntN(256)) + r.Float64()
	}
	return tensors.FromFlatDataAndDimensions(v, b, h, w, 1)
}

func float64s(t *tensors.Tensor) []float64 { return tensors.MustCopyFlatData[float64](t) }

// The flows the invertibility and log-determinant tests run on: BENCH.md's single-scale
// shape and the three-scale one (Forward), on images of side h (divisible by 4 for three scales).
var testArchs = []struct {
	name string
	arch Arch
	side int
}{
	{"one scale", Arch{Layers: 8, Hidden: 8, Alpha: 0.05}, 6},
	{"three scales", Arch{Layers: 2, Hidden: 8, Alpha: 0.05, Scales: 3}, 8},
	{"three scales, 1×1 convolutions", Arch{Layers: 2, Hidden: 8, Alpha: 0.05, Scales: 3, InvConv: true}, 8},
}

// x → z → x: the inverse undoes the forward map to < 1e-4 (float64), and the forward map
// without ActNorm initialisation (evaluation) equals the one with it once the ActNorms are
// initialised.
func TestInverse(t *testing.T) {
	for _, tc := range testArchs {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.side
			fwd, fwdNoInit, inv := float64Flow(t, tc.arch, h, h)
			v := dequantized(3, 3, h, h)
			out := fwd.MustExec(v)
			if !slices.Equal(out[0].Shape().Dimensions, v.Shape().Dimensions) {
				t.Fatalf("z is shaped %s, v %s", out[0].Shape(), v.Shape())
			}
			back := float64s(inv.MustExec(out[0])[0])
			z0 := float64s(out[0])
			for i, want := range float64s(v) {
				if d := math.Abs(back[i] - want); !(d < 1e-4) {
					t.Fatalf("pixel %d: inverse(forward(v)) = %.9g, v = %.9g", i, back[i], want)
				}
			}
			other := fwdNoInit.MustExec(v)
			for i, z := range float64s(other[0]) {
				if math.Abs(z-z0[i]) > 1e-12 {
					t.Fatalf("z[%d]: %g without initialisation, %g with it", i, z, z0[i])
				}
			}
			if a, b := float64s(out[1]), float64s(other[1]); math.Abs(a[0]-b[0]) > 1e-9 {
				t.Errorf("log-det %g with initialisation, %g without", a[0], b[0])
			}
		})
	}
}

// The log-determinant of the whole flow (logit transform, ActNorms, couplings, and with three
// scales the squeezes, factored-out channels and 1×1 convolutions) equals log|det ∂z/∂v| of the Jacobian computed
// by central finite differences, on one 4×4 image (a 16×16 Jacobian), in float64.
func TestLogDetMatchesJacobian(t *testing.T) {
	const n, h = 16, 1e-5
	for _, a := range []Arch{{Layers: 4, Hidden: 4, Alpha: 0.05}, {Layers: 2, Hidden: 4, Alpha: 0.05, Scales: 3},
		{Layers: 2, Hidden: 4, Alpha: 0.05, Scales: 3, InvConv: true}} {
		fwd, _, _ := float64Flow(t, a, 4, 4)
		v := float64s(dequantized(4, 1, 4, 4))
		batch := append([]float64(nil), v...) // v, then v ± h·e_j for every pixel j
		for j := range n {
			for _, sign := range []float64{1, -1} {
				p := append([]float64(nil), v...)
				p[j] += sign * h
				batch = append(batch, p...)
			}
		}
		out := fwd.MustExec(tensors.FromFlatDataAndDimensions(batch, 2*n+1, 4, 4, 1))
		z, logDet := float64s(out[0]), float64s(out[1])
		jac := mat.NewDense(n, n, nil) // ∂z_i/∂v_j
		for i := range n {
			for j := range n {
				jac.Set(i, j, (z[(1+2*j)*n+i]-z[(2+2*j)*n+i])/(2*h))
			}
		}
		want, _ := mat.LogDet(jac)
		if d := math.Abs(logDet[0] - want); !(d < 1e-5) {
			t.Errorf("%d scales (1×1 convolutions: %v): log-det %.10g, finite-difference Jacobian gives %.10g (difference %g)", a.scales(), a.InvConv, logDet[0], want, d)
		}
	}
}

// identityBitsPerDim is the bits/dim that TestBitsPerDim must give for a flow that is the
// identity after the logit transform, computed here from its definition: the same test images
// and dequantization noise, p = α + (1 − 2α)·v/256, z = logit p, and
// −log p(v) = Σ [½z² + ½·log 2π − log((1 − 2α)/256) + log p + log(1 − p)].
func identityBitsPerDim(m *Model) float64 {
	n := min(m.EvalTestImages, m.test.N)
	r := rand.New(rand.NewPCG(EvalSeed, dequantStream))
	var sum float64
	for i := range n {
		for j := range imageSize {
			v := float64(float32(m.test.Pixels[i*imageSize+j]) + float32(r.Float64()))
			p := m.Alpha + (1-2*m.Alpha)*v/256
			z := math.Log(p) - math.Log(1-p)
			sum += 0.5*z*z + 0.5*math.Log(2*math.Pi) - math.Log((1-2*m.Alpha)/256) + math.Log(p) + math.Log(1-p)
		}
	}
	return sum / (float64(n*imageSize) * math.Ln2)
}

// Before its first step the flow is the identity after the logit transform (ActNorms not yet
// initialised, every coupling's last convolution zero): its test bits/dim must equal the closed
// form of the dequantization, the logit transform and the standard normal prior. 13 test
// images in batches of 8 check the padding too.
func TestBitsPerDimOfIdentityFlow(t *testing.T) {
	cfg := tiny()
	cfg.EvalTestImages = 13
	m := newModel(t, traintest.GoBackend(t), cfg)
	got, err := m.TestBitsPerDim()
	if err != nil {
		t.Fatal(err)
	}
	want := identityBitsPerDim(m)
	t.Logf("identity flow: %.6f bits/dim (closed form %.6f)", got, want)
	if !(math.Abs(got-want) < 1e-5*want) {
		t.Errorf("test bits/dim %.7g, closed form %.7g", got, want)
	}
}

// Training steps keep a finite loss and change the flow; samples at any temperature are finite
// grey levels, and a lower temperature gives images closer to the flow's mode (less spread).
func TestStepAndSample(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tiny())
	for s := range 3 {
		ms, err := m.Step(s)
		if err != nil {
			t.Fatal(err)
		}
		if l := ms[0].Value; math.IsNaN(l) || math.IsInf(l, 0) || l <= 0 {
			t.Fatalf("step %d: loss %g", s, l)
		}
	}
	if err := m.SetSampling([]byte(`{"temperature": 0.5}`)); err != nil {
		t.Fatal(err)
	}
	if m.Sampler().Temperature != 0.5 {
		t.Errorf("temperature %g after SetSampling, want 0.5", m.Sampler().Temperature)
	}
	if err := m.SetSampling([]byte(`{"temprature": 0.5}`)); err == nil {
		t.Error("a misspelt sampling option was accepted")
	}
	im, err := m.Samples(10, 3)
	if err != nil {
		t.Fatal(err)
	}
	if im.N != 10 || len(im.Pixels) != 10*imageSize {
		t.Fatalf("%d samples, %d pixels", im.N, len(im.Pixels))
	}
	again, _ := m.Generate(Sampling{Temperature: 0.5}, 3, 3)
	if !reflect.DeepEqual(again.Pixels, im.Pixels[:3*imageSize]) {
		t.Error("the first 3 of 10 samples differ from 3 samples with the same seed")
	}
}

// TestResumeMatchesUninterrupted: 6 steps in one go and 3 + 3 resumed end bit-identical, with
// the same test bits/dim.
func TestResumeMatchesUninterrupted(t *testing.T) {
	b := traintest.GoBackend(t)
	traintest.ResumeMatchesUninterrupted(t, func() train.Task { return newModel(t, b, tiny()) }, 6, 3, 20, "test_bits_per_dim")
}

// The flow gives the same test bits/dim and the same inverse of fixed z on the go backend
// (im2col convolutions) and on xla:cpu (its own).
func TestAgreesAcrossBackends(t *testing.T) {
	traintest.AgreesAcrossBackends(t, func(b compute.Backend) train.Task { return newModel(t, b, tiny()) },
		func(task train.Task) ([]float64, error) {
			m := task.(*Model)
			z := make([]float32, m.SampleBatch*imageSize)
			for i := range z {
				z[i] = float32(math.Sin(float64(i)))
			}
			res, err := m.inverse.Call(m.batchTensor(z))
			if err != nil {
				return nil, err
			}
			bpd, err := m.TestBitsPerDim()
			return append(traintest.Floats(res), bpd), err
		}, 1e-4)
}

// TestRunFolderRoundTrip: a run trained into a folder, loaded and evaluated again gives the
// same metrics (the kit's contract, lib/train/traintest).
func TestRunFolderRoundTrip(t *testing.T) {
	traintest.RunFolderRoundTrip(t, "flow", traintest.GoBackend(t), tiny(), 4, 10)
}

// TestCIProfileLearns trains the ci profile on the default backend: its test bits/dim must fall
// well below the untrained flow's (the logit transform alone, about 11 bits/dim) and below the
// 8 bits/dim of a uniform distribution over the 256 grey levels; Fashion-MNIST's test images,
// which it never saw, must cost it more bits/dim than its own.
func TestCIProfileLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the ci profile")
	}
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, overrides string }{{"one scale", `{}`}, {"three scales", `{"scales": 3}`}} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := New(family.Options{Backend: b, Profile: "ci", Seed: backend.DefaultSeed, Overrides: json.RawMessage(tc.overrides)})
			if err != nil {
				t.Fatal(err)
			}
			before, err := m.TestBitsPerDim()
			if err != nil {
				t.Fatal(err)
			}
			res, err := train.Run(context.Background(), m, train.Config{Steps: m.Steps, Seed: backend.DefaultSeed, Progress: train.SilentProgress()})
			if err != nil {
				t.Fatal(err)
			}
			after, ok := res.Eval.Get("test_bits_per_dim")
			if !ok {
				t.Fatal("no test_bits_per_dim in the evaluation")
			}
			fashion, _ := res.Eval.Get("fashion_test_bits_per_dim")
			t.Logf("ci, %s: test bits/dim %.3f untrained, %.3f after %d steps; %.3f on Fashion-MNIST's test images", tc.name, before, after, m.Steps, fashion)
			if !(after < before-3 && after < 8-1) {
				t.Errorf("ci test bits/dim %.3f after training (%.3f before): want 3 below the untrained flow and 1 below uniform's 8", after, before)
			}
			if !(fashion > after) {
				t.Errorf("a flow of digits gives Fashion-MNIST's test images %.3f bits/dim, its own %.3f: want more", fashion, after)
			}
		})
	}
}

// A flow whose coupling scales blow up (here: every learned scale forced to 1e30 at step 3,
// so exp(s) overflows) stops with train.NonFiniteError, and the newest checkpoint kept is the
// last good step's, which still evaluates to finite bits/dim.
func TestBlownUpScalesStopAtLastGoodCheckpoint(t *testing.T) {
	b := traintest.GoBackend(t)
	dir := t.TempDir()
	m := newModel(t, b, tiny())
	_, err := train.Run(context.Background(), blowUpAt{m, 3}, train.Config{Steps: 6, Dir: dir, CheckpointEvery: 2, Progress: train.SilentProgress()})
	var nf *train.NonFiniteError
	if !errors.As(err, &nf) {
		t.Fatalf("want NonFiniteError, got %v", err)
	}
	cks, _ := train.ListCheckpoints(filepath.Join(dir, "checkpoint"))
	if nf.Step != 3 || len(cks) == 0 || cks[len(cks)-1].Step != 2 {
		t.Fatalf("stopped at step %d with checkpoints %+v; want step 3, the newest checkpoint at step 2", nf.Step, cks)
	}
	good := newModel(t, b, tiny())
	if _, err := train.Run(context.Background(), good, train.Config{Steps: 2, Dir: dir, Resume: true, Progress: train.SilentProgress()}); err != nil {
		t.Fatal(err)
	}
	if bpd, err := good.TestBitsPerDim(); err != nil || math.IsNaN(bpd) || math.IsInf(bpd, 0) {
		t.Errorf("the kept checkpoint gives %v bits/dim (%v), want finite", bpd, err)
	}
}

// blowUpAt sets every coupling's learned scale to 1e30 before step at.
type blowUpAt struct {
	*Model
	at int
}

func (b blowUpAt) Step(step int) (train.Metrics, error) {
	if step == b.at {
		for v := range b.store.IterVariables() {
			if v.Name() == "scale" {
				v.MustSetValue(tensors.FromScalarAndDimensions(float32(1e30), v.Shape().Dimensions...))
			}
		}
	}
	return b.Model.Step(step)
}

// At a learning rate far too high (1, no warm-up), 40 steps leave the flow far worse than the
// same steps after a 30-step linear warm-up: the warm-up is what keeps early steps from
// throwing the couplings' scales to the bounds of their tanh (40 against 7 bits/dim).
func TestWarmupTamesAHighLearningRate(t *testing.T) {
	b := traintest.GoBackend(t)
	loss := func(warmup int) float64 {
		c := tiny()
		c.Arch.Hidden, c.Batch, c.LearningRate, c.Warmup, c.Steps = 8, 16, 1, warmup, 40
		m := newModel(t, b, c)
		var ms train.Metrics
		var err error
		for s := range c.Steps {
			if ms, err = m.Step(s); err != nil {
				t.Fatal(err)
			}
		}
		return ms[0].Value
	}
	without, with := loss(0), loss(30)
	t.Logf("bits/dim after 40 steps at lr 1: %.2f without warm-up, %.2f with", without, with)
	if !(with < without/2) {
		t.Errorf("bits/dim %.2f with a warm-up, %.2f without: want less than half", with, without)
	}
}
