package nn

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/iagen-course/iagen/lib/nn/nntest"
)

// Sanity checks of the bench models of bench_models_test.go, at tiny sizes (each well under
// 10 s on the go backend).

// A tiny lstmLM (2 layers): the loss is finite, every trainable variable gets a nonzero
// gradient, and the clipped Adam step of the benchmark runs.
func TestLSTMLanguageModelGradients(t *testing.T) {
	const vocab, batch, seq = 7, 2, 3
	store := nntest.SeededStore(t)
	exec := model.MustNewExec(goBackend(t), store, func(scope *model.Scope, tokens, targets *graph.Node) []*graph.Node {
		g := tokens.Graph()
		loss := lstmLoss(lstmLM(scope, tokens, vocab, 4, 3, 2), targets)
		grads := updateClipped(optimizer.Adam().LearningRate(2e-3).Done(), scope, loss, 1)
		outs := []*graph.Node{loss}
		for _, grad := range grads {
			outs = append(outs, graph.ReduceAllSum(graph.Abs(grad)))
		}
		if n := len(trainableVarsInUse(scope, g)); n != len(grads) {
			t.Errorf("%d gradients for %d trainable variables", len(grads), n)
		}
		return outs
	})
	out := exec.MustExec(randTokens(1, vocab, batch, seq), randTokens(2, vocab, batch, seq))
	// embedding, 2 × (input_weights, recurrent_weights, biases), head weights and biases.
	if len(out)-1 != 9 {
		t.Errorf("%d trainable variables, want 9", len(out)-1)
	}
	if loss := nntest.Float64s(out[0])[0]; math.IsNaN(loss) || math.IsInf(loss, 0) {
		t.Errorf("loss %g", loss)
	}
	for i, o := range out[1:] {
		if s := nntest.Float64s(o)[0]; !(s > 0) || math.IsInf(s, 0) {
			t.Errorf("trainable variable #%d: Σ|gradient| = %g", i, s)
		}
	}
}

// realNVPFixture compiles the forward and inverse of an 8-layer RealNVP on one store, in float64.
func realNVPFixture(t *testing.T) (fwd, inv *model.Exec) {
	store := nntest.SeededStore(t)
	fwd = model.MustNewExec(goBackend(t), store, func(scope *model.Scope, v *graph.Node) (*graph.Node, *graph.Node) {
		return realNVP(scope, v, 8)
	})
	inv = newModelExec(t, store, func(scope *model.Scope, z *graph.Node) *graph.Node {
		return realNVPInverse(scope, z, 8)
	})
	return fwd, inv
}

// dequantized returns float64 pixels x + u, integers x in [0, 256) plus u in [0, 1).
func dequantized(seed uint64, dims ...int) *tensors.Tensor {
	x := nntest.Float64s(randPixels(seed, dims...))
	u := nntest.Float64s(randUniform(seed+1, 0, 1, dims...))
	for i := range x {
		x[i] += u[i]
	}
	return tensors.FromFlatDataAndDimensions(x, dims...)
}

// RealNVP's shapes, and its inverse: realNVPInverse(realNVP(v)) = v (4×4 images, batch 3,
// float64, after the ActNorms' data-dependent initialisation).
func TestRealNVPInverse(t *testing.T) {
	fwd, inv := realNVPFixture(t)
	v := dequantized(1, 3, 4, 4, 1)
	fwd.MustExec(v) // Initialises the ActNorms.
	out := fwd.MustExec(v)
	z, logDet := out[0], out[1]
	if !z.Shape().Equal(v.Shape()) || logDet.Shape().Rank() != 1 || logDet.Shape().Dimensions[0] != 3 {
		t.Fatalf("z %s, logDet %s; want %s and [3]", z.Shape(), logDet.Shape(), v.Shape())
	}
	if d := nntest.MaxAbsDiff(inv.MustExec(z)[0], v); !(d < 1e-4) {
		t.Errorf("max |inverse(forward(v)) - v| = %g", d)
	}
}

// RealNVP's log-det (preprocessing, ActNorms and couplings) equals log|det ∂z/∂v| of the
// Jacobian computed by central finite differences, on one 4×4 image (a 16×16 Jacobian).
func TestRealNVPLogDetMatchesJacobian(t *testing.T) {
	const n, h = 16, 1e-4
	fwd, _ := realNVPFixture(t)
	fwd.MustExec(dequantized(1, 3, 4, 4, 1)) // Initialise the ActNorms on a batch.
	v := nntest.Float64s(dequantized(3, 1, 4, 4, 1))
	// One batch: v, then v ± h·e_j for every pixel j.
	batch := make([]float64, 0, (2*n+1)*n)
	batch = append(batch, v...)
	for j := range n {
		for _, sign := range []float64{1, -1} {
			p := append([]float64(nil), v...)
			p[j] += sign * h
			batch = append(batch, p...)
		}
	}
	out := fwd.MustExec(tensors.FromFlatDataAndDimensions(batch, 2*n+1, 4, 4, 1))
	z, logDet := nntest.Float64s(out[0]), nntest.Float64s(out[1])
	jac := make([][]float64, n) // jac[i][j] = ∂z_i/∂v_j
	for i := range jac {
		jac[i] = make([]float64, n)
		for j := range n {
			plus, minus := z[(1+2*j)*n+i], z[(2+2*j)*n+i]
			jac[i][j] = (plus - minus) / (2 * h)
		}
	}
	want := logAbsDet(jac)
	if d := math.Abs(logDet[0] - want); !(d < 1e-5) {
		t.Errorf("log-det %.10g, finite-difference Jacobian gives %.10g (difference %g)", logDet[0], want, d)
	}
}

// logAbsDet returns log|det a| by Gaussian elimination with partial pivoting (a is modified).
func logAbsDet(a [][]float64) float64 {
	n := len(a)
	sum := 0.0
	for k := range n {
		p := k
		for i := k + 1; i < n; i++ {
			if math.Abs(a[i][k]) > math.Abs(a[p][k]) {
				p = i
			}
		}
		a[k], a[p] = a[p], a[k]
		if a[k][k] == 0 {
			return math.Inf(-1)
		}
		sum += math.Log(math.Abs(a[k][k]))
		for i := k + 1; i < n; i++ {
			f := a[i][k] / a[k][k]
			for j := k; j < n; j++ {
				a[i][j] -= f * a[k][j]
			}
		}
	}
	return sum
}
