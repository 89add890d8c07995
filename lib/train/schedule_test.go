package train

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// TestScheduleClosedForms checks every kind of schedule against its formula written out.
func TestScheduleClosedForms(t *testing.T) {
	const lr = 1e-3
	cases := []struct {
		name string
		s    Schedule
		step int
		want float64
	}{
		{"constant", Schedule{LearningRate: lr}, 12345, lr},
		{"warm-up first step", Schedule{LearningRate: lr, Warmup: 10}, 0, lr / 10},
		{"warm-up middle", Schedule{LearningRate: lr, Warmup: 10}, 4, lr / 2},
		{"warm-up then constant", Schedule{LearningRate: lr, Warmup: 10}, 10, lr},
		{"linear start", Schedule{LearningRate: lr, Decay: "linear", DecaySteps: 100}, 0, lr},
		{"linear quarter", Schedule{LearningRate: lr, Decay: "linear", DecaySteps: 100}, 25, 0.75 * lr},
		{"linear end", Schedule{LearningRate: lr, Decay: "linear", DecaySteps: 100}, 100, 0},
		{"linear past the end", Schedule{LearningRate: lr, Decay: "linear", DecaySteps: 100}, 500, 0},
		{"linear floor", Schedule{LearningRate: lr, Decay: "linear", DecaySteps: 100, MinFraction: 0.2}, 50, lr * (0.2 + 0.8*0.5)},
		{"cosine middle", Schedule{LearningRate: lr, Warmup: 10, Decay: "cosine", DecaySteps: 110, MinFraction: 0.1}, 60, lr * (0.1 + 0.9*0.5)},
		{"cosine quarter", Schedule{LearningRate: lr, Decay: "cosine", DecaySteps: 100}, 25, lr * 0.5 * (1 + math.Cos(math.Pi/4))},
		{"cosine end", Schedule{LearningRate: lr, Warmup: 10, Decay: "cosine", DecaySteps: 110, MinFraction: 0.1}, 110, 0.1 * lr},
		{"cool-down not begun", Schedule{LearningRate: lr, Warmup: 10, Decay: "linear", DecaySteps: 110, Cooldown: 20}, 89, lr},
		{"cool-down first step", Schedule{LearningRate: lr, Warmup: 10, Decay: "linear", DecaySteps: 110, Cooldown: 20}, 90, lr},
		{"cool-down quarter", Schedule{LearningRate: lr, Warmup: 10, Decay: "linear", DecaySteps: 110, Cooldown: 20}, 95, 0.75 * lr},
		{"cool-down end", Schedule{LearningRate: lr, Warmup: 10, Decay: "linear", DecaySteps: 110, Cooldown: 20}, 110, 0},
		{"cool-down longer than the run", Schedule{LearningRate: lr, Warmup: 10, Decay: "linear", DecaySteps: 110, Cooldown: 500}, 35, 0.75 * lr},
		{"cosine after end", Schedule{LearningRate: lr, Warmup: 10, Decay: "cosine", DecaySteps: 110, MinFraction: 0.1}, 1000, 0.1 * lr},
	}
	for _, tc := range cases {
		if err := tc.s.Check(); err != nil {
			t.Errorf("%s: Check: %v", tc.name, err)
		}
		if got := tc.s.At(tc.step); !(math.Abs(got-tc.want) <= 1e-15) {
			t.Errorf("%s: At(%d) = %g, want %g", tc.name, tc.step, got, tc.want)
		}
	}
}

func TestScheduleCheckRejects(t *testing.T) {
	for _, s := range []Schedule{
		{LearningRate: 0},
		{LearningRate: math.NaN()},
		{LearningRate: 1, Warmup: -1},
		{LearningRate: 1, Decay: "exponential", DecaySteps: 10},
		{LearningRate: 1, Decay: "cosine", Warmup: 10, DecaySteps: 10},
		{LearningRate: 1, MinFraction: 1.5},
		{LearningRate: 1, Decay: "linear", DecaySteps: 10, Cooldown: -1},
		{LearningRate: 1, DecaySteps: 10, Cooldown: 5},
	} {
		if s.Check() == nil {
			t.Errorf("Check accepted %+v", s)
		}
	}
}

// TestSetLearningRate checks that the optimizer's learning-rate variable holds the fed value
// after each step.
func TestSetLearningRate(t *testing.T) {
	b := testBackend(t)
	store := model.NewStore()
	e, err := model.NewExec(b, store, func(scope *model.Scope, lr *graph.Node) *graph.Node {
		SetLearningRate(scope, lr)
		return lr
	})
	if err != nil {
		t.Fatal(err)
	}
	s := Schedule{LearningRate: 0.5, Decay: "linear", DecaySteps: 4}
	for step := range 5 {
		if _, err := e.Call(float32(s.At(step))); err != nil {
			t.Fatal(err)
		}
		v := store.GetVariable("/" + optimizer.Scope + "/" + optimizer.ParamLearningRate)
		if v == nil {
			t.Fatal("no learning-rate variable")
		}
		got, _ := Scalar(v.MustValue())
		if want := s.At(step); !(math.Abs(got-want) <= 1e-7) {
			t.Errorf("step %d: learning rate %g, want %g", step, got, want)
		}
	}
}
