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
