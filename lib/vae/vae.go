// Package vae is iagen's variational autoencoder (Kingma & Welling 2014, "Auto-Encoding
// Variational Bayes"; Rezende, Mohamed & Wierstra 2014) on dynamically binarized MNIST.
//
// An encoder q_φ(z|x) = N(μ_φ(x), diag σ²_φ(x)) maps an image to a Gaussian over a small latent
// space; a decoder p_θ(x|z) = Π_j Bernoulli(x_j; sigmoid(ℓ_θ(z)_j)) maps a latent back to one
// Bernoulli probability per pixel; the prior is p(z) = N(0, I). Training maximises the evidence
// lower bound (ELBO) on log p_θ(x), with one reparameterised sample z = μ + σ ⊙ ε, ε ~ N(0, I)
// (Kingma & Welling 2014, §2.3–2.4, eq. 10) and the KL term in closed form (their appendix B):
//
//	log p(x) ≥ ELBO(x) = E_{q(z|x)}[log p(x|z)] − KL(q(z|x) ‖ p(z)),
//	KL = ½ Σ_d (μ_d² + σ_d² − 1 − log σ_d²).
//
// A β knob weights the KL term (β-VAE, Higgins et al. 2017): loss = −E_q[log p(x|z)] + β·KL;
// β = 1 is the ELBO. The test likelihood is the importance-weighted bound of Burda, Grosse &
// Salakhutdinov 2016 with K samples (see IWAE), reported next to the test ELBO, the KL per
// latent dimension and the number of active units.
//
// Two architectures: "mlp" (BENCH.md: 784→400 ReLU→(μ, log σ²) ∈ R^20; 20→400 ReLU→784 logits)
// and "conv" (two stride-2 convolutions down, two stride-2 transposed convolutions up, from
// lib/nn). It registers itself as the family "vae":
//
//	iagen train vae --profile small --out runs/vae
package vae

import (
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/train"
)

func init() {
	family.Register(family.Family{Name: "vae", Title: "variational autoencoder (binarized MNIST, ELBO, IWAE bound)",
		Generative: true, New: func(o family.Options) (family.Model, error) { return New(o) },
		Curves: []family.Curve{{Name: "loss", Title: "−ELBO por imagen (nats): reconstrucción y KL", Keys: []string{"neg_elbo", "recon", "kl"}}}})
}

// Model is a VAE being trained or used.
type Model struct {
	Config
	seed    int64
	backend compute.Backend
	store   *model.Store
	train   *data.Images // grey training images, binarized afresh every step
	test    *data.Images // test images binarized once (TestBinarizationSeed): pixels 0 or 255

	step       *train.Exec         // one Adam update on −ELBO_β of a batch
	encodeExec *train.Exec         // x → μ, log σ²
	decodeExec *train.Exec         // z → Bernoulli means
	iwaeExecs  map[int]*train.Exec // per samples-per-image k: x, RNG state → log-weights, log p(x|z), RNG state
	scorer     *imagegen.Scorer    // scores decoded samples as every image family's
}

// New builds the VAE of opts.Profile (with opts.Overrides) and loads MNIST from opts.DataDir.
func New(opts family.Options) (*Model, error) {
	return family.New(opts, ProfileConfig, NewWithConfig)
}

