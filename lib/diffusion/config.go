package diffusion

import (
	"fmt"

	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/nn"
)

// Config of a DDPM. The U-Net's fields (nn.UNetConfig) are at the top level of the JSON:
// channels, channel_mults, attention_levels, heads, groups, time_dim, res_blocks.
type Config struct {
	nn.UNetConfig

	Timesteps int `json:"timesteps"` // T, the length of the forward process (BENCH.md: 1000)
	// Prediction is what the U-Net predicts: "eps" (or empty), the noise ε (Ho et al. 2020;
	// BENCH.md), or "v", v = √ᾱ_t·ε − √(1−ᾱ_t)·x_0 (Salimans & Ho 2022, §4; Target). Sampling
	// turns either into ε̂ (EpsilonFrom), so every sampler serves both.
	Prediction string  `json:"prediction,omitempty"`
	Schedule   string  `json:"schedule"`   // the noise schedule: "linear" (Ho et al. 2020) or "cosine" (Nichol & Dhariwal 2021)
	BetaStart  float64 `json:"beta_start"` // the linear schedule's β at t = 0 (BENCH.md: 1e-4)
	BetaEnd    float64 `json:"beta_end"`   // and at t = T − 1 (BENCH.md: 0.02)

	Batch        int     `json:"batch"`
	LearningRate float64 `json:"learning_rate"` // Adam, β = (0.9, 0.999), ε = 1e-8
	// Warmup steps of linear learning-rate warm-up (Ho et al. 2020 use 5000); 0 in BENCH.md.
	Warmup int `json:"warmup,omitempty"`
	// Decay of the learning rate after the warm-up: "" (constant, Ho et al. 2020), "linear" or
	// "cosine" (train.Schedule), reaching MinLRFraction·learning_rate at the last step; with
	// Cooldown > 0 it takes only the last Cooldown steps, the rate constant before them.
	Decay         string  `json:"decay,omitempty"`
	MinLRFraction float64 `json:"min_lr_fraction,omitempty"`
	Cooldown      int     `json:"cooldown,omitempty"`
	Steps         int     `json:"steps"`
	// MinSNRGamma γ > 0 weights each image's loss to min(SNR_t, γ) times its x̂_0 error
	// (Hang et al. 2023; NoiseSchedule.MinSNRWeights); 0 leaves the loss of Prediction as it is.
	MinSNRGamma float64 `json:"min_snr_gamma,omitempty"`
	// Skew trains on a deliberately unbalanced MNIST (imagegen.Skew: the amplification audit).
	Skew *imagegen.Skew `json:"skew,omitempty"`

	// EMADecay d of the exponential moving average of the U-Net's weights that samples and
	// evaluation use (Ho et al. 2020, Appendix B: 0.9999; train.UpdateEMA's warm-up); 0 samples
	// from the trained weights themselves.
	EMADecay float64 `json:"ema_decay"`

	// Sampling is the sampler of samples (`iagen sample`, which may change it with --set) and
	// of every evaluation (BENCH.md: DDIM with 50 steps, η = 0).
	Sampling Sampling `json:"sampling"`
	// SampleBatch images go through each call of the denoising step (the last batch is
	// padded), so that its graph is compiled once.
	SampleBatch int `json:"sample_batch"`

	// EvalSamples generated images are scored against as many training and test images in the
	// reference classifier's feature space (BENCH.md: 10,000).
	EvalSamples int `json:"eval_samples"`
	// EvalLossImages test images give the evaluation's ε-loss (test_loss), each with its noise
	// and time step fixed (EvalSeed), the time steps spread evenly over 0…T−1.
	EvalLossImages int `json:"eval_loss_images"`
	// StudySamples images per sampler give the quality-versus-steps study (Model.Study): DDIM
	// with StudySteps and DDPM with all T steps. DDPM's cost (T network evaluations per image)
	// sets it below EvalSamples.
	StudySamples int `json:"study_samples"`
}

// Sampling chooses the reverse process that turns noise x_T ~ N(0, I) into images:
// `iagen sample diffusion --from DIR --set sampler=ddim --set steps=50 --set eta=0`.
type Sampling struct {
	// Sampler is "ddim" (Song et al. 2021, eq. 12, with Steps steps and η = Eta) or "ddpm"
	// (ancestral sampling, Ho et al. 2020, Algorithm 2, with all T steps and σ_t² = β_t).
	Sampler string `json:"sampler"`
	// Steps S of DDIM, 1…T: it visits the time steps τ_i = ⌊i·T/S⌋, i = S−1…0 (BENCH.md:
	// {980, 960, …, 0} for S = 50). DDPM always takes T steps and ignores it.
	Steps int `json:"steps"`
	// Eta η ∈ [0, 1] of DDIM: 0 is deterministic (BENCH.md), 1 adds DDPM's posterior noise.
	Eta float64 `json:"eta"`
	// Clip x̂₀ to the data's range [−1, 1] at every step (and step with the noise that agrees
	// with it), as Ho et al.'s code does (clip_denoised); it never changes an exact x̂₀.
	Clip bool `json:"clip"`
}

// DDIM50 is BENCH.md's evaluation sampler: DDIM with 50 steps, η = 0 (x̂₀ clipped).
var DDIM50 = Sampling{Sampler: "ddim", Steps: 50, Eta: 0, Clip: true}

