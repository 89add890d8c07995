package nn

import (
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"

	"github.com/iagen-course/iagen/lib/nn/nntest"
)

func TestCheckerboardMask(t *testing.T) {
	for _, tc := range []struct {
		inverted bool
		want     []float64 // 3×4, row-major
	}{
		{false, []float64{1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 0}},
		{true, []float64{0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 0, 1}},
	} {
		exec, err := graph.NewExec(goBackend(t), func(g *graph.Graph) *graph.Node {
			return CheckerboardMask(g, dtypes.Float32, 3, 4, tc.inverted)
		})
		if err != nil {
			t.Fatal(err)
		}
		out := exec.MustExec()[0]
		if dims := out.Shape().Dimensions; len(dims) != 4 || dims[0] != 1 || dims[1] != 3 || dims[2] != 4 || dims[3] != 1 {
			t.Fatalf("shape %s, want [1, 3, 4, 1]", out.Shape())
		}
		got := nntest.Float64s(out)
		for i := range tc.want {
			if got[i] != tc.want[i] {
				t.Fatalf("inverted=%v: mask %v, want %v", tc.inverted, got, tc.want)
			}
		}
	}
}
