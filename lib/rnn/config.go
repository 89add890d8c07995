package rnn

import (
	"fmt"
	"math"

	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/gpt"
	"github.com/iagen-course/iagen/lib/train"
)

// Config of a character-level recurrent language model.
type Config struct {
	Corpus  string `json:"corpus"`  // text corpus for data.LoadText
	Cell    Cell   `json:"cell"`    // rnn, gru or lstm
	Context int    `json:"context"` // characters per training and validation window (T), each from a zero state
	Embed   int    `json:"embed"`   // width of the character embedding
	Hidden  int    `json:"hidden"`  // width of every layer's state (H)
	Layers  int    `json:"layers"`  // stacked recurrent layers
	// Loop builds the time loop unrolled or as a graph.While; empty (the default) takes While
	// where the backend can (XLA) and unrolls elsewhere (the go backend). See Loop.
	Loop Loop `json:"loop,omitempty"`
	// ForgetBias is added to the initial bias of the LSTM's forget gate (f = σ(p_f + q_f), see
	// LSTM), so that at the start of training f ≈ σ(ForgetBias) and the cell state, and its
	// gradient ∂c'/∂c = diag(f), carry over many steps instead of halving at each (σ(0) = 1/2).
	// Jozefowicz, Zaremba & Sutskever (2015, "An Empirical Exploration of Recurrent Network
	// Architectures") found that a forget bias of 1 closes the gap between the LSTM and the GRU
	// (an idea they credit to Gers et al. 2000). 0, the default, is PyTorch's initialization
	// (BENCH.md's). Only the LSTM has a forget gate: for the other cells it must be 0.
	ForgetBias float64 `json:"forget_bias,omitempty"`

	// TrainFraction in (0, 1] trains on the first part of the corpus's training split only
	// (data.LoadCorpus; 0: all of it), scored on the same validation text.
	TrainFraction float64 `json:"train_fraction,omitempty"`

	Batch        int     `json:"batch"` // windows per training step
	LearningRate float64 `json:"learning_rate"`
	// ClipNorm bounds the global L2 norm of the gradient of all parameters (Pascanu et al. 2013;
	// nn.ClipByGlobalNorm); 0 leaves it unclipped.
	ClipNorm float64 `json:"clip_norm"`
	// WarmupSteps, DecaySteps and MinLRFraction shape the learning rate (train.Schedule): linear
	// warm-up over WarmupSteps, then a cosine decay to MinLRFraction·LearningRate at DecaySteps
	// (DecaySteps 0: constant, as in BENCH.md).
	WarmupSteps   int     `json:"warmup_steps,omitempty"`
	DecaySteps    int     `json:"decay_steps,omitempty"`
	MinLRFraction float64 `json:"min_lr_fraction,omitempty"`
	Steps         int     `json:"steps"` // default training length of the profile

	// Evaluation: EvalWindows > 0 scores only the first EvalWindows windows of the validation
	// split (ci profile); 0 scores all of them (BENCH.md's protocol).
	EvalBatch   int `json:"eval_batch"`
	EvalWindows int `json:"eval_windows,omitempty"`

	// Samples written by Sample: each starts with Prompt and adds SampleChars characters drawn
	// with Sampling, carrying the recurrent state from one character to the next.
	Prompt      string       `json:"prompt"`
	SampleChars int          `json:"sample_chars"`
	Sampling    gpt.Sampling `json:"sampling"`
}

// NumParams is the number of trainable parameters for a vocabulary of vocab characters, as
// PyTorch counts nn.Embedding + nn.LSTM/GRU/RNN + nn.Linear: the embedding, per layer W
// [F, G·H], R [H, G·H] and the two biases b_x, b_h [G·H], and the head.
func (c Config) NumParams(vocab int) int {
	gh := c.Cell.Gates() * c.Hidden
	n := vocab*c.Embed + c.Hidden*vocab + vocab
	for l := range c.Layers {
		in := c.Hidden
		if l == 0 {
			in = c.Embed
		}
		n += in*gh + c.Hidden*gh + 2*gh
	}
	return n
}

