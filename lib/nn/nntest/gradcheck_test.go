package nntest

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"

	"github.com/iagen-course/iagen/lib/backend"
)

func TestCompareGradients(t *testing.T) {
	be, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	x := Rand(1, 3, 4)
	right := func(xs []*graph.Node) *graph.Node { return graph.Mul(graph.Sin(xs[0]), xs[0]) }
	wrong := func(xs []*graph.Node) *graph.Node {
		// Right value, gradient doubled.
		doubled := graph.IdentityWithCustomGradient(xs[0], func(_, v *graph.Node) *graph.Node { return graph.MulScalar(v, 2) })
		return right([]*graph.Node{doubled})
	}
	reports, err := CompareGradients(be, right, Options{}, x)
	if err != nil {
		t.Fatal(err)
	}
	if r := reports[0]; r.Checked != 12 || !(r.MaxRelErr <= 1e-8) {
		t.Errorf("correct gradient: %s", r)
	}
	reports, err = CompareGradients(be, wrong, Options{MaxCoords: 5}, x)
	if err != nil {
		t.Fatal(err)
	}
	if r := reports[0]; r.Checked != 5 || r.MaxRelErr < 0.1 {
		t.Errorf("doubled gradient not detected: %s", r)
	}
	// A missing gradient is an error, not a panic.
	if _, err := CompareGradients(be, func(xs []*graph.Node) *graph.Node { return graph.Reverse(xs[0], 0) }, Options{}, x); err == nil {
		t.Errorf("expected an error for an op without gradient")
	}
}

// A NaN in the analytic gradient is the worst error, wherever it is: at the first coordinate
// checked, in the middle, or at the last — and it stays the worst once found (NaN > x is false,
// so a plain "larger than the maximum so far" comparison drops it after the first coordinate).
func TestCompareGradientsReportsNaN(t *testing.T) {
	be, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	x := Rand(1, 3, 4)
	for _, at := range []int{0, 5, 11} {
		nanAt := func(xs []*graph.Node) *graph.Node {
			// The value is sin(x)·x; its gradient is right except at flat index at, where it is NaN.
			y := graph.IdentityWithCustomGradient(xs[0], func(_, v *graph.Node) *graph.Node {
				g := v.Graph()
				flat := graph.Reshape(v, -1)
				mask := graph.Equal(graph.Iota(g, flat.Shape(), 0), graph.Scalar(g, flat.DType(), float64(at)))
				return graph.Reshape(graph.Where(mask, graph.Scalar(g, flat.DType(), math.NaN()), flat), v.Shape().Dimensions...)
			})
			return graph.Mul(graph.Sin(y), y)
		}
		reports, err := CompareGradients(be, nanAt, Options{}, x)
		if err != nil {
			t.Fatal(err)
		}
		if r := reports[0]; r.Checked != 12 || !math.IsNaN(r.MaxRelErr) || r.Worst != at || !math.IsNaN(r.Analytic) {
			t.Errorf("NaN gradient at coordinate %d: %s; want MaxRelErr NaN, worst at %d", at, r, at)
		}
	}
}
