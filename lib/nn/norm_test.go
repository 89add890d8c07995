package nn

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/iagen-course/iagen/lib/nn/nntest"
)

// channelStats returns per-channel mean and biased variance of an NHWC-like tensor (last axis).
func channelStats(x []float64, c int) (mean, variance []float64) {
	mean, variance = make([]float64, c), make([]float64, c)
	n := float64(len(x) / c)
	for i, v := range x {
		mean[i%c] += v / n
	}
	for i, v := range x {
		d := v - mean[i%c]
		variance[i%c] += d * d / n
	}
	return mean, variance
}

func TestBatchNormTrainingForward(t *testing.T) {
	x := nntest.Rand(1, 4, 3, 3, 2)
	gamma := tensors.FromValue([]float64{2, 0.5})
	beta := tensors.FromValue([]float64{-1, 3})
	y := run1(t, func(xs []*graph.Node) *graph.Node {
		y, _, _ := BatchNormTraining(xs[0], xs[1], xs[2], 1e-5)
		return y
	}, x, gamma, beta)
	mean, variance := channelStats(nntest.Float64s(x), 2)
	xv, yv := nntest.Float64s(x), nntest.Float64s(y)
	g, b := []float64{2, 0.5}, []float64{-1, 3}
	for i := range xv {
		c := i % 2
		want := g[c]*(xv[i]-mean[c])/math.Sqrt(variance[c]+1e-5) + b[c]
		if !(math.Abs(yv[i]-want) <= 1e-12) {
			t.Fatalf("y[%d] = %g, want %g", i, yv[i], want)
		}
	}
}

// PyTorch semantics: the gradient flows through the batch mean and variance. Checked against
// finite differences, and shown to differ from the gradient with the statistics held constant
// (what GoMLX's norm.BatchNorm computes on the go backend).
func TestBatchNormGradientThroughStatistics(t *testing.T) {
	x, gamma, beta := nntest.Rand(1, 4, 3, 3, 2), nntest.Rand(2, 2), nntest.Rand(3, 2)
	nntest.GradCheck(t, goBackend(t), func(xs []*graph.Node) *graph.Node {
		y, _, _ := BatchNormTraining(xs[0], xs[1], xs[2], 1e-5)
		return y
	}, 1e-7, x, gamma, beta)

	reports, err := nntest.CompareGradients(goBackend(t), func(xs []*graph.Node) *graph.Node {
		_, mean, variance := BatchNormTraining(xs[0], xs[1], xs[2], 1e-5)
		return BatchNormInference(xs[0], xs[1], xs[2], graph.StopGradient(mean), graph.StopGradient(variance), 1e-5)
	}, nntest.Options{}, x, gamma, beta)
	if err != nil {
		t.Fatal(err)
	}
	if reports[0].MaxRelErr < 1e-3 {
		t.Errorf("with the statistics held constant the gradient of x should be wrong, got error %g", reports[0].MaxRelErr)
	}
}

// The layer: running averages with momentum 0.1 and the unbiased variance, updated by every
// training call; inference uses them.
func TestBatchNormRunningAverages(t *testing.T) {
	store := nntest.SeededStore(t)
	train := newModelExec(t, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return BatchNorm(scope, x).Training(true).Done()
	})
	infer := newModelExec(t, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return BatchNorm(scope, x).Done() // Not training: the store says so by default.
	})
	x1, x2 := nntest.RandF32(1, 8, 2, 2, 3), nntest.RandF32(2, 8, 2, 2, 3)
	train.MustExec(x1)
	train.MustExec(x2)
	wantMean, wantVar := []float64{0, 0, 0}, []float64{1, 1, 1}
	for _, x := range []*tensors.Tensor{x1, x2} {
		m, v := channelStats(nntest.Float64s(x), 3)
		n := float64(8 * 2 * 2)
		for c := range 3 {
			wantMean[c] = 0.9*wantMean[c] + 0.1*m[c]
			wantVar[c] = 0.9*wantVar[c] + 0.1*v[c]*n/(n-1)
		}
	}
	gotMean := nntest.Float64s(store.GetVariable("/batch_norm/mean").MustValue())
	gotVar := nntest.Float64s(store.GetVariable("/batch_norm/variance").MustValue())
	for c := range 3 {
		if !(math.Abs(gotMean[c]-wantMean[c]) <= 1e-6) || !(math.Abs(gotVar[c]-wantVar[c]) <= 1e-6) {
			t.Fatalf("channel %d: running mean %g, variance %g; want %g, %g", c, gotMean[c], gotVar[c], wantMean[c], wantVar[c])
		}
	}
	if v := store.GetVariable("/batch_norm/mean"); v.Trainable {
		t.Errorf("running mean must not be trainable")
	}
	y := nntest.Float64s(infer.MustExec(x1)[0])
	xv := nntest.Float64s(x1)
	for i := range xv {
		c := i % 3
		want := (xv[i] - wantMean[c]) / math.Sqrt(wantVar[c]+1e-5)
		if !(math.Abs(y[i]-want) <= 1e-5) {
			t.Fatalf("inference y[%d] = %g, want %g", i, y[i], want)
		}
	}
}

