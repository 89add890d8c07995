// Package superres is a GAN application at course scale: ×2 super-resolution of MNIST digits,
// from the 14×14 image given by 2×2 average pooling (LowRes) back to 28×28.
//
// It follows pix2pix (Isola et al. 2017, "Image-to-Image Translation with Conditional
// Adversarial Networks"): a generator G maps the low-res image x to a 28×28 image, and a
// conditional discriminator D judges pairs (x, y) — the low-res input (upsampled by nearest
// neighbour) stacked with a real or generated 28×28 image — so that D asks "is y a plausible
// high-res version of this x?", not merely "is y a digit?". G minimises (eq. 4)
//
//	L_G = E_x[softplus(−D(x, G(x)))] + λ · E_{x,y}[‖y − G(x)‖₁],
//
// the non-saturating adversarial term of lib/gan (gan.GenLoss) plus pixel-wise L1, the content
// loss; D minimises gan.DiscLoss on (x, y) against (x, G(x)). G has no noise input: Isola et al.
// (§3.1) found that G learns to ignore it. SRGAN (Ledig et al. 2017, "Photo-Realistic Single
// Image Super-Resolution Using a GAN") is the same idea with a VGG-feature content loss, which
// has no counterpart for 28×28 digits.
//
// The baselines are bicubic upsampling (Keys 1981, Bicubic) and, with ContentBaseline, the same
// G trained on the same batches with λ·L1 alone. The classic finding (Ledig et al. 2017, §3.4)
// is that the pixel loss alone maximises PSNR by averaging the plausible answers (blur), and
// the adversary trades some PSNR for sharper images. Evaluate measures both sides: PSNR
// against the real image, and the reference classifier's accuracy on the upscaled test images.
//
// It registers itself as the non-generative family "superres" (it draws no new digits, so
// `iagen bench` and the comparison of generative families skip it):
//
//	iagen train superres --profile small --out runs/superres
//	iagen sample superres --from runs/superres --n 8 --out sr.png   # low-res | bicubic | GAN | (L1 only) | original
package superres

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/classifier"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/gan"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/train"
)

func init() {
	family.Register(family.Family{Name: "superres", Title: "GAN super-resolution 14×14 → 28×28 (pix2pix: L1 + conditional adversary)",
		Generative: false, New: func(o family.Options) (family.Model, error) { return New(o) },
		Curves: []family.Curve{{Name: "losses", Title: "pérdidas de D y de G (adversaria y L1)", Keys: []string{"d_loss", "g_adv", "g_l1"}},
			{Name: "psnr", Title: "PSNR en prueba (dB)", Keys: []string{"psnr_bicubic", "psnr_gan", "psnr_content"}}}})
}

// Scopes of the store: the GAN's generator and discriminator, and the content-only generator.
const (
	GenScope     = "gen"
	DiscScope    = "disc"
	ContentScope = "content"
)

// Side is the side of the high-res images; the low-res ones have Side/2.
const Side = 28

// Model is a super-resolution GAN being trained or used.
type Model struct {
	Config
	seed        int64
	backend     compute.Backend
	dataDir     string
	store       *model.Store
	train, test *data.Images

	discStep, genStep, contentStep *train.Exec
	upscale                        *train.Exec // x [evalBatch, 14, 14, 1] → (GAN, content-only) [evalBatch, 28, 28, 1]
	reference                      *classifier.Model
}

// New builds the model of opts.Profile (with opts.Overrides) and loads MNIST from opts.DataDir.
func New(opts family.Options) (*Model, error) {
	return family.New(opts, ProfileConfig, NewWithConfig)
}

// NewWithConfig builds the model with an explicit configuration.
func NewWithConfig(opts family.Options, cfg Config) (*Model, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	trainSet, testSet, err := data.LoadMNISTSplits(data.Dir(opts.DataDir))
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, seed: opts.Seed, backend: opts.Backend, dataDir: opts.DataDir, store: model.NewStore(),
		train: trainSet, test: testSet}
	adam := func(scope string) optimizer.Interface {
		return optimizer.Adam().LearningRate(cfg.LearningRate).Betas(cfg.Beta1, cfg.Beta2).Epsilon(1e-8).Scope(scope).Done()
	}
	// Inputs of the training halves: x [B, 14, 14, 1] and y [B, 28, 28, 1], both in [-1, 1].
	m.discStep, err = train.NewTrainExec(opts.Backend, m.store, adam("adam_disc"), DiscScope,
		[]string{"d_loss", "d_real", "d_fake"}, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			x, y := in[0], in[1]
			fake := graph.StopGradient(m.Generator(scope.At(GenScope), x))
			realLogits := m.Discriminator(scope.At(DiscScope), x, y)
			fakeLogits := m.Discriminator(scope.At(DiscScope), x, fake)
			return []*graph.Node{gan.DiscLoss(realLogits, fakeLogits), meanSigmoid(realLogits), meanSigmoid(fakeLogits)}
		})
	if err != nil {
		return nil, err
	}
	m.genStep, err = train.NewTrainExec(opts.Backend, m.store, adam("adam_gen"), GenScope,
		[]string{"g_loss", "g_adv", "g_l1"}, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			x, y := in[0], in[1]
			fake := m.Generator(scope.At(GenScope), x)
			adv := gan.GenLoss(m.Discriminator(scope.At(DiscScope), x, fake))
			l1 := L1(y, fake)
			return []*graph.Node{graph.Add(adv, graph.MulScalar(l1, cfg.L1Weight)), adv, l1}
		})
	if err != nil {
		return nil, err
	}
	if cfg.ContentBaseline {
		m.contentStep, err = train.NewTrainExec(opts.Backend, m.store, adam("adam_content"), ContentScope,
			[]string{"content_l1"}, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
				return []*graph.Node{L1(in[1], m.Generator(scope.At(ContentScope).At(GenScope), in[0]))}
			})
		if err != nil {
			return nil, err
		}
	}
	m.upscale, err = train.NewEvalExec(opts.Backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		out := []*graph.Node{m.Generator(scope.At(GenScope), in[0])}
		if cfg.ContentBaseline {
			out = append(out, m.Generator(scope.At(ContentScope).At(GenScope), in[0]))
		}
		return out
	})
	return m, err
}

