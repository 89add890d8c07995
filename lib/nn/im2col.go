package nn

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	. "github.com/gomlx/gomlx/support/exceptions" //nolint:staticcheck
)

// convGeometry describes a convolution of an NHWC input [b, h, w, c] with a k×k kernel,
// stride s and zero padding p, giving [b, ho, wo, ·].
type convGeometry struct {
	b, h, w, c int
	k, s, p    int
	ho, wo     int
	dtype      dtypes.DType
	graph      *graph.Graph
}

func newConvGeometry(op string, g *graph.Graph, xs shapes.Shape, k, stride, padding int) convGeometry {
	d := xs.Dimensions
	if k < 1 || stride < 1 || padding < 0 {
		Panicf("%s: kernel and stride must be >= 1 and padding >= 0, got kernel=%d stride=%d padding=%d", op, k, stride, padding)
	}
	geo := convGeometry{b: d[0], h: d[1], w: d[2], c: d[3], k: k, s: stride, p: padding, dtype: xs.DType, graph: g}
	if geo.h+2*padding < k || geo.w+2*padding < k {
		Panicf("%s: kernel %d larger than the padded input %s (padding %d)", op, k, xs, padding)
	}
	geo.ho = (geo.h+2*padding-k)/stride + 1
	geo.wo = (geo.w+2*padding-k)/stride + 1
	return geo
}

// im2col returns the [B·Ho·Wo, K·K·C] matrix of receptive fields of x [B, H, W, C], columns in
// (kh, kw, c) order to match a [K, K, C, Cout] kernel reshaped to [K·K·C, Cout]:
//
//	cols[(b, oh, ow), (kh, kw, c)] = xpad[b, oh·s + kh, ow·s + kw, c]
//
// One Pad (block copies) and, per tap, one strided Slice, then one Concatenate along the
// channels: 2·K²·B·Ho·Wo·C elements moved. (The go backend's Gather would do it in one op but
// ~4× slower per element, and its gradient, a ScatterSum, likewise.)
func im2col(x *graph.Node, geo convGeometry) *graph.Node {
	xp := x
	if geo.p > 0 {
		pad := graph.PadAxis{Start: geo.p, End: geo.p}
		xp = graph.Pad(x, graph.ScalarZero(x.Graph(), x.DType()), graph.PadAxis{}, pad, pad)
	}
	n := geo.b * geo.ho * geo.wo
	if geo.k == 1 && geo.s == 1 {
		return graph.Reshape(xp, n, geo.c)
	}
	parts := make([]*graph.Node, 0, geo.k*geo.k)
	for kh := range geo.k {
		for kw := range geo.k {
			parts = append(parts, graph.Slice(xp, graph.AxisRange(),
				graph.AxisRange(kh, kh+(geo.ho-1)*geo.s+1).Stride(geo.s),
				graph.AxisRange(kw, kw+(geo.wo-1)*geo.s+1).Stride(geo.s),
				graph.AxisRange()))
		}
	}
	return graph.Reshape(graph.Concatenate(parts, 3), n, geo.k*geo.k*geo.c)
}

// col2im is the adjoint of im2col: it adds each column block of cols [B·Ho·Wo, K·K·C] back at
// the input position it was read from, returning [B, H, W, C]:
//
//	x[b, oh·s + kh - p, ow·s + kw - p, c] += cols[(b, oh, ow), (kh, kw, c)]   (in-image positions only)
//
// It is the gradient of a convolution with respect to its input and the forward pass of a
// transposed convolution. See col2imTaps; here each tap's block is sliced out of cols.
func col2im(cols *graph.Node, geo convGeometry) *graph.Node {
	cols4 := graph.Reshape(cols, geo.b, geo.ho, geo.wo, geo.k*geo.k*geo.c)
	return col2imTaps(func(kh, kw int, _ *graph.Node) *graph.Node {
		t := (kh*geo.k + kw) * geo.c
		return graph.Slice(cols4, graph.AxisRange(), graph.AxisRange(), graph.AxisRange(), graph.AxisRange(t, t+geo.c))
	}, geo)
}

