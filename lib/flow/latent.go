package flow

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/imagegen"
)

// Encode maps images idx of im (28×28×1, grey levels 0…255) to the flow's z = f(v), each
// dequantized at the centre of its bins, v = x + ½, with no noise: z[i] holds 784 values.
func (m *Model) Encode(im *data.Images, idx []int) ([][]float32, error) {
	if im.Height != 28 || im.Width != 28 || im.Channels != 1 {
		return nil, fmt.Errorf("flow: encode %s: %d×%d×%d images, want 28×28×1", im.Name, im.Height, im.Width, im.Channels)
	}
	z := make([][]float32, 0, len(idx))
	for start := 0; start < len(idx); start += m.SampleBatch {
		valid := min(m.SampleBatch, len(idx)-start)
		batch := make([]int, m.SampleBatch) // the padding repeats image 0; its z is dropped
		copy(batch, idx[start:start+valid])
		v := tensors.MustCopyFlatData[float32](im.Float32(batch, 0, 255))
		for j := range v {
			v[j] += 0.5
		}
		res, err := m.density.Call(m.batchTensor(v))
		if err != nil {
			return nil, fmt.Errorf("flow: encode: %w", err)
		}
		flat := tensors.MustCopyFlatData[float32](res[1])
		for i := range valid {
			z = append(z, flat[i*imageSize:(i+1)*imageSize])
		}
		for _, t := range res {
			t.FinalizeAll()
		}
	}
	return z, nil
}

// Decode maps latents z (784 values each) back to pixel space with the exact inverse: the
// dequantized values v ∈ (0, 256), 784 per image, not rounded (Encode then Decode gives back
// x + ½ up to float32 precision).
func (m *Model) Decode(z [][]float32) ([][]float32, error) {
	v := make([][]float32, 0, len(z))
	flat := make([]float32, m.SampleBatch*imageSize)
	for start := 0; start < len(z); start += m.SampleBatch {
		valid := min(m.SampleBatch, len(z)-start)
		clear(flat)
		for i := range valid {
			if len(z[start+i]) != imageSize {
				return nil, fmt.Errorf("flow: decode: latent %d has %d values, want %d", start+i, len(z[start+i]), imageSize)
			}
			copy(flat[i*imageSize:], z[start+i])
		}
		res, err := m.inverse.Call(m.batchTensor(flat))
		if err != nil {
			return nil, fmt.Errorf("flow: decode: %w", err)
		}
		out := tensors.MustCopyFlatData[float32](res[0])
		for i := range valid {
			v = append(v, out[i*imageSize:(i+1)*imageSize])
		}
		res[0].FinalizeAll()
	}
	return v, nil
}

// ImagesOf turns dequantized values v (784 per image, as Decode returns) into grey-level images,
// ⌊v⌋ clipped to 0…255 (as Generate does).
func ImagesOf(v [][]float32) *data.Images {
	im := &data.Images{Name: "decoded", N: len(v), Height: 28, Width: 28, Channels: 1, NumClasses: 10,
		Pixels: make([]uint8, 0, len(v)*imageSize)}
	for _, img := range v {
		for _, p := range img {
			im.Pixels = append(im.Pixels, imagegen.GreyLevel(p-0.5, 0, 255))
		}
	}
	return im
}

// Interpolate returns steps latents on the straight line from a to b (steps ≥ 2: a and b
// included), z = (1 − λ)·a + λ·b: decoded, the path from one image to the other through the
// flow's latent space.
func Interpolate(a, b []float32, steps int) [][]float32 {
	out := make([][]float32, max(steps, 0))
	for k := range out {
		lambda := float32(0)
		if steps > 1 {
			lambda = float32(k) / float32(steps-1)
		}
		z := make([]float32, len(a))
		for i := range z {
			z[i] = (1-lambda)*a[i] + lambda*b[i]
		}
		out[k] = z
	}
	return out
}
