package nn

import (
	"github.com/gomlx/compute"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	. "github.com/gomlx/gomlx/support/exceptions" //nolint:staticcheck
)

// Conv2D is a 2D convolution layer with bias on NHWC images, PyTorch's nn.Conv2d(Cin, outChannels,
// kernel, stride, padding) in channels-last layout:
//
//	y[b, oh, ow, o] = bias[o] + Σ_{kh, kw, c} xpad[b, oh·stride + kh, ow·stride + kw, c] · W[kh, kw, c, o]
//
// where xpad is x zero-padded by `padding` pixels on every side.
//
// Shapes: x [B, H, W, Cin] → [B, Ho, Wo, outChannels], Ho = ⌊(H + 2·padding - kernel)/stride⌋ + 1,
// likewise Wo. It creates the variables "weights" [kernel, kernel, Cin, outChannels] and
// "biases" [outChannels] in a sub-scope "conv" of scope, initialised like GoMLX's own layers
// (He-normal weights, zero biases).
//
// Unlike graph.Convolve on the go backend it has correct gradients for every kernel size, and
// it is much faster there: see Conv2DWithKernel.
func Conv2D(scope *model.Scope, x *graph.Node, outChannels, kernel, stride, padding int) *graph.Node {
	scope = scope.In("conv")
	checkNHWC("Conv2D", x)
	cin := x.Shape().Dimensions[3]
	w := scope.VariableWithShape("weights", shapes.Make(x.DType(), kernel, kernel, cin, outChannels)).NodeValue(x.Graph())
	b := scope.VariableWithShape("biases", shapes.Make(x.DType(), outChannels)).NodeValue(x.Graph())
	if model.GetParamOr(scope, ParamNativeConv, false) && NativeConvolutions(x.Graph().Backend()) {
		return nativeConv2D(x, w, b, stride, padding)
	}
	return Conv2DWithKernel(x, w, b, stride, padding)
}

// ParamNativeConv is the scope hyperparameter (a bool, false by default) that lets Conv2D use
// the backend's own convolution where NativeConvolutions says it is faster. A family sets it on
// its root scope (scope.SetParam(nn.ParamNativeConv, true)); the results a family has published
// were measured with the convolution it used then, so switching one is a re-measurement.
const ParamNativeConv = "nn_native_conv"

// Conv2DWithKernel is the functional form of Conv2D: it convolves x [B, H, W, Cin] with an
// explicit kernel [K, K, Cin, Cout] (graph.Convolve's channels-last layout) and adds bias
// [Cout] when bias is not nil. The result is [B, Ho, Wo, Cout] with
// Ho = ⌊(H + 2·padding - K)/stride⌋ + 1.
//
// It is computed as im2col + one matrix multiplication (Chellapilla et al. 2006, "High
// Performance Convolutional Neural Networks for Document Processing"): the K·K shifted,
// strided views of the zero-padded input are sliced and concatenated into a [B·Ho·Wo, K·K·Cin]
// matrix, which is multiplied by the kernel reshaped to [K·K·Cin, Cout]. With stride 1 and
// fewer output than input channels it works from the outputs instead (conv2DByOutputTaps),
// moving data in proportion to Cout rather than Cin.
//
// The gradient is written by hand (see withGradient, im2col, col2imTaps): dW = im2col(x)ᵀ·dy,
// dx = col2im(dy·Wᵀ) with one product per tap, dbias = Σ dy — built from ops the go backend
// runs fast (slices, pads, concatenations, matrix products in its native layouts), not from
// its element-by-element Gather, Scatter and Transpose. Second-order gradients (a gradient of
// this gradient) are not supported.
func Conv2DWithKernel(x, kernel, bias *graph.Node, stride, padding int) *graph.Node {
	checkNHWC("Conv2DWithKernel", x)
	ks := kernel.Shape()
	if ks.Rank() != 4 || ks.Dimensions[0] != ks.Dimensions[1] || ks.Dimensions[2] != x.Shape().Dimensions[3] {
		Panicf("Conv2DWithKernel: kernel must be [K, K, Cin=%d, Cout], got %s", x.Shape().Dimensions[3], ks)
	}
	k, cin, cout := ks.Dimensions[0], ks.Dimensions[2], ks.Dimensions[3]
	checkBias("Conv2DWithKernel", bias, cout)
	geo := newConvGeometry("Conv2DWithKernel", x.Graph(), x.Shape(), k, stride, padding)
	if stride == 1 && k > 1 && cout < cin {
		return conv2DByOutputTaps(x, kernel, bias, geo, cout)
	}
	n := geo.b * geo.ho * geo.wo
	var cols *graph.Node // [N, K·K·Cin], shared by the forward and the backward pass.
	return withGradient([]*graph.Node{x, kernel},
		func(xs []*graph.Node) *graph.Node {
			cols = im2col(xs[0], geo)
			y := graph.Dot(cols, graph.Reshape(xs[1], k*k*cin, cout)).Product() // [N, Cout]
			return graph.Reshape(y, geo.b, geo.ho, geo.wo, cout)
		},
		func(y, link *graph.Node) *graph.Node { return addBiasAndLink(y, bias, link) },
		func(dy *graph.Node) []*graph.Node {
			dy2 := graph.Reshape(dy, n, cout)
			// dW first; the products of dx are chained after it (afterNode).
			dwMat := matMulGradRHS(cols, dy2) // [K·K·Cin, Cout]
			var dx *graph.Node
			if cin >= perTapMinChannels {
				// Each tap's block of dcols = dy·Wᵀ by its own product: dy·W[kh, kw]ᵀ, [N, Cin].
				dx = col2imTaps(func(kh, kw int, previous *graph.Node) *graph.Node {
					if previous == nil {
						previous = dwMat
					}
					w := afterNode(kernelTap(kernel, kh, kw), previous)
					return graph.DotGeneral(dy2, []int{1}, nil, w, []int{1}, nil)
				}, geo)
			} else {
				w := afterNode(graph.Reshape(kernel, k*k*cin, cout), dwMat)
				dx = col2im(graph.DotGeneral(dy2, []int{1}, nil, w, []int{1}, nil), geo) // dy·Wᵀ: [N, K·K·Cin]
			}
			dw := graph.Reshape(dwMat, k, k, cin, cout)
			return []*graph.Node{dx, dw}
		})
}

