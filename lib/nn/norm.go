package nn

import (
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	. "github.com/gomlx/gomlx/support/exceptions" //nolint:staticcheck
)

// BatchNormBuilder configures a BatchNorm; create it with BatchNorm and finish with Done.
type BatchNormBuilder struct {
	scope             *model.Scope
	x                 *graph.Node
	momentum, epsilon float64
	training          *bool
}

// BatchNorm normalises x per feature (its last axis) over all other axes — the batch and,
// for NHWC images, the pixels — with PyTorch's semantics (Ioffe & Szegedy 2015,
// "Batch Normalization", Alg. 1):
//
//	training:  y = γ · (x - μ_B) / √(σ²_B + ε) + β,   μ_B, σ²_B = mean and biased variance of the batch
//	inference: y = γ · (x - μ̂) / √(σ̂² + ε) + β,      μ̂, σ̂² = running averages
//
// In training the gradient flows through μ_B and σ²_B (unlike GoMLX's norm.BatchNorm on the
// go backend, which stops it there), and the running averages are updated in the same graph:
// μ̂ ← (1 - m)·μ̂ + m·μ_B, σ̂² ← (1 - m)·σ̂² + m·σ²_B·n/(n-1) (unbiased), with momentum m.
// Calling it twice on one graph (D on the real, then the fake batch) updates them twice, as
// PyTorch does.
//
// Training or inference follows scope.IsTraining(graph) (model.Store.SetTraining), unless
// set with Training. Defaults: momentum 0.1, ε 1e-5 (PyTorch's).
//
// Shapes: x [..., F] → same shape. Variables in sub-scope "batch_norm": "scale" γ [F] (1),
// "offset" β [F] (0), and non-trainable "mean" μ̂ [F] (0) and "variance" σ̂² [F] (1).
func BatchNorm(scope *model.Scope, x *graph.Node) *BatchNormBuilder {
	return &BatchNormBuilder{scope: scope, x: x, momentum: 0.1, epsilon: 1e-5}
}

// Momentum sets m in the running-average update μ̂ ← (1 - m)·μ̂ + m·μ_B (PyTorch's convention;
// Keras' momentum is 1 - m). Default 0.1.
func (b *BatchNormBuilder) Momentum(m float64) *BatchNormBuilder { b.momentum = m; return b }

// Epsilon sets ε added to the variance. Default 1e-5.
func (b *BatchNormBuilder) Epsilon(eps float64) *BatchNormBuilder { b.epsilon = eps; return b }

// Training forces training (batch statistics, running averages updated) or inference
// (running averages) mode, instead of following scope.IsTraining.
func (b *BatchNormBuilder) Training(training bool) *BatchNormBuilder {
	b.training = &training
	return b
}

// Done builds the normalisation and returns y, shaped like x.
func (b *BatchNormBuilder) Done() *graph.Node {
	x := b.x
	if x.Rank() < 2 {
		Panicf("BatchNorm: x must have a batch axis and a feature axis, got shape %s", x.Shape())
	}
	g := x.Graph()
	scope := b.scope.In("batch_norm")
	f := x.Shape().Dimensions[x.Rank()-1]
	varShape := shapes.Make(x.DType(), f)
	gamma := scope.WithInitializer(initializer.One).VariableWithShape("scale", varShape).NodeValue(g)
	beta := scope.WithInitializer(initializer.Zero).VariableWithShape("offset", varShape).NodeValue(g)
	meanVar := scope.WithInitializer(initializer.Zero).VariableWithShape("mean", varShape).SetTrainable(false)
	varianceVar := scope.WithInitializer(initializer.One).VariableWithShape("variance", varShape).SetTrainable(false)

	training := scope.IsTraining(g)
	if b.training != nil {
		training = *b.training
	}
	if !training {
		return BatchNormInference(x, gamma, beta, meanVar.NodeValue(g), varianceVar.NodeValue(g), b.epsilon)
	}
	y, mean, variance := BatchNormTraining(x, gamma, beta, b.epsilon)
	n := x.Shape().Size() / f
	unbiased := variance
	if n > 1 {
		unbiased = graph.MulScalar(variance, float64(n)/float64(n-1))
	}
	m := b.momentum
	meanVar.SetNodeValue(graph.Add(graph.MulScalar(meanVar.NodeValue(g), 1-m), graph.MulScalar(graph.StopGradient(mean), m)))
	varianceVar.SetNodeValue(graph.Add(graph.MulScalar(varianceVar.NodeValue(g), 1-m), graph.MulScalar(graph.StopGradient(unbiased), m)))
	return y
}