// NewWithConfig builds a VAE with an explicit configuration (the notebook's 2-dimensional and
// β variants).
func NewWithConfig(opts family.Options, cfg Config) (*Model, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	dir := data.Dir(opts.DataDir)
	trainSet, err := data.LoadMNIST(dir, data.Train)
	if err == nil {
		trainSet, err = cfg.Skew.Apply(trainSet)
	}
	if err != nil {
		return nil, err
	}
	testSet, err := data.LoadMNIST(dir, data.Test)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, seed: opts.Seed, backend: opts.Backend, store: model.NewStore(), scorer: imagegen.NewScorer(opts.Backend, opts.DataDir),
		train: trainSet, test: Binarize(testSet, TestBinarizationSeed), iwaeExecs: map[int]*train.Exec{}}
	// BENCH.md: Adam β1 0.9, β2 0.999, ε 1e-8 (GoMLX's default ε is 1e-7).
	opt := optimizer.Adam().LearningRate(cfg.LearningRate).Betas(0.9, 0.999).Epsilon(1e-8).Done()
	m.step, err = train.NewTrainExec(opts.Backend, m.store, opt, "", []string{"loss", "neg_elbo", "recon", "kl"},
		func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			x := in[0]
			g := x.Graph()
			// Dynamic binarization: a fresh x_j ~ Bernoulli(grey level) every step.
			xb := graph.ConvertDType(graph.LessThan(scope.RandomUniform(g, x.Shape()), x), dtypes.Float32)
			noise := shapes.Make(dtypes.Float32, x.Shape().Dimensions[0], cfg.Latent)
			eps := nn.StandardNormal(scope, g, noise)
			recon, kl := m.NegELBO(scope, xb, eps)
			r, k := graph.ReduceAllMean(recon), graph.ReduceAllMean(kl)
			loss := graph.Add(r, graph.MulScalar(k, cfg.Beta))
			return []*graph.Node{loss, graph.Add(r, k), r, k}
		})
	if err != nil {
		return nil, err
	}
	m.encodeExec, err = train.NewEvalExec(opts.Backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		mu, logVar := m.Encoder(scope, in[0])
		return []*graph.Node{mu, logVar}
	})
	if err != nil {
		return nil, err
	}
	m.decodeExec, err = train.NewEvalExec(opts.Backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		logits := m.Decoder(scope, in[0])
		return []*graph.Node{graph.Reshape(graph.Sigmoid(logits), -1, 28, 28, 1)}
	})
	return m, err
}

// Encoder maps images x [B, 28, 28, 1] to the parameters of q(z|x): μ and log σ², each [B, Latent]
// (the encoder's variables under scope/encoder).
func (c Config) Encoder(scope *model.Scope, x *graph.Node) (mu, logVar *graph.Node) {
	scope = scope.In("encoder")
	b := x.Shape().Dimensions[0]
	h := x
	if c.Arch == "conv" {
		// 28×28×1 → 14×14×C → 7×7×2C (4×4 kernels, stride 2, padding 1), then one Dense layer.
		h = activation.Relu(nn.Conv2D(scope.In("conv1"), h, c.Channels, 4, 2, 1))
		h = activation.Relu(nn.Conv2D(scope.In("conv2"), h, 2*c.Channels, 4, 2, 1))
		h = activation.Relu(layers.Dense(scope.In("dense"), graph.Reshape(h, b, -1), true, c.Hidden))
	} else {
		h = graph.Reshape(h, b, -1)
		for i := range c.Depth {
			h = activation.Relu(layers.Dense(scope.In("hidden%d", i), h, true, c.Hidden))
		}
	}
	return layers.Dense(scope.In("mu"), h, true, c.Latent), layers.Dense(scope.In("logvar"), h, true, c.Latent)
}

// Decoder maps latents z [N, Latent] to Bernoulli logits ℓ [N, 784]: p(x_j = 1 | z) = sigmoid(ℓ_j)
// (the decoder's variables under scope/decoder).
func (c Config) Decoder(scope *model.Scope, z *graph.Node) *graph.Node {
	scope = scope.In("decoder")
	n := z.Shape().Dimensions[0]
	h := z
	if c.Arch == "conv" {
		// Mirror of the encoder: Dense → 7×7×2C → 14×14×C → 28×28×1 (transposed convolutions).
		h = activation.Relu(layers.Dense(scope.In("dense"), h, true, c.Hidden))
		h = activation.Relu(layers.Dense(scope.In("project"), h, true, 7*7*2*c.Channels))
		h = graph.Reshape(h, n, 7, 7, 2*c.Channels)
		h = activation.Relu(nn.ConvTranspose2D(scope.In("deconv1"), h, c.Channels, 4, 2, 1))
		h = nn.ConvTranspose2D(scope.In("deconv2"), h, 1, 4, 2, 1)
		return graph.Reshape(h, n, 28*28)
	}
	for i := range c.Depth {
		h = activation.Relu(layers.Dense(scope.In("hidden%d", i), h, true, c.Hidden))
	}
	return layers.Dense(scope.In("logits"), h, true, 28*28)
}

