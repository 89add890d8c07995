package data

import (
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
