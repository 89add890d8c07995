package nn

import (
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/iagen-course/iagen/lib/nn/nntest"
)

// Benchmarks of one training step (forward, backward, Adam update) of the convolutional pieces
// of BENCH.md's models, at its sizes (batch 64, MNIST 28×28). Run with, e.g.:
//
//	GOEXPERIMENT=simd go test ./lib/nn -run XXX -bench . -benchtime 5x
//
// Besides wall time (ns/op) they report cpu-ms/op, the process CPU time per step: on a shared
// machine it varies less than wall time.

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchStep compiles exec with one call (excluded from the timing), then times b.N calls.
func benchStep(b *testing.B, exec *model.Exec, builds *int, args ...any) {
	b.Helper()
	if _, err := exec.Exec(args...); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	c0 := cpuTime()
	for range b.N {
		if _, err := exec.Exec(args...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime()-c0)/1e6/float64(b.N), "cpu-ms/op")
	if *builds != 1 {
		b.Errorf("the step graph was built %d times, want 1 (one compiled model.Exec reused)", *builds)
	}
}

// dcganGenerator is BENCH.md's G: Dense 64→7·7·128, BN, ReLU, ConvT 128→64 (k4 s2 p1), BN, ReLU,
// ConvT 64→1 (k4 s2 p1), tanh. z [B, 64] → [B, 28, 28, 1].
func dcganGenerator(l convLayers, scope *model.Scope, z *graph.Node) *graph.Node {
	b := z.Shape().Dimensions[0]
	x := layers.Dense(scope.In("fc"), z, true, 7*7*128)
	x = graph.Reshape(x, b, 7, 7, 128)
	x = activation.Relu(BatchNorm(scope.In("bn0"), x).Done())
	x = l.ConvTranspose2D(scope.In("up1"), x, 64, 4, 2, 1)
	x = activation.Relu(BatchNorm(scope.In("bn1"), x).Done())
	x = l.ConvTranspose2D(scope.In("up2"), x, 1, 4, 2, 1)
	return graph.Tanh(x)
}

// dcganDiscriminator is BENCH.md's D: Conv 1→64 (k4 s2 p1), LeakyReLU 0.2, Conv 64→128
// (k4 s2 p1), BN, LeakyReLU 0.2, flatten, Dense →1. x [B, 28, 28, 1] → logits [B].
func dcganDiscriminator(l convLayers, scope *model.Scope, x *graph.Node) *graph.Node {
	b := x.Shape().Dimensions[0]
	x = activation.LeakyReluWith(l.Conv2D(scope.In("conv1"), x, 64, 4, 2, 1), 0.2)
	x = l.Conv2D(scope.In("conv2"), x, 128, 4, 2, 1)
	x = activation.LeakyReluWith(BatchNorm(scope.In("bn"), x).Done(), 0.2)
	return graph.Reshape(layers.Dense(scope.In("fc"), graph.Reshape(x, b, -1), true, 1), b)
}

// BenchmarkDCGANStep: one D update on a real and a fake batch, then one G update through the
// just-updated D (non-saturating BCE-with-logits losses, Adam lr 2e-4 β1 0.5), batch 64, all
// in one graph.
func BenchmarkDCGANStep(b *testing.B) { benchBoth(b, benchDCGANStep) }

func benchDCGANStep(b *testing.B, l convLayers) {
	store := model.NewStore()
	optD := optimizer.Adam().LearningRate(2e-4).Betas(0.5, 0.999).Done()
	optG := optimizer.Adam().LearningRate(2e-4).Betas(0.5, 0.999).Done()
	builds := 0
	exec := model.MustNewExec(goBackend(b), store, func(root *model.Scope, real, z *graph.Node) (*graph.Node, *graph.Node) {
		builds++
		g := real.Graph()
		root.Store().SetTraining(g, true)
		fake := dcganGenerator(l, root.At("gen"), z)
		// softplus(-l) = BCE(l, 1); softplus(l) = BCE(l, 0).
		lossD := graph.Add(
			graph.ReduceAllMean(graph.Softplus(graph.Neg(dcganDiscriminator(l, root.At("disc"), real)))),
			graph.ReduceAllMean(graph.Softplus(dcganDiscriminator(l, root.At("disc"), graph.StopGradient(fake)))))
		optD.UpdateGraph(root.At("disc"), g, lossD)
		// The G step sees the updated D as constants (as PyTorch's in-place update does);
		// otherwise its gradient would also differentiate through D's Adam update.
		for v := range root.At("disc").IterVariables() {
			if v.InUseByGraph(g) {
				v.SetNodeValue(graph.StopGradient(v.NodeValue(g)))
			}
		}
		lossG := graph.ReduceAllMean(graph.Softplus(graph.Neg(dcganDiscriminator(l, root.At("disc"), fake))))
		optG.UpdateGraph(root.At("gen"), g, lossG)
		return lossD, lossG
	})
	benchStep(b, exec, &builds, nntest.RandF32(1, 64, 28, 28, 1), nntest.RandF32(2, 64, 64))
}

