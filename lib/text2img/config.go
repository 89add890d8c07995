package text2img

import (
	"fmt"

	"github.com/iagen-course/iagen/lib/diffusion"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/vae"
)

// Config of the text-to-image model. The U-Net's fields (nn.UNetConfig) are at the top level of
// the JSON, as in lib/diffusion.
type Config struct {
	nn.UNetConfig

	Timesteps int     `json:"timesteps"`  // T of the forward process (diffusion.Config)
	Schedule  string  `json:"schedule"`   // "linear" or "cosine"
	BetaStart float64 `json:"beta_start"` // the linear schedule's β_0
	BetaEnd   float64 `json:"beta_end"`   // and β_{T−1}

	// Space is where the diffusion runs: "pixel", the U-Net on images, or "latent", an MLP on
	// the latents of a VAE trained first on the same images (Rombach et al. 2022, "High-
	// Resolution Image Synthesis with Latent Diffusion Models"; latent.go).
	Space string `json:"space"`
	// VAE is the autoencoder of the latent space: lib/vae's encoder and decoder (its arch,
	// hidden, depth, channels, latent, beta, batch and learning_rate fields), trained VAESteps
	// steps before the Steps steps of the denoiser.
	VAE      vae.Config `json:"vae"`
	VAESteps int        `json:"vae_steps"`
	// DenoiserHidden and DenoiserDepth shape the latent denoiser: an MLP of DenoiserDepth
	// residual SiLU layers of DenoiserHidden units (LatentDenoiser).
	DenoiserHidden int `json:"denoiser_hidden"`
	DenoiserDepth  int `json:"denoiser_depth"`

	// Prediction is what the U-Net predicts: "eps", the noise ε (Ho et al. 2020), or "v",
	// v = √ᾱ_t·ε − √(1−ᾱ_t)·x_0 (Salimans & Ho 2022, "Progressive Distillation", §4), trained
	// on ‖v − v̂‖². At high noise ε-prediction must learn ε̂ ≈ x_t to a precision that √ᾱ_t
	// hardly rewards, and a small network trained briefly gets x̂_0 there wrong; v-prediction
	// makes x̂_0 ≈ −v̂ there, so the prompt's layout is learned first. Sampling converts v̂ to ε̂.
	Prediction string `json:"prediction"`
	// TextDim is the width of the text encoder: word and position embeddings, the MLP after
	// pooling, and the prompt embedding the U-Net receives.
	TextDim int `json:"text_dim"`
	// PUncond is the probability that a training image's prompt is replaced by the null
	// prompt ∅, so that one network learns ε(z, c) and ε(z, ∅) (Ho & Salimans 2022, §3.2: 0.1–0.2).
	PUncond float64 `json:"p_uncond"`
	// PAttribute is the probability that each attribute word of a digit's prompt is kept; the
	// rest of the time the bare "un siete" trains.
	PAttribute float64 `json:"p_attribute"`

	Batch        int     `json:"batch"`
	LearningRate float64 `json:"learning_rate"` // Adam, β = (0.9, 0.999)
	Warmup       int     `json:"warmup,omitempty"`
	Steps        int     `json:"steps"`
	EMADecay     float64 `json:"ema_decay"` // EMA of the weights that sampling uses; 0: none

	// Sampling is the sampler of `iagen sample` (which changes it with --set) and of the
	// evaluation, with its prompt and guidance scale.
	Sampling Sampling `json:"sampling"`
	// SampleBatch images per call of the (guided) denoising step.
	SampleBatch int `json:"sample_batch"`

	// EvalPerClass images per class (prompted with the bare class prompt) give the evaluation;
	// StudyPerClass per class and guidance scale give the study.
	EvalPerClass  int `json:"eval_per_class"`
	StudyPerClass int `json:"study_per_class"`
	// RefereeSteps trains the 20-class referee classifier that scores agreement (referee.go).
	RefereeSteps int `json:"referee_steps"`
}

// Sampling is the reverse process (diffusion.Sampling: sampler, steps, eta, clip) with the
// prompt and the guidance scale w of classifier-free guidance:
// `iagen sample text2img --from DIR --set prompt="un siete" --set guidance=2`.
type Sampling struct {
	diffusion.Sampling
	// Prompt of every sample; "" draws the 20 class prompts in turn (image i: class i mod 20).
	Prompt string `json:"prompt"`
	// Guidance w ≥ 0 (Guided): 0 is the conditional model alone, larger w follows the prompt
	// more closely at the cost of diversity.
	Guidance float64 `json:"guidance"`
}

// Check reports what keeps s from sampling a model of T time steps.
func (s Sampling) Check(T int) error {
	if err := s.Sampling.Check(T); err != nil {
		return err
	}
	if !(s.Guidance >= 0 && s.Guidance <= 50) {
		return fmt.Errorf("text2img: guidance %g must be in [0, 50]", s.Guidance)
	}
	if _, err := Encode(s.Prompt); err != nil {
		return err
	}
	return nil
}

