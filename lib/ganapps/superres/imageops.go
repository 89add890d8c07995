package superres

import (
	"fmt"
	"math"
)

// LowRes is the degradation the super-resolution model inverts: 2×2 average pooling, from an
// h×w grey image (row-major) to (h/2)×(w/2), each output pixel the mean of the 2×2 block it
// covers. h and w must be even.
func LowRes(img []float32, h, w int) ([]float32, error) {
	if h%2 != 0 || w%2 != 0 || len(img) != h*w {
		return nil, fmt.Errorf("superres: low-res needs an image of even side, got %d values for %d×%d", len(img), h, w)
	}
	out := make([]float32, h/2*w/2)
	for i := range h / 2 {
		for j := range w / 2 {
			s := img[2*i*w+2*j] + img[2*i*w+2*j+1] + img[(2*i+1)*w+2*j] + img[(2*i+1)*w+2*j+1]
			out[i*(w/2)+j] = s / 4
		}
	}
	return out, nil
}

// keysA is the free parameter of Keys' cubic convolution kernel; −0.5 is the value that makes
// the interpolant third-order accurate (Keys 1981, §III), the "bicubic" of image libraries.
const keysA = -0.5

// keys is the cubic convolution kernel (Keys 1981, "Cubic convolution interpolation for
// digital image processing", IEEE TASSP 29(6), eq. 15):
//
//	W(s) = (a+2)|s|³ − (a+3)|s|² + 1        for |s| ≤ 1
//	W(s) = a|s|³ − 5a|s|² + 8a|s| − 4a       for 1 < |s| < 2
//	W(s) = 0                                 otherwise
func keys(s float64) float64 {
	s = math.Abs(s)
	switch {
	case s <= 1:
		return ((keysA+2)*s-(keysA+3))*s*s + 1
	case s < 2:
		return ((keysA*s-5*keysA)*s+8*keysA)*s - 4*keysA
	}
	return 0
}

// cubicResample1D resamples n values to out values with cubic convolution. Samples sit at pixel
// centres (half-pixel alignment: output j reads input coordinate (j + ½)·n/out − ½, so at
// out = n it reads the samples themselves). Outside the grid, samples are extended by Keys'
// boundary condition c₋₁ = 3c₀ − 3c₁ + c₂ (1981, eq. 19), applied again for c₋₂: it is exact for
// quadratics, so a linear ramp is reproduced up to the border. n must be ≥ 3.
func cubicResample1D(src []float64, out int) []float64 {
	n := len(src)
	at := func(i int) float64 {
		switch {
		case i < 0: // quadratic extrapolation, one sample at a time
			a, b, c := src[0], src[1], src[2]
			for k := -1; k >= i; k-- {
				a, b, c = 3*a-3*b+c, a, b
			}
			return a
		case i >= n:
			a, b, c := src[n-1], src[n-2], src[n-3]
			for k := n; k <= i; k++ {
				a, b, c = 3*a-3*b+c, a, b
			}
			return a
		}
		return src[i]
	}
	dst := make([]float64, out)
	scale := float64(n) / float64(out)
	for j := range dst {
		u := (float64(j)+0.5)*scale - 0.5
		i0 := int(math.Floor(u))
		var v float64
		for i := i0 - 1; i <= i0+2; i++ {
			v += at(i) * keys(u-float64(i))
		}
		dst[j] = v
	}
	return dst
}

// Bicubic resizes an h×w grey image (row-major) to outH×outW by separable cubic convolution
// (Keys 1981, a = −0.5; see cubicResample1D for the alignment and the border): rows first,
// then columns. Values are not clipped (cubic interpolation overshoots at edges). h and w must
// be ≥ 3.
func Bicubic(img []float32, h, w, outH, outW int) ([]float32, error) {
	if h < 3 || w < 3 || outH < 1 || outW < 1 || len(img) != h*w {
		return nil, fmt.Errorf("superres: bicubic needs an image of at least 3×3, got %d values for %d×%d → %d×%d", len(img), h, w, outH, outW)
	}
	rows := make([][]float64, h) // each input row resized to outW
	line := make([]float64, w)
	for i := range h {
		for j := range w {
			line[j] = float64(img[i*w+j])
		}
		rows[i] = cubicResample1D(line, outW)
	}
	out := make([]float32, outH*outW)
	col := make([]float64, h)
	for j := range outW {
		for i := range h {
			col[i] = rows[i][j]
		}
		for i, v := range cubicResample1D(col, outH) {
			out[i*outW+j] = float32(v)
		}
	}
	return out, nil
}

// PSNR is the peak signal-to-noise ratio of y against the reference x, in dB:
//
//	PSNR = 10·log₁₀(peak² / MSE),  MSE = mean (x − y)²,
//
// with peak the largest possible value (1 for images in [0, 1]). Identical images give +Inf.
func PSNR(x, y []float32, peak float64) (float64, error) {
	if len(x) != len(y) || len(x) == 0 {
		return 0, fmt.Errorf("superres: PSNR of %d values against %d", len(y), len(x))
	}
	var se float64
	for i := range x {
		d := float64(x[i]) - float64(y[i])
		se += d * d
	}
	return 10 * math.Log10(peak*peak/(se/float64(len(x)))), nil
}

// maxPSNR caps the PSNR of one image in MeanPSNR, so that one exact reconstruction does not
// make the mean infinite (100 dB is an RMS error of 10⁻⁵ on [0, 1]).
const maxPSNR = 100

// MeanPSNR is the mean over images of each image's PSNR (dB, peak 1, capped at 100 dB): the
// average the super-resolution papers report (Ledig et al. 2017, Table 2). ref and got hold
// the same number of images of size values each.
func MeanPSNR(ref, got []float32, size int) (float64, error) {
	if size < 1 || len(ref) != len(got) || len(ref)%size != 0 || len(ref) == 0 {
		return 0, fmt.Errorf("superres: mean PSNR of %d values against %d, images of %d", len(got), len(ref), size)
	}
	n := len(ref) / size
	var sum float64
	for i := range n {
		p, err := PSNR(ref[i*size:(i+1)*size], got[i*size:(i+1)*size], 1)
		if err != nil {
			return 0, err
		}
		sum += min(p, maxPSNR)
	}
	return sum / float64(n), nil
}
