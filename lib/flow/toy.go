package flow

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/train"
)

// ToyArch is the shape of a RealNVP on the plane: Layers affine couplings, coupling k
// transforming coordinate k mod 2 from the other, each conditioned by an MLP of two hidden
// layers of Hidden units.
type ToyArch struct {
	Layers int `json:"layers"`
	Hidden int `json:"hidden"`
}

// ToyConfig configures a RealNVP on a 2-D toy distribution (data.ToyByName), the setting in which
// the learned density can be drawn on a grid next to the true one.
type ToyConfig struct {
	Dataset string `json:"dataset"` // any data.ToyByName: "moons", "ring8", "grid25", "spiral"
	ToyArch
	Batch        int     `json:"batch"`         // fresh points per step
	LearningRate float64 `json:"learning_rate"` // Adam, β = (0.9, 0.999)
	Steps        int     `json:"steps"`
	EvalSamples  int     `json:"eval_samples"` // fresh points of each evaluation (KLEstimate)
}

// DefaultToyConfig is a RealNVP of 8 couplings with MLPs of 64 units on ring8, batch 256, Adam
// at 1e-3 for 3,000 steps: seconds on a CPU with XLA (ring8's narrow modes need the steps; a
// larger learning rate makes the training noisier, not faster).
func DefaultToyConfig() ToyConfig {
	return ToyConfig{Dataset: "ring8", ToyArch: ToyArch{Layers: 8, Hidden: 64}, Batch: 256, LearningRate: 1e-3,
		Steps: 3000, EvalSamples: 5000}
}

// ToyScope is the scope of a toy flow's variables.
const ToyScope = "toy_realnvp"

// toyMask is the mask of coupling k, [1, 2]: 1 on the coordinate it keeps, 0 on the one it
// transforms (coordinate k mod 2), in x's dtype.
func toyMask(x *graph.Node, k int) *graph.Node {
	m := []float64{0, 1}
	if k%2 == 1 {
		m = []float64{1, 0}
	}
	return graph.ConstAsDType(x.Graph(), x.DType(), [][]float64{m})
}

// toyShiftScale is the conditioning network of a 2-D coupling: from the kept coordinate x⊙m, an
// MLP (Dense 2→hidden, ReLU, Dense hidden→hidden, ReLU, Dense hidden→2, the last starting at
// zero so that the coupling starts as the identity) gives (raw, t), and s = scale·tanh(raw) with
// one learned scale per coupling, as the image couplings' shiftScale. s and t are [B, 2], zero on
// the kept coordinate.
func toyShiftScale(scope *model.Scope, x, m *graph.Node, hidden int) (s, t *graph.Node) {
	h := activation.Relu(layers.Dense(scope.In("d1"), graph.Mul(x, m), true, hidden))
	h = activation.Relu(layers.Dense(scope.In("d2"), h, true, hidden))
	h = layers.Dense(scope.In("d3").WithInitializer(initializer.Zero), h, true, 2)
	scale := scope.VariableWithValue("scale", shapes.CastAsDType(1, x.DType())).NodeValue(x.Graph())
	inv := graph.OneMinus(m)
	s = graph.Mul(inv, graph.Mul(scale, graph.Tanh(graph.SliceAxis(h, 1, graph.AxisElem(0)))))
	t = graph.Mul(inv, graph.SliceAxis(h, 1, graph.AxisElem(1)))
	return s, t
}

// ToyForward maps points x [B, 2] to z [B, 2] and log|det ∂z/∂x| [B] through the Layers
// couplings (Dinh et al. 2017, eqs. 4–6): coupling k keeps x_a and maps the other coordinate to
// x_b·exp(s(x_a)) + t(x_a), with log|det| = s(x_a). The prior of z is N(0, I).
func ToyForward(scope *model.Scope, a ToyArch, x *graph.Node) (z, logDet *graph.Node) {
	z, logDet = x, graph.ZerosLike(graph.SliceAxis(x, 1, graph.AxisElem(0)))
	logDet = graph.Reshape(logDet, -1)
	for k := range a.Layers {
		s, t := toyShiftScale(scope.In("coupling_%d", k), z, toyMask(z, k), a.Hidden)
		z = graph.Add(graph.Mul(z, graph.Exp(s)), t)
		logDet = graph.Add(logDet, graph.ReduceSum(s, 1))
	}
	return z, logDet
}

