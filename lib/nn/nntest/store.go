package nntest

import (
	"testing"

	"github.com/gomlx/gomlx/ml/model"
)

// SeededStore returns a store whose initializers are seeded, so that every run of a test checks
// the same network. Finite differences need it: across a ReLU's kink a central difference measures
// the kink, not the derivative, and an unseeded network lands a point near one now and then.
func SeededStore(tb testing.TB) *model.Store {
	tb.Helper()
	store := model.NewStore()
	store.SetParam(model.ParamInitialSeed, int64(5))
	if err := store.SetRNGStateFromSeed(5); err != nil {
		tb.Fatal(err)
	}
	return store
}
