package audit

import (
	"fmt"
	"slices"
)

// GroupFairness holds the group-fairness metrics of a binary outcome (favourable or not) over
// a binary protected attribute (privileged group or not), as AI Fairness 360 defines them
// (Bellamy et al. 2018, "AI Fairness 360: An Extensible Toolkit for Detecting, Understanding,
// and Mitigating Unwanted Algorithmic Bias", arXiv:1810.01943; aif360.metrics.
// BinaryLabelDatasetMetric).
type GroupFairness struct {
	// UnprivilegedRate and PrivilegedRate are P(Y = favourable | D = group), the base rates.
	UnprivilegedRate, PrivilegedRate float64
	// Unprivileged and Privileged are the group sizes.
	Unprivileged, Privileged int
	// DisparateImpact is UnprivilegedRate / PrivilegedRate: 1 is parity; values below 0.8 fail
	// the "four-fifths rule" of US employment law that AIF360 quotes.
	DisparateImpact float64
	// StatisticalParityDifference is UnprivilegedRate − PrivilegedRate: 0 is parity, negative
	// means the unprivileged group gets the favourable outcome less often.
	StatisticalParityDifference float64
}

// AuditGroupFairness computes disparate impact and statistical parity difference of the
// outcomes favourable[i] over the groups privileged[i] (one entry per row of a table: the
// training data, or a synthetic table sampled from a generative model, to see whether it
// keeps the gap). Both groups need members and the privileged group a favourable outcome.
func AuditGroupFairness(favourable, privileged []bool) (GroupFairness, error) {
	if len(favourable) == 0 || len(favourable) != len(privileged) {
		return GroupFairness{}, fmt.Errorf("audit: %d outcomes for %d group labels", len(favourable), len(privileged))
	}
	var g GroupFairness
	var favU, favP int
	for i, f := range favourable {
		if privileged[i] {
			g.Privileged++
			if f {
				favP++
			}
		} else {
			g.Unprivileged++
			if f {
				favU++
			}
		}
	}
	if g.Privileged == 0 || g.Unprivileged == 0 {
		return GroupFairness{}, fmt.Errorf("audit: %d privileged and %d unprivileged rows; both groups need members", g.Privileged, g.Unprivileged)
	}
	if favP == 0 {
		return GroupFairness{}, fmt.Errorf("audit: no favourable outcome in the privileged group, so disparate impact is undefined")
	}
	g.UnprivilegedRate = float64(favU) / float64(g.Unprivileged)
	g.PrivilegedRate = float64(favP) / float64(g.Privileged)
	g.DisparateImpact = g.UnprivilegedRate / g.PrivilegedRate
	g.StatisticalParityDifference = g.UnprivilegedRate - g.PrivilegedRate
	return g, nil
}

// Indicator maps a table column (data.Table.Column) to booleans, true where the value is
// positive: Indicator(class, "good") for German Credit's favourable outcome,
// Indicator(sex, "male") for its privileged group in AIF360's examples. A column without a
// single positive value is an error (most likely a misspelt level).
func Indicator(values []string, positive string) ([]bool, error) {
	if !slices.Contains(values, positive) {
		return nil, fmt.Errorf("audit: no value %q among %d rows", positive, len(values))
	}
	out := make([]bool, len(values))
	for i, v := range values {
		out[i] = v == positive
	}
	return out, nil
}
