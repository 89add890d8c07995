// Package gan is iagen's generative adversarial network (Goodfellow et al. 2014, "Generative
// Adversarial Nets"): a DCGAN (Radford, Metz & Chintala 2016) on MNIST scaled to [-1, 1], and a
// small MLP GAN on 2-D mixtures (toy.go) where mode collapse can be counted.
//
// Two players share one model.Store: a generator G maps noise z ~ N(0, I) to an image, a
// discriminator D maps an image to a logit ℓ = D(x), the log-odds that x is real. The
// minimax game of Goodfellow et al. (2014, eq. 1),
//
//	min_G max_D  E_x[log σ(D(x))] + E_z[log(1 − σ(D(G(z))))],
//
// is trained by alternating gradient steps. D minimises the binary cross-entropy of telling
// real (label 1) from fake (label 0); with BCE(ℓ, 1) = softplus(−ℓ) and BCE(ℓ, 0) = softplus(ℓ):
//
//	L_D = E_x[softplus(−D(x))] + E_z[softplus(D(G(z)))]
//
// G uses the non-saturating loss of Goodfellow et al. (2014, §3): instead of minimising
// log(1 − σ(D(G(z)))), whose gradient vanishes when D confidently rejects the fakes early in
// training, it maximises log σ(D(G(z))):
//
//	L_G = E_z[softplus(−D(G(z)))] = BCE(D(G(z)), 1)
//
// One training step (BENCH.md) is one D update on a real and a fake batch (two forward passes
// of D), then one G update that reuses the same fake batch through the just-updated D — one
// execution, with G's forward pass computed once (step.go). Each player has its own Adam (lr 2e-4, β1 0.5, as DCGAN) with its own state
// in the store, so both, and an exponential moving average of G's weights, are checkpointed.
//
// It registers itself as the family "gan":
//
//	iagen train gan --profile small --out runs/gan
package gan

import (
	"strings"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/train"
)

func init() {
	family.Register(family.Family{Name: "gan", Title: "DCGAN on MNIST (non-saturating loss, generator EMA)",
		Generative: true, New: func(o family.Options) (family.Model, error) { return New(o) },
		Curves: []family.Curve{{Name: "losses", Title: "pérdidas de D y de G", Keys: []string{"d_loss", "g_loss"}},
			{Name: "fld", Title: "distancia de Fréchet de las muestras (10.000)", Keys: []string{"fld", "fld_real_baseline"}}}})
}

// Scopes of the store: G's variables, D's variables and the EMA copy of G (same names below
// EMAScope).
const (
	GenScope  = "gen"
	DiscScope = "disc"
	EMAScope  = "ema"
)

// Model is a DCGAN being trained or used.
type Model struct {
	Config
	seed  int64
	store *model.Store
	train *data.Images

	step           *train.Exec // one training step: D's update, then G's (step.go)
	sampleExec     *train.Exec // z → images, with the EMA generator (or G itself without EMA)
	sampleLiveExec *train.Exec // z → images, with G itself
	scorer         *imagegen.Scorer
}

// New builds the DCGAN of opts.Profile (with opts.Overrides) and loads MNIST from opts.DataDir.
func New(opts family.Options) (*Model, error) {
	return family.New(opts, ProfileConfig, NewWithConfig)
}

// NewWithConfig builds a DCGAN with an explicit configuration.
func NewWithConfig(opts family.Options, cfg Config) (*Model, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	trainSet, err := data.LoadMNIST(data.Dir(opts.DataDir), data.Train)
	if err == nil {
		trainSet, err = cfg.Skew.Apply(trainSet)
	}
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, seed: opts.Seed, store: model.NewStore(), train: trainSet,
		scorer: imagegen.NewScorer(opts.Backend, opts.DataDir)}
	adam := func(scope string, lr float64) optimizer.Interface {
		return optimizer.Adam().LearningRate(lr).Betas(cfg.Beta1, cfg.Beta2).Epsilon(1e-8).Scope(scope).Done()
	}

	p := players{gen: m.Generator, disc: m.Discriminator, discLoss: m.discObjective, genLoss: m.genObjective,
		discOpt: adam("adam_disc", cfg.discLR()), genOpt: adam("adam_gen", cfg.LearningRate)}
	if cfg.EMADecay > 0 {
		p.afterGen = m.updateEMA
	}
	m.step, err = newStep(opts.Backend, m.store, p, shapes.Make(dtypes.Float32, cfg.Batch, cfg.Latent), true)
	if err != nil {
		return nil, err
	}
	sample := func(genScope func(*model.Scope) *model.Scope) (*train.Exec, error) {
		return train.NewEvalExec(opts.Backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			out := m.Generator(genScope(scope), in[0])
			markNonTrainable(m.store, "/"+EMAScope+"/")
			return []*graph.Node{out}
		})
	}
	m.sampleLiveExec, err = sample(func(s *model.Scope) *model.Scope { return s.At(GenScope) })
	if err != nil {
		return nil, err
	}
	m.sampleExec = m.sampleLiveExec
	if cfg.EMADecay > 0 {
		m.sampleExec, err = sample(func(s *model.Scope) *model.Scope { return s.At(EMAScope).At(GenScope) })
	}
	return m, err
}

