// Package traintest holds the checks every family's tests make of its training task: that a run
// stopped and resumed from its checkpoint ends exactly where an uninterrupted run ends.
package traintest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/train"
)

// ResumeMatchesUninterrupted trains a task from newTask for steps steps in one go, and another
// for cut steps and then, rebuilt from scratch, resumed to steps in the same run folder. Both
// must end with bit-identical store variables (weights, optimizer states, RNG state: at least
// minVars of them) and the same value of the evaluation metric named metric (if not "").
func ResumeMatchesUninterrupted(t testing.TB, newTask func() train.Task, steps, cut, minVars int, metric string) {
	t.Helper()
	run := func(dir string, steps int, resume bool) (train.Task, *train.Result) {
		task := newTask()
		res, err := train.Run(context.Background(), task, train.Config{Steps: steps, Seed: 5, Dir: dir, Resume: resume,
			Progress: train.SilentProgress()})
		if err != nil {
			t.Fatal(err)
		}
		return task, res
	}
	whole, wholeRes := run(filepath.Join(t.TempDir(), "whole"), steps, false)
	dir := filepath.Join(t.TempDir(), "split")
	run(dir, cut, false)
	resumed, resumedRes := run(dir, steps, true)
	if resumedRes.StartStep != cut {
		t.Fatalf("resumed from step %d, want %d", resumedRes.StartStep, cut)
	}
	if n := SameStores(t, whole.Store(), resumed.Store()); n < minVars {
		t.Errorf("only %d variables compared, want at least %d", n, minVars)
	}
	if metric != "" {
		a, okA := wholeRes.Eval.Get(metric)
		b, okB := resumedRes.Eval.Get(metric)
		if !okA || !okB || a != b {
			t.Errorf("%s: %v (uninterrupted) vs %v (resumed)", metric, a, b)
		}
	}
}

// SameStores fails t unless every variable of want is in got with a bit-identical value, and
// returns the number of variables compared.
func SameStores(t testing.TB, want, got *model.Store) int {
	t.Helper()
	n := 0
	for v := range want.IterVariables() {
		w := got.GetVariable(v.Path())
		if w == nil {
			t.Fatalf("%s missing after resume", v.Path())
		}
		if !v.MustValue().Equal(w.MustValue()) {
			t.Errorf("%s differs between the uninterrupted and the resumed run", v.Path())
		}
		n++
	}
	return n
}
