package flow

import (
	"fmt"

	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/train"
)

// Config of a RealNVP. The architecture's fields (Arch) are at the top level of the JSON:
// layers, hidden, alpha.
type Config struct {
	Arch

	Batch        int     `json:"batch"`
	LearningRate float64 `json:"learning_rate"` // Adam, β = (0.9, 0.999), ε = 1e-8
	// Warmup steps of linear learning-rate warm-up: a flow's first steps, with exp(s) and the
	// ActNorms far from their final values, are where it diverges.
	Warmup int `json:"warmup,omitempty"`
	// Decay of the learning rate after the warm-up: "" (constant), "linear" or "cosine"
	// (train.Schedule), reaching MinLRFraction·learning_rate at the last step.
	Decay         string  `json:"decay,omitempty"`
	MinLRFraction float64 `json:"min_lr_fraction,omitempty"`
	// ClipNorm clips the gradients to this global norm before Adam (0: not clipped): one batch
	// the flow fits badly gives a gradient many times the usual, whose step can throw the
	// couplings off for hundreds of steps.
	ClipNorm float64 `json:"clip_norm,omitempty"`
	Steps    int     `json:"steps"`
	// Skew trains on a deliberately unbalanced MNIST (imagegen.Skew: the amplification audit).
	Skew *imagegen.Skew `json:"skew,omitempty"`

	// Sampling is the sampler of samples (`iagen sample flow --set temperature=0.7`) and of
	// every evaluation (temperature 1: the model's own distribution).
	Sampling Sampling `json:"sampling"`
	// SampleBatch images go through each call of the inverse (and of the test bits/dim), the
	// last batch padded, so that each graph compiles once.
	SampleBatch int `json:"sample_batch"`
	// EvalSamples generated images are scored against as many training and test images in the
	// reference classifier's feature space (BENCH.md: 10,000).
	EvalSamples int `json:"eval_samples"`
	// EvalTestImages test images give the test bits/dim, each with its dequantization noise
	// fixed (EvalSeed): the whole test set (10,000) but in ci.
	EvalTestImages int `json:"eval_test_images"`
	// Dataset is the training and test set: "" or "mnist" (every profile), or "fashion-mnist"
	// (data.LoadFashionMNIST: Nalisnick et al. 2019's out-of-distribution experiment). The
	// evaluation's sample metrics use the digit classifier, so they are left out on Fashion-MNIST.
	Dataset string `json:"dataset,omitempty"`
}

// Dataset names accepted by Config.Dataset besides "".
const (
	MNIST        = "mnist"
	FashionMNIST = "fashion-mnist"
)

// loadSplits loads the training and test images of c.Dataset from the data folder dir, the
// training images skewed by c.Skew.
func (c Config) loadSplits(dir string) (trainSet, testSet *data.Images, err error) {
	if c.Dataset != FashionMNIST {
		trainSet, testSet, err = data.LoadMNISTSplits(dir)
	} else if trainSet, err = data.LoadFashionMNIST(dir, data.Train); err == nil {
		testSet, err = data.LoadFashionMNIST(dir, data.Test)
	}
	if err != nil {
		return nil, nil, err
	}
	trainSet, err = c.Skew.Apply(trainSet)
	return trainSet, testSet, err
}

// Sampling are the options of the sampler: z ~ N(0, T²·I), then the exact inverse of the flow.
type Sampling struct {
	// Temperature T scales the prior's standard deviation: 1 samples the model's distribution,
	// T < 1 trades diversity for cleaner digits (Kingma & Dhariwal 2018, §5).
	Temperature float64 `json:"temperature"`
}

// Check reports what keeps s from sampling.
func (s Sampling) Check() error {
	if !(s.Temperature > 0) {
		return fmt.Errorf("flow: temperature %g must be > 0", s.Temperature)
	}
	return nil
}