func TestGroupNorm(t *testing.T) {
	x := nntest.Rand(1, 2, 3, 3, 4)
	gamma, beta := nntest.Rand(2, 4), nntest.Rand(3, 4)
	y := nntest.Float64s(run1(t, func(xs []*graph.Node) *graph.Node {
		return GroupNormWith(xs[0], 2, xs[1], xs[2], 1e-5)
	}, x, gamma, beta))
	xv, gv, bv := nntest.Float64s(x), nntest.Float64s(gamma), nntest.Float64s(beta)
	for b := range 2 {
		for grp := range 2 {
			var vals []float64
			for p := range 9 {
				for c := grp * 2; c < grp*2+2; c++ {
					vals = append(vals, xv[(b*9+p)*4+c])
				}
			}
			m, v := channelStats(vals, 1)
			for p := range 9 {
				for c := grp * 2; c < grp*2+2; c++ {
					i := (b*9+p)*4 + c
					want := gv[c]*(xv[i]-m[0])/math.Sqrt(v[0]+1e-5) + bv[c]
					if !(math.Abs(y[i]-want) <= 1e-12) {
						t.Fatalf("y[%d] = %g, want %g", i, y[i], want)
					}
				}
			}
		}
	}
	nntest.GradCheck(t, goBackend(t), func(xs []*graph.Node) *graph.Node {
		return GroupNormWith(xs[0], 2, xs[1], xs[2], 1e-5)
	}, 1e-7, x, gamma, beta)
	// Without scale and offset: γ = 1, β = 0.
	plain := nntest.Float64s(run1(t, func(xs []*graph.Node) *graph.Node { return GroupNormWith(xs[0], 2, nil, nil, 1e-5) }, x))
	for i := range plain {
		c := i % 4
		if want := (y[i] - bv[c]) / gv[c]; !(math.Abs(plain[i]-want) <= 1e-9) {
			t.Fatalf("without γ, β: y[%d] = %g, want %g", i, plain[i], want)
		}
	}
	nntest.GradCheck(t, goBackend(t), func(xs []*graph.Node) *graph.Node {
		return GroupNormWith(xs[0], 2, nil, nil, 1e-5)
	}, 1e-7, x)
}

func TestGroupNormLayer(t *testing.T) {
	store := nntest.SeededStore(t)
	exec := newModelExec(t, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		return GroupNorm(scope, x, 8)
	})
	y := nntest.Float64s(exec.MustExec(nntest.RandF32(1, 2, 4, 4, 32))[0])
	// γ = 1, β = 0 at initialisation: each (example, group) has mean 0 and variance ~1.
	m, v := channelStats(y[:16*32], 1)
	if !(math.Abs(m[0]) <= 1e-5) || !(math.Abs(v[0]-1) <= 1e-3) {
		t.Errorf("example 0: mean %g, variance %g; want 0, 1", m[0], v[0])
	}
	if got := store.GetVariable("/group_norm/scale").Shape().Dimensions; len(got) != 1 || got[0] != 32 {
		t.Errorf("scale shape %v, want [32]", got)
	}
}

