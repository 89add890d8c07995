package nn

import (
	"math"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// minUniform keeps log u₁ finite in BoxMuller: 2⁻³² is the resolution of GoMLX's float32
// RandomUniform (32 random bits / 2³²), and a normal float32 (it survives flush-to-zero).
const minUniform = 1.0 / (1 << 32)

// BoxMuller turns two independent U[0, 1) arrays into N(0, 1) values of the same shape by the
// Box–Muller transform (Box & Muller 1958): ε = √(−2 log u₁) · cos(2π u₂).
//
// It replaces graph.RandomNormal, which guards u₁ = 0 with max(u₁, the smallest denormal float32):
// XLA on CPU flushes denormals to zero, so log 0 = −∞ gets through and about one value in 5·10⁸
// comes out ±Inf or NaN — enough to break an IWAE evaluation (5·10⁸ normals for K = 1000 and 50
// latents) or, once in a few runs, training. Here u₁ ≥ 2⁻³², so |ε| ≤ 6.7.
func BoxMuller(u1, u2 *graph.Node) *graph.Node {
	r := graph.Sqrt(graph.MulScalar(graph.Log(graph.MaxScalar(u1, minUniform)), -2))
	return graph.Mul(r, graph.Cos(graph.MulScalar(u2, 2*math.Pi)))
}

// StandardNormal draws N(0, 1) values of shape from the store's random-number state (so they
// are checkpointed and a resumed run draws the same ones): every family's noise comes from here.
func StandardNormal(scope *model.Scope, g *graph.Graph, shape shapes.Shape) *graph.Node {
	u1 := scope.RandomUniform(g, shape)
	return BoxMuller(u1, scope.RandomUniform(g, shape))
}

// NormalInitializer initialises float variables from N(0, stddev²) drawn by StandardNormal
// (initializer.RandomNormalFn draws with graph.RandomNormal); other dtypes get zeros.
func NormalInitializer(scope *model.Scope, stddev float64) initializer.VariableInitializer {
	return func(g *graph.Graph, shape shapes.Shape) *graph.Node {
		if !shape.DType.IsFloat() {
			return graph.Zeros(g, shape)
		}
		return graph.MulScalar(StandardNormal(scope, g, shape), stddev)
	}
}
