// Package text2img is iagen's text-to-image model: a diffusion model (lib/diffusion's DDPM)
// whose U-Net is conditioned on a short Spanish prompt, sampled with classifier-free guidance
// — the mechanism of GLIDE (Nichol et al. 2022), DALL·E 2 (Ramesh et al. 2022), Imagen
// (Saharia et al. 2022) and Stable Diffusion (Rombach et al. 2022), at MNIST's scale.
//
// # Data and prompts
//
// MNIST and Fashion-MNIST together: 20 classes, digits 0–9 and garments 10–19. Each training
// image gets a prompt built from its label ("un siete", "una zapatilla": Classes) and, for
// digits, from attributes measured on the image (Measure): the slant of its second-order
// moments ("inclinado", "recto") and its ink mass within its class ("grueso", "fino"). Each
// attribute word is kept with probability p_attribute, so the bare prompt trains too.
//
// # Text encoder
//
// Words → token ids (Encode, a closed vocabulary) → word + position embeddings → mean over the
// prompt's words → a two-layer MLP → the prompt embedding c. Mean pooling suits this grammar:
// a prompt's meaning is the set of its words (the article agrees with the noun; attributes
// modify the one noun), so word order carries nothing an attention layer would need; the MLP
// after pooling lets words interact (CLIP's and Imagen's transformer encoders do that for free
// text). It trains jointly with the U-Net, from the denoising loss alone.
//
// # Conditioning and objective
//
// The U-Net (nn.UNetCond) adds Dense(c) to its time embedding, so every residual block sees
// the prompt, and gets Dense(c) as a 28×28 map concatenated to its input, the prompt's layout.
// It predicts v = √ᾱ_t·ε − √(1−ᾱ_t)·x_0 (Salimans & Ho 2022, "Progressive Distillation for
// Fast Sampling of Diffusion Models", §4; Config.Prediction, "eps" for DDPM's ε) with the
// prompt as an input:
//
//	L = E_{t, x_0, c, ε} ‖v − v_θ(√ᾱ_t·x_0 + √(1−ᾱ_t)·ε, t, c)‖²,   ε̂ = √ᾱ_t·v̂ + √(1−ᾱ_t)·x_t
//
// where c is replaced by the null prompt ∅ with probability p_uncond (Ho & Salimans 2022,
// "Classifier-Free Diffusion Guidance", Algorithm 1), so the same network also learns the
// unconditional v_θ(z, t, ∅). Why v: at high noise x̂_0 ≈ −v̂, so the prompt's layout is
// what the loss rewards first; with ε-prediction the same small U-Net (the ci profile, 400
// steps) ignores the prompt entirely and its samples agree with it at chance (0.055 against
// 1/20), with v-prediction about 0.65 (xla:cpu, seed 42). The samplers are lib/diffusion's
// DDIM and DDPM steps on ε̂.
//
// # Classifier-free guidance (sample.go)
//
// Sampling replaces ε̂ in each DDIM/DDPM step (lib/diffusion's coefficients) by
//
//	ε̃ = (1 + w)·ε_θ(z, t, c) − w·ε_θ(z, t, ∅)          (Ho & Salimans 2022, eq. 6; Guided)
//
// which, read as scores, samples ∝ p(z|c)·p(c|z)^w: w = 0 is the conditional model, larger w
// follows the prompt more closely and covers less of each class — the trade-off the study
// (study.go) measures with a 20-class referee classifier (referee.go).
//
// # Latent space (latent.go)
//
// With space "latent" (`--set space=latent`) the same diffusion runs in the latent space of a
// VAE (lib/vae's encoder and decoder), as Stable Diffusion does (Rombach et al. 2022): the
// VAE trains first, then an MLP denoiser (LatentDenoiser) on the scaled latents, and samples
// are decoded. It trades the U-Net's image prior for the VAE's: far cheaper steps and
// sampling, images as smooth as the VAE's reconstructions.
//
// # Profiles and their cost
//
// ci (18k parameters, 400 steps) trains in about 30 s on xla:cpu on 2 cores and already follows
// its prompts (class agreement about 0.65, blurry samples). small (0.19M parameters) took
// 0.46 s per step on xla:cpu on this project's 2-core machine under load from other jobs
// (2.2 steps/s), so its 4,000 steps are 15–30 min depending on the load; its evaluation
// (600 images of DDIM-25, guided: 2 U-Net passes per image and step, about 3 ms each) about
// 1.5 min more, and the study (five guidance scales) about 8 min.
//
// It registers itself as the family "text2img" (not generative: it stays out of `iagen bench`
// and the six-family comparison):
//
//	iagen train text2img --profile small --out runs/text2img
//	iagen sample text2img --from runs/text2img --set prompt="un siete inclinado" --set guidance=2 --n 16 --out siete.png
//	iagen study text2img --from runs/text2img
//	iagen train text2img --profile small --set space=latent --out runs/text2img-latent
package text2img

import (
	"math/rand/v2"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/diffusion"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/train"
)

