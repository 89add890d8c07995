// Package nntest checks graph-building functions against central finite differences, so that a
// layer's gradient on a given backend is known to be right rather than assumed to be.
//
// The usual use is in a test, in float64 (where finite differences are accurate to ~1e-8):
//
//	nntest.GradCheck(t, backend, func(x []*graph.Node) *graph.Node {
//		return nn.Conv2DWithKernel(x[0], x[1], nil, 2, 1)
//	}, 1e-6, nntest.Rand(1, 2, 6, 6, 3), nntest.Rand(2, 4, 4, 3, 2))
//
// The function may return a tensor of any shape: it is reduced to a scalar loss
// L = Σ w ⊙ f(x) with fixed pseudo-random weights w, so every output element is checked.
package nntest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
)

// Fn builds the function under test from its inputs (graph parameters with the shapes of the
// given input tensors).
type Fn func(inputs []*graph.Node) *graph.Node

// Options of CompareGradients. The zero value checks every coordinate of inputs of up to
// 256 elements and 256 sampled coordinates of larger ones, with step 1e-4.
type Options struct {
	// Step is the finite-difference step h in (f(x+h) - f(x-h)) / 2h. Default 1e-4 (float64);
	// use ~1e-2 for float32.
	Step float64
	// MaxCoords is how many coordinates of each input are perturbed; inputs with more
	// elements are sampled (deterministically). Default 256.
	MaxCoords int
	// Seed of the output weights w and of the sampled coordinates. Default 1.
	Seed uint64
}

// InputReport is the comparison for one input.
type InputReport struct {
	// Checked is the number of coordinates compared.
	Checked int
	// MaxAbsErr is max |analytic - numeric| over the checked coordinates.
	MaxAbsErr float64
	// MaxRelErr is max |analytic - numeric| / max(1, |numeric|): an absolute error for small
	// derivatives, a relative one for large.
	MaxRelErr float64
	// Worst is the flat index of the coordinate with the largest MaxRelErr, and Analytic and
	// Numeric its two derivatives.
	Worst             int
	Analytic, Numeric float64
	// Scale is the largest |numeric| derivative seen, to judge the errors against.
	Scale float64
}

func (r InputReport) String() string {
	return fmt.Sprintf("max err %.3g (abs %.3g) over %d coords, worst at %d: analytic %.6g vs numeric %.6g (scale %.3g)",
		r.MaxRelErr, r.MaxAbsErr, r.Checked, r.Worst, r.Analytic, r.Numeric, r.Scale)
}

