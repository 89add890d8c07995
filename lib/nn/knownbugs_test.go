package nn

// Known bugs of GoMLX v0.28.4 on its pure-Go backend (compute v0.1.3) that lib/nn works
// around, each reproduced on the native op as an "expected failure": the test passes while
// the bug is there, and fails — saying which workaround to remove — once GoMLX fixes it.
// Crashes that kill the process run in a child process.

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/gomlx/compute"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers/norm"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/iagen-course/iagen/lib/nn/nntest"
)

// expectWrongGradient passes if fn's gradient (w.r.t. input #which) disagrees with finite
// differences, and fails with fixedMsg if it agrees.
func expectWrongGradient(t *testing.T, fn nntest.Fn, which int, fixedMsg string, inputs ...*tensorT) {
	t.Helper()
	reports, err := nntest.CompareGradients(goBackend(t), fn, nntest.Options{}, inputs...)
	if err != nil {
		t.Fatalf("the reproduction no longer runs (%v): check it against GoMLX's changes", err)
	}
	r := reports[which]
	if r.MaxRelErr < 1e-6 {
		t.Errorf("%s (gradient now matches finite differences: %s)", fixedMsg, r)
		return
	}
	t.Logf("bug still present: %s", r)
}

// expectNoGradient passes if building the gradient of fn panics with a message containing symptom.
func expectNoGradient(t *testing.T, fn nntest.Fn, symptom, fixedMsg string, inputs ...*tensorT) {
	t.Helper()
	_, err := nntest.CompareGradients(goBackend(t), fn, nntest.Options{}, inputs...)
	if err == nil {
		t.Errorf("%s (its gradient now builds and runs)", fixedMsg)
		return
	}
	if !strings.Contains(err.Error(), symptom) {
		t.Fatalf("expected GoMLX's %q panic, got: %v", symptom, err)
	}
	t.Logf("bug still present: %s", symptom)
}

// expectCrashInChild runs this test in a child process with env childEnv=1, where the
// reproduction runs and exits 0 only if its gradient is right. The test passes if the child
// crashes with one of the known symptoms.
func expectCrashInChild(t *testing.T, childEnv string, reproduce func() error, fixedMsg string, symptoms ...string) {
	t.Helper()
	if os.Getenv(childEnv) == "1" {
		if err := reproduce(); err != nil {
			// The crash happens in a backend worker goroutine, while this one gets an error
			// ("output 0 not computed"): leave the crash time to print its trace.
			time.Sleep(3 * time.Second)
			os.Stderr.WriteString("reproduction error: " + err.Error() + "\n")
			os.Exit(3)
		}
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("%s (the child process ran the gradient and it matched finite differences)", fixedMsg)
		return
	}
	for _, s := range symptoms {
		if strings.Contains(string(out), s) {
			t.Logf("bug still present: the child process crashed at %q", s)
			return
		}
	}
	t.Errorf("the child process failed differently than expected (%v), check the reproduction:\n%.2000s", err, out)
}

// gradientMatches returns nil if fn's gradients agree with finite differences.
func gradientMatches(fn nntest.Fn, inputs ...*tensorT) error {
	reports, err := nntest.CompareGradients(goBackend(nil), fn, nntest.Options{}, inputs...)
	if err != nil {
		return err
	}
	for _, r := range reports {
		if !(r.MaxRelErr <= 1e-6) {
			return errorString("gradient differs from finite differences: " + r.String())
		}
	}
	return nil
}

type errorString string

func (e errorString) Error() string { return string(e) }

// graph.Convolve's gradient with respect to its input is wrong for even kernel sizes
// (the kernel's gradient and odd kernels are right). Worked around by Conv2DWithKernel.
func TestKnownBugConvolveEvenKernelInputGradient(t *testing.T) {
	for _, k := range []struct{ k, s, p int }{{4, 2, 1}, {2, 1, 0}} {
		expectWrongGradient(t, func(xs []*graph.Node) *graph.Node {
			return graph.Convolve(xs[0], xs[1]).StridePerAxis(k.s, k.s).PaddingPerDim([][2]int{{k.p, k.p}, {k.p, k.p}}).Done()
		}, 0, "GoMLX fixed graph.Convolve's input gradient for even kernels: remove the workaround in lib/nn/conv.go "+
			"(Conv2DWithKernel may use graph.Convolve again where it is as fast)",
			nntest.Rand(1, 2, 6, 6, 2), nntest.Rand(2, k.k, k.k, 2, 3))
	}
}

// graph.Interpolate's gradient runs but is wrong (nearest and bilinear). Worked around by
// Upsample2x (BroadcastToDims).
func TestKnownBugInterpolateGradient(t *testing.T) {
	for _, nearest := range []bool{true, false} {
		expectWrongGradient(t, func(xs []*graph.Node) *graph.Node {
			cfg := graph.Interpolate(xs[0], -1, 10, 10, -1)
			if nearest {
				cfg = cfg.Nearest()
			}
			return cfg.Done()
		}, 0, "GoMLX fixed graph.Interpolate's gradient: remove the workaround in lib/nn/conv.go (Upsample2x)",
			nntest.Rand(1, 2, 5, 5, 2))
	}
}

