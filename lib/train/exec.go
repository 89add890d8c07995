package train

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	gomlxtrain "github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/nn"
)

// GraphFn builds a computation from input nodes: a training step returns its loss first, then
// any other scalars to report under Exec's names.
type GraphFn func(scope *model.Scope, inputs []*graph.Node) []*graph.Node

// Exec is a compiled step or evaluation, reused for every call (GoMLX compiles once per input
// shape). It reports its scalar outputs as Metrics.
type Exec struct {
	exec  *model.Exec
	names []string
}

// NewTrainExec compiles a training step: fn computes the loss (and more metrics) in training
// mode, then opt updates the trainable variables under optScope ("" for all of them) to lower
// it. A family training two models (a GAN) makes one Exec per model, each with its own
// optimizer (and optimizer scope) and optScope.
func NewTrainExec(b compute.Backend, store *model.Store, opt optimizer.Interface, optScope string, names []string, fn GraphFn) (*Exec, error) {
	return newExec(b, store, names, func(scope *model.Scope, g *graph.Graph, inputs []*graph.Node) []*graph.Node {
		store.SetTraining(g, true)
		outs := fn(scope, inputs)
		target := scope
		if optScope != "" {
			target = scope.In("%s", optScope)
		}
		opt.UpdateGraph(target, g, outs[0])
		return outs
	})
}

// NewStepExec compiles a training step that updates its variables itself: fn computes in
// training mode and calls each optimizer's UpdateGraph — a GAN updates D, then G through the
// updated D, in one execution instead of one per player.
func NewStepExec(b compute.Backend, store *model.Store, names []string, fn GraphFn) (*Exec, error) {
	return newExec(b, store, names, func(scope *model.Scope, g *graph.Graph, inputs []*graph.Node) []*graph.Node {
		store.SetTraining(g, true)
		return fn(scope, inputs)
	})
}

// NewClippedTrainExec is NewTrainExec with the gradients clipped to global norm maxNorm
// (nn.ClipByGlobalNorm; math.Inf(1) clips nothing) before opt — which must take gradients, as
// GoMLX's Adam and SGD do — updates all trainable variables. The gradients' norm before
// clipping is appended to fn's outputs: name it last in names (e.g. "grad_norm").
func NewClippedTrainExec(b compute.Backend, store *model.Store, opt optimizer.Interface, maxNorm float64, names []string, fn GraphFn) (*Exec, error) {
	withGrads, ok := opt.(gomlxtrain.OptimizeWithGradients)
	if !ok {
		return nil, fmt.Errorf("train: optimizer %T does not take gradients, so they cannot be clipped", opt)
	}
	if !(maxNorm > 0) {
		return nil, fmt.Errorf("train: the gradient norm to clip at must be > 0, got %g", maxNorm)
	}
	return newExec(b, store, names, func(scope *model.Scope, g *graph.Graph, inputs []*graph.Node) []*graph.Node {
		store.SetTraining(g, true)
		outs := fn(scope, inputs)
		grads, norm := nn.ClipByGlobalNorm(scope.BuildTrainableVariablesGradientsGraph(outs[0]), maxNorm)
		withGrads.UpdateGraphWithGradients(scope, grads, outs[0].DType())
		return append(outs, norm)
	})
}

// NewEvalExec compiles an inference-mode computation (no variable is trained).
func NewEvalExec(b compute.Backend, store *model.Store, names []string, fn GraphFn) (*Exec, error) {
	return newExec(b, store, names, func(scope *model.Scope, g *graph.Graph, inputs []*graph.Node) []*graph.Node {
		store.SetTraining(g, false)
		return fn(scope, inputs)
	})
}

func newExec(b compute.Backend, store *model.Store, names []string, fn func(*model.Scope, *graph.Graph, []*graph.Node) []*graph.Node) (*Exec, error) {
	e, err := model.NewExec(b, store, fn)
	if err != nil {
		return nil, err
	}
	return &Exec{exec: e, names: names}, nil
}

// Call runs the computation and returns all its outputs. GoMLX panics become errors.
func (e *Exec) Call(inputs ...any) (out []*tensors.Tensor, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("%v", firstLine(fmt.Sprint(r)))
		}
	}()
	return e.exec.Call(inputs...)
}

// Run runs the computation and returns its first len(names) outputs, which must be scalars,
// as metrics.
func (e *Exec) Run(inputs ...any) (Metrics, error) {
	out, err := e.Call(inputs...)
	if err != nil {
		return nil, err
	}
	if len(out) < len(e.names) {
		return nil, fmt.Errorf("computation returned %d outputs, want at least %d (%v)", len(out), len(e.names), e.names)
	}
	ms := make(Metrics, len(e.names))
	for i, name := range e.names {
		v, err := Scalar(out[i])
		if err != nil {
			return nil, fmt.Errorf("metric %s: %w", name, err)
		}
		ms[i] = Metric{Name: name, Value: v}
	}
	return ms, nil
}

// Scalar converts a scalar tensor of any float or integer dtype to float64.
func Scalar(t *tensors.Tensor) (float64, error) {
	if t.Shape().Rank() != 0 {
		return 0, fmt.Errorf("want a scalar, got shape %s", t.Shape())
	}
	switch v := t.Value().(type) {
	case float32:
		return float64(v), nil
	case float64:
		return v, nil
	case int32:
		return float64(v), nil
	case int64:
		return float64(v), nil
	}
	return 0, fmt.Errorf("unsupported scalar dtype %s", t.Shape().DType)
}
