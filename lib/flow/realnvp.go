package flow

import (
	"math"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/iagen-course/iagen/lib/nn"
)

// Arch is the shape of a RealNVP: Layers affine couplings per scale, each with an ActNorm before
// it, coupling networks of Hidden channels, the logit transform's α, and the number of scales.
type Arch struct {
	Layers int     `json:"layers"` // affine coupling layers per scale (BENCH.md: 8, one scale)
	Hidden int     `json:"hidden"` // channels of the coupling networks' hidden convolutions (BENCH.md: 64)
	Alpha  float64 `json:"alpha"`  // α of the logit transform (BENCH.md: 0.05)
	// Scales of the multi-scale architecture (Dinh et al. 2017, §3.6; Forward): 0 or 1 is one
	// scale (BENCH.md); each further scale squeezes the image into channels and, between scales,
	// factors half of them out. 28×28 MNIST allows 3 (28, 14 and 7 pixels).
	Scales int `json:"scales,omitempty"`
	// InvConv puts Glow's invertible 1×1 convolution (nn.InvConv1x1; Kingma & Dhariwal 2018,
	// §3.2) between each ActNorm and coupling of the scales after the first, a learned mixing of
	// the channels before the coupling splits them in halves. The first scale's single channel
	// has nothing to mix, so it needs Scales ≥ 2.
	InvConv bool `json:"inv_conv,omitempty"`
}

// scales is the number of scales, 1 for a single-scale flow.
func (a Arch) scales() int { return max(a.Scales, 1) }

// couplings is the number of affine coupling layers of the flow.
func (a Arch) couplings() int { return a.Layers * a.scales() }

// scale returns the scope of scale s's layers ("layer_k" below it): the root at the first scale
// (the single-scale flow's names), "scale_s" after it.
func (a Arch) scale(scope *model.Scope, s int) *model.Scope {
	if s > 0 {
		return scope.In("scale_%d", s)
	}
	return scope
}

// mixes reports whether scale s's layers have an invertible 1×1 convolution (InvConv).
func (a Arch) mixes(s int) bool { return a.InvConv && s > 0 }

// mask is the mask of coupling k of scale s on z [B, H, W, C]: a checkerboard at the first
// scale, alternating parity; one half of the channels after it, alternating halves.
func (a Arch) mask(z *graph.Node, s, k int) *graph.Node {
	d := z.Shape().Dimensions
	if s == 0 {
		return nn.CheckerboardMask(z.Graph(), z.DType(), d[1], d[2], k%2 == 1)
	}
	return nn.ChannelMask(z.Graph(), z.DType(), d[3], k%2 == 1)
}

// Levels is the number of values a pixel takes: the dequantized pixel v = x + u lies in [0, Levels).
const Levels = 256

// Preprocess is the logit transform of Dinh et al. 2017, §4.1, of the dequantized pixels
// v = x + u ∈ [0, 256) ([B, H, W, C], any float dtype):
//
//	p = α + (1 − 2α)·v/256,   z₀ = logit p = log p − log(1 − p)
//
// It returns z₀ and log|det ∂z₀/∂v| per image [B]: Σ_pixels [log((1 − 2α)/256) − log p − log(1 − p)],
// since dz₀/dv = (1 − 2α)/256 · 1/(p(1 − p)). With this term the density is that of v, so that
// bits/dim are in 8-bit pixel space.
func Preprocess(v *graph.Node, alpha float64) (z0, logDet *graph.Node) {
	p := graph.AddScalar(graph.MulScalar(v, (1-2*alpha)/Levels), alpha)
	logP, log1mP := graph.Log(p), graph.Log(graph.OneMinus(p))
	z0 = graph.Sub(logP, log1mP)
	logDet = graph.ReduceSum(graph.Sub(graph.AddScalar(graph.Neg(logP), math.Log((1-2*alpha)/Levels)), log1mP), 1, 2, 3)
	return z0, logDet
}

// Postprocess inverts Preprocess: p = σ(z₀), v = 256·(p − α)/(1 − 2α).
func Postprocess(z0 *graph.Node, alpha float64) *graph.Node {
	return graph.MulScalar(graph.AddScalar(graph.Sigmoid(z0), -alpha), Levels/(1-2*alpha))
}

