package nn

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/nn/nntest"
)

// topSingularValue is σ_max of the [rows, cols] matrix a, by 500 power iterations on aᵀa in
// float64: the independent computation SpectralNorm is checked against.
func topSingularValue(a []float64, rows, cols int) float64 {
	v := make([]float64, cols)
	for i := range v {
		v[i] = 1 / math.Sqrt(float64(cols)+float64(i))
	}
	var sigma float64
	for range 500 {
		av := make([]float64, rows)
		for r := range rows {
			for c := range cols {
				av[r] += a[r*cols+c] * v[c]
			}
		}
		next := make([]float64, cols)
		for c := range cols {
			for r := range rows {
				next[c] += a[r*cols+c] * av[r]
			}
		}
		var n float64
		for _, x := range next {
			n += x * x
		}
		n = math.Sqrt(n)
		for c := range next {
			v[c] = next[c] / n
		}
		sigma = math.Sqrt(n)
	}
	return sigma
}

// After enough training calls (one power-iteration step each), SpectralNorm divides the kernel
// by its largest singular value: the result's is 1.
func TestSpectralNormConverges(t *testing.T) {
	w := nntest.RandF32(3, 2, 3, 4) // a [2, 3, 4] kernel: the matrix is [6, 4]
	store := nntest.SeededStore(t)
	exec := newModelExec(t, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		scope.Store().SetTraining(x.Graph(), true)
		return SpectralNorm(scope, x)
	})
	var out *tensors.Tensor
	for range 30 {
		res, err := exec.Exec(w)
		if err != nil {
			t.Fatal(err)
		}
		out = res[0]
	}
	in := tensors.MustCopyFlatData[float32](w)
	got := tensors.MustCopyFlatData[float32](out)
	a, b := make([]float64, len(in)), make([]float64, len(got))
	for i := range in {
		a[i], b[i] = float64(in[i]), float64(got[i])
	}
	sigma := topSingularValue(a, 6, 4)
	if s := topSingularValue(b, 6, 4); !(math.Abs(s-1) <= 1e-4) {
		t.Errorf("σ_max of the normalised kernel = %.6f, want 1 (σ_max of the kernel %.4f)", s, sigma)
	}
	for i := range a {
		if !(math.Abs(b[i]-a[i]/sigma) <= 1e-4) {
			t.Fatalf("element %d: %g, want %g/%g", i, b[i], a[i], sigma)
		}
	}
}
