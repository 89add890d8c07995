package data

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBatchIndicesCoversEpochAndIsDeterministic(t *testing.T) {
	const n, bs = 100, 10
	seen := make([]int, n)
	for step := range n / bs {
		idx := BatchIndices(n, bs, 7, step)
		if len(idx) != bs {
			t.Fatalf("step %d: got %d indices, want %d", step, len(idx), bs)
		}
		for _, i := range idx {
			seen[i]++
		}
		if !slices.Equal(idx, BatchIndices(n, bs, 7, step)) {
			t.Fatalf("step %d: batch not reproducible", step)
		}
	}
	for i, c := range seen {
		if c != 1 {
			t.Fatalf("example %d seen %d times in one epoch, want 1", i, c)
		}
	}
	if slices.Equal(BatchIndices(n, bs, 7, 0), BatchIndices(n, bs, 7, n/bs)) {
		t.Fatal("epoch 1 repeats epoch 0's order")
	}
	if slices.Equal(BatchIndices(n, bs, 7, 0), BatchIndices(n, bs, 8, 0)) {
		t.Fatal("different seeds give the same batch")
	}
}

func TestBatchIndicesSmallSet(t *testing.T) {
	idx := BatchIndices(3, 8, 1, 5)
	if len(idx) != 8 {
		t.Fatalf("got %d indices, want 8", len(idx))
	}
	for _, i := range idx {
		if i < 0 || i >= 3 {
			t.Fatalf("index %d out of range", i)
		}
	}
	if BatchIndices(0, 8, 1, 0) != nil {
		t.Fatal("empty set should give no batch")
	}
}

// The permutation cache changes nothing: batches equal the uncached definition in any order of
// steps, seeds and dataset sizes, and a caller writing into its batch cannot corrupt the next.
func TestBatchIndicesCacheIsTransparent(t *testing.T) {
	direct := func(n, bs int, seed int64, step int) []int {
		perEpoch := n / bs
		perm := rand.New(rand.NewPCG(uint64(seed), uint64(step/perEpoch))).Perm(n)
		return perm[step%perEpoch*bs : (step%perEpoch+1)*bs]
	}
	for _, c := range []struct {
		n, bs int
		seed  int64
		step  int
	}{{100, 10, 1, 0}, {100, 10, 1, 25}, {100, 10, 2, 25}, {60, 7, 1, 3}, {100, 10, 1, 1}, {100, 10, 1, 0}} {
		got := BatchIndices(c.n, c.bs, c.seed, c.step)
		if want := direct(c.n, c.bs, c.seed, c.step); !slices.Equal(got, want) {
			t.Errorf("%+v: %v, want %v", c, got, want)
		}
		got[0] = -1
	}
}

func BenchmarkBatchIndicesMNIST(b *testing.B) {
	for i := range b.N {
		BatchIndices(60000, 64, 42, i)
	}
}
