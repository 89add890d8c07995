package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/iagen-course/iagen/lib/nn/nntest"
)

// The U-Net at BENCH.md's sizes (batch 2): ε̂ has x's shape; the regression loss of ε reaches
// every trainable variable with a nonzero gradient (BENCH.md's layers, counted one by one); and
// one Adam step on it gives a finite loss.
func TestUNetShapesAndGradients(t *testing.T) {
	const batch = 2
	cfg := BenchUNet()
	if err := cfg.Check(28); err != nil {
		t.Fatal(err)
	}
	store := nntest.SeededStore(t)
	xt, eps, ts := randUniform(1, -1, 1, batch, 28, 28, 1), randNormal(2, batch, 28, 28, 1), randTokens(3, 1000, batch)
	step := model.MustNewExec(goBackend(t), store, func(scope *model.Scope, xt, eps, ts *graph.Node) []*graph.Node {
		g := xt.Graph()
		scope.Store().SetTraining(g, true)
		loss := graph.ReduceAllMean(graph.Square(graph.Sub(eps, UNet(scope, cfg, xt, ts))))
		grads := updateClipped(optimizer.Adam().LearningRate(2e-4).Done(), scope, loss, 1e30)
		outs := []*graph.Node{loss}
		for _, grad := range grads {
			outs = append(outs, graph.ReduceAllSum(graph.Abs(grad)))
		}
		return outs
	})
	out := step.MustExec(xt, eps, ts)
	// temb1, temb2, conv_in, conv_out, 2 downsamples, 2 up convolutions: 8 layers of 2; 5
	// ResBlocks of 10 (2 GroupNorms, 2 convolutions, the time Dense), the 3 that change their
	// channels (32→64, 128→64, 96→32) with a 1×1 shortcut (2 more); the attention block
	// (GroupNorm and 4 Dense layers); the last GroupNorm.
	if want := 8*2 + 5*10 + 3*2 + 10 + 2; len(out)-1 != want {
		t.Errorf("%d trainable variables, want %d", len(out)-1, want)
	}
	if loss := nntest.Float64s(out[0])[0]; !(loss > 0) || math.IsInf(loss, 0) {
		t.Errorf("loss %g", loss)
	}
	for i, o := range out[1:] {
		if s := nntest.Float64s(o)[0]; !(s > 0) || math.IsInf(s, 0) {
			t.Errorf("trainable variable #%d: Σ|gradient| = %g", i, s)
		}
	}
	forward := model.MustNewExec(goBackend(t), store, func(scope *model.Scope, x, ts *graph.Node) *graph.Node {
		return UNet(scope, cfg, x, ts)
	})
	if dims := forward.MustExec(xt, ts)[0].Shape().Dimensions; len(dims) != 4 || dims[0] != batch || dims[1] != 28 || dims[2] != 28 || dims[3] != 1 {
		t.Errorf("ε̂ shape %v, want [%d, 28, 28, 1]", dims, batch)
	}
}

// A two-level U-Net with attention at level 0 has it on both ways (two attention blocks).
func TestUNetAttentionOnBothWays(t *testing.T) {
	cfg := UNetConfig{Channels: 4, Mults: []int{1, 2}, Attention: []int{0}, Heads: 2, Groups: 2, TimeDim: 8}
	store := nntest.SeededStore(t)
	exec := model.MustNewExec(goBackend(t), store, func(scope *model.Scope, x, ts *graph.Node) *graph.Node {
		return UNet(scope, cfg, x, ts)
	})
	out := exec.MustExec(randUniform(1, -1, 1, 3, 8, 8, 2), randTokens(2, 10, 3))[0]
	if dims := out.Shape().Dimensions; dims[0] != 3 || dims[1] != 8 || dims[2] != 8 || dims[3] != 2 {
		t.Errorf("ε̂ shape %v, want [3, 8, 8, 2]", dims)
	}
	for _, p := range []string{"/down_0/attn/gn/group_norm/scale", "/up_0/attn/gn/group_norm/scale"} {
		if store.GetVariable(p) == nil {
			t.Errorf("no variable %s", p)
		}
	}
}

// ResBlocks = 2 adds one residual block per level and way, of the level's own channels (no
// shortcut): 10 variables each, under res_1; the first block keeps BENCH.md's names.
func TestUNetTwoResBlocks(t *testing.T) {
	count := func(cfg UNetConfig) (*model.Store, int) {
		store := nntest.SeededStore(t)
		exec := model.MustNewExec(goBackend(t), store, func(scope *model.Scope, x, ts *graph.Node) *graph.Node {
			return UNet(scope, cfg, x, ts)
		})
		if dims := exec.MustExec(randUniform(1, -1, 1, 2, 8, 8, 1), randTokens(2, 10, 2))[0].Shape().Dimensions; dims[1] != 8 || dims[3] != 1 {
			t.Errorf("res_blocks %d: ε̂ shape %v, want [2, 8, 8, 1]", cfg.ResBlocks, dims)
		}
		return store, store.NumVariables()
	}
	cfg := UNetConfig{Channels: 4, Mults: []int{1, 2}, Attention: []int{1}, Heads: 2, Groups: 2, TimeDim: 8}
	_, one := count(cfg)
	cfg.ResBlocks = 2
	store, two := count(cfg)
	if want := one + 3*10; two != want { // down_0, down_1, up_0
		t.Errorf("res_blocks 2: %d variables, want %d (one block: %d)", two, want, one)
	}
	for _, p := range []string{"/down_1/res_1/conv1/conv/weights", "/up_0/res_1/gn2/group_norm/scale", "/up_0/shortcut/conv/weights"} {
		if store.GetVariable(p) == nil {
			t.Errorf("no variable %s", p)
		}
	}
}

