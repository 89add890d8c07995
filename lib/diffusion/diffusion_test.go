package diffusion

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/nn/nntest"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/train/traintest"
)

// tiny is a DDPM small enough to train and sample in milliseconds: a two-level U-Net of 4 and
// 8 channels with attention at 14×14, T = 20.
func tiny() Config {
	c, _ := ProfileConfig("ci")
	c.UNetConfig = nn.UNetConfig{Channels: 4, Mults: []int{1, 2}, Attention: []int{1}, Heads: 2, Groups: 2, TimeDim: 8}
	c.Timesteps, c.Batch, c.Steps, c.EMADecay = 20, 4, 6, 0.9
	c.Sampling = Sampling{Sampler: "ddim", Steps: 4, Clip: true}
	c.SampleBatch, c.EvalSamples, c.EvalLossImages = 8, 20, 10
	return c
}

func newModel(t *testing.T, b compute.Backend, cfg Config) *Model {
	return traintest.NewModel(t, NewWithConfig, b, cfg, 7)
}

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol*math.Max(1, math.Abs(want)) }

func TestProfiles(t *testing.T) {
	traintest.ProfilesAreValid(t, ProfileConfig, Config.Check)
	b, _ := ProfileConfig("bench")
	want := Config{UNetConfig: nn.UNetConfig{Channels: 32, Mults: []int{1, 2, 2}, Attention: []int{2}, Heads: 4, Groups: 8, TimeDim: 128},
		Timesteps: 1000, Schedule: "linear", BetaStart: 1e-4, BetaEnd: 0.02, Batch: 64, LearningRate: 2e-4, Steps: b.Steps,
		Sampling: Sampling{Sampler: "ddim", Steps: 50, Eta: 0, Clip: true}, SampleBatch: 64, EvalSamples: 10000, EvalLossImages: 1000, StudySamples: b.StudySamples}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("bench profile %+v, want BENCH.md's %+v", b, want)
	}
	if s, _ := ProfileConfig("small"); s.EvalSamples != 10000 || s.Sampling != DDIM50 || !(s.EMADecay > 0) {
		t.Errorf("small profile: %d samples with %+v, EMA %g; BENCH.md scores 10,000 DDIM-50 samples", s.EvalSamples, s.Sampling, s.EMADecay)
	}
	if got := DDIM50.Timesteps(1000); len(got) != 50 || got[0] != 0 || got[1] != 20 || got[49] != 980 {
		t.Errorf("DDIM-50 visits %v, BENCH.md: {0, 20, …, 980}", got)
	}
	for _, c := range []struct {
		change func(*Config)
		want   string
	}{
		{func(c *Config) { c.Schedule = "quadratic" }, "schedule"},
		{func(c *Config) { c.BetaEnd = 1 }, "beta_end"},
		{func(c *Config) { c.Groups = 3 }, "groups"},
		{func(c *Config) { c.Sampling.Steps = 2000 }, "steps"},
		{func(c *Config) { c.Sampling.Sampler = "euler" }, "sampler"},
		{func(c *Config) { c.Sampling.Eta = 2 }, "eta"},
		{func(c *Config) { c.EMADecay = 1 }, "ema_decay"},
	} {
		cfg := tiny()
		c.change(&cfg)
		if err := cfg.Check(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error naming %s", cfg, err, c.want)
		}
	}
}

