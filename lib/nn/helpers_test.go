package nn

import (
	"os"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/iagen-course/iagen/lib/backend"
)

var (
	testBackendOnce sync.Once
	testBackend     compute.Backend
	testBackendErr  error
)

// goBackend returns the backend shared by the tests: the pure-Go one unless IAGEN_NN_BACKEND
// names another.
func goBackend(tb testing.TB) compute.Backend {
	if tb != nil {
		tb.Helper()
	}
	testBackendOnce.Do(func() {
		// IAGEN_NN_BACKEND runs the tests and benchmarks elsewhere: "go:ops_sequential",
		// "xla:cpu"… (any lib/backend name).
		config := os.Getenv("IAGEN_NN_BACKEND")
		if config == "" {
			config = "go"
		}
		testBackend, testBackendErr = backend.New(config)
	})
	if testBackendErr != nil {
		if tb == nil {
			panic(testBackendErr)
		}
		tb.Fatalf("test backend: %v", testBackendErr)
	}
	return testBackend
}

// run1 builds and runs fn once on the inputs, returning its single output.
func run1(tb testing.TB, fn func(xs []*graph.Node) *graph.Node, inputs ...*tensors.Tensor) *tensors.Tensor {
	tb.Helper()
	args := make([]any, len(inputs))
	for i, x := range inputs {
		args[i] = x
	}
	exec, err := graph.NewExec(goBackend(tb), fn)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := exec.Exec(args...)
	if err != nil {
		tb.Fatal(err)
	}
	return out[0]
}

type modelScope = model.Scope

type tensorT = tensors.Tensor

// newModelExec compiles a one-input model function on the go backend.
func newModelExec(tb testing.TB, store *model.Store, fn func(scope *model.Scope, x *graph.Node) *graph.Node) *model.Exec {
	tb.Helper()
	exec, err := model.NewExec(goBackend(tb), store, fn)
	if err != nil {
		tb.Fatal(err)
	}
	return exec
}

// trainableVarsInUse lists, in BuildTrainableVariablesGradientsGraph's order, the trainable
// variables of scope used by graph g.
func trainableVarsInUse(scope *model.Scope, g *graph.Graph) []*model.Variable {
	var vars []*model.Variable
	for v := range scope.IterVariables() {
		if v.Trainable && v.InUseByGraph(g) {
			vars = append(vars, v)
		}
	}
	return vars
}
