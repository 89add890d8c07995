// Package diffusion is iagen's denoising diffusion probabilistic model (DDPM, Ho, Jain & Abbeel
// 2020, "Denoising Diffusion Probabilistic Models") on MNIST scaled to [-1, 1], with the
// deterministic DDIM sampler (Song, Meng & Ermon 2021, "Denoising Diffusion Implicit Models")
// and the cosine noise schedule (Nichol & Dhariwal 2021, "Improved Denoising Diffusion
// Probabilistic Models").
//
// # Forward process
//
// A fixed Markov chain adds Gaussian noise to an image x_0 in T steps, with variances β_t
// (Ho et al. 2020, eq. 2; time steps are 0-based here, t = 0…T−1, Ho et al.'s t = 1…T):
//
//	q(x_t | x_{t−1}) = N(x_t; √(1−β_t)·x_{t−1}, β_t·I)
//
// With α_t = 1 − β_t and ᾱ_t = Π_{s≤t} α_s, any x_t follows from x_0 in one draw (eq. 4):
//
//	q(x_t | x_0) = N(x_t; √ᾱ_t·x_0, (1−ᾱ_t)·I),   i.e.  x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε,  ε ~ N(0, I)
//
// and ᾱ_{T−1} ≈ 0 makes x_{T−1} almost pure noise. Two schedules (NoiseSchedule):
//
//	linear  β_t = β_start + (β_end − β_start)·t/(T−1)     (Ho et al. 2020, §4: 1e-4 → 0.02)
//	cosine  ᾱ(t) = f(t)/f(0),  f(t) = cos²(((t/T) + s)/(1 + s)·π/2),  s = 0.008
//	        β_t = min(1 − ᾱ(t+1)/ᾱ(t), 0.999)              (Nichol & Dhariwal 2021, eq. 17)
//
// # Objective
//
// A U-Net ε_θ(x_t, t) (nn.UNet) predicts the noise in x_t. Ho et al.'s simplified objective
// (eq. 14, Algorithm 1), a reweighted variational bound, is
//
//	L_simple = E_{t ~ U{0…T−1}, x_0, ε ~ N(0, I)} ‖ε − ε_θ(√ᾱ_t·x_0 + √(1−ᾱ_t)·ε, t)‖²
//
// here the mean over the batch and the pixels (BENCH.md), so predicting ε̂ = 0 scores E[ε²] = 1.
// The prediction also estimates the clean image: x̂_0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t.
//
// With Prediction "v" the U-Net predicts v = √ᾱ_t·ε − √(1−ᾱ_t)·x_0 instead, trained on
// ‖v − v̂‖² (Salimans & Ho 2022, "Progressive Distillation for Fast Sampling of Diffusion
// Models", §4), and ε̂ = √ᾱ_t·v̂ + √(1−ᾱ_t)·x_t feeds the same samplers. Since
// ε − ε̂ = √ᾱ_t·(v̂ − v), the v-loss is the ε-loss divided by ᾱ_t: it weighs the noisiest steps,
// where ε-prediction learns little about x_0, far more.
//
// # Sampling (sample.go)
//
// Ancestral sampling (Ho et al. 2020, Algorithm 2) runs the learned reverse chain from
// x_{T−1} ~ N(0, I) through all T steps, with σ_t² = β_t:
//
//	x_{t−1} = (x_t − β_t/√(1−ᾱ_t)·ε̂)/√α_t + σ_t·z,   z ~ N(0, I) (z = 0 at the last step)
//
// DDIM (Song et al. 2021, eq. 12) visits only S time steps τ_{S−1} > … > τ_0 and jumps from τ
// to the previous τ' (ᾱ_{τ'} = 1 after τ_0):
//
//	x_{τ'} = √ᾱ_{τ'}·x̂_0 + √(1 − ᾱ_{τ'} − σ²)·ε̂ + σ·z,   σ = η·√((1−ᾱ_{τ'})/(1−ᾱ_τ))·√(1 − ᾱ_τ/ᾱ_{τ'})   (eq. 16)
//
// η = 0 is deterministic: noise and image are then one-to-one, and with the exact ε the jump
// lands exactly on q's x_{τ'} for the same x_0 and ε. Both updates are x' = A·x_t + B·ε̂ + C·z
// with coefficients computed on the host, so one compiled graph serves every step and sampler.
//
// It registers itself as the family "diffusion":
//
//	iagen train diffusion --profile small --out runs/diffusion
//	iagen sample diffusion --from runs/diffusion --set sampler=ddim --set steps=50 --set eta=0
//
// # The small profile
//
// BENCH.md's U-Net as it is (0.51M parameters; attention costs little at 7×7), on XLA with its
// native convolutions (nn.ParamNativeConv), trained 20,000 steps at batch 64 — about 21 epochs
// — to predict v under the cosine schedule, with Adam at 1e-3 after a 500-step warm-up (Ho et
// al. use 2e-4 on CIFAR-10; MNIST and a small U-Net take a larger step), and sampled with an
// EMA of the weights at 0.999 (Ho et al.'s 0.9999 averages over more steps than the run has).
// v rather than ε: its loss weighs the noisiest steps, which decide the digit's shape, far
// more (above). Cosine rather than linear: the linear schedule spends half of the uniformly
// drawn time steps at σ_t = √((1−ᾱ_t)/ᾱ_t) > 3.4, where a 28×28 digit is all but gone, and the
// cosine one three quarters below σ = 2.4 (Nichol & Dhariwal 2021, §3.2). README.md gives what
// each choice measured. Narrower U-Nets step faster (16 base channels: 0.13M parameters, about
// 0.44× the CPU time per step; 24: 0.29M, 0.72×) but do not end better at equal time;
// BENCH.md's keeps the small run's step the one that BENCH.md times. That step takes about
// 0.39 s on xla:cpu on this project's 2-core machines, so 20,000 steps take about 2 h 11 min:
// of the lengths evaluated (12,000, 18,000, 20,000, 22,000 steps), the first that clears
// "pass" (README.md). Each evaluation (10,000 DDIM-50 samples, 500,000 U-Net passes, about
// 17 min) comes on top.
package diffusion