// ToyInverseStages inverts ToyForward (eq. 8) from z [B, 2] and returns the points after each
// step of the way back: stages[0] = z, stages[j] after undoing couplings Layers−1 … Layers−j, the
// last stage x. They show how the flow bends the Gaussian into the data, one coupling at a time.
func ToyInverseStages(scope *model.Scope, a ToyArch, z *graph.Node) []*graph.Node {
	stages := []*graph.Node{z}
	for k := a.Layers - 1; k >= 0; k-- {
		s, t := toyShiftScale(scope.In("coupling_%d", k), z, toyMask(z, k), a.Hidden)
		z = graph.Mul(graph.Sub(z, t), graph.Exp(graph.Neg(s)))
		stages = append(stages, z)
	}
	return stages
}

// ToyLogDensity is log p(x) = log N(z; 0, I) + log|det ∂z/∂x| per point [B] (Dinh et al. 2017,
// eq. 3), in nats.
func ToyLogDensity(z, logDet *graph.Node) *graph.Node {
	logPrior := graph.AddScalar(graph.MulScalar(graph.ReduceSum(graph.Square(z), 1), -0.5), -math.Log(2*math.Pi))
	return graph.Add(logPrior, logDet)
}

// ToyModel is a RealNVP on a 2-D toy distribution, trained by lib/train (Adam on the mean
// negative log-likelihood of fresh points, in nats).
type ToyModel struct {
	ToyConfig
	seed    int64
	dist    data.Toy2D
	store   *model.Store
	step    *train.Exec // points [Batch, 2] → mean −log p
	density *train.Exec // points [N, 2] → log p [N], z [N, 2]
	inverse *train.Exec // z [N, 2] → the Layers + 1 stages of ToyInverseStages
}

// NewToy builds a toy flow on backend b; seed picks its initial weights and training points.
func NewToy(b compute.Backend, cfg ToyConfig, seed int64) (*ToyModel, error) {
	dist, err := data.ToyByName(cfg.Dataset)
	if err != nil {
		return nil, err
	}
	switch {
	case cfg.Layers < 1 || cfg.Hidden < 1 || cfg.Batch < 1 || cfg.Steps < 0 || cfg.EvalSamples < 1:
		return nil, fmt.Errorf("flow: toy layers, hidden, batch and eval_samples must be ≥ 1, steps ≥ 0: %+v", cfg)
	case !(cfg.LearningRate > 0):
		return nil, fmt.Errorf("flow: toy learning rate %g must be > 0", cfg.LearningRate)
	}
	store, err := train.NewSeededStore(seed) // callers evaluate the untrained model (the weights' creation) before training
	if err != nil {
		return nil, err
	}
	t := &ToyModel{ToyConfig: cfg, seed: seed, dist: dist, store: store}
	adam := optimizer.Adam().LearningRate(cfg.LearningRate).Betas(0.9, 0.999).Epsilon(1e-8).Done()
	t.step, err = train.NewTrainExec(b, t.store, adam, "", []string{"nll"}, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Neg(graph.ReduceAllMean(ToyLogDensity(ToyForward(scope.In(ToyScope), cfg.ToyArch, in[0]))))}
	})
	if err != nil {
		return nil, err
	}
	t.density, err = train.NewEvalExec(b, t.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		z, logDet := ToyForward(scope.In(ToyScope), cfg.ToyArch, in[0])
		return []*graph.Node{ToyLogDensity(z, logDet), z}
	})
	if err != nil {
		return nil, err
	}
	t.inverse, err = train.NewEvalExec(b, t.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		return ToyInverseStages(scope.In(ToyScope), cfg.ToyArch, in[0])
	})
	return t, err
}