// nativeConvBackends are the backends whose own convolution (graph.Convolve) Conv2D uses when
// ParamNativeConv is set: XLA's (oneDNN/Eigen kernels on CPU, cuDNN on GPU), much faster there than im2col built
// from graph ops. The go backend's is slower than im2col. graph.Convolve's gradients are right
// for odd kernels on every backend and wrong with respect to the input for even ones (see
// TestNativeConvolveGradients and knownbugs_test.go), so even kernels are zero-padded to odd.
var nativeConvBackends = map[string]bool{"xla": true}

// NativeConvolutions reports whether Conv2DWithKernel uses backend b's own convolution.
func NativeConvolutions(b compute.Backend) bool {
	return b != nil && nativeConvBackends[b.Name()]
}

// nativeConv2D is Conv2DWithKernel computed by graph.Convolve. An even K×K kernel becomes (K+1)×(K+1)
// with a last row and column of zeros and the input padded by (p, p+1): the extra tap only
// ever multiplies zeros, the output is the same, and the gradients are those of an odd kernel.
func nativeConv2D(x, kernel, bias *graph.Node, stride, padding int) *graph.Node {
	k := kernel.Shape().Dimensions[0]
	pad := [2]int{padding, padding}
	if k%2 == 0 {
		d := kernel.Shape().Dimensions
		zeroRow := graph.Zeros(kernel.Graph(), shapes.Make(kernel.DType(), 1, k, d[2], d[3]))
		kernel = graph.Concatenate([]*graph.Node{kernel, zeroRow}, 0)
		zeroCol := graph.Zeros(kernel.Graph(), shapes.Make(kernel.DType(), k+1, 1, d[2], d[3]))
		kernel = graph.Concatenate([]*graph.Node{kernel, zeroCol}, 1)
		pad[1]++
	}
	y := graph.Convolve(x, kernel).StridePerAxis(stride, stride).PaddingPerDim([][2]int{pad, pad}).Done()
	if bias == nil {
		return y
	}
	return graph.Add(y, graph.Reshape(bias, 1, 1, 1, bias.Shape().Dimensions[0]))
}

