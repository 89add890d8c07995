package nn

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/iagen-course/iagen/lib/nn/nntest"
)

func TestClipByGlobalNorm(t *testing.T) {
	// Two gradients of global norm 13: (3, 4) and (12).
	a, b := tensors.FromValue([]float64{3, 4}), tensors.FromValue([]float64{12})
	for _, tc := range []struct {
		maxNorm, factor float64
	}{
		{1, 1 / (13 + 1e-6)}, // Clipped: scaled to norm ≈ 1, same direction.
		{13, 13 / (13 + 1e-6)},
		{20, 1}, // Under the threshold: unchanged.
	} {
		exec, err := graph.NewExec(goBackend(t), func(a, b *graph.Node) []*graph.Node {
			clipped, norm := ClipByGlobalNorm([]*graph.Node{a, nil, b}, tc.maxNorm)
			if clipped[1] != nil {
				t.Errorf("a nil gradient came back as %s", clipped[1].Shape())
			}
			return []*graph.Node{clipped[0], clipped[2], norm}
		})
		if err != nil {
			t.Fatal(err)
		}
		out := exec.MustExec(a, b)
		got := append(nntest.Float64s(out[0]), nntest.Float64s(out[1])...)
		for i, v := range []float64{3, 4, 12} {
			if !(math.Abs(got[i]-v*tc.factor) <= 1e-12) {
				t.Errorf("maxNorm %g: clipped[%d] = %.15g, want %.15g", tc.maxNorm, i, got[i], v*tc.factor)
			}
		}
		if norm := nntest.Float64s(out[2])[0]; !(math.Abs(norm-13) <= 1e-12) {
			t.Errorf("maxNorm %g: norm %g, want 13 (before clipping)", tc.maxNorm, norm)
		}
	}
}
