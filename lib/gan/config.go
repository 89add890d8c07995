package gan

import (
	"fmt"

	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/imagegen"
)

// Config of a DCGAN.
type Config struct {
	Latent       int `json:"latent"`        // dimension of z ~ N(0, I)
	GenChannels  int `json:"gen_channels"`  // channels of G's 7×7 map (BENCH.md: 128); the 14×14 map has half
	DiscChannels int `json:"disc_channels"` // channels of D's first conv (BENCH.md: 64); the second has twice as many

	// GenRefine ends G at 28×28 with more than one linear layer: ConvTranspose C/2→C/4 (k4,
	// s2, p1), BatchNorm, ReLU, Conv3×3 C/4→1, tanh, instead of BENCH.md's single ConvTranspose
	// C/2→1, whose every output pixel is a linear function of a 2×2 patch of the 14×14 map.
	GenRefine bool `json:"gen_refine,omitempty"`

	// Pack is PacGAN's packing degree m (Lin et al. 2018): D judges m images at once, stacked as
	// m channels, all real or all fake, which penalises a generator that repeats itself (see
	// ToyConfig.Pack). 1 (or 0) is the plain DCGAN of BENCH.md; Batch must be a multiple of Pack.
	Pack int `json:"pack,omitempty"`

	// MinibatchStd adds to D's last feature map a channel with the batch's standard deviation
	// of its features (Karras et al. 2018, §3), another remedy for a generator that repeats
	// itself. Off in BENCH.md's DCGAN.
	MinibatchStd bool `json:"minibatch_std,omitempty"`

	// SpectralNorm gives D spectrally normalised weights and no BatchNorm (SNGAN, Miyato et al.
	// 2018): a 1-Lipschitz D whose gradients stay informative for G. Off in BENCH.md's DCGAN.
	SpectralNorm bool `json:"spectral_norm,omitempty"`

	// InitStddev σ initialises every weight matrix and kernel of both players from N(0, σ²), as
	// DCGAN does (Radford et al. 2016, §4: σ = 0.02), biases at 0; 0 keeps GoMLX's He-normal
	// default (BENCH.md does not fix the initialisation).
	InitStddev float64 `json:"init_stddev,omitempty"`

	Batch        int     `json:"batch"`
	LearningRate float64 `json:"learning_rate"` // Adam, both players (G's alone when DiscLearningRate is set)
	// DiscLearningRate is D's Adam learning rate when set (a two-timescale update, Heusel et al.
	// 2017); 0 means LearningRate (BENCH.md).
	DiscLearningRate float64 `json:"disc_learning_rate,omitempty"`
	// RealLabel is the target of real images in D's loss: 1 (or 0) is BENCH.md's plain BCE; 0.9
	// is one-sided label smoothing (Salimans et al. 2016, "Improved Techniques for Training
	// GANs", §3.4), which keeps D from becoming over-confident.
	RealLabel float64 `json:"real_label,omitempty"`
	// LRDecay lowers both learning rates linearly from their value at step 0 to 0 at the last
	// step, lr·(1 − step/Steps), as SNGAN's and SAGAN's reference code do: G and D stop
	// chasing each other and settle. Off in BENCH.md's DCGAN. Resuming with more steps
	// stretches the schedule from that point on.
	LRDecay bool `json:"lr_decay,omitempty"`
	// Loss is the adversarial loss: "" or "ns" is BENCH.md's binary cross-entropy with the
	// non-saturating G loss; "hinge" is the hinge loss of SNGAN and SAGAN (Lim & Ye 2017,
	// Miyato et al. 2018, eq. 17): L_D = E[relu(1 − D(x))] + E[relu(1 + D(G(z)))],
	// L_G = −E[D(G(z))].
	Loss       string  `json:"loss,omitempty"`
	Beta1      float64 `json:"beta1"`
	Beta2      float64 `json:"beta2"`
	BNMomentum float64 `json:"bn_momentum"` // PyTorch convention: μ̂ ← (1 − m)·μ̂ + m·μ_B
	Steps      int     `json:"steps"`
	// Skew trains on a deliberately unbalanced MNIST (imagegen.Skew: the amplification audit).
	Skew *imagegen.Skew `json:"skew,omitempty"`

	// EMADecay d of the generator's exponential moving average, θ_ema ← d·θ_ema + (1 − d)·θ
	// (Yazıcı et al. 2019, "The Unusual Effectiveness of Averaging in GAN Training"). Samples
	// and evaluation use the EMA generator; 0 turns the average off (samples from G itself).
	EMADecay float64 `json:"ema_decay"`

	// EvalSamples generated images are scored against as many training and test images in the
	// reference classifier's feature space (BENCH.md: 10,000).
	EvalSamples int `json:"eval_samples"`
}

