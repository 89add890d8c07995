package nn

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"gonum.org/v1/gonum/mat"

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

// InvConv1x1 starts as the identity; with random variables it multiplies every pixel by
// W = L·(U + diag(exp(d))) built here from the variables' values, its log-determinant is
// pixels·log|det W| (gonum's LU, not the formula), and InvConv1x1Inverse undoes it (float64).
func TestInvConv1x1(t *testing.T) {
	const b, h, w, c = 2, 3, 2, 5 // five channels: unitTriangularInverse needs N, N², N⁴
	store := nntest.SeededStore(t)
	fwd := model.MustNewExec(goBackend(t), store, func(scope *model.Scope, x *graph.Node) (*graph.Node, *graph.Node) {
		return InvConv1x1(scope, x)
	})
	inv := newModelExec(t, store, func(scope *model.Scope, y *graph.Node) *graph.Node {
		return InvConv1x1Inverse(scope, y)
	})
	r := rand.New(rand.NewPCG(5, 5))
	x := make([]float64, b*h*w*c)
	for i := range x {
		x[i] = r.NormFloat64()
	}
	xt := tensors.FromFlatDataAndDimensions(x, b, h, w, c)
	out := fwd.MustExec(xt)
	if y := nntest.Float64s(out[0]); !slices.Equal(y, x) || nntest.Float64s(out[1])[0] != 0 {
		t.Fatalf("untrained: y differs from x or log-det %g ≠ 0", nntest.Float64s(out[1])[0])
	}

	vals := map[string][]float64{}
	for v := range store.IterVariables() {
		if strings.Contains(v.Path(), "/inv_conv/") {
			vals[v.Name()] = make([]float64, v.Shape().Size())
			for i := range vals[v.Name()] {
				vals[v.Name()][i] = 0.5 * r.NormFloat64()
			}
			v.MustSetValue(tensors.FromFlatDataAndDimensions(vals[v.Name()], v.Shape().Dimensions...))
		}
	}
	lower, upper, logDiag := mat.NewDense(c, c, nil), mat.NewDense(c, c, nil), vals["log_diag"]
	for i := range c {
		for j := range c {
			switch {
			case i > j:
				lower.Set(i, j, vals["lower"][i*c+j])
			case i < j:
				upper.Set(i, j, vals["upper"][i*c+j])
			default:
				lower.Set(i, i, 1)
				upper.Set(i, i, math.Exp(logDiag[i]))
			}
		}
	}
	var wm mat.Dense
	wm.Mul(lower, upper)

	out = fwd.MustExec(xt)
	y := nntest.Float64s(out[0])
	for p := range b * h * w {
		for i := range c {
			want := 0.0
			for j := range c {
				want += wm.At(i, j) * x[p*c+j]
			}
			if d := math.Abs(y[p*c+i] - want); !(d < 1e-12) {
				t.Fatalf("pixel %d, channel %d: %g, W·x gives %g", p, i, y[p*c+i], want)
			}
		}
	}
	logDet, sign := mat.LogDet(&wm)
	if got, want := nntest.Float64s(out[1])[0], float64(h*w)*logDet; sign <= 0 || !(math.Abs(got-want) < 1e-10) {
		t.Errorf("log-det %.12g, want pixels·log|det W| = %.12g (det's sign %g)", got, want, sign)
	}
	back := nntest.Float64s(inv.MustExec(out[0])[0])
	for i := range x {
		if d := math.Abs(back[i] - x[i]); !(d < 1e-10) {
			t.Fatalf("element %d: inverse(forward(x)) = %.15g, x = %.15g", i, back[i], x[i])
		}
	}
}