// ProfileConfig returns the configuration of a profile:
//
//   - ci: a two-level U-Net of 8 and 16 channels (attention at 14×14), batch 32, 400 steps
//     at lr 1e-3 (seconds), sampled with DDIM-10 and scored on 200 samples;
//   - small: BENCH.md's U-Net predicting v (Salimans & Ho 2022) under the cosine noise
//     schedule (Nichol & Dhariwal 2021), Adam at 1e-3 after a 500-step warm-up and an EMA of
//     the weights (0.999), 20,000 steps at batch 64 — a little over two hours on 2 CPU cores
//     (see the package documentation); scored on 10,000 DDIM-50 samples;
//   - full: the same for 60,000 steps with a slower EMA (0.9995), toward the stretch target;
//   - bench: BENCH.md exactly (no EMA, which costs a little per step).
func ProfileConfig(profile string) (Config, error) {
	bench := Config{UNetConfig: nn.BenchUNet(), Timesteps: 1000, Schedule: "linear", BetaStart: 1e-4, BetaEnd: 0.02,
		Batch: 64, LearningRate: 2e-4, Steps: 20000, Sampling: DDIM50, SampleBatch: 64,
		EvalSamples: 10000, EvalLossImages: 1000, StudySamples: 500}
	switch profile {
	case "ci":
		c := bench
		c.UNetConfig = nn.UNetConfig{Channels: 8, Mults: []int{1, 2}, Attention: []int{1}, Heads: 2, Groups: 4, TimeDim: 32}
		c.Batch, c.LearningRate, c.Steps, c.EMADecay = 32, 1e-3, 400, 0.9
		c.Sampling.Steps, c.SampleBatch, c.EvalSamples, c.EvalLossImages, c.StudySamples = 10, 100, 200, 200, 100
		return c, nil
	case "small", "full":
		c := bench
		c.Prediction, c.Schedule, c.LearningRate, c.Warmup, c.EMADecay = "v", "cosine", 1e-3, 500, 0.999
		c.Steps, c.SampleBatch = 20000, 250
		if profile == "full" {
			c.Steps, c.EMADecay = 60000, 0.9995
		}
		return c, nil
	case "bench":
		return bench, nil
	}
	return Config{}, family.CheckProfile(profile)
}

// Check reports the first thing wrong with c.
func (c Config) Check() error {
	if err := c.UNetConfig.Check(28); err != nil {
		return fmt.Errorf("diffusion: %w", err)
	}
	switch {
	case c.Timesteps < 2:
		return fmt.Errorf("diffusion: timesteps %d must be ≥ 2", c.Timesteps)
	case c.Prediction != "" && c.Prediction != "eps" && c.Prediction != "v":
		return fmt.Errorf("diffusion: prediction %q must be \"eps\" or \"v\"", c.Prediction)
	case c.Schedule != "linear" && c.Schedule != "cosine":
		return fmt.Errorf("diffusion: schedule %q must be \"linear\" or \"cosine\"", c.Schedule)
	case c.Schedule == "linear" && !(c.BetaStart > 0 && c.BetaStart <= c.BetaEnd && c.BetaEnd < 1):
		return fmt.Errorf("diffusion: the linear schedule needs 0 < beta_start (%g) ≤ beta_end (%g) < 1", c.BetaStart, c.BetaEnd)
	case c.Batch < 1 || c.Steps < 0 || c.Warmup < 0 || !(c.LearningRate > 0):
		return fmt.Errorf("diffusion: batch (%d) must be ≥ 1, steps (%d) and warmup (%d) ≥ 0, learning_rate (%g) > 0", c.Batch, c.Steps, c.Warmup, c.LearningRate)
	case c.MinSNRGamma < 0:
		return fmt.Errorf("diffusion: min_snr_gamma %g must be ≥ 0 (0: no weighting)", c.MinSNRGamma)
	case c.EMADecay < 0 || c.EMADecay >= 1:
		return fmt.Errorf("diffusion: ema_decay %g must be in [0, 1)", c.EMADecay)
	case c.SampleBatch < 1 || c.EvalSamples < 10 || c.EvalLossImages < 1 || c.StudySamples < 10:
		return fmt.Errorf("diffusion: sample_batch (%d) and eval_loss_images (%d) must be ≥ 1, eval_samples (%d) and study_samples (%d) ≥ 10",
			c.SampleBatch, c.EvalLossImages, c.EvalSamples, c.StudySamples)
	}
	if err := c.learningRate().Check(); err != nil {
		return fmt.Errorf("diffusion: %w", err)
	}
	return c.Sampling.Check(c.Timesteps)
}

// Check reports what keeps s from sampling a model of T time steps.
func (s Sampling) Check(T int) error {
	switch {
	case s.Sampler != "ddim" && s.Sampler != "ddpm":
		return fmt.Errorf("diffusion: sampler %q must be \"ddim\" or \"ddpm\"", s.Sampler)
	case s.Sampler == "ddim" && (s.Steps < 1 || s.Steps > T):
		return fmt.Errorf("diffusion: DDIM steps %d must be in 1…%d (timesteps)", s.Steps, T)
	case !(s.Eta >= 0 && s.Eta <= 1):
		return fmt.Errorf("diffusion: eta %g must be in [0, 1]", s.Eta)
	}
	return nil
}

// Name names the sampler as the notebooks do, for a model of T time steps: "DDIM-50",
// "DDIM-50 (η = 1)", "DDPM-1000".
func (s Sampling) Name(T int) string {
	switch {
	case s.Sampler == "ddpm":
		return fmt.Sprintf("DDPM-%d", T)
	case s.Eta != 0:
		return fmt.Sprintf("DDIM-%d (η = %g)", s.Steps, s.Eta)
	}
	return fmt.Sprintf("DDIM-%d", s.Steps)
}
