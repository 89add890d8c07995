// Package flow is iagen's normalizing flow: RealNVP (Dinh, Sohl-Dickstein & Bengio 2017,
// "Density estimation using Real NVP"), with one scale or several, with ActNorm (Kingma &
// Dhariwal 2018, "Glow: Generative Flow with Invertible 1×1 Convolutions"), on 8-bit MNIST
// with an exact log-likelihood.
//
// # Change of variables
//
// An invertible f maps an image v to z = f(v) with a standard normal prior, and (Dinh et al.
// 2017, eq. 3)
//
//	log p(v) = log N(f(v); 0, I) + log|det ∂f(v)/∂v|
//
// f is a composition, so its log-determinant is the sum of its parts'. Sampling is the exact
// inverse: z ~ N(0, T²·I), v = f⁻¹(z), with T = 1 the model's distribution (T < 1, a lower
// temperature, as Kingma & Dhariwal 2018, §5).
//
// # Dequantization and the logit transform
//
// The 8-bit pixels x ∈ {0…255} are dequantized with uniform noise, v = x + u, u ~ U[0, 1)
// (Dinh et al. 2017, §4.1; Theis et al. 2016): the log-density of v is a lower bound on the
// log-probability of x (unit bins). Then p = α + (1 − 2α)·v/256 and z₀ = logit p (α = 0.05)
// keep the flow away from the boundaries of [0, 256); the log-determinant of this step is
// counted (Preprocess), so that bits/dim, −log p(v)/(D·ln 2) with D = 784, are in 8-bit pixel
// space.
//
// # Layers
//
// Each of the L layers is an ActNorm, y = (x + b)⊙exp(ℓ) with log|det| = H·W·Σℓ (Kingma &
// Dhariwal 2018, Table 1), then an affine coupling with a checkerboard mask b, (i + j) even and
// odd alternately (Dinh et al. 2017, eq. 9 and §3.4):
//
//	y = b⊙x + (1 − b)⊙(x⊙exp(s(b⊙x)) + t(b⊙x)),   log|det ∂y/∂x| = Σ_j s_j   (eq. 6)
//	x = b⊙y + (1 − b)⊙(y − t(b⊙y))⊙exp(−s(b⊙y))                             (eq. 8)
//
// where (raw, t) = CNN(b⊙x) (Conv3×3 1→64, ReLU, Conv3×3 64→64, ReLU, Conv3×3 64→2) and
// s = scale·tanh(raw) with one learned scale per layer. The loss is the batch mean of bits/dim.
//
// # Several scales
//
// With Arch.Scales = 2 or 3 the flow is multi-scale (Dinh et al. 2017, §3.6): after the
// checkerboard couplings at 28×28, a squeeze turns each 2×2 block of pixels into channels
// (14×14×4), where couplings transform one half of the channels from the other, alternately;
// then half of the channels are factored out — they go straight to z, modelled by the prior —
// and the rest is squeezed again (7×7×8) for the last scale's couplings. The later couplings
// see a wider neighbourhood for the same 3×3 convolutions, at a quarter and a sixteenth of the
// pixels: with 4 couplings per scale of 64 channels the step costs about two thirds of the
// single scale's 8 (`iagen bench flow --set scales=3 --set layers=4`), and the factored-out
// channels cost nothing further. The UvA deep-learning tutorial's PyTorch flows reach 1.020
// bits/dim on MNIST this way against 1.078 with one scale (BENCH.md's references). With
// Arch.InvConv (`--set inv_conv=true`) an invertible 1×1 convolution (nn.InvConv1x1, Glow §3.2)
// comes before each of these couplings: a learned mixing of the channels where the alternating
// halves are fixed; the small profile does not use it.
//
// # Initialisation
//
// The ActNorms use Glow's data-dependent initialisation (nn.ActNorm): on the first training
// batch each sets its bias and log-scale so that its output has zero mean and unit variance
// per channel. The logit-space pixels are far from N(0, 1) (they cluster near ±2.9, the logits
// of 0.05 and 0.95): a zero-initialised ActNorm would leave the first steps to bring the scale
// of z to the prior's, steps in which large gradients on the coupling networks are most likely
// to blow up. The last convolution of each coupling network starts at zero (Glow, §3.3), so
// every coupling starts as the identity: before its first step the whole flow is the logit
// transform, whose bits/dim have a closed form (the tests check it). A warm-up of the learning
// rate (train.Schedule) guards the first steps further.
//
// # The small profile
//
// BENCH.md's flow made multi-scale: 3 scales of 4 couplings of 64 channels, on XLA with its
// native convolutions (nn.ParamNativeConv). BENCH.md's Adam at 1e-3 follows a 200-step
// warm-up and a cosine decay to 5 % at the last step: a likelihood model's final bits/dim gain
// most from a low learning rate at the end. Its gradients are clipped to global norm 10
// (Pascanu et al. 2013), below the 40 or so of the first steps, so that nearly every step is
// rescaled: Adam is indifferent to a common scale, but a batch the flow fits badly no longer
// weighs more than the others, and one such batch can otherwise throw a run from 2 to 20
// bits/dim and leave it hundreds of steps behind. 6,000 steps at batch 64 (6.4 epochs) take
// about 75 minutes alone on 2 cores; BENCH.md's single scale of 8 couplings, trained the same
// way, took longer and reached 1.407 test bits/dim against the three scales' 1.369, with
// samples far from the digits (Fréchet 684 against 144). Published RealNVPs reach 1.02–1.08
// bits/dim on MNIST after many more epochs (BENCH.md's references); full trains the same
// model for 30,000 steps.
//
// # Flows on the plane
//
// ToyModel (toy.go) is the same idea on data.Toy2D's distributions: affine couplings that
// alternately transform one coordinate from the other with small MLPs, an exact log-density,
// the learned density on a grid (DensityGrid) next to the true one (TrueDensityGrid: the closed
// form of the mixtures, a histogram otherwise) and the log-likelihood gap KLEstimate. Encode,
// Decode and Interpolate (latent.go) map MNIST images to z and back.
//
// It registers itself as the family "flow":
//
//	iagen train flow --profile small --out runs/flow
//	iagen sample flow --from runs/flow --n 16 --out samples.png --set temperature=0.7
package flow