// Store holds the flow's weights, Adam's state and the random-number state.
func (t *ToyModel) Store() *model.Store { return t.store }

// Distribution returns the toy distribution the flow learns.
func (t *ToyModel) Distribution() data.Toy2D { return t.dist }

// Step is one Adam step on Batch fresh points of the distribution (seeded by the run seed and
// the step); its metric nll is their mean −log p in nats.
func (t *ToyModel) Step(step int) (train.Metrics, error) {
	return t.step.Run(data.PointsTensor(t.dist.Sample(t.Batch, t.seed*1_000_003+int64(step))))
}

// pointsOf turns a flat [N·2] float32 slice into points.
func pointsOf(flat []float32) [][2]float32 {
	pts := make([][2]float32, len(flat)/2)
	for i := range pts {
		pts[i] = [2]float32{flat[2*i], flat[2*i+1]}
	}
	return pts
}

// Encode maps points x to the flow's z = f(x) and returns z and log p(x) in nats.
func (t *ToyModel) Encode(points [][2]float32) (z [][2]float32, logP []float64, err error) {
	if len(points) == 0 {
		return nil, nil, nil
	}
	res, err := t.density.Call(data.PointsTensor(points))
	if err != nil {
		return nil, nil, fmt.Errorf("flow: toy density: %w", err)
	}
	for _, v := range tensors.MustCopyFlatData[float32](res[0]) {
		logP = append(logP, float64(v))
	}
	return pointsOf(tensors.MustCopyFlatData[float32](res[1])), logP, nil
}

// LogDensity returns log p(x) in nats of the flow at each point.
func (t *ToyModel) LogDensity(points [][2]float32) ([]float64, error) {
	_, logP, err := t.Encode(points)
	return logP, err
}

// Stages maps z back to the plane and returns the points after each coupling undone
// (ToyInverseStages): stages[0] is z, stages[Layers] = f⁻¹(z).
func (t *ToyModel) Stages(z [][2]float32) ([][][2]float32, error) {
	if len(z) == 0 {
		return nil, nil
	}
	res, err := t.inverse.Call(data.PointsTensor(z))
	if err != nil {
		return nil, fmt.Errorf("flow: toy inverse: %w", err)
	}
	stages := make([][][2]float32, len(res))
	for i, r := range res {
		stages[i] = pointsOf(tensors.MustCopyFlatData[float32](r))
	}
	return stages, nil
}

// Decode maps z back to the plane: x = f⁻¹(z).
func (t *ToyModel) Decode(z [][2]float32) ([][2]float32, error) {
	stages, err := t.Stages(z)
	if err != nil || stages == nil {
		return nil, err
	}
	return stages[len(stages)-1], nil
}

// Gaussian returns n points of N(0, T²·I) drawn from a PCG generator seeded by seed.
func Gaussian(n int, temperature float64, seed uint64) [][2]float32 {
	r := rand.New(rand.NewPCG(seed, 0x746f79666c6f77))
	z := make([][2]float32, max(n, 0))
	for i := range z {
		z[i] = [2]float32{float32(temperature * r.NormFloat64()), float32(temperature * r.NormFloat64())}
	}
	return z
}

// Points draws n points from the flow: z ~ N(0, I) (seeded by seed), x = f⁻¹(z).
func (t *ToyModel) Points(n int, seed uint64) ([][2]float32, error) {
	return t.Decode(Gaussian(n, 1, seed))
}