func init() {
	family.Register(family.Family{Name: "text2img", Title: "text-to-image diffusion on MNIST + Fashion-MNIST (Spanish prompts, classifier-free guidance)",
		Generative: false, New: func(o family.Options) (family.Model, error) { return New(o) },
		Curves: []family.Curve{{Name: "loss", Title: "pérdida ε (error cuadrático medio)", Keys: []string{"loss"}},
			{Name: "agreement", Title: "acuerdo del clasificador con la clase pedida", Keys: []string{"class_agreement"}}}})
}

// promptStream is the PCG stream of the training prompts' random choices (+ step).
const promptStream = 0x74327069 << 32

// Model is a text-to-image diffusion model being trained or used.
type Model struct {
	Config
	seed        int64
	backend     compute.Backend
	dataDir     string
	store       *model.Store
	train, test *data.Images // 20 classes: MNIST 0–9, Fashion-MNIST 10–19
	attrs       []attributes // of each training image
	schedule    diffusion.NoiseSchedule
	sampling    Sampling

	step    *train.Exec  // ε-loss, Adam, EMA
	denoise *train.Exec  // one guided reverse step (sample.go)
	referee *referee     // the 20-class classifier that scores samples, built on first use
	latent  *latentSpace // Space "latent" only (latent.go)
}

// New builds the model of opts.Profile (with opts.Overrides) and loads MNIST and Fashion-MNIST.
func New(opts family.Options) (*Model, error) {
	return family.New(opts, ProfileConfig, NewWithConfig)
}

// NewWithConfig builds a model with an explicit configuration.
func NewWithConfig(opts family.Options, cfg Config) (*Model, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	trainSet, testSet, err := LoadCombined(opts.DataDir)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, seed: opts.Seed, backend: opts.Backend, dataDir: opts.DataDir, store: model.NewStore(),
		train: trainSet, test: testSet, attrs: describe(trainSet.Pixels, trainSet.Labels),
		schedule: cfg.diffusion().NoiseSchedule(), sampling: cfg.Sampling}
	adam := optimizer.Adam().LearningRate(cfg.LearningRate).Betas(0.9, 0.999).Epsilon(1e-8).Done()
	m.step, err = train.NewTrainExec(opts.Backend, m.store, adam, diffusion.NetScope, []string{"loss"},
		func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			x0, tokens := in[0], in[1]
			g := x0.Graph()
			t := diffusion.UniformTimesteps(scope, g, x0.Shape().Dimensions[0], cfg.Timesteps)
			eps := nn.StandardNormal(scope, g, x0.Shape())
			out := m.network(m.net(scope, false), m.schedule.Noised(x0, eps, t), t, tokens)
			loss := graph.ReduceAllMean(graph.Square(graph.Sub(m.schedule.Target(cfg.Prediction, x0, eps, t), out)))
			if cfg.EMADecay > 0 {
				diffusion.UpdateNetEMA(m.store, g, cfg.EMADecay)
			}
			train.SetLearningRate(scope, in[2])
			return []*graph.Node{loss}
		})
	if err == nil && cfg.Space == "latent" {
		err = m.newLatentSpace()
	}
	if err != nil {
		return nil, err
	}
	m.denoise, err = m.newDenoiseExec()
	return m, err
}

// combined caches LoadCombined's sets (read-only) per data folder: checking the four files'
// SHA-256 takes about a second, and tests and studies build several models.
var combined struct {
	sync.Mutex
	sets map[string][2]*data.Images
}

// LoadCombined loads MNIST and Fashion-MNIST from dataDir as one 20-class set per split:
// digits keep their labels 0–9, garments become 10–19 (the order of Classes). The sets are
// shared between calls: do not modify them.
func LoadCombined(dataDir string) (trainSet, testSet *data.Images, err error) {
	dir := data.Dir(dataDir)
	combined.Lock()
	defer combined.Unlock()
	if s, ok := combined.sets[dir]; ok {
		return s[0], s[1], nil
	}
	var sets [2][2]*data.Images
	for i, split := range []data.Split{data.Train, data.Test} {
		if sets[i][0], err = data.LoadMNIST(dir, split); err != nil {
			return nil, nil, err
		}
		if sets[i][1], err = data.LoadFashionMNIST(dir, split); err != nil {
			return nil, nil, err
		}
	}
	trainSet, testSet = combine(sets[0][0], sets[0][1]), combine(sets[1][0], sets[1][1])
	if combined.sets == nil {
		combined.sets = map[string][2]*data.Images{}
	}
	combined.sets[dir] = [2]*data.Images{trainSet, testSet}
	return trainSet, testSet, nil
}

func combine(digits, garments *data.Images) *data.Images {
	out := &data.Images{Name: digits.Name + "+" + garments.Name, N: digits.N + garments.N, Height: 28, Width: 28, Channels: 1,
		NumClasses: NumClasses, ClassNames: Classes, Files: map[string]string{},
		Pixels: append(append([]uint8(nil), digits.Pixels...), garments.Pixels...)}
	out.Labels = append(append(out.Labels, digits.Labels...), garments.Labels...)
	for i := digits.N; i < out.N; i++ {
		out.Labels[i] += 10
	}
	// Both datasets name their files alike (train-images-idx3-ubyte.gz…): the dataset's name
	// keeps each one's SHA-256 in the manifest.
	for _, set := range []*data.Images{digits, garments} {
		for k, v := range set.Files {
			out.Files[set.Name+"/"+k] = v
		}
	}
	return out
}

