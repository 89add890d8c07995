package gan

import (
	"fmt"
	"math"

	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/metrics"
	"github.com/iagen-course/iagen/lib/train"
)

// graphBatch is the fixed number of latents of every sampling call (the last one is padded),
// so the sampling graph is compiled once.
const graphBatch = 500

// EvalSeed seeds the latents of every evaluation (imagegen.EvalSeed, the same for every family).
const EvalSeed = imagegen.EvalSeed

// Latents returns n latent vectors z ~ N(0, I) drawn from a PCG generator seeded with seed.
func (m *Model) Latents(n int, seed uint64) [][]float32 {
	return imagegen.Latents(n, m.Latent, seed, 0x6761)
}

// Generate maps latents z ([N][Latent]) to images with the sampling generator: the EMA of G
// when the configuration keeps one (live = false), G itself otherwise or when live is true.
// BatchNorm uses its running averages (inference mode).
func (m *Model) Generate(z [][]float32, live bool) (*data.Images, error) {
	exec := m.sampleExec
	if live {
		exec = m.sampleLiveExec
	}
	im, err := imagegen.Decode(exec, z, m.Latent, graphBatch, imagegen.MNIST, -1, 1)
	if err != nil {
		return nil, fmt.Errorf("gan: %w", err)
	}
	return im, nil
}

// Samples draws n images from the sampling generator, with latents seeded by seed.
func (m *Model) Samples(n int, seed uint64) (*data.Images, error) {
	return m.Generate(m.Latents(n, seed), false)
}

// Sample writes a PNG grid of n samples to path; the run's seed picks them.
func (m *Model) Sample(n int, path string) error {
	return imagegen.WriteSamples(m, n, uint64(m.seed), path)
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

// Report scores EvalSamples images of the sampling generator (latents seeded by EvalSeed)
// against as many training and test images, in the reference classifier's feature space, with
// the class histograms compared (metrics.ImageReport).
func (m *Model) Report() (metrics.ImageReport, error) {
	return m.scorer.Report(m, m.EvalSamples)
}

// Evaluate returns Report as the metrics.json fields fld, fld_real_baseline, kid, precision,
// recall, density, coverage, classes_covered and class_tv (README, BENCH.md).
func (m *Model) Evaluate(int) (train.Metrics, error) {
	return m.scorer.Evaluate(m, m.EvalSamples)
}

var _ family.Sampler = (*Model)(nil)
var _ train.Evaluator = (*Model)(nil)
var _ imagegen.Generator = (*Model)(nil)
