package augment

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/gan"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/train"
)

// classes of MNIST.
const classes = 10

// CGAN is a class-conditional DCGAN (Mirza & Osindero 2014, "Conditional Generative
// Adversarial Nets"): both players see the label y as a one-hot vector, G concatenated to its
// noise, G(z ⊕ y), and D as ten constant channels stacked on the image, D(x ⊕ y). The minimax
// game of Goodfellow et al. (2014, eq. 1) becomes conditional (Mirza & Osindero, eq. 2):
//
//	min_G max_D  E_{x,y}[log σ(D(x|y))] + E_{z,y}[log(1 − σ(D(G(z|y)|y)))],
//
// trained as lib/gan trains its DCGAN, with its layers (gan.Config.Generator and
// Discriminator), losses (gan.DiscLoss, the non-saturating gan.GenLoss) and Adam settings.
// The fake batch of a step carries the labels of the real batch.
type CGAN struct {
	cfg       gan.Config
	seed      int64
	store     *model.Store
	train     *data.Images
	discStep  *train.Exec
	genStep   *train.Exec
	sampleGen *train.Exec // z ⊕ one-hot [B, Latent+10] → images [B, 28, 28, 1] in [-1, 1]
}

// NewCGAN builds a conditional GAN with cfg's layers (Pack, MinibatchStd and Skew are not
// used) that learns from trainSet, batches drawn with seed.
func NewCGAN(b compute.Backend, cfg gan.Config, trainSet *data.Images, seed int64) (*CGAN, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	cfg.Pack, cfg.MinibatchStd = 0, false
	m := &CGAN{cfg: cfg, seed: seed, store: model.NewStore(), train: trainSet}
	adam := func(scope string, lr float64) optimizer.Interface {
		return optimizer.Adam().LearningRate(lr).Betas(cfg.Beta1, cfg.Beta2).Epsilon(1e-8).Scope(scope).Done()
	}
	discLR := cfg.DiscLearningRate
	if discLR == 0 {
		discLR = cfg.LearningRate
	}
	// Each half draws its own z (safe normals from the store's RNG); both take the real batch
	// x [B, 28, 28, 1] in [-1, 1] and its one-hot labels y [B, 10]. G's BatchNorm running
	// averages move in both halves, which only makes them track G a little faster.
	fake := func(scope *model.Scope, y *graph.Node) *graph.Node {
		z := nn.StandardNormal(scope, y.Graph(), shapes.Make(dtypes.Float32, cfg.Batch, cfg.Latent))
		return cfg.Generator(scope.At(gan.GenScope), graph.Concatenate([]*graph.Node{z, y}, 1))
	}
	var err error
	m.discStep, err = train.NewTrainExec(b, m.store, adam("adam_disc", discLR), gan.DiscScope, []string{"d_loss"},
		func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			x, y := in[0], in[1]
			f := graph.StopGradient(fake(scope, y))
			return []*graph.Node{gan.DiscLoss(m.discriminator(scope, x, y), m.discriminator(scope, f, y))}
		})
	if err != nil {
		return nil, err
	}
	m.genStep, err = train.NewTrainExec(b, m.store, adam("adam_gen", cfg.LearningRate), gan.GenScope, []string{"g_loss"},
		func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			y := in[1]
			return []*graph.Node{gan.GenLoss(m.discriminator(scope, fake(scope, y), y))}
		})
	if err != nil {
		return nil, err
	}
	m.sampleGen, err = train.NewEvalExec(b, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{cfg.Generator(scope.At(gan.GenScope), in[0])}
	})
	return m, err
}

// discriminator is D(x ⊕ y): the one-hot label broadcast to ten 28×28 channels.
func (m *CGAN) discriminator(scope *model.Scope, x, y *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	maps := graph.BroadcastToDims(graph.Reshape(y, d[0], 1, 1, classes), d[0], d[1], d[2], classes)
	return m.cfg.Discriminator(scope.At(gan.DiscScope), graph.Concatenate([]*graph.Node{x, maps}, 3))
}

// Store holds both players, their Adam states and the RNG state.
func (m *CGAN) Store() *model.Store { return m.store }

// Step runs one D update on real batch number step and a fake batch with its labels, then one
// G update.
func (m *CGAN) Step(step int) (train.Metrics, error) {
	idx := data.BatchIndices(m.train.N, m.cfg.Batch, m.seed, step)
	y := oneHot(m.train, idx)
	dm, err := m.discStep.Run(m.train.Float32(idx, -1, 1), y)
	if err != nil {
		return nil, err
	}
	gm, err := m.genStep.Run(m.train.Float32(idx, -1, 1), y)
	if err != nil {
		return nil, err
	}
	return append(gm, dm...), nil
}

func oneHot(im *data.Images, idx []int) *tensors.Tensor {
	out := make([]float32, len(idx)*classes)
	for i, j := range idx {
		out[i*classes+int(im.Labels[j])] = 1
	}
	return tensors.FromFlatDataAndDimensions(out, len(idx), classes)
}

// sampleBatch is the fixed batch of the sampling graph.
const sampleBatch = 250

// Generate draws perClass images of every digit (latents seeded by seed), labelled with the
// digit they were asked for.
func (m *CGAN) Generate(perClass int, seed uint64) (*data.Images, error) {
	z := imagegen.Latents(perClass*classes, m.cfg.Latent, seed, 0x6367) // "cg"
	labels := make([]uint8, len(z))
	for i := range z {
		labels[i] = uint8(i % classes)
		y := make([]float32, classes)
		y[labels[i]] = 1
		z[i] = append(z[i], y...)
	}
	im, err := imagegen.Decode(m.sampleGen, z, m.cfg.Latent+classes, sampleBatch, imagegen.MNIST, -1, 1)
	if err != nil {
		return nil, err
	}
	im.Name, im.Labels, im.ClassNames = "cgan", labels, m.train.ClassNames
	return im, nil
}
