package classifier

import (
	"fmt"

	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/train"
)

// Config of the classifier.
type Config struct {
	Arch         string  `json:"arch"`   // "mlp" (784→Hidden→10) or "cnn" (3 convs → Hidden → 10)
	Hidden       int     `json:"hidden"` // width of the penultimate layer: the feature dimension
	Batch        int     `json:"batch"`
	LearningRate float64 `json:"learning_rate"`
	CosineDecay  bool    `json:"cosine_decay"` // anneal the learning rate to 1% over Steps (Loshchilov & Hutter 2017)
	Steps        int     `json:"steps"`
	EvalImages   int     `json:"eval_images"` // test images scored by Evaluate (0: all 10,000)
}

// ProfileConfig returns the configuration of a profile. ci is a small MLP that trains in
// seconds (≈95% accuracy); small, full and bench are the CNN whose features the image metrics
// use (≥99% test accuracy).
func ProfileConfig(profile string) (Config, error) {
	switch profile {
	case "ci":
		return Config{Arch: "mlp", Hidden: 128, Batch: 64, LearningRate: 1e-3, Steps: 1000, EvalImages: 2000}, nil
	case "small", "bench":
		return Config{Arch: "cnn", Hidden: 128, Batch: 64, LearningRate: 1e-3, CosineDecay: true, Steps: 4000}, nil
	case "full":
		return Config{Arch: "cnn", Hidden: 128, Batch: 64, LearningRate: 1e-3, CosineDecay: true, Steps: 8000}, nil
	}
	return Config{}, family.CheckProfile(profile)
}

// Check reports the first thing wrong with c.
func (c Config) Check() error {
	switch {
	case c.Arch != "mlp" && c.Arch != "cnn":
		return fmt.Errorf("classifier: arch %q: use \"mlp\" or \"cnn\"", c.Arch)
	case c.Hidden < 1 || c.Batch < 1 || c.Steps < 0 || c.EvalImages < 0:
		return fmt.Errorf("classifier: hidden (%d) and batch (%d) must be ≥ 1, steps (%d) and eval_images (%d) ≥ 0",
			c.Hidden, c.Batch, c.Steps, c.EvalImages)
	}
	return c.schedule().Check()
}

// schedule is the learning rate: constant, or with CosineDecay annealed to 1% over Steps.
func (c Config) schedule() train.Schedule {
	if !c.CosineDecay {
		return train.Schedule{LearningRate: c.LearningRate}
	}
	return train.Schedule{LearningRate: c.LearningRate, Decay: "cosine", DecaySteps: c.Steps, MinFraction: 0.01}
}
