package audit

import (
	"fmt"
	"math"
)

// What a synthetic table does to a gap between groups (GapComparison.Verdict).
const (
	GapKeeps    = "keeps"    // the shift's interval holds 0: no change detected
	GapWidens   = "widens"   // significantly further from parity, same side
	GapNarrows  = "narrows"  // significantly closer to parity, still a gap on the same side
	GapErases   = "erases"   // significantly closer to parity, and parity is inside the synthetic interval
	GapReverses = "reverses" // significantly past parity: the other group is now behind
)

// GapComparison compares a group gap (statistical parity difference, say) in the real table a
// generative model was trained on with the gap in the table it generated, over seeds.
type GapComparison struct {
	Real, Synthetic Interval // the gap, mean and interval over seeds
	Shift           Interval // synthetic − real, paired by seed
	Verdict         string   // GapKeeps, GapWidens, GapNarrows, GapErases or GapReverses
}

// CompareGaps compares real[i] and synthetic[i], the gap of seed i in the real training table
// and in the table the model of seed i generated (paired: seed i also drew the split, so what the
// split adds to both cancels in the shift). Parity is 0 (use the statistical parity difference,
// or log disparate impact). The verdict reads the shift's Student-t interval (MeanCI) at level:
// holding 0, the model keeps the gap; otherwise it moves away from parity (widens: a real gap
// of exactly 0 that appears counts as widened) or toward it, and then the synthetic interval
// says whether it narrows (parity still excluded, same side), erases (parity included) or
// reverses (parity excluded, the other side). A 3-seed interval is wide: keeps means "no change
// detected", not "no change".
func CompareGaps(real, synthetic []float64, level float64) (GapComparison, error) {
	if len(real) != len(synthetic) {
		return GapComparison{}, fmt.Errorf("audit: %d real gaps for %d synthetic ones; pair them by seed", len(real), len(synthetic))
	}
	shift := make([]float64, len(real))
	for i := range real {
		shift[i] = synthetic[i] - real[i]
	}
	var c GapComparison
	var err error
	if c.Real, err = MeanCI(real, level); err != nil {
		return GapComparison{}, err
	}
	if c.Synthetic, err = MeanCI(synthetic, level); err != nil {
		return GapComparison{}, err
	}
	if c.Shift, err = MeanCI(shift, level); err != nil {
		return GapComparison{}, err
	}
	side := math.Copysign(1, c.Real.Estimate)
	switch {
	case !c.Shift.Excludes(0):
		c.Verdict = GapKeeps
	case c.Real.Estimate == 0 || c.Shift.Estimate*side > 0:
		c.Verdict = GapWidens
	case !c.Synthetic.Excludes(0):
		c.Verdict = GapErases
	case c.Synthetic.Estimate*side > 0:
		c.Verdict = GapNarrows
	default:
		c.Verdict = GapReverses
	}
	return c, nil
}
