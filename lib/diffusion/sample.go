package diffusion

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/metrics"
	"github.com/iagen-course/iagen/lib/train"
)

// EvalSeed seeds the samples of every evaluation (imagegen.EvalSeed, the same for every family).
const EvalSeed = imagegen.EvalSeed

// PCG streams of the noise drawn on the host, each with the caller's seed.
const (
	noiseStream  = 0x64696666 << 32 // + i: image i of a sampler (x_T, then each step's z)
	lossStream   = 0x6c6f7373       // TestLoss's ε
	noisedStream = 0x6e6f6973       // Noised's ε
)

// imageSize is the number of values of one MNIST image.
const imageSize = 28 * 28

// StepCoefficients are one reverse step from x_t: x' = A·x_t + B·ε̂ + C·z, and √ᾱ_t, √(1−ᾱ_t),
// which give x̂_0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t.
type StepCoefficients struct {
	SqrtAlphaBar, SqrtOneMinusAlphaBar float64
	A, B, C                            float64
}

// alphaBar is ᾱ_t, and 1 for t = −1 (x_0 itself).
func (s NoiseSchedule) alphaBar(t int) float64 {
	if t < 0 {
		return 1
	}
	return s.AlphaBar[t]
}

// ddpmStep is step t of ancestral sampling (Ho et al. 2020, Algorithm 2) with σ_t² = β_t:
// x_{t−1} = (x_t − β_t/√(1−ᾱ_t)·ε̂)/√α_t + σ_t·z, without noise at t = 0.
func (s NoiseSchedule) ddpmStep(t int) StepCoefficients {
	ab, beta := s.AlphaBar[t], s.Beta[t]
	c := StepCoefficients{SqrtAlphaBar: math.Sqrt(ab), SqrtOneMinusAlphaBar: math.Sqrt(1 - ab),
		A: 1 / math.Sqrt(1-beta), B: -beta / (math.Sqrt(1-beta) * math.Sqrt(1-ab))}
	if t > 0 {
		c.C = math.Sqrt(beta)
	}
	return c
}

// ddimStep is DDIM's jump from t to prev < t (−1: to x_0) with η = eta (Song et al. 2021,
// eq. 12 and 16): x_prev = √ᾱ_prev·x̂_0 + √(1 − ᾱ_prev − σ²)·ε̂ + σ·z, x̂_0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t,
// σ = η·√((1−ᾱ_prev)/(1−ᾱ_t))·√(1 − ᾱ_t/ᾱ_prev).
func (s NoiseSchedule) ddimStep(t, prev int, eta float64) StepCoefficients {
	ab, abPrev := s.AlphaBar[t], s.alphaBar(prev)
	sigma := eta * math.Sqrt((1-abPrev)/(1-ab)*(1-ab/abPrev))
	direction := math.Sqrt(max(0, 1-abPrev-sigma*sigma))
	scale := math.Sqrt(abPrev / ab) // x̂_0's weight in x_prev, over √ᾱ_t
	return StepCoefficients{SqrtAlphaBar: math.Sqrt(ab), SqrtOneMinusAlphaBar: math.Sqrt(1 - ab),
		A: scale, B: direction - scale*math.Sqrt(1-ab), C: sigma}
}

// Timesteps returns the time steps that s visits in a model of T steps, in increasing order:
// DDIM's τ_i = ⌊i·T/S⌋, i = 0…S−1 (BENCH.md: {0, 20, …, 980} for S = 50), or every step for DDPM.
func (s Sampling) Timesteps(T int) []int {
	n := T
	if s.Sampler == "ddim" {
		n = s.Steps
	}
	ts := make([]int, n)
	for i := range ts {
		ts[i] = i * T / n
	}
	return ts
}

// coefficients of the step from ts[k] to ts[k−1] (to x_0 from ts[0]).
func (s Sampling) Coefficients(schedule NoiseSchedule, ts []int, k int) StepCoefficients {
	if s.Sampler == "ddpm" {
		return schedule.ddpmStep(ts[k])
	}
	prev := -1
	if k > 0 {
		prev = ts[k-1]
	}
	return schedule.ddimStep(ts[k], prev, s.Eta)
}

// vector is the coefficient input of the denoising step: (√ᾱ_t, √(1−ᾱ_t), A, B, C, clip),
// clip 1 or 0.
func (c StepCoefficients) Vector(clip bool) []float32 {
	v := []float32{float32(c.SqrtAlphaBar), float32(c.SqrtOneMinusAlphaBar), float32(c.A), float32(c.B), float32(c.C), 0}
	if clip {
		v[5] = 1
	}
	return v
}

