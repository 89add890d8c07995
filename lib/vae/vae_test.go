package vae

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/train/traintest"
)

var ()

// tiny is a configuration small enough to train and check in milliseconds.
func tiny(arch string) Config {
	return Config{Arch: arch, Hidden: 16, Depth: 1, Channels: 4, Latent: 3, Beta: 1, Batch: 8, LearningRate: 1e-3,
		Steps: 10, IWAEK: 4, EvalImages: 6, IWAEChunk: 8}
}

func newModel(t *testing.T, b compute.Backend, cfg Config) *Model {
	return traintest.NewModel(t, NewWithConfig, b, cfg, 7)
}

func TestProfiles(t *testing.T) {
	traintest.ProfilesAreValid(t, ProfileConfig, Config.Check)
	b, _ := ProfileConfig("bench")
	want := Config{Arch: "mlp", Hidden: 400, Depth: 1, Latent: 20, Beta: 1, Batch: 128, LearningRate: 1e-3}
	if b.Arch != want.Arch || b.Hidden != want.Hidden || b.Depth != want.Depth || b.Latent != want.Latent ||
		b.Beta != want.Beta || b.Batch != want.Batch || b.LearningRate != want.LearningRate {
		t.Errorf("bench profile %+v differs from BENCH.md (%+v)", b, want)
	}
	for _, p := range []string{"small", "full", "bench"} {
		c, _ := ProfileConfig(p)
		if c.IWAEK < 1000 || c.EvalImages != 0 {
			t.Errorf("%s: the reported NLL needs K ≥ 1000 on all test images, got K = %d on %d", p, c.IWAEK, c.EvalImages)
		}
	}
	bad := tiny("mlp")
	bad.Arch = "rnn"
	if bad.Check() == nil {
		t.Error("unknown architecture accepted")
	}
}

func TestBinarize(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tiny("mlp"))
	grey := m.train.Subset(seq(3000))
	a, b := Binarize(grey, 1), Binarize(grey, 1)
	c := Binarize(grey, 2)
	var on, level float64
	same, diff := true, false
	for i, v := range a.Pixels {
		if v != 0 && v != 255 {
			t.Fatalf("pixel %d = %d, want 0 or 255", i, v)
		}
		same = same && v == b.Pixels[i]
		diff = diff || v != c.Pixels[i]
		on += float64(v) / 255
		level += float64(grey.Pixels[i]) / 255
	}
	if !same || !diff {
		t.Errorf("same seed gives the same images: %v; another seed gives others: %v", same, diff)
	}
	// E[binary] = grey level: over 2.4M pixels the means agree to ~3e-4.
	if n := float64(len(a.Pixels)); !(math.Abs(on/n-level/n) <= 1.5e-3) {
		t.Errorf("mean binarized pixel %.5f, mean grey level %.5f", on/n, level/n)
	}
	if m.TestSet().Pixels[0] != Binarize(m.test, TestBinarizationSeed).Pixels[0] {
		t.Error("test set is not binarized with TestBinarizationSeed")
	}
}

