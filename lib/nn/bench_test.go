package nn

import (
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"

	"github.com/iagen-course/iagen/lib/nn/nntest"
)

// Benchmarks of one training step (forward, backward, Adam update) of BENCH.md's models, or of
// their convolutional pieces, at its sizes (batch 64, MNIST 28×28). Run with, e.g.:
//
//	GOEXPERIMENT=simd go test ./lib/nn -run XXX -bench . -benchtime 5x
//	IAGEN_NN_BACKEND=xla:cpu GOEXPERIMENT=simd go test ./lib/nn -run XXX -bench . -benchtime 5x
//
// Besides wall time (ns/op, the mean) they report what BENCH.md asks for: the median and p99 of
// the per-step wall time (p50-ms, p99-ms) and the compile time (compile-ms: building the graph
// and the backend's compilation; a warm-up step follows, timed in nothing); and cpu-ms/op, the
// process CPU time per step, which varies less than wall time on a shared machine. The
// whole-model benchmarks (LSTM, U-Net, RealNVP) are in bench_models_test.go.

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchStep compiles exec for args' shapes and runs one warm-up step (both excluded from the
// timing), then times b.N steps, each on its own.
func benchStep(b *testing.B, exec *model.Exec, builds *int, args ...*tensors.Tensor) {
	b.Helper()
	inputShapes := make([]shapes.Shape, len(args))
	anyArgs := make([]any, len(args))
	for i, a := range args {
		inputShapes[i], anyArgs[i] = a.Shape(), a
	}
	start := time.Now()
	if _, err := exec.Compile(inputShapes...); err != nil {
		b.Fatal(err)
	}
	compile := time.Since(start)
	if _, err := exec.Exec(anyArgs...); err != nil {
		b.Fatal(err)
	}
	steps := make([]time.Duration, b.N)
	b.ResetTimer()
	c0 := cpuTime()
	for i := range b.N {
		start := time.Now()
		if _, err := exec.Exec(anyArgs...); err != nil {
			b.Fatal(err)
		}
		steps[i] = time.Since(start)
	}
	b.ReportMetric(float64(cpuTime()-c0)/1e6/float64(b.N), "cpu-ms/op")
	b.StopTimer()
	slices.Sort(steps)
	ms := func(d time.Duration) float64 { return float64(d) / 1e6 }
	median := ms(steps[(b.N-1)/2]+steps[b.N/2]) / 2
	p99 := ms(steps[(99*b.N+99)/100-1]) // Nearest rank ⌈0.99·N⌉: the slowest step for N ≤ 100.
	b.ReportMetric(median, "p50-ms")
	b.ReportMetric(p99, "p99-ms")
	b.ReportMetric(ms(compile), "compile-ms")
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
	store := nntest.SeededStore(b)
	optD := optimizer.Adam().LearningRate(2e-4).Betas(0.5, 0.999).Epsilon(1e-8).Done()
	optG := optimizer.Adam().LearningRate(2e-4).Betas(0.5, 0.999).Epsilon(1e-8).Done()
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

// BenchmarkResBlockStep: one Adam step (lr 2e-4) of a ResBlock (BENCH.md's, GroupNorm with 8
// groups) at 28×28×32, batch 64, time embedding 128, loss = mean squared output.
func BenchmarkResBlockStep(b *testing.B) { benchBoth(b, benchResBlockStep) }

func benchResBlockStep(b *testing.B, l convLayers) {
	store := nntest.SeededStore(b)
	opt := optimizer.Adam().LearningRate(2e-4).Epsilon(1e-8).Done()
	builds := 0
	exec := model.MustNewExec(goBackend(b), store, func(root *model.Scope, x, t *graph.Node) *graph.Node {
		builds++
		g := x.Graph()
		root.Store().SetTraining(g, true)
		temb := SinusoidalEmbedding(t, 128)
		loss := graph.ReduceAllMean(graph.Square(resBlock(l.Conv2D, root.In("res"), x, temb, 32, 8)))
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
// al. 2017; see coupling) on 28×28×1, batch 64, checkerboard mask; loss = mean(y²)/2 - mean
// log-det per pixel.
func BenchmarkCouplingStep(b *testing.B) { benchBoth(b, benchCouplingStep) }

func benchCouplingStep(b *testing.B, l convLayers) {
	store := nntest.SeededStore(b)
	opt := optimizer.Adam().LearningRate(1e-3).Epsilon(1e-8).Done()
	builds := 0
	exec := model.MustNewExec(goBackend(b), store, func(root *model.Scope, x *graph.Node) *graph.Node {
		builds++
		g := x.Graph()
		root.Store().SetTraining(g, true)
		y, logDet := coupling(l, root.In("coupling"), x, CheckerboardMask(g, x.DType(), 28, 28, false))
		loss := graph.Sub(graph.DivScalar(graph.ReduceAllMean(graph.Square(y)), 2), graph.DivScalar(graph.ReduceAllMean(logDet), 784))
		opt.UpdateGraph(root, g, loss)
		return loss
	})
	benchStep(b, exec, &builds, nntest.RandF32(1, 64, 28, 28, 1))
}

// couplingShiftScale is the conditioning network of BENCH.md's affine coupling: from the kept
// pixels x⊙m (zero-padded by 1), Conv3×3 1→64, ReLU, Conv3×3 64→64, ReLU, Conv3×3 64→2 gives
// (raw, t), and s = scale·tanh(raw) with a learned scalar scale initialised to 1 (bounded log
// scales keep exp(s) tame early in training). s and t are returned multiplied by 1-m: zero on
// the kept pixels, which the layer passes through unchanged. x [B, H, W, 1], m [1, H, W, 1].
func couplingShiftScale(l convLayers, scope *model.Scope, x, m *graph.Node) (s, t *graph.Node) {
	g := x.Graph()
	h := activation.Relu(l.Conv2D(scope.In("c1"), graph.Mul(x, m), 64, 3, 1, 1))
	h = activation.Relu(l.Conv2D(scope.In("c2"), h, 64, 3, 1, 1))
	h = l.Conv2D(scope.In("c3"), h, 2, 3, 1, 1)
	scale := scope.VariableWithValue("scale", shapes.CastAsDType(1, x.DType())).NodeValue(g)
	inv := graph.OneMinus(m)
	s = graph.Mul(inv, graph.Mul(scale, graph.Tanh(graph.SliceAxis(h, 3, graph.AxisElem(0)))))
	t = graph.Mul(inv, graph.SliceAxis(h, 3, graph.AxisElem(1)))
	return s, t
}

// coupling is RealNVP's affine coupling layer (Dinh, Sohl-Dickstein & Bengio 2017, eq. 6-7 with
// the mask of §3.4): y = m⊙x + (1-m)⊙(x⊙exp(s) + t), s and t computed from m⊙x alone. Its
// Jacobian is triangular with diagonal exp(s) (1 on the kept pixels), so
// log|det ∂y/∂x| = Σ s, per example: logDet [B].
func coupling(l convLayers, scope *model.Scope, x, m *graph.Node) (y, logDet *graph.Node) {
	s, t := couplingShiftScale(l, scope, x, m)
	y = graph.Add(graph.Mul(x, graph.Exp(s)), t) // s = t = 0 on the kept pixels: y = x there.
	return y, graph.ReduceSum(s, 1, 2, 3)
}

// couplingInverse inverts coupling (same scope, same mask): since m⊙y = m⊙x, s and t can be
// recomputed from y, and x = (y - t)⊙exp(-s).
func couplingInverse(l convLayers, scope *model.Scope, y, m *graph.Node) *graph.Node {
	s, t := couplingShiftScale(l, scope, y, m)
	return graph.Mul(graph.Sub(y, t), graph.Exp(graph.Neg(s)))
}

// benchBoth runs a benchmark with lib/nn's layers ("nn") and with the baseline layers of
// baseline_test.go ("baseline").
func benchBoth(b *testing.B, bench func(b *testing.B, l convLayers)) {
	b.Run("nn", func(b *testing.B) { bench(b, nnConvLayers) })
	b.Run("baseline", func(b *testing.B) { bench(b, baselineConvLayers) })
}
