package train

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
)

// UpdateEMA adds to graph g the update of an exponential moving average of the variables vars
// (Polyak & Juditsky 1992; for generators, Yazıcı et al. 2019): θ_ema ← w·θ_ema + (1 − w)·θ,
// with the warm-up w = min(decay, n/(n + 10)) after n earlier updates (as TensorFlow's
// ExponentialMovingAverage with num_updates), so the first update copies θ and the average
// forgets the random initialisation within a few hundred steps instead of ~1/(1 − decay).
//
// The average of the variable at path P is the non-trainable variable "/"+scope+P; the update
// count is "/"+scope+"_count". Both are in the store, hence checkpointed. Read the averages with
// EMAScope's variables in an inference graph (the variable names below scope are those of vars).
func UpdateEMA(store *model.Store, g *graph.Graph, vars []*model.Variable, scope string, decay float64) {
	countVar := store.VariableWithShape("/"+scope+"_count", shapes.Make(dtypes.Float32), initializer.Zero).SetTrainable(false)
	count := countVar.NodeValue(g)
	w := graph.Min(graph.Div(count, graph.AddScalar(count, 10)), graph.Scalar(g, dtypes.Float32, decay))
	for _, v := range vars {
		ema := store.VariableWithShape("/"+scope+v.Path(), v.Shape(), initializer.Zero).SetTrainable(false)
		theta := v.NodeValue(g)
		wb := graph.BroadcastToShape(w, theta.Shape())
		ema.SetNodeValue(graph.Add(graph.Mul(wb, ema.NodeValue(g)), graph.Mul(graph.OneMinus(wb), theta)))
	}
	countVar.SetNodeValue(graph.AddScalar(count, 1))
}

// EMAWeight is the weight w of the old average in the update number n (0-based) of UpdateEMA.
func EMAWeight(n int, decay float64) float64 { return min(float64(n)/float64(n+10), decay) }
