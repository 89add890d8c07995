package train

import (
	"math"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// TestUpdateEMAClosedForm feeds a known sequence θ_n through UpdateEMA and compares the average
// with the recursion e_{n+1} = w_n·e_n + (1 − w_n)·θ_n, w_n = min(n/(n+10), d), computed here.
func TestUpdateEMAClosedForm(t *testing.T) {
	const decay = 0.9
	b := testBackend(t)
	store := model.NewStore()
	e, err := model.NewExec(b, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		v := store.VariableWithShape("/w", shapes.Make(dtypes.Float32, 2), initializer.Zero)
		v.SetNodeValue(x)
		UpdateEMA(store, x.Graph(), []*model.Variable{v}, "avg", decay)
		return x
	})
	if err != nil {
		t.Fatal(err)
	}
	want := [2]float64{}
	for n := range 40 {
		theta := [2]float64{float64(n), math.Sin(float64(n))}
		if _, err := e.Call([]float32{float32(theta[0]), float32(theta[1])}); err != nil {
			t.Fatal(err)
		}
		w := EMAWeight(n, decay)
		for i := range want {
			want[i] = w*want[i] + (1-w)*theta[i]
		}
		got := store.GetVariable("/avg/w").MustValue().Value().([]float32)
		for i := range want {
			if !(math.Abs(float64(got[i])-want[i]) <= 1e-4*(1+math.Abs(want[i]))) {
				t.Fatalf("update %d: average[%d] = %g, want %g", n, i, got[i], want[i])
			}
		}
		count, _ := Scalar(store.GetVariable("/avg_count").MustValue())
		if count != float64(n+1) {
			t.Fatalf("update %d: count %g, want %d", n, count, n+1)
		}
		if store.GetVariable("/avg/w").Trainable {
			t.Fatal("the average must not be trainable")
		}
	}
	if EMAWeight(0, decay) != 0 || EMAWeight(1000, decay) != decay {
		t.Errorf("EMAWeight warm-up: w(0) = %g (want 0), w(1000) = %g (want %g)", EMAWeight(0, decay), EMAWeight(1000, decay), decay)
	}
}
