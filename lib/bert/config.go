package bert

import (
	"fmt"

	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/gpt"
	"github.com/iagen-course/iagen/lib/train"
)

// Config of a character-level masked language model. The Transformer's fields mean what they
// mean in gpt.Config: the two families share the block.
type Config struct {
	Corpus  string `json:"corpus"`  // text corpus for data.LoadCorpus (gpt's)
	Context int    `json:"context"` // characters per window (T): also the number of learned positions
	DModel  int    `json:"d_model"`
	Heads   int    `json:"heads"`
	Layers  int    `json:"layers"`
	MLPMult int    `json:"mlp_mult"`

	// MaskRate is the share of positions of each window chosen for prediction (BERT: 0.15);
	// of those 80 % become [MASK], 10 % a random character and 10 % stay (Mask).
	MaskRate float64 `json:"mask_rate"`

	Batch         int     `json:"batch"` // windows per training step
	LearningRate  float64 `json:"learning_rate"`
	WeightDecay   float64 `json:"weight_decay"` // AdamW decoupled decay
	WarmupSteps   int     `json:"warmup_steps,omitempty"`
	DecaySteps    int     `json:"decay_steps,omitempty"` // cosine decay to MinLRFraction·LearningRate (0: constant)
	MinLRFraction float64 `json:"min_lr_fraction,omitempty"`
	Steps         int     `json:"steps"`

	// Evaluation on the validation split, in non-overlapping windows of Context characters:
	// the masked-token loss on the first EvalWindows windows (0: all) with fixed masks, and
	// the pseudo-log-likelihood of the first PLLWindows windows (each costs Context masked
	// copies).
	EvalBatch   int `json:"eval_batch"`
	EvalWindows int `json:"eval_windows,omitempty"`
	PLLWindows  int `json:"pll_windows"`

	// Prompts are the texts Sample fills, "_" marking each blank character; none: masked
	// validation windows next to their truth.
	Prompts []string `json:"prompts,omitempty"`
}

// transformer is the configuration of the shared Transformer block (lib/gpt).
func (c Config) transformer() gpt.Config {
	return gpt.Config{Corpus: c.Corpus, Context: c.Context, DModel: c.DModel, Heads: c.Heads, Layers: c.Layers, MLPMult: c.MLPMult}
}

// NumParams is the number of trainable parameters for a corpus of vocab characters: gpt's
// count for the same sizes plus the embedding row of [MASK] (the head predicts characters only).
func (c Config) NumParams(vocab int) int {
	return c.transformer().NumParams(vocab) + c.DModel
}

// Schedule is the learning-rate schedule: constant, or linear warm-up then cosine decay.
func (c Config) Schedule() train.Schedule {
	return gpt.Config{LearningRate: c.LearningRate, WarmupSteps: c.WarmupSteps, DecaySteps: c.DecaySteps,
		MinLRFraction: c.MinLRFraction}.Schedule()
}

// ProfileConfig returns the configuration of a profile:
//
//	ci     a 2-layer, 64-wide model, 16-character windows, 400 steps (seconds): the masked loss
//	       sits at the unigram baseline for the first ~250 steps, until attention finds the
//	       neighbours, so ci needs more steps than gpt's
//	small  gpt's bench model (context 64, d_model 128, 4 heads, 4 layers) with batch 64,
//	       warm-up and cosine decay, 3000 steps (≈ 250 ms a step on 2 free CPU cores with xla:cpu)
//	full   the same for 10 000 steps
//	bench  gpt's bench configuration with masking: batch 32, AdamW lr 1e-3 constant, 1500 steps
func ProfileConfig(profile string) (Config, error) {
	c := Config{Corpus: "es-rv1909", Context: 64, DModel: 128, Heads: 4, Layers: 4, MLPMult: 4, MaskRate: 0.15,
		Batch: 32, LearningRate: 1e-3, WeightDecay: 0.1, Steps: 1500, EvalBatch: 64, EvalWindows: 512, PLLWindows: 32}
	switch profile {
	case "bench":
	case "small":
		c.Batch, c.Steps, c.WarmupSteps, c.DecaySteps, c.MinLRFraction = 64, 3000, 100, 3000, 0.1
	case "full":
		c.Batch, c.Steps, c.WarmupSteps, c.DecaySteps, c.MinLRFraction = 64, 10000, 200, 10000, 0.1
		c.EvalWindows, c.PLLWindows = 0, 64
	case "ci":
		c.Context, c.DModel, c.Heads, c.Layers = 16, 64, 2, 2
		c.Batch, c.LearningRate, c.Steps = 32, 3e-3, 400
		c.EvalBatch, c.EvalWindows, c.PLLWindows = 32, 128, 8
	default:
		return Config{}, family.CheckProfile(profile)
	}
	return c, nil
}

// Check reports a configuration that cannot be built.
func (c Config) Check() error {
	t := c.transformer()
	t.Batch, t.EvalBatch, t.LearningRate = c.Batch, c.EvalBatch, c.LearningRate
	if err := t.Check(); err != nil {
		return fmt.Errorf("bert: %w", err) // gpt's checks of the shared sizes
	}
	if !(c.MaskRate > 0 && c.MaskRate <= 1) {
		return fmt.Errorf("bert: mask_rate must be in (0, 1], got %g", c.MaskRate)
	}
	if c.EvalWindows < 0 || c.PLLWindows < 0 {
		return fmt.Errorf("bert: eval_windows (%d) and pll_windows (%d) must be ≥ 0", c.EvalWindows, c.PLLWindows)
	}
	return nil
}
