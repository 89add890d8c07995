package train

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// Schedule is the learning rate of every family as a function of the (0-based) step: an
// optional linear warm-up over Warmup steps, then, with Decay set, a decay until step
// DecaySteps to MinFraction·LearningRate, which is kept afterwards. The decay starts at step
// s₀ = Warmup, or with Cooldown > 0 at s₀ = max(Warmup, DecaySteps − Cooldown): the rate stays
// constant until a short decay at the end (warm-up, stable, decay; Hägele et al. 2024, "Scaling
// Laws and Compute-Optimal Training Beyond Fixed Training Durations", §3).
//
//	warm-up  lr·(s+1)/Warmup                                 for s < Warmup
//	linear   lr·(m + (1−m)·(1 − p))                          p = (s − s₀)/(DecaySteps − s₀) ∈ [0, 1]
//	cosine   lr·(m + (1−m)·½(1 + cos πp))                    (Loshchilov & Hutter 2017, SGDR eq. 5, one period)
//
// It is computed on the host and fed to the step's graph as a scalar input (SetLearningRate), so
// a resumed run follows the same schedule and every backend sees the same number.
type Schedule struct {
	LearningRate float64
	Warmup       int     // steps of linear warm-up from lr/Warmup to lr; 0: none
	Decay        string  // "" (constant after warm-up), "linear" or "cosine"
	DecaySteps   int     // the step at which the decay reaches its floor
	MinFraction  float64 // the floor, as a fraction of LearningRate
	Cooldown     int     // steps the decay takes, ending at DecaySteps; 0: all after the warm-up
}

// Check reports a schedule that cannot be followed.
func (s Schedule) Check() error {
	switch {
	case !(s.LearningRate > 0):
		return fmt.Errorf("learning rate %g must be > 0", s.LearningRate)
	case s.Warmup < 0 || s.Cooldown < 0 || s.MinFraction < 0 || s.MinFraction > 1:
		return fmt.Errorf("warm-up %d and cool-down %d must be ≥ 0 and the minimum fraction %g in [0, 1]", s.Warmup, s.Cooldown, s.MinFraction)
	case s.Decay != "" && s.Decay != "linear" && s.Decay != "cosine":
		return fmt.Errorf("unknown learning-rate decay %q (use linear or cosine, or none)", s.Decay)
	case s.Decay == "" && s.Cooldown > 0:
		return fmt.Errorf("a cool-down (%d steps) needs a decay to follow (linear or cosine)", s.Cooldown)
	case s.Decay != "" && s.DecaySteps <= s.Warmup:
		return fmt.Errorf("the decay must end (step %d) after the warm-up (%d steps)", s.DecaySteps, s.Warmup)
	}
	return nil
}

// At returns the learning rate of step (0-based).
func (s Schedule) At(step int) float64 {
	lr := s.LearningRate
	if s.Warmup > 0 && step < s.Warmup {
		return lr * float64(step+1) / float64(s.Warmup)
	}
	if s.Decay == "" || s.DecaySteps <= s.Warmup {
		return lr
	}
	start := s.Warmup
	if s.Cooldown > 0 {
		start = max(start, s.DecaySteps-s.Cooldown)
	}
	p := min(1, max(0, float64(step-start)/float64(s.DecaySteps-start)))
	f := 1 - p
	if s.Decay == "cosine" {
		f = 0.5 * (1 + math.Cos(math.Pi*p))
	}
	return lr * (s.MinFraction + (1-s.MinFraction)*f)
}

// SetLearningRate makes the optimizer under scope (the scope its step was built with, e.g. a
// GAN player's) use lr in this step: a scalar input of the step's graph holding
// Schedule.At(step).
func SetLearningRate(scope *model.Scope, lr *graph.Node) {
	optimizer.LearningRateVar(scope, dtypes.Float32, 0).SetNodeValue(graph.ConvertDType(lr, dtypes.Float32))
}