// NegELBO returns, per image of the binary batch x [B, 28, 28, 1] with the noise ε [B, Latent]
// of the reparameterisation z = μ + σ ⊙ ε, the two terms of −ELBO (both [B], nats):
//
//	recon = −log p(x|z) = Σ_j BCEWithLogits(ℓ_j, x_j)      (one-sample estimate of −E_q[log p(x|z)])
//	kl    = KL(q(z|x) ‖ N(0, I)) = ½ Σ_d (μ_d² + σ_d² − 1 − log σ_d²)
func (c Config) NegELBO(scope *model.Scope, x, eps *graph.Node) (recon, kl *graph.Node) {
	mu, logVar := c.Encoder(scope, x)
	z := graph.Add(mu, graph.Mul(graph.Exp(graph.MulScalar(logVar, 0.5)), eps))
	logits := c.Decoder(scope, z)
	recon = graph.Neg(bernoulliLogLikelihood(graph.Reshape(x, -1, 28*28), logits))
	return recon, graph.ReduceSum(klPerDim(mu, logVar), -1)
}

// klPerDim is KL(N(μ, σ²) ‖ N(0, 1)) for every latent dimension: ½ (μ² + σ² − 1 − log σ²),
// shaped like μ.
func klPerDim(mu, logVar *graph.Node) *graph.Node {
	return graph.MulScalar(graph.Sub(graph.Add(graph.Square(mu), graph.Exp(logVar)), graph.AddScalar(logVar, 1)), 0.5)
}

// bernoulliLogLikelihood is log p(x|ℓ) = Σ_j x_j ℓ_j − softplus(ℓ_j), summed over the last axis
// (x ∈ {0, 1}; softplus(ℓ) = max(ℓ, 0) + log(1 + e^−|ℓ|), stable for any ℓ). x may have size 1
// on axes where ℓ does not (it is broadcast).
func bernoulliLogLikelihood(x, logits *graph.Node) *graph.Node {
	softplus := graph.Add(activation.Relu(logits), graph.Log1p(graph.Exp(graph.Neg(graph.Abs(logits)))))
	return graph.ReduceSum(graph.Sub(graph.Mul(x, logits), softplus), -1)
}

// logWeights computes, for binary images x [B, 28, 28, 1] and the noise eps [B, K, Latent] of K
// reparameterised samples z_i = μ(x) + σ(x) ⊙ ε_i ~ q(z|x) per image, the importance log-weights
// of Burda et al. 2016 (eq. 8) and the reconstruction terms, both [B, K]:
//
//	log w_i = log p(x|z_i) + log p(z_i) − log q(z_i|x),
//
// with log p(z) = −½ Σ_d (z_d² + log 2π) and, since (z − μ)/σ = ε,
// log q(z|x) = −½ Σ_d (ε_d² + log σ_d² + log 2π).
func (m *Model) logWeights(scope *model.Scope, x, eps *graph.Node) (logW, logPx *graph.Node) {
	b, k := eps.Shape().Dimensions[0], eps.Shape().Dimensions[1]
	mu, logVar := m.Encoder(scope, x)
	mu3, logVar3 := graph.Reshape(mu, b, 1, m.Latent), graph.Reshape(logVar, b, 1, m.Latent)
	z := graph.Add(mu3, graph.Mul(graph.Exp(graph.MulScalar(logVar3, 0.5)), eps)) // [B, K, L]
	logits := graph.Reshape(m.Decoder(scope, graph.Reshape(z, b*k, m.Latent)), b, k, 28*28)
	logPx = bernoulliLogLikelihood(graph.Reshape(x, b, 1, 28*28), logits)
	halfLog2Pi := 0.5 * math.Log(2*math.Pi) * float64(m.Latent)
	logPz := graph.AddScalar(graph.MulScalar(graph.ReduceSum(graph.Square(z), -1), -0.5), -halfLog2Pi)
	logQ := graph.AddScalar(graph.MulScalar(graph.Add(graph.ReduceSum(graph.Square(eps), -1), graph.ReduceSum(logVar3, -1)), -0.5), -halfLog2Pi)
	return graph.Add(logPx, graph.Sub(logPz, logQ)), logPx
}

// Store holds the weights, the Adam state and the random-number state.
func (m *Model) Store() *model.Store { return m.store }

// Step trains on batch number step of the shuffled training set: the grey images go in, and the
// graph binarizes them with the store's RNG (so a resumed run repeats the same binarization).
func (m *Model) Step(step int) (train.Metrics, error) {
	idx := data.BatchIndices(m.train.N, m.Batch, m.seed, step)
	return m.step.Run(m.train.Float32(idx, 0, 1))
}

// Info describes the model for manifests.
func (m *Model) Info() family.Info {
	return family.Info{Steps: m.Steps, Config: m.Config, Datasets: data.FilesOf(m.train, m.test), Params: train.TrainableParams(m.store), SampleExt: ".png"}
}