// TestShapes runs every graph of both architectures once and checks the shapes that come back.
func TestShapes(t *testing.T) {
	for _, arch := range []string{"mlp", "conv"} {
		t.Run(arch, func(t *testing.T) {
			cfg := tiny(arch)
			m := newModel(t, traintest.GoBackend(t), cfg)
			ms, err := m.Step(0)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != 4 || ms[0].Name != "loss" {
				t.Fatalf("step metrics %v", ms)
			}
			mu, lv, err := m.Encode(m.TestSet(), []int{0, 1, 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(mu) != 3 || len(lv) != 3 || len(mu[0]) != cfg.Latent || len(lv[2]) != cfg.Latent {
				t.Fatalf("encode: %d×%d, want 3×%d", len(mu), len(mu[0]), cfg.Latent)
			}
			im, err := m.Samples(5, 1)
			if err != nil {
				t.Fatal(err)
			}
			if im.N != 5 || im.Height != 28 || im.Width != 28 || im.Channels != 1 || len(im.Pixels) != 5*784 {
				t.Fatalf("samples: %d images of %d×%d×%d, %d bytes", im.N, im.Height, im.Width, im.Channels, len(im.Pixels))
			}
			r, err := m.IWAE(cfg.IWAEK, 3)
			if err != nil {
				t.Fatal(err)
			}
			if r.K != cfg.IWAEK || r.Images != 3 || !(r.NLL > 0) || !(r.Recon > 0) {
				t.Fatalf("IWAE: %+v", r)
			}
			if _, err := m.LatentMap(4); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(t.TempDir(), "s.png")
			if err := m.Sample(4, path); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// param returns the flat float64 value of the variable at path.
func param(t *testing.T, s *model.Store, path string) []float64 {
	t.Helper()
	v := s.GetVariable(path)
	if v == nil {
		t.Fatalf("no variable %s", path)
	}
	f32 := tensors.MustCopyFlatData[float32](v.MustValue())
	out := make([]float64, len(f32))
	for i, x := range f32 {
		out[i] = float64(x)
	}
	return out
}

// dense computes x·W + b for one row x, W [len(x), out] row-major.
func dense(x, w, b []float64) []float64 {
	out := append([]float64(nil), b...)
	for i, xi := range x {
		for j := range out {
			out[j] += xi * w[i*len(out)+j]
		}
	}
	return out
}

func relu(v []float64) []float64 {
	for i := range v {
		v[i] = max(v[i], 0)
	}
	return v
}

// TestLossMatchesDirectComputation recomputes −ELBO's two terms and the importance log-weights
// in plain float64 Go from the model's weights, with the same noise ε, and with log q(z|x) taken
// from the Gaussian density of z itself (not from ε, as the graph does).
func TestLossMatchesDirectComputation(t *testing.T) {
	b := traintest.GoBackend(t)
	cfg := tiny("mlp")
	m := newModel(t, b, cfg)
	const n, k = 4, 3
	L := cfg.Latent
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, n*784)
	for i := range x {
		if rng.Float64() < 0.2 {
			x[i] = 1
		}
	}
	eps1 := make([]float32, n*L)
	eps3 := make([]float32, n*k*L)
	for i := range eps1 {
		eps1[i] = float32(rng.NormFloat64())
	}
	for i := range eps3 {
		eps3[i] = float32(rng.NormFloat64())
	}
	elboExec, err := train.NewEvalExec(b, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		recon, kl := m.NegELBO(scope, in[0], in[1])
		return []*graph.Node{recon, kl}
	})
	if err != nil {
		t.Fatal(err)
	}
	iwExec, err := train.NewEvalExec(b, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		logW, logPx := m.logWeights(scope, in[0], in[1])
		return []*graph.Node{logW, logPx}
	})
	if err != nil {
		t.Fatal(err)
	}
	xt := tensors.FromFlatDataAndDimensions(x, n, 28, 28, 1)
	out, err := elboExec.Call(xt, tensors.FromFlatDataAndDimensions(eps1, n, L))
	if err != nil {
		t.Fatal(err)
	}
	recon, kl := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
	out, err = iwExec.Call(xt, tensors.FromFlatDataAndDimensions(eps3, n, k, L))
	if err != nil {
		t.Fatal(err)
	}
	logW, logPx := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])

	s := m.store
	e0w, e0b := param(t, s, "/encoder/hidden0/dense/weights"), param(t, s, "/encoder/hidden0/dense/biases")
	muW, muB := param(t, s, "/encoder/mu/dense/weights"), param(t, s, "/encoder/mu/dense/biases")
	lvW, lvB := param(t, s, "/encoder/logvar/dense/weights"), param(t, s, "/encoder/logvar/dense/biases")
	d0w, d0b := param(t, s, "/decoder/hidden0/dense/weights"), param(t, s, "/decoder/hidden0/dense/biases")
	dlW, dlB := param(t, s, "/decoder/logits/dense/weights"), param(t, s, "/decoder/logits/dense/biases")
	logLik := func(xi []float64, z []float64) float64 { // log p(x|z), Bernoulli, via log sigmoid
		l := dense(relu(dense(z, d0w, d0b)), dlW, dlB)
		var s float64
		for j, lj := range l {
			p := 1 / (1 + math.Exp(-lj))
			if xi[j] == 1 {
				s += math.Log(p)
			} else {
				s += math.Log(1 - p)
			}
		}
		return s
	}
	logNormal := func(z, mu, variance []float64) float64 {
		var s float64
		for d := range z {
			s += -0.5*math.Log(2*math.Pi*variance[d]) - (z[d]-mu[d])*(z[d]-mu[d])/(2*variance[d])
		}
		return s
	}
	near := func(what string, got float32, want float64) {
		t.Helper()
		if !(math.Abs(float64(got)-want) <= 1e-3*max(1, math.Abs(want))) {
			t.Errorf("%s = %.6f, direct computation %.6f", what, got, want)
		}
	}
	for i := range n {
		xi := make([]float64, 784)
		for j := range xi {
			xi[j] = float64(x[i*784+j])
		}
		h := relu(dense(xi, e0w, e0b))
		mu, lv := dense(h, muW, muB), dense(h, lvW, lvB)
		variance := make([]float64, L)
		zeros, ones := make([]float64, L), make([]float64, L)
		var wantKL float64
		for d := range L {
			variance[d], ones[d] = math.Exp(lv[d]), 1
			// KL(N(μ, σ²) ‖ N(0, 1)) = log(1/σ) + (σ² + μ²)/2 − ½
			wantKL += -0.5*lv[d] + (variance[d]+mu[d]*mu[d])/2 - 0.5
		}
		z := make([]float64, L)
		for d := range L {
			z[d] = mu[d] + math.Sqrt(variance[d])*float64(eps1[i*L+d])
		}
		near("recon", recon[i], -logLik(xi, z))
		near("kl", kl[i], wantKL)
		for j := range k {
			for d := range L {
				z[d] = mu[d] + math.Sqrt(variance[d])*float64(eps3[(i*k+j)*L+d])
			}
			lp := logLik(xi, z)
			near("log p(x|z)", logPx[i*k+j], lp)
			near("log w", logW[i*k+j], lp+logNormal(z, zeros, ones)-logNormal(z, mu, variance))
		}
	}
}

// TestGradientsReachEveryVariable checks that the training loss has a non-zero gradient with
// respect to every trainable variable, for both architectures.
func TestGradientsReachEveryVariable(t *testing.T) {
	for _, arch := range []string{"mlp", "conv"} {
		t.Run(arch, func(t *testing.T) {
			b := traintest.GoBackend(t)
			m := newModel(t, b, tiny(arch))
			var names []string
			exec, err := train.NewEvalExec(b, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
				g := in[0].Graph()
				eps := graph.Const(g, tensors.FromShape(shapes.Make(dtypes.Float32, 8, m.Latent)))
				eps = graph.AddScalar(eps, 0.3)
				recon, kl := m.NegELBO(scope, in[0], eps)
				loss := graph.ReduceAllMean(graph.Add(recon, kl))
				grads := scope.BuildTrainableVariablesGradientsGraph(loss)
				var norms []*graph.Node
				for v := range scope.IterVariables() {
					if v.Trainable {
						names = append(names, v.Path())
					}
				}
				for _, gr := range grads {
					norms = append(norms, graph.ReduceAllSum(graph.Abs(gr)))
				}
				return norms
			})
			if err != nil {
				t.Fatal(err)
			}
			out, err := exec.Call(m.TestSet().Float32([]int{0, 1, 2, 3, 4, 5, 6, 7}, 0, 1))
			if err != nil {
				t.Fatal(err)
			}
			if len(out) != len(names) || len(out) == 0 {
				t.Fatalf("%d gradients for %d trainable variables", len(out), len(names))
			}
			for i, o := range out {
				if v := tensors.ToScalar[float32](o); !(v > 0) || math.IsInf(float64(v), 0) {
					t.Errorf("gradient of %s: Σ|g| = %v", names[i], v)
				}
			}
		})
	}
}