// BatchNormTraining is the functional form of BatchNorm in training mode: it normalises x
// [..., F] with the mean and biased variance over all but its last axis, scales by gamma [F]
// and shifts by beta [F] (either may be nil), and also returns those batch statistics [F].
// The gradient flows through the statistics.
func BatchNormTraining(x, gamma, beta *graph.Node, epsilon float64) (y, mean, variance *graph.Node) {
	axes := make([]int, x.Rank()-1)
	for i := range axes {
		axes[i] = i
	}
	mean = graph.ReduceMean(x, axes...)
	centered := graph.Sub(x, reshapeLast(mean, x.Rank()))
	variance = graph.ReduceMean(graph.Square(centered), axes...)
	factor := graph.Reciprocal(graph.Sqrt(graph.AddScalar(variance, epsilon))) // [F]
	if gamma != nil {
		factor = graph.Mul(factor, gamma)
	}
	y = graph.Mul(centered, reshapeLast(factor, x.Rank()))
	if beta != nil {
		y = graph.Add(y, reshapeLast(beta, x.Rank()))
	}
	return y, mean, variance
}

// BatchNormInference is the functional form of BatchNorm in inference mode:
// y = gamma·(x - mean)/√(variance + ε) + beta, with per-feature (last axis) mean, variance,
// gamma and beta [F] (gamma and beta may be nil). It folds the four vectors into one scale
// and one shift, so x is read once.
func BatchNormInference(x, gamma, beta, mean, variance *graph.Node, epsilon float64) *graph.Node {
	factor := graph.Reciprocal(graph.Sqrt(graph.AddScalar(variance, epsilon)))
	if gamma != nil {
		factor = graph.Mul(factor, gamma)
	}
	shift := graph.Neg(graph.Mul(mean, factor))
	if beta != nil {
		shift = graph.Add(shift, beta)
	}
	return graph.Add(graph.Mul(x, reshapeLast(factor, x.Rank())), reshapeLast(shift, x.Rank()))
}

// GroupNorm normalises NHWC feature maps per example and per group of channels (Wu & He
// 2018, "Group Normalization", eq. 1–3), with a learned per-channel scale and offset:
//
//	y[b, h, w, c] = γ[c] · (x[b, h, w, c] - μ[b, g]) / √(σ²[b, g] + ε) + β[c],   g = c / (C/groups)
//
// where μ[b, g], σ²[b, g] are the mean and (biased) variance over the pixels and the C/groups
// channels of group g; ε = 1e-5 (PyTorch's nn.GroupNorm). It works the same in training and
// inference.
//
// Shapes: x [B, ..., C] (any number of spatial axes, C divisible by groups) → same shape.
// Variables in sub-scope "group_norm": "scale" γ [C] (1) and "offset" β [C] (0).
func GroupNorm(scope *model.Scope, x *graph.Node, groups int) *graph.Node {
	scope = scope.In("group_norm")
	g := x.Graph()
	dims := x.Shape().Dimensions
	if x.Rank() < 2 || groups < 1 || dims[x.Rank()-1]%groups != 0 {
		Panicf("GroupNorm: x must be [batch, ..., channels] with channels divisible by groups=%d, got %s", groups, x.Shape())
	}
	c := dims[x.Rank()-1]
	varShape := shapes.Make(x.DType(), c)
	gamma := scope.WithInitializer(initializer.One).VariableWithShape("scale", varShape).NodeValue(g)
	beta := scope.WithInitializer(initializer.Zero).VariableWithShape("offset", varShape).NodeValue(g)
	return GroupNormWith(x, groups, gamma, beta, 1e-5)
}

