package nn

import (
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// SpectralNorm returns w/σ(w), where σ(w) is the largest singular value of w seen as a matrix
// [fan-in, out] (all axes but the last one flattened): every layer it feeds becomes
// 1-Lipschitz, which keeps a GAN's discriminator from growing arbitrarily sharp (Miyato et al.
// 2018, "Spectral Normalization for Generative Adversarial Networks", §2.1 and Alg. 1).
//
// σ is estimated by power iteration with a persistent vector u [out]: each training call does
// one step, v = Wu/‖Wu‖, u ← Wᵀv/‖Wᵀv‖, and stores u (non-trainable variable "u" in sub-scope
// "spectral_norm", drawn from N(0, I) at creation); then σ = vᵀWu. The gradient flows through W
// only, u and v taken as constants (the paper's choice). In inference (scope.IsTraining false)
// u is read, not updated.
func SpectralNorm(scope *model.Scope, w *graph.Node) *graph.Node {
	g := w.Graph()
	out := w.Shape().Dimensions[w.Rank()-1]
	mat := graph.Reshape(w, -1, out) // [in, out]
	uVar := scope.In("spectral_norm").WithInitializer(NormalInitializer(scope, 1)).
		VariableWithShape("u", shapes.Make(w.DType(), out)).SetTrainable(false)
	u := uVar.NodeValue(g)
	normalize := func(x *graph.Node) *graph.Node {
		return graph.Div(x, graph.AddScalar(graph.Sqrt(graph.ReduceAllSum(graph.Square(x))), 1e-12))
	}
	matT := graph.StopGradient(mat)
	v := normalize(graph.Reshape(MatMul2D(matT, graph.Reshape(u, out, 1)), -1)) // [in]
	if scope.IsTraining(g) {
		u = normalize(graph.Reshape(MatMul2D(graph.Reshape(v, 1, -1), matT), -1)) // [out]
		uVar.SetNodeValue(u)
	}
	u, v = graph.StopGradient(u), graph.StopGradient(v)
	sigma := graph.ReduceAllSum(graph.Mul(graph.Reshape(MatMul2D(graph.Reshape(v, 1, -1), mat), -1), u))
	return graph.Div(w, sigma)
}
