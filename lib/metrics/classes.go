package metrics

import (
	"fmt"
	"math"
)

// ClassHistogram returns the fraction of labels equal to each class 0…numClasses−1 (summing to
// 1). Labels are the classes a classifier predicts for generated samples, or the training
// labels; one outside [0, numClasses) is an error.
func ClassHistogram(labels []int, numClasses int) ([]float64, error) {
	if numClasses < 1 {
		return nil, fmt.Errorf("metrics: class histogram over %d classes", numClasses)
	}
	if len(labels) == 0 {
		return nil, fmt.Errorf("metrics: class histogram of no labels")
	}
	h := make([]float64, numClasses)
	for i, l := range labels {
		if l < 0 || l >= numClasses {
			return nil, fmt.Errorf("metrics: label %d at position %d is outside [0, %d)", l, i, numClasses)
		}
		h[l]++
	}
	for c := range h {
		h[c] /= float64(len(labels))
	}
	return h, nil
}

// DefaultMinClassFraction is the share of samples a class needs to count as covered in
// ClassesCovered: one tenth of its share under a uniform distribution, 1/(10·numClasses) — 1% for
// MNIST's ten classes, i.e. 100 of 10,000 samples.
//
// Why not "> 0": a generator that has dropped classes still yields ambiguous images that the
// classifier assigns to them (a 99%-accurate classifier misreads about 1% of digits, spread over
// the other classes: ~0.1% of samples per class, ten in 10,000), so "at least one sample" would
// report 10/10 for it. A class generated at under a tenth of its expected rate is, for
// practical purposes, missing; a real class imbalance (MNIST's classes range from 9% to 11%)
// is far above the threshold.
func DefaultMinClassFraction(numClasses int) float64 { return 1 / (10 * float64(numClasses)) }

// ClassesCovered counts the classes whose share in hist (a ClassHistogram) is at least
// minFraction (use DefaultMinClassFraction).
func ClassesCovered(hist []float64, minFraction float64) int {
	n := 0
	for _, p := range hist {
		if p >= minFraction {
			n++
		}
	}
	return n
}

// TotalVariation is the total variation distance ½ Σᵢ |pᵢ − qᵢ| between two histograms over the
// same classes: the largest difference in probability the two assign to any set of classes,
// in [0, 1].
func TotalVariation(p, q []float64) (float64, error) {
	if err := sameClasses(p, q); err != nil {
		return 0, err
	}
	var s float64
	for i := range p {
		s += math.Abs(p[i] - q[i])
	}
	return s / 2, nil
}

// KLSmoothing is the additive smoothing of KLDivergence: every class probability gets 10⁻⁶ and
// the histogram is renormalised, p̃ᵢ = (pᵢ + ε)/(1 + Kε).
const KLSmoothing = 1e-6

// KLDivergence is KL(p ‖ q) = Σᵢ p̃ᵢ log(p̃ᵢ/q̃ᵢ) in nats, for p the generated and q the training
// class histogram, both smoothed with ε = KLSmoothing (see there). Smoothing keeps the value finite
// when the generator produces a class absent from q; it changes a KL between histograms with all
// classes present by O(Kε).
func KLDivergence(p, q []float64) (float64, error) {
	if err := sameClasses(p, q); err != nil {
		return 0, err
	}
	k := float64(len(p))
	var s float64
	for i := range p {
		ps := (p[i] + KLSmoothing) / (1 + k*KLSmoothing)
		qs := (q[i] + KLSmoothing) / (1 + k*KLSmoothing)
		s += ps * math.Log(ps/qs)
	}
	return max(0, s), nil
}

func sameClasses(p, q []float64) error {
	if len(p) == 0 || len(p) != len(q) {
		return fmt.Errorf("metrics: histograms over %d and %d classes", len(p), len(q))
	}
	for i := range p {
		if p[i] < 0 || q[i] < 0 || math.IsNaN(p[i]) || math.IsNaN(q[i]) {
			return fmt.Errorf("metrics: histogram entry %d is not a probability (%v, %v)", i, p[i], q[i])
		}
	}
	return nil
}
