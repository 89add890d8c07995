package nn

import (
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	. "github.com/gomlx/gomlx/support/exceptions" //nolint:staticcheck
)

// CheckerboardMask returns RealNVP's checkerboard mask (Dinh, Sohl-Dickstein & Bengio 2017,
// "Density estimation using Real NVP", §3.4): b[i, j] = 1 where i + j is even (odd when
// inverted), 0 elsewhere — the pixels an affine coupling layer keeps and conditions on:
//
//	y = b⊙x + (1-b)⊙(x⊙exp(s(b⊙x)) + t(b⊙x))
//
// Alternating the two parities from layer to layer lets every pixel be transformed. The mask
// is a constant shaped [1, height, width, 1], which broadcasts over NHWC images
// [B, height, width, C].
func CheckerboardMask(g *graph.Graph, dtype dtypes.DType, height, width int, inverted bool) *graph.Node {
	if height < 1 || width < 1 {
		Panicf("CheckerboardMask: height and width must be >= 1, got %d×%d", height, width)
	}
	parity := 0
	if inverted {
		parity = 1
	}
	mask := make([]float64, height*width)
	for i := range height {
		for j := range width {
			if (i+j)%2 == parity {
				mask[i*width+j] = 1
			}
		}
	}
	return graph.ConvertDType(graph.Const(g, tensors.FromFlatDataAndDimensions(mask, 1, height, width, 1)), dtype)
}

// ChannelMask returns the mask of a channel-wise affine coupling (Dinh et al. 2017, §3.4): 1 on
// the first half of c channels (the second half when inverted), 0 on the others, shaped
// [1, 1, 1, c] to broadcast over NHWC images. c must be even.
func ChannelMask(g *graph.Graph, dtype dtypes.DType, c int, inverted bool) *graph.Node {
	if c < 2 || c%2 != 0 {
		Panicf("ChannelMask: the channels must be even and >= 2, got %d", c)
	}
	mask := make([]float64, c)
	for i := range c {
		if (i < c/2) != inverted {
			mask[i] = 1
		}
	}
	return graph.ConvertDType(graph.Const(g, tensors.FromFlatDataAndDimensions(mask, 1, 1, 1, c)), dtype)
}

// Squeeze folds every 2×2 block of pixels into channels, [B, H, W, C] → [B, H/2, W/2, 4C]
// (Dinh et al. 2017, §3.6, Figure 3): a permutation of the values, so its log-determinant is 0.
// H and W must be even.
func Squeeze(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	if x.Rank() != 4 || d[1]%2 != 0 || d[2]%2 != 0 {
		Panicf("Squeeze: x must be [B, H, W, C] with H and W even, got %s", x.Shape())
	}
	x = graph.Reshape(x, d[0], d[1]/2, 2, d[2]/2, 2, d[3])
	return graph.Reshape(graph.TransposeAllDims(x, 0, 1, 3, 2, 4, 5), d[0], d[1]/2, d[2]/2, 4*d[3])
}

// Unsqueeze inverts Squeeze: [B, H, W, 4C] → [B, 2H, 2W, C].
func Unsqueeze(x *graph.Node) *graph.Node {
	d := x.Shape().Dimensions
	if x.Rank() != 4 || d[3]%4 != 0 {
		Panicf("Unsqueeze: x must be [B, H, W, 4C], got %s", x.Shape())
	}
	x = graph.Reshape(x, d[0], d[1], d[2], 2, 2, d[3]/4)
	return graph.Reshape(graph.TransposeAllDims(x, 0, 1, 3, 2, 4, 5), d[0], 2*d[1], 2*d[2], d[3]/4)
}
