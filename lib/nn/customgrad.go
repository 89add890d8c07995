package nn

import (
	"github.com/gomlx/gomlx/core/graph"
	. "github.com/gomlx/gomlx/support/exceptions" //nolint:staticcheck
)

// withGradient builds y = finish(forward(inputs), link) with a hand-written gradient for
// forward: during back-propagation the gradient of inputs[i] is backward(dy)[i], where dy is
// the adjoint of y. Inputs may be nil (skipped); backward must return one node (or nil) per
// input. finish must return its first argument plus `link`, a zero scalar, possibly plus terms
// with ordinary gradients (a bias): y = forward(...) + (bias + link) costs nothing extra.
//
// GoMLX (v0.28.4) lets only an identity node carry a custom gradient
// (graph.IdentityWithCustomGradient), so:
//   - forward's output goes through StopGradient: GoMLX never builds its own gradient of
//     forward's ops (some, like Pad, have none);
//   - each input goes through an identity whose custom gradient returns backward(dy)[i];
//     those identities reach y only through link (one element of each input);
//   - y goes through a last identity that captures dy. Reverse-mode visits nodes in reverse
//     creation order, so dy is captured before any input's gradient is asked for.
//
// backward is called once per graph.Gradient call (the result is cached per dy).
func withGradient(inputs []*graph.Node, forward func(xs []*graph.Node) *graph.Node,
	finish func(y, link *graph.Node) *graph.Node, backward func(dy *graph.Node) []*graph.Node) *graph.Node {
	var dy, gradsFor *graph.Node
	var grads []*graph.Node
	var link *graph.Node
	for i, x := range inputs {
		if x == nil {
			continue
		}
		linked := graph.IdentityWithCustomGradient(x, func(_, _ *graph.Node) *graph.Node {
			if dy == nil {
				Panicf("nn: custom gradient asked before its output's gradient (internal error)")
			}
			if gradsFor != dy {
				grads, gradsFor = backward(dy), dy
				if len(grads) != len(inputs) {
					Panicf("nn: custom gradient returned %d gradients for %d inputs (internal error)", len(grads), len(inputs))
				}
			}
			if grads[i] == nil {
				return graph.ZerosLike(x)
			}
			return grads[i]
		})
		z := zeroLink(linked)
		if link == nil {
			link = z
		} else {
			link = graph.Add(link, z)
		}
	}
	if link == nil {
		Panicf("nn: withGradient needs at least one input")
	}
	y := finish(graph.StopGradient(forward(inputs)), link)
	return graph.IdentityWithCustomGradient(y, func(_, v *graph.Node) *graph.Node {
		dy = v
		return v
	})
}

// zeroLink returns a scalar 0 computed from x's first element (Where(false, x₀, 0), so an
// infinite x₀ does not make it NaN): a data dependency through which back-propagation
// reaches x at the cost of one element.
func zeroLink(x *graph.Node) *graph.Node {
	g := x.Graph()
	first := x
	if x.Rank() > 0 {
		specs := make([]graph.SliceAxisSpec, x.Rank())
		for i := range specs {
			specs[i] = graph.AxisElem(0)
		}
		first = graph.Reshape(graph.Slice(x, specs...))
	}
	return graph.Where(graph.Const(g, false), first, graph.ScalarZero(g, x.DType()))
}