// Generator maps low-res images x [B, 14, 14, 1] to high-res ones [B, 28, 28, 1] (values in
// [-1, 1] up to the residual's overshoot), C = Channels:
//
//	Conv3×3 1→C, ReLU → Conv3×3 C→C, ReLU                    (14×14)
//	→ ConvTranspose C→C (k4, s2, p1), ReLU → Conv3×3 C→C, ReLU (28×28)
//	→ Conv3×3 C→1 = r;   G(x) = Upsample2x(x) + r
//
// G learns only the residual r over the nearest-neighbour upsampling (as VDSR, Kim et al. 2016,
// learns it over bicubic), so it starts from a sensible image. No BatchNorm: EDSR (Lim et al.
// 2017) drops it from SR networks, and it keeps training and inference the same computation.
func (c Config) Generator(scope *model.Scope, x *graph.Node) *graph.Node {
	ch := c.Channels
	h := activation.Relu(nn.Conv2D(scope.In("conv1"), x, ch, 3, 1, 1))
	h = activation.Relu(nn.Conv2D(scope.In("conv2"), h, ch, 3, 1, 1))
	h = activation.Relu(nn.ConvTranspose2D(scope.In("up"), h, ch, 4, 2, 1))
	h = activation.Relu(nn.Conv2D(scope.In("conv3"), h, ch, 3, 1, 1))
	r := nn.Conv2D(scope.In("out"), h, 1, 3, 1, 1)
	return graph.Add(nn.Upsample2x(x), r)
}

// Discriminator maps a pair (x [B, 14, 14, 1], y [B, 28, 28, 1]) to logits [B]: pix2pix's
// conditional D, on the two images stacked as channels (x upsampled by nearest neighbour). Its
// layers are lib/gan's SNGAN discriminator (two spectrally normalised 4×4 stride-2 convolutions,
// LeakyReLU 0.2, a linear logit; Miyato et al. 2018) with DiscChannels.
func (c Config) Discriminator(scope *model.Scope, x, y *graph.Node) *graph.Node {
	pair := graph.Concatenate([]*graph.Node{nn.Upsample2x(x), y}, 3)
	return gan.Config{DiscChannels: c.DiscChannels, SpectralNorm: true}.Discriminator(scope, pair)
}

// L1 is the content loss of pix2pix (Isola et al. 2017, eq. 3): the mean absolute difference
// between the real image y and the generated one.
func L1(y, fake *graph.Node) *graph.Node { return graph.ReduceAllMean(graph.Abs(graph.Sub(y, fake))) }

func meanSigmoid(logits *graph.Node) *graph.Node { return graph.ReduceAllMean(graph.Sigmoid(logits)) }

// Store holds both players, the content-only generator, their Adam states and the RNG state.
func (m *Model) Store() *model.Store { return m.store }

// Step runs training step number step on batch number step of the shuffled training set: one
// update of D, then one of G on the same batch, then one of the content-only generator.
func (m *Model) Step(step int) (train.Metrics, error) {
	idx := data.BatchIndices(m.train.N, m.Batch, m.seed, step)
	x, y, err := pairs(m.train, idx, -1, 1)
	if err != nil {
		return nil, err
	}
	dm, err := m.discStep.Run(x, y)
	if err != nil {
		return nil, err
	}
	gm, err := m.genStep.Run(x, y)
	if err != nil {
		return nil, err
	}
	out := append(gm, dm...)
	if m.contentStep != nil {
		cm, err := m.contentStep.Run(x, y)
		if err != nil {
			return nil, err
		}
		out = append(out, cm...)
	}
	return out, nil
}

// pairs returns the low-res inputs [n, 14, 14, 1] and the high-res targets [n, 28, 28, 1] of
// images idx of im, pixel values mapped to [lo, hi].
func pairs(im *data.Images, idx []int, lo, hi float32) (x, y *tensors.Tensor, err error) {
	if im.Height != Side || im.Width != Side || im.Channels != 1 {
		return nil, nil, fmt.Errorf("superres: images must be %d×%d grey, got %d×%d×%d", Side, Side, im.Height, im.Width, im.Channels)
	}
	y = im.Float32(idx, lo, hi)
	hiRes := tensors.MustCopyFlatData[float32](y)
	const size, half = Side * Side, Side / 2
	loRes := make([]float32, 0, len(idx)*half*half)
	for i := range len(idx) {
		l, err := LowRes(hiRes[i*size:(i+1)*size], Side, Side)
		if err != nil {
			return nil, nil, err
		}
		loRes = append(loRes, l...)
	}
	return tensors.FromFlatDataAndDimensions(loRes, len(idx), half, half, 1), y, nil
}

// Info describes the model for manifests.
func (m *Model) Info() family.Info {
	return family.Info{Steps: m.Steps, Config: m.Config, Datasets: data.FilesOf(m.train, m.test),
		Params: train.TrainableParams(m.store), SampleExt: ".png"}
}

var _ train.Evaluator = (*Model)(nil)
var _ family.Sampler = (*Model)(nil)