// TestActNorm checks Glow's ActNorm: the data-dependent initialisation (zero mean and unit
// variance per channel on the first batch), the log-determinant, the inverse, and that a second
// batch does not re-initialise. The log-determinant is recomputed from the map itself, not
// from the layer's log_scale variable: each channel is scaled by s_c = (y_a − y_b)/(x_a − x_b)
// for two of its elements, and log|det ∂y/∂x| = (pixels per example)·Σ_c log|s_c|; at
// initialisation s_c must also be 1/√(σ_c² + 1e-6) of the batch's own statistics.
func TestActNorm(t *testing.T) {
	store := nntest.SeededStore(t)
	fwd := model.MustNewExec(goBackend(t), store, func(scope *model.Scope, x *graph.Node) (*graph.Node, *graph.Node) {
		return ActNorm(scope, x)
	})
	inv := newModelExec(t, store, func(scope *model.Scope, y *graph.Node) *graph.Node {
		return ActNormInverse(scope, y)
	})
	const pixels, channels = 3 * 3, 2
	x1 := nntest.RandF32(1, 16, 3, 3, channels)
	// Shift and scale the channels so the initialisation has something to undo.
	x1v := nntest.Float64s(x1)
	for i := range x1v {
		x1v[i] = x1v[i]*float64(1+3*(i%2)) + float64(5*(i%2))
	}
	x1 = tensors.FromFlatDataAndDimensions(nntest.ToFloat32(x1v), 16, 3, 3, channels)
	x1v = nntest.Float64s(x1) // as float32 rounded them
	// logDetOf measures the per-channel scales of the map x → y and returns the log-determinant
	// per example they imply.
	logDetOf := func(x, y []float64) (logDet float64, scale []float64) {
		scale = make([]float64, channels)
		for c := range channels {
			a, b := c, c+channels*7 // two elements of channel c (NHWC: channel is the last axis)
			scale[c] = (y[a] - y[b]) / (x[a] - x[b])
			logDet += pixels * math.Log(math.Abs(scale[c]))
		}
		return logDet, scale
	}
	out := fwd.MustExec(x1)
	m, v := channelStats(nntest.Float64s(out[0]), channels)
	for c := range channels {
		if !(math.Abs(m[c]) <= 1e-5) || !(math.Abs(v[c]-1) <= 1e-4) {
			t.Errorf("after the data-dependent initialisation channel %d has mean %g, variance %g; want 0, 1", c, m[c], v[c])
		}
	}
	wantLogDet, scale := logDetOf(x1v, nntest.Float64s(out[0]))
	_, xVar := channelStats(x1v, channels)
	for c := range channels {
		if want := 1 / math.Sqrt(xVar[c]+1e-6); !(math.Abs(scale[c]-want) <= 1e-4*want) {
			t.Errorf("channel %d is scaled by %g at initialisation, want 1/√(σ² + 1e-6) = %g", c, scale[c], want)
		}
	}
	if got := nntest.Float64s(out[1])[0]; !(math.Abs(got-wantLogDet) <= 1e-3) {
		t.Errorf("logDet %g, want %g (from the scales the map applies)", got, wantLogDet)
	}
	// A second batch must not re-initialise: the map, and so its log-determinant, stay the same.
	logScale := nntest.Float64s(store.GetVariable("/act_norm/log_scale").MustValue())
	x2 := nntest.RandF32(2, 16, 3, 3, channels)
	out2 := fwd.MustExec(x2)
	if again := nntest.Float64s(store.GetVariable("/act_norm/log_scale").MustValue()); again[0] != logScale[0] || again[1] != logScale[1] {
		t.Errorf("log_scale changed on the second batch: %v → %v", logScale, again)
	}
	if got, want := nntest.Float64s(out2[1])[0], wantLogDet; !(math.Abs(got-want) <= 1e-3) {
		t.Errorf("second batch: logDet %g, want the first batch's %g", got, want)
	}
	if got, _ := logDetOf(nntest.Float64s(x2), nntest.Float64s(out2[0])); !(math.Abs(got-wantLogDet) <= 1e-3) {
		t.Errorf("second batch: the map's log-determinant is %g, want %g (the first batch's)", got, wantLogDet)
	}
	// Inverse.
	if d := nntest.MaxAbsDiff(inv.MustExec(out2[0])[0], x2); !(d <= 1e-5) {
		t.Errorf("|ActNormInverse(ActNorm(x)) - x| = %g", d)
	}
}
