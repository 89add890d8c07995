package flow

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/nn/nntest"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/train/traintest"
)

// float64ToyFlow compiles ToyForward and ToyInverseStages of arch on one store, in float64, and
// gives every coupling's last layer random weights (they start at zero: the identity).
func float64ToyFlow(t *testing.T, a ToyArch) (fwd, inv *model.Exec) {
	t.Helper()
	b := traintest.GoBackend(t)
	store := nntest.SeededStore(t)
	fwd = model.MustNewExec(b, store, func(scope *model.Scope, x *graph.Node) (*graph.Node, *graph.Node) {
		return ToyForward(scope.In(ToyScope), a, x)
	})
	inv = model.MustNewExec(b, store, func(scope *model.Scope, z *graph.Node) *graph.Node {
		stages := ToyInverseStages(scope.In(ToyScope), a, z)
		return stages[len(stages)-1]
	})
	fwd.MustExec(tensors.FromFlatDataAndDimensions([]float64{0.1, 0.2}, 1, 2))
	randomize(t, store, "/d3/", 0.5, 2*a.Layers) // weights and bias of each last layer
	return fwd, inv
}

// The log-determinant of a 2-D flow equals log|det| of its 2×2 Jacobian computed by central
// finite differences, at several points, in float64.
func TestToyLogDetMatchesJacobian(t *testing.T) {
	const h = 1e-6
	fwd, _ := float64ToyFlow(t, ToyArch{Layers: 6, Hidden: 16})
	for _, p := range [][2]float64{{0.3, -1.2}, {-2, 0.5}, {1.5, 1.5}} {
		batch := []float64{p[0], p[1], p[0] + h, p[1], p[0] - h, p[1], p[0], p[1] + h, p[0], p[1] - h}
		out := fwd.MustExec(tensors.FromFlatDataAndDimensions(batch, 5, 2))
		z, logDet := float64s(out[0]), float64s(out[1])
		var j [2][2]float64 // ∂z_i/∂x_k
		for k := range 2 {
			for i := range 2 {
				j[i][k] = (z[2*(1+2*k)+i] - z[2*(2+2*k)+i]) / (2 * h)
			}
		}
		want := math.Log(math.Abs(j[0][0]*j[1][1] - j[0][1]*j[1][0]))
		if math.Abs(want) < 1e-3 {
			t.Errorf("at %v: log|det| %g, too close to 0 to test the couplings", p, want)
		}
		if d := math.Abs(logDet[0] - want); !(d < 1e-6) {
			t.Errorf("at %v: log-det %.10g, finite-difference Jacobian gives %.10g", p, logDet[0], want)
		}
	}
}

// x → z → x and z → x → z: the inverse undoes the forward map to < 1e-9 (float64).
func TestToyRoundTrip(t *testing.T) {
	fwd, inv := float64ToyFlow(t, ToyArch{Layers: 6, Hidden: 16})
	r := rand.New(rand.NewPCG(3, 3))
	x := make([]float64, 2*50)
	for i := range x {
		x[i] = 2 * r.NormFloat64()
	}
	z := float64s(fwd.MustExec(tensors.FromFlatDataAndDimensions(x, 50, 2))[0])
	back := float64s(inv.MustExec(tensors.FromFlatDataAndDimensions(z, 50, 2))[0])
	again := float64s(fwd.MustExec(tensors.FromFlatDataAndDimensions(back, 50, 2))[0])
	moved := 0.0
	for i := range x {
		moved = max(moved, math.Abs(z[i]-x[i]))
		if math.Abs(back[i]-x[i]) > 1e-9 || math.Abs(again[i]-z[i]) > 1e-9 {
			t.Fatalf("coordinate %d: x %.12g → z %.12g → x %.12g → z %.12g", i, x[i], z[i], back[i], again[i])
		}
	}
	if moved < 0.1 {
		t.Errorf("the flow moves points by at most %g: not a test of the inverse", moved)
	}
}

// A short training on ring8 takes the log-likelihood gap (KL estimate) well below the untrained
// flow's, a standard normal; the model's Stages end at Decode, start at z, and Encode undoes them.
func TestToyTrainingLowersKL(t *testing.T) {
	cfg := DefaultToyConfig() // smaller and faster, for the go backend
	cfg.ToyArch, cfg.Batch, cfg.LearningRate, cfg.Steps, cfg.EvalSamples = ToyArch{Layers: 6, Hidden: 32}, 128, 3e-3, 600, 2000
	m, err := NewToy(traintest.GoBackend(t), cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	before, ok, err := m.KLEstimate(2000, 5)
	if err != nil || !ok {
		t.Fatalf("KL estimate: %v (closed form %v)", err, ok)
	}
	res, err := train.Run(context.Background(), m, train.Config{Steps: cfg.Steps, Seed: 1, Progress: train.SilentProgress()})
	if err != nil {
		t.Fatal(err)
	}
	after, ok := res.Eval.Get("kl")
	if !ok {
		t.Fatal("no kl in the evaluation")
	}
	t.Logf("ring8: KL estimate %.3f nats untrained, %.3f after %d steps", before, after, cfg.Steps)
	if !(after < before-1.5 && after > -0.1) {
		t.Errorf("KL estimate %.3f after training, %.3f before: want 1.5 nats below it and ≥ 0 up to noise", after, before)
	}
	z := Gaussian(20, 1, 2)
	stages, err := m.Stages(z)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := m.Decode(z)
	back, _, err := m.Encode(x)
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != cfg.Layers+1 || stages[0][3] != z[3] || stages[cfg.Layers][3] != x[3] {
		t.Fatalf("%d stages from z to x, want %d", len(stages), cfg.Layers+1)
	}
	for i := range z {
		if d := math.Hypot(float64(back[i][0]-z[i][0]), float64(back[i][1]-z[i][1])); d > 1e-3 {
			t.Errorf("point %d: z %v → x %v → z %v", i, z[i], x[i], back[i])
		}
	}
}

// The true density grid is the closed form for the mixtures and a normalised histogram for the
// moons; both integrate to about 1 over a span that holds the distribution.
func TestTrueDensityGrid(t *testing.T) {
	const span, size = 3.0, 120
	cell := 2 * span / size
	for _, name := range []string{"ring8", "moons"} {
		dist, _ := data.ToyByName(name)
		grid, closed := TrueDensityGrid(dist, span, size, 20000, 1)
		if closed != (name == "ring8") {
			t.Errorf("%s: closed form %v", name, closed)
		}
		mass := 0.0
		for _, row := range grid {
			for _, v := range row {
				mass += v * cell * cell
			}
		}
		if math.Abs(mass-1) > 0.03 {
			t.Errorf("%s: the density grid holds a mass of %g, want 1", name, mass)
		}
	}
	if p := GridPoints(1, 2); p[0] != [2]float32{-0.5, 0.5} || p[3] != [2]float32{0.5, -0.5} {
		t.Errorf("GridPoints(1, 2) = %v: rows from the top, columns from the left", p)
	}
}
