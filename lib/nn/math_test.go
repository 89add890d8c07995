package nn

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/iagen-course/iagen/lib/nn/nntest"
)

func TestLogSumExp(t *testing.T) {
	inf := math.Inf(1)
	x := tensors.FromValue([][]float64{{1, 2, 3}, {1000, 1000, 999}, {-inf, -inf, -inf}, {-inf, 0, -inf}})
	got := nntest.Float64s(run1(t, func(xs []*graph.Node) *graph.Node { return LogSumExp(xs[0], 1) }, x))
	want := []float64{
		math.Log(math.Exp(1) + math.Exp(2) + math.Exp(3)),
		1000 + math.Log(2+math.Exp(-1)),
		-inf,
		0,
	}
	for i := range want {
		if !(got[i] == want[i] || math.Abs(got[i]-want[i]) < 1e-12) {
			t.Errorf("row %d: LogSumExp = %g, want %g", i, got[i], want[i])
		}
	}
	// All axes, and the gradient (softmax).
	all := nntest.Float64s(run1(t, func(xs []*graph.Node) *graph.Node { return LogSumExp(xs[0]) }, nntest.Rand(1, 2, 3)))
	if len(all) != 1 {
		t.Errorf("LogSumExp over all axes gives %d values, want a scalar", len(all))
	}
	nntest.GradCheck(t, goBackend(t), func(xs []*graph.Node) *graph.Node { return LogSumExp(xs[0], 0, 2) }, 1e-8, nntest.Rand(2, 3, 4, 5))
	// The all -∞ row: zero gradient, not NaN.
	g := nntest.Float64s(run1(t, func(xs []*graph.Node) *graph.Node {
		return graph.Gradient(graph.ReduceAllSum(LogSumExp(xs[0], 1)), xs[0])[0]
	}, tensors.FromValue([][]float64{{-inf, -inf}, {0, 0}})))
	if g[0] != 0 || g[1] != 0 || g[2] != 0.5 || g[3] != 0.5 {
		t.Errorf("gradient %v, want [0 0 0.5 0.5]", g)
	}
}

func TestCumSum(t *testing.T) {
	x := nntest.Rand(1, 3, 4, 5)
	for axis := range 3 {
		got := run1(t, func(xs []*graph.Node) *graph.Node { return CumSum(xs[0], axis) }, x)
		want := run1(t, func(xs []*graph.Node) *graph.Node { return graph.CumSum(xs[0], axis) }, x)
		if d := nntest.MaxAbsDiff(got, want); !(d <= 1e-12) {
			t.Errorf("axis %d: max |CumSum - graph.CumSum| = %g", axis, d)
		}
		nntest.GradCheck(t, goBackend(t), func(xs []*graph.Node) *graph.Node { return CumSum(xs[0], axis) }, 1e-8, x)
	}
	if got := nntest.Float64s(run1(t, func(xs []*graph.Node) *graph.Node { return CumSum(xs[0], -1) },
		tensors.FromValue([]float64{1, 2, 3, 4}))); got[3] != 10 || got[1] != 3 {
		t.Errorf("CumSum([1 2 3 4]) = %v, want [1 3 6 10]", got)
	}
}

func TestSinusoidalEmbedding(t *testing.T) {
	ts := tensors.FromValue([]int32{0, 1, 999})
	emb := run1(t, func(xs []*graph.Node) *graph.Node {
		return SinusoidalEmbedding(graph.ConvertDType(xs[0], dtypes.Float64), 128)
	}, ts)
	if d := emb.Shape().Dimensions; d[0] != 3 || d[1] != 128 {
		t.Fatalf("shape %v, want [3 128]", d)
	}
	e := nntest.Float64s(emb)
	for row, tv := range []float64{0, 1, 999} {
		for i := range 64 {
			f := math.Pow(10000, -float64(i)/63)
			if s, c := e[row*128+i], e[row*128+64+i]; !(math.Abs(s-math.Sin(tv*f)) <= 1e-9) || !(math.Abs(c-math.Cos(tv*f)) <= 1e-9) {
				t.Fatalf("t=%g, i=%d: [sin, cos] = [%g, %g], want [%g, %g]", tv, i, s, c, math.Sin(tv*f), math.Cos(tv*f))
			}
		}
	}
	if got := run1(t, func(xs []*graph.Node) *graph.Node { return SinusoidalEmbedding(xs[0], 8) }, ts); got.DType() != dtypes.Float32 {
		t.Errorf("dtype %s for int32 time steps, want float32", got.DType())
	}
}

func TestMatMul2DGradient(t *testing.T) {
	// Both branches of the gradient of b: dy narrower than a, and wider.
	for _, dims := range [][3]int{{7, 5, 3}, {7, 3, 5}} {
		nntest.GradCheck(t, goBackend(t), func(xs []*graph.Node) *graph.Node { return MatMul2D(xs[0], xs[1]) }, 1e-8,
			nntest.Rand(1, dims[0], dims[1]), nntest.Rand(2, dims[1], dims[2]))
	}
}