// Forward maps the dequantized pixels v ∈ [0, 256) [B, H, W, 1] to z [B, H, W, 1] and
// log|det ∂z/∂v| [B]. With one scale:
//
//	z₀ = Preprocess(v)
//	z_k = coupling_k(ActNorm_k(z_{k−1})),  k = 1…Layers   (checkerboard mask (i + j) even for
//	                                                        odd k, odd for even k)
//
// and z = z_Layers. Each further scale (Dinh et al. 2017, §3.6) squeezes the image (nn.Squeeze:
// H/2 × W/2 × 4C), applies Layers couplings whose masks keep the first and the second half of
// the channels alternately (with InvConv each after an invertible 1×1 convolution), and — but
// at the last scale — factors the second half of the channels out: they are part of z and no
// later layer touches them. The factored-out halves and
// the last scale's output are put back in place (concatenated and unsqueezed), so that z has
// the shape of v: squeezing only permutes values, and the prior N(0, I) is the same on every
// arrangement. With init the ActNorms take their data-dependent initialisation from this
// batch the first time (nn.ActNorm: the training step); without it they use the stored values
// (zero, that is the identity, before any training step).
func Forward(scope *model.Scope, a Arch, v *graph.Node, init bool) (z, logDet *graph.Node) {
	z, logDet = Preprocess(v, a.Alpha)
	n := a.scales()
	out := make([]*graph.Node, n) // out[s]: the channels factored out after scale s
	for s := range n {
		if s > 0 {
			z = nn.Squeeze(z)
		}
		ss := a.scale(scope, s)
		for k := range a.Layers {
			ls := ss.In("layer_%d", k)
			var ld *graph.Node
			z, ld = actNorm(ls, z, init) // ld: a scalar, the same for every image
			logDet = graph.Add(logDet, ld)
			if a.mixes(s) {
				z, ld = nn.InvConv1x1(ls, z)
				logDet = graph.Add(logDet, ld)
			}
			z, ld = Coupling(ls.In("coupling"), z, a.mask(z, s, k), a.Hidden)
			logDet = graph.Add(logDet, ld)
		}
		if s > 0 && s < n-1 {
			z, out[s] = halves(z)
		}
	}
	for s := n - 1; s > 0; s-- {
		if out[s] != nil {
			z = graph.Concatenate([]*graph.Node{z, out[s]}, 3)
		}
		z = nn.Unsqueeze(z)
	}
	return z, logDet
}

// halves splits z [B, H, W, C] into its first and second half of channels.
func halves(z *graph.Node) (first, second *graph.Node) {
	c := z.Shape().Dimensions[3]
	return graph.SliceAxis(z, 3, graph.AxisRange(0, c/2)), graph.SliceAxis(z, 3, graph.AxisRange(c/2, c))
}

// Inverse inverts Forward (same scope and Arch): z is taken apart into the scales' pieces as
// Forward put it together, then every scale from the last is undone — its factored-out half put
// back, its layers in reverse order (each coupling, 1×1 convolution and ActNorm), the squeeze —
// and then Postprocess. The result is v ∈ (0, 256) up to the precision of the dtype.
func Inverse(scope *model.Scope, a Arch, z *graph.Node) *graph.Node {
	n := a.scales()
	out := make([]*graph.Node, n)
	for s := 1; s < n; s++ {
		z = nn.Squeeze(z)
		if s < n-1 {
			z, out[s] = halves(z)
		}
	}
	for s := n - 1; s >= 0; s-- {
		if out[s] != nil {
			z = graph.Concatenate([]*graph.Node{z, out[s]}, 3)
		}
		ss := a.scale(scope, s)
		for k := a.Layers - 1; k >= 0; k-- {
			ls := ss.In("layer_%d", k)
			z = CouplingInverse(ls.In("coupling"), z, a.mask(z, s, k), a.Hidden)
			if a.mixes(s) {
				z = nn.InvConv1x1Inverse(ls, z)
			}
			z = nn.ActNormInverse(ls, z)
		}
		if s > 0 {
			z = nn.Unsqueeze(z)
		}
	}
	return Postprocess(z, a.Alpha)
}

