package metrics

import (
	"math"
	"testing"
)

// labelsWith returns counts[c] labels of each class c.
func labelsWith(counts []int) []int {
	var l []int
	for c, n := range counts {
		for i := 0; i < n; i++ {
			l = append(l, c)
		}
	}
	return l
}

func TestClassCoverageAndTV(t *testing.T) {
	train, err := ClassHistogram(labelsWith([]int{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}), 10)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		counts      []int
		wantCovered int
		wantTV      float64
	}{
		{"balanced", []int{1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000}, 10, 0},
		{"mildly uneven", []int{1100, 900, 1050, 950, 1000, 1000, 1020, 980, 1000, 1000}, 10, 0.017},
		// Two classes missing: the other eight take their share.
		{"missing two", []int{1250, 1250, 1250, 1250, 1250, 1250, 1250, 1250, 0, 0}, 8, 0.2},
		// A handful of stray samples (0.05%, below the 1% threshold) does not make a class covered.
		{"missing two with strays", []int{1249, 1249, 1249, 1249, 1249, 1249, 1249, 1247, 5, 5}, 8, 0.199},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			gen, err := ClassHistogram(labelsWith(tc.counts), 10)
			if err != nil {
				t.Fatal(err)
			}
			if got := ClassesCovered(gen, DefaultMinClassFraction(10)); got != tc.wantCovered {
				t.Errorf("classes covered = %d, want %d", got, tc.wantCovered)
			}
			tv, err := TotalVariation(gen, train)
			if err != nil {
				t.Fatal(err)
			}
			if !(math.Abs(tv-tc.wantTV) <= 1e-9) {
				t.Errorf("TV = %v, want %v", tv, tc.wantTV)
			}
			kl, err := KLDivergence(gen, train)
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantTV == 0 && kl > 1e-12 || tc.wantTV > 0 && !(kl > 0) || math.IsInf(kl, 0) {
				t.Errorf("KL = %v with TV %v", kl, tc.wantTV)
			}
		})
	}
}

func TestKLDivergenceValue(t *testing.T) {
	// KL([½, ½] ‖ [¼, ¾]) = ½ log 2 + ½ log(2/3).
	got, err := KLDivergence([]float64{0.5, 0.5}, []float64{0.25, 0.75})
	if err != nil {
		t.Fatal(err)
	}
	want := 0.5*math.Log(2) + 0.5*math.Log(2.0/3)
	if !(math.Abs(got-want) <= 1e-5) {
		t.Errorf("KL = %v, want %v", got, want)
	}
	// A class the training set lacks: finite thanks to smoothing.
	got, err = KLDivergence([]float64{0.5, 0.5}, []float64{1, 0})
	if err != nil || math.IsInf(got, 0) || got < 5 {
		t.Errorf("KL with a class absent from q = %v (%v), want large and finite", got, err)
	}
}

func TestClassHistogram(t *testing.T) {
	h, err := ClassHistogram([]int{0, 2, 2, 1, 2}, 4)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{0.2, 0.2, 0.6, 0}
	for i := range want {
		if !(math.Abs(h[i]-want[i]) <= 1e-15) {
			t.Errorf("histogram = %v, want %v", h, want)
		}
	}
	if _, err := ClassHistogram([]int{0, 4}, 4); err == nil {
		t.Error("label 4 of 4 classes: no error")
	}
	if _, err := ClassHistogram([]int{-1}, 4); err == nil {
		t.Error("label -1: no error")
	}
	if _, err := ClassHistogram(nil, 4); err == nil {
		t.Error("no labels: no error")
	}
	if _, err := TotalVariation([]float64{1}, []float64{0.5, 0.5}); err == nil {
		t.Error("histograms of different lengths: no error")
	}
}