import (
	"math"
	"strings"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
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
	family.Register(family.Family{Name: "diffusion", Title: "DDPM on MNIST (U-Net predicting ε or v; DDPM and DDIM samplers)",
		Generative: true, New: func(o family.Options) (family.Model, error) { return New(o) },
		Curves: []family.Curve{{Name: "loss", Title: "pérdida (error cuadrático medio): la del entrenamiento (de ε o de v, según prediction) y la de ε en test", Keys: []string{"loss", "test_loss"}},
			{Name: "fld", Title: "distancia de Fréchet de las muestras DDIM (10.000)", Keys: []string{"fld", "fld_real_baseline"}}}})
}

// Scopes of the store: the network's variables, and their EMA copy (same names below EMAScope).
const (
	NetScope = "unet"
	EMAScope = "ema"
)

// NoiseSchedule is the forward process's β_t and ᾱ_t = Π_{s≤t} (1 − β_s), t = 0…T−1, in
// float64 (the graph gets them as float32 tables).
type NoiseSchedule struct {
	Beta, AlphaBar []float64
}

// LinearSchedule is Ho et al.'s schedule: β_t from betaStart to betaEnd linearly over T steps.
func LinearSchedule(T int, betaStart, betaEnd float64) NoiseSchedule {
	beta := make([]float64, T)
	for t := range beta {
		beta[t] = betaStart + (betaEnd-betaStart)*float64(t)/float64(T-1)
	}
	return scheduleFromBetas(beta)
}

// CosineSchedule is Nichol & Dhariwal's schedule of T steps: ᾱ follows f(t)/f(0) with
// f(t) = cos²(((t/T) + s)/(1 + s)·π/2), s = 0.008, through β_t = min(1 − f(t+1)/f(t), 0.999);
// the clip only acts at the end, where f reaches 0.
func CosineSchedule(T int) NoiseSchedule {
	const s = 0.008
	f := func(t int) float64 { return math.Pow(math.Cos((float64(t)/float64(T)+s)/(1+s)*math.Pi/2), 2) }
	beta := make([]float64, T)
	for t := range beta {
		beta[t] = min(1-f(t+1)/f(t), 0.999)
	}
	return scheduleFromBetas(beta)
}

func scheduleFromBetas(beta []float64) NoiseSchedule {
	s := NoiseSchedule{Beta: beta, AlphaBar: make([]float64, len(beta))}
	ab := 1.0
	for t, b := range beta {
		ab *= 1 - b
		s.AlphaBar[t] = ab
	}
	return s
}

// NoiseSchedule returns the configuration's schedule (a Model's too, by embedding).
func (c Config) NoiseSchedule() NoiseSchedule {
	if c.Schedule == "cosine" {
		return CosineSchedule(c.Timesteps)
	}
	return LinearSchedule(c.Timesteps, c.BetaStart, c.BetaEnd)
}

