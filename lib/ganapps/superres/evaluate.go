package superres

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/iagen-course/iagen/lib/classifier"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/viz"
)

// evalBatch is the fixed batch of the upscaling graph (the last batch is padded), so that it
// compiles once.
const evalBatch = 250

// Upscaled is a set of test images and every method's ×2 reconstruction of their low-res
// versions, as flat [N·28·28] values in [0, 1] (clipped).
type Upscaled struct {
	Index    []int     // the test images
	Labels   []int     // their digits
	Original []float32 // the real 28×28 images
	Nearest  []float32 // the low-res input shown at 28×28 (each pixel a 2×2 block)
	Bicubic  []float32 // Keys' cubic convolution (Bicubic)
	GAN      []float32 // G(x)
	Content  []float32 // the content-only generator (nil without ContentBaseline)
}

// Upscale reconstructs the test images idx (nil: the first EvalImages) from their low-res
// versions with every method.
func (m *Model) Upscale(idx []int) (*Upscaled, error) {
	if idx == nil {
		idx = make([]int, m.EvalImages)
		for i := range idx {
			idx[i] = i
		}
	}
	for _, i := range idx {
		if i < 0 || i >= m.test.N {
			return nil, fmt.Errorf("superres: test image %d out of range [0, %d)", i, m.test.N)
		}
	}
	x, y, err := pairs(m.test, idx, 0, 1)
	if err != nil {
		return nil, err
	}
	lo, hi := tensors.MustCopyFlatData[float32](x), tensors.MustCopyFlatData[float32](y)
	const size, half = Side * Side, Side / 2
	u := &Upscaled{Index: idx, Original: hi}
	for _, i := range idx {
		u.Labels = append(u.Labels, int(m.test.Labels[i]))
	}
	for i := range idx {
		l := lo[i*half*half : (i+1)*half*half]
		b, err := Bicubic(l, half, half, Side, Side)
		if err != nil {
			return nil, err
		}
		u.Bicubic = append(u.Bicubic, clip01(b)...)
		for r := range Side {
			for c := range Side {
				u.Nearest = append(u.Nearest, l[(r/2)*half+c/2])
			}
		}
	}
	// The generators take x in [-1, 1] and give images in [-1, 1].
	batch := make([]float32, evalBatch*half*half)
	for start := 0; start < len(idx); start += evalBatch {
		n := min(evalBatch, len(idx)-start)
		clear(batch)
		for k, v := range lo[start*half*half : (start+n)*half*half] {
			batch[k] = 2*v - 1
		}
		out, err := m.upscale.Call(tensors.FromFlatDataAndDimensions(batch, evalBatch, half, half, 1))
		if err != nil {
			return nil, fmt.Errorf("superres: upscaling: %w", err)
		}
		for k, t := range out {
			v := tensors.MustCopyFlatData[float32](t)[:n*size]
			for j := range v {
				v[j] = (v[j] + 1) / 2
			}
			if k == 0 {
				u.GAN = append(u.GAN, clip01(v)...)
			} else {
				u.Content = append(u.Content, clip01(v)...)
			}
		}
	}
	return u, nil
}

func clip01(v []float32) []float32 {
	for i, x := range v {
		v[i] = min(max(x, 0), 1)
	}
	return v
}

// Report is what Evaluate measures on the first EvalImages test images: the mean PSNR (dB,
// MeanPSNR) of each reconstruction against the real image, and the reference classifier's
// accuracy on each (on the real images: its ceiling). The content-only fields are 0 without
// ContentBaseline.
type Report struct {
	PSNRNearest, PSNRBicubic, PSNRGAN, PSNRContent              float64
	AccuracyReal, AccuracyNearest, AccuracyBicubic, AccuracyGAN float64
	AccuracyContent                                             float64
	Images                                                      int
	ClassifierProfile, ClassifierSHA256                         string
}

