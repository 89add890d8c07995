package nn

import (
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	. "github.com/gomlx/gomlx/support/exceptions" //nolint:staticcheck
)

// LSTM runs one LSTM layer (Hochreiter & Schmidhuber 1997, "Long Short-Term Memory", with the
// forget gate of Gers et al. 2000), as PyTorch's nn.LSTM computes it, over a sequence given
// step by step: xs[t] [B, F] → hs[t] [B, hidden], from the state (h0, c0), each [B, hidden]
// (nil: zeros). It returns every step's hidden state and the last cell state. See LSTMCell
// for the equations and the variables it creates in scope.
//
// The sequence is a slice of nodes, not a [B, S, F] tensor, so that nothing is sliced out of a
// whole-sequence tensor: in GoMLX the gradient of each slice is a zero-padded copy of the whole
// tensor, added into the others, which makes back-propagation O(S²). GoMLX's own ml/layers/lstm
// (correct, but built that way: one [.., B, S, 4H] input projection sliced per step and gate)
// spends two thirds of BENCH.md's lstm step in those pads and adds: on the go backend it took
// 2.6 s of CPU time per step, this one 0.75 s (BenchmarkLSTMStep, 2026-11-27). A stacked LSTM
// passes one layer's hs to the next directly.
func LSTM(scope *model.Scope, xs []*graph.Node, hidden int, h0, c0 *graph.Node) (hs []*graph.Node, cLast *graph.Node) {
	if len(xs) == 0 {
		Panicf("LSTM: empty sequence")
	}
	x0 := xs[0]
	if x0.Rank() != 2 {
		Panicf("LSTM: each step must be [batch, features], got %s", x0.Shape())
	}
	stateShape := shapes.Make(x0.DType(), x0.Shape().Dimensions[0], hidden)
	h, c := h0, c0
	if h == nil {
		h = graph.Zeros(x0.Graph(), stateShape)
	}
	if c == nil {
		c = graph.Zeros(x0.Graph(), stateShape)
	}
	hs = make([]*graph.Node, len(xs))
	for t, x := range xs {
		h, c = LSTMCell(scope, x, h, c)
		hs[t] = h
	}
	return hs, c
}

// LSTMCell computes one LSTM step, PyTorch's nn.LSTMCell: LSTMCellWithWeights with the
// variables of sub-scope "lstm" of scope — "input_weights" W [F, 4H], "recurrent_weights"
// R [H, 4H] (He-normal, GoMLX's default initialiser) and "biases" b [4H] (zeros; PyTorch's
// b_ih + b_hh in one vector). Calls with the same scope share them (the steps of a sequence).
// x [B, F], h and c [B, H] → h', c' [B, H].
func LSTMCell(scope *model.Scope, x, h, c *graph.Node) (hNext, cNext *graph.Node) {
	scope = scope.At("lstm") // At, not In: the steps of a sequence share the variables.
	if x.Rank() != 2 || h.Rank() != 2 {
		Panicf("LSTMCell: x [B, F] and h [B, H] expected, got %s, %s", x.Shape(), h.Shape())
	}
	g := x.Graph()
	f, hidden := x.Shape().Dimensions[1], h.Shape().Dimensions[1]
	w := scope.VariableWithShape("input_weights", shapes.Make(x.DType(), f, 4*hidden)).NodeValue(g)
	r := scope.VariableWithShape("recurrent_weights", shapes.Make(x.DType(), hidden, 4*hidden)).NodeValue(g)
	b := scope.VariableWithShape("biases", shapes.Make(x.DType(), 4*hidden)).NodeValue(g)
	return LSTMCellWithWeights(x, h, c, w, r, b)
}

// LSTMCellWithWeights is the functional form of LSTMCell: one step of the LSTM with explicit
// weights, the gates in PyTorch's order i, f, g, o:
//
//	[i f g o] = x·W + h·R + b                   W [F, 4H], R [H, 4H], b [4H]
//	i, f, o = σ(·)    g = tanh(·)                 input, forget, output gates; candidate cell
//	c' = f⊙c + i⊙g    h' = o⊙tanh(c')
//
// x [B, F], h and c [B, H] → h', c' [B, H]. The products use MatMul2D (a gradient laid out
// for the go backend).
func LSTMCellWithWeights(x, h, c, w, r, b *graph.Node) (hNext, cNext *graph.Node) {
	if x.Rank() != 2 || h.Rank() != 2 || !h.Shape().Equal(c.Shape()) || h.Shape().Dimensions[0] != x.Shape().Dimensions[0] {
		Panicf("LSTMCellWithWeights: x [B, F], h and c [B, H] expected, got %s, %s, %s", x.Shape(), h.Shape(), c.Shape())
	}
	f, hidden := x.Shape().Dimensions[1], h.Shape().Dimensions[1]
	if !w.Shape().Equal(shapes.Make(x.DType(), f, 4*hidden)) || !r.Shape().Equal(shapes.Make(x.DType(), hidden, 4*hidden)) ||
		!b.Shape().Equal(shapes.Make(x.DType(), 4*hidden)) {
		Panicf("LSTMCellWithWeights: W [F=%d, 4H=%d], R [H=%d, 4H], b [4H] expected, got %s, %s, %s", f, 4*hidden, hidden, w.Shape(), r.Shape(), b.Shape())
	}
	pre := graph.Add(graph.Add(MatMul2D(x, w), MatMul2D(h, r)), graph.Reshape(b, 1, 4*hidden)) // [B, 4H]
	gate := func(k int) *graph.Node { return graph.SliceAxis(pre, 1, graph.AxisRange(k*hidden, (k+1)*hidden)) }
	i, fg, cand, o := graph.Sigmoid(gate(0)), graph.Sigmoid(gate(1)), graph.Tanh(gate(2)), graph.Sigmoid(gate(3))
	cNext = graph.Add(graph.Mul(fg, c), graph.Mul(i, cand))
	hNext = graph.Mul(o, graph.Tanh(cNext))
	return hNext, cNext
}