// Model is a DDPM being trained or used.
type Model struct {
	Config
	seed        int64
	backend     compute.Backend
	store       *model.Store
	train, test *data.Images
	schedule    NoiseSchedule
	sampling    Sampling // the sampler of Samples and Sample (SetSampling)

	step     *train.Exec // a training step: ε-loss, Adam, EMA
	denoise  *train.Exec // one reverse step with the sampling weights (sample.go)
	epsError *train.Exec // (x_0, ε, t) → per-image ε-loss with the sampling weights
	scorer   *imagegen.Scorer

	denoiseBuilds int // builds of denoise's graph: one serves every step and sampler
}

// New builds the DDPM of opts.Profile (with opts.Overrides) and loads MNIST from opts.DataDir.
func New(opts family.Options) (*Model, error) {
	return family.New(opts, ProfileConfig, NewWithConfig)
}

// NewWithConfig builds a DDPM with an explicit configuration.
func NewWithConfig(opts family.Options, cfg Config) (*Model, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	trainSet, testSet, err := data.LoadMNISTSplits(data.Dir(opts.DataDir))
	if err == nil {
		trainSet, err = cfg.Skew.Apply(trainSet)
	}
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, seed: opts.Seed, backend: opts.Backend, store: model.NewStore(), train: trainSet, test: testSet,
		schedule: cfg.NoiseSchedule(), sampling: cfg.Sampling, scorer: imagegen.NewScorer(opts.Backend, opts.DataDir)}
	adam := optimizer.Adam().LearningRate(cfg.LearningRate).Betas(0.9, 0.999).Epsilon(1e-8).Done()
	m.step, err = train.NewTrainExec(opts.Backend, m.store, adam, "", []string{"loss"},
		func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			x0 := in[0]
			g := x0.Graph()
			t := UniformTimesteps(scope, g, x0.Shape().Dimensions[0], cfg.Timesteps)
			eps := nn.StandardNormal(scope, g, x0.Shape())
			loss := m.loss(m.net(scope, false), x0, eps, t)
			if cfg.EMADecay > 0 {
				m.updateEMA(g)
			}
			train.SetLearningRate(scope, in[1])
			return []*graph.Node{loss}
		})
	if err != nil {
		return nil, err
	}
	m.epsError, err = train.NewEvalExec(opts.Backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		errs := m.epsErrors(m.net(scope, true), in[0], in[1], in[2])
		m.freezeEMA()
		return []*graph.Node{errs}
	})
	if err != nil {
		return nil, err
	}
	m.denoise, err = m.newDenoiseExec()
	return m, err
}

// net returns the scope of the U-Net's weights — the trained ones, or with sampling the EMA
// copy when the configuration keeps one — with Conv2D on the backend's own convolution. A
// graph that samples calls freezeEMA once the U-Net is built.
func (m *Model) net(root *model.Scope, sampling bool) *model.Scope {
	root.SetParam(nn.ParamNativeConv, true)
	if sampling && m.EMADecay > 0 {
		return root.At(EMAScope).At(NetScope)
	}
	return root.At(NetScope)
}

func (m *Model) freezeEMA() { FreezeEMA(m.store) }

// FreezeEMA marks the EMA copy (under EMAScope) not trainable: a sampling graph built before
// any training step creates it (trainable by default), and it must count neither as a
// trainable parameter nor for the optimizer (train.UpdateEMA marks it too, from the first step on).
func FreezeEMA(store *model.Store) {
	for v := range store.IterVariables() {
		if strings.HasPrefix(v.Path(), "/"+EMAScope+"/") {
			v.SetTrainable(false)
		}
	}
}

// UniformTimesteps draws b time steps uniform on {0, …, T−1} from the store's random numbers,
// as ⌊u·T⌋ with u ~ U[0, 1): [b] int32.
func UniformTimesteps(scope *model.Scope, g *graph.Graph, b, T int) *graph.Node {
	u := scope.RandomUniform(g, shapes.Make(dtypes.Float32, b))
	t := graph.MinScalar(graph.Floor(graph.MulScalar(u, float64(T))), float64(T-1))
	return graph.ConvertDType(graph.StopGradient(t), dtypes.Int32) // Floor has no gradient to walk
}