// Report upscales and measures the first EvalImages test images.
func (m *Model) Report() (Report, error) {
	u, err := m.Upscale(nil)
	if err != nil {
		return Report{}, err
	}
	// The same yardstick as the image families' scores: the quick classifier for small
	// evaluations, the ≥ 99 % CNN otherwise.
	profile := classifier.ReferenceProfile(imagegen.ReferenceProfile(m.EvalImages))
	if m.reference == nil {
		if m.reference, err = classifier.Reference(m.backend, m.dataDir, profile); err != nil {
			return Report{}, err
		}
	}
	r := Report{Images: len(u.Index), ClassifierProfile: profile, ClassifierSHA256: m.reference.WeightsSHA256}
	const size = Side * Side
	for _, c := range []struct {
		images     []float32
		psnr, accu *float64
	}{{u.Original, nil, &r.AccuracyReal}, {u.Nearest, &r.PSNRNearest, &r.AccuracyNearest},
		{u.Bicubic, &r.PSNRBicubic, &r.AccuracyBicubic}, {u.GAN, &r.PSNRGAN, &r.AccuracyGAN}, {u.Content, &r.PSNRContent, &r.AccuracyContent}} {
		if c.images == nil {
			continue
		}
		if c.psnr != nil {
			if *c.psnr, err = MeanPSNR(u.Original, c.images, size); err != nil {
				return Report{}, err
			}
		}
		labels, _, err := m.reference.Predict(tensors.FromFlatDataAndDimensions(c.images, len(u.Index), Side, Side, 1))
		if err != nil {
			return Report{}, err
		}
		var right int
		for i, l := range labels {
			if l == u.Labels[i] {
				right++
			}
		}
		*c.accu = float64(right) / float64(len(labels))
	}
	return r, nil
}

// Evaluate returns Report as the metrics.json fields psnr_nearest, psnr_bicubic, psnr_gan,
// psnr_content (dB) and accuracy_real, accuracy_nearest, accuracy_bicubic, accuracy_gan,
// accuracy_content (the content-only fields only with ContentBaseline).
func (m *Model) Evaluate(int) (train.Metrics, error) {
	r, err := m.Report()
	if err != nil {
		return nil, err
	}
	ms := train.Metrics{{Name: "psnr_nearest", Value: r.PSNRNearest}, {Name: "psnr_bicubic", Value: r.PSNRBicubic},
		{Name: "psnr_gan", Value: r.PSNRGAN}, {Name: "accuracy_real", Value: r.AccuracyReal},
		{Name: "accuracy_nearest", Value: r.AccuracyNearest}, {Name: "accuracy_bicubic", Value: r.AccuracyBicubic},
		{Name: "accuracy_gan", Value: r.AccuracyGAN}}
	if m.ContentBaseline {
		ms = append(ms, train.Metric{Name: "psnr_content", Value: r.PSNRContent}, train.Metric{Name: "accuracy_content", Value: r.AccuracyContent})
	}
	return ms, nil
}

// Grid returns the images of u as rows: low-res (nearest) | bicubic | GAN | content-only (when
// trained) | original.
func (u *Upscaled) Grid() *data.Images {
	cols := [][]float32{u.Nearest, u.Bicubic, u.GAN}
	if u.Content != nil {
		cols = append(cols, u.Content)
	}
	cols = append(cols, u.Original)
	const size = Side * Side
	im := &data.Images{Name: "superres", N: len(u.Index) * len(cols), Height: Side, Width: Side, Channels: 1, NumClasses: 10}
	for i := range u.Index {
		for _, c := range cols {
			for _, v := range c[i*size : (i+1)*size] {
				im.Pixels = append(im.Pixels, imagegen.GreyLevel(v, 0, 1))
			}
		}
	}
	return im
}

// Sample writes n rows to path as a PNG: low-res | bicubic | GAN | content-only (when trained)
// | original, for n test images picked by the run's seed (`iagen sample superres`).
func (m *Model) Sample(n int, path string) error {
	if n < 1 || n > m.test.N {
		return fmt.Errorf("superres: rows must be in [1, %d], got %d", m.test.N, n)
	}
	idx := data.BatchIndices(m.test.N, n, m.seed, 0)
	u, err := m.Upscale(idx)
	if err != nil {
		return err
	}
	cols := 4
	if u.Content != nil {
		cols = 5
	}
	img, err := viz.Grid(u.Grid(), nil, cols, 2)
	if err != nil {
		return err
	}
	return viz.SavePNG(img, path)
}
