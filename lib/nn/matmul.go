package nn

import (
	"github.com/gomlx/gomlx/core/graph"
	. "github.com/gomlx/gomlx/support/exceptions" //nolint:staticcheck
)

// MatMul2D is the matrix product a·b of a [N, K] and b [K, M], giving [N, M], like graph.MatMul,
// but with a gradient arranged for the pure-Go backend.
//
// The go backend multiplies only operands laid out as [N, K]·[K, M] or [N, K]·[M, K]; anything
// else is first transposed, element by element. GoMLX's generic gradient of b, Σ_n a[n, :]ᵀ
// dy[n, :], contracts the first axis of both operands, so the backend transposes both a and
// dy — for an im2col matrix a that is the largest tensor of a convolution. Here the gradient
// of b transposes only the smaller of a and dy and feeds the other in a native layout;
// the gradient of a, dy·bᵀ, is already native. Same values; 2–4× less time for a
// convolution's backward pass.
//
// It is built with graph.IdentityWithCustomGradient: the output's adjoint dy is captured on
// the way back and used by b's custom gradient (reverse-mode visits the output before b). The
// generic gradient of b is left unused in the graph, and the backends drop it (dead code).
func MatMul2D(a, b *graph.Node) *graph.Node {
	if a.Rank() != 2 || b.Rank() != 2 || a.Shape().Dimensions[1] != b.Shape().Dimensions[0] {
		Panicf("MatMul2D: a [N, K] and b [K, M] expected, got %s and %s", a.Shape(), b.Shape())
	}
	var dy *graph.Node // Adjoint of the output, set during back-propagation.
	bWithGrad := graph.IdentityWithCustomGradient(b, func(_, _ *graph.Node) *graph.Node {
		if dy == nil {
			Panicf("MatMul2D: gradient of b requested before the gradient of the product (internal error)")
		}
		return matMulGradRHS(a, dy)
	})
	y := graph.Dot(a, bWithGrad).Product()
	return graph.IdentityWithCustomGradient(y, func(_, v *graph.Node) *graph.Node {
		dy = v
		return v
	})
}

// matMulGradRHS returns aᵀ·dy for a [N, K], dy [N, M]: [K, M], transposing the smaller operand.
func matMulGradRHS(a, dy *graph.Node) *graph.Node {
	n, k, m := a.Shape().Dimensions[0], a.Shape().Dimensions[1], dy.Shape().Dimensions[1]
	if n*m <= n*k {
		// dyᵀ [M, N] · a [N, K] → [M, K] (native layout), then a small transpose.
		return graph.Transpose(graph.DotGeneral(graph.Transpose(dy, 0, 1), []int{1}, nil, a, []int{0}, nil), 0, 1)
	}
	// aᵀ [K, N] · dy [N, M] → [K, M] (native layout).
	return graph.DotGeneral(graph.Transpose(a, 0, 1), []int{1}, nil, dy, []int{0}, nil)
}