// graph.Pad has no gradient: lib/nn pads inside hand-written gradients (conv.go, im2col.go).
func TestKnownBugPadHasNoGradient(t *testing.T) {
	expectNoGradient(t, func(xs []*graph.Node) *graph.Node {
		return graph.Pad(xs[0], graph.ScalarZero(xs[0].Graph(), xs[0].DType()), graph.PadAxis{Start: 1, End: 2})
	}, `type "Pad", for which no gradient is defined`, "GoMLX defined graph.Pad's gradient: the custom gradients in lib/nn/customgrad.go and lib/nn/conv.go "+
		"could let GoMLX differentiate im2col/col2im", nntest.Rand(1, 3, 2))
}

// graph.Reverse has no gradient (lib/nn avoids it: flipped kernels are never needed).
func TestKnownBugReverseHasNoGradient(t *testing.T) {
	expectNoGradient(t, func(xs []*graph.Node) *graph.Node { return graph.Reverse(xs[0], 0) },
		`type "Reverse", for which no gradient is defined`, "GoMLX defined graph.Reverse's gradient: it can be used in lib/nn where convenient", nntest.Rand(1, 3, 2))
}

// Convolution with input dilation (the textbook transposed convolution) has no gradient.
// Worked around by ConvTranspose2DWithKernel (col2im).
func TestKnownBugConvolveInputDilationHasNoGradient(t *testing.T) {
	expectNoGradient(t, func(xs []*graph.Node) *graph.Node {
		return graph.Convolve(xs[0], xs[1]).InputDilationPerAxis(2, 2).PaddingPerDim([][2]int{{2, 2}, {2, 2}}).Done()
	}, "gradient of Convolve with input dilation not defined", "GoMLX defined the gradient of graph.Convolve with input dilation: lib/nn/conv.go's ConvTranspose2DWithKernel "+
		"has a native alternative to compare against", nntest.Rand(1, 1, 3, 3, 2), nntest.Rand(2, 4, 4, 2, 2))
}

// The gradient of MeanPool with padding crashes the go backend ("slice bounds out of range"
// at compute's gobackend/ops/pad.go:169, a negative padding). lib/nn has no pooling (DDPM downsamples with a stride-2 convolution).
func TestKnownBugMeanPoolPaddingGradientCrashes(t *testing.T) {
	expectCrashInChild(t, "IAGEN_KNOWNBUG_MEANPOOL", func() error {
		return gradientMatches(func(xs []*graph.Node) *graph.Node {
			return graph.MeanPool(xs[0]).Window(3).Strides(2).PadSame().Done()
		}, nntest.Rand(1, 2, 6, 6, 2))
	}, "GoMLX fixed the gradient of MeanPool with padding: pooling layers can be used (no workaround in lib/nn to remove)",
		"pad.go:169")
}

// The gradient of graph.CumSum crashes the go backend (same pad.go:169 crash). Worked around by CumSum (lib/nn/math.go).
func TestKnownBugCumSumGradientCrashes(t *testing.T) {
	expectCrashInChild(t, "IAGEN_KNOWNBUG_CUMSUM", func() error {
		return gradientMatches(func(xs []*graph.Node) *graph.Node { return graph.CumSum(xs[0], 1) }, nntest.Rand(1, 3, 5))
	}, "GoMLX fixed graph.CumSum's gradient: remove the workaround in lib/nn/math.go (CumSum)",
		"pad.go:169")
}

