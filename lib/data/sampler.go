package data

import (
	"math/rand/v2"
	"sync"
)

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
	perm := epochPermutation(n, seed, epoch)
	return append([]int(nil), perm[k*batchSize:(k+1)*batchSize]...)
}

// permCache keeps the permutations last used, one per (n, seed): drawing a 60,000-element
// permutation costs about 2 ms, as much as half a VAE step, and consecutive steps share it.
var permCache struct {
	sync.Mutex
	perms map[[2]int64]cachedPerm
}

type cachedPerm struct {
	epoch int
	perm  []int
}

// epochPermutation is the permutation of 0..n-1 of epoch under seed (read-only: shared).
func epochPermutation(n int, seed int64, epoch int) []int {
	permCache.Lock()
	defer permCache.Unlock()
	key := [2]int64{int64(n), seed}
	if c, ok := permCache.perms[key]; ok && c.epoch == epoch {
		return c.perm
	}
	if permCache.perms == nil || len(permCache.perms) > 16 { // a few datasets and seeds at a time
		permCache.perms = map[[2]int64]cachedPerm{}
	}
	perm := rand.New(rand.NewPCG(uint64(seed), uint64(epoch))).Perm(n)
	permCache.perms[key] = cachedPerm{epoch, perm}
	return perm
}