// Generator maps z [B, Latent] to images [B, 28, 28, 1] in [-1, 1] (BENCH.md's DCGAN G, NHWC):
//
//	Dense Latent→7·7·C, reshape 7×7×C, BatchNorm, ReLU
//	→ ConvTranspose C→C/2 (k4, s2, p1): 14×14, BatchNorm, ReLU
//	→ ConvTranspose C/2→1 (k4, s2, p1): 28×28, tanh
//
// or, with GenRefine, → ConvTranspose C/2→C/4: 28×28, BatchNorm, ReLU → Conv3×3 C/4→1, tanh.
func (cfg Config) Generator(scope *model.Scope, z *graph.Node) *graph.Node {
	b, c := z.Shape().Dimensions[0], cfg.GenChannels
	scope = cfg.withInit(scope)
	h := layers.Dense(scope.In("dense"), z, true, 7*7*c)
	h = graph.Reshape(h, b, 7, 7, c)
	h = activation.Relu(nn.BatchNorm(scope.In("bn1"), h).Momentum(cfg.BNMomentum).Done())
	h = nn.ConvTranspose2D(scope.In("deconv1"), h, c/2, 4, 2, 1)
	h = activation.Relu(nn.BatchNorm(scope.In("bn2"), h).Momentum(cfg.BNMomentum).Done())
	if cfg.GenRefine {
		h = nn.ConvTranspose2D(scope.In("deconv2"), h, c/4, 4, 2, 1)
		h = activation.Relu(nn.BatchNorm(scope.In("bn3"), h).Momentum(cfg.BNMomentum).Done())
		return graph.Tanh(nn.Conv2D(scope.In("refine"), h, 1, 3, 1, 1))
	}
	h = nn.ConvTranspose2D(scope.In("deconv2"), h, 1, 4, 2, 1)
	return graph.Tanh(h)
}

// Discriminator maps images x [B, 28, 28, 1] to logits [B] (BENCH.md's DCGAN D, NHWC), or
// [B/Pack] with PacGAN packing:
//
//	Conv 1→C (k4, s2, p1): 14×14, LeakyReLU 0.2
//	→ Conv C→2C (k4, s2, p1): 7×7, BatchNorm, LeakyReLU 0.2 → flatten → Dense → 1
func (cfg Config) Discriminator(scope *model.Scope, x *graph.Node) *graph.Node {
	b, c := x.Shape().Dimensions[0], cfg.DiscChannels
	scope = cfg.withInit(scope)
	if cfg.Pack > 1 {
		// PacGAN: Pack consecutive images become the channels of one input, [B/m, 28, 28, m].
		b /= cfg.Pack
		x = graph.TransposeAllAxes(graph.Reshape(x, b, cfg.Pack, 28, 28), 0, 2, 3, 1)
	}
	if !cfg.SpectralNorm {
		h := activation.LeakyReluWith(nn.Conv2D(scope.In("conv1"), x, c, 4, 2, 1), 0.2)
		h = nn.Conv2D(scope.In("conv2"), h, 2*c, 4, 2, 1)
		h = activation.LeakyReluWith(nn.BatchNorm(scope.In("bn"), h).Momentum(cfg.BNMomentum).Done(), 0.2)
		return cfg.discHead(h, b, func(h *graph.Node) *graph.Node { return layers.Dense(scope.In("logit"), h, true, 1) })
	}
	// SNGAN's D (Miyato et al. 2018): every weight spectrally normalised, no BatchNorm.
	g := x.Graph()
	snWeight := func(s *model.Scope, dims ...int) (w, bias *graph.Node) {
		w = s.VariableWithShape("weights", shapes.Make(x.DType(), dims...)).NodeValue(g)
		bias = s.WithInitializer(initializer.Zero).VariableWithShape("biases", shapes.Make(x.DType(), dims[len(dims)-1])).NodeValue(g)
		return nn.SpectralNorm(s, w), bias
	}
	conv := func(s *model.Scope, h *graph.Node, cout int) *graph.Node {
		w, bias := snWeight(s.In("conv"), 4, 4, h.Shape().Dimensions[3], cout)
		return activation.LeakyReluWith(nn.Conv2DWithKernel(h, w, bias, 2, 1), 0.2)
	}
	h := conv(scope.In("conv2"), conv(scope.In("conv1"), x, c), 2*c)
	return cfg.discHead(h, b, func(h *graph.Node) *graph.Node {
		w, bias := snWeight(scope.In("logit").In("dense"), h.Shape().Dimensions[1], 1)
		return graph.Add(nn.MatMul2D(h, w), graph.Reshape(bias, 1, 1))
	})
}

