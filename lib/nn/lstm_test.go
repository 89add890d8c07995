package nn

import (
	"math"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/iagen-course/iagen/lib/nn/nntest"
)

// lstmReference runs the LSTM equations of LSTMCellWithWeights (PyTorch's nn.LSTM, gates
// i, f, g, o) in float64, directly in Go, from a zero state. x is [B, S, F], w [F, 4H],
// r [H, 4H], b [4H], all flat row-major. Returns every step's hidden state, [S, B, H] flat.
func lstmReference(x, w, r, b []float64, batch, seq, feat, hidden int) []float64 {
	sigmoid := func(v float64) float64 { return 1 / (1 + math.Exp(-v)) }
	h := make([]float64, batch*hidden)
	c := make([]float64, batch*hidden)
	var out []float64
	for t := range seq {
		newH := make([]float64, batch*hidden)
		for bi := range batch {
			pre := make([]float64, 4*hidden) // [i f g o]
			for k := range pre {
				pre[k] = b[k]
				for f := range feat {
					pre[k] += x[(bi*seq+t)*feat+f] * w[f*4*hidden+k]
				}
				for j := range hidden {
					pre[k] += h[bi*hidden+j] * r[j*4*hidden+k]
				}
			}
			for j := range hidden {
				i, f, g, o := sigmoid(pre[j]), sigmoid(pre[hidden+j]), math.Tanh(pre[2*hidden+j]), sigmoid(pre[3*hidden+j])
				c[bi*hidden+j] = f*c[bi*hidden+j] + i*g
				newH[bi*hidden+j] = o * math.Tanh(c[bi*hidden+j])
			}
		}
		h = newH
		out = append(out, h...)
	}
	return out
}

// LSTM (hidden 3, 2 steps, zero state, weights set in the store) against lstmReference.
func TestLSTMMatchesReference(t *testing.T) {
	const batch, seq, feat, hidden = 2, 2, 2, 3
	x, w, r, b := nntest.Rand(1, batch, seq, feat), nntest.Rand(2, feat, 4*hidden), nntest.Rand(3, hidden, 4*hidden), nntest.Rand(4, 4*hidden)
	store := model.NewStore() // Its weights are set below.
	for name, v := range map[string]*tensorT{"input_weights": w, "recurrent_weights": r, "biases": b} {
		if _, err := store.CreateVariable("/rnn/lstm/"+name, v); err != nil {
			t.Fatal(err)
		}
	}
	exec := newModelExec(t, store, func(scope *model.Scope, x *graph.Node) *graph.Node {
		xs := make([]*graph.Node, seq)
		for i := range xs {
			xs[i] = graph.Reshape(graph.SliceAxis(x, 1, graph.AxisElem(i)), batch, feat)
		}
		hs, _ := LSTM(scope.In("rnn"), xs, hidden, nil, nil)
		return graph.Stack(hs, 0) // [S, B, H]
	})
	got := nntest.Float64s(exec.MustExec(x)[0])
	want := lstmReference(nntest.Float64s(x), nntest.Float64s(w), nntest.Float64s(r), nntest.Float64s(b), batch, seq, feat, hidden)
	if len(got) != len(want) {
		t.Fatalf("%d hidden values, want %d", len(got), len(want))
	}
	for i := range want {
		if !(math.Abs(got[i]-want[i]) <= 1e-12) {
			t.Fatalf("hidden state [%d] = %.15g, want %.15g", i, got[i], want[i])
		}
	}
	if n := store.NumVariables(); n != 3 {
		t.Errorf("%d variables, want 3 (the steps share the cell's)", n)
	}
}

// Two steps of LSTMCellWithWeights from a given state: gradients of both steps' inputs, the
// state and the weights against finite differences.
func TestLSTMCellGradient(t *testing.T) {
	const batch, feat, hidden = 2, 2, 3
	nntest.GradCheck(t, goBackend(t), func(in []*graph.Node) *graph.Node {
		h, c := in[2], in[3]
		h1, c1 := LSTMCellWithWeights(in[0], h, c, in[4], in[5], in[6])
		h2, c2 := LSTMCellWithWeights(in[1], h1, c1, in[4], in[5], in[6])
		return graph.Concatenate([]*graph.Node{h1, h2, c2}, 1)
	}, 1e-7, nntest.Rand(1, batch, feat), nntest.Rand(2, batch, feat), nntest.Rand(3, batch, hidden), nntest.Rand(4, batch, hidden),
		nntest.Rand(5, feat, 4*hidden), nntest.Rand(6, hidden, 4*hidden), nntest.Rand(7, 4*hidden))
}
