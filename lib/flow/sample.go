package flow

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/train"
)

// EvalSeed seeds the samples and the dequantization noise of every evaluation (imagegen.EvalSeed,
// the same for every family).
const EvalSeed = imagegen.EvalSeed

// PCG streams of the noise drawn on the host, each with the caller's seed.
const (
	noiseStream   = 0x666c6f77 << 32 // + i: z of image i of a sampler
	dequantStream = 0x64657175       // the test images' dequantization noise u
)

// imageSize is the number of values of one MNIST image.
const imageSize = 28 * 28

// batchTensor is a [SampleBatch, 28, 28, 1] tensor of values.
func (m *Model) batchTensor(values []float32) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(values, m.SampleBatch, 28, 28, 1)
}

// TestBitsPerDim is the mean bits/dim of the first EvalTestImages test images, each dequantized
// with its noise u drawn from EvalSeed: the same draw at every evaluation, so that the numbers
// compare along a run and between backends.
func (m *Model) TestBitsPerDim() (float64, error) {
	return m.BitsPerDimOf(m.test, m.EvalTestImages)
}

// BitsPerDimOf is the mean bits/dim of the first n images of im (28×28×1, any data set: the
// test set of another one measures how the flow rates images it never learnt, as Nalisnick et
// al. 2019), each dequantized with its noise drawn from EvalSeed as in TestBitsPerDim.
func (m *Model) BitsPerDimOf(im *data.Images, n int) (float64, error) {
	if im.Height != 28 || im.Width != 28 || im.Channels != 1 {
		return 0, fmt.Errorf("flow: bits/dim of %s: %d×%d×%d images, want 28×28×1", im.Name, im.Height, im.Width, im.Channels)
	}
	n, batch := min(n, im.N), m.SampleBatch
	r := rand.New(rand.NewPCG(EvalSeed, dequantStream))
	var sum float64
	for start := 0; start < n; start += batch {
		valid := min(batch, n-start)
		idx := make([]int, batch) // the padding repeats image 0; its value is ignored
		for i := range valid {
			idx[i] = start + i
		}
		v := tensors.MustCopyFlatData[float32](im.Float32(idx, 0, 255))
		for j := range valid * imageSize {
			v[j] += float32(r.Float64())
		}
		res, err := m.density.Call(m.batchTensor(v))
		if err != nil {
			return 0, fmt.Errorf("flow: test bits/dim: %w", err)
		}
		for _, b := range tensors.MustCopyFlatData[float32](res[0])[:valid] {
			sum += float64(b)
		}
		for _, t := range res {
			t.FinalizeAll()
		}
	}
	return sum / float64(n), nil
}

// Generate draws n images with sampler s: z ~ N(0, T²·I) from PCG stream noiseStream + i of seed
// for image i (so that it depends neither on n nor on SampleBatch), then the exact inverse; the
// values v ∈ [0, 256) become the grey levels ⌊v⌋ (clipped to 0…255).
func (m *Model) Generate(s Sampling, n int, seed uint64) (*data.Images, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	im := &data.Images{Name: "samples", N: n, Height: 28, Width: 28, Channels: 1, NumClasses: 10,
		Pixels: make([]uint8, 0, n*imageSize)}
	z := make([]float32, m.SampleBatch*imageSize)
	for start := 0; start < n; start += m.SampleBatch {
		valid := min(m.SampleBatch, n-start)
		clear(z)
		for i := range valid {
			r := rand.New(rand.NewPCG(seed, noiseStream+uint64(start+i)))
			for j := range imageSize {
				z[i*imageSize+j] = float32(s.Temperature * r.NormFloat64())
			}
		}
		res, err := m.inverse.Call(m.batchTensor(z))
		if err != nil {
			return nil, fmt.Errorf("flow: sampling: %w", err)
		}
		for _, v := range tensors.MustCopyFlatData[float32](res[0])[:valid*imageSize] {
			im.Pixels = append(im.Pixels, imagegen.GreyLevel(v-0.5, 0, 255)) // round(v − ½) = ⌊v⌋
		}
		res[0].FinalizeAll()
	}
	return im, nil
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
// of Sampling's fields, e.g. {"temperature": 0.7}. Evaluations keep the configuration's sampler.
func (m *Model) SetSampling(options json.RawMessage) error {
	s, err := family.DecodeChecked(options, m.sampling, "flow sampling options", func(s Sampling) error { return s.Check() })
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

// Evaluate returns test_bits_per_dim (TestBitsPerDim); the bits/dim of as many test images of
// the other data set (fashion_test_bits_per_dim for a flow of MNIST, mnist_test_bits_per_dim
// for one of Fashion-MNIST: Nalisnick et al. 2019's question, whether a flow rates images it
// never saw as less likely); and, on MNIST, the metrics.json fields of every image family (fld,
// fld_real_baseline, kid, precision, recall, density, coverage, classes_covered, class_tv) of
// EvalSamples samples of the configuration's sampler (noise seeded by EvalSeed).
func (m *Model) Evaluate(int) (train.Metrics, error) {
	bpd, err := m.TestBitsPerDim()
	if err != nil {
		return nil, err
	}
	other, name, err := m.otherTestSet()
	if err != nil {
		return nil, err
	}
	otherBPD, err := m.BitsPerDimOf(other, m.EvalTestImages)
	if err != nil {
		return nil, err
	}
	ms := train.Metrics{{Name: "test_bits_per_dim", Value: bpd}, {Name: name + "_test_bits_per_dim", Value: otherBPD}}
	if m.Dataset == FashionMNIST { // the reference classifier knows digits only
		return ms, nil
	}
	scores, err := m.scorer.Evaluate(generator{m, m.Config.Sampling}, m.EvalSamples)
	if err != nil {
		return nil, err
	}
	return append(ms, scores...), nil
}

// otherTestSet loads, once, the test set of the data set the flow was not trained on, and
// names it for the metric.
func (m *Model) otherTestSet() (*data.Images, string, error) {
	name, load := "fashion", data.LoadFashionMNIST
	if m.Dataset == FashionMNIST {
		name, load = "mnist", data.LoadMNIST
	}
	if m.other == nil {
		im, err := load(data.Dir(m.dataDir), data.Test)
		if err != nil {
			return nil, "", err
		}
		m.other = im
	}
	return m.other, name, nil
}

var _ family.Sampler = (*Model)(nil)
var _ family.SamplingOptions = (*Model)(nil)
var _ train.Evaluator = (*Model)(nil)
var _ imagegen.Generator = (*Model)(nil)
