package vae

import (
	"fmt"

	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/imagegen"
)

// Config of a VAE.
type Config struct {
	Arch     string  `json:"arch"`     // "mlp" or "conv"
	Hidden   int     `json:"hidden"`   // width of each hidden Dense layer (mlp), of the Dense layer after the convolutions (conv)
	Depth    int     `json:"depth"`    // hidden Dense layers in the encoder and in the decoder (mlp; BENCH.md: 1)
	Channels int     `json:"channels"` // conv: channels of the first convolution (the second has twice as many)
	Latent   int     `json:"latent"`   // dimension of z
	Beta     float64 `json:"beta"`     // weight of the KL term (1: the ELBO)

	Batch        int     `json:"batch"`
	LearningRate float64 `json:"learning_rate"`
	Steps        int     `json:"steps"`
	// Skew trains on a deliberately unbalanced MNIST (imagegen.Skew: the amplification audit).
	Skew *imagegen.Skew `json:"skew,omitempty"`

	// Evaluation: the IWAE bound with IWAEK importance samples on the first EvalImages test
	// images (0: all 10,000), IWAEChunk samples (images × K) per graph call.
	IWAEK      int `json:"iwae_k"`
	EvalImages int `json:"eval_images"`
	IWAEChunk  int `json:"iwae_chunk"`
	// EvalSamples decoded samples are scored on the reference classifier, as every image
	// family's (imagegen.Scorer); 0 skips it.
	EvalSamples int `json:"eval_samples,omitempty"`
}

// ProfileConfig returns the configuration of a profile:
//
//   - ci: the BENCH.md MLP, 600 steps (seconds), IWAE with K = 50 on 500 test images;
//   - small: the BENCH.md MLP trained for 60k steps, IWAE K = 1000 on all 10,000 test
//     images — BENCH.md's "pass" target (≤ 95 nats) on 2 CPU cores;
//   - full: a wider, deeper MLP (784→500→500→50, mirrored) for 100k steps, toward the "stretch"
//     target (≤ 88 nats; BENCH.md has what it measured);
//   - bench: BENCH.md exactly (the MLP, batch 128, Adam 1e-3; 12k steps as PyTorch needs).
func ProfileConfig(profile string) (Config, error) {
	mlp := Config{Arch: "mlp", Hidden: 400, Depth: 1, Channels: 32, Latent: 20, Beta: 1,
		Batch: 128, LearningRate: 1e-3, Steps: 12000, IWAEK: 1000, IWAEChunk: 10000, EvalSamples: 10000}
	switch profile {
	case "ci":
		c := mlp
		c.Steps, c.IWAEK, c.EvalImages, c.EvalSamples = 600, 50, 500, 500
		return c, nil
	case "small":
		c := mlp
		c.Steps = 60000
		return c, nil
	case "full":
		c := mlp
		c.Hidden, c.Depth, c.Latent, c.Steps = 500, 2, 50, 100000
		return c, nil
	case "bench":
		return mlp, nil
	}
	return Config{}, family.CheckProfile(profile)
}

// Check reports the first thing wrong with c.
func (c Config) Check() error {
	switch {
	case c.Arch != "mlp" && c.Arch != "conv":
		return fmt.Errorf("vae: arch %q: use \"mlp\" or \"conv\"", c.Arch)
	case c.Hidden < 1 || c.Latent < 1 || c.Batch < 1 || c.Steps < 0:
		return fmt.Errorf("vae: hidden (%d), latent (%d) and batch (%d) must be ≥ 1", c.Hidden, c.Latent, c.Batch)
	case c.Arch == "mlp" && c.Depth < 1:
		return fmt.Errorf("vae: depth %d: an MLP needs at least one hidden layer", c.Depth)
	case c.Arch == "conv" && c.Channels < 1:
		return fmt.Errorf("vae: channels %d must be ≥ 1", c.Channels)
	case !(c.Beta >= 0) || !(c.LearningRate > 0):
		return fmt.Errorf("vae: beta (%g) must be ≥ 0 and learning rate (%g) > 0", c.Beta, c.LearningRate)
	case c.IWAEK < 1 || c.IWAEChunk < 1 || c.EvalImages < 0 || c.EvalSamples < 0:
		return fmt.Errorf("vae: iwae_k (%d) and iwae_chunk (%d) must be ≥ 1, eval_images (%d) and eval_samples (%d) ≥ 0",
			c.IWAEK, c.IWAEChunk, c.EvalImages, c.EvalSamples)
	}
	return nil
}