// conv2DByOutputTaps computes a stride-1 convolution with fewer output than input channels
// the other way round from im2col: first every input pixel's contribution to every tap,
// Z = x·W' with W'[c, (kh, kw, o)] = W[kh, kw, c, o] ([B·H·W, Cin]·[Cin, K·K·Cout]), then
//
//	y[b, oh, ow, o] = Σ_{kh, kw} Zpad[b, oh + kh, ow + kw, (kh, kw, o)]
//
// — K² shifted slices Cout wide, summed. The data moved is proportional to Cout instead of
// Cin (a RealNVP coupling net's last 64→2 convolution moves 32× less), for the same
// arithmetic. The gradient mirrors it: the K² shifted copies of dy are padded back into place
// and concatenated into dZ, then dx = dZ·W'ᵀ and dW' = xᵀ·dZ.
func conv2DByOutputTaps(x, kernel, bias *graph.Node, geo convGeometry, cout int) *graph.Node {
	k, cin := geo.k, geo.c
	nIn := geo.b * geo.h * geo.w
	hp, wp := geo.h+2*geo.p, geo.w+2*geo.p
	kernelMatrix := func(kernel *graph.Node) *graph.Node { // [Cin, K·K·Cout]
		return graph.Reshape(graph.TransposeAllAxes(kernel, 2, 0, 1, 3), cin, k*k*cout)
	}
	var xMat *graph.Node
	return withGradient([]*graph.Node{x, kernel},
		func(xs []*graph.Node) *graph.Node {
			xMat = graph.Reshape(xs[0], nIn, cin)
			z := graph.Reshape(graph.Dot(xMat, kernelMatrix(xs[1])).Product(), geo.b, geo.h, geo.w, k*k*cout)
			if geo.p > 0 {
				pad := graph.PadAxis{Start: geo.p, End: geo.p}
				z = graph.Pad(z, graph.ScalarZero(z.Graph(), z.DType()), graph.PadAxis{}, pad, pad)
			}
			var y *graph.Node
			for kh := range k {
				for kw := range k {
					t := (kh*k + kw) * cout
					tap := graph.Slice(z, graph.AxisRange(), graph.AxisRange(kh, kh+geo.ho),
						graph.AxisRange(kw, kw+geo.wo), graph.AxisRange(t, t+cout))
					if y == nil {
						y = tap
					} else {
						y = graph.Add(y, tap)
					}
				}
			}
			return y
		},
		func(y, link *graph.Node) *graph.Node { return addBiasAndLink(y, bias, link) },
		func(dy *graph.Node) []*graph.Node {
			zero := graph.ScalarZero(dy.Graph(), dy.DType())
			taps := make([]*graph.Node, 0, k*k)
			for kh := range k {
				for kw := range k {
					taps = append(taps, graph.Pad(dy, zero, graph.PadAxis{},
						graph.PadAxis{Start: kh, End: hp - kh - geo.ho},
						graph.PadAxis{Start: kw, End: wp - kw - geo.wo}))
				}
			}
			dz := graph.Concatenate(taps, 3) // [B, Hp, Wp, K·K·Cout]
			if geo.p > 0 {
				dz = graph.Slice(dz, graph.AxisRange(), graph.AxisRange(geo.p, geo.p+geo.h), graph.AxisRange(geo.p, geo.p+geo.w))
			}
			dz = graph.Reshape(dz, nIn, k*k*cout)
			dwMat := matMulGradRHS(xMat, dz) // [Cin, K·K·Cout]
			w := afterNode(kernelMatrix(kernel), dwMat)
			dx := graph.Reshape(graph.DotGeneral(dz, []int{1}, nil, w, []int{1}, nil), geo.b, geo.h, geo.w, cin)
			dw := graph.TransposeAllAxes(graph.Reshape(dwMat, cin, k, k, cout), 1, 2, 0, 3)
			return []*graph.Node{dx, dw}
		})
}

// ConvTranspose2D is a transposed ("fractionally strided") 2D convolution layer with bias on
// NHWC images, PyTorch's nn.ConvTranspose2d(Cin, outChannels, kernel, stride, padding) in
// channels-last layout: every input pixel scatters its kernel-weighted copy into the output,
//
//	y[b, i·stride - padding + kh, j·stride - padding + kw, o] += x[b, i, j, c] · W[kh, kw, c, o]
//
// plus bias[o] (contributions falling outside the output are dropped). It is the adjoint
// (gradient) of Conv2D with the same kernel, stride and padding.
//
// Shapes: x [B, H, W, Cin] → [B, Ho, Wo, outChannels], Ho = (H - 1)·stride - 2·padding + kernel.
// DCGAN's k4 s2 p1 doubles the resolution (7 → 14 → 28). It creates "weights"
// [kernel, kernel, Cin, outChannels] and "biases" [outChannels] in a sub-scope "conv_transpose".
func ConvTranspose2D(scope *model.Scope, x *graph.Node, outChannels, kernel, stride, padding int) *graph.Node {
	scope = scope.In("conv_transpose")
	checkNHWC("ConvTranspose2D", x)
	cin := x.Shape().Dimensions[3]
	w := scope.VariableWithShape("weights", shapes.Make(x.DType(), kernel, kernel, cin, outChannels)).NodeValue(x.Graph())
	b := scope.VariableWithShape("biases", shapes.Make(x.DType(), outChannels)).NodeValue(x.Graph())
	return ConvTranspose2DWithKernel(x, w, b, stride, padding)
}