// discHead ends D: the minibatch standard deviation channel if configured, flatten, and the
// logit layer dense [B', F] → [B', 1], reshaped to [b].
func (cfg Config) discHead(h *graph.Node, b int, dense func(*graph.Node) *graph.Node) *graph.Node {
	if cfg.MinibatchStd {
		h = minibatchStd(h)
	}
	return graph.Reshape(dense(graph.Reshape(h, b, -1)), b)
}

// minibatchStd appends to h [B, H, W, C] one channel holding the standard deviation over the
// batch of each feature, averaged over features and pixels (Karras et al. 2018, "Progressive
// Growing of GANs", §3): since D sees all-real or all-fake batches, a generator whose samples
// look alike shows a small value and is told apart, which pushes it to vary its outputs.
func minibatchStd(h *graph.Node) *graph.Node {
	dims := h.Shape().Dimensions
	centred := graph.Sub(h, graph.ReduceAndKeep(h, graph.ReduceMean, 0))
	std := graph.Sqrt(graph.AddScalar(graph.ReduceMean(graph.Square(centred), 0), 1e-8))
	s := graph.ReduceAllMean(std)
	return graph.Concatenate([]*graph.Node{h, graph.BroadcastToDims(s, dims[0], dims[1], dims[2], 1)}, 3)
}

// withInit returns scope initialising new weights from N(0, InitStddev²) (biases at 0), or
// scope itself when InitStddev is 0 (GoMLX's He-normal default). BatchNorm's variables have
// their own initialisers.
func (cfg Config) withInit(scope *model.Scope) *model.Scope {
	if cfg.InitStddev <= 0 {
		return scope
	}
	normal := nn.NormalInitializer(scope, cfg.InitStddev)
	return scope.WithInitializer(func(g *graph.Graph, shape shapes.Shape) *graph.Node {
		if shape.Rank() <= 1 {
			return graph.Zeros(g, shape)
		}
		return normal(g, shape)
	})
}

// discObjective is D's loss for the configured Loss.
func (m *Model) discObjective(realLogits, fakeLogits *graph.Node) *graph.Node {
	if m.Loss == "hinge" {
		return hingeDiscLoss(realLogits, fakeLogits)
	}
	return discLossSmoothed(realLogits, fakeLogits, m.realLabel())
}

// genObjective is G's loss for the configured Loss.
func (m *Model) genObjective(fakeLogits *graph.Node) *graph.Node {
	if m.Loss == "hinge" {
		return graph.Neg(graph.ReduceAllMean(fakeLogits))
	}
	return GenLoss(fakeLogits)
}

// hingeDiscLoss is D's hinge loss (Lim & Ye 2017; Miyato et al. 2018, eq. 17):
// L_D = mean relu(1 − ℓ_real) + mean relu(1 + ℓ_fake). D is only pushed until real logits
// pass 1 and fake ones −1, instead of towards infinite confidence.
func hingeDiscLoss(realLogits, fakeLogits *graph.Node) *graph.Node {
	return graph.Add(graph.ReduceAllMean(activation.Relu(graph.OneMinus(realLogits))),
		graph.ReduceAllMean(activation.Relu(graph.OnePlus(fakeLogits))))
}