// epsilon is ε_θ(x_t, t): x_t [B, 28, 28, 1], t [B] int32 → ε̂ [B, 28, 28, 1], from the U-Net's
// output as Prediction says.
func (m *Model) epsilon(scope *model.Scope, xt, t *graph.Node) *graph.Node {
	sqrtAB, sqrtOneMinusAB := m.schedule.SqrtTables()
	return EpsilonFrom(m.Prediction, nn.UNet(scope, m.UNetConfig, xt, t), xt, Coefficient(sqrtAB, t), Coefficient(sqrtOneMinusAB, t))
}

// Target is what a network with prediction p (Config.Prediction) learns at
// x_t = Noised(x0, eps, t): ε, or v = √ᾱ_t·ε − √(1−ᾱ_t)·x_0 (Salimans & Ho 2022, "Progressive
// Distillation for Fast Sampling of Diffusion Models", eq. 8 with α_t = √ᾱ_t, σ_t = √(1−ᾱ_t)).
func (s NoiseSchedule) Target(p string, x0, eps, t *graph.Node) *graph.Node {
	if p != "v" {
		return eps
	}
	sqrtAB, sqrtOneMinusAB := s.SqrtTables()
	return graph.Sub(graph.Mul(Coefficient(sqrtAB, t), eps), graph.Mul(Coefficient(sqrtOneMinusAB, t), x0))
}

// EpsilonFrom turns the output out of a network with prediction p at x_t into ε̂: out itself,
// or from v̂, ε̂ = √ᾱ_t·v̂ + √(1−ᾱ_t)·x_t (x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε and v's definition, with
// ᾱ + (1 − ᾱ) = 1). sqrtAB and sqrtOneMinusAB broadcast against x_t.
func EpsilonFrom(p string, out, xt, sqrtAB, sqrtOneMinusAB *graph.Node) *graph.Node {
	if p != "v" {
		return out
	}
	return graph.Add(graph.Mul(sqrtAB, out), graph.Mul(sqrtOneMinusAB, xt))
}

// coefficient returns table[t] for every image as [B, 1, 1, 1]: table [T] holds one number per
// time step, t [B] int32.
func Coefficient(table []float64, t *graph.Node) *graph.Node {
	c := graph.ConvertDType(graph.Const(t.Graph(), table), dtypes.Float32)
	b := t.Shape().Dimensions[0]
	return graph.Reshape(graph.Gather(c, graph.Reshape(t, b, 1)), b, 1, 1, 1)
}

func (m *Model) noised(x0, eps, t *graph.Node) *graph.Node { return m.schedule.Noised(x0, eps, t) }

// Noised is x_t = √ᾱ_t·x_0 + √(1−ᾱ_t)·ε (eq. 4): x0, eps [B, 28, 28, 1], t [B] int32.
func (s NoiseSchedule) Noised(x0, eps, t *graph.Node) *graph.Node {
	sqrtAB, sqrtOneMinusAB := s.SqrtTables()
	return graph.Add(graph.Mul(Coefficient(sqrtAB, t), x0), graph.Mul(Coefficient(sqrtOneMinusAB, t), eps))
}

// SqrtTables returns √ᾱ_t and √(1−ᾱ_t) for t = 0…T−1.
func (s NoiseSchedule) SqrtTables() (sqrtAlphaBar, sqrtOneMinusAlphaBar []float64) {
	sqrtAlphaBar, sqrtOneMinusAlphaBar = make([]float64, len(s.AlphaBar)), make([]float64, len(s.AlphaBar))
	for t, ab := range s.AlphaBar {
		sqrtAlphaBar[t], sqrtOneMinusAlphaBar[t] = math.Sqrt(ab), math.Sqrt(1-ab)
	}
	return sqrtAlphaBar, sqrtOneMinusAlphaBar
}

// epsErrors is the simplified objective per image (eq. 14): the mean over the pixels of
// (ε − ε_θ(x_t, t))² with x_t = noised(x0, ε, t). x0, eps [B, 28, 28, 1], t [B] int32 → [B];
// its mean over the batch is L_simple, the loss of Prediction "eps" and the test loss of both
// predictions.
func (m *Model) epsErrors(scope *model.Scope, x0, eps, t *graph.Node) *graph.Node {
	epsHat := m.epsilon(scope, m.noised(x0, eps, t), t)
	return graph.ReduceMean(graph.Square(graph.Sub(eps, epsHat)), 1, 2, 3)
}

