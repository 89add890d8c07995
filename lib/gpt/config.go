package gpt

import (
	"fmt"

	"github.com/iagen-course/iagen/lib/family"
)

// Config of a character-level GPT.
type Config struct {
	Corpus  string `json:"corpus"`  // text corpus for data.LoadText
	Context int    `json:"context"` // characters the model sees (T): also the number of learned positions
	DModel  int    `json:"d_model"` // width of the residual stream (D)
	Heads   int    `json:"heads"`   // attention heads (H); head dimension = DModel / Heads
	Layers  int    `json:"layers"`  // Transformer blocks
	MLPMult int    `json:"mlp_mult"`

	// TrainFraction in (0, 1] trains on the first part of the corpus's training split only
	// (data.LoadCorpus; 0: all of it), scored on the same validation text.
	TrainFraction float64 `json:"train_fraction,omitempty"`

	Batch        int     `json:"batch"` // windows per training step
	LearningRate float64 `json:"learning_rate"`
	WeightDecay  float64 `json:"weight_decay"` // AdamW decoupled decay, on every trainable variable
	// WarmupSteps and DecaySteps shape the learning rate: linear warm-up from 0 over WarmupSteps,
	// then cosine decay to MinLRFraction·LearningRate at step DecaySteps (0: constant rate, as in
	// BENCH.md).
	WarmupSteps   int     `json:"warmup_steps,omitempty"`
	DecaySteps    int     `json:"decay_steps,omitempty"`
	MinLRFraction float64 `json:"min_lr_fraction,omitempty"`
	Steps         int     `json:"steps"` // default training length of the profile

	// Evaluation: EvalWindows > 0 scores only the first EvalWindows windows of the validation
	// split (ci profile); 0 scores all of them (BENCH.md's protocol).
	EvalBatch   int `json:"eval_batch"`
	EvalWindows int `json:"eval_windows,omitempty"`

	// Samples written by Sample: each starts with Prompt and adds SampleChars characters drawn
	// with Sampling.
	Prompt      string   `json:"prompt"`
	SampleChars int      `json:"sample_chars"`
	Sampling    Sampling `json:"sampling"`
}

// HeadDim is the dimension of each attention head's queries, keys and values.
func (c Config) HeadDim() int { return c.DModel / c.Heads }

// NumParams is the number of trainable parameters for a vocabulary of vocab characters:
// token and position embeddings, per block two LayerNorms, the q/k/v/output projections and
// the MLP, then the final LayerNorm and the untied head.
func (c Config) NumParams(vocab int) int {
	d, f := c.DModel, c.MLPMult*c.DModel
	block := 2*(2*d) + 4*(d*d+d) + (d*f + f) + (f*d + d)
	return vocab*d + c.Context*d + c.Layers*block + 2*d + d*vocab + vocab
}

// ProfileConfig returns the configuration of a profile (BENCH.md has what each measured):
//
//	ci     a 2-layer, 64-wide model trained for 150 steps (seconds): tests and notebooks in CI
//	small  the bench model with a linear warm-up and a cosine learning-rate decay, 3000 steps,
//	       aimed at BENCH.md's "pass" (≤ 1.6 nats/char)
//	full   the bench model for 10 000 steps with the same schedule
//	bench  BENCH.md exactly: context 64, d_model 128, 4 heads of 32, 4 layers, MLP 4× (exact
//	       GELU), batch 32, AdamW lr 1e-3 (constant), weight decay 0.1; 1500 steps (the
//	       PyTorch reference point)
func ProfileConfig(profile string) (Config, error) {
	c := Config{Corpus: "es-rv1909", Context: 64, DModel: 128, Heads: 4, Layers: 4, MLPMult: 4,
		Batch: 32, LearningRate: 1e-3, WeightDecay: 0.1, Steps: 1500, EvalBatch: 64,
		Prompt: "Y dijo ", SampleChars: 240, Sampling: Sampling{Temperature: 0.8, TopP: 0.95}}
	switch profile {
	case "bench":
	case "small":
		c.Steps, c.WarmupSteps, c.DecaySteps, c.MinLRFraction = 3000, 100, 3000, 0.1
	case "full":
		c.Steps, c.WarmupSteps, c.DecaySteps, c.MinLRFraction = 10000, 200, 10000, 0.1
	case "ci":
		c.Context, c.DModel, c.Heads, c.Layers = 32, 64, 2, 2
		c.Batch, c.LearningRate, c.Steps = 16, 3e-3, 150
		c.EvalBatch, c.EvalWindows, c.SampleChars = 32, 256, 120
	default:
		return Config{}, family.CheckProfile(profile)
	}
	return c, nil
}

// Check reports a configuration that cannot be built.
func (c Config) Check() error {
	switch {
	case c.Context < 2 || c.DModel < 1 || c.Heads < 1 || c.Layers < 1 || c.MLPMult < 1:
		return fmt.Errorf("gpt: context (%d) must be ≥ 2 and d_model (%d), heads (%d), layers (%d), mlp_mult (%d) ≥ 1",
			c.Context, c.DModel, c.Heads, c.Layers, c.MLPMult)
	case c.DModel%c.Heads != 0:
		return fmt.Errorf("gpt: d_model %d is not divisible by %d heads", c.DModel, c.Heads)
	case c.Batch < 1 || c.EvalBatch < 1:
		return fmt.Errorf("gpt: batch (%d) and eval_batch (%d) must be ≥ 1", c.Batch, c.EvalBatch)
	case c.LearningRate <= 0:
		return fmt.Errorf("gpt: learning rate must be > 0, got %g", c.LearningRate)
	}
	return c.Sampling.Check()
}