// The schedules against their definitions, written out here: the linear one's ᾱ_t is the
// running product of 1 − β_t, β_t = 1e-4 + (0.02 − 1e-4)·t/999, and its ᾱ_999 is the
// 4.0358e-5 of Ho et al.'s code (√ᾱ = 0.00635); the cosine one's ᾱ_t is f(t+1)/f(0) wherever
// its β is not clipped — every step but the last, where f reaches 0 and β is clipped to 0.999.
func TestSchedules(t *testing.T) {
	const T = 1000
	lin := LinearSchedule(T, 1e-4, 0.02)
	prod := 1.0
	for s := range T {
		beta := 1e-4 + (0.02-1e-4)*float64(s)/(T-1)
		prod *= 1 - beta
		if !near(lin.Beta[s], beta, 1e-12) || !near(lin.AlphaBar[s], prod, 1e-12) {
			t.Fatalf("linear t=%d: β %g ᾱ %g, want %g and %g", s, lin.Beta[s], lin.AlphaBar[s], beta, prod)
		}
	}
	if !(math.Abs(lin.AlphaBar[T-1]-4.0358e-5) < 1e-8) {
		t.Errorf("linear ᾱ_999 = %g, want 4.0358e-5", lin.AlphaBar[T-1])
	}
	cos := CosineSchedule(T)
	f := func(t float64) float64 { c := math.Cos((t/T + 0.008) / 1.008 * math.Pi / 2); return c * c }
	for s := range T - 1 {
		if want := f(float64(s+1)) / f(0); !(math.Abs(cos.AlphaBar[s]-want) <= 1e-12) {
			t.Fatalf("cosine ᾱ_%d = %.15g, want f(%d)/f(0) = %.15g", s, cos.AlphaBar[s], s+1, want)
		}
	}
	if cos.Beta[T-1] != 0.999 || !near(cos.AlphaBar[T-1], cos.AlphaBar[T-2]*0.001, 1e-12) {
		t.Errorf("cosine: β_999 = %g (want 0.999, clipped), ᾱ_999 = %g", cos.Beta[T-1], cos.AlphaBar[T-1])
	}
	for s := 1; s < T; s++ {
		if !(cos.AlphaBar[s] < cos.AlphaBar[s-1]) || !(lin.AlphaBar[s] < lin.AlphaBar[s-1]) {
			t.Fatalf("ᾱ does not decrease at t=%d", s)
		}
	}
	c := tiny()
	c.Timesteps, c.Schedule = T, "cosine"
	if got := c.NoiseSchedule(); !reflect.DeepEqual(got, cos) {
		t.Error("schedule=cosine does not give CosineSchedule")
	}
}

// randomImages returns n values uniform in [−1, 1] and n standard normal values per image, for
// b images, seeded.
func randomImages(seed uint64, b int) (x0, eps []float32) {
	r := rand.New(rand.NewPCG(seed, 1))
	x0, eps = make([]float32, b*imageSize), make([]float32, b*imageSize)
	for i := range x0 {
		x0[i], eps[i] = float32(2*r.Float64()-1), float32(r.NormFloat64())
	}
	return x0, eps
}

// TestEpsLossMatchesIndependentComputation: the ε-loss of the graph equals the simplified
// objective computed here from the same x_0, ε and t — x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε with ᾱ_t the
// product written out, ε̂ = the U-Net on that x_t, then the mean of (ε − ε̂)² per image.
func TestEpsLossMatchesIndependentComputation(t *testing.T) {
	b := traintest.GoBackend(t)
	m := newModel(t, b, tiny())
	const batch = 3
	x0, eps := randomImages(1, batch)
	ts := []int32{0, 7, 19}
	lossExec, err := train.NewEvalExec(b, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{m.epsErrors(m.net(scope, false), in[0], in[1], in[2])}
	})
	if err != nil {
		t.Fatal(err)
	}
	netExec, err := train.NewEvalExec(b, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{m.epsilon(m.net(scope, false), in[0], in[1])}
	})
	if err != nil {
		t.Fatal(err)
	}
	tensor := func(v []float32) *tensors.Tensor { return tensors.FromFlatDataAndDimensions(v, batch, 28, 28, 1) }
	out, err := lossExec.Call(tensor(x0), tensor(eps), ts)
	if err != nil {
		t.Fatal(err)
	}
	got := tensors.MustCopyFlatData[float32](out[0])

	xt := make([]float32, len(x0))
	for i, step := range ts {
		alphaBar := 1.0
		for s := 0; s <= int(step); s++ {
			alphaBar *= 1 - (1e-4 + (0.02-1e-4)*float64(s)/19)
		}
		for j := i * imageSize; j < (i+1)*imageSize; j++ {
			xt[j] = float32(math.Sqrt(alphaBar)*float64(x0[j]) + math.Sqrt(1-alphaBar)*float64(eps[j]))
		}
	}
	res, err := netExec.Call(tensor(xt), ts)
	if err != nil {
		t.Fatal(err)
	}
	epsHat := tensors.MustCopyFlatData[float32](res[0])
	for i := range batch {
		var want float64
		for j := i * imageSize; j < (i+1)*imageSize; j++ {
			d := float64(eps[j] - epsHat[j])
			want += d * d / imageSize
		}
		if !near(float64(got[i]), want, 1e-5) {
			t.Errorf("image %d (t = %d): ε-loss %v, computed here %v", i, ts[i], got[i], want)
		}
	}
}

