package superres

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestPSNRClosedForm: images differing by a constant d everywhere have MSE d², so
// PSNR = 10·log10(peak²/d²); identical images give +Inf.
func TestPSNRClosedForm(t *testing.T) {
	for _, tc := range []struct{ d, peak float64 }{{0.1, 1}, {0.01, 1}, {3, 255}, {0.5, 2}} {
		x := make([]float32, 50)
		y := make([]float32, 50)
		for i := range x {
			x[i] = float32(i) / 100
			y[i] = x[i] + float32(tc.d)
		}
		got, err := PSNR(x, y, tc.peak)
		want := 10 * math.Log10(tc.peak*tc.peak/(tc.d*tc.d))
		if err != nil || math.Abs(got-want) > 1e-3 {
			t.Errorf("d=%v peak=%v: PSNR %v, want %v (%v)", tc.d, tc.peak, got, want, err)
		}
	}
	if p, _ := PSNR([]float32{1, 2}, []float32{1, 2}, 1); !math.IsInf(p, 1) {
		t.Errorf("identical images: PSNR %v, want +Inf", p)
	}
	if _, err := PSNR([]float32{1}, []float32{1, 2}, 1); err == nil {
		t.Error("PSNR of different sizes accepted")
	}
	// MeanPSNR averages per image: 20 dB (d = 0.1) and 40 dB (d = 0.01) give 30; the identical
	// third image is capped at 100 dB.
	ref := []float32{0.5, 0.5, 0.5, 0.5, 0.5, 0.5}
	got := []float32{0.6, 0.4, 0.51, 0.49, 0.5, 0.5}
	if m, err := MeanPSNR(ref, got, 2); err != nil || math.Abs(m-(20+40+100)/3.0) > 1e-3 {
		t.Errorf("MeanPSNR %v, want %v (%v)", m, (20+40+100)/3.0, err)
	}
}

// TestLowRes: each low-res pixel is the mean of its 2×2 block.
func TestLowRes(t *testing.T) {
	img := []float32{
		1, 3, 0, 0,
		5, 7, 0, 4,
		1, 1, 2, 2,
		1, 1, 2, 6,
	}
	got, err := LowRes(img, 4, 4)
	want := []float32{4, 1, 1, 3}
	if err != nil || len(got) != 4 {
		t.Fatalf("LowRes: %v, %v", got, err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("LowRes = %v, want %v", got, want)
		}
	}
	if _, err := LowRes(make([]float32, 9), 3, 3); err == nil {
		t.Error("odd side accepted")
	}
}

// TestBicubicRamp: cubic convolution reproduces a linear function of the position exactly
// (Keys 1981: it is exact up to quadratics, and the border condition keeps that at the edges),
// here a 2-D ramp upsampled 14 → 28 with half-pixel alignment: pixel j of the output sits at
// input coordinate j/2 − 1/4.
func TestBicubicRamp(t *testing.T) {
	const n, out = 14, 28
	f := func(r, c float64) float64 { return 0.3 + 0.05*r - 0.02*c }
	img := make([]float32, n*n)
	for r := range n {
		for c := range n {
			img[r*n+c] = float32(f(float64(r), float64(c)))
		}
	}
	got, err := Bicubic(img, n, n, out, out)
	if err != nil {
		t.Fatal(err)
	}
	for r := range out {
		for c := range out {
			want := f(float64(r)/2-0.25, float64(c)/2-0.25)
			if d := math.Abs(float64(got[r*out+c]) - want); d > 1e-5 {
				t.Fatalf("pixel (%d, %d) = %v, want %v", r, c, got[r*out+c], want)
			}
		}
	}
	// A quadratic in one direction too (third-order accuracy of a = −0.5).
	q := func(u float64) float64 { return 0.1 * u * u }
	row := make([]float64, n)
	for i := range row {
		row[i] = q(float64(i))
	}
	for j, v := range cubicResample1D(row, out) {
		if want := q(float64(j)/2 - 0.25); math.Abs(v-want) > 1e-9 {
			t.Fatalf("quadratic: sample %d = %v, want %v", j, v, want)
		}
	}
}

// TestBicubicInterpolates: the kernel is 1 at 0 and 0 at the other integers, so resampling at
// the original grid (same size) returns the samples themselves.
func TestBicubicInterpolates(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	img := make([]float32, 7*9)
	for i := range img {
		img[i] = r.Float32()
	}
	got, err := Bicubic(img, 7, 9, 7, 9)
	if err != nil {
		t.Fatal(err)
	}
	for i := range img {
		if math.Abs(float64(got[i]-img[i])) > 1e-6 {
			t.Fatalf("sample %d: %v, want %v", i, got[i], img[i])
		}
	}
	for _, tc := range []struct{ s, want float64 }{{0, 1}, {1, 0}, {2, 0}, {-1, 0}, {0.5, 0.5625}, {1.5, -0.0625}} {
		if got := keys(tc.s); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("W(%v) = %v, want %v", tc.s, got, tc.want)
		}
	}
	if _, err := Bicubic(img, 2, 2, 4, 4); err == nil {
		t.Error("a 2×2 image accepted (the border condition needs 3 samples)")
	}
}