// ConvTranspose2DWithKernel is the functional form of ConvTranspose2D: x [B, H, W, Cin],
// kernel [K, K, Cin, Cout] (W_pytorch[c, o, kh, kw] = kernel[kh, kw, c, o]), bias [Cout] or nil;
// result [B, (H-1)·stride - 2·padding + K, (W-1)·stride - 2·padding + K, Cout].
//
// It is computed without inserting zeros between the input pixels (which would multiply
// (1 - 1/stride²) zeros): one matrix product gives every pixel's K·K·Cout contributions,
// [B·H·W, Cin]·[Cin, K·K·Cout], and col2im adds them at their output positions (grouped by
// stride phase, so the pieces are shifted with pads and interleaved with concatenations).
// The gradient is the adjoint: dx = im2col(dy)·W, dW = xᵀ·im2col(dy), dbias = Σ dy.
func ConvTranspose2DWithKernel(x, kernel, bias *graph.Node, stride, padding int) *graph.Node {
	checkNHWC("ConvTranspose2DWithKernel", x)
	ks := kernel.Shape()
	if ks.Rank() != 4 || ks.Dimensions[0] != ks.Dimensions[1] || ks.Dimensions[2] != x.Shape().Dimensions[3] {
		Panicf("ConvTranspose2DWithKernel: kernel must be [K, K, Cin=%d, Cout], got %s", x.Shape().Dimensions[3], ks)
	}
	k, cin, cout := ks.Dimensions[0], ks.Dimensions[2], ks.Dimensions[3]
	checkBias("ConvTranspose2DWithKernel", bias, cout)
	d := x.Shape().Dimensions
	if stride < 1 || padding < 0 {
		Panicf("ConvTranspose2DWithKernel: stride must be >= 1 and padding >= 0, got stride=%d padding=%d", stride, padding)
	}
	ho, wo := (d[1]-1)*stride-2*padding+k, (d[2]-1)*stride-2*padding+k
	if ho <= 0 || wo <= 0 {
		Panicf("ConvTranspose2DWithKernel: input %s with kernel %d, stride %d, padding %d gives an empty output", x.Shape(), k, stride, padding)
	}
	// The geometry of the convolution this one is the adjoint of: from [B, Ho, Wo, Cout] to x's [B, H, W, ·].
	geo := newConvGeometry("ConvTranspose2DWithKernel", x.Graph(), shapes.Make(x.DType(), d[0], ho, wo, cout), k, stride, padding)
	n := d[0] * d[1] * d[2]
	// wMat[c, (kh, kw, o)] = kernel[kh, kw, c, o]: [Cin, K·K·Cout] (a small transpose).
	kernelMatrix := func(kernel *graph.Node) *graph.Node {
		return graph.Reshape(graph.TransposeAllAxes(kernel, 2, 0, 1, 3), cin, k*k*cout)
	}
	var xMat *graph.Node
	return withGradient([]*graph.Node{x, kernel},
		func(xs []*graph.Node) *graph.Node {
			xMat = graph.Reshape(xs[0], n, cin)
			if cout >= perTapMinChannels {
				// Each tap's contributions x·W[kh, kw], [N, Cout], by its own product.
				return col2imTaps(func(kh, kw int, previous *graph.Node) *graph.Node {
					return graph.Dot(xMat, afterNode(kernelTap(xs[1], kh, kw), previous)).Product()
				}, geo)
			}
			contributions := graph.Dot(xMat, kernelMatrix(xs[1])).Product() // [N, K·K·Cout]
			return col2im(contributions, geo)
		},
		func(y, link *graph.Node) *graph.Node { return addBiasAndLink(y, bias, link) },
		func(dy *graph.Node) []*graph.Node {
			dcols := im2col(dy, geo)            // [N, K·K·Cout]
			dwMat := matMulGradRHS(xMat, dcols) // [Cin, K·K·Cout]
			dx := graph.DotGeneral(dcols, []int{1}, nil, afterNode(kernelMatrix(kernel), dwMat), []int{1}, nil)
			dx = graph.Reshape(dx, d...)
			dw := graph.TransposeAllAxes(graph.Reshape(dwMat, cin, k, k, cout), 1, 2, 0, 3)
			return []*graph.Node{dx, dw}
		})
}