// loss is the training objective: the mean squared error of the U-Net's output against its
// Target — L_simple, or with Prediction "v" ‖v − v̂‖² (Salimans & Ho 2022, §4), ε's error
// divided by ᾱ_t (ε − ε̂ = √ᾱ_t·(v̂ − v)), which weighs the noisiest steps, where x̂_0 is
// decided, far more. With MinSNRGamma γ each image's error is weighted so that the loss is
// min(SNR_t, γ)·‖x_0 − x̂_0‖² (MinSNRWeights).
func (m *Model) loss(scope *model.Scope, x0, eps, t *graph.Node) *graph.Node {
	out := nn.UNet(scope, m.UNetConfig, m.noised(x0, eps, t), t)
	sq := graph.Square(graph.Sub(m.schedule.Target(m.Prediction, x0, eps, t), out))
	if m.MinSNRGamma > 0 {
		sq = graph.Mul(sq, Coefficient(m.schedule.MinSNRWeights(m.Prediction, m.MinSNRGamma), t))
	}
	return graph.ReduceAllMean(sq)
}

// MinSNRWeights returns, for each time step, the weight of a squared error of prediction p
// (Config.Prediction) that turns it into min(SNR_t, γ) times the squared error of the x̂_0 it
// implies, SNR_t = ᾱ_t/(1 − ᾱ_t): the Min-SNR-γ weighting (Hang et al. 2023, "Efficient
// Diffusion Training via Min-SNR Weighting Strategy", eq. 8 and Table 1; γ = 5 there). An
// ε error is SNR_t times its x̂_0 error and a v error SNR_t + 1 times, so the weights are
// min(SNR_t, γ)/SNR_t and min(SNR_t, γ)/(SNR_t + 1): the easy, nearly clean steps stop
// dominating, and the noisiest keep ε's small weight.
func (s NoiseSchedule) MinSNRWeights(p string, gamma float64) []float64 {
	w := make([]float64, len(s.AlphaBar))
	for t, ab := range s.AlphaBar {
		snr := ab / (1 - ab)
		if p == "v" {
			w[t] = min(snr, gamma) / (snr + 1)
		} else {
			w[t] = min(snr, gamma) / snr
		}
	}
	return w
}

// updateEMA keeps the EMA copy of the U-Net's weights (train.UpdateEMA, with its warm-up),
// read at the start of the step. It must be called after the U-Net is built and before the
// optimizer.
func (m *Model) updateEMA(g *graph.Graph) { UpdateNetEMA(m.store, g, m.EMADecay) }

// UpdateNetEMA keeps under EMAScope the EMA (train.UpdateEMA, decay d) of the variables under
// NetScope that graph g uses. Call it after the network is built and before the optimizer.
func UpdateNetEMA(store *model.Store, g *graph.Graph, decay float64) {
	var vars []*model.Variable
	for v := range store.IterVariables() {
		if strings.HasPrefix(v.Path(), "/"+NetScope+"/") && v.InUseByGraph(g) {
			vars = append(vars, v)
		}
	}
	train.UpdateEMA(store, g, vars, EMAScope, decay)
}

// Store holds the U-Net's weights, Adam's state, the EMA and the random-number state.
func (m *Model) Store() *model.Store { return m.store }

// learningRate is the schedule of the configuration: a warm-up, then constant or decaying
// (over the last Cooldown steps, or all) to MinLRFraction of the rate at the last step.
func (c Config) learningRate() train.Schedule {
	return train.Schedule{LearningRate: c.LearningRate, Warmup: c.Warmup, Decay: c.Decay, DecaySteps: c.Steps,
		MinFraction: c.MinLRFraction, Cooldown: c.Cooldown}
}

// Step runs training step number step on batch number step of the shuffled training set
// (pixels scaled to [-1, 1]), with t and ε drawn from the store's random numbers.
func (m *Model) Step(step int) (train.Metrics, error) {
	idx := data.BatchIndices(m.train.N, m.Batch, m.seed, step)
	return m.step.Run(m.train.Float32(idx, -1, 1), float32(m.learningRate().At(step)))
}

// Info describes the model for manifests.
func (m *Model) Info() family.Info {
	return family.Info{Steps: m.Steps, Config: m.Config, Datasets: data.FilesOf(m.train, m.test),
		Params: train.TrainableParams(m.store), SampleExt: ".png"}
}

// TrainSet and TestSet return the MNIST images the model learns from and is evaluated on.
func (m *Model) TrainSet() *data.Images { return m.train }
func (m *Model) TestSet() *data.Images  { return m.test }
