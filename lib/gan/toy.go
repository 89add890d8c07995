package gan

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/train"
)

// ToyConfig configures a GAN on a 2-D mixture (data.ToyByName): the setting in which mode
// collapse can be counted, since every mode of the data is known (Metz et al. 2017,
// "Unrolled Generative Adversarial Networks", §3.1; Srivastava et al. 2017, VEEGAN).
type ToyConfig struct {
	Dataset string `json:"dataset"` // "ring8" or "grid25" (any data.ToyByName with modes)
	Latent  int    `json:"latent"`
	Hidden  int    `json:"hidden"` // width of the hidden layers of G and D
	Layers  int    `json:"layers"` // hidden layers of G and of D

	// Pack is PacGAN's packing degree m (Lin et al. 2018, "PacGAN: The power of two samples in
	// generative adversarial networks"): D judges m samples at once, concatenated, all real or
	// all fake. A generator that collapses makes packs of near-identical points, which a packed
	// D tells from real packs easily — so collapse is penalised. 1 is the plain GAN.
	Pack int `json:"pack"`

	Batch        int     `json:"batch"` // packs per batch (Batch·Pack points of each kind per step)
	LearningRate float64 `json:"learning_rate"`
	Beta1        float64 `json:"beta1"`
	Steps        int     `json:"steps"`
	EvalSamples  int     `json:"eval_samples"` // generated points counted per evaluation
}

// DefaultToyConfig is a plain (unpacked) GAN on ring8: 3-layer MLPs of width 128, z ∈ R^16,
// batch 256, Adam 1e-3 with β1 0.5.
func DefaultToyConfig() ToyConfig {
	return ToyConfig{Dataset: "ring8", Latent: 16, Hidden: 128, Layers: 3, Pack: 1, Batch: 256,
		LearningRate: 1e-3, Beta1: 0.5, Steps: 3000, EvalSamples: 2000}
}

// ToyModel is a GAN on a 2-D toy distribution, trained by lib/train like the DCGAN (two Adam
// optimizers in one store, the same non-saturating loss and step).
type ToyModel struct {
	ToyConfig
	seed   int64
	dist   data.Toy2D
	store  *model.Store
	step   *train.Exec
	sample *train.Exec
}

// NewToy builds a toy GAN on backend b; seed picks its initial weights and data batches.
func NewToy(b compute.Backend, cfg ToyConfig, seed int64) (*ToyModel, error) {
	dist, err := data.ToyByName(cfg.Dataset)
	if err != nil {
		return nil, err
	}
	switch {
	case len(dist.Modes()) == 0:
		return nil, fmt.Errorf("gan: toy dataset %q has no modes to count", cfg.Dataset)
	case cfg.Latent < 1 || cfg.Hidden < 1 || cfg.Layers < 1 || cfg.Pack < 1 || cfg.Batch < 2 || cfg.EvalSamples < 1:
		return nil, fmt.Errorf("gan: toy latent, hidden, layers, pack, eval_samples must be ≥ 1 and batch ≥ 2: %+v", cfg)
	case !(cfg.LearningRate > 0):
		return nil, fmt.Errorf("gan: toy learning rate %g must be > 0", cfg.LearningRate)
	}
	store, err := train.NewSeededStore(seed) // callers evaluate the untrained model (the weights' creation) before training
	if err != nil {
		return nil, err
	}
	t := &ToyModel{ToyConfig: cfg, seed: seed, dist: dist, store: store}
	adam := func(scope string) optimizer.Interface {
		return optimizer.Adam().LearningRate(cfg.LearningRate).Betas(cfg.Beta1, 0.999).Epsilon(1e-8).Scope(scope).Done()
	}
	p := players{gen: t.generator, disc: t.discriminator, discLoss: DiscLoss, genLoss: GenLoss,
		discOpt: adam("adam_disc"), genOpt: adam("adam_gen")}
	t.step, err = newStep(b, t.store, p, shapes.Make(dtypes.Float32, cfg.Batch*cfg.Pack, cfg.Latent), false)
	if err != nil {
		return nil, err
	}
	t.sample, err = train.NewEvalExec(b, t.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{t.generator(scope.At(GenScope), in[0])}
	})
	return t, err
}

// generator: z [N, Latent] → points [N, 2], an MLP with ReLU hidden layers.
func (t *ToyModel) generator(scope *model.Scope, z *graph.Node) *graph.Node {
	h := z
	for i := range t.Layers {
		h = activation.Relu(layers.Dense(scope.In("hidden%d", i), h, true, t.Hidden))
	}
	return layers.Dense(scope.In("out"), h, true, 2)
}

// discriminator: points [Batch·Pack, 2] → one logit per pack [Batch]. Packing concatenates
// Pack consecutive points into one input of 2·Pack coordinates (PacGAN).
func (t *ToyModel) discriminator(scope *model.Scope, x *graph.Node) *graph.Node {
	h := graph.Reshape(x, -1, 2*t.Pack)
	for i := range t.Layers {
		h = activation.LeakyReluWith(layers.Dense(scope.In("hidden%d", i), h, true, t.Hidden), 0.2)
	}
	return graph.Reshape(layers.Dense(scope.In("logit"), h, true, 1), -1)
}