// Upsample2x is nearest-neighbour ×2 upsampling of NHWC images: y[b, i, j, c] = x[b, ⌊i/2⌋, ⌊j/2⌋, c].
// Shapes: [B, H, W, C] → [B, 2H, 2W, C]. It is built with BroadcastToDims (whose gradient, a
// sum over the copies, is correct), not with graph.Interpolate (whose gradient is wrong on the
// go backend).
func Upsample2x(x *graph.Node) *graph.Node {
	checkNHWC("Upsample2x", x)
	d := x.Shape().Dimensions
	b, h, w, c := d[0], d[1], d[2], d[3]
	y := graph.Reshape(x, b, h, 1, w, 1, c)
	y = graph.BroadcastToDims(y, b, h, 2, w, 2, c)
	return graph.Reshape(y, b, 2*h, 2*w, c)
}

// Downsample halves the resolution with a learned stride-2 3×3 convolution with padding 1
// (the U-Net "downsample by stride-2 conv" of DDPM, Ho et al. 2020):
// [B, H, W, Cin] → [B, ⌈H/2⌉, ⌈W/2⌉, outChannels]. It creates the Conv2D variables under scope.
func Downsample(scope *model.Scope, x *graph.Node, outChannels int) *graph.Node {
	return Conv2D(scope, x, outChannels, 3, 2, 1)
}

// perTapMinChannels: from this many channels per tap on, col2im gets each tap's block from its
// own matrix product instead of slicing it out of one wide product (cheaper on the go backend,
// whose Slice copies element by element); narrower blocks are cheap to slice and make poor
// matrix products.
const perTapMinChannels = 8

// afterNode returns w made to depend on `previous` (w + a zero read from one element of
// previous; nil: w itself), so that a product using it is scheduled after previous is
// computed. The go backend (compute v0.1.3) deadlocks when 2·GOMAXPROCS large matrix products
// run at once in its parallel executor (each waits in workerspool.Saturate for a worker that
// the others hold): the products of each convolution's gradient (dW, then dx's, one per tap
// in col2imTaps) and the per-tap products of a transposed convolution are chained, so a layer
// never has more than one product ready at a time.
func afterNode(w, previous *graph.Node) *graph.Node {
	if previous == nil {
		return w
	}
	return graph.Add(w, zeroLink(previous))
}

// kernelTap returns kernel[kh, kw] of a [K, K, Cin, Cout] kernel: [Cin, Cout].
func kernelTap(kernel *graph.Node, kh, kw int) *graph.Node {
	d := kernel.Shape().Dimensions
	return graph.Reshape(graph.Slice(kernel, graph.AxisElem(kh), graph.AxisElem(kw)), d[2], d[3])
}

// addBiasAndLink returns y + bias (bias [C] broadcast over y [B, H, W, C]; nil for none) with
// withGradient's zero link folded into the (small) bias; the bias' gradient is GoMLX's own
// (a sum of dy over all but the channel axis).
func addBiasAndLink(y, bias, link *graph.Node) *graph.Node {
	c := y.Shape().Dimensions[y.Rank()-1]
	if bias == nil {
		return graph.Add(y, link)
	}
	return graph.Add(y, graph.Reshape(graph.Add(bias, link), 1, 1, 1, c))
}

func checkBias(op string, bias *graph.Node, cout int) {
	if bias != nil && (bias.Rank() != 1 || bias.Shape().Dimensions[0] != cout) {
		Panicf("%s: bias must be [Cout=%d] or nil, got %s", op, cout, bias.Shape())
	}
}

func checkNHWC(op string, x *graph.Node) {
	if x.Rank() != 4 {
		Panicf("%s: x must be an NHWC image batch [batch, height, width, channels], got shape %s", op, x.Shape())
	}
}