// ReverseStep is one sampler step in the graph: from x_t, ε̂ = ε_θ(x_t, t) and z (all
// [B, 28, 28, 1]) and the step's coefficient vector coef [6] (StepCoefficients.Vector), it
// returns the next x = A·x_t + B·ε̃ + C·z and x̂_0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t. Without clipping
// ε̃ = ε̂; with it, x̂_0 is clipped to [−1, 1] and ε̃ = (x_t − √ᾱ_t·x̂_0)/√(1−ᾱ_t) is the noise
// that agrees with the clipped x̂_0 (so that DDPM's step is the posterior mean
// μ̃_t(x_t, x̂_0) of Ho et al.'s eq. 7 at the clipped x̂_0, as in their code).
func ReverseStep(x, epsHat, z, coef *graph.Node) (next, x0 *graph.Node) {
	c := func(i int) *graph.Node { return graph.Reshape(graph.Slice(coef, graph.AxisElem(i)), 1, 1, 1, 1) }
	sqrtAB, sqrtOneMinusAB, a, b, sigma, clip := c(0), c(1), c(2), c(3), c(4), c(5)
	x0 = graph.Div(graph.Sub(x, graph.Mul(sqrtOneMinusAB, epsHat)), sqrtAB)
	clipped := graph.ClipScalar(x0, -1, 1)
	consistent := graph.Div(graph.Sub(x, graph.Mul(sqrtAB, clipped)), sqrtOneMinusAB)
	doClip := graph.BroadcastToShape(graph.GreaterThan(clip, graph.ZerosLike(clip)), x.Shape())
	x0 = graph.Where(doClip, clipped, x0)
	eps := graph.Where(doClip, consistent, epsHat)
	next = graph.Add(graph.Add(graph.Mul(a, x), graph.Mul(b, eps)), graph.Mul(sigma, z))
	return next, x0
}

// newDenoiseExec compiles the denoising step of every sampler: inputs x_t [SampleBatch, 28, 28,
// 1], z (same shape), t (int32 scalar) and the coefficients [6] (StepCoefficients.Vector);
// outputs the next x and x̂_0. One graph for every step: only its inputs change.
func (m *Model) newDenoiseExec() (*train.Exec, error) {
	return train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		m.denoiseBuilds++
		x, z, t, coef := in[0], in[1], in[2], in[3]
		epsHat := m.epsilon(m.net(scope, true), x, graph.BroadcastToDims(t, x.Shape().Dimensions[0]))
		m.freezeEMA()
		next, x0 := ReverseStep(x, epsHat, z, coef)
		return []*graph.Node{next, x0}
	})
}

// FrameVisitor receives, at step k of a sampler (k = 0 first), the chunk of items that starts
// at item start: its x_t (the step's input, values for the whole padded chunk) and x̂_0.
type FrameVisitor func(k, start int, x, x0 []float32)

// DenoiseFunc is one compiled denoising step on the chunk of items that starts at item start:
// from x_t and z ([batch, dims…]), the time step t and the coefficient vector
// (StepCoefficients.Vector), it returns the next x and x̂_0 (ReverseStep).
type DenoiseFunc func(start int, x, z *tensors.Tensor, t int32, coef []float32) ([]*tensors.Tensor, error)

// reverse runs sampler s on n images with the model's denoising step (Reverse).
func (m *Model) reverse(s Sampling, n int, seed uint64, visit FrameVisitor) ([]float32, error) {
	step := func(_ int, x, z *tensors.Tensor, t int32, coef []float32) ([]*tensors.Tensor, error) {
		return m.denoise.Call(x, z, t, coef)
	}
	return Reverse(s, m.schedule, step, []int{28, 28, 1}, m.SampleBatch, n, seed, visit)
}