// GoMLX's norm.BatchNorm in training fails on the go backend by default (BatchNormForTraining
// is not implemented) and, with UseBackendInference(false), stops the gradient at the batch
// statistics (PyTorch does not). Worked around by BatchNorm (lib/nn/norm.go).
func TestKnownBugBatchNormOnGoBackend(t *testing.T) {
	store := model.NewStore()
	exec, err := model.NewExec(goBackend(t), store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		scope.Store().SetTraining(x.Graph(), true)
		return norm.BatchNorm(scope, x, -1).Done()
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := exec.Exec(nntest.RandF32(1, 4, 3)); err == nil {
		t.Errorf("GoMLX's norm.BatchNorm now trains on the go backend: lib/nn/norm.go's BatchNorm may be replaceable " +
			"(check that its gradient goes through the batch statistics)")
	} else {
		t.Logf("bug still present: %.200s", err)
	}

	// The gradient w.r.t. x with UseBackendInference(false), compared with the gradient through
	// the statistics (our BatchNormTraining, checked against finite differences elsewhere).
	x := nntest.Rand(2, 4, 3)
	store = model.NewStore()
	gradOf := func(native bool) *tensorT {
		exec, err := model.NewExec(goBackend(t), store, func(scope *model.Scope, x *graph.Node) *graph.Node {
			scope.Store().SetTraining(x.Graph(), true)
			var y *graph.Node
			if native {
				y = norm.BatchNorm(scope.In("native"), x, -1).UseBackendInference(false).Epsilon(1e-5).Done()
			} else {
				y, _, _ = BatchNormTraining(x, nil, nil, 1e-5)
			}
			w := graph.IotaFull(x.Graph(), y.Shape())
			return graph.Gradient(graph.ReduceAllSum(graph.Mul(y, graph.Square(w))), x)[0]
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Exec(x)
		if err != nil {
			t.Fatal(err)
		}
		return out[0]
	}
	if d := nntest.MaxAbsDiff(gradOf(true), gradOf(false)); d < 1e-6 {
		t.Errorf("GoMLX's norm.BatchNorm(UseBackendInference(false)) now differentiates through the batch statistics: " +
			"lib/nn/norm.go's BatchNorm may be replaceable")
	} else {
		t.Logf("bug still present: gradients differ by up to %g", d)
	}
}

// The go backend's parallel executor deadlocks when 2·GOMAXPROCS large matrix products are
// ready at once: each runs as a pool task and waits in workerspool.Saturate for a free worker
// that the others hold (compute v0.1.3; it was first seen on GoMLX v0.26.0). lib/nn chains its
// per-tap products (conv.go, afterNode); the backend configurations "go:parallelism=-1" and
// "go:ops_sequential" avoid it. Skipped with -short: a hang is only detected by a timeout.
//
// "Did not finish in a few seconds" alone would also hold on a slow or busy machine where
// nothing hangs, so the wait is measured against a baseline: the same reproduction, as its own
// process, on "go:ops_sequential" (one op at a time, which cannot deadlock) must finish, and the
// default configuration must still be running after deadlockFactor times as long. The baseline
// includes starting the process and compiling the graph, which the other run repeats.
func TestKnownBugParallelMatMulDeadlock(t *testing.T) {
	if testing.Short() {
		t.Skip("detecting the hang takes a few seconds")
	}
	const childEnv = "IAGEN_KNOWNBUG_DEADLOCK" // the go backend's configuration for the child
	if config := os.Getenv(childEnv); config != "" {
		a := nntest.RandF32(1, 256, 256)
		// GoMLX's own configuration of the go backend ("go": its bounded worker pool), not
		// lib/backend's, which avoids the bug.
		native, err := compute.NewWithConfig(config)
		if err != nil {
			t.Fatal(err)
		}
		exec, err := graph.NewExec(native, func(a *graph.Node) *graph.Node {
			sum := graph.ScalarZero(a.Graph(), a.DType())
			for i := range 16 { // 16 independent products of [256, 256]·[256, 128], "large" for the backend.
				w := graph.AddScalar(graph.Slice(a, graph.AxisRange(), graph.AxisRange(0, 128)), float64(i))
				sum = graph.Add(sum, graph.ReduceAllSum(graph.MatMul(a, w)))
			}
			return sum
		})
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			exec.MustExec(a)
		}
		os.Exit(0)
	}
	if config := os.Getenv("IAGEN_NN_BACKEND"); config != "" {
		t.Skipf("backend configured as %q; the reproduction needs the default", config)
	}
	child := func(config string) *exec.Cmd {
		cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"="+config)
		return cmd
	}
	start := time.Now()
	if out, err := child("go:ops_sequential").CombinedOutput(); err != nil {
		t.Fatalf("the sequential baseline failed (%v): check the reproduction:\n%.2000s", err, out)
	}
	baseline := time.Since(start)
	verdict, waited := deadlockVerdict(child("go"), baseline)
	switch verdict {
	case "hang":
		t.Logf("bug still present: 20 runs of 16 parallel matrix products did not finish in %v; sequentially they took %v (deadlock)",
			waited.Round(time.Millisecond), baseline.Round(time.Millisecond))
	case "finished":
		t.Errorf("GoMLX's go backend no longer deadlocks on parallel matrix products (done in %v; sequentially %v): the chaining of per-tap "+
			"products (afterNode in lib/nn/conv.go) can go, and lib/backend's parallelism=-1 default is no longer needed", waited, baseline)
	default:
		t.Errorf("the child process failed instead of hanging (%s): check the reproduction", verdict)
	}
}

// deadlockFactor is how many times as long as the sequential baseline a run of the
// reproduction must last to count as hung: the parallel run does the same work on more cores,
// so unless it deadlocks it is faster than the baseline, not ten times slower.
const deadlockFactor = 10

// deadlockVerdict starts cmd and waits for it up to deadlockFactor·baseline (at least 2 s, so
// that a baseline measured in a lucky moment does not decide alone): "hang" when it is still
// running then (it is killed), "finished" when it exits 0, else its error.
func deadlockVerdict(cmd *exec.Cmd, baseline time.Duration) (verdict string, waited time.Duration) {
	limit := max(deadlockFactor*baseline, 2*time.Second)
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err.Error(), 0
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			return err.Error(), time.Since(start)
		}
		return "finished", time.Since(start)
	case <-time.After(limit):
		_ = cmd.Process.Kill()
		<-done
		return "hang", limit
	}
}