// GroupNormWith is the functional form of GroupNorm, with explicit scale γ [C] and offset
// β [C] (either may be nil) and ε.
//
// The moments come from sums over the pixels per (example, channel), reductions along which the
// channels stay contiguous and vectorise, then per group (BENCH.md, "Where an XLA CPU step spends
// its time"). The gradient is written in closed form, with x̂ = (x − μ)/σ and
// g = γ·dy (Wu & He 2018, back-propagated as for batch normalisation, Ioffe & Szegedy 2015, §3):
//
//	∂L/∂x = (g − mean_G(g) − x̂·mean_G(g·x̂))/σ,   ∂L/∂γ = Σ dy·x̂,   ∂L/∂β = Σ dy
//
// mean_G over the pixels and channels of the group, Σ over examples and pixels. Second-order
// gradients (a gradient of this gradient) are not supported.
func GroupNormWith(x *graph.Node, groups int, gamma, beta *graph.Node, epsilon float64) *graph.Node {
	dims := x.Shape().Dimensions
	b, c := dims[0], dims[x.Rank()-1]
	cg := c / groups
	pixels := x.Shape().Size() / (b * c)
	n := float64(pixels * cg)
	g := x.Graph()
	if gamma == nil {
		gamma = graph.Ones(g, shapes.Make(x.DType(), c))
	}
	if beta == nil {
		beta = graph.Zeros(g, shapes.Make(x.DType(), c))
	}
	groupMean := func(v *graph.Node) *graph.Node { // per-channel sums [B, C] → means per group [B, G]
		return graph.DivScalar(graph.ReduceSum(graph.Reshape(v, b, groups, cg), 2), n)
	}
	perChannel := func(v *graph.Node) *graph.Node { // [B, G] → [B, 1, C]
		return graph.Reshape(graph.BroadcastToDims(graph.Reshape(v, b, groups, 1), b, groups, cg), b, 1, c)
	}
	var centered, inv *graph.Node // x − μ [B, pixels, C] and 1/σ [B, G], shared with the gradient
	return withGradient([]*graph.Node{x, gamma, beta},
		func(xs []*graph.Node) *graph.Node {
			x3 := graph.Reshape(xs[0], b, pixels, c)
			centered = graph.Sub(x3, perChannel(groupMean(graph.ReduceSum(x3, 1))))
			variance := groupMean(graph.ReduceSum(graph.Square(centered), 1))
			inv = graph.Rsqrt(graph.AddScalar(variance, epsilon))
			scale := graph.Mul(perChannel(inv), graph.Reshape(xs[1], 1, 1, c))
			return graph.Reshape(graph.Add(graph.Mul(centered, scale), graph.Reshape(xs[2], 1, 1, c)), dims...)
		},
		func(y, link *graph.Node) *graph.Node { return graph.Add(y, link) },
		func(dy *graph.Node) []*graph.Node {
			dy3 := graph.Reshape(dy, b, pixels, c)
			sumDy := graph.ReduceSum(dy3, 1)                                                                           // Σ_pixels dy [B, C]
			sumDyXhat := graph.Mul(graph.Reshape(perChannel(inv), b, c), graph.ReduceSum(graph.Mul(dy3, centered), 1)) // Σ_pixels dy·x̂
			gam := graph.Reshape(gamma, 1, c)
			meanG, meanGXhat := groupMean(graph.Mul(gam, sumDy)), groupMean(graph.Mul(gam, sumDyXhat))
			// dx = dy·γ/σ − (x − μ)·mean_G(g·x̂)/σ² − mean_G(g)/σ
			dx := graph.Mul(dy3, graph.Mul(perChannel(inv), graph.Reshape(gamma, 1, 1, c)))
			dx = graph.Sub(dx, graph.Mul(centered, perChannel(graph.Mul(graph.Square(inv), meanGXhat))))
			dx = graph.Sub(dx, perChannel(graph.Mul(inv, meanG)))
			return []*graph.Node{graph.Reshape(dx, dims...), graph.ReduceSum(sumDyXhat, 0), graph.ReduceSum(sumDy, 0)}
		})
}

