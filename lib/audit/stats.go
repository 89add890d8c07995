package audit

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// DefaultLevel is the confidence level of the intervals this package reports: 95 %.
const DefaultLevel = 0.95

// Interval is an estimate with a two-sided confidence interval [Lo, Hi] at Level, from N
// observations (seeds for MeanCI, trials for WilsonInterval).
type Interval struct {
	Estimate, Lo, Hi float64
	Level            float64
	N                int
}

// Excludes reports whether x lies outside the interval: the difference between the estimate
// and x is significant at the interval's level.
func (iv Interval) Excludes(x float64) bool { return x < iv.Lo || x > iv.Hi }

func checkLevel(level float64) error {
	if !(level > 0 && level < 1) {
		return fmt.Errorf("audit: confidence level %v is not in (0, 1)", level)
	}
	return nil
}

// MeanCI returns the mean of xs (one value per seed, say) with the Student-t confidence
// interval x̄ ± t_{(1+level)/2, n−1} · s/√n, s being the sample standard deviation (n − 1 in
// the denominator). The t quantile, not the normal 1.96, is what keeps the interval honest for
// the 3–10 seeds a course can afford: with n = 3 at 95 % it is 4.30. It assumes the values are
// independent and roughly normal. It needs at least two values.
func MeanCI(xs []float64, level float64) (Interval, error) {
	if err := checkLevel(level); err != nil {
		return Interval{}, err
	}
	n := len(xs)
	if n < 2 {
		return Interval{}, fmt.Errorf("audit: a confidence interval over seeds needs at least 2 values, got %d", n)
	}
	var mean float64
	for i, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return Interval{}, fmt.Errorf("audit: value %d is not finite (%v)", i, x)
		}
		mean += x
	}
	mean /= float64(n)
	var ss float64
	for _, x := range xs {
		ss += (x - mean) * (x - mean)
	}
	se := math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile((1 + level) / 2)
	return Interval{Estimate: mean, Lo: mean - t*se, Hi: mean + t*se, Level: level, N: n}, nil
}

// WilsonInterval returns the share successes/n with the Wilson score interval (Wilson 1927,
// "Probable inference, the law of succession, and statistical inference", JASA 22):
//
//	(p̂ + z²/2n ± z·√(p̂(1−p̂)/n + z²/4n²)) / (1 + z²/n),  z = Φ⁻¹((1+level)/2).
//
// Unlike the normal (Wald) interval it stays inside [0, 1] and does not collapse to a point
// when p̂ is 0 or 1, which matters for the small counts of an audit.
func WilsonInterval(successes, n int, level float64) (Interval, error) {
	if err := checkLevel(level); err != nil {
		return Interval{}, err
	}
	if n < 1 || successes < 0 || successes > n {
		return Interval{}, fmt.Errorf("audit: %d successes out of %d trials", successes, n)
	}
	z := distuv.UnitNormal.Quantile((1 + level) / 2)
	nf := float64(n)
	p := float64(successes) / nf
	den := 1 + z*z/nf
	centre := (p + z*z/(2*nf)) / den
	half := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf)) / den
	lo, hi := max(0, centre-half), min(1, centre+half)
	// At p̂ = 0 (or 1) the bound is exactly 0 (1); rounding can leave it 1e-17 away.
	if successes == 0 {
		lo = 0
	}
	if successes == n {
		hi = 1
	}
	return Interval{Estimate: p, Lo: lo, Hi: hi, Level: level, N: n}, nil
}
