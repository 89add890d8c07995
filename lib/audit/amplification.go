package audit

import (
	"fmt"
	"math"
)

// Verdict says what a generator did to a bias present in its training data.
type Verdict string

const (
	// Amplifies: the generated share is further from parity than the training share, in the
	// same direction, and the confidence interval of the shift excludes zero.
	Amplifies Verdict = "amplifies"
	// Keeps: the interval of the shift contains zero — no detectable change.
	Keeps Verdict = "keeps"
	// Dampens: the generated share is closer to parity (or beyond it), significantly.
	Dampens Verdict = "dampens"
)

// Amplification is the amplification audit of one group's share (e.g. the share of digits 0–4
// in samples of a model trained on data.Skewed with 90 % of them).
type Amplification struct {
	Train  float64 // the group's share in the training data
	Parity float64 // its share without bias (0.5 for two equal groups)
	// Generated is the mean generated share over seeds, with its Student-t interval.
	Generated Interval
	// Shift is the signed change in the direction of the training bias,
	// sign(Train − Parity) · (generated − Train), one value per seed, as mean and Student-t
	// interval: positive means the generator exaggerates the bias. For a binary attribute it is
	// exactly the per-item term of the bias amplification of Zhao et al. (2017) (see
	// [BiasAmplification]), computed over seeds instead of over items.
	Shift   Interval
	Verdict Verdict
}

// AuditAmplification measures whether generated shares pGen (one per seed: the fraction of a
// seed's samples that a classifier puts in the group) keep, dampen or amplify the group's
// training share pTrain, relative to the unbiased share parity. The verdict reads the Student-t
// interval at level (see [MeanCI]) of the shift: Amplifies if it lies above 0, Dampens below,
// Keeps otherwise. It needs at least two seeds and a training share different from parity.
func AuditAmplification(pTrain, parity float64, pGen []float64, level float64) (Amplification, error) {
	for _, p := range append([]float64{pTrain, parity}, pGen...) {
		if !(p >= 0 && p <= 1) {
			return Amplification{}, fmt.Errorf("audit: share %v is not in [0, 1]", p)
		}
	}
	if pTrain == parity {
		return Amplification{}, fmt.Errorf("audit: training share %v equals parity, so there is no bias direction to amplify", pTrain)
	}
	gen, err := MeanCI(pGen, level)
	if err != nil {
		return Amplification{}, err
	}
	dir := math.Copysign(1, pTrain-parity)
	shifts := make([]float64, len(pGen))
	for i, p := range pGen {
		shifts[i] = dir * (p - pTrain)
	}
	shift, err := MeanCI(shifts, level)
	if err != nil {
		return Amplification{}, err
	}
	return Amplification{Train: pTrain, Parity: parity, Generated: gen, Shift: shift, Verdict: verdictOf(shift)}, nil
}

// verdictOf reads a shift interval (positive = towards the bias).
func verdictOf(shift Interval) Verdict {
	switch {
	case shift.Lo > 0:
		return Amplifies
	case shift.Hi < 0:
		return Dampens
	}
	return Keeps
}