// ProfileConfig returns the configuration of a profile:
//
//   - ci: 2 couplings of 8 channels, batch 32, 150 steps at lr 1e-3 after a 20-step warm-up
//     (seconds); test bits/dim on 500 test images, 200 samples scored;
//   - small: BENCH.md's flow made multi-scale — 3 scales of 4 couplings of 64 channels (see the
//     package documentation: a cheaper step, and 1.369 test bits/dim against the single
//     scale's 1.407 in the same 6,000 steps, with far better samples) — with a 200-step
//     warm-up, a cosine decay of the learning rate to 5 % and gradients clipped to norm 10,
//     meant for BENCH.md's "pass" (≤ 1.15 test bits/dim) within two hours on 2 CPU cores;
//   - full: the same for 30,000 steps;
//   - bench: BENCH.md exactly (8 couplings of 64 channels, α = 0.05, batch 64, Adam at 1e-3).
func ProfileConfig(profile string) (Config, error) {
	bench := Config{Arch: Arch{Layers: 8, Hidden: 64, Alpha: 0.05}, Batch: 64, LearningRate: 1e-3, Steps: 6000,
		Sampling: Sampling{Temperature: 1}, SampleBatch: 100, EvalSamples: 10000, EvalTestImages: 10000}
	switch profile {
	case "ci":
		c := bench
		c.Arch = Arch{Layers: 2, Hidden: 8, Alpha: 0.05}
		c.Batch, c.Warmup, c.Steps, c.EvalSamples, c.EvalTestImages = 32, 20, 150, 200, 500
		return c, nil
	case "small", "full":
		c := bench
		c.Scales, c.Layers = 3, 4
		c.Warmup, c.Decay, c.MinLRFraction, c.ClipNorm = 200, "cosine", 0.05, 10
		if profile == "full" {
			c.Steps = 30000
		}
		return c, nil
	case "bench":
		return bench, nil
	}
	return Config{}, family.CheckProfile(profile)
}

// schedule is the learning rate of the configuration (train.Schedule).
func (c Config) schedule() train.Schedule {
	return train.Schedule{LearningRate: c.LearningRate, Warmup: c.Warmup, Decay: c.Decay, DecaySteps: c.Steps, MinFraction: c.MinLRFraction}
}

// Check reports the first thing wrong with c.
func (c Config) Check() error {
	switch {
	case c.Layers < 1 || c.Hidden < 1:
		return fmt.Errorf("flow: layers (%d) and hidden (%d) must be ≥ 1", c.Layers, c.Hidden)
	case c.Scales < 0 || c.Scales > 3:
		return fmt.Errorf("flow: scales %d must be in 0…3 (28×28 images halve twice: 28, 14, 7)", c.Scales)
	case c.InvConv && c.Scales < 2:
		return fmt.Errorf("flow: inv_conv mixes channels, which only the scales after the first have: it needs scales ≥ 2 (got %d)", c.Scales)
	case !(c.Alpha > 0 && c.Alpha < 0.5):
		return fmt.Errorf("flow: alpha %g must be in (0, 0.5)", c.Alpha)
	case c.ClipNorm < 0:
		return fmt.Errorf("flow: clip_norm %g must be ≥ 0 (0: no clipping)", c.ClipNorm)
	case c.Batch < 1 || c.Steps < 0 || c.Warmup < 0:
		return fmt.Errorf("flow: batch (%d) must be ≥ 1, steps (%d) and warmup (%d) ≥ 0", c.Batch, c.Steps, c.Warmup)
	case c.Dataset != "" && c.Dataset != MNIST && c.Dataset != FashionMNIST:
		return fmt.Errorf("flow: dataset %q: want %q or %q", c.Dataset, MNIST, FashionMNIST)
	case c.SampleBatch < 1 || c.EvalSamples < 10 || c.EvalTestImages < 1:
		return fmt.Errorf("flow: sample_batch (%d) and eval_test_images (%d) must be ≥ 1, eval_samples (%d) ≥ 10",
			c.SampleBatch, c.EvalTestImages, c.EvalSamples)
	}
	if err := c.schedule().Check(); err != nil {
		return fmt.Errorf("flow: %w", err)
	}
	return c.Sampling.Check()
}