// zBlindNLL is the test NLL (nats per image) of the best model that ignores z: independent
// Bernoulli pixels with the marginals of the dynamically binarized training images. A
// binarized pixel is 1 with probability grey/255, so its marginal is the mean grey level over
// the training images (Krichevsky–Trofimov smoothing keeps a pixel that is never on finite).
// It is computed here from the pixels alone, not with the model's code: about 206 nats on
// MNIST, against 543 (784·log 2) for a decoder that says ½ everywhere — a bar that a model
// which learns nothing from its latent clears with room to spare.
func zBlindNLL(trainSet, test *data.Images, images int) float64 {
	size := trainSet.ImageSize()
	p := make([]float64, size)
	for i, v := range trainSet.Pixels {
		p[i%size] += float64(v) / 255
	}
	for j := range p {
		p[j] = (p[j] + 0.5) / (float64(trainSet.N) + 1)
	}
	var nll float64
	for i := range images {
		for j, v := range test.Pixels[i*size : (i+1)*size] {
			if v != 0 {
				nll -= math.Log(p[j])
			} else {
				nll -= math.Log1p(-p[j])
			}
		}
	}
	return nll / float64(images)
}

// TestCIProfileLearns trains the ci profile for a part of its steps on the default backend and
// checks that the model uses its latent: the test NLL (IWAE) must beat, by a wide margin, the
// z-blind baseline (zBlindNLL, ≈ 206 nats; the untrained model scores ≈ 543, so "falls by 200
// nats" is met by a decoder that ignores z), and the KL term — the information the encoder
// puts into z, 0 for a model that ignores it — must be well above zero. The training loss must
// fall too.
func TestCIProfileLearns(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(family.Options{Backend: b, Profile: "ci", Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	m.EvalImages = 200
	// The untrained weights come from the store's RNG: seed it, so that "before" is the same
	// from run to run.
	if err := m.Store().SetRNGStateFromSeed(1); err != nil {
		t.Fatal(err)
	}
	before, err := m.IWAE(m.IWAEK, m.EvalImages)
	if err != nil {
		t.Fatal(err)
	}
	blind := zBlindNLL(m.TrainSet(), m.TestSet(), m.EvalImages)
	steps := 300
	if testing.Short() {
		steps = 100
	}
	res, err := train.Run(context.Background(), m, train.Config{Steps: steps, Seed: 1, Progress: train.SilentProgress(), LogEvery: 1})
	if err != nil {
		t.Fatal(err)
	}
	mean := func(rs []train.Record) float64 {
		var s float64
		for _, r := range rs {
			s += r.Values["loss"]
		}
		return s / float64(len(rs))
	}
	first, last := mean(res.History[:10]), mean(res.History[len(res.History)-10:])
	nll, _ := res.Eval.Get("test_nll_nats")
	elbo, _ := res.Eval.Get("test_elbo_nats")
	kl, _ := res.Eval.Get("test_kl_nats")
	t.Logf("loss %.1f → %.1f; test NLL %.1f → %.1f (z-blind baseline %.1f), −ELBO %.1f, KL %.1f", first, last, before.NLL, nll, blind, elbo, kl)
	if !(blind > 150 && blind < 260) {
		t.Fatalf("z-blind baseline %.1f nats: the binarized test images are not MNIST's", blind)
	}
	if !(last < first-100) {
		t.Errorf("training loss went from %.1f to %.1f: it should fall by more than 100 nats", first, last)
	}
	// 300 steps reach ≈ 120 nats (100 steps ≈ 150): 40 nats below the z-blind model.
	if !(nll < blind-40) || !(nll <= elbo) {
		t.Errorf("test NLL %.1f (−ELBO %.1f): want NLL ≤ −ELBO and at least 40 nats below the z-blind baseline %.1f", nll, elbo, blind)
	}
	if !(kl > 5) {
		t.Errorf("KL(q(z|x) ‖ p(z)) = %.2f nats: the encoder puts (almost) nothing into z", kl)
	}
}

// TestIWAEBoundTightensWithK checks Burda et al.'s Theorem 1 on a briefly trained model:
// −ELBO ≥ NLL_1 ≥ NLL_10 ≥ NLL_100 (up to Monte Carlo noise, which is small next to the gaps).
func TestIWAEBoundTightensWithK(t *testing.T) {
	b := traintest.GoBackend(t)
	cfg := tiny("mlp")
	cfg.Hidden, cfg.Latent, cfg.Batch, cfg.IWAEChunk = 64, 8, 32, 2000
	m := newModel(t, b, cfg)
	if _, err := train.Run(context.Background(), m, train.Config{Steps: 100, Seed: 1, Progress: train.SilentProgress()}); err != nil {
		t.Fatal(err)
	}
	prev := math.Inf(1)
	for _, k := range []int{1, 10, 100} {
		r, err := m.IWAE(k, 20)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("K = %d: NLL %.2f, recon %.2f", k, r.NLL, r.Recon)
		if !(r.NLL < prev) {
			t.Errorf("K = %d: NLL %.3f not below %.3f", k, r.NLL, prev)
		}
		prev = r.NLL
	}
	r1, _ := m.IWAE(1, 20)
	r1b, _ := m.IWAE(1, 20)
	if r1.NLL != r1b.NLL {
		t.Errorf("IWAE is not deterministic: %v then %v", r1.NLL, r1b.NLL)
	}
}

// TestBetaWeightsTheKL checks that the reported loss is recon + β·KL while neg_elbo stays recon + KL.
func TestBetaWeightsTheKL(t *testing.T) {
	cfg := tiny("mlp")
	cfg.Beta = 4
	m := newModel(t, traintest.GoBackend(t), cfg)
	ms, err := m.Step(0)
	if err != nil {
		t.Fatal(err)
	}
	loss, _ := ms.Get("loss")
	negELBO, _ := ms.Get("neg_elbo")
	r, _ := ms.Get("recon")
	k, _ := ms.Get("kl")
	if !(math.Abs(loss-(r+4*k)) <= 1e-3*loss) || !(math.Abs(negELBO-(r+k)) <= 1e-3*negELBO) || !(k > 0) {
		t.Errorf("loss %.4f, neg_elbo %.4f, recon %.4f, kl %.4f: want loss = recon + 4·kl", loss, negELBO, r, k)
	}
}

// TestResumeMatchesUninterrupted trains 12 steps in one go, and 5 + 7 steps with a checkpoint
// and a fresh model in between: every variable (weights, Adam moments, RNG state) and the
// evaluation must come out bit-identical.
func TestResumeMatchesUninterrupted(t *testing.T) {
	b := traintest.GoBackend(t)
	traintest.ResumeMatchesUninterrupted(t, func() train.Task { return newModel(t, b, tiny("mlp")) }, 12, 5, 10, "test_nll_nats")
}

// TestInterpolateAndMap checks the latent-space pictures: an interpolation starts and ends at
// the two reconstructions, and a map has n×n images.
func TestInterpolateAndMap(t *testing.T) {
	cfg := tiny("mlp")
	cfg.Latent = 2
	m := newModel(t, traintest.GoBackend(t), cfg)
	if _, err := m.Step(0); err != nil {
		t.Fatal(err)
	}
	path, err := m.Interpolate(3, 8, 5)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := m.Reconstruct([]int{3, 8})
	if err != nil {
		t.Fatal(err)
	}
	if path.N != 5 || string(path.Pixels[:784]) != string(rec.Pixels[:784]) || string(path.Pixels[4*784:]) != string(rec.Pixels[784:]) {
		t.Error("interpolation does not run from the first reconstruction to the second")
	}
	mp, err := m.LatentMap(6)
	if err != nil || mp.N != 36 {
		t.Fatalf("latent map: %v, %d images", err, mp.N)
	}
	img, err := m.LatentScatter(100, 64, 3)
	if err != nil || img.Bounds().Dx() != 64 {
		t.Fatalf("scatter: %v", err)
	}
}

// phiInverse is the standard normal quantile Φ⁻¹(p), by bisection on Φ(x) = ½ erfc(−x/√2):
// independent of LatentMap's closed form through math.Erfinv.
func phiInverse(p float64) float64 {
	lo, hi := -10.0, 10.0
	for range 200 {
		mid := (lo + hi) / 2
		if 0.5*math.Erfc(-mid/math.Sqrt2) < p {
			lo = mid
		} else {
			hi = mid
		}
	}
	return (lo + hi) / 2
}

// TestLatentMapCoordinates checks the grid LatentMap decodes (Kingma & Welling 2014, Fig. 4):
// image (r, c) of the n×n map is the decoder's mean at z = (Φ⁻¹(p_c), Φ⁻¹(p_{n−1−r}), 0, …)
// with p_i = 0.05 + 0.9·i/(n−1) — z₁ grows to the right, z₂ upwards — compared with Decode
// of that grid built here. The decoder is made steep in z (its first layer's weights ×40), so
// that a transposed or flipped grid gives other images (checked too).
func TestLatentMapCoordinates(t *testing.T) {
	cfg := tiny("mlp")
	cfg.Latent = 3
	m := newModel(t, traintest.GoBackend(t), cfg)
	if _, err := m.Step(0); err != nil {
		t.Fatal(err)
	}
	w := m.store.GetVariable("/decoder/hidden0/dense/weights")
	steep := tensors.MustCopyFlatData[float32](w.MustValue())
	for i := range steep {
		steep[i] *= 40
	}
	if err := w.SetValue(tensors.FromFlatDataAndDimensions(steep, w.Shape().Dimensions...)); err != nil {
		t.Fatal(err)
	}
	const n = 5
	grid := func(x, y func(r, c int) int) [][]float32 {
		var z [][]float32
		for r := range n {
			for c := range n {
				p1, p2 := 0.05+0.9*float64(x(r, c))/(n-1), 0.05+0.9*float64(y(r, c))/(n-1)
				z = append(z, []float32{float32(phiInverse(p1)), float32(phiInverse(p2)), 0})
			}
		}
		return z
	}
	maxDiff := func(a, b *data.Images) int {
		d := 0
		for i := range a.Pixels {
			d = max(d, int(a.Pixels[i])-int(b.Pixels[i]), int(b.Pixels[i])-int(a.Pixels[i]))
		}
		return d
	}
	got, err := m.LatentMap(n)
	if err != nil {
		t.Fatal(err)
	}
	if got.N != n*n {
		t.Fatalf("latent map of %d images, want %d", got.N, n*n)
	}
	for _, tc := range []struct {
		name  string
		x, y  func(r, c int) int
		match bool
	}{
		{"z₁ rightwards, z₂ upwards", func(r, c int) int { return c }, func(r, c int) int { return n - 1 - r }, true},
		{"transposed", func(r, c int) int { return n - 1 - r }, func(r, c int) int { return c }, false},
		{"z₂ downwards", func(r, c int) int { return c }, func(r, c int) int { return r }, false},
	} {
		want, err := m.Decode(grid(tc.x, tc.y))
		if err != nil {
			t.Fatal(err)
		}
		// The two Φ⁻¹ agree to float32 rounding: a grey level may differ by one.
		if d := maxDiff(got, want); (d <= 1) != tc.match {
			t.Errorf("%s: LatentMap and Decode of that grid differ by up to %d grey levels; want them to match: %v", tc.name, d, tc.match)
		}
	}
	if _, err := m.LatentMap(1); err == nil {
		t.Error("a 1×1 map accepted")
	}
}

// TestStandardNormal checks the Box–Muller sampler at the edges where graph.RandomNormal fails on
// XLA CPU (u₁ = 0 or denormal, flushed to zero), on the default backend, and its first two
// moments on a large sample.
func TestStandardNormal(t *testing.T) {
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	exec, err := train.NewEvalExec(b, model.NewStore(), nil, func(_ *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{nn.BoxMuller(in[0], in[1])}
	})
	if err != nil {
		t.Fatal(err)
	}
	u1 := []float32{0, math.SmallestNonzeroFloat32, 1e-30, 0.5, 0.5, math.Nextafter32(1, 0)}
	u2 := []float32{0, 0.5, 0.25, 0, 0.5, 0.9}
	out, err := exec.Call(tensors.FromFlatDataAndDimensions(u1, len(u1)), tensors.FromFlatDataAndDimensions(u2, len(u2)))
	if err != nil {
		t.Fatal(err)
	}
	eps := tensors.MustCopyFlatData[float32](out[0])
	for i, e := range eps {
		if math.IsNaN(float64(e)) || !(math.Abs(float64(e)) <= 6.7) {
			t.Errorf("u1 = %g, u2 = %g: ε = %v, want finite and |ε| ≤ 6.7", u1[i], u2[i], e)
		}
	}
	if want := math.Sqrt(2 * math.Ln2); !(math.Abs(float64(eps[3])-want) <= 1e-5) || !(math.Abs(float64(eps[4])+want) <= 1e-5) {
		t.Errorf("u1 = ½: ε = %v and %v, want ±%.6f", eps[3], eps[4], want)
	}

	sample, err := train.NewEvalExec(b, model.NewStore(), nil, func(_ *model.Scope, in []*graph.Node) []*graph.Node {
		shape := shapes.Make(dtypes.Float32, 400000)
		state, u1 := graph.RandomUniform(in[0], shape)
		_, u2 := graph.RandomUniform(state, shape)
		return []*graph.Node{nn.BoxMuller(u1, u2)}
	})
	if err != nil {
		t.Fatal(err)
	}
	state, _ := graph.RNGStateFromSeed(3)
	out, err = sample.Call(state)
	if err != nil {
		t.Fatal(err)
	}
	var s1, s2 float64
	xs := tensors.MustCopyFlatData[float32](out[0])
	for _, x := range xs {
		s1 += float64(x)
		s2 += float64(x) * float64(x)
	}
	mean, variance := s1/float64(len(xs)), s2/float64(len(xs))-(s1/float64(len(xs)))*(s1/float64(len(xs)))
	// Standard errors: 1/√n ≈ 0.0016 for the mean, √(2/n) ≈ 0.0022 for the variance.
	if !(math.Abs(mean) <= 0.008) || !(math.Abs(variance-1) <= 0.012) {
		t.Errorf("mean %.4f, variance %.4f of %d draws: want 0 and 1", mean, variance, len(xs))
	}
}

// The encoder (μ, log σ² of test images) and the decoder (Bernoulli means of given latents)
// agree between the go backend and xla:cpu, for both architectures.
func TestEncoderDecoderAgreeOnXLACPU(t *testing.T) {
	for _, arch := range []string{"mlp", "conv"} {
		t.Run(arch, func(t *testing.T) {
			traintest.AgreesAcrossBackends(t, func(b compute.Backend) train.Task { return newModel(t, b, tiny(arch)) },
				func(task train.Task) ([]float64, error) {
					m := task.(*Model)
					mu, logVar, err := m.Encode(m.TestSet(), []int{0, 1, 2, 3, 4, 5})
					if err != nil {
						return nil, err
					}
					var out []float64
					for i := range mu {
						for j := range mu[i] {
							out = append(out, float64(mu[i][j]), float64(logVar[i][j]))
						}
					}
					z := make([]float32, graphBatch*m.Latent)
					for i := range z {
						z[i] = float32(math.Cos(float64(i)))
					}
					res, err := m.decodeExec.Call(tensors.FromFlatDataAndDimensions(z, graphBatch, m.Latent))
					return append(out, traintest.Floats(res)...), err
				}, 1e-4)
		})
	}
}

// TestRunFolderRoundTrip: a run trained into a folder, loaded and evaluated again gives the
// same metrics (the kit's contract, lib/train/traintest) — among them the image metrics every
// image family reports.
func TestRunFolderRoundTrip(t *testing.T) {
	cfg := tiny("mlp")
	cfg.EvalSamples = 20
	traintest.RunFolderRoundTrip(t, "vae", traintest.GoBackend(t), cfg, 4, 10)
}

// TestReportsImageMetrics: the VAE's evaluation scores its samples as every image family does.
func TestReportsImageMetrics(t *testing.T) {
	cfg := tiny("mlp")
	cfg.EvalSamples = 20
	m := newModel(t, traintest.GoBackend(t), cfg)
	if _, err := m.Step(0); err != nil {
		t.Fatal(err)
	}
	ms, err := m.Evaluate(1)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"test_nll_nats", "fld", "fld_real_baseline", "kid", "precision", "recall", "density", "coverage", "classes_covered", "class_tv"} {
		v, ok := ms.Get(k)
		if !ok || math.IsNaN(v) {
			t.Errorf("metric %s: %v (reported: %v)", k, v, ok)
		}
	}
	if fld, _ := ms.Get("fld"); !(fld > 0) {
		t.Errorf("an untrained VAE's samples should be far from the data: fld %v", fld)
	}
}