// CompareGradients computes the gradient of L = Σ w ⊙ fn(inputs) with graph.Gradient on the
// given backend, and compares it with central finite differences of L evaluated on the same
// backend. It returns one report per input.
//
// A panic while building or running either graph (a missing gradient, a backend crash that
// panics in the calling goroutine) is returned as an error. Crashes in backend worker
// goroutines end the process: run those in a subprocess (see RunInSubprocess).
func CompareGradients(backend compute.Backend, fn Fn, opts Options, inputs ...*tensors.Tensor) (reports []InputReport, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	if opts.Step == 0 {
		opts.Step = 1e-4
	}
	if opts.MaxCoords == 0 {
		opts.MaxCoords = 256
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	rng := rand.New(rand.NewPCG(opts.Seed, 7))
	var weights *tensors.Tensor // Set on the first build, when the output shape is known.
	lossOf := func(g *graph.Graph, xs []*graph.Node) *graph.Node {
		y := fn(xs)
		if weights == nil {
			w := make([]float64, y.Shape().Size())
			for i := range w {
				w[i] = rng.Float64()*2 - 1
			}
			weights = tensors.FromFlatDataAndDimensions(w, y.Shape().Dimensions...)
		}
		w := graph.ConvertDType(graph.Const(g, weights), y.DType())
		return graph.ReduceAllSum(graph.Mul(w, y))
	}
	gradExec, err := graph.NewExec(backend, func(xs []*graph.Node) []*graph.Node {
		loss := lossOf(xs[0].Graph(), xs)
		return graph.Gradient(loss, xs...)
	})
	if err != nil {
		return nil, err
	}
	lossExec, err := graph.NewExec(backend, func(xs []*graph.Node) *graph.Node {
		return lossOf(xs[0].Graph(), xs)
	})
	if err != nil {
		return nil, err
	}
	args := make([]any, len(inputs))
	for i, x := range inputs {
		args[i] = x
	}
	grads, err := gradExec.Exec(args...)
	if err != nil {
		return nil, err
	}
	evalLoss := func(args []any) float64 {
		out, err := lossExec.Exec(args...)
		if err != nil {
			panic(err)
		}
		return toFloat64s(out[0])[0]
	}

	reports = make([]InputReport, len(inputs))
	for i, x := range inputs {
		analytic := toFloat64s(grads[i])
		base := toFloat64s(x)
		coords := make([]int, len(base))
		for j := range coords {
			coords[j] = j
		}
		if len(coords) > opts.MaxCoords {
			rng.Shuffle(len(coords), func(a, b int) { coords[a], coords[b] = coords[b], coords[a] })
			coords = coords[:opts.MaxCoords]
		}
		rep := &reports[i]
		perturbed := make([]float64, len(base))
		local := make([]any, len(args))
		copy(local, args)
		for _, j := range coords {
			copy(perturbed, base)
			perturbed[j] = base[j] + opts.Step
			local[i] = fromFloat64s(perturbed, x.Shape())
			plus := evalLoss(local)
			perturbed[j] = base[j] - opts.Step
			local[i] = fromFloat64s(perturbed, x.Shape())
			minus := evalLoss(local)
			numeric := (plus - minus) / (2 * opts.Step)
			abs := math.Abs(analytic[j] - numeric)
			rel := abs / math.Max(1, math.Abs(numeric))
			rep.Checked++
			rep.Scale = math.Max(rep.Scale, math.Abs(numeric))
			rep.MaxAbsErr = math.Max(rep.MaxAbsErr, abs) // math.Max keeps a NaN
			// A NaN (in either derivative) is the worst error there is: it must be recorded
			// wherever it appears, and kept once recorded (NaN > x is false for every x).
			if rep.Checked == 1 || math.IsNaN(rel) || (!math.IsNaN(rep.MaxRelErr) && rel > rep.MaxRelErr) {
				rep.MaxRelErr, rep.Worst, rep.Analytic, rep.Numeric = rel, j, analytic[j], numeric
			}
		}
	}
	return reports, nil
}

// GradCheck fails tb unless every input's gradient matches finite differences within tol
// (MaxRelErr, see InputReport), with the default Options.
func GradCheck(tb testing.TB, backend compute.Backend, fn Fn, tol float64, inputs ...*tensors.Tensor) []InputReport {
	tb.Helper()
	return GradCheckWith(tb, backend, fn, tol, Options{}, inputs...)
}

// GradCheckWith is GradCheck with explicit Options.
func GradCheckWith(tb testing.TB, backend compute.Backend, fn Fn, tol float64, opts Options, inputs ...*tensors.Tensor) []InputReport {
	tb.Helper()
	reports, err := CompareGradients(backend, fn, opts, inputs...)
	if err != nil {
		tb.Fatalf("gradient check failed to run: %v", err)
	}
	for i, r := range reports {
		if !(r.MaxRelErr <= tol) { // Also catches NaN.
			tb.Errorf("input #%d %s: gradient differs from finite differences: %s (tolerance %g)",
				i, inputs[i].Shape(), r, tol)
		}
	}
	return reports
}

// Rand returns a float64 tensor of the given dimensions with values uniform in [-1, 1),
// reproducible from seed.
func Rand(seed uint64, dims ...int) *tensors.Tensor {
	rng := rand.New(rand.NewPCG(seed, 11))
	size := 1
	for _, d := range dims {
		size *= d
	}
	data := make([]float64, size)
	for i := range data {
		data[i] = rng.Float64()*2 - 1
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

// RandF32 is Rand in float32.
func RandF32(seed uint64, dims ...int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(ToFloat32(toFloat64s(Rand(seed, dims...))), dims...)
}

// ToFloat32 converts a float64 slice.
func ToFloat32(x []float64) []float32 {
	out := make([]float32, len(x))
	for i, v := range x {
		out[i] = float32(v)
	}
	return out
}

// Float64s returns the values of a float32 or float64 tensor as float64, in row-major order.
func Float64s(t *tensors.Tensor) []float64 { return toFloat64s(t) }

// MaxAbsDiff returns max |a-b| of two float tensors of the same size.
func MaxAbsDiff(a, b *tensors.Tensor) float64 {
	x, y := toFloat64s(a), toFloat64s(b)
	if len(x) != len(y) {
		return math.Inf(1)
	}
	m := 0.0
	for i := range x {
		d := math.Abs(x[i] - y[i])
		if math.IsNaN(d) {
			return math.NaN()
		}
		m = math.Max(m, d)
	}
	return m
}

func toFloat64s(t *tensors.Tensor) []float64 {
	switch t.DType() {
	case dtypes.Float64:
		return tensors.MustCopyFlatData[float64](t)
	case dtypes.Float32:
		f := tensors.MustCopyFlatData[float32](t)
		out := make([]float64, len(f))
		for i, v := range f {
			out[i] = float64(v)
		}
		return out
	default:
		panic(fmt.Sprintf("nntest: float32 or float64 tensor expected, got %s", t.Shape()))
	}
}

func fromFloat64s(data []float64, shape shapes.Shape) *tensors.Tensor {
	if shape.DType == dtypes.Float32 {
		return tensors.FromFlatDataAndDimensions(ToFloat32(data), shape.Dimensions...)
	}
	return tensors.FromFlatDataAndDimensions(append([]float64(nil), data...), shape.Dimensions...)
}