// schedule is the learning-rate schedule of a player whose base rate is lr: constant, or with
// LRDecay falling linearly to 0 at the last step.
func (c Config) schedule(lr float64) train.Schedule {
	if !c.LRDecay {
		return train.Schedule{LearningRate: lr}
	}
	return train.Schedule{LearningRate: lr, Decay: "linear", DecaySteps: c.Steps}
}

// DiscLoss is D's binary cross-entropy, real labelled 1 and fake 0 (Goodfellow et al. 2014,
// eq. 1, as a loss to minimise): L_D = mean softplus(−ℓ_real) + mean softplus(ℓ_fake).
func DiscLoss(realLogits, fakeLogits *graph.Node) *graph.Node {
	return graph.Add(graph.ReduceAllMean(graph.Softplus(graph.Neg(realLogits))), graph.ReduceAllMean(graph.Softplus(fakeLogits)))
}

// discLossSmoothed is discLoss with real images labelled y instead of 1 (one-sided label
// smoothing): BCE(ℓ, y) = softplus(ℓ) − y·ℓ, which is softplus(−ℓ) at y = 1.
func discLossSmoothed(realLogits, fakeLogits *graph.Node, y float64) *graph.Node {
	if y == 1 {
		return DiscLoss(realLogits, fakeLogits)
	}
	realTerm := graph.Sub(graph.Softplus(realLogits), graph.MulScalar(realLogits, y))
	return graph.Add(graph.ReduceAllMean(realTerm), graph.ReduceAllMean(graph.Softplus(fakeLogits)))
}

func (c Config) discLR() float64 {
	if c.DiscLearningRate > 0 {
		return c.DiscLearningRate
	}
	return c.LearningRate
}

func (c Config) realLabel() float64 {
	if c.RealLabel > 0 {
		return c.RealLabel
	}
	return 1
}

// GenLoss is the non-saturating generator loss (Goodfellow et al. 2014, §3):
// L_G = mean softplus(−ℓ_fake) = −mean log σ(D(G(z))).
func GenLoss(fakeLogits *graph.Node) *graph.Node {
	return graph.ReduceAllMean(graph.Softplus(graph.Neg(fakeLogits)))
}

// meanSigmoid is D's mean probability that its inputs are real.
func meanSigmoid(logits *graph.Node) *graph.Node { return graph.ReduceAllMean(graph.Sigmoid(logits)) }

// updateEMA keeps the EMA copy of every variable of G (weights and BatchNorm running averages),
// with train.UpdateEMA's warm-up. It reads G's weights at the start of the step (before this step's Adam
// update: the average lags G by one step, which does not matter at d ≈ 0.999) and its running
// averages after this step's forward pass. It must be called after G is built and before the
// optimizer.
func (m *Model) updateEMA(g *graph.Graph) {
	// G's variables: those under GenScope that this graph has used so far (the optimizer's,
	// also under GenScope, are added to the graph only after this function).
	var vars []*model.Variable
	for v := range m.store.IterVariables() {
		if strings.HasPrefix(v.Path(), "/"+GenScope+"/") && v.InUseByGraph(g) {
			vars = append(vars, v)
		}
	}
	train.UpdateEMA(m.store, g, vars, EMAScope, m.EMADecay)
}

// markNonTrainable flags every variable under prefix as not trainable (the EMA copy of G).
func markNonTrainable(store *model.Store, prefix string) {
	for v := range store.IterVariables() {
		if strings.HasPrefix(v.Path(), prefix) {
			v.SetTrainable(false)
		}
	}
}

// Store holds both players' weights, their Adam states, G's EMA and the random-number state.
func (m *Model) Store() *model.Store { return m.store }

// Step runs training step number step: D on real batch number step of the shuffled training
// set (pixels scaled to [-1, 1]) and a fake batch, then G on the same fake batch.
func (m *Model) Step(step int) (train.Metrics, error) {
	idx := data.BatchIndices(m.train.N, m.Batch, m.seed, step)
	return m.step.Run(m.train.Float32(idx, -1, 1), float32(m.schedule(m.discLR()).At(step)),
		float32(m.schedule(m.LearningRate).At(step)))
}

// Info describes the model for manifests.
func (m *Model) Info() family.Info {
	return family.Info{Steps: m.Steps, Config: m.Config, Datasets: m.train.Files, Params: train.TrainableParams(m.store), SampleExt: ".png"}
}

// TrainSet returns the MNIST training images the GAN learns from.
func (m *Model) TrainSet() *data.Images { return m.train }
