package nn

import (
	"github.com/gomlx/gomlx/core/graph"
	. "github.com/gomlx/gomlx/support/exceptions" //nolint:staticcheck
)

// ClipByGlobalNorm rescales gradients so that their global L2 norm — the norm of all of them
// taken as one vector, ‖g‖ = √(Σ_i Σ g_i²) — is at most maxNorm (Pascanu, Mikolov & Bengio
// 2013, "On the difficulty of training recurrent neural networks", §3.2, Algorithm 1):
//
//	g_i ← g_i · min(1, maxNorm / (‖g‖ + 1e-6))
//
// with the same rule and 1e-6 as PyTorch's torch.nn.utils.clip_grad_norm_ (BENCH.md's lstm
// clips at maxNorm = 1). All gradients share one factor, so the update keeps its direction;
// GoMLX's optimizers (v0.28.4) only clip each step element-wise ("clip_step_by_value").
//
// It returns the clipped gradients (nil entries stay nil) and ‖g‖ before clipping, a scalar.
// Typical use, with an optimizer that takes gradients (GoMLX's Adam and SGD do, through
// train.OptimizeWithGradients):
//
//	grads := scope.BuildTrainableVariablesGradientsGraph(loss)
//	grads, _ = nn.ClipByGlobalNorm(grads, 1)
//	opt.(train.OptimizeWithGradients).UpdateGraphWithGradients(scope, grads, loss.DType())
func ClipByGlobalNorm(grads []*graph.Node, maxNorm float64) (clipped []*graph.Node, norm *graph.Node) {
	if !(maxNorm > 0) {
		Panicf("ClipByGlobalNorm: maxNorm must be > 0, got %g", maxNorm)
	}
	var sumSquares *graph.Node
	for _, g := range grads {
		if g == nil {
			continue
		}
		s := graph.ReduceAllSum(graph.Square(g))
		if sumSquares == nil {
			sumSquares = s
		} else {
			if s.DType() != sumSquares.DType() {
				Panicf("ClipByGlobalNorm: gradients of mixed dtypes (%s, %s)", sumSquares.DType(), s.DType())
			}
			sumSquares = graph.Add(sumSquares, s)
		}
	}
	if sumSquares == nil {
		Panicf("ClipByGlobalNorm: no gradients")
	}
	norm = graph.Sqrt(sumSquares)
	factor := graph.Min(graph.OnesLike(norm), graph.Div(graph.Scalar(norm.Graph(), norm.DType(), maxNorm), graph.AddScalar(norm, 1e-6)))
	clipped = make([]*graph.Node, len(grads))
	for i, g := range grads {
		if g != nil {
			clipped[i] = graph.Mul(g, factor)
		}
	}
	return clipped, norm
}
