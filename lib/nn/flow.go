package nn

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	. "github.com/gomlx/gomlx/support/exceptions" //nolint:staticcheck
)

// CheckerboardMask returns RealNVP's checkerboard mask (Dinh, Sohl-Dickstein & Bengio 2017,
// "Density estimation using Real NVP", §3.4): b[i, j] = 1 where i + j is even (odd when
// inverted), 0 elsewhere — the pixels an affine coupling layer keeps and conditions on:
//
//	y = b⊙x + (1-b)⊙(x⊙exp(s(b⊙x)) + t(b⊙x))
//
// Alternating the two parities from layer to layer lets every pixel be transformed. The mask
// is a constant shaped [1, height, width, 1], which broadcasts over NHWC images
// [B, height, width, C].
func CheckerboardMask(g *graph.Graph, dtype dtypes.DType, height, width int, inverted bool) *graph.Node {
	if height < 1 || width < 1 {
		Panicf("CheckerboardMask: height and width must be >= 1, got %d×%d", height, width)
	}
	parity := 0
	if inverted {
		parity = 1
	}
	mask := make([]float64, height*width)
	for i := range height {
		for j := range width {
			if (i+j)%2 == parity {
				mask[i*width+j] = 1
			}
		}
	}
	return graph.ConvertDType(graph.Const(g, tensors.FromFlatDataAndDimensions(mask, 1, height, width, 1)), dtype)
}

// ChannelMask returns the mask of a channel-wise affine coupling (Dinh et al. 2017, §3.4): 1 on
// the first half of c channels (the second half when inverted), 0 on the others, shaped
// [1, 1, 1, c] to broadcast over NHWC images. c must be even.
func ChannelMask(g *graph.Graph, dtype dtypes.DType, c int, inverted bool) *graph.Node {
	if c < 2 || c%2 != 0 {
		Panicf("ChannelMask: the channels must be even and >= 2, got %d", c)
	}
	mask := make([]float64, c)
	for i := range c {
		if (i < c/2) != inverted {
			mask[i] = 1
		}
	}
	return graph.ConvertDType(graph.Const(g, tensors.FromFlatDataAndDimensions(mask, 1, 1, 1, c)), dtype)
}

// Squeeze folds every 2×2 block of pixels into channels, [B, H, W, C] → [B, H/2, W/2, 4C]
// (Dinh et al. 2017, §3.6, Figure 3): a permutation of the values, so its log-determinant is 0.
// H and W must be even.
func Squeeze(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	if x.Rank() != 4 || d[1]%2 != 0 || d[2]%2 != 0 {
		Panicf("Squeeze: x must be [B, H, W, C] with H and W even, got %s", x.Shape())
	}
	x = graph.Reshape(x, d[0], d[1]/2, 2, d[2]/2, 2, d[3])
	return graph.Reshape(graph.TransposeAllDims(x, 0, 1, 3, 2, 4, 5), d[0], d[1]/2, d[2]/2, 4*d[3])
}

// Unsqueeze inverts Squeeze: [B, H, W, 4C] → [B, 2H, 2W, C].
func Unsqueeze(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	if x.Rank() != 4 || d[3]%4 != 0 {
		Panicf("Unsqueeze: x must be [B, H, W, 4C], got %s", x.Shape())
	}
	x = graph.Reshape(x, d[0], d[1], d[2], 2, 2, d[3]/4)
	return graph.Reshape(graph.TransposeAllDims(x, 0, 1, 3, 2, 4, 5), d[0], 2*d[1], 2*d[2], d[3]/4)
}