// resBlock is BENCH.md's U-Net residual block: GN(8)→SiLU→Conv3×3, + Dense(SiLU(temb)),
// GN(8)→SiLU→Conv3×3, + x (same channels, identity skip).
func resBlock(l convLayers, scope *model.Scope, x, temb *graph.Node) *graph.Node {
	c := x.Shape().Dimensions[3]
	b := x.Shape().Dimensions[0]
	h := l.Conv2D(scope.In("conv1"), activation.Swish(GroupNorm(scope.In("gn1"), x, 8)), c, 3, 1, 1)
	t := layers.Dense(scope.In("temb"), activation.Swish(temb), true, c)
	h = graph.Add(h, graph.Reshape(t, b, 1, 1, c))
	h = l.Conv2D(scope.In("conv2"), activation.Swish(GroupNorm(scope.In("gn2"), h, 8)), c, 3, 1, 1)
	return graph.Add(x, h)
}

// BenchmarkResBlockStep: one Adam step (lr 2e-4) of a ResBlock at 28×28×32, batch 64, time
// embedding 128, loss = mean squared output.
func BenchmarkResBlockStep(b *testing.B) { benchBoth(b, benchResBlockStep) }

func benchResBlockStep(b *testing.B, l convLayers) {
	store := model.NewStore()
	opt := optimizer.Adam().LearningRate(2e-4).Done()
	builds := 0
	exec := model.MustNewExec(goBackend(b), store, func(root *model.Scope, x, t *graph.Node) *graph.Node {
		builds++
		g := x.Graph()
		root.Store().SetTraining(g, true)
		temb := SinusoidalEmbedding(t, 128)
		loss := graph.ReduceAllMean(graph.Square(resBlock(l, root.In("res"), x, temb)))
		opt.UpdateGraph(root, g, loss)
		return loss
	})
	ts := make([]float32, 64)
	for i := range ts {
		ts[i] = float32(i * 15)
	}
	benchStep(b, exec, &builds, nntest.RandF32(1, 64, 28, 28, 32), tensors.FromFlatDataAndDimensions(ts, 64))
}

// BenchmarkCouplingStep: one Adam step (lr 1e-3) of a RealNVP affine coupling layer (Dinh et
// al. 2017) on 28×28×1, batch 64, checkerboard mask: net = Conv3×3 1→64, ReLU, Conv3×3 64→64,
// ReLU, Conv3×3 64→2 → (s, t); y = m⊙x + (1-m)⊙(x⊙exp(s) + t), s = scale·tanh(raw);
// loss = mean(y²)/2 - mean log-det.
func BenchmarkCouplingStep(b *testing.B) { benchBoth(b, benchCouplingStep) }

func benchCouplingStep(b *testing.B, l convLayers) {
	store := model.NewStore()
	opt := optimizer.Adam().LearningRate(1e-3).Done()
	builds := 0
	mask := make([]float32, 28*28)
	for i := range 28 {
		for j := range 28 {
			if (i+j)%2 == 0 {
				mask[i*28+j] = 1
			}
		}
	}
	exec := model.MustNewExec(goBackend(b), store, func(root *model.Scope, x, m *graph.Node) *graph.Node {
		builds++
		g := x.Graph()
		root.Store().SetTraining(g, true)
		scope := root.In("coupling")
		h := activation.Relu(l.Conv2D(scope.In("c1"), graph.Mul(x, m), 64, 3, 1, 1))
		h = activation.Relu(l.Conv2D(scope.In("c2"), h, 64, 3, 1, 1))
		h = l.Conv2D(scope.In("c3"), h, 2, 3, 1, 1)
		scale := scope.VariableWithValue("scale", float32(1)).NodeValue(g)
		s := graph.Mul(scale, graph.Tanh(graph.Slice(h, graph.AxisRange(), graph.AxisRange(), graph.AxisRange(), graph.AxisElem(0))))
		t := graph.Slice(h, graph.AxisRange(), graph.AxisRange(), graph.AxisRange(), graph.AxisElem(1))
		inv := graph.OneMinus(m)
		s = graph.Mul(s, inv)
		y := graph.Add(graph.Mul(x, m), graph.Mul(inv, graph.Add(graph.Mul(x, graph.Exp(s)), t)))
		logDet := graph.ReduceSum(s, 1, 2, 3)
		loss := graph.Sub(graph.DivScalar(graph.ReduceAllMean(graph.Square(y)), 2), graph.DivScalar(graph.ReduceAllMean(logDet), 784))
		opt.UpdateGraph(root, g, loss)
		return loss
	})
	benchStep(b, exec, &builds, nntest.RandF32(1, 64, 28, 28, 1), tensors.FromFlatDataAndDimensions(mask, 1, 28, 28, 1))
}

// benchBoth runs a benchmark with lib/nn's layers ("nn") and with the baseline layers of
// baseline_test.go ("baseline").
func benchBoth(b *testing.B, bench func(b *testing.B, l convLayers)) {
	b.Run("nn", func(b *testing.B) { bench(b, nnConvLayers) })
	b.Run("baseline", func(b *testing.B) { bench(b, baselineConvLayers) })
}
