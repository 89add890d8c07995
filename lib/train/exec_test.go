package train

import (
	"math"
	"testing"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
)

// One SGD step (learning rate 1) on L = ½‖w − c‖² from w = 0, whose gradient is −c with norm
// ‖c‖ = 5: unclipped it lands on c; clipped to norm 1 it moves c/5. Either way the step reports
// the gradient's norm before clipping.
func TestClippedTrainExec(t *testing.T) {
	b := testBackend(t)
	c := []float32{3, 4}
	for _, tc := range []struct {
		maxNorm float64
		want    []float32
	}{{math.Inf(1), c}, {100, c}, {1, []float32{0.6, 0.8}}} {
		store := model.NewStore()
		sgd := optimizer.StochasticGradientDescent().WithLearningRate(1).WithDecay(false).Done()
		e, err := NewClippedTrainExec(b, store, sgd, tc.maxNorm, []string{"loss", "grad_norm"},
			func(scope *model.Scope, in []*graph.Node) []*graph.Node {
				w := scope.VariableWithValue("w", shapes.CastAsDType([]float32{0, 0}, in[0].DType())).NodeValue(in[0].Graph())
				d := graph.Sub(w, in[0])
				return []*graph.Node{graph.MulScalar(graph.ReduceAllSum(graph.Mul(d, d)), 0.5)}
			})
		if err != nil {
			t.Fatal(err)
		}
		ms, err := e.Run(tensors.FromValue(c))
		if err != nil {
			t.Fatal(err)
		}
		if norm, _ := ms.Get("grad_norm"); math.Abs(norm-5) > 1e-5 {
			t.Errorf("clip %g: grad_norm %g, want 5 (before clipping)", tc.maxNorm, norm)
		}
		w := tensors.MustCopyFlatData[float32](store.GetVariable("/w").MustValue())
		for i := range w {
			if math.Abs(float64(w[i]-tc.want[i])) > 1e-5 {
				t.Errorf("clip %g: w = %v after one step, want %v", tc.maxNorm, w, tc.want)
				break
			}
		}
	}
	if _, err := NewClippedTrainExec(b, model.NewStore(), optimizer.Adam().Done(), 0, nil, nil); err == nil {
		t.Error("clipping at norm 0 was accepted")
	}
}