import (
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/train"
)

func init() {
	family.Register(family.Family{Name: "flow", Title: "RealNVP on MNIST (affine couplings, ActNorm; exact log-likelihood in bits/dim)",
		Generative: true, New: func(o family.Options) (family.Model, error) { return New(o) },
		Curves: []family.Curve{{Name: "loss", Title: "bits por dimensión: entrenamiento y test", Keys: []string{"loss", "test_bits_per_dim"}},
			{Name: "fld", Title: "distancia de Fréchet de las muestras (10.000)", Keys: []string{"fld", "fld_real_baseline"}}}})
}

// NetScope is the scope of the flow's variables.
const NetScope = "realnvp"

// Model is a RealNVP being trained or used.
type Model struct {
	Config
	seed        int64
	backend     compute.Backend
	store       *model.Store
	train, test *data.Images
	other       *data.Images // the other data set's test images (otherTestSet), loaded when first evaluated
	dataDir     string
	sampling    Sampling // the sampler of Samples and Sample (SetSampling)

	step    *train.Exec // a training step: bits/dim, Adam
	density *train.Exec // v [SampleBatch, 28, 28, 1] → bits/dim per image, z
	inverse *train.Exec // z [SampleBatch, 28, 28, 1] → v
	scorer  *imagegen.Scorer
}

// New builds the flow of opts.Profile (with opts.Overrides) and loads MNIST (or Config.Dataset)
// from opts.DataDir.
func New(opts family.Options) (*Model, error) {
	return family.New(opts, ProfileConfig, NewWithConfig)
}

// NewWithConfig builds a flow with an explicit configuration.
func NewWithConfig(opts family.Options, cfg Config) (*Model, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	trainSet, testSet, err := cfg.loadSplits(data.Dir(opts.DataDir))
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, seed: opts.Seed, backend: opts.Backend, store: model.NewStore(), train: trainSet, test: testSet, dataDir: opts.DataDir,
		sampling: cfg.Sampling, scorer: imagegen.NewScorer(opts.Backend, opts.DataDir)}
	adam := optimizer.Adam().LearningRate(cfg.LearningRate).Betas(0.9, 0.999).Epsilon(1e-8).Done()
	clip := math.Inf(1)
	if cfg.ClipNorm > 0 {
		clip = cfg.ClipNorm
	}
	m.step, err = train.NewClippedTrainExec(opts.Backend, m.store, adam, clip, []string{"loss", "grad_norm"},
		func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			x := in[0]
			u := scope.RandomUniform(x.Graph(), x.Shape()) // dequantization noise, U[0, 1)
			loss := graph.ReduceAllMean(BitsPerDim(Forward(m.net(scope), cfg.Arch, graph.Add(x, u), true)))
			train.SetLearningRate(scope, in[1])
			return []*graph.Node{loss}
		})
	if err != nil {
		return nil, err
	}
	m.density, err = train.NewEvalExec(opts.Backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		z, logDet := Forward(m.net(scope), cfg.Arch, in[0], false)
		return []*graph.Node{BitsPerDim(z, logDet), z}
	})
	if err != nil {
		return nil, err
	}
	m.inverse, err = train.NewEvalExec(opts.Backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{Inverse(m.net(scope), cfg.Arch, in[0])}
	})
	return m, err
}

// net returns the scope of the flow's variables, with Conv2D on the backend's own convolution.
func (m *Model) net(root *model.Scope) *model.Scope {
	root.SetParam(nn.ParamNativeConv, true)
	return root.In(NetScope)
}

// Store holds the flow's weights, Adam's state and the random-number state.
func (m *Model) Store() *model.Store { return m.store }

// Step runs training step number step on batch number step of the shuffled training set (pixel
// values 0…255), dequantized with noise from the store's random numbers; its loss is the batch
// mean of bits/dim.
func (m *Model) Step(step int) (train.Metrics, error) {
	idx := data.BatchIndices(m.train.N, m.Batch, m.seed, step)
	return m.step.Run(m.train.Float32(idx, 0, 255), float32(m.schedule().At(step)))
}

// Info describes the model for manifests.
func (m *Model) Info() family.Info {
	return family.Info{Steps: m.Steps, Config: m.Config, Datasets: data.FilesOf(m.train, m.test),
		Params: train.TrainableParams(m.store), SampleExt: ".png"}
}

// TrainSet and TestSet return the images (MNIST unless Config.Dataset) the model learns from and
// is evaluated on.
func (m *Model) TrainSet() *data.Images { return m.train }
func (m *Model) TestSet() *data.Images  { return m.test }
