package audit

import (
	"math"
	"testing"
)

func TestMeanCIStudentT(t *testing.T) {
	// {1, 2, 3}: mean 2, s = 1, t_{0.975, 2} = 4.302653 (tables), half-width 4.302653/√3.
	iv, err := MeanCI([]float64{1, 2, 3}, DefaultLevel)
	if err != nil {
		t.Fatal(err)
	}
	half := 4.302653 / math.Sqrt(3)
	near(t, "mean", iv.Estimate, 2, 1e-12)
	near(t, "lo", iv.Lo, 2-half, 1e-5)
	near(t, "hi", iv.Hi, 2+half, 1e-5)
	if iv.N != 3 || iv.Level != DefaultLevel {
		t.Errorf("N, Level = %d, %v", iv.N, iv.Level)
	}
	// Large n: t approaches the normal quantile 1.959964.
	xs := make([]float64, 10001)
	for i := range xs {
		xs[i] = float64(i % 2)
	}
	iv, _ = MeanCI(xs, DefaultLevel)
	se := math.Sqrt(0.25*10001/10000) / math.Sqrt(10001)
	near(t, "large-n half-width", iv.Hi-iv.Estimate, 1.959964*se, 1e-5)

	_, err = MeanCI([]float64{1}, DefaultLevel)
	oneLineError(t, "one seed", err, "at least 2")
	_, err = MeanCI([]float64{1, 2}, 1)
	oneLineError(t, "level 1", err, "confidence level")
	_, err = MeanCI([]float64{1, math.NaN()}, DefaultLevel)
	oneLineError(t, "NaN", err, "not finite")
}

func TestWilsonInterval(t *testing.T) {
	// 8 of 10 at 95 %: the Wilson interval is [0.4902, 0.9433] (e.g. Brown, Cai & DasGupta 2001;
	// R's prop.test(8, 10, correct = FALSE)).
	iv, err := WilsonInterval(8, 10, DefaultLevel)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "estimate", iv.Estimate, 0.8, 1e-12)
	near(t, "lo", iv.Lo, 0.49016, 1e-4)
	near(t, "hi", iv.Hi, 0.94332, 1e-4)
	// 0 of 10: lower bound 0, upper z²/(n + z²) = 3.8415/13.8415 = 0.2775.
	iv, _ = WilsonInterval(0, 10, DefaultLevel)
	near(t, "0/10 lo", iv.Lo, 0, 1e-12)
	near(t, "0/10 hi", iv.Hi, 0.27753, 1e-4)
	if !iv.Excludes(0.5) || iv.Excludes(0.1) {
		t.Errorf("Excludes on [%v, %v] is wrong", iv.Lo, iv.Hi)
	}
	_, err = WilsonInterval(11, 10, DefaultLevel)
	oneLineError(t, "11 of 10", err, "successes out of")
	_, err = WilsonInterval(0, 0, DefaultLevel)
	oneLineError(t, "0 trials", err, "successes out of")
}

// At 0 and n successes the bounds are exactly 0 and 1, not a rounding error away.
func TestWilsonIntervalEdges(t *testing.T) {
	for n := 1; n <= 200; n++ {
		lo, _ := WilsonInterval(0, n, DefaultLevel)
		hi, _ := WilsonInterval(n, n, DefaultLevel)
		if lo.Lo != 0 || hi.Hi != 1 {
			t.Fatalf("n = %d: 0/n lower bound %g, n/n upper bound %g", n, lo.Lo, hi.Hi)
		}
	}
}
