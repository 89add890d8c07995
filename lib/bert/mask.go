package bert

import (
	"math"
	"math/rand/v2"
)

// Shares of BERT's corruption of a chosen position (Devlin et al. 2019, §3.1 "Task #1: Masked
// LM"): [MASK] most of the time; sometimes a random token, sometimes the token itself, so that
// the model cannot assume that only [MASK] positions are predicted and must keep a
// representation of every input character.
const (
	maskShare   = 0.8
	randomShare = 0.1 // the remaining 0.1 are left unchanged
)

// Masked is a batch of windows corrupted for the masked-LM loss: Inputs are what the model
// sees, Targets the original characters and Weights 1 at the chosen positions, 0 elsewhere
// (each [rows·length], row-major).
type Masked struct {
	Inputs, Targets []int32
	Weights         []float32
}

// Mask corrupts windows (rows of length characters, ids below vocab) with BERT's scheme: in
// each row, k = max(1, round(rate·length)) positions are chosen uniformly without replacement
// (as the original implementation's fixed number of predictions per sequence; at least one, so
// no row is wasted); each chosen position becomes maskID with probability 0.8, a character
// drawn uniformly from the vocab (possibly itself) with probability 0.1, and stays with
// probability 0.1. The loss is the cross-entropy of Targets at the chosen positions only
// (Weights). Everything is drawn from r: the same state gives the same corruption.
func Mask(windows []int32, length, vocab int, maskID int32, rate float64, r *rand.Rand) Masked {
	n := len(windows)
	m := Masked{Inputs: append([]int32(nil), windows...), Targets: append([]int32(nil), windows...), Weights: make([]float32, n)}
	if length < 1 || n%length != 0 {
		return m
	}
	k := max(1, min(length, int(math.Round(rate*float64(length)))))
	perm := make([]int, length)
	for row := 0; row < n; row += length {
		for i := range perm {
			perm[i] = i
		}
		for i := range k { // partial Fisher–Yates: perm[:k] is a uniform k-subset
			j := i + r.IntN(length-i)
			perm[i], perm[j] = perm[j], perm[i]
			p := row + perm[i]
			m.Weights[p] = 1
			switch u := r.Float64(); {
			case u < maskShare:
				m.Inputs[p] = maskID
			case u < maskShare+randomShare:
				m.Inputs[p] = int32(r.IntN(vocab))
			}
		}
	}
	return m
}
