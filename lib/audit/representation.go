package audit

import (
	"fmt"
	"math"

	"github.com/iagen-course/iagen/lib/metrics"
)

// Representation is the representation audit of a generator's class histogram against a
// reference (target) distribution: how far the mix of generated classes is from the one it
// should have.
type Representation struct {
	// TV is the total variation distance ½ Σᵢ |genᵢ − refᵢ| (metrics.TotalVariation), in [0, 1].
	TV float64
	// KL is KL(ref ‖ gen) in nats (metrics.KLDivergence with its arguments swapped), both
	// histograms smoothed with ε = metrics.KLSmoothing (p̃ᵢ = (pᵢ + ε)/(1 + Kε)). In this direction
	// a class the reference has but the generator dropped costs about refᵢ·log(refᵢ/ε) =
	// refᵢ·(13.8 + log refᵢ) nats, so missing classes dominate it; without the smoothing it
	// would be infinite.
	KL float64
	// FairnessDiscrepancy is the L2 distance ‖gen − ref‖₂ of Choi et al. (2020); see
	// [FairnessDiscrepancy].
	FairnessDiscrepancy float64
	// Missing lists the classes whose generated share is below the coverage threshold (see
	// metrics.DefaultMinClassFraction) although the reference gives them at least that share.
	Missing []int
	// Covered is metrics.ClassesCovered of the generated histogram at the same threshold.
	Covered int
}

// AuditRepresentation compares the generated class histogram gen (metrics.ClassHistogram of the
// classes a classifier assigns to generated samples, or [MeanProbabilities] of its softmax
// outputs) with the reference ref (the training histogram, or [Uniform] for a fairness target).
// minFraction is the share below which a class counts as missing; pass 0 for
// metrics.DefaultMinClassFraction(len(gen)).
func AuditRepresentation(gen, ref []float64, minFraction float64) (Representation, error) {
	if err := checkHistogram("generated", gen); err != nil {
		return Representation{}, err
	}
	if err := checkHistogram("reference", ref); err != nil {
		return Representation{}, err
	}
	if len(gen) != len(ref) {
		return Representation{}, fmt.Errorf("audit: generated histogram has %d classes, reference %d", len(gen), len(ref))
	}
	if minFraction == 0 {
		minFraction = metrics.DefaultMinClassFraction(len(gen))
	}
	if !(minFraction > 0 && minFraction <= 1) {
		return Representation{}, fmt.Errorf("audit: minimum class fraction %v is not in (0, 1]", minFraction)
	}
	tv, err := metrics.TotalVariation(gen, ref)
	if err != nil {
		return Representation{}, fmt.Errorf("audit: %w", err)
	}
	kl, err := metrics.KLDivergence(ref, gen)
	if err != nil {
		return Representation{}, fmt.Errorf("audit: %w", err)
	}
	fd, err := FairnessDiscrepancy(gen, ref)
	if err != nil {
		return Representation{}, err
	}
	r := Representation{TV: tv, KL: kl, FairnessDiscrepancy: fd, Covered: metrics.ClassesCovered(gen, minFraction)}
	for c := range gen {
		if gen[c] < minFraction && ref[c] >= minFraction {
			r.Missing = append(r.Missing, c)
		}
	}
	return r, nil
}

// FairnessDiscrepancy is the fairness discrepancy of Choi, Grover, Singh, Shu & Ermon (2020),
// "Fair Generative Modeling via Weak Supervision" (ICML; arXiv:1910.12008), the bias metric of
// its experiments section (the equation number was not checked against the published PDF):
//
//	f(p_ref, p_θ) = ‖ E_{x∼p_ref}[p(u|x)] − E_{x∼p_θ}[p(u|x)] ‖₂,
//
// the Euclidean (L2, not squared) distance between the expected class (attribute)
// distributions of the reference and of the generator, p(u|x) being an attribute classifier's
// output. With a uniform reference, ū = (1/K, …, 1/K) = [Uniform](K), it measures the distance
// to perfect balance, as in the paper's experiments. gen is that expectation for the generator:
// [MeanProbabilities] of the classifier's softmax outputs, or — as the authors' code does, with
// one-hot predictions — metrics.ClassHistogram of the predicted classes. Its largest value, for
// K classes and a generator producing one class only against a uniform target, is √(1 − 1/K).
func FairnessDiscrepancy(gen, target []float64) (float64, error) {
	if err := checkHistogram("generated", gen); err != nil {
		return 0, err
	}
	if err := checkHistogram("target", target); err != nil {
		return 0, err
	}
	if len(gen) != len(target) {
		return 0, fmt.Errorf("audit: generated histogram has %d classes, target %d", len(gen), len(target))
	}
	var s float64
	for i := range gen {
		s += (gen[i] - target[i]) * (gen[i] - target[i])
	}
	return math.Sqrt(s), nil
}

// Uniform returns the uniform histogram over k classes, each 1/k (nil for k < 1).
func Uniform(k int) []float64 {
	if k < 1 {
		return nil
	}
	u := make([]float64, k)
	for i := range u {
		u[i] = 1 / float64(k)
	}
	return u
}

// MeanProbabilities averages per-sample class probabilities (softmax outputs, one row per
// generated sample) into the expected class distribution E_x[p(u|x)] of [FairnessDiscrepancy].
func MeanProbabilities(probs [][]float64) ([]float64, error) {
	if len(probs) == 0 || len(probs[0]) == 0 {
		return nil, fmt.Errorf("audit: no class probabilities to average")
	}
	mean := make([]float64, len(probs[0]))
	for i, p := range probs {
		if err := checkHistogram(fmt.Sprintf("probability row %d", i), p); err != nil {
			return nil, err
		}
		if len(p) != len(mean) {
			return nil, fmt.Errorf("audit: probability row %d has %d classes, row 0 has %d", i, len(p), len(mean))
		}
		for c, v := range p {
			mean[c] += v
		}
	}
	for c := range mean {
		mean[c] /= float64(len(probs))
	}
	return mean, nil
}

// histogramTolerance is how far from 1 a histogram may sum (rounding of float64 fractions).
const histogramTolerance = 1e-6

// checkHistogram checks that h is a probability vector: non-empty, entries in [0, 1], sum 1.
func checkHistogram(name string, h []float64) error {
	if len(h) == 0 {
		return fmt.Errorf("audit: %s histogram is empty", name)
	}
	var s float64
	for i, p := range h {
		if !(p >= 0 && p <= 1) {
			return fmt.Errorf("audit: %s histogram entry %d is %v, not a probability", name, i, p)
		}
		s += p
	}
	if math.Abs(s-1) > histogramTolerance {
		return fmt.Errorf("audit: %s histogram sums to %v, not 1", name, s)
	}
	return nil
}
