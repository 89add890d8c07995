package audit

import (
	"fmt"
	"math/rand/v2"

	"github.com/iagen-course/iagen/lib/metrics"
)

// Separability scores how well two feature sets (real and generated, say) can be told apart:
// the accuracy of a 1-nearest-neighbour classifier trained on one half of each set and tested
// on the other half — the classifier two-sample test of Lopez-Paz & Oquab (2017), "Revisiting
// Classifier Two-Sample Tests" (ICLR). About ½ means the classifier cannot separate them
// (samples indistinguishable from real ones, in these features); about 1 means every sample
// betrays its origin. 1-NN, unlike a linear classifier or a nearest centroid, sees any
// difference of distribution, not only of means.
//
// Both sets are cut to the size m of the smaller one, so the two classes are balanced;
// the rows are shuffled with seed (the same seed gives the same answer), the first ⌊m/2⌋ of
// each are the training half and the next ⌊m/2⌋ the test half. The result is the share of the
// 2⌊m/2⌋ test rows classified correctly, with its Wilson interval at level: under the null
// hypothesis of equal distributions the count is Binomial(2⌊m/2⌋, ½), so an interval above ½
// is evidence that the sets differ. Ties go to the nearest row of a (lowest index first).
// Cost: brute force, (m/2)²·2 distance evaluations.
func Separability(a, b metrics.Matrix, seed uint64, level float64) (Interval, error) {
	if err := checkLevel(level); err != nil {
		return Interval{}, err
	}
	if err := checkFeatures("first feature set", a); err != nil {
		return Interval{}, err
	}
	if err := checkFeatures("second feature set", b); err != nil {
		return Interval{}, err
	}
	if a.Cols != b.Cols {
		return Interval{}, fmt.Errorf("audit: feature sets have %d and %d columns", a.Cols, b.Cols)
	}
	half := min(a.Rows, b.Rows) / 2
	if half < 1 {
		return Interval{}, fmt.Errorf("audit: separability needs at least 2 rows per set, got %d and %d", a.Rows, b.Rows)
	}
	r := rand.New(rand.NewPCG(seed, 0x7365706172))
	split := func(m metrics.Matrix) (train, test metrics.Matrix) {
		perm := r.Perm(m.Rows)
		train = metrics.Matrix{Rows: half, Cols: m.Cols, Data: make([]float32, 0, half*m.Cols)}
		test = metrics.Matrix{Rows: half, Cols: m.Cols, Data: make([]float32, 0, half*m.Cols)}
		for k := range half {
			train.Data = append(train.Data, m.Row(perm[k])...)
			test.Data = append(test.Data, m.Row(perm[half+k])...)
		}
		return train, test
	}
	trainA, testA := split(a)
	trainB, testB := split(b)
	// One reference set: rows [0, half) come from a, [half, 2·half) from b.
	ref := metrics.Matrix{Rows: 2 * half, Cols: a.Cols, Data: append(trainA.Data, trainB.Data...)}
	correct := 0
	for _, tc := range []struct {
		test  metrics.Matrix
		fromA bool
	}{{testA, true}, {testB, false}} {
		idx, _, err := nearest(tc.test, ref)
		if err != nil {
			return Interval{}, err
		}
		for _, j := range idx {
			if (j < half) == tc.fromA {
				correct++
			}
		}
	}
	return WilsonInterval(correct, 2*half, level)
}