// The step coefficients against the updates written out: DDPM's Algorithm 2, DDIM's eq. 12
// with σ of eq. 16 (η = 0.5), and DDIM at η = 1 between consecutive steps, whose σ² is DDPM's
// posterior variance β̃_t = (1−ᾱ_{t−1})/(1−ᾱ_t)·β_t.
func TestStepCoefficients(t *testing.T) {
	s := LinearSchedule(1000, 1e-4, 0.02)
	const x, eps, z = 0.7, -1.3, 0.4
	apply := func(c StepCoefficients) float64 { return c.A*x + c.B*eps + c.C*z }
	for _, step := range []int{999, 500, 1} {
		ab, beta := s.AlphaBar[step], s.Beta[step]
		want := (x-beta/math.Sqrt(1-ab)*eps)/math.Sqrt(1-beta) + math.Sqrt(beta)*z
		if got := apply(s.ddpmStep(step)); !near(got, want, 1e-12) {
			t.Errorf("DDPM step t=%d: %v, Algorithm 2 gives %v", step, got, want)
		}
	}
	if c := s.ddpmStep(0); c.C != 0 {
		t.Errorf("DDPM's last step adds noise σ = %g", c.C)
	}
	for _, c := range []struct{ t, prev int }{{980, 960}, {500, 300}, {20, 0}, {0, -1}} {
		ab, abPrev := s.AlphaBar[c.t], 1.0
		if c.prev >= 0 {
			abPrev = s.AlphaBar[c.prev]
		}
		const eta = 0.5
		sigma := eta * math.Sqrt((1-abPrev)/(1-ab)) * math.Sqrt(1-ab/abPrev)
		x0 := (x - math.Sqrt(1-ab)*eps) / math.Sqrt(ab)
		want := math.Sqrt(abPrev)*x0 + math.Sqrt(1-abPrev-sigma*sigma)*eps + sigma*z
		if got := apply(s.ddimStep(c.t, c.prev, eta)); !near(got, want, 1e-12) {
			t.Errorf("DDIM %d → %d: %v, eq. 12 gives %v", c.t, c.prev, got, want)
		}
	}
	for _, step := range []int{999, 10} {
		posterior := (1 - s.AlphaBar[step-1]) / (1 - s.AlphaBar[step]) * s.Beta[step]
		if got := s.ddimStep(step, step-1, 1).C; !near(got*got, posterior, 1e-12) {
			t.Errorf("DDIM η=1 at t=%d: σ² = %g, β̃_t = %g", step, got*got, posterior)
		}
	}
}

