package data

import "math/rand/v2"

// BatchIndices returns the example indices of training batch number step, for a dataset of n
// examples. Batches walk through a fresh permutation every epoch (dropping the remainder), and
// the permutation depends only on (seed, epoch): any step's batch can be recomputed without
// replaying the ones before it, which is what makes an interrupted run resume to the same result.
func BatchIndices(n, batchSize int, seed int64, step int) []int {
	if n <= 0 || batchSize <= 0 {
		return nil
	}
	if batchSize > n {
		// Sample with replacement when the set is smaller than a batch (tiny demos).
		r := rand.New(rand.NewPCG(uint64(seed), uint64(step)+1<<32))
		idx := make([]int, batchSize)
		for i := range idx {
			idx[i] = r.IntN(n)
		}
		return idx
	}
	perEpoch := n / batchSize
	epoch, k := step/perEpoch, step%perEpoch
	perm := rand.New(rand.NewPCG(uint64(seed), uint64(epoch))).Perm(n)
	return perm[k*batchSize : (k+1)*batchSize]
}