// ProfileConfig returns the configuration of a profile:
//
//   - ci: a narrow DCGAN (32/16 channels), 300 steps, scored on 500 samples (seconds);
//   - small: the configuration that measured best on 2 CPU cores (BENCH.md, "How the small
//     profiles were chosen"; notebook 01): BENCH.md's G with GenRefine (a 28×28 BatchNorm-ReLU
//     layer and a 3×3 conv at the end), an SNGAN discriminator (spectrally normalised weights,
//     no BatchNorm), Adam with β = (0, 0.9) as SNGAN and SAGAN and both learning rates at 4e-4,
//     DCGAN's N(0, 0.02²) initialisation and a generator EMA, 20,000 steps, scored on 10,000
//     samples;
//   - full: the same trained 60,000 steps, toward the stretch target (coverage ≥ 0.8);
//   - bench: BENCH.md exactly (no EMA, which costs a little per step).
func ProfileConfig(profile string) (Config, error) {
	bench := Config{Latent: 64, GenChannels: 128, DiscChannels: 64, Batch: 64, LearningRate: 2e-4,
		Beta1: 0.5, Beta2: 0.999, BNMomentum: 0.1, Steps: 10000, EvalSamples: 10000}
	switch profile {
	case "ci":
		c := bench
		c.GenChannels, c.DiscChannels, c.Steps, c.EvalSamples, c.EMADecay = 32, 16, 300, 500, 0.9
		return c, nil
	case "small", "full":
		c := bench
		c.Steps, c.EMADecay, c.InitStddev = 20000, 0.999, 0.02
		c.SpectralNorm, c.GenRefine, c.LearningRate, c.Beta1, c.Beta2 = true, true, 4e-4, 0, 0.9
		if profile == "full" {
			c.Steps = 60000
		}
		return c, nil
	case "bench":
		return bench, nil
	}
	return Config{}, family.CheckProfile(profile)
}

// Check reports the first thing wrong with c.
func (c Config) Check() error {
	switch {
	case c.Latent < 1 || c.GenChannels < 2 || c.DiscChannels < 1 || c.Batch < 2 || c.Steps < 0:
		return fmt.Errorf("gan: latent (%d), gen_channels (%d, ≥ 2), disc_channels (%d) must be ≥ 1, batch (%d) ≥ 2", c.Latent, c.GenChannels, c.DiscChannels, c.Batch)
	case c.GenChannels%2 != 0 || (c.GenRefine && c.GenChannels%4 != 0):
		return fmt.Errorf("gan: gen_channels %d must be even (the 14×14 map has half as many; a multiple of 4 with gen_refine)", c.GenChannels)
	case !(c.LearningRate > 0) || c.Beta1 < 0 || c.Beta1 >= 1 || c.Beta2 < 0 || c.Beta2 >= 1:
		return fmt.Errorf("gan: learning rate %g must be > 0 and betas (%g, %g) in [0, 1)", c.LearningRate, c.Beta1, c.Beta2)
	case !(c.BNMomentum > 0 && c.BNMomentum <= 1):
		return fmt.Errorf("gan: bn_momentum %g must be in (0, 1]", c.BNMomentum)
	case c.EMADecay < 0 || c.EMADecay >= 1:
		return fmt.Errorf("gan: ema_decay %g must be in [0, 1)", c.EMADecay)
	case c.DiscLearningRate < 0 || c.InitStddev < 0 || c.RealLabel < 0 || c.RealLabel > 1:
		return fmt.Errorf("gan: disc_learning_rate %g and init_stddev %g must be ≥ 0, real_label %g in [0, 1]", c.DiscLearningRate, c.InitStddev, c.RealLabel)
	case c.Pack < 0 || (c.Pack > 1 && c.Batch%c.Pack != 0):
		return fmt.Errorf("gan: pack %d must be ≥ 0 and divide batch %d", c.Pack, c.Batch)
	case c.Loss != "" && c.Loss != "ns" && c.Loss != "hinge":
		return fmt.Errorf("gan: loss %q must be \"ns\" (non-saturating BCE) or \"hinge\"", c.Loss)
	case c.EvalSamples < 10:
		return fmt.Errorf("gan: eval_samples %d must be ≥ 10", c.EvalSamples)
	}
	return nil
}
