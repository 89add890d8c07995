package rnn

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
)

// Loop says how the time loop of a layer is built into the graph.
type Loop string

const (
	// Unrolled writes every step into the graph: T copies of the step, which the compiler may
	// schedule and fuse across steps, but whose compilation grows with T.
	Unrolled Loop = "unrolled"
	// While builds one step and runs it T times with graph.While, reading each step's inputs
	// with DynamicSlice and writing its outputs with DynamicUpdateSlice (XLA's backends; the go
	// backend of compute v0.1.3 has neither op).
	While Loop = "while"
	// Auto is While where the backend has While, DynamicSlice and DynamicUpdateSlice, else
	// Unrolled.
	Auto Loop = ""
)

// Check reports an unknown loop.
func (l Loop) Check() error {
	if l != Auto && l != Unrolled && l != While {
		return fmt.Errorf("rnn: unknown loop %q (use unrolled or while; empty chooses)", string(l))
	}
	return nil
}

// resolve returns the loop that Auto means on backend b, or l.
func (l Loop) resolve(b compute.Backend) Loop {
	if l != Auto {
		return l
	}
	ops := b.Capabilities().Operations // XLA's do not list While: closures (Functions) stand for it
	if b.Capabilities().Functions && ops[compute.OpTypeDynamicSlice] && ops[compute.OpTypeDynamicUpdateSlice] {
		return While
	}
	return Unrolled
}

// scanBody computes one step: from consts (the same at every step), the step's slices of the
// scanned tensors and the carried state, the new state and the step's outputs.
type scanBody func(consts, xs, carry []*graph.Node) (next, ys []*graph.Node)

// scan runs body over the steps t of the leading axis of xs (each [T, …]), in order or, with
// reverse, from T−1 down to 0, like a functional scan (JAX's lax.scan): carry is passed from
// step to step, and each step's outputs ys (of shapes ysShapes) are stacked into [T, …]
// tensors, indexed by t. Every other node body uses must come through consts (a While body
// cannot read nodes of the graph around it). It returns the last carry and the stacked outputs.
func (l Loop) scan(reverse bool, consts, xs, carry []*graph.Node, ysShapes []shapes.Shape, body scanBody) (last, ys []*graph.Node) {
	if l == While {
		return whileScan(reverse, consts, xs, carry, ysShapes, body)
	}
	steps := xs[0].Shape().Dimensions[0]
	perStep := make([][]*graph.Node, len(ysShapes))
	for k := range perStep {
		perStep[k] = make([]*graph.Node, steps)
	}
	for i := range steps {
		t := i
		if reverse {
			t = steps - 1 - i
		}
		xt := make([]*graph.Node, len(xs))
		for k, x := range xs {
			xt[k] = graph.Squeeze(graph.SliceAxis(x, 0, graph.AxisElem(t)), 0)
		}
		var yt []*graph.Node
		carry, yt = body(consts, xt, carry)
		for k, y := range yt {
			perStep[k][t] = y
		}
	}
	ys = make([]*graph.Node, len(perStep))
	for k, p := range perStep {
		ys[k] = graph.Stack(p, 0)
	}
	return carry, ys
}

// whileScan is scan as one graph.While. The loop state is (t, carry…, outputs…, xs…,
// consts…): the outputs preallocated as zeros [T, …] and written one step at a time, xs and
// consts passed through unchanged.
func whileScan(reverse bool, consts, xs, carry []*graph.Node, ysShapes []shapes.Shape, body scanBody) (last, ys []*graph.Node) {
	g := xs[0].Graph()
	steps := xs[0].Shape().Dimensions[0]
	t0, dt := 0, 1
	if reverse {
		t0, dt = steps-1, -1
	}
	state := []*graph.Node{graph.Const(g, int32(t0))}
	state = append(state, carry...)
	for _, s := range ysShapes {
		state = append(state, graph.Zeros(g, shapes.Make(s.DType, append([]int{steps}, s.Dimensions...)...)))
	}
	state = append(append(state, xs...), consts...)
	nc, ny, nx := len(carry), len(ysShapes), len(xs)
	params := func(g *graph.Graph) (t *graph.Node, carry, bufs, xs, consts []*graph.Node) {
		ps := make([]*graph.Node, len(state))
		for i, s := range state {
			ps[i] = graph.Parameter(g, fmt.Sprintf("s%d", i), s.Shape())
		}
		return ps[0], ps[1 : 1+nc], ps[1+nc : 1+nc+ny], ps[1+nc+ny : 1+nc+ny+nx], ps[1+nc+ny+nx:]
	}
	cond := graph.NewClosure(g, func(g *graph.Graph) []*graph.Node {
		t, _, _, _, _ := params(g)
		if reverse {
			return []*graph.Node{graph.GreaterOrEqual(t, graph.Const(g, int32(0)))}
		}
		return []*graph.Node{graph.LessThan(t, graph.Const(g, int32(steps)))}
	})
	loop := graph.NewClosure(g, func(g *graph.Graph) []*graph.Node {
		t, carry, bufs, xs, consts := params(g)
		// at returns the start indices (t, 0, …, 0) of step t in a [T, …] tensor of rank r.
		at := func(r int) []*graph.Node {
			idx := []*graph.Node{t}
			for range r - 1 {
				idx = append(idx, graph.Const(g, int32(0)))
			}
			return idx
		}
		xt := make([]*graph.Node, nx)
		for k, x := range xs {
			dims := x.Shape().Dimensions
			xt[k] = graph.Squeeze(graph.DynamicSlice(x, at(len(dims)), append([]int{1}, dims[1:]...)), 0)
		}
		next, yt := body(consts, xt, carry)
		out := append([]*graph.Node{graph.Add(t, graph.Const(g, int32(dt)))}, next...) // not AddScalar: see oneMinus
		for k, buf := range bufs {
			out = append(out, graph.DynamicUpdateSlice(buf, graph.InsertAxes(yt[k], 0), at(buf.Rank())))
		}
		return append(append(out, xs...), consts...)
	})
	res := graph.While(cond, loop, state...)
	return res[1 : 1+nc], res[1+nc : 1+nc+ny]
}
