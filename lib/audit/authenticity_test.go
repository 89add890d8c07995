package audit

import (
	"testing"

	"github.com/iagen-course/iagen/lib/metrics"
)

func TestSeparability(t *testing.T) {
	// Same distribution: the classifier guesses, ≈ ½.
	a, b := gaussian(1000, 4, 0, 11), gaussian(1000, 4, 0, 12)
	iv, err := Separability(a, b, 1, DefaultLevel)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "identical distributions", iv.Estimate, 0.5, 0.05)
	if iv.N != 1000 {
		t.Errorf("tested on %d rows, want 1000", iv.N)
	}
	again, _ := Separability(a, b, 1, DefaultLevel)
	if again != iv {
		t.Errorf("same seed, different results: %+v vs %+v", iv, again)
	}
	// Far apart: every test row is classified correctly.
	iv, err = Separability(a, gaussian(600, 4, 10, 13), 1, DefaultLevel)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "separated distributions", iv.Estimate, 1, 0)
	if iv.N != 600 {
		t.Errorf("cut to the smaller set: tested on %d rows, want 600", iv.N)
	}
	// Same mean, different spread: 1-NN sees it (a nearest centroid would not).
	wide := gaussian(1000, 4, 0, 14)
	for i := range wide.Data {
		wide.Data[i] *= 4
	}
	iv, _ = Separability(a, wide, 1, DefaultLevel)
	if iv.Lo <= 0.6 {
		t.Errorf("different spread: accuracy %+v, want clearly above ½", iv)
	}

	_, err = Separability(a, metrics.Matrix{Rows: 1, Cols: 4, Data: make([]float32, 4)}, 1, DefaultLevel)
	oneLineError(t, "one row", err, "at least 2 rows")
	_, err = Separability(a, gaussian(10, 3, 0, 1), 1, DefaultLevel)
	oneLineError(t, "widths", err, "4 and 3 columns")
}
