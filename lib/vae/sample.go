package vae

import (
	"fmt"
	"image"
	"image/color"
	"math"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/imagegen"
)

// graphBatch is the fixed number of rows of every encode/decode call (the last one is padded),
// so each of those graphs is compiled once.
const graphBatch = 500

// Encode returns μ(x) and log σ²(x) of q(z|x), [len(idx)][Latent] each, for the images idx of im
// (nil: all), scaled to [0, 1]. Pass binary images (TestSet) to score what the model was trained on.
func (m *Model) Encode(im *data.Images, idx []int) (mu, logVar [][]float32, err error) {
	if idx == nil {
		idx = seq(im.N)
	}
	for start := 0; start < len(idx); start += graphBatch {
		valid := min(graphBatch, len(idx)-start)
		batch := make([]int, graphBatch)
		for i := range batch {
			batch[i] = idx[start+min(i, valid-1)]
		}
		out, err := m.encodeExec.Call(im.Float32(batch, 0, 1))
		if err != nil {
			return nil, nil, fmt.Errorf("vae: encode: %w", err)
		}
		mus, lvs := tensors.MustCopyFlatData[float32](out[0]), tensors.MustCopyFlatData[float32](out[1])
		for i := range valid {
			mu = append(mu, mus[i*m.Latent:(i+1)*m.Latent])
			logVar = append(logVar, lvs[i*m.Latent:(i+1)*m.Latent])
		}
	}
	return mu, logVar, nil
}

// Decode returns the decoder's Bernoulli means E[x|z] = sigmoid(ℓ(z)) for the latents z
// ([N][Latent]) as grey images (0..255). These are what "a VAE sample" usually shows: the
// average of all binary images the decoder would draw from z, hence smooth and blurry.
func (m *Model) Decode(z [][]float32) (*data.Images, error) {
	im, err := imagegen.Decode(m.decodeExec, z, m.Latent, graphBatch, imagegen.MNIST, 0, 1)
	if err != nil {
		return nil, fmt.Errorf("vae: %w", err)
	}
	return im, nil
}

// Samples draws n images from the model: z ~ N(0, I) (a PCG generator seeded with seed), then the
// decoder's means. Binarize(samples, s) draws the binary images themselves.
func (m *Model) Samples(n int, seed uint64) (*data.Images, error) {
	return m.Decode(imagegen.Latents(n, m.Latent, seed, 0x5a3e))
}

// Sample writes a PNG grid of n samples (decoder means) to path; the run's seed picks them.
func (m *Model) Sample(n int, path string) error {
	return imagegen.WriteSamples(m, n, uint64(m.seed), path)
}

// Reconstruct encodes the binarized test images idx and decodes their means μ(x): the decoder's
// means for z = E_q[z|x].
func (m *Model) Reconstruct(idx []int) (*data.Images, error) {
	mu, _, err := m.Encode(m.test, idx)
	if err != nil {
		return nil, err
	}
	return m.Decode(mu)
}

// Interpolate decodes steps points on the straight line between μ(x_a) and μ(x_b), for the
// binarized test images a and b (steps ≥ 2; the first and last are their reconstructions).
func (m *Model) Interpolate(a, b, steps int) (*data.Images, error) {
	if steps < 2 {
		return nil, fmt.Errorf("vae: interpolate needs steps ≥ 2, got %d", steps)
	}
	mu, _, err := m.Encode(m.test, []int{a, b})
	if err != nil {
		return nil, err
	}
	z := make([][]float32, steps)
	for s := range z {
		t := float32(s) / float32(steps-1)
		z[s] = make([]float32, m.Latent)
		for j := range z[s] {
			z[s][j] = (1-t)*mu[0][j] + t*mu[1][j]
		}
	}
	return m.Decode(z)
}

// LatentMap decodes an n×n grid over the first two latent dimensions (the others 0), as in
// Kingma & Welling 2014, Fig. 4: the coordinates are Φ⁻¹ of n evenly spaced probabilities in
// (0.05, 0.95), so the grid covers the prior's mass evenly. Row-major, z₂ decreasing downwards
// and z₁ increasing rightwards; draw it with viz.Grid(im, nil, n, zoom).
func (m *Model) LatentMap(n int) (*data.Images, error) {
	if m.Latent < 2 || n < 2 {
		return nil, fmt.Errorf("vae: a latent map needs ≥ 2 latent dimensions (have %d) and n ≥ 2 (got %d)", m.Latent, n)
	}
	coord := make([]float32, n)
	for i := range coord {
		p := 0.05 + 0.9*float64(i)/float64(n-1)
		coord[i] = float32(math.Sqrt2 * math.Erfinv(2*p-1)) // Φ⁻¹(p)
	}
	var z [][]float32
	for r := range n {
		for c := range n {
			v := make([]float32, m.Latent)
			v[0], v[1] = coord[c], coord[n-1-r]
			z = append(z, v)
		}
	}
	return m.Decode(z)
}

// digitColors are the ten colours of LatentScatter (Tableau 10), one per digit.
var digitColors = [10]color.RGBA{{31, 119, 180, 255}, {255, 127, 14, 255}, {44, 160, 44, 255}, {214, 39, 40, 255},
	{148, 103, 189, 255}, {140, 86, 75, 255}, {227, 119, 194, 255}, {127, 127, 127, 255}, {188, 189, 34, 255}, {23, 190, 207, 255}}

// DigitColor returns the colour LatentScatter gives to digit d.
func DigitColor(d int) color.RGBA { return digitColors[d%10] }

// LatentScatter draws μ(x) of the first n test images on the first two latent dimensions as a
// size×size picture, one dot per image coloured by its digit (DigitColor), over the square
// [−lim, lim]²; the grey lines are the axes. It shows where each digit lives in the latent
// space, and the empty regions between them.
func (m *Model) LatentScatter(n, size int, lim float64) (image.Image, error) {
	if m.Latent < 2 {
		return nil, fmt.Errorf("vae: a latent scatter needs ≥ 2 latent dimensions, have %d", m.Latent)
	}
	if n <= 0 || n > m.test.N {
		n = m.test.N
	}
	mu, _, err := m.Encode(m.test, seq(n))
	if err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	grey := color.RGBA{200, 200, 200, 255}
	for i := range size {
		img.SetRGBA(i, size/2, grey)
		img.SetRGBA(size/2, i, grey)
	}
	px := func(v float32) int { return int((float64(v) + lim) / (2 * lim) * float64(size-1)) }
	for i, z := range mu {
		x, y := px(z[0]), size-1-px(z[1])
		c := DigitColor(int(m.test.Labels[i]))
		for dx := -1; dx <= 1; dx++ {
			for dy := -1; dy <= 1; dy++ {
				if p := image.Pt(x+dx, y+dy); p.In(img.Rect) {
					img.SetRGBA(p.X, p.Y, c)
				}
			}
		}
	}
	return img, nil
}
