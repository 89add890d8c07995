// Package imagegen is what every image family shares, so that a family brings only its own
// maths: latents, one batched decode from latents to images, the grid of samples written by
// `iagen sample`, and one scorer on the reference classifier's features, so that every image
// family reports the same fields of metrics.json (fld, fld_real_baseline, kid, precision,
// recall, density, coverage, classes_covered, class_tv).
package imagegen

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/viz"
)

// Generator is a trained image model as a sampler: n images drawn with seed (the same seed
// gives the same images).
type Generator interface {
	Samples(n int, seed uint64) (*data.Images, error)
}

// EvalSeed seeds the samples of every evaluation, the same for every family (BENCH.md), so
// that evaluating a model twice gives the same numbers and evaluation never draws from the
// training RNG (a resumed run repeats an uninterrupted one however often it was evaluated).
const EvalSeed = 2014

// Latents returns n vectors of dim N(0, 1) values drawn from a PCG generator seeded with
// (seed, stream); each family keeps its own stream.
func Latents(n, dim int, seed, stream uint64) [][]float32 {
	r := rand.New(rand.NewPCG(seed, stream))
	z := make([][]float32, n)
	for i := range z {
		z[i] = make([]float32, dim)
		for j := range z[i] {
			z[i][j] = float32(r.NormFloat64())
		}
	}
	return z
}

// Shape is the size of the images a decoder makes.
type Shape struct{ Height, Width, Channels int }

// MNIST is the shape of every image family's samples here.
var MNIST = Shape{28, 28, 1}

// Decode maps the latents z ([N][dim]) to images through exec, a compiled map from a batch of
// latents [batch, dim] to images [batch, H, W, C] with values in [lo, hi]. It calls exec on
// batches of exactly batch rows (the last one zero-padded), so the graph compiles once, and
// turns values into grey levels round(255·clip((v − lo)/(hi − lo), 0, 1)).
func Decode(exec *train.Exec, z [][]float32, dim, batch int, shape Shape, lo, hi float32) (*data.Images, error) {
	size := shape.Height * shape.Width * shape.Channels
	out := &data.Images{Name: "samples", N: len(z), Height: shape.Height, Width: shape.Width, Channels: shape.Channels,
		NumClasses: 10, Pixels: make([]uint8, 0, len(z)*size)}
	flat := make([]float32, batch*dim)
	for start := 0; start < len(z); start += batch {
		valid := min(batch, len(z)-start)
		clear(flat)
		for i := range valid {
			if len(z[start+i]) != dim {
				return nil, fmt.Errorf("decode: latent %d has %d dimensions, want %d", start+i, len(z[start+i]), dim)
			}
			copy(flat[i*dim:], z[start+i])
		}
		res, err := exec.Call(tensors.FromFlatDataAndDimensions(flat, batch, dim))
		if err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		values, err := tensors.CopyFlatData[float32](res[0])
		if err != nil {
			return nil, fmt.Errorf("decode: %w", err)
		}
		if len(values) < valid*size {
			return nil, fmt.Errorf("decode: the decoder gave %d values for %d images of %d", len(values), valid, size)
		}
		for _, v := range values[:valid*size] {
			out.Pixels = append(out.Pixels, GreyLevel(v, lo, hi))
		}
	}
	return out, nil
}

// GreyLevel maps v ∈ [lo, hi] to 0..255 (clipping outside).
func GreyLevel(v, lo, hi float32) uint8 {
	return uint8(math.Round(float64(min(max((v-lo)/(hi-lo), 0), 1)) * 255))
}

// WriteGrid writes every image of im to path as one PNG grid, as square as possible, each image
// enlarged twice.
func WriteGrid(im *data.Images, path string) error {
	img, err := viz.Grid(im, nil, int(math.Ceil(math.Sqrt(float64(im.N)))), 2)
	if err != nil {
		return err
	}
	return viz.SavePNG(img, path)
}

// WriteSamples draws n images from g with seed and writes them to path as one grid: what every
// image family's Sample (`iagen sample`) does.
func WriteSamples(g Generator, n int, seed uint64, path string) error {
	im, err := g.Samples(n, seed)
	if err != nil {
		return err
	}
	if im.N != n {
		return fmt.Errorf("asked for %d samples, got %d", n, im.N)
	}
	return WriteGrid(im, path)
}
