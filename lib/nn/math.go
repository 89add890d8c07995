package nn

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	. "github.com/gomlx/gomlx/support/exceptions" //nolint:staticcheck
)

// LogSumExp returns log Σ exp(x) over the given axes (all axes when none are given), with the
// reduced axes removed, computed stably as m + log Σ exp(x - m) with m = max x (treated as a
// constant: the gradient, softmax(x), does not depend on it). Rows that are all -∞ give -∞
// (and a zero gradient), not NaN.
func LogSumExp(x *graph.Node, axes ...int) *graph.Node {
	if len(axes) == 0 {
		axes = make([]int, x.Rank())
		for i := range axes {
			axes[i] = i
		}
	}
	m := graph.StopGradient(graph.ReduceAndKeep(x, graph.ReduceMax, axes...))
	// An all -∞ row has m = -∞ and x - m = NaN: shift it by 0 instead.
	m = graph.Where(graph.IsFinite(m), m, graph.ZerosLike(m))
	sum := graph.ReduceSum(graph.Exp(graph.Sub(x, m)), axes...)
	// Σ = 0 (all -∞): the result is -∞, reached without Log(0) so the gradient is 0, not NaN.
	positive := graph.GreaterThan(sum, graph.ZerosLike(sum))
	safe := graph.Where(positive, sum, graph.OnesLike(sum))
	out := graph.Add(graph.Log(safe), graph.Reshape(m, sum.Shape().Dimensions...))
	return graph.Where(positive, out, graph.Infinity(x.Graph(), x.DType(), -1))
}

// CumSum returns the inclusive cumulative sum of x along axis: y[..., j, ...] = Σ_{i≤j} x[..., i, ...].
// Same shape as x.
//
// It is a matrix product with a constant triangular matrix U (U[i, j] = 1 for i ≤ j), so its
// gradient is the reversed cumulative sum by the same product — graph.CumSum's gradient
// crashes the go backend in GoMLX v0.28.4. It costs O(n²) per row for an axis of length n:
// meant for n up to a few thousand (e.g. log ᾱ_t = CumSum(log α_t) over T = 1000 steps).
func CumSum(x *graph.Node, axis int) *graph.Node {
	axis = graph.MustAdjustAxis(axis, x)
	n := x.Shape().Dimensions[axis]
	upper := make([]float64, n*n)
	for i := range n {
		for j := i; j < n; j++ {
			upper[i*n+j] = 1
		}
	}
	u := graph.ConvertDType(graph.Const(x.Graph(), tensors.FromFlatDataAndDimensions(upper, n, n)), x.DType())
	// Contract x's axis with U's rows: the result has U's column axis last.
	y := graph.DotGeneral(x, []int{axis}, nil, u, []int{0}, nil)
	if axis == x.Rank()-1 {
		return y
	}
	// Move the last axis back to position axis.
	perm := make([]int, 0, x.Rank())
	for i := range x.Rank() - 1 {
		if i == axis {
			perm = append(perm, x.Rank()-1)
		}
		perm = append(perm, i)
	}
	return graph.TransposeAllAxes(y, perm...)
}

// SinusoidalEmbedding embeds time steps t as in the Transformer's positional encoding
// (Vaswani et al. 2017, §3.5) used by DDPM (Ho et al. 2020, Appendix B) for the diffusion step:
//
//	emb(t) = [sin(t·f_0), …, sin(t·f_{h-1}), cos(t·f_0), …, cos(t·f_{h-1})],   f_i = 10000^(-i/(h-1)),  h = dim/2
//
// (for dim = 128: 64 frequencies 10000^(-i/63), sines then cosines, as BENCH.md's U-Net).
// Shapes: t [B] → [B, dim]; dim must be even and ≥ 4. The result has t's dtype when t is
// float32 or float64, float32 otherwise (integer time steps).
func SinusoidalEmbedding(t *graph.Node, dim int) *graph.Node {
	if dim < 4 || dim%2 != 0 {
		Panicf("SinusoidalEmbedding: dim must be even and >= 4, got %d", dim)
	}
	if t.Rank() != 1 {
		Panicf("SinusoidalEmbedding: t must be a vector [batch], got %s", t.Shape())
	}
	dtype := t.DType()
	if dtype != dtypes.Float32 && dtype != dtypes.Float64 {
		dtype = dtypes.Float32
	}
	half := dim / 2
	freqs := make([]float64, half)
	for i := range freqs {
		freqs[i] = math.Pow(10000, -float64(i)/float64(half-1))
	}
	g := t.Graph()
	f := graph.ConvertDType(graph.Const(g, freqs), dtype)
	args := graph.Mul(graph.Reshape(graph.ConvertDType(t, dtype), -1, 1), graph.Reshape(f, 1, half)) // [B, half]
	return graph.Concatenate([]*graph.Node{graph.Sin(args), graph.Cos(args)}, 1)
}
