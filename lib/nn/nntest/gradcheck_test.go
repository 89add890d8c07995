package nntest

import (
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
	if r := reports[0]; r.Checked != 12 || r.MaxRelErr > 1e-8 {
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