// newReverseStep compiles ReverseStep with a stand-in for the network: ε̂ is an input.
func newReverseStep(t *testing.T) *train.Exec {
	e, err := train.NewEvalExec(traintest.GoBackend(t), model.NewStore(), nil, func(_ *model.Scope, in []*graph.Node) []*graph.Node {
		next, x0 := ReverseStep(in[0], in[1], in[2], in[3])
		return []*graph.Node{next, x0}
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// TestDDIMWithExactNoiseRecoversX0: with η = 0 and the exact ε (the stand-in ε̂ = the ε that
// made x_t), every DDIM jump lands on q's x_{τ'} = √ᾱ_{τ'}·x_0 + √(1−ᾱ_{τ'})·ε for the same x_0
// and ε, so DDIM-50 run from x_980 ends on x_0, and each step's x̂_0 is x_0 — with and without
// clipping (an exact x̂_0 is in [−1, 1]). A wrong ε̂ that pushes x̂_0 outside [−1, 1] is clipped.
func TestDDIMWithExactNoiseRecoversX0(t *testing.T) {
	const batch = 2
	step := newReverseStep(t)
	s := LinearSchedule(1000, 1e-4, 0.02)
	x0, eps := randomImages(2, batch)
	q := func(ab float64) []float32 {
		out := make([]float32, len(x0))
		for i := range out {
			out[i] = float32(math.Sqrt(ab)*float64(x0[i]) + math.Sqrt(1-ab)*float64(eps[i]))
		}
		return out
	}
	tensor := func(v []float32) *tensors.Tensor { return tensors.FromFlatDataAndDimensions(v, batch, 28, 28, 1) }
	zeros := make([]float32, len(x0))
	maxDiff := func(a, b []float32) float64 {
		d := 0.0
		for i := range a {
			d = math.Max(d, math.Abs(float64(a[i]-b[i])))
		}
		return d
	}
	for _, clip := range []bool{false, true} {
		sampler := Sampling{Sampler: "ddim", Steps: 50, Clip: clip}
		ts := sampler.Timesteps(1000)
		x := q(s.AlphaBar[ts[49]])
		for k := 49; k >= 0; k-- {
			out, err := step.Call(tensor(x), tensor(eps), tensor(zeros), sampler.Coefficients(s, ts, k).Vector(clip))
			if err != nil {
				t.Fatal(err)
			}
			x = tensors.MustCopyFlatData[float32](out[0])
			want := x0
			if k > 0 {
				want = q(s.AlphaBar[ts[k-1]])
			}
			if d := maxDiff(x, want); !(d < 2e-4) {
				t.Fatalf("clip %v, step from t=%d: max |x − q's x| = %g", clip, ts[k], d)
			}
			if d := maxDiff(tensors.MustCopyFlatData[float32](out[1]), x0); !(d < 2e-4) {
				t.Fatalf("clip %v, step from t=%d: max |x̂_0 − x_0| = %g", clip, ts[k], d)
			}
		}
	}
	// ε̂ = −3·ε at t = 500 puts x̂_0 far outside [−1, 1]: clipped, and the step uses the noise
	// that agrees with the clipped x̂_0.
	ab := s.AlphaBar[500]
	wrong := make([]float32, len(eps))
	for i := range wrong {
		wrong[i] = -3 * eps[i]
	}
	c := s.ddimStep(500, 480, 0)
	out, err := step.Call(tensor(q(ab)), tensor(wrong), tensor(zeros), c.Vector(true))
	if err != nil {
		t.Fatal(err)
	}
	xt, next, x0Hat := q(ab), tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
	for i := range x0Hat {
		raw := (float64(xt[i]) - math.Sqrt(1-ab)*float64(wrong[i])) / math.Sqrt(ab)
		clipped := math.Min(1, math.Max(-1, raw))
		consistent := (float64(xt[i]) - math.Sqrt(ab)*clipped) / math.Sqrt(1-ab)
		if !near(float64(x0Hat[i]), clipped, 1e-5) || !near(float64(next[i]), c.A*float64(xt[i])+c.B*consistent, 1e-4) {
			t.Fatalf("value %d: x̂_0 %v (clipped %v), next %v (want %v)", i, x0Hat[i], clipped, next[i], c.A*float64(xt[i])+c.B*consistent)
		}
	}
}

// The training step's time steps are uniform on {0, …, T−1}: 20,000 draws for T = 20 hit every
// step about 1000 times (within 5 standard deviations) and never T.
func TestUniformTimesteps(t *testing.T) {
	const n, T = 20000, 20
	e, err := train.NewEvalExec(traintest.GoBackend(t), nntest.SeededStore(t), nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{UniformTimesteps(scope, in[0].Graph(), n, T)}
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Call(float32(0))
	if err != nil {
		t.Fatal(err)
	}
	counts := make([]int, T+1)
	for _, s := range tensors.MustCopyFlatData[int32](out[0]) {
		counts[min(max(int(s), 0), T)]++
	}
	sd := math.Sqrt(n * (1.0 / T) * (1 - 1.0/T))
	for s, c := range counts {
		if want := float64(n) / T * float64(min(1, T-s)); !(math.Abs(float64(c)-want) <= 5*sd) {
			t.Errorf("t = %d drawn %d times of %d, want %.0f ± %.0f", s, c, n, want, 5*sd)
		}
	}
}

// TestForwardNoisingMoments: Noised's x_t has mean √ᾱ_t·x_0 and variance 1 − ᾱ_t (eq. 4),
// measured over 64 draws of each of the 784 pixels of one test image at t = 0, 250, 999 of the
// linear schedule (within 5 standard errors).
func TestForwardNoisingMoments(t *testing.T) {
	cfg := tiny()
	cfg.Timesteps = 1000
	m := newModel(t, traintest.GoBackend(t), cfg)
	const draws = 64
	idx := make([]int, draws)
	ts := []int{0, 250, 999}
	out, err := m.Noised(m.test, idx, ts, 3)
	if err != nil {
		t.Fatal(err)
	}
	x0 := tensors.MustCopyFlatData[float32](m.test.Float32([]int{0}, -1, 1))
	for j, step := range ts {
		ab := m.schedule.AlphaBar[step]
		var sum, sq float64
		for i := range draws {
			for p, v := range out[i][j] {
				d := float64(v) - math.Sqrt(ab)*float64(x0[p])
				sum += d
				sq += d * d
			}
		}
		n := float64(draws * imageSize)
		mean, variance := sum/n, sq/n
		if se := math.Sqrt((1 - ab) / n); !(math.Abs(mean) < 5*se) || !(math.Abs(variance-(1-ab)) < 5*math.Sqrt(2/n)*(1-ab)) {
			t.Errorf("t=%d: x_t − √ᾱ·x_0 has mean %.5f (want 0 ± %.5f) and variance %.5f (want %.5f)", step, mean, 5*se, variance, 1-ab)
		}
	}
	if _, err := m.Noised(m.test, idx, []int{1000}, 3); err == nil {
		t.Error("t = T accepted")
	}
}

// The samplers end to end on the tiny model: they read the EMA weights; n images whatever the
// sample batch (the last call padded), the same images for the same seed whatever n (each
// image has its own noise), DDPM and DDIM (η = 1) too, all through one build of the denoising
// graph; SetSampling changes the sampler and rejects an unknown field by name and an
// impossible number of steps.
func TestSamplers(t *testing.T) {
	b := traintest.GoBackend(t)
	m := newModel(t, b, tiny())
	if _, err := m.Step(0); err != nil {
		t.Fatal(err)
	}
	count := func(prefix string) int {
		n := 0
		for v := range m.store.IterVariables() {
			if strings.HasPrefix(v.Path(), prefix) {
				n++
			}
		}
		return n
	}
	vars, net := count("/"), count("/"+NetScope+"/")
	eleven, err := m.Samples(11, 5)
	if err != nil {
		t.Fatal(err)
	}
	three, err := m.Samples(3, 5)
	if err != nil {
		t.Fatal(err)
	}
	if eleven.N != 11 || len(eleven.Pixels) != 11*imageSize || !reflect.DeepEqual(three.Pixels, eleven.Pixels[:3*imageSize]) {
		t.Errorf("Samples(11): %d images; the first 3 equal Samples(3): %v", eleven.N, reflect.DeepEqual(three.Pixels, eleven.Pixels[:3*imageSize]))
	}
	// The sampler reads the EMA copy of every weight that training made: it creates none.
	if ema := count("/" + EMAScope + "/" + NetScope + "/"); ema != net || count("/") != vars {
		t.Errorf("%d U-Net weights, %d EMA copies; %d variables before sampling, %d after", net, ema, vars, count("/"))
	}
	for _, opts := range []string{`{"sampler": "ddpm"}`, `{"sampler": "ddim", "steps": 3, "eta": 1}`} {
		if err := m.SetSampling(json.RawMessage(opts)); err != nil {
			t.Fatal(err)
		}
		im, err := m.Samples(2, 5)
		if err != nil || im.N != 2 {
			t.Fatalf("%s: %v", opts, err)
		}
	}
	if m.denoiseBuilds != 1 {
		t.Errorf("the denoising graph was built %d times for DDIM-4, DDPM-20 and DDIM-3, want once", m.denoiseBuilds)
	}
	if s := m.Sampler(); s != (Sampling{Sampler: "ddim", Steps: 3, Eta: 1, Clip: true}) {
		t.Errorf("sampling after SetSampling: %+v", s)
	}
	if err := m.SetSampling(json.RawMessage(`{"bogus": 1}`)); err == nil || !strings.Contains(err.Error(), `"bogus"`) {
		t.Errorf("unknown field: %v", err)
	}
	if err := m.SetSampling(json.RawMessage(`{"steps": 21}`)); err == nil || m.Sampler().Steps != 3 {
		t.Errorf("21 DDIM steps of a 20-step model: %v (sampling now %+v)", err, m.Sampler())
	}
}

// TestTrajectory: the frames of DDIM-4 (η = 0, no clipping) on the tiny model start from the
// image's own noise, N(0, I) from its PCG stream; each step goes from x_t to
// √ᾱ_{t'}·x̂_0 + √(1−ᾱ_{t'})·ε̂ with ε̂ = (x_t − √ᾱ_t·x̂_0)/√(1−ᾱ_t), the next frame's x (eq. 12
// at η = 0, through the network's own x̂_0); and the last step's result is what Generate gives.
func TestTrajectory(t *testing.T) {
	b := traintest.GoBackend(t)
	cfg := tiny()
	cfg.SampleBatch = 2 // three images: two calls
	m := newModel(t, b, cfg)
	if _, err := m.Step(0); err != nil {
		t.Fatal(err)
	}
	s := Sampling{Sampler: "ddim", Steps: 4}
	const n, seed = 3, 9
	frames, final, err := m.Trajectory(s, n, seed, []int{0, 1, 2, 3})
	if err != nil {
		t.Fatal(err)
	}
	ts := s.Timesteps(m.Timesteps)
	for i := range n {
		r := rand.New(rand.NewPCG(seed, noiseStream+uint64(i)))
		for p, v := range frames[0].X[i] {
			if v != float32(r.NormFloat64()) {
				t.Fatalf("image %d, pixel %d: x_T %v is not its own noise", i, p, v)
			}
		}
	}
	for k, f := range frames {
		if f.Step != k || f.T != ts[3-k] {
			t.Errorf("frame %d: step %d, t %d; want t = %d", k, f.Step, f.T, ts[3-k])
		}
		abPrev := 1.0
		if k < 3 {
			abPrev = m.schedule.AlphaBar[frames[k+1].T]
		}
		ab := m.schedule.AlphaBar[f.T]
		for i := range n {
			next := final[i]
			if k < 3 {
				next = frames[k+1].X[i]
			}
			for p := range next {
				x, x0 := float64(f.X[i][p]), float64(f.X0[i][p])
				epsHat := (x - math.Sqrt(ab)*x0) / math.Sqrt(1-ab)
				if want := math.Sqrt(abPrev)*x0 + math.Sqrt(1-abPrev)*epsHat; !near(float64(next[p]), want, 1e-4) {
					t.Fatalf("frame %d, image %d, pixel %d: next x %v, want %v", k, i, p, next[p], want)
				}
			}
		}
	}
	im, err := m.Generate(s, n, seed)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(im.Pixels, Images(final).Pixels) {
		t.Error("the trajectory's final images differ from Generate's")
	}
	if _, _, err := m.Trajectory(s, n, seed, []int{4}); err == nil {
		t.Error("step 4 of DDIM-4 accepted")
	}
}

// Adam's state, the EMA and the RNG state must be in the store for this to hold.
func TestResumeMatchesUninterrupted(t *testing.T) {
	b := traintest.GoBackend(t)
	traintest.ResumeMatchesUninterrupted(t, func() train.Task { return newModel(t, b, tiny()) }, 6, 3, 100, "test_loss")
}

// The network gives the same ε̂ — hence the same denoising step and x̂_0 — and the same ε-loss
// on the go backend (im2col convolutions) and on xla:cpu (its own), on fixed inputs.
func TestAgreesAcrossBackends(t *testing.T) {
	traintest.AgreesAcrossBackends(t, func(b compute.Backend) train.Task { return newModel(t, b, tiny()) },
		func(task train.Task) ([]float64, error) {
			m := task.(*Model)
			x := make([]float32, m.SampleBatch*imageSize)
			for i := range x {
				x[i] = float32(math.Sin(float64(i)))
			}
			xt := tensors.FromFlatDataAndDimensions(x, m.SampleBatch, 28, 28, 1)
			c := m.schedule.ddimStep(12, 7, 0)
			res, err := m.denoise.Call(xt, tensors.FromFlatDataAndDimensions(make([]float32, len(x)), m.SampleBatch, 28, 28, 1), int32(12), c.Vector(false))
			if err != nil {
				return nil, err
			}
			loss, err := m.TestLoss()
			return append(traintest.Floats(res), loss), err
		}, 1e-4)
}

// TestRunFolderRoundTrip: a run trained into a folder, loaded and evaluated again gives the
// same metrics (the kit's contract, lib/train/traintest), the image metrics and test_loss.
func TestRunFolderRoundTrip(t *testing.T) {
	traintest.RunFolderRoundTrip(t, "diffusion", traintest.GoBackend(t), tiny(), 4, 10)
}

// TestCIProfileLearns trains the ci profile on the default backend and checks that its ε-loss
// on held-out images (TestLoss, the EMA weights) falls well below what a network that learned
// no shapes can score: 1 for ε̂ = 0, and about 0.122 for the best linear denoiser of each pixel
// alone that knows the pixel's mean and variance over the training set (pixelWienerLoss; low
// because x_t is almost ε itself at most t). ci reaches 0.082 (xla:cpu, seed 42); it must beat
// 0.8 × the per-pixel denoiser.
func TestCIProfileLearns(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the ci profile")
	}
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	m, err := New(family.Options{Backend: b, Profile: "ci", Seed: backend.DefaultSeed})
	if err != nil {
		t.Fatal(err)
	}
	res, err := train.Run(context.Background(), m, train.Config{Steps: m.Steps, Seed: backend.DefaultSeed, Progress: train.SilentProgress()})
	if err != nil {
		t.Fatal(err)
	}
	loss, ok := res.Eval.Get("test_loss")
	if !ok {
		t.Fatal("no test_loss in the evaluation")
	}
	wiener := pixelWienerLoss(m)
	t.Logf("ci after %d steps: test ε-loss %.4f; per-pixel Wiener denoiser %.4f; ε̂ = 0: 1", m.Steps, loss, wiener)
	if !(loss < 0.8*wiener) {
		t.Errorf("ci test ε-loss %.4f, want < 0.8 × the per-pixel Wiener denoiser's %.4f", loss, wiener)
	}
}

// pixelWienerLoss is the expected ε-loss, over t uniform on 0…T−1, of the best linear denoiser
// of each pixel alone, knowing its mean μ and variance v over the training set: with
// x_t = √ᾱ·x_0 + √(1−ᾱ)·ε, ε̂ = √(1−ᾱ)·(x_t − √ᾱ·μ)/(ᾱ·v + 1 − ᾱ), whose mean squared error is
// ᾱ·v/(ᾱ·v + 1 − ᾱ) per pixel.
func pixelWienerLoss(m *Model) float64 {
	x := tensors.MustCopyFlatData[float32](m.train.Float32(nil, -1, 1))
	mean, sq := make([]float64, imageSize), make([]float64, imageSize)
	for i, v := range x {
		mean[i%imageSize] += float64(v)
		sq[i%imageSize] += float64(v) * float64(v)
	}
	n := float64(m.train.N)
	var loss float64
	for _, ab := range m.schedule.AlphaBar {
		for p := range mean {
			v := sq[p]/n - (mean[p]/n)*(mean[p]/n)
			loss += ab * v / (ab*v + 1 - ab)
		}
	}
	return loss / float64(imageSize*len(m.schedule.AlphaBar))
}

// v-prediction: the target v = √ᾱ_t·ε − √(1−ᾱ_t)·x_0 given as the network's output turns back
// into exactly ε at x_t (EpsilonFrom), for any x_0, ε and t; "eps" passes both through.
func TestVPredictionRoundTrip(t *testing.T) {
	b := traintest.GoBackend(t)
	s := LinearSchedule(20, 1e-4, 0.2)
	sqrtAB, sqrtOneMinusAB := s.SqrtTables()
	const batch = 3
	x0, eps := randomImages(2, batch)
	ts := []int32{0, 9, 19}
	for _, p := range []string{"v", "eps"} {
		exec, err := train.NewEvalExec(b, model.NewStore(), nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			x0, eps, t := in[0], in[1], in[2]
			target := s.Target(p, x0, eps, t)
			return []*graph.Node{target, EpsilonFrom(p, target, s.Noised(x0, eps, t), Coefficient(sqrtAB, t), Coefficient(sqrtOneMinusAB, t))}
		})
		if err != nil {
			t.Fatal(err)
		}
		tensor := func(v []float32) *tensors.Tensor { return tensors.FromFlatDataAndDimensions(v, batch, 28, 28, 1) }
		out, err := exec.Call(tensor(x0), tensor(eps), ts)
		if err != nil {
			t.Fatal(err)
		}
		target, back := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
		for i := range eps {
			img := i / (28 * 28)
			ab := s.AlphaBar[ts[img]]
			want := float32(eps[i])
			if p == "v" {
				want = float32(math.Sqrt(ab)*float64(eps[i]) - math.Sqrt(1-ab)*float64(x0[i]))
			}
			if math.Abs(float64(target[i]-want)) > 1e-5 || math.Abs(float64(back[i]-eps[i])) > 1e-5 {
				t.Fatalf("%s: value %d (t = %d): target %g, want %g; ε back %g, want %g", p, i, ts[img], target[i], want, back[i], eps[i])
			}
		}
	}
}

// A v-predicting model trains and resumes to the same weights and ε test loss, and its
// configuration rejects an unknown prediction.
func TestVPredictionTrains(t *testing.T) {
	cfg := tiny()
	cfg.Prediction = "v"
	traintest.ResumeMatchesUninterrupted(t, func() train.Task { return newModel(t, traintest.GoBackend(t), cfg) }, 6, 3, 100, "test_loss")
	cfg.Prediction = "x0"
	if cfg.Check() == nil {
		t.Error("prediction x0 accepted")
	}
}

// TestMinSNRLoss: with min_snr_gamma the training loss of either prediction equals
// min(SNR_t, γ)·‖x_0 − x̂_0‖² averaged over the batch, computed here from the network's ε̂
// (x̂_0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t, SNR_t = ᾱ_t/(1 − ᾱ_t)); γ = 10 clips t = 0 and 7 of the
// tiny schedule (SNR > γ) and leaves t = 19.
func TestMinSNRLoss(t *testing.T) {
	b := traintest.GoBackend(t)
	const batch, gamma = 3, 10.0
	x0, eps := randomImages(3, batch)
	ts := []int32{0, 7, 19}
	tensor := func(v []float32) *tensors.Tensor { return tensors.FromFlatDataAndDimensions(v, batch, 28, 28, 1) }
	for _, p := range []string{"eps", "v"} {
		cfg := tiny()
		cfg.Prediction, cfg.MinSNRGamma = p, gamma
		m := newModel(t, b, cfg)
		var out [2]*tensors.Tensor
		for k, f := range []func(*model.Scope, []*graph.Node) *graph.Node{
			func(net *model.Scope, in []*graph.Node) *graph.Node { return m.loss(net, in[0], in[1], in[2]) },
			func(net *model.Scope, in []*graph.Node) *graph.Node {
				return m.epsilon(net, m.noised(in[0], in[1], in[2]), in[2])
			},
		} {
			exec, err := train.NewEvalExec(b, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
				return []*graph.Node{f(m.net(scope, false), in)}
			})
			if err != nil {
				t.Fatal(err)
			}
			res, err := exec.Call(tensor(x0), tensor(eps), ts)
			if err != nil {
				t.Fatal(err)
			}
			out[k] = res[0]
		}
		got, epsHat := tensors.ToScalar[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
		var want float64
		clipped := 0
		for i, step := range ts {
			ab := m.schedule.AlphaBar[step]
			snr := ab / (1 - ab)
			if snr > gamma {
				clipped++
			}
			for j := i * imageSize; j < (i+1)*imageSize; j++ {
				xt := math.Sqrt(ab)*float64(x0[j]) + math.Sqrt(1-ab)*float64(eps[j])
				d := (xt-math.Sqrt(1-ab)*float64(epsHat[j]))/math.Sqrt(ab) - float64(x0[j])
				want += min(snr, gamma) * d * d / (batch * imageSize)
			}
		}
		if clipped != 2 {
			t.Fatalf("%s: γ clips %d of the time steps, want 2 (the test's premise)", p, clipped)
		}
		if !near(float64(got), want, 1e-4) {
			t.Errorf("%s: Min-SNR loss %v, computed here %v", p, got, want)
		}
	}
	cfg := tiny()
	cfg.MinSNRGamma = -1
	if cfg.Check() == nil {
		t.Error("min_snr_gamma −1 accepted")
	}
}

// The learning rate decays to MinLRFraction at the last step (over the last Cooldown steps
// when set), and an unknown decay is refused.
func TestLearningRateDecay(t *testing.T) {
	cfg := tiny()
	cfg.Warmup, cfg.Steps, cfg.Decay, cfg.MinLRFraction = 2, 10, "cosine", 0.1
	s := cfg.learningRate()
	if got := s.At(1); !near(got, cfg.LearningRate, 1e-12) {
		t.Errorf("end of the warm-up: lr %g, want %g", got, cfg.LearningRate)
	}
	if got := s.At(cfg.Steps); !near(got, 0.1*cfg.LearningRate, 1e-12) {
		t.Errorf("last step: lr %g, want %g", got, 0.1*cfg.LearningRate)
	}
	cfg.Decay, cfg.Cooldown = "linear", 4
	s = cfg.learningRate()
	if got := s.At(cfg.Steps - cfg.Cooldown); !near(got, cfg.LearningRate, 1e-12) {
		t.Errorf("start of the cool-down: lr %g, want %g", got, cfg.LearningRate)
	}
	if got, want := s.At(cfg.Steps-1), cfg.LearningRate*(0.1+0.9*0.25); !near(got, want, 1e-12) {
		t.Errorf("last step but one of the cool-down: lr %g, want %g", got, want)
	}
	cfg.Decay = "step"
	if err := cfg.Check(); err == nil || !strings.Contains(err.Error(), "decay") {
		t.Errorf("decay \"step\": %v", err)
	}
}