// KLEstimate is the log-likelihood gap mean log p_true(x) − mean log p_model(x) over n fresh
// points x of the distribution (seeded by seed), in nats: a Monte Carlo estimate of
// KL(p_true ‖ p_model), ≥ 0 up to sampling noise. ok is false (and the gap 0) when the
// distribution has no closed-form density (data.Toy2D.LogDensity).
func (t *ToyModel) KLEstimate(n int, seed int64) (kl float64, ok bool, err error) {
	pts := t.dist.Sample(n, seed)
	logModel, err := t.LogDensity(pts)
	if err != nil {
		return 0, false, err
	}
	for i, p := range pts {
		lt, closed := t.dist.LogDensity(float64(p[0]), float64(p[1]))
		if !closed {
			return 0, false, nil
		}
		kl += (lt - logModel[i]) / float64(n)
	}
	return kl, true, nil
}

// ToyEvalSeed seeds the fresh points of every evaluation of a toy flow.
const ToyEvalSeed = 20170101

// Evaluate reports test_nll, the mean −log p of EvalSamples fresh points (seeded by ToyEvalSeed),
// and kl (KLEstimate on the same points) when the distribution's density has a closed form.
func (t *ToyModel) Evaluate(int) (train.Metrics, error) {
	pts := t.dist.Sample(t.EvalSamples, ToyEvalSeed)
	logP, err := t.LogDensity(pts)
	if err != nil {
		return nil, err
	}
	nll := 0.0
	for _, l := range logP {
		nll -= l / float64(len(logP))
	}
	ms := train.Metrics{{Name: "test_nll", Value: nll}}
	if kl, ok, err := t.KLEstimate(t.EvalSamples, ToyEvalSeed); err != nil {
		return nil, err
	} else if ok {
		ms = append(ms, train.Metric{Name: "kl", Value: kl})
	}
	return ms, nil
}

// GridPoints returns the centres of a size×size grid of cells covering [−span, span]², row by
// row from the top (y = +span) and, in each row, from the left: the layout of viz.HeatMap.
func GridPoints(span float64, size int) [][2]float32 {
	pts := make([][2]float32, 0, size*size)
	cell := 2 * span / float64(size)
	for i := range size {
		y := span - (float64(i)+0.5)*cell
		for j := range size {
			pts = append(pts, [2]float32{float32(-span + (float64(j)+0.5)*cell), float32(y)})
		}
	}
	return pts
}

// toGrid lays size·size values out as size rows (GridPoints' order).
func toGrid(values []float64, size int) [][]float64 {
	grid := make([][]float64, size)
	for i := range grid {
		grid[i] = values[i*size : (i+1)*size]
	}
	return grid
}

// DensityGrid is the flow's density p(x) on the cell centres of GridPoints(span, size), as rows
// for viz.HeatMap.
func (t *ToyModel) DensityGrid(span float64, size int) ([][]float64, error) {
	logP, err := t.LogDensity(GridPoints(span, size))
	if err != nil {
		return nil, err
	}
	for i, l := range logP {
		logP[i] = math.Exp(l)
	}
	return toGrid(logP, size), nil
}

// TrueDensityGrid is the density of dist on the same grid as DensityGrid: the closed form where
// there is one (closed true: the Gaussian mixtures), else a histogram of n points (seeded by
// seed) normalised to a density, count/(n·cell area) — an estimate, blurred by the cells and
// noisy where few points fall.
func TrueDensityGrid(dist data.Toy2D, span float64, size, n int, seed int64) (grid [][]float64, closed bool) {
	values := make([]float64, size*size)
	closed = true
	for i, p := range GridPoints(span, size) {
		l, ok := dist.LogDensity(float64(p[0]), float64(p[1]))
		if !ok {
			closed = false
			break
		}
		values[i] = math.Exp(l)
	}
	if closed {
		return toGrid(values, size), true
	}
	clear(values)
	cell := 2 * span / float64(size)
	for _, p := range dist.Sample(n, seed) {
		j, i := int(math.Floor((float64(p[0])+span)/cell)), int(math.Floor((span-float64(p[1]))/cell))
		if i >= 0 && i < size && j >= 0 && j < size {
			values[i*size+j] += 1 / (float64(n) * cell * cell)
		}
	}
	return toGrid(values, size), false
}

var _ train.Evaluator = (*ToyModel)(nil)
