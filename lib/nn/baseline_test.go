package nn

import (
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
)

// The "before" of the benchmarks: the workarounds first written for the go backend, checked against
// finite differences when this package was started — a convolution built from strided slices,
// one concatenation and one graph.MatMul, differentiated by GoMLX; a transposed convolution
// as zero insertion + that convolution with the flipped kernel; padding with concatenated
// zeros (graph.Pad has no gradient).

// baselineConv2DWithKernel: same contract as Conv2DWithKernel.
func baselineConv2DWithKernel(x, kernel, bias *graph.Node, stride, padding int) *graph.Node {
	ks := kernel.Shape().Dimensions
	k, cin, cout := ks[0], ks[2], ks[3]
	geo := newConvGeometry("baseline", x.Graph(), x.Shape(), k, stride, padding)
	xp := baselinePadHW(x, padding, padding)
	parts := make([]*graph.Node, 0, k*k)
	for kh := range k {
		for kw := range k {
			parts = append(parts, graph.Slice(xp, graph.AxisRange(),
				graph.AxisRange(kh, kh+(geo.ho-1)*stride+1).Stride(stride),
				graph.AxisRange(kw, kw+(geo.wo-1)*stride+1).Stride(stride),
				graph.AxisRange()))
		}
	}
	cols := graph.Reshape(graph.Concatenate(parts, 3), -1, k*k*cin)
	y := graph.Reshape(graph.MatMul(cols, graph.Reshape(kernel, k*k*cin, cout)), geo.b, geo.ho, geo.wo, cout)
	if bias != nil {
		y = graph.Add(y, graph.Reshape(bias, 1, 1, 1, cout))
	}
	return y
}

// baselineConvTranspose2DWithKernel: same contract as ConvTranspose2DWithKernel.
func baselineConvTranspose2DWithKernel(x, kernel, bias *graph.Node, stride, padding int) *graph.Node {
	k := kernel.Shape().Dimensions[0]
	d := x.Shape().Dimensions
	g := x.Graph()
	// Zero insertion: xd[b, i·s, j·s, c] = x[b, i, j, c].
	xd := x
	if stride > 1 {
		zeros := graph.Zeros(g, shapes.Make(x.DType(), d[0], d[1], d[2], 1, d[3]))
		cells := []*graph.Node{graph.Reshape(x, d[0], d[1], d[2], 1, d[3])}
		for range stride - 1 {
			cells = append(cells, zeros)
		}
		xd = graph.Reshape(graph.Concatenate(cells, 3), d[0], d[1], d[2]*stride, d[3]) // Along W.
		zeros = graph.Zeros(g, shapes.Make(x.DType(), d[0], d[1], 1, d[2]*stride, d[3]))
		rows := []*graph.Node{graph.Reshape(xd, d[0], d[1], 1, d[2]*stride, d[3])}
		for range stride - 1 {
			rows = append(rows, zeros)
		}
		xd = graph.Reshape(graph.Concatenate(rows, 2), d[0], d[1]*stride, d[2]*stride, d[3])
		xd = graph.Slice(xd, graph.AxisRange(), graph.AxisRange(0, (d[1]-1)*stride+1), graph.AxisRange(0, (d[2]-1)*stride+1))
	}
	// Flip the kernel spatially (graph.Reverse has no gradient): slices and concatenations.
	flip := func(w *graph.Node, axis int) *graph.Node {
		parts := make([]*graph.Node, k)
		for i := range k {
			parts[i] = graph.SliceAxis(w, axis, graph.AxisElem(k-1-i))
		}
		return graph.Concatenate(parts, axis)
	}
	flipped := flip(flip(kernel, 0), 1)
	xd = baselinePadHW(xd, k-1-padding, k-1-padding)
	return baselineConv2DWithKernel(xd, flipped, bias, 1, 0)
}

func baselinePadHW(x *graph.Node, before, after int) *graph.Node {
	if before == 0 && after == 0 {
		return x
	}
	g := x.Graph()
	d := x.Shape().Dimensions
	var parts []*graph.Node
	if before > 0 {
		parts = append(parts, graph.Zeros(g, shapes.Make(x.DType(), d[0], before, d[2], d[3])))
	}
	parts = append(parts, x)
	if after > 0 {
		parts = append(parts, graph.Zeros(g, shapes.Make(x.DType(), d[0], after, d[2], d[3])))
	}
	x = graph.Concatenate(parts, 1)
	h := x.Shape().Dimensions[1]
	parts = parts[:0]
	if before > 0 {
		parts = append(parts, graph.Zeros(g, shapes.Make(x.DType(), d[0], h, before, d[3])))
	}
	parts = append(parts, x)
	if after > 0 {
		parts = append(parts, graph.Zeros(g, shapes.Make(x.DType(), d[0], h, after, d[3])))
	}
	return graph.Concatenate(parts, 2)
}

// convLayers selects the convolution implementation the benchmark models use.
type convLayers struct {
	conv, convTranspose func(x, kernel, bias *graph.Node, stride, padding int) *graph.Node
}

var (
	nnConvLayers       = convLayers{Conv2DWithKernel, ConvTranspose2DWithKernel}
	baselineConvLayers = convLayers{baselineConv2DWithKernel, baselineConvTranspose2DWithKernel}
)

func (l convLayers) Conv2D(scope *model.Scope, x *graph.Node, cout, k, s, p int) *graph.Node {
	scope = scope.In("conv")
	cin := x.Shape().Dimensions[3]
	w := scope.VariableWithShape("weights", shapes.Make(x.DType(), k, k, cin, cout)).NodeValue(x.Graph())
	b := scope.VariableWithShape("biases", shapes.Make(x.DType(), cout)).NodeValue(x.Graph())
	return l.conv(x, w, b, s, p)
}

func (l convLayers) ConvTranspose2D(scope *model.Scope, x *graph.Node, cout, k, s, p int) *graph.Node {
	scope = scope.In("conv_transpose")
	cin := x.Shape().Dimensions[3]
	w := scope.VariableWithShape("weights", shapes.Make(x.DType(), k, k, cin, cout)).NodeValue(x.Graph())
	b := scope.VariableWithShape("biases", shapes.Make(x.DType(), cout)).NodeValue(x.Graph())
	return l.convTranspose(x, w, b, s, p)
}
