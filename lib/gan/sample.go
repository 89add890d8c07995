package gan

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/iagen-course/iagen/lib/classifier"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/metrics"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/viz"
)

// graphBatch is the fixed number of latents of every sampling call (the last one is padded),
// so the sampling graph is compiled once.
const graphBatch = 500

// EvalSeed seeds the latents of every evaluation, so that evaluating a model twice gives the
// same numbers and evaluation never draws from the training RNG (a resumed run repeats an
// uninterrupted one however often it was evaluated).
const EvalSeed = 2014

// Latents returns n latent vectors z ~ N(0, I) drawn from a PCG generator seeded with seed.
func (m *Model) Latents(n int, seed uint64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, 0x6761))
	z := make([][]float32, n)
	for i := range z {
		z[i] = make([]float32, m.Latent)
		for j := range z[i] {
			z[i][j] = float32(r.NormFloat64())
		}
	}
	return z
}

// Generate maps latents z ([N][Latent]) to images with the sampling generator: the EMA of G
// when the configuration keeps one (live = false), G itself otherwise or when live is true.
// BatchNorm uses its running averages (inference mode).
func (m *Model) Generate(z [][]float32, live bool) (*data.Images, error) {
	exec := m.sampleExec
	if live {
		exec = m.sampleLiveExec
	}
	out := &data.Images{Name: "gan-samples", N: len(z), Height: 28, Width: 28, Channels: 1, NumClasses: 10,
		Pixels: make([]uint8, 0, len(z)*784)}
	flat := make([]float32, graphBatch*m.Latent)
	for start := 0; start < len(z); start += graphBatch {
		valid := min(graphBatch, len(z)-start)
		clear(flat)
		for i := range valid {
			if len(z[start+i]) != m.Latent {
				return nil, fmt.Errorf("gan: latent %d has %d dimensions, want %d", start+i, len(z[start+i]), m.Latent)
			}
			copy(flat[i*m.Latent:], z[start+i])
		}
		res, err := exec.Call(tensors.FromFlatDataAndDimensions(flat, graphBatch, m.Latent))
		if err != nil {
			return nil, fmt.Errorf("gan: generate: %w", err)
		}
		for _, p := range tensors.MustCopyFlatData[float32](res[0])[:valid*784] {
			// [-1, 1] → 0..255
			out.Pixels = append(out.Pixels, uint8(math.Round(float64(min(max((p+1)/2, 0), 1))*255)))
		}
	}
	return out, nil
}

// Samples draws n images from the sampling generator, with latents seeded by seed.
func (m *Model) Samples(n int, seed uint64) (*data.Images, error) {
	return m.Generate(m.Latents(n, seed), false)
}

// Sample writes a PNG grid of n samples to path; the run's seed picks them.
func (m *Model) Sample(n int, path string) error {
	im, err := m.Samples(n, uint64(m.seed))
	if err != nil {
		return err
	}
	idx := make([]int, im.N) // all of them (a nil index shows at most 64)
	for i := range idx {
		idx[i] = i
	}
	img, err := viz.Grid(im, idx, int(math.Ceil(math.Sqrt(float64(n)))), 2)
	if err != nil {
		return err
	}
	return viz.SavePNG(img, path)
}

// Interpolate returns, for each pair of latents (a_i, b_i) drawn with seed, steps images along
// the path between them — rows of the result, pairs × steps images in all. The path is
// spherical (slerp, White 2016, "Sampling Generative Networks"): in high dimension, N(0, I)
// puts almost all its mass near the sphere of radius √Latent, and the straight line between two
// latents passes through its sparsely-sampled interior, while slerp stays near the sphere.
func (m *Model) Interpolate(pairs, steps int, seed uint64) (*data.Images, error) {
	if pairs < 1 || steps < 2 {
		return nil, fmt.Errorf("gan: interpolate needs pairs ≥ 1 and steps ≥ 2, got %d and %d", pairs, steps)
	}
	ends := m.Latents(2*pairs, seed)
	var z [][]float32
	for p := range pairs {
		a, b := ends[2*p], ends[2*p+1]
		for s := range steps {
			z = append(z, Slerp(a, b, float64(s)/float64(steps-1)))
		}
	}
	return m.Generate(z, false)
}

// Slerp is the spherical interpolation between a and b at t ∈ [0, 1]:
// sin((1−t)Ω)/sin Ω · a + sin(tΩ)/sin Ω · b, Ω the angle between a and b (linear when they are
// almost parallel).
func Slerp(a, b []float32, t float64) []float32 {
	var dot, na, nb float64
	for i := range a {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	cos := dot / math.Sqrt(na*nb)
	omega := math.Acos(min(max(cos, -1), 1))
	wa, wb := 1-t, t
	if s := math.Sin(omega); s > 1e-6 {
		wa, wb = math.Sin((1-t)*omega)/s, math.Sin(t*omega)/s
	}
	out := make([]float32, len(a))
	for i := range a {
		out[i] = float32(wa*float64(a[i]) + wb*float64(b[i]))
	}
	return out
}

// Yardstick returns the reference-classifier yardstick of the model's profile (built once;
// the first call may train the reference classifier, see classifier.Reference).
func (m *Model) Yardstick(profile string) (*classifier.Yardstick, error) {
	if m.yardstick == nil {
		y, err := classifier.NewYardstick(m.backend, m.dataDir, profile, m.EvalSamples)
		if err != nil {
			return nil, err
		}
		m.yardstick = y
	}
	return m.yardstick, nil
}

// profile is the profile the yardstick is chosen for: the ci classifier for small
// evaluations, the ≥ 99% CNN otherwise.
func (m *Model) profile() string {
	if m.EvalSamples < 2000 {
		return "ci"
	}
	return "small"
}

// Report scores EvalSamples images of the sampling generator (latents seeded by EvalSeed)
// against as many training and test images, in the reference classifier's feature space, with
// the class histograms compared (metrics.ImageReport).
func (m *Model) Report() (metrics.ImageReport, error) {
	y, err := m.Yardstick(m.profile())
	if err != nil {
		return metrics.ImageReport{}, err
	}
	samples, err := m.Samples(m.EvalSamples, EvalSeed)
	if err != nil {
		return metrics.ImageReport{}, err
	}
	return y.Evaluate(samples)
}

// Evaluate returns Report as the metrics.json fields fld, fld_real_baseline, kid, precision,
// recall, density, coverage, classes_covered and class_tv (DESIGN.md §3, BENCH.md).
func (m *Model) Evaluate(int) (train.Metrics, error) {
	rep, err := m.Report()
	if err != nil {
		return nil, err
	}
	return classifier.Metrics(rep), nil
}

var _ family.Sampler = (*Model)(nil)
var _ train.Evaluator = (*Model)(nil)
