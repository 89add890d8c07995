package tabular

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Logistic is a fitted logistic regression: P(y = 1 | x) = sigmoid(w·x + b).
type Logistic struct {
	W []float64 `json:"w"`
	B float64   `json:"b"`
}

// Settings of FitLogistic: full-batch gradient descent on the mean log-loss plus an L2 penalty
// λ/2·|w|² (the penalty keeps w finite on separable data, where the unpenalised optimum is at
// infinity).
const (
	logisticIterations = 2000
	logisticL2         = 1e-3
)

// FitLogistic fits a logistic regression of y on the rows of x (n × d) by gradient descent on
//
//	L(w, b) = −(1/n) Σ_i [y_i log p_i + (1 − y_i) log(1 − p_i)] + λ/2 |w|²,  p_i = sigmoid(w·x_i + b),
//
// whose gradient is (1/n) Σ_i (p_i − y_i) x_i + λw (and (1/n) Σ_i (p_i − y_i) for b). The loss
// is convex, so the result depends only on the data. Both classes must occur.
func FitLogistic(x [][]float64, y []bool) (*Logistic, error) {
	n := len(x)
	if n == 0 || n != len(y) {
		return nil, fmt.Errorf("tabular: logistic regression on %d rows with %d labels", n, len(y))
	}
	if !slices.Contains(y, true) || !slices.Contains(y, false) {
		return nil, fmt.Errorf("tabular: logistic regression needs both classes among the %d labels", n)
	}
	d := len(x[0])
	for i, row := range x {
		if len(row) != d {
			return nil, fmt.Errorf("tabular: logistic regression: row %d has %d features, want %d", i, len(row), d)
		}
	}
	// Step 1/L, L bounding the curvature: the Hessian is (1/n) Σ p(1−p) x̃x̃ᵀ + λI with x̃ = (x, 1),
	// so its largest eigenvalue is at most ¼ · mean |x̃|² (its trace) + λ; a step of 1/L never
	// overshoots (Nesterov 2004, §2.1.5).
	var sq float64
	for _, row := range x {
		for _, v := range row {
			sq += v * v
		}
	}
	rate := 1 / (0.25*(sq/float64(n)+1) + logisticL2)
	l := &Logistic{W: make([]float64, d)}
	grad := make([]float64, d)
	for range logisticIterations {
		clear(grad)
		var gradB float64
		for i, row := range x {
			r := l.Prob(row)
			if y[i] {
				r--
			}
			for j, v := range row {
				grad[j] += r * v
			}
			gradB += r
		}
		for j := range l.W {
			l.W[j] -= rate * (grad[j]/float64(n) + logisticL2*l.W[j])
		}
		l.B -= rate * gradB / float64(n)
	}
	return l, nil
}

// Prob is P(y = 1 | x).
func (l *Logistic) Prob(x []float64) float64 {
	s := l.B
	for j, v := range x {
		s += l.W[j] * v
	}
	return 1 / (1 + math.Exp(-s))
}

// Score returns the accuracy (threshold ½) and the AUC of l on the rows x with labels y.
func (l *Logistic) Score(x [][]float64, y []bool) (accuracy, auc float64, err error) {
	if len(x) == 0 || len(x) != len(y) {
		return 0, 0, fmt.Errorf("tabular: scoring %d rows with %d labels", len(x), len(y))
	}
	p := make([]float64, len(x))
	var correct int
	for i, row := range x {
		p[i] = l.Prob(row)
		if (p[i] >= 0.5) == y[i] {
			correct++
		}
	}
	auc, err = AUC(p, y)
	return float64(correct) / float64(len(x)), auc, err
}

// AUC is the area under the ROC curve of the scores for the labels: the probability that a
// random positive scores above a random negative, ties counting ½ (the Mann–Whitney U statistic
// over n₊·n₋; Hanley & McNeil 1982). ½ is chance, 1 a perfect ranking.
func AUC(scores []float64, y []bool) (float64, error) {
	if len(scores) != len(y) {
		return 0, fmt.Errorf("tabular: %d scores for %d labels", len(scores), len(y))
	}
	idx := make([]int, len(scores))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return scores[idx[a]] < scores[idx[b]] })
	// Sum of the (mid-)ranks of the positives.
	var rankSum float64
	var pos int
	for start := 0; start < len(idx); {
		end := start
		for end < len(idx) && scores[idx[end]] == scores[idx[start]] {
			end++
		}
		mid := float64(start+end+1) / 2 // ranks start+1 … end, averaged
		for _, i := range idx[start:end] {
			if y[i] {
				rankSum += mid
				pos++
			}
		}
		start = end
	}
	neg := len(y) - pos
	if pos == 0 || neg == 0 {
		return 0, fmt.Errorf("tabular: AUC needs both classes among %d labels", len(y))
	}
	return (rankSum - float64(pos)*float64(pos+1)/2) / (float64(pos) * float64(neg)), nil
}