// net returns the scope of the network (text encoder and U-Net) — with sampling, the EMA copy
// when the configuration keeps one — with Conv2D on the backend's own convolution.
func (m *Model) net(root *model.Scope, sampling bool) *model.Scope {
	root.SetParam(nn.ParamNativeConv, true)
	if sampling && m.EMADecay > 0 {
		return root.At(diffusion.EMAScope).At(diffusion.NetScope)
	}
	return root.At(diffusion.NetScope)
}

// network is the denoiser's output for x_t [B, 28, 28, 1] (a latent: [B, Latent, 1, 1]),
// t [B] int32 and the prompts' tokens [B, MaxWords] int32: ε̂ or v̂ (Config.Prediction).
func (m *Model) network(net *model.Scope, xt, t, tokens *graph.Node) *graph.Node {
	cond := TextEncoder(net.In("text"), tokens, len(Vocabulary), m.TextDim)
	if m.Space == "latent" {
		return LatentDenoiser(net.In("denoiser"), xt, t, cond, m.DenoiserHidden, m.DenoiserDepth)
	}
	return nn.UNetCond(net, m.UNetConfig, xt, t, cond)
}

// TextEncoder embeds prompts: tokens [B, L] int32 (0 pads) → [B, dim]. Each word gets a learned
// embedding plus one for its position; the mean over the prompt's words (padding masked) goes
// through an MLP, dim → SiLU → dim.
func TextEncoder(scope *model.Scope, tokens *graph.Node, vocab, dim int) *graph.Node {
	l := tokens.Shape().Dimensions[1]
	g := tokens.Graph()
	words := layers.Embedding(scope.In("words"), tokens, dtypes.Float32, vocab, dim) // [B, L, dim]
	positions := layers.Embedding(scope.In("positions"), graph.Iota(g, tokens.Shape(), 1), dtypes.Float32, l, dim)
	mask := graph.ConvertDType(graph.NotEqual(tokens, graph.ScalarZero(g, tokens.DType())), dtypes.Float32) // [B, L]
	h := graph.Mul(graph.Add(words, positions), graph.ExpandAxes(mask, -1))
	h = graph.Div(graph.ReduceSum(h, 1), graph.MaxScalar(graph.ExpandAxes(graph.ReduceSum(mask, 1), -1), 1)) // masked mean [B, dim]
	h = activation.Swish(layers.Dense(scope.In("mlp1"), h, true, dim))
	return layers.Dense(scope.In("mlp2"), h, true, dim)
}

// learningRate is constant after the warm-up.
func (c Config) learningRate() train.Schedule {
	return train.Schedule{LearningRate: c.LearningRate, Warmup: c.Warmup}
}

// Step runs training step number step on batch number step of the shuffled combined set
// (pixels in [-1, 1]), each image with a prompt drawn for this step (promptFor). In the latent
// space the first VAESteps steps train the VAE, the rest the denoiser on the images' latents.
func (m *Model) Step(step int) (train.Metrics, error) {
	if m.Space == "latent" && step < m.VAESteps {
		return m.vaeStep(step)
	}
	if m.Space == "latent" {
		step -= m.VAESteps
	}
	idx := data.BatchIndices(m.train.N, m.Batch, m.seed, step)
	x0 := m.train.Float32(idx, -1, 1)
	if m.Space == "latent" {
		var err error
		if x0, err = m.latents(idx); err != nil {
			return nil, err
		}
	}
	r := rand.New(rand.NewPCG(uint64(m.seed), promptStream+uint64(step)))
	tokens := make([]int32, 0, len(idx)*MaxWords)
	for _, i := range idx {
		ids, err := Encode(m.promptFor(i, r))
		if err != nil {
			return nil, err
		}
		tokens = append(tokens, ids...)
	}
	return m.step.Run(x0, tensors.FromFlatDataAndDimensions(tokens, len(idx), MaxWords),
		float32(m.learningRate().At(step)))
}

// promptFor draws the training prompt of image i: ∅ with probability PUncond, else its class
// words and each measured attribute word with probability PAttribute.
func (m *Model) promptFor(i int, r *rand.Rand) string {
	if r.Float64() < m.PUncond {
		return ""
	}
	return m.attrs[i].prompt(int(m.train.Labels[i]), m.PAttribute, r)
}

// Store holds the weights, Adam's state, the EMA and the random-number state.
func (m *Model) Store() *model.Store { return m.store }

// Info describes the model for manifests.
func (m *Model) Info() family.Info {
	steps := m.Steps
	if m.Space == "latent" {
		steps += m.VAESteps
	}
	return family.Info{Steps: steps, Config: m.Config, Datasets: data.FilesOf(m.train, m.test),
		Params: train.TrainableParams(m.store), SampleExt: ".png"}
}

// TrainSet and TestSet return the combined 20-class images.
func (m *Model) TrainSet() *data.Images { return m.train }
func (m *Model) TestSet() *data.Images  { return m.test }