// Reverse runs sampler s of schedule on n items of shape dims: x_T ~ N(0, I), then every step
// of s through step, batch items per call (the last call padded). Item i draws its noise from
// its own PCG stream (seed, noiseStream + i), so it does not depend on n or on batch. It
// returns the final values [n·Π dims]; visit, when not nil, sees every step.
func Reverse(s Sampling, schedule NoiseSchedule, step DenoiseFunc, dims []int, batch, n int, seed uint64, visit FrameVisitor) ([]float32, error) {
	T := len(schedule.Beta)
	if err := s.Check(T); err != nil {
		return nil, err
	}
	size := 1
	for _, d := range dims {
		size *= d
	}
	ts := s.Timesteps(T)
	out := make([]float32, 0, n*size)
	buf := make([]float32, batch*size)
	shape := append([]int{batch}, dims...)
	tensor := func(v []float32) *tensors.Tensor { return tensors.FromFlatDataAndDimensions(v, shape...) }
	zeros := tensor(make([]float32, batch*size))
	defer zeros.FinalizeAll()
	for start := 0; start < n; start += batch {
		valid := min(batch, n-start)
		noise := make([]*rand.Rand, valid)
		draw := func() *tensors.Tensor {
			clear(buf)
			for i, r := range noise {
				for j := range size {
					buf[i*size+j] = float32(r.NormFloat64())
				}
			}
			return tensor(buf)
		}
		for i := range noise {
			noise[i] = rand.New(rand.NewPCG(seed, noiseStream+uint64(start+i)))
		}
		x := draw()
		for k := len(ts) - 1; k >= 0; k-- {
			c := s.Coefficients(schedule, ts, k)
			z := zeros
			if c.C != 0 {
				z = draw()
			}
			res, err := step(start, x, z, int32(ts[k]), c.Vector(s.Clip))
			if err == nil && visit != nil {
				visit(len(ts)-1-k, start, tensors.MustCopyFlatData[float32](x), tensors.MustCopyFlatData[float32](res[1]))
			}
			x.FinalizeAll()
			if z != zeros {
				z.FinalizeAll()
			}
			if err != nil {
				return nil, fmt.Errorf("diffusion: %s step %d (t = %d): %w", s.Name(T), len(ts)-k, ts[k], err)
			}
			x = res[0]
			res[1].FinalizeAll()
		}
		values := tensors.MustCopyFlatData[float32](x)
		x.FinalizeAll()
		out = append(out, values[:valid*size]...)
	}
	return out, nil
}

// images turns n images of values in [−1, 1] into grey levels (imagegen.GreyLevel, clipping).
func images(values []float32, n int) *data.Images {
	im := &data.Images{Name: "samples", N: n, Height: 28, Width: 28, Channels: 1, NumClasses: 10,
		Pixels: make([]uint8, n*imageSize)}
	for i := range im.Pixels {
		im.Pixels[i] = imagegen.GreyLevel(values[i], -1, 1)
	}
	return im
}

// Generate draws n images with sampler s from noise seeded by seed (the sampling weights: the
// EMA when the configuration keeps one).
func (m *Model) Generate(s Sampling, n int, seed uint64) (*data.Images, error) {
	values, err := m.reverse(s, n, seed, nil)
	if err != nil {
		return nil, err
	}
	return images(values, n), nil
}

// Samples draws n images with the current sampler (Config.Sampling unless SetSampling changed
// it), seeded by seed: the model as an imagegen.Generator.
func (m *Model) Samples(n int, seed uint64) (*data.Images, error) {
	return m.Generate(m.sampling, n, seed)
}

// Sample writes a PNG grid of n samples to path; the run's seed picks them.
func (m *Model) Sample(n int, path string) error {
	return imagegen.WriteSamples(m, n, uint64(m.seed), path)
}

// SetSampling changes the sampler of Samples and Sample (family.SamplingOptions): a JSON object
// of Sampling's fields, e.g. {"sampler": "ddim", "steps": 50, "eta": 0}. Evaluations keep the
// configuration's sampler.
func (m *Model) SetSampling(options json.RawMessage) error {
	s, err := family.DecodeChecked(options, m.sampling, "diffusion sampling options", func(s Sampling) error { return s.Check(m.Timesteps) })
	if err == nil {
		m.sampling = s
	}
	return err
}

// Sampler returns the sampler of Samples and Sample.
func (m *Model) Sampler() Sampling { return m.sampling }

// generator is the model drawing with a given sampler (an imagegen.Generator).
type generator struct {
	m *Model
	s Sampling
}

func (g generator) Samples(n int, seed uint64) (*data.Images, error) {
	return g.m.Generate(g.s, n, seed)
}

// Report scores EvalSamples images of the configuration's sampler (noise seeded by EvalSeed)
// against as many training and test images, in the reference classifier's feature space
// (metrics.ImageReport).
func (m *Model) Report() (metrics.ImageReport, error) {
	return m.scorer.Report(generator{m, m.Config.Sampling}, m.EvalSamples)
}

