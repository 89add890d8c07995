package backend_test

import (
	"math"
	"math/rand"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	. "github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"

	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/backend/backendtest"
)

// xlaCPU returns the xla:cpu backend and the go backend. Without a PJRT CPU plugin the test is
// skipped, unless setup installed one here: then it fails (backendtest.XLACPU).
func xlaCPU(t *testing.T) (xla, goB compute.Backend) {
	t.Helper()
	xla = backendtest.XLACPU(t)
	path, searched := backend.FindPlugin("cpu")
	if path == "" {
		t.Fatalf("xla:cpu loaded, but FindPlugin(cpu) finds no plugin (looked in %s)", strings.Join(searched, ", "))
	}
	config, err := backend.Resolve("xla:cpu")
	if err != nil {
		t.Fatalf("Resolve(xla:cpu): %v", err)
	}
	if config != "xla:"+path {
		t.Fatalf("Resolve(xla:cpu) = %q, want %q", config, "xla:"+path)
	}
	goB, err = backend.New("go")
	if err != nil {
		t.Fatalf("New(go): %v", err)
	}
	t.Cleanup(goB.Finalize)
	t.Logf("xla:cpu plugin %s: %s", path, xla.Description())
	return xla, goB
}

func randomTensor(r *rand.Rand, dims ...int) *tensors.Tensor {
	n := 1
	for _, d := range dims {
		n *= d
	}
	data := make([]float32, n)
	for i := range data {
		data[i] = float32(r.NormFloat64())
	}
	return tensors.FromFlatDataAndDimensions(data, dims...)
}

// assertClose checks |got-want| <= atol + rtol*|want| elementwise, and equal shapes.
func assertClose(t *testing.T, name string, got, want *tensors.Tensor, atol, rtol float64) {
	t.Helper()
	if !got.Shape().Equal(want.Shape()) {
		t.Errorf("%s: shape %s on xla:cpu, %s on go", name, got.Shape(), want.Shape())
		return
	}
	g, w := tensors.MustCopyFlatData[float32](got), tensors.MustCopyFlatData[float32](want)
	worst, at := 0.0, 0
	for i := range w {
		d := math.Abs(float64(g[i]-w[i])) / (atol + rtol*math.Abs(float64(w[i])))
		if d > worst || math.IsNaN(d) {
			worst, at = d, i
		}
	}
	if worst > 1 || math.IsNaN(worst) {
		t.Errorf("%s: element %d is %g on xla:cpu, %g on go (atol %g, rtol %g)", name, at, g[at], w[at], atol, rtol)
	}
}

func TestXLACPUOpsMatchGo(t *testing.T) {
	xla, goB := xlaCPU(t)
	// A tensor belongs to one backend once used: each backend gets its own copy of the inputs.
	inputs := func() []any {
		r := rand.New(rand.NewSource(1))
		return []any{randomTensor(r, 64, 128), randomTensor(r, 128, 32), randomTensor(r, 6, 10)}
	}

	ops := func(a, b, v *Node) []*Node {
		return []*Node{
			MatMul(a, b),
			Exp(v),
			Tanh(v),
			Softmax(v, -1),
			ReduceSum(v, -1),
			ReduceMax(v, 0),
			Log1P(Abs(v)),
		}
	}
	names := []string{"MatMul", "Exp", "Tanh", "Softmax", "ReduceSum", "ReduceMax", "Log1P"}
	got := MustExecOnceN(xla, ops, inputs()...)
	want := MustExecOnceN(goB, ops, inputs()...)
	for i, name := range names {
		assertClose(t, name, got[i], want[i], 1e-4, 1e-4)
	}
}

func TestXLACPUGradientMatchesGo(t *testing.T) {
	xla, goB := xlaCPU(t)
	inputs := func() []any {
		r := rand.New(rand.NewSource(2))
		return []any{randomTensor(r, 8, 20), randomTensor(r, 20, 16), randomTensor(r, 16, 4)}
	}

	// A two-layer network's loss and its gradient with respect to the weights and the input.
	lossAndGrads := func(x, w1, w2 *Node) []*Node {
		h := Tanh(MatMul(x, w1))
		out := MatMul(h, w2)
		loss := Add(ReduceAllMean(Square(Softmax(out, -1))), ReduceAllMean(Mul(out, out)))
		return append([]*Node{loss}, Gradient(loss, x, w1, w2)...)
	}
	got := MustExecOnceN(xla, lossAndGrads, inputs()...)
	want := MustExecOnceN(goB, lossAndGrads, inputs()...)
	for i, name := range []string{"loss", "d/dx", "d/dw1", "d/dw2"} {
		assertClose(t, name, got[i], want[i], 1e-6, 1e-4)
	}
}

// The CPU plugin is built with backend.CPUDevices devices, not its default of 4, which would
// also give it more Eigen threads than this machine has cores (see CPUDevices).
func TestXLACPUDevices(t *testing.T) {
	xla, _ := xlaCPU(t)
	if n := xla.NumDevices(); n != backend.CPUDevices {
		t.Errorf("xla:cpu has %d devices, want backend.CPUDevices = %d", n, backend.CPUDevices)
	}
}
