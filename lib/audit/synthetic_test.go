package audit

import "testing"

func TestCompareGaps(t *testing.T) {
	// The real gap is about −0.10 (the unprivileged group 10 points behind) in every case.
	real := []float64{-0.10, -0.11, -0.09, -0.10}
	for _, tc := range []struct {
		name      string
		real      []float64
		synthetic []float64
		want      string
	}{
		{"same gap, noisy", real, []float64{-0.12, -0.08, -0.11, -0.09}, GapKeeps},
		{"same mean, too noisy to tell", real, []float64{-0.30, 0.10, -0.25, 0.05}, GapKeeps},
		{"twice the gap", real, []float64{-0.20, -0.21, -0.19, -0.20}, GapWidens},
		{"half the gap", real, []float64{-0.05, -0.06, -0.04, -0.05}, GapNarrows},
		{"parity", real, []float64{0.01, -0.01, 0.00, 0.005}, GapErases},
		{"the other group behind", real, []float64{0.10, 0.11, 0.09, 0.10}, GapReverses},
		{"a positive gap grows", []float64{0.10, 0.11, 0.09, 0.10}, []float64{0.20, 0.21, 0.19, 0.20}, GapWidens},
		{"a positive gap shrinks", []float64{0.10, 0.11, 0.09, 0.10}, []float64{0.05, 0.06, 0.04, 0.05}, GapNarrows},
		{"no real gap, one appears", []float64{0.01, -0.01, 0.01, -0.01}, []float64{-0.10, -0.11, -0.09, -0.10}, GapWidens},
	} {
		c, err := CompareGaps(tc.real, tc.synthetic, DefaultLevel)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if c.Verdict != tc.want {
			t.Errorf("%s: verdict %q, want %q (shift %+v, synthetic %+v)", tc.name, c.Verdict, tc.want, c.Shift, c.Synthetic)
		}
	}

	// Paired by seed: a synthetic gap that tracks each seed's real gap is kept, even though the
	// real gaps vary a lot between seeds.
	c, err := CompareGaps([]float64{-0.05, -0.20, -0.12}, []float64{-0.06, -0.21, -0.12}, DefaultLevel)
	if err != nil || c.Verdict != GapKeeps {
		t.Errorf("paired: %q, %v", c.Verdict, err)
	}
	near(t, "shift", c.Shift.Estimate, -0.02/3, 1e-12)
	near(t, "real mean", c.Real.Estimate, -0.37/3, 1e-12)

	_, err = CompareGaps([]float64{-0.1, -0.2}, []float64{-0.1}, DefaultLevel)
	oneLineError(t, "unpaired", err, "2 real gaps for 1 synthetic")
	_, err = CompareGaps([]float64{-0.1}, []float64{-0.1}, DefaultLevel)
	oneLineError(t, "one seed", err, "at least 2 values")
}
