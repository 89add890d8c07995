package rnn

import (
	"fmt"

	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// Cell is the recurrent cell of every layer. Each step reads the input pre-activation
// p = x·W + b_x [B, G·H] (computed for the whole sequence at once, outside the time loop) and
// the recurrent pre-activation q = h·R + b_h [B, G·H] (the one product left inside the loop),
// where G is Gates() and H the hidden width. The gate blocks are laid out as in PyTorch's
// nn.RNN, nn.GRU and nn.LSTM, whose parameters (two bias vectors included) these match one for
// one.
type Cell string

const (
	// RNN is Elman's simple recurrent network (Elman 1990, "Finding Structure in Time") with tanh:
	//
	//	h' = tanh(p + q)
	//
	// Back-propagated through time, ∂h_t/∂h_{t−1} = diag(1 − h_t²)·Rᵀ: a product of k such
	// Jacobians shrinks (or grows) geometrically with k — the vanishing gradient that Bengio,
	// Simard & Frasconi (1994) analysed and that the gated cells below were built to avoid.
	RNN Cell = "rnn"

	// GRU is the gated recurrent unit (Cho et al. 2014, "Learning Phrase Representations using
	// RNN Encoder–Decoder for Statistical Machine Translation", §2.3), blocks r, z, n:
	//
	//	r = σ(p_r + q_r)                 reset gate
	//	z = σ(p_z + q_z)                 update gate
	//	n = tanh(p_n + r ⊙ q_n)          candidate state
	//	h' = (1 − z) ⊙ n + z ⊙ h
	//
	// where z near 1 copies h forward unchanged (a gradient path that does not decay). Cho et
	// al. apply the reset before the recurrent product, n = tanh(W_n x + U_n (r ⊙ h)); this is
	// the variant of PyTorch and cuDNN, r ⊙ (U_n h + b_hn), which needs one recurrent product
	// per step instead of two.
	GRU Cell = "gru"

	// LSTM is the long short-term memory (Hochreiter & Schmidhuber 1997, "Long Short-Term
	// Memory") with the forget gate of Gers, Schmidhuber & Cummins (2000, "Learning to Forget:
	// Continual Prediction with LSTM"), blocks i, f, g, o:
	//
	//	i = σ(p_i + q_i)   f = σ(p_f + q_f)   g = tanh(p_g + q_g)   o = σ(p_o + q_o)
	//	c' = f ⊙ c + i ⊙ g                  the cell state: an additive path ("constant error
	//	h' = o ⊙ tanh(c')                   carousel"), ∂c'/∂c = diag(f), with no squashing
	//
	// Without the forget gate (f ≡ 1) the cell state can only grow; Gers et al. let it reset.
	// Config.ForgetBias starts f open (Jozefowicz et al. 2015).
	LSTM Cell = "lstm"
)

// Cells lists the cells, simplest first.
var Cells = []Cell{RNN, GRU, LSTM}

// Check reports an unknown cell.
func (c Cell) Check() error {
	if c.Gates() == 0 {
		return fmt.Errorf("rnn: unknown cell %q (use rnn, gru or lstm)", string(c))
	}
	return nil
}

// Gates is G, the number of H-wide blocks of the cell's pre-activations (0 for an unknown cell).
func (c Cell) Gates() int {
	switch c {
	case RNN:
		return 1
	case GRU:
		return 3
	case LSTM:
		return 4
	}
	return 0
}

// HasCellState reports whether the cell carries a second state c besides h (the LSTM).
func (c Cell) HasCellState() bool { return c == LSTM }

// step computes one time step of the cell for a batch: p and q [B, G·H] as above, h and cs
// [B, H] the state (cs nil but for the LSTM). It returns the new state and what the backward
// step needs (the gates' values).
func (c Cell) step(p, q, h, cs *graph.Node) (hNext, cNext *graph.Node, saved []*graph.Node) {
	switch c {
	case RNN:
		hNext = graph.Tanh(graph.Add(p, q))
		return hNext, nil, []*graph.Node{hNext}
	case GRU:
		pb, qb := graph.Split(p, 1, 3), graph.Split(q, 1, 3)
		r := graph.Sigmoid(graph.Add(pb[0], qb[0]))
		z := graph.Sigmoid(graph.Add(pb[1], qb[1]))
		n := graph.Tanh(graph.Add(pb[2], graph.Mul(r, qb[2])))
		hNext = graph.Add(n, graph.Mul(z, graph.Sub(h, n))) // (1 − z)⊙n + z⊙h
		return hNext, nil, []*graph.Node{r, z, n, qb[2]}
	case LSTM:
		a := graph.Split(graph.Add(p, q), 1, 4)
		i, f, g, o := graph.Sigmoid(a[0]), graph.Sigmoid(a[1]), graph.Tanh(a[2]), graph.Sigmoid(a[3])
		cNext = graph.Add(graph.Mul(f, cs), graph.Mul(i, g))
		tc := graph.Tanh(cNext)
		return graph.Mul(o, tc), cNext, []*graph.Node{i, f, g, o, tc}
	}
	panic(c.Check())
}

// backStep is step's backward pass (back-propagation through time, Werbos 1990): given the
// gradients dh of the loss with respect to the step's output h' (everything that reads h': the
// next layer, the head and the next step) and dc with respect to c' (nil: zero; LSTM only),
// and the step's inputs h, cs and saved values, it returns the gradients with respect to p
// and q, the part of ∂L/∂h that does not go through q (dhDirect, nil when none) and ∂L/∂c.
// The caller adds dq·Rᵀ to dhDirect and sums hᵀ·dq over the steps for ∂L/∂R.
//
//	RNN   da = dh ⊙ (1 − h'²);  dp = dq = da
//	GRU   dn̂ = dh ⊙ (1 − z) ⊙ (1 − n²)      (n̂: n's pre-activation)
//	      dẑ = dh ⊙ (h − n) ⊙ z(1 − z)    dr̂ = dn̂ ⊙ q_n ⊙ r(1 − r)
//	      dp = [dr̂ dẑ dn̂]   dq = [dr̂ dẑ dn̂ ⊙ r]   dhDirect = dh ⊙ z
//	LSTM  dc_t = dc + dh ⊙ o ⊙ (1 − tanh²c')
//	      dp = dq = [dc_t⊙g⊙i(1−i)  dc_t⊙c⊙f(1−f)  dc_t⊙i⊙(1−g²)  dh⊙tanh c'⊙o(1−o)]
//	      dcPrev = dc_t ⊙ f
func (c Cell) backStep(dh, dc, h, cs *graph.Node, saved []*graph.Node) (dp, dq, dhDirect, dcPrev *graph.Node) {
	sigmoidGrad := func(s *graph.Node) *graph.Node { return graph.Mul(s, oneMinus(s)) }
	tanhGrad := func(t *graph.Node) *graph.Node { return oneMinus(graph.Mul(t, t)) }
	switch c {
	case RNN:
		da := graph.Mul(dh, tanhGrad(saved[0]))
		return da, da, nil, nil
	case GRU:
		r, z, n, qn := saved[0], saved[1], saved[2], saved[3]
		dn := graph.Mul(graph.Mul(dh, oneMinus(z)), tanhGrad(n))
		dz := graph.Mul(graph.Mul(dh, graph.Sub(h, n)), sigmoidGrad(z))
		dr := graph.Mul(graph.Mul(dn, qn), sigmoidGrad(r))
		dp = graph.Concatenate([]*graph.Node{dr, dz, dn}, 1)
		dq = graph.Concatenate([]*graph.Node{dr, dz, graph.Mul(dn, r)}, 1)
		return dp, dq, graph.Mul(dh, z), nil
	case LSTM:
		i, f, g, o, tc := saved[0], saved[1], saved[2], saved[3], saved[4]
		dct := graph.Mul(graph.Mul(dh, o), tanhGrad(tc))
		if dc != nil {
			dct = graph.Add(dct, dc)
		}
		da := graph.Concatenate([]*graph.Node{
			graph.Mul(graph.Mul(dct, g), sigmoidGrad(i)),
			graph.Mul(graph.Mul(dct, cs), sigmoidGrad(f)),
			graph.Mul(graph.Mul(dct, i), tanhGrad(g)),
			graph.Mul(graph.Mul(dh, tc), sigmoidGrad(o)),
		}, 1)
		return da, da, nil, graph.Mul(dct, f)
	}
	panic(c.Check())
}

// oneMinus is 1 − x, for the time loop's body: GoMLX (v0.28.4) caches scalar constants per
// graph rather than per function, so graph.OneMinus's cached 1, made inside one graph.While
// body, cannot be used in the next ("cannot add operation … in function closureN").
func oneMinus(x *graph.Node) *graph.Node {
	return graph.Sub(graph.ConstAsDType(x.Graph(), x.DType(), 1), x)
}

// savedCount is how many [B, H] values step keeps for backStep.
func (c Cell) savedCount() int { return map[Cell]int{RNN: 1, GRU: 4, LSTM: 5}[c] }

// layerPass is one layer's forward pass over a sequence, kept for its backward pass; every
// tensor is time-major, [T, B, …].
type layerPass struct {
	cell  Cell
	loop  Loop
	r, bh *graph.Node // R [H, G·H] and b_h [G·H]
	h     *graph.Node // the state after each step, [T, B, H]: the layer's output
	// hPrev and cPrev are the state each step starts from, [T, B, H] (cPrev nil but for the
	// LSTM); saved holds step's saved values, each [T, B, H].
	hPrev, cPrev *graph.Node
	saved        []*graph.Node
}

// runLayer runs cell over the input pre-activations p [T, B, G·H] from the state (h0, c0)
// ([B, H]; c0 nil but for the LSTM), with recurrent weights r [H, G·H] and biases bh [G·H].
// Only q = h·R + b_h is computed inside the time loop.
func runLayer(loop Loop, cell Cell, p, r, bh, h0, c0 *graph.Node) *layerPass {
	lp := &layerPass{cell: cell, loop: loop, r: r, bh: bh}
	carry := []*graph.Node{h0}
	if c0 != nil {
		carry = append(carry, c0)
	}
	state := h0.Shape()
	ysShapes := make([]shapes.Shape, len(carry)+cell.savedCount())
	for k := range ysShapes {
		ysShapes[k] = state
	}
	_, ys := loop.scan(false, []*graph.Node{r, bh}, []*graph.Node{p}, carry, ysShapes, func(w, x, carry []*graph.Node) (next, ys []*graph.Node) {
		var cs *graph.Node
		if len(carry) > 1 {
			cs = carry[1]
		}
		h, cNext, saved := cell.step(x[0], affine(carry[0], w[0], w[1]), carry[0], cs)
		next = []*graph.Node{h}
		if cNext != nil {
			next = append(next, cNext)
		}
		return next, append(next, saved...)
	})
	lp.h, lp.saved = ys[0], ys[len(carry):]
	lp.hPrev = shiftIn(h0, ys[0])
	if c0 != nil {
		lp.cPrev = shiftIn(c0, ys[1])
	}
	return lp
}

// shiftIn returns [x0, xs[0], …, xs[T−2]] for x0 [B, H] and xs [T, B, H]: the state before each step.
func shiftIn(x0, xs *graph.Node) *graph.Node {
	steps := xs.Shape().Dimensions[0]
	return graph.Concatenate([]*graph.Node{graph.InsertAxes(x0, 0), graph.SliceAxis(xs, 0, graph.AxisRange(0, steps-1))}, 0)
}

// backward back-propagates through time (Werbos 1990, "Backpropagation Through Time: What It
// Does and How to Do It"): given dH [T, B, H], the gradient of the loss with respect to every
// step's output h_t from outside the layer (the next layer or the head), it runs the steps
// backwards, adding to each step's dh the gradient that flows back from step t+1, and returns
// the gradients with respect to the input pre-activations dP [T, B, G·H], to R and to b_h.
// Only dq_t·Rᵀ is computed inside the loop; ∂L/∂R = Σ_t h_{t−1}ᵀ·dq_t is one product over all
// steps, [H, T·B]·[T·B, G·H], as cuDNN does.
func (lp *layerPass) backward(dH *graph.Node) (dP, dR, dbh *graph.Node) {
	xs := append([]*graph.Node{dH, lp.hPrev}, lp.saved...)
	if lp.cPrev != nil {
		xs = append(xs, lp.cPrev)
	}
	b, gh := dH.Shape().Dimensions[1], lp.r.Shape().Dimensions[1]
	state := shapes.Make(dH.DType(), b, lp.r.Shape().Dimensions[0])
	zero := graph.Zeros(dH.Graph(), state)
	carry := []*graph.Node{zero} // ∂L/∂h (and ∂L/∂c) from after the last step: none
	if lp.cPrev != nil {
		carry = append(carry, zero)
	}
	grads := []shapes.Shape{shapes.Make(dH.DType(), b, gh)}
	if lp.cell == GRU { // dq differs from dp
		grads = append(grads, grads[0])
	}
	n := lp.cell.savedCount()
	_, ys := lp.loop.scan(true, []*graph.Node{lp.r}, xs, carry, grads, func(r, x, carry []*graph.Node) (next, ys []*graph.Node) {
		dh := graph.Add(x[0], carry[0])
		var dcNext, cPrev *graph.Node
		if lp.cPrev != nil {
			dcNext, cPrev = carry[1], x[2+n]
		}
		dp, dq, dhDirect, dcPrev := lp.cell.backStep(dh, dcNext, x[1], cPrev, x[2:2+n])
		dhPrev := graph.DotGeneral(dq, []int{1}, nil, r[0], []int{1}, nil) // dq·Rᵀ
		if dhDirect != nil {
			dhPrev = graph.Add(dhPrev, dhDirect)
		}
		next = []*graph.Node{dhPrev}
		if dcPrev != nil {
			next = append(next, dcPrev)
		}
		if lp.cell == GRU {
			return next, []*graph.Node{dp, dq}
		}
		return next, []*graph.Node{dp}
	})
	dP, dQ := ys[0], ys[len(ys)-1]
	dR = graph.DotGeneral(lp.hPrev, []int{0, 1}, nil, dQ, []int{0, 1}, nil)
	return dP, dR, graph.ReduceSum(dQ, 0, 1)
}
