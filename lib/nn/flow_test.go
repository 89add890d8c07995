package nn

import (
	"slices"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

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

func TestChannelMask(t *testing.T) {
	for inverted, want := range map[bool][]float64{false: {1, 1, 0, 0}, true: {0, 0, 1, 1}} {
		out := graph.MustExecOnce(goBackend(t), func(g *graph.Graph) *graph.Node {
			return ChannelMask(g, dtypes.Float32, 4, inverted)
		})
		if got := nntest.Float64s(out); out.Shape().Rank() != 4 || !slices.Equal(got, want) {
			t.Errorf("inverted=%v: mask %v shaped %s, want %v shaped [1, 1, 1, 4]", inverted, got, out.Shape(), want)
		}
	}
}

// Squeeze puts each 2×2 block's pixels, row by row, in its channels; Unsqueeze undoes it.
func TestSqueeze(t *testing.T) {
	b := goBackend(t)
	x := make([]float64, 16) // one 4×4 image: x[i, j] = 4i + j
	for i := range x {
		x[i] = float64(i)
	}
	out := graph.MustExecOnce(b, Squeeze, tensors.FromFlatDataAndDimensions(x, 1, 4, 4, 1))
	want := []float64{0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15} // blocks (0,0), (0,1), (1,0), (1,1)
	if got := nntest.Float64s(out); !slices.Equal(got, want) || !slices.Equal(out.Shape().Dimensions, []int{1, 2, 2, 4}) {
		t.Errorf("Squeeze = %v shaped %s, want %v shaped [1, 2, 2, 4]", got, out.Shape(), want)
	}
	y := make([]float64, 2*4*6*3)
	for i := range y {
		y[i] = float64(i)
	}
	back := graph.MustExecOnce(b, func(x *graph.Node) *graph.Node { return Unsqueeze(Squeeze(x)) }, tensors.FromFlatDataAndDimensions(y, 2, 4, 6, 3))
	if got := nntest.Float64s(back); !slices.Equal(got, y) {
		t.Error("Unsqueeze(Squeeze(x)) ≠ x")
	}
}