// ProfileConfig returns the configuration of a profile:
//
//	ci     a 2-layer LSTM of 64 on windows of 32 characters, 200 steps (seconds): tests and
//	       notebooks in CI
//	small  the bench model with a linear warm-up and a cosine learning-rate decay, 3000 steps,
//	       aimed at BENCH.md's "pass" (≤ 1.6 nats/char)
//	full   the bench model for 20 000 steps with the same schedule
//	bench  BENCH.md exactly: embedding 64 → 2 LSTM layers of 256 → Dense → V, windows of 64
//	       characters from a zero state, batch 32, Adam lr 2e-3 (constant), gradients clipped to
//	       global norm 1; 1500 steps (the PyTorch reference point)
//
// Every profile takes --set cell=rnn|gru|lstm: the other cells at the same sizes.
func ProfileConfig(profile string) (Config, error) {
	c := Config{Corpus: "es-rv1909", Cell: LSTM, Context: 64, Embed: 64, Hidden: 256, Layers: 2,
		Batch: 32, LearningRate: 2e-3, ClipNorm: 1, Steps: 1500, EvalBatch: 64,
		Prompt: "Y dijo ", SampleChars: 240, Sampling: gpt.Sampling{Temperature: 0.8, TopP: 0.95}}
	switch profile {
	case "bench":
	case "small":
		c.Steps, c.WarmupSteps, c.DecaySteps, c.MinLRFraction = 3000, 100, 3000, 0.1
	case "full":
		c.Steps, c.WarmupSteps, c.DecaySteps, c.MinLRFraction = 20000, 200, 20000, 0.1
	case "ci":
		c.Context, c.Embed, c.Hidden = 32, 32, 64
		c.Batch, c.LearningRate, c.Steps = 16, 5e-3, 200
		c.EvalWindows, c.SampleChars = 256, 120
	default:
		return Config{}, family.CheckProfile(profile)
	}
	return c, nil
}

// Check reports a configuration that cannot be built.
func (c Config) Check() error {
	if err := c.Cell.Check(); err != nil {
		return err
	}
	if err := c.Loop.Check(); err != nil {
		return err
	}
	switch {
	case c.Context < 2 || c.Embed < 1 || c.Hidden < 1 || c.Layers < 1:
		return fmt.Errorf("rnn: context (%d) must be ≥ 2 and embed (%d), hidden (%d), layers (%d) ≥ 1",
			c.Context, c.Embed, c.Hidden, c.Layers)
	case c.Batch < 1 || c.EvalBatch < 1:
		return fmt.Errorf("rnn: batch (%d) and eval_batch (%d) must be ≥ 1", c.Batch, c.EvalBatch)
	case c.ForgetBias != 0 && c.Cell != LSTM:
		return fmt.Errorf("rnn: forget_bias applies to the lstm's forget gate; the %s cell has none", c.Cell)
	case math.IsNaN(c.ForgetBias) || math.IsInf(c.ForgetBias, 0):
		return fmt.Errorf("rnn: forget_bias must be finite, got %g", c.ForgetBias)
	case c.ClipNorm < 0:
		return fmt.Errorf("rnn: clip_norm must be ≥ 0, got %g", c.ClipNorm)
	case c.SampleChars < 1:
		return fmt.Errorf("rnn: sample_chars must be ≥ 1, got %d", c.SampleChars)
	}
	if err := c.Schedule().Check(); err != nil {
		return fmt.Errorf("rnn: %w", err)
	}
	return c.Sampling.Check()
}

// Schedule is the learning-rate schedule: constant, or a linear warm-up over WarmupSteps
// followed by a cosine decay to MinLRFraction·LearningRate at DecaySteps.
func (c Config) Schedule() train.Schedule {
	s := train.Schedule{LearningRate: c.LearningRate, Warmup: c.WarmupSteps, MinFraction: c.MinLRFraction}
	if c.DecaySteps > 0 {
		s.Decay, s.DecaySteps = "cosine", c.DecaySteps
	}
	return s
}