// actNorm is ActNorm (Kingma & Dhariwal 2018, "Glow", §3.1): y = (x + bias)⊙exp(logScale), with
// log|det| = (pixels)·Σ logScale. With init it is nn.ActNorm (data-dependent initialisation on
// its first run); without, it reads the same variables and never initialises them.
func actNorm(scope *model.Scope, x *graph.Node, init bool) (y, logDet *graph.Node) {
	if init {
		return nn.ActNorm(scope, x)
	}
	s := scope.In("act_norm").WithInitializer(initializer.Zero)
	c := x.Shape().Dimensions[3]
	shape := shapes.Make(x.DType(), c)
	bias := graph.Reshape(s.VariableWithShape("bias", shape).NodeValue(x.Graph()), 1, 1, 1, c)
	logScale := s.VariableWithShape("log_scale", shape).NodeValue(x.Graph())
	y = graph.Mul(graph.Add(x, bias), graph.Exp(graph.Reshape(logScale, 1, 1, 1, c)))
	pixels := x.Shape().Dimensions[1] * x.Shape().Dimensions[2]
	return y, graph.MulScalar(graph.ReduceAllSum(logScale), float64(pixels))
}

// shiftScale is the conditioning network of an affine coupling: from the kept values x⊙m
// (zero-padded by 1), Conv3×3 C→hidden, ReLU, Conv3×3 hidden→hidden, ReLU, Conv3×3 hidden→2C
// gives (raw, t), and s = scale·tanh(raw) with one learned scalar scale per layer, starting at
// 1 (bounded log-scales keep exp(s) tame early in training). The last convolution starts at
// zero (as Glow's, Kingma & Dhariwal 2018, §3.3), so every coupling starts as the identity. s
// and t are returned multiplied by 1 − m: zero on the kept values, which the layer passes
// through. x [B, H, W, C], m broadcastable to it (a checkerboard or channel mask).
func shiftScale(scope *model.Scope, x, m *graph.Node, hidden int) (s, t *graph.Node) {
	c := x.Shape().Dimensions[3]
	h := activation.Relu(nn.Conv2D(scope.In("c1"), graph.Mul(x, m), hidden, 3, 1, 1))
	h = activation.Relu(nn.Conv2D(scope.In("c2"), h, hidden, 3, 1, 1))
	h = nn.Conv2D(scope.In("c3").WithInitializer(initializer.Zero), h, 2*c, 3, 1, 1)
	scale := scope.VariableWithValue("scale", shapes.CastAsDType(1, x.DType())).NodeValue(x.Graph())
	inv := graph.OneMinus(m)
	raw, shift := halves(h)
	s = graph.Mul(inv, graph.Mul(scale, graph.Tanh(raw)))
	t = graph.Mul(inv, shift)
	return s, t
}

// Coupling is RealNVP's affine coupling layer (Dinh, Sohl-Dickstein & Bengio 2017, eq. 9 with
// the checkerboard mask b of §3.4):
//
//	y = b⊙x + (1 − b)⊙(x⊙exp(s(b⊙x)) + t(b⊙x))
//
// Its Jacobian is triangular with diagonal exp(s) (1 on the kept pixels), so (eq. 6)
// log|det ∂y/∂x| = Σ_pixels s, per image: logDet [B].
func Coupling(scope *model.Scope, x, m *graph.Node, hidden int) (y, logDet *graph.Node) {
	s, t := shiftScale(scope, x, m, hidden)
	y = graph.Add(graph.Mul(x, graph.Exp(s)), t) // s = t = 0 on the kept pixels: y = x there
	return y, graph.ReduceSum(s, 1, 2, 3)
}

// CouplingInverse inverts Coupling (same scope and mask; Dinh et al. 2017, eq. 8–9): since
// b⊙y = b⊙x, s and t are recomputed from y, and x = b⊙y + (1 − b)⊙(y − t)⊙exp(−s).
func CouplingInverse(scope *model.Scope, y, m *graph.Node, hidden int) *graph.Node {
	s, t := shiftScale(scope, y, m, hidden)
	return graph.Mul(graph.Sub(y, t), graph.Exp(graph.Neg(s)))
}

// BitsPerDim is −log p(v)/(D·ln 2) per image [B], D = H·W·C, from the change of variables
// (Dinh et al. 2017, eq. 3) with a standard normal prior:
//
//	log p(v) = log N(z; 0, I) + log|det ∂z/∂v|,   log N(z; 0, I) = −½ Σ z² − (D/2)·log 2π
func BitsPerDim(z, logDet *graph.Node) *graph.Node {
	dims := float64(z.Shape().Size() / z.Shape().Dimensions[0])
	logPrior := graph.AddScalar(graph.MulScalar(graph.ReduceSum(graph.Square(z), 1, 2, 3), -0.5), -dims/2*math.Log(2*math.Pi))
	return graph.DivScalar(graph.Neg(graph.Add(logPrior, logDet)), dims*math.Ln2)
}