// ProfileConfig returns the configuration of a profile:
//
//   - ci: a two-level U-Net of 8 and 16 channels without attention, 400 steps at batch 32
//     (seconds on 2 cores), DDIM-10 with w = 2, scored on 10 images per class;
//   - small: a three-level U-Net of 16, 32 and 32 channels (no attention), 4,000 steps at
//     batch 64 with an EMA (0.995), DDIM-25 with w = 2, scored on 20 images per class
//     (package documentation: its measured time);
//   - full: BENCH.md's diffusion U-Net (attention at 7×7), 40,000 steps, EMA 0.9995, DDIM-50,
//     scored on 100 images per class;
//   - bench: BENCH.md's diffusion U-Net and optimiser, for speed comparisons with diffusion.
//
// Every profile is in pixel space; with space "latent" it keeps its schedule, prompts, sampler
// and scoring and replaces the U-Net by lib/vae's MLP VAE (400 hidden units, 16 latents,
// trained 600 steps in ci, 4,000 otherwise) and an MLP denoiser (128 units × 2 residual
// blocks in ci, 512 × 4 otherwise).
func ProfileConfig(profile string) (Config, error) {
	autoencoder, _ := vae.ProfileConfig("ci")
	autoencoder.Latent = 16
	bench := Config{UNetConfig: nn.BenchUNet(), Space: "pixel", VAE: autoencoder, VAESteps: 4000, DenoiserHidden: 512, DenoiserDepth: 4,
		Timesteps: 1000, Schedule: "linear", BetaStart: 1e-4, BetaEnd: 0.02,
		Prediction: "v", TextDim: 64, PUncond: 0.15, PAttribute: 0.5, Batch: 64, LearningRate: 2e-4, Steps: 20000,
		Sampling:    Sampling{Sampling: diffusion.DDIM50, Guidance: 2},
		SampleBatch: 100, EvalPerClass: 100, StudyPerClass: 50, RefereeSteps: 3000}
	switch profile {
	case "ci":
		c := bench
		c.UNetConfig = nn.UNetConfig{Channels: 8, Mults: []int{1, 2}, Heads: 1, Groups: 4, TimeDim: 32}
		c.TextDim, c.Batch, c.LearningRate, c.Steps, c.EMADecay = 32, 32, 2e-3, 400, 0.9
		c.Sampling.Steps, c.EvalPerClass, c.StudyPerClass, c.RefereeSteps = 10, 10, 10, 1000
		c.VAESteps, c.DenoiserHidden, c.DenoiserDepth = 600, 128, 2
		return c, nil
	case "small":
		c := bench
		c.UNetConfig = nn.UNetConfig{Channels: 16, Mults: []int{1, 2, 2}, Heads: 1, Groups: 8, TimeDim: 64}
		c.LearningRate, c.Warmup, c.Steps, c.EMADecay = 1e-3, 200, 4000, 0.995
		c.Sampling.Steps, c.EvalPerClass, c.StudyPerClass = 25, 20, 20
		return c, nil
	case "full":
		c := bench
		c.LearningRate, c.Warmup, c.Steps, c.EMADecay = 5e-4, 500, 40000, 0.9995
		return c, nil
	case "bench":
		return bench, nil
	}
	return Config{}, family.CheckProfile(profile)
}

// diffusion returns the forward process's part of c as a diffusion.Config, whose Check and
// NoiseSchedule are the one place of those rules.
func (c Config) diffusion() diffusion.Config {
	return diffusion.Config{UNetConfig: c.UNetConfig, Timesteps: c.Timesteps, Prediction: c.Prediction, Schedule: c.Schedule, BetaStart: c.BetaStart,
		BetaEnd: c.BetaEnd, Batch: c.Batch, LearningRate: c.LearningRate, Warmup: c.Warmup, Steps: c.Steps,
		EMADecay: c.EMADecay, Sampling: c.Sampling.Sampling, SampleBatch: c.SampleBatch,
		EvalSamples: max(10, c.EvalPerClass*NumClasses), EvalLossImages: 1, StudySamples: max(10, c.StudyPerClass*NumClasses)}
}

// Check reports the first thing wrong with c.
func (c Config) Check() error {
	if err := c.diffusion().Check(); err != nil {
		return fmt.Errorf("text2img: %w", err)
	}
	if c.Space == "latent" {
		if err := c.VAE.Check(); err != nil {
			return fmt.Errorf("text2img: vae: %w", err)
		}
	}
	switch {
	case c.Space != "pixel" && c.Space != "latent":
		return fmt.Errorf("text2img: space %q must be \"pixel\" or \"latent\"", c.Space)
	case c.Space == "latent" && (c.VAESteps < 0 || c.DenoiserHidden < 1 || c.DenoiserDepth < 0):
		return fmt.Errorf("text2img: vae_steps (%d) and denoiser_depth (%d) must be ≥ 0, denoiser_hidden (%d) ≥ 1", c.VAESteps, c.DenoiserDepth, c.DenoiserHidden)
	case c.TextDim < 1:
		return fmt.Errorf("text2img: text_dim %d must be ≥ 1", c.TextDim)
	case !(c.PUncond > 0 && c.PUncond < 1):
		return fmt.Errorf("text2img: p_uncond %g must be in (0, 1): guidance needs the unconditional model", c.PUncond)
	case !(c.PAttribute >= 0 && c.PAttribute <= 1):
		return fmt.Errorf("text2img: p_attribute %g must be in [0, 1]", c.PAttribute)
	case c.EvalPerClass < 6 || c.StudyPerClass < 6:
		return fmt.Errorf("text2img: eval_per_class (%d) and study_per_class (%d) must be ≥ 6 (coverage's 5 neighbours)", c.EvalPerClass, c.StudyPerClass)
	case c.RefereeSteps < 1:
		return fmt.Errorf("text2img: referee_steps %d must be ≥ 1", c.RefereeSteps)
	}
	return c.Sampling.Check(c.Timesteps)
}