// col2imTaps is col2im with the column block of each tap (kh, kw), [B, Ho, Wo, C], given by a
// function — e.g. computed by its own matrix product, so nothing is sliced out of a wide
// matrix (the go backend slices element by element). The function also gets the previous
// tap's block (nil for the first), to chain the taps' products one after the other: see
// afterNode.
//
// Taps are grouped by stride phase φ = (k - p) mod s: all taps of a phase land on the same
// sub-grid {φ, φ+s, φ+2s, …} of the image, shifted by whole sub-grid steps δ = (k - p - φ)/s.
// Each tap is zero-padded (block copies) into an extended phase grid that covers every shift,
// the taps of a phase are summed, each phase grid is cropped to the image once, and the s²
// phase grids are interleaved with two Concatenates. No zeros are multiplied and there is no
// element-by-element scatter.
func col2imTaps(tap func(kh, kw int, previous *graph.Node) *graph.Node, geo convGeometry) *graph.Node {
	g := geo.graph
	s, c := geo.s, geo.c
	hq, wq := ceilDiv(geo.h, s), ceilDiv(geo.w, s) // Phase grid sizes (the largest phase).
	rowsOf := phaseRanges(geo.k, geo.p, s, geo.ho, hq)
	colsOf := phaseRanges(geo.k, geo.p, s, geo.wo, wq)
	zero := graph.ScalarZero(g, geo.dtype)
	phases := make([][]*graph.Node, s) // [φh][φw] → [B, hq, wq, C]
	for ph := range s {
		phases[ph] = make([]*graph.Node, s)
	}
	var previous *graph.Node
	for kh := range geo.k {
		ph, dh := phaseOf(kh-geo.p, s)
		rows := rowsOf[ph]
		for kw := range geo.k {
			pw, dw := phaseOf(kw-geo.p, s)
			cols := colsOf[pw]
			block := tap(kh, kw, previous)
			previous = block
			t := graph.Pad(graph.Reshape(block, geo.b, geo.ho, geo.wo, c), zero, graph.PadAxis{},
				graph.PadAxis{Start: dh - rows.lo, End: rows.hi - (dh + geo.ho)},
				graph.PadAxis{Start: dw - cols.lo, End: cols.hi - (dw + geo.wo)})
			if phases[ph][pw] == nil {
				phases[ph][pw] = t
			} else {
				phases[ph][pw] = graph.Add(phases[ph][pw], t)
			}
		}
	}
	// Crop each phase grid to [0, hq) × [0, wq) of its sub-grid.
	for ph := range s {
		for pw := range s {
			p := phases[ph][pw]
			if p == nil {
				phases[ph][pw] = graph.Zeros(g, shapes.Make(geo.dtype, geo.b, hq, wq, c))
				continue
			}
			rows, cols := rowsOf[ph], colsOf[pw]
			if rows.lo != 0 || rows.hi != hq || cols.lo != 0 || cols.hi != wq {
				phases[ph][pw] = graph.Slice(p, graph.AxisRange(),
					graph.AxisRange(-rows.lo, -rows.lo+hq), graph.AxisRange(-cols.lo, -cols.lo+wq))
			}
		}
	}
	if s == 1 {
		return phases[0][0]
	}
	// Interleave: x[b, q·s + φh, r·s + φw, c] = phases[φh][φw][b, q, r, c].
	rowBlocks := make([]*graph.Node, s)
	for ph := range s {
		cells := make([]*graph.Node, s)
		for pw := range s {
			cells[pw] = graph.Reshape(phases[ph][pw], geo.b, hq, wq, 1, c)
		}
		rowBlocks[ph] = graph.Reshape(graph.Concatenate(cells, 3), geo.b, hq, 1, wq*s, c)
	}
	x := graph.Reshape(graph.Concatenate(rowBlocks, 2), geo.b, hq*s, wq*s, c)
	if hq*s != geo.h || wq*s != geo.w {
		x = graph.Slice(x, graph.AxisRange(), graph.AxisRange(0, geo.h), graph.AxisRange(0, geo.w))
	}
	return x
}

// phaseRange is the range [lo, hi) of sub-grid positions a phase grid is built over: it covers
// both the image part [0, n) and every tap's shifted block [δ, δ + outSize).
type phaseRange struct{ lo, hi int }

// phaseRanges returns, for each stride phase along one axis, the range its taps need.
func phaseRanges(k, p, s, outSize, n int) []phaseRange {
	ranges := make([]phaseRange, s)
	for i := range ranges {
		ranges[i] = phaseRange{lo: 0, hi: n}
	}
	for kk := range k {
		ph, d := phaseOf(kk-p, s)
		ranges[ph].lo = min(ranges[ph].lo, d)
		ranges[ph].hi = max(ranges[ph].hi, d+outSize)
	}
	return ranges
}

// phaseOf splits a (padded-away) tap offset d = k - p into its stride phase φ ∈ [0, s) and the
// whole number of sub-grid steps δ: d = δ·s + φ.
func phaseOf(d, s int) (phase, steps int) {
	phase = ((d % s) + s) % s
	return phase, (d - phase) / s
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