// Evaluate returns Report as the metrics.json fields of every image family (fld,
// fld_real_baseline, kid, precision, recall, density, coverage, classes_covered, class_tv) and
// test_loss (TestLoss).
func (m *Model) Evaluate(int) (train.Metrics, error) {
	ms, err := m.scorer.Evaluate(generator{m, m.Config.Sampling}, m.EvalSamples)
	if err != nil {
		return nil, err
	}
	loss, err := m.TestLoss()
	if err != nil {
		return nil, err
	}
	return append(ms, train.Metric{Name: "test_loss", Value: loss}), nil
}

// TestLoss is L_simple of the sampling weights on the first EvalLossImages test images, image i
// with its noise ε drawn with EvalSeed and the time step t_i = ⌊(i + ½)·T/n⌋, spread evenly
// over 0…T−1: the same draw at every evaluation, so that the numbers compare along a run.
func (m *Model) TestLoss() (float64, error) {
	n, batch := min(m.EvalLossImages, m.test.N), m.SampleBatch
	r := rand.New(rand.NewPCG(EvalSeed, lossStream))
	var sum float64
	for start := 0; start < n; start += batch {
		valid := min(batch, n-start)
		idx, eps, ts := make([]int, batch), make([]float32, batch*imageSize), make([]int32, batch)
		for i := range valid {
			idx[i], ts[i] = start+i, int32((2*(start+i)+1)*m.Timesteps/(2*n))
			for j := range imageSize {
				eps[i*imageSize+j] = float32(r.NormFloat64())
			}
		}
		res, err := m.epsError.Call(m.test.Float32(idx, -1, 1), tensors.FromFlatDataAndDimensions(eps, batch, 28, 28, 1), ts)
		if err != nil {
			return 0, fmt.Errorf("diffusion: test loss: %w", err)
		}
		for _, e := range tensors.MustCopyFlatData[float32](res[0])[:valid] {
			sum += float64(e)
		}
		res[0].FinalizeAll()
	}
	return sum / float64(n), nil
}

// Quality is the evaluation of one sampler (QualityVsSteps): its name ("DDIM-50", "DDPM-1000"),
// its steps (network evaluations per image), its speed (images per second of sampling alone)
// and the image metrics of its samples.
type Quality struct {
	Sampler          string  `json:"sampler"`
	Steps            int     `json:"steps"`
	SamplesPerSecond float64 `json:"samples_per_second"`
	metrics.ImageReport
}

// QualityVsSteps scores n samples (noise seeded by EvalSeed: the same starting noise for
// every sampler) of DDIM with each number of steps in steps (η and clipping as the
// configuration's sampler), and of ancestral DDPM with all T steps when ddpm is set: the
// quality-versus-steps curve of BENCH.md (compare with Song et al. 2021, Table 1).
func (m *Model) QualityVsSteps(n int, steps []int, ddpm bool) ([]Quality, error) {
	var samplers []Sampling
	for _, s := range steps {
		ddim := m.Config.Sampling
		ddim.Sampler, ddim.Steps = "ddim", s
		samplers = append(samplers, ddim)
	}
	if ddpm {
		samplers = append(samplers, Sampling{Sampler: "ddpm", Clip: m.Config.Sampling.Clip})
	}
	var out []Quality
	for _, s := range samplers {
		q, err := m.Quality(s, n)
		if err != nil {
			return nil, err
		}
		out = append(out, q)
	}
	return out, nil
}

// Quality scores n samples of sampler s, drawn from the noise of every evaluation (EvalSeed),
// and times the sampling alone (the denoising step compiled beforehand).
func (m *Model) Quality(s Sampling, n int) (Quality, error) {
	if err := s.Check(m.Timesteps); err != nil {
		return Quality{}, err
	}
	y, err := m.scorer.Yardstick(n)
	if err != nil {
		return Quality{}, err
	}
	if _, err := m.Generate(Sampling{Sampler: "ddim", Steps: 1}, 1, 0); err != nil { // compiles the step
		return Quality{}, err
	}
	t0 := time.Now()
	im, err := m.Generate(s, n, EvalSeed)
	if err != nil {
		return Quality{}, err
	}
	q := Quality{Sampler: s.Name(m.Timesteps), Steps: len(s.Timesteps(m.Timesteps)), SamplesPerSecond: float64(n) / time.Since(t0).Seconds()}
	q.ImageReport, err = y.Evaluate(im)
	return q, err
}

var _ family.Sampler = (*Model)(nil)
var _ family.SamplingOptions = (*Model)(nil)
var _ train.Evaluator = (*Model)(nil)
var _ imagegen.Generator = (*Model)(nil)