// ActNorm is Glow's activation normalisation (Kingma & Dhariwal 2018, "Glow", §3.1, Table 1):
// a per-channel affine map with a data-dependent initialisation, invertible, with an exact
// log-determinant:
//
//	y = (x + bias) ⊙ exp(logScale),   log|det ∂y/∂x| = (pixels per example) · Σ_c logScale[c]
//
// The first time it runs (in whatever graph: run a training step first) bias and logScale are
// set from that batch so that y has zero mean and unit variance per channel: bias = -μ,
// logScale = -½·log(σ² + 1e-6); from then on they are ordinary trainable parameters. The
// initialisation happens inside the graph — a non-trainable flag "initialized" selects, at run
// time, between the stored and the batch-derived values, which become the variables' values —
// so a training step on the first batch both initialises and takes its gradient step from the
// initial values. (The batch statistics are computed every step for that selection: two
// reductions over x.)
//
// Shapes: x [B, ..., C] → y of the same shape and logDet, a scalar (the same for every
// example). Variables in sub-scope "act_norm": "bias" [C], "log_scale" [C] and the
// non-trainable scalar "initialized".
func ActNorm(scope *model.Scope, x *graph.Node) (y, logDet *graph.Node) {
	bias, logScale := actNormParams(scope, x, true)
	c := x.Shape().Dimensions[x.Rank()-1]
	y = graph.Mul(graph.Add(x, reshapeLast(bias, x.Rank())), reshapeLast(graph.Exp(logScale), x.Rank()))
	pixels := x.Shape().Size() / (x.Shape().Dimensions[0] * c)
	logDet = graph.MulScalar(graph.ReduceAllSum(logScale), float64(pixels))
	return y, logDet
}

// ActNormInverse inverts ActNorm with the same variables (scope as given to ActNorm):
// x = y ⊙ exp(-logScale) - bias. It never initialises.
func ActNormInverse(scope *model.Scope, y *graph.Node) *graph.Node {
	bias, logScale := actNormParams(scope, y, false)
	return graph.Sub(graph.Mul(y, reshapeLast(graph.Exp(graph.Neg(logScale)), y.Rank())), reshapeLast(bias, y.Rank()))
}

func actNormParams(scope *model.Scope, x *graph.Node, mayInit bool) (bias, logScale *graph.Node) {
	scope = scope.In("act_norm")
	g := x.Graph()
	if x.Rank() < 2 {
		Panicf("ActNorm: x must be [batch, ..., channels], got %s", x.Shape())
	}
	c := x.Shape().Dimensions[x.Rank()-1]
	varShape := shapes.Make(x.DType(), c)
	biasVar := scope.WithInitializer(initializer.Zero).VariableWithShape("bias", varShape)
	logScaleVar := scope.WithInitializer(initializer.Zero).VariableWithShape("log_scale", varShape)
	initVar := scope.WithInitializer(initializer.Zero).VariableWithShape("initialized", shapes.Make(x.DType())).SetTrainable(false)
	bias, logScale = biasVar.NodeValue(g), logScaleVar.NodeValue(g)
	if !mayInit {
		return bias, logScale
	}
	// Data-dependent initialisation, selected at run time by the "initialized" flag.
	axes := make([]int, x.Rank()-1)
	for i := range axes {
		axes[i] = i
	}
	mean := graph.ReduceMean(x, axes...)
	variance := graph.ReduceMean(graph.Square(graph.Sub(x, reshapeLast(mean, x.Rank()))), axes...)
	initBias := graph.StopGradient(graph.Neg(mean))
	initLogScale := graph.StopGradient(graph.MulScalar(graph.Log(graph.AddScalar(variance, 1e-6)), -0.5))
	isInit := graph.BroadcastToDims(graph.GreaterThan(initVar.NodeValue(g), graph.ScalarZero(g, x.DType())), c)
	bias = graph.Where(isInit, bias, initBias)
	logScale = graph.Where(isInit, logScale, initLogScale)
	// The selected values become the variables' values: the optimizer (which reads the
	// variables' latest graph values) differentiates and updates these.
	biasVar.SetNodeValue(bias)
	logScaleVar.SetNodeValue(logScale)
	initVar.SetNodeValue(graph.OnesLike(initVar.NodeValue(g)))
	return bias, logScale
}

// reshapeLast reshapes a [C] vector to [1, ..., 1, C] of the given rank.
func reshapeLast(v *graph.Node, rank int) *graph.Node {
	dims := make([]int, rank)
	for i := range dims {
		dims[i] = 1
	}
	dims[rank-1] = v.Shape().Dimensions[0]
	return graph.Reshape(v, dims...)
}
