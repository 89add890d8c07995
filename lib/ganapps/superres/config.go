package superres

import (
	"fmt"

	"github.com/iagen-course/iagen/lib/family"
)

// Config of the super-resolution GAN.
type Config struct {
	Channels     int `json:"channels"`      // C: width of every hidden layer of G
	DiscChannels int `json:"disc_channels"` // D's first conv (the second has twice as many)

	// L1Weight is λ of pix2pix's objective (Isola et al. 2017, eq. 4): G minimises
	// L_adv + λ·L_L1. Isola et al. use 100; a smaller λ gives the adversary more say (sharper,
	// lower PSNR).
	L1Weight float64 `json:"l1_weight"`
	// ContentBaseline also trains, on the same batches, the same generator with the L1 loss
	// alone (no adversary), so that one run measures what the adversary changes.
	ContentBaseline bool `json:"content_baseline"`

	Batch        int     `json:"batch"`
	LearningRate float64 `json:"learning_rate"` // Adam, every player
	Beta1        float64 `json:"beta1"`
	Beta2        float64 `json:"beta2"`
	Steps        int     `json:"steps"`

	// EvalImages test images (the first ones) are upscaled and measured.
	EvalImages int `json:"eval_images"`
}

// ProfileConfig returns the configuration of a profile:
//
//   - ci: C = 8, batches of 16, Adam at 1e-3, 200 steps, measured on 500 test images with the
//     ci reference classifier (seconds);
//   - small: C = 16, batches of 32, Adam at 5e-4, 2,000 steps, measured on the 10,000 test
//     images with the reference CNN (minutes on 2 CPU cores);
//   - full: the same, 10,000 steps;
//   - bench: small's model (BENCH.md has no configuration for this family).
func ProfileConfig(profile string) (Config, error) {
	small := Config{Channels: 16, DiscChannels: 16, L1Weight: 20, ContentBaseline: true, Batch: 32,
		LearningRate: 5e-4, Beta1: 0.5, Beta2: 0.999, Steps: 2000, EvalImages: 10000}
	switch profile {
	case "ci":
		c := small
		c.Channels, c.DiscChannels, c.Batch, c.Steps, c.EvalImages, c.LearningRate = 8, 8, 16, 200, 500, 1e-3
		return c, nil
	case "small", "bench":
		return small, nil
	case "full":
		c := small
		c.Steps = 10000
		return c, nil
	}
	return Config{}, family.CheckProfile(profile)
}

// Check reports the first thing wrong with c.
func (c Config) Check() error {
	switch {
	case c.Channels < 1 || c.DiscChannels < 1 || c.Batch < 2 || c.Steps < 0:
		return fmt.Errorf("superres: channels (%d) and disc_channels (%d) must be ≥ 1, batch (%d) ≥ 2, steps (%d) ≥ 0", c.Channels, c.DiscChannels, c.Batch, c.Steps)
	case !(c.LearningRate > 0) || c.Beta1 < 0 || c.Beta1 >= 1 || c.Beta2 < 0 || c.Beta2 >= 1:
		return fmt.Errorf("superres: learning rate %g must be > 0 and betas (%g, %g) in [0, 1)", c.LearningRate, c.Beta1, c.Beta2)
	case c.L1Weight < 0:
		return fmt.Errorf("superres: l1_weight %g must be ≥ 0", c.L1Weight)
	case c.EvalImages < 10 || c.EvalImages > 10000:
		return fmt.Errorf("superres: eval_images %d must be in [10, 10000] (the MNIST test set)", c.EvalImages)
	}
	return nil
}