func TestUNetConfigCheck(t *testing.T) {
	for _, c := range []struct {
		change func(*UNetConfig)
		size   int
		want   string
	}{
		{func(c *UNetConfig) { c.Groups = 5 }, 28, "divisible by groups"},
		{func(c *UNetConfig) { c.Mults = []int{1, 2, 2, 2} }, 28, "not a multiple of 8"},
		{func(c *UNetConfig) { c.Attention = []int{3} }, 28, "outside"},
		{func(c *UNetConfig) { c.Heads = 3 }, 28, "heads"},
		{func(c *UNetConfig) { c.TimeDim = 7 }, 28, "time_dim"},
		{func(c *UNetConfig) { c.ResBlocks = -1 }, 28, "res_blocks"},
		{func(c *UNetConfig) {}, 30, "not a multiple of 4"},
	} {
		cfg := BenchUNet()
		c.change(&cfg)
		if err := cfg.Check(c.size); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v at %d pixels: %v, want an error with %q", cfg, c.size, err, c.want)
		}
	}
}

// UNetCond: a nil cond is UNet (same output, same variables); a cond adds the "cond" and
// "cond_map" layers (and a channel to conv_in), and two different conds give two different ε̂
// for the same x_t and t.
func TestUNetCond(t *testing.T) {
	cfg := UNetConfig{Channels: 4, Mults: []int{1, 2}, Groups: 2, TimeDim: 8}
	xt, ts := randUniform(1, -1, 1, 2, 8, 8, 1), randTokens(3, 1000, 2)
	store := nntest.SeededStore(t)
	plain := model.MustNewExec(goBackend(t), store, func(scope *model.Scope, x, ts *graph.Node) *graph.Node { return UNet(scope, cfg, x, ts) }).MustExec(xt, ts)[0]
	nPlain := 0
	for range store.IterVariables() {
		nPlain++
	}
	viaNil := model.MustNewExec(goBackend(t), store, func(scope *model.Scope, x, ts *graph.Node) *graph.Node { return UNetCond(scope, cfg, x, ts, nil) }).MustExec(xt, ts)[0]
	if d := nntest.MaxAbsDiff(plain, viaNil); d != 0 {
		t.Errorf("UNetCond with nil cond differs from UNet by %g", d)
	}
	cond := randUniform(4, -1, 1, 2, 3)
	store = nntest.SeededStore(t) // conv_in takes one more channel, the prompt's layout map
	out := nntest.Float64s(model.MustNewExec(goBackend(t), store, func(scope *model.Scope, x, ts, c *graph.Node) *graph.Node {
		return UNetCond(scope, cfg, x, ts, c)
	}).MustExec(xt, ts, cond)[0])
	nCond := 0
	for range store.IterVariables() {
		nCond++
	}
	if nCond != nPlain+4 { // cond and cond_map: weights and biases
		t.Errorf("%d variables with a cond, %d without: want 4 more", nCond, nPlain)
	}
	// Batch element 0 and 1 share nothing but the weights; give both the same x and t and
	// different conds, and ε̂ must differ.
	same := randUniform(5, -1, 1, 1, 8, 8, 1)
	x2 := graph.MustExecOnce(goBackend(t), func(a *graph.Node) *graph.Node { return graph.Concatenate([]*graph.Node{a, a}, 0) }, same)
	t2 := graph.MustExecOnce(goBackend(t), func(a *graph.Node) *graph.Node { return graph.Concatenate([]*graph.Node{a, a}, 0) },
		graph.MustExecOnce(goBackend(t), func(a *graph.Node) *graph.Node { return graph.Slice(a, graph.AxisRange(0, 1)) }, ts))
	eps := nntest.Float64s(model.MustNewExec(goBackend(t), store, func(scope *model.Scope, x, ts, c *graph.Node) *graph.Node {
		return UNetCond(scope, cfg, x, ts, c)
	}).MustExec(x2, t2, cond)[0])
	var diff float64
	for i := range 64 {
		diff = math.Max(diff, math.Abs(eps[i]-eps[64+i]))
	}
	if !(diff > 1e-4) || len(out) != 2*64 {
		t.Errorf("two conds give ε̂ differing by at most %g (want > 1e-4); %d outputs", diff, len(out))
	}
}
