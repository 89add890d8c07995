package audit

import (
	"math"
	"slices"
	"testing"

	"github.com/iagen-course/iagen/lib/metrics"
)

// A generator that drops class 2 of 4 and spreads its samples evenly over the others, against
// a uniform reference.
func TestAuditRepresentationDroppedClass(t *testing.T) {
	var labels []int
	for i := range 300 {
		labels = append(labels, []int{0, 1, 3}[i%3])
	}
	gen, err := metrics.ClassHistogram(labels, 4)
	if err != nil {
		t.Fatal(err)
	}
	ref := Uniform(4)
	r, err := AuditRepresentation(gen, ref, 0)
	if err != nil {
		t.Fatal(err)
	}
	// TV = ½(3·|1/3 − 1/4| + |0 − 1/4|) = ½(1/4 + 1/4) = 1/4.
	near(t, "TV", r.TV, 0.25, 1e-12)
	// KL(ref ‖ gen) with p̃ = (p + ε)/(1 + 4ε):
	// 3·r̃ log(r̃/g̃₁) + r̃ log(r̃/g̃₀), r̃ = (¼+ε)/(1+4ε), g̃₁ = (⅓+ε)/(1+4ε), g̃₀ = ε/(1+4ε).
	e := metrics.KLSmoothing
	rs, g1, g0 := (0.25+e)/(1+4*e), (1.0/3+e)/(1+4*e), e/(1+4*e)
	near(t, "KL", r.KL, 3*rs*math.Log(rs/g1)+rs*math.Log(rs/g0), 1e-12)
	near(t, "KL ≈ ¾ log ¾ + ¼ log(¼/10⁻⁶)", r.KL, 0.75*math.Log(0.75)+0.25*math.Log(0.25/1e-6), 1e-4)
	// FD = √(3·(1/12)² + (1/4)²) = √(1/12).
	near(t, "fairness discrepancy", r.FairnessDiscrepancy, math.Sqrt(1.0/12), 1e-12)
	if !slices.Equal(r.Missing, []int{2}) || r.Covered != 3 {
		t.Errorf("Missing, Covered = %v, %d; want [2], 3", r.Missing, r.Covered)
	}

	// A faithful generator: all zero, nothing missing.
	r, err = AuditRepresentation(ref, ref, 0)
	if err != nil || r.TV != 0 || r.KL != 0 || r.FairnessDiscrepancy != 0 || r.Missing != nil || r.Covered != 4 {
		t.Errorf("identical histograms: %+v, %v", r, err)
	}
}

func TestFairnessDiscrepancy(t *testing.T) {
	// One class only, against uniform over K = 10: √((1 − 1/K)² + (K−1)/K²) = √(1 − 1/K).
	one := make([]float64, 10)
	one[7] = 1
	fd, err := FairnessDiscrepancy(one, Uniform(10))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "one class of 10", fd, math.Sqrt(0.9), 1e-12)
	// Soft predictions: two samples with probabilities (0.8, 0.2) and (0.4, 0.6) average to
	// (0.6, 0.4): distance to (½, ½) is √(0.01 + 0.01).
	mean, err := MeanProbabilities([][]float64{{0.8, 0.2}, {0.4, 0.6}})
	if err != nil {
		t.Fatal(err)
	}
	fd, _ = FairnessDiscrepancy(mean, Uniform(2))
	near(t, "soft", fd, math.Sqrt(0.02), 1e-12)

	_, err = FairnessDiscrepancy([]float64{0.5, 0.5}, Uniform(3))
	oneLineError(t, "class mismatch", err, "2 classes")
	_, err = FairnessDiscrepancy([]float64{0.5, 0.6}, Uniform(2))
	oneLineError(t, "not normalised", err, "sums to")
	_, err = AuditRepresentation([]float64{-0.5, 1.5}, Uniform(2), 0)
	oneLineError(t, "negative", err, "not a probability")
	_, err = AuditRepresentation(Uniform(2), Uniform(2), 2)
	oneLineError(t, "threshold", err, "minimum class fraction")
	_, err = MeanProbabilities([][]float64{{1, 0}, {1}})
	oneLineError(t, "ragged", err, "row 1 has 1 classes")
	if Uniform(0) != nil {
		t.Error("Uniform(0) is not nil")
	}
}