// InvConv1x1 is Glow's invertible 1×1 convolution (Kingma & Dhariwal 2018, "Glow", §3.2, in
// the LU form of its eq. 10): every pixel's C channels are multiplied by one learned C×C
// matrix
//
//	W = L·(U + diag(exp(d))),   L unit lower-triangular, U strictly upper-triangular,
//	log|det ∂y/∂x| = (pixels per example) · Σ_c d[c],
//
// a learned mixing of the channels where RealNVP alternates fixed halves. W is invertible
// whatever the values. Glow keeps a fixed permutation P in front and starts W at a random
// rotation; here P = I and W starts at the identity (all variables zero), so a flow with it
// starts as the same flow without it.
//
// Shapes: x [B, H, W, C] → y of the same shape and logDet, a scalar (the same for every
// example). Variables in sub-scope "inv_conv": "lower" and "upper" [C, C], of which only the
// strict triangles are used, and "log_diag" d [C].
func InvConv1x1(scope *model.Scope, x *graph.Node) (y, logDet *graph.Node) {
	lower, upper, logDiag := invConvParams(scope, x)
	w := graph.MatMul(graph.Add(identity(lower), lower), graph.Add(upper, diagonal(graph.Exp(logDiag))))
	d := x.Shape().Dimensions
	return mixChannels(x, w), graph.MulScalar(graph.ReduceAllSum(logDiag), float64(d[1]*d[2]))
}

// InvConv1x1Inverse inverts InvConv1x1 with the same variables: x = W⁻¹·y per pixel, with
// W⁻¹ = (U + D)⁻¹·L⁻¹ and (U + D)⁻¹ = (I + D⁻¹U)⁻¹·D⁻¹, both from unitTriangularInverse.
func InvConv1x1Inverse(scope *model.Scope, y *graph.Node) *graph.Node {
	lower, upper, logDiag := invConvParams(scope, y)
	c := logDiag.Shape().Dimensions[0]
	invD := graph.Exp(graph.Neg(logDiag))
	upperInv := graph.Mul(unitTriangularInverse(graph.Mul(graph.Reshape(invD, c, 1), upper)), graph.Reshape(invD, 1, c))
	return mixChannels(y, graph.MatMul(upperInv, unitTriangularInverse(lower)))
}

// invConvParams returns InvConv1x1's strictly lower- and strictly upper-triangular parts of L
// and U and d, for x's channels.
func invConvParams(scope *model.Scope, x *graph.Node) (lower, upper, logDiag *graph.Node) {
	if x.Rank() != 4 {
		Panicf("InvConv1x1: x must be [B, H, W, C], got %s", x.Shape())
	}
	scope = scope.In("inv_conv").WithInitializer(initializer.Zero)
	g := x.Graph()
	c := x.Shape().Dimensions[3]
	square := shapes.Make(x.DType(), c, c)
	lower = graph.TakeLowerTriangular(scope.VariableWithShape("lower", square).NodeValue(g), -1)
	upper = graph.TakeUpperTriangular(scope.VariableWithShape("upper", square).NodeValue(g), 1)
	logDiag = scope.VariableWithShape("log_diag", shapes.Make(x.DType(), c)).NodeValue(g)
	return lower, upper, logDiag
}

// identity returns the identity matrix shaped and typed as the square m.
func identity(m *graph.Node) *graph.Node {
	return graph.ConvertDType(graph.Diagonal(m.Graph(), m.Shape().Dimensions[0]), m.DType())
}

// diagonal returns the square matrix with v [C] on its diagonal.
func diagonal(v *graph.Node) *graph.Node {
	c := v.Shape().Dimensions[0]
	return graph.Mul(graph.ConvertDType(graph.Diagonal(v.Graph(), c), v.DType()), graph.Reshape(v, 1, c))
}

// unitTriangularInverse returns (I + N)⁻¹ for a strictly triangular N [C, C]: N is nilpotent
// (N^C = 0), so (I + N)⁻¹ = Σ_{k<C} (−N)^k = (I − N)(I + N²)(I + N⁴)…, exactly, in ⌈log₂ C⌉
// factors.
func unitTriangularInverse(n *graph.Node) *graph.Node {
	c := n.Shape().Dimensions[0]
	eye := identity(n)
	inv, power := graph.Sub(eye, n), n
	for span := 2; span < c; span *= 2 {
		power = graph.MatMul(power, power) // N^span
		inv = graph.MatMul(inv, graph.Add(eye, power))
	}
	return inv
}

// mixChannels multiplies every pixel's channel vector of x [B, H, W, C] by w [C, C]: y = w·x.
func mixChannels(x, w *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	flat := graph.Reshape(x, d[0]*d[1]*d[2], d[3])
	return graph.Reshape(graph.MatMul(flat, graph.Transpose(w, 0, 1)), d...)
}