// Store holds both players, their Adam states and the random-number state.
func (t *ToyModel) Store() *model.Store { return t.store }

// Step is one D update on Batch·Pack real points (drawn afresh, seeded by the run seed and the
// step) and as many fakes, then one G update on the same fakes.
func (t *ToyModel) Step(step int) (train.Metrics, error) {
	real := t.dist.Sample(t.Batch*t.Pack, t.seed*1_000_003+int64(step))
	return t.step.Run(data.PointsTensor(real))
}

// Points draws n points from the generator (latents from a PCG generator seeded by seed).
func (t *ToyModel) Points(n int, seed uint64) ([][2]float32, error) {
	r := rand.New(rand.NewPCG(seed, 0x746f79))
	z := make([]float32, n*t.Latent)
	for i := range z {
		z[i] = float32(r.NormFloat64())
	}
	out, err := t.sample.Call(tensors.FromFlatDataAndDimensions(z, n, t.Latent))
	if err != nil {
		return nil, err
	}
	flat := tensors.MustCopyFlatData[float32](out[0])
	pts := make([][2]float32, n)
	for i := range pts {
		pts[i] = [2]float32{flat[2*i], flat[2*i+1]}
	}
	return pts, nil
}

// ModeReport counts how a set of points covers the modes of a mixture.
type ModeReport struct {
	Counts      []int   // points within Radius of each mode (nearest mode only)
	Covered     int     // modes holding at least 20% of their fair share N/K of the points
	HighQuality float64 // fraction of the points within Radius of some mode
	Radius      float32 // 3 standard deviations of a mixture component
}

// CoverageThreshold is the share of a mode's fair N/K points it must hold to count as
// covered (PacGAN, Lin et al. 2018, §5: a mode with under 20 of 2,500 samples on grid25, i.e.
// 20% of its fair share, is lost).
const CoverageThreshold = 0.2

// CountToyModes reports the mode coverage of points for the modes of dist.
func CountToyModes(points, modes [][2]float32, radius float32) ModeReport {
	counts := data.CountModes(points, modes, radius)
	rep := ModeReport{Counts: counts, Radius: radius}
	fair := float64(len(points)) / float64(len(modes))
	in := 0
	for _, c := range counts {
		in += c
		if float64(c) >= CoverageThreshold*fair && c > 0 {
			rep.Covered++
		}
	}
	if len(points) > 0 {
		rep.HighQuality = float64(in) / float64(len(points))
	}
	return rep
}

// toyRadius is 3 standard deviations of the components of the toy mixtures (σ = 0.05).
const toyRadius = 0.15

// Modes reports how EvalSamples generated points (seeded by EvalSeed) cover the data's modes.
func (t *ToyModel) Modes() (ModeReport, error) {
	pts, err := t.Points(t.EvalSamples, EvalSeed)
	if err != nil {
		return ModeReport{}, err
	}
	return CountToyModes(pts, t.dist.Modes(), toyRadius), nil
}

// Evaluate reports modes_covered (of the data's K modes) and high_quality (the fraction of
// generated points within 3σ of a mode).
func (t *ToyModel) Evaluate(int) (train.Metrics, error) {
	rep, err := t.Modes()
	if err != nil {
		return nil, err
	}
	return train.Metrics{{Name: "modes_covered", Value: float64(rep.Covered)}, {Name: "high_quality", Value: rep.HighQuality}}, nil
}

// Distribution returns the toy distribution the model learns.
func (t *ToyModel) Distribution() data.Toy2D { return t.dist }

// ScatterPlot draws points (dark blue) over a sample of the data (light grey) and the modes
// (red crosses) on a size×size white image spanning [-span, span]².
func ScatterPlot(points, dataPoints, modes [][2]float32, span float32, size int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	toPix := func(p [2]float32) (int, int) {
		x := int(math.Round(float64((p[0] + span) / (2 * span) * float32(size-1))))
		y := int(math.Round(float64((span - p[1]) / (2 * span) * float32(size-1))))
		return x, y
	}
	dot := func(p [2]float32, c color.RGBA, r int) {
		x, y := toPix(p)
		for dx := -r; dx <= r; dx++ {
			for dy := -r; dy <= r; dy++ {
				if image.Pt(x+dx, y+dy).In(img.Rect) {
					img.SetRGBA(x+dx, y+dy, c)
				}
			}
		}
	}
	for _, p := range dataPoints {
		dot(p, color.RGBA{200, 200, 200, 255}, 1)
	}
	for _, p := range points {
		dot(p, color.RGBA{20, 60, 170, 255}, 0)
	}
	for _, m := range modes {
		x, y := toPix(m)
		for d := -4; d <= 4; d++ {
			for _, q := range []image.Point{{x + d, y}, {x, y + d}} {
				if q.In(img.Rect) {
					img.SetRGBA(q.X, q.Y, color.RGBA{220, 30, 30, 255})
				}
			}
		}
	}
	return img
}
