package nn

import (
	"fmt"
	"testing"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"

	"github.com/iagen-course/iagen/lib/nn/nntest"
)

type convCase struct{ h, w, cin, cout, k, s, p int }

func (c convCase) String() string {
	return fmt.Sprintf("%dx%dx%d_to_%d_k%ds%dp%d", c.h, c.w, c.cin, c.cout, c.k, c.s, c.p)
}

var convCases = []convCase{
	{5, 5, 2, 3, 1, 1, 0},
	{6, 5, 2, 3, 2, 1, 0},
	{5, 6, 2, 3, 3, 1, 1},
	{8, 8, 2, 3, 4, 2, 1}, // DCGAN discriminator.
	{7, 7, 3, 2, 3, 2, 1}, // U-Net downsample.
	{7, 6, 2, 2, 5, 1, 2},
	{7, 7, 1, 2, 4, 3, 2},
	{6, 7, 2, 2, 1, 2, 0}, // Kernel smaller than the stride.
	{4, 4, 2, 2, 3, 1, 2}, // Padding larger than needed.
	{5, 5, 8, 8, 3, 1, 1}, // Channels >= perTapMinChannels: one product per tap in the gradient.
	{6, 6, 9, 8, 4, 2, 1},
	{5, 6, 9, 2, 3, 1, 1}, // Fewer output than input channels, stride 1: conv2DByOutputTaps.
	{6, 5, 4, 3, 2, 1, 0},
	{5, 5, 3, 2, 5, 1, 2},
	{4, 4, 3, 2, 3, 1, 2},
}

// naiveConv2D is the definition, in loops: x [B, H, W, C], kernel [K, K, C, O] → [B, Ho, Wo, O].
func naiveConv2D(x []float64, b, h, w, c int, kernel []float64, k, o, s, p int) ([]float64, int, int) {
	ho, wo := (h+2*p-k)/s+1, (w+2*p-k)/s+1
	y := make([]float64, b*ho*wo*o)
	for bb := range b {
		for i := range ho {
			for j := range wo {
				for kh := range k {
					for kw := range k {
						ih, iw := i*s+kh-p, j*s+kw-p
						if ih < 0 || ih >= h || iw < 0 || iw >= w {
							continue
						}
						for cc := range c {
							xv := x[((bb*h+ih)*w+iw)*c+cc]
							for oo := range o {
								y[((bb*ho+i)*wo+j)*o+oo] += xv * kernel[((kh*k+kw)*c+cc)*o+oo]
							}
						}
					}
				}
			}
		}
	}
	return y, ho, wo
}

// naiveConvTranspose2D is the definition in loops: every input pixel scatters its weighted kernel.
func naiveConvTranspose2D(x []float64, b, h, w, c int, kernel []float64, k, o, s, p int) ([]float64, int, int) {
	ho, wo := (h-1)*s-2*p+k, (w-1)*s-2*p+k
	y := make([]float64, b*ho*wo*o)
	for bb := range b {
		for i := range h {
			for j := range w {
				for kh := range k {
					for kw := range k {
						oh, ow := i*s-p+kh, j*s-p+kw
						if oh < 0 || oh >= ho || ow < 0 || ow >= wo {
							continue
						}
						for cc := range c {
							xv := x[((bb*h+i)*w+j)*c+cc]
							for oo := range o {
								y[((bb*ho+oh)*wo+ow)*o+oo] += xv * kernel[((kh*k+kw)*c+cc)*o+oo]
							}
						}
					}
				}
			}
		}
	}
	return y, ho, wo
}

func TestConv2DForward(t *testing.T) {
	for _, c := range convCases {
		t.Run(c.String(), func(t *testing.T) {
			x, kernel := nntest.Rand(1, 2, c.h, c.w, c.cin), nntest.Rand(2, c.k, c.k, c.cin, c.cout)
			got := run1(t, func(xs []*graph.Node) *graph.Node { return Conv2DWithKernel(xs[0], xs[1], nil, c.s, c.p) }, x, kernel)
			want, ho, wo := naiveConv2D(nntest.Float64s(x), 2, c.h, c.w, c.cin, nntest.Float64s(kernel), c.k, c.cout, c.s, c.p)
			if d := got.Shape().Dimensions; d[1] != ho || d[2] != wo {
				t.Fatalf("shape %s, want [2 %d %d %d]", got.Shape(), ho, wo, c.cout)
			}
			if d := nntest.MaxAbsDiff(got, tensors.FromFlatDataAndDimensions(want, 2, ho, wo, c.cout)); !(d < 1e-12) {
				t.Errorf("max |Conv2D - definition| = %g", d)
			}
		})
	}
}

// Against graph.Convolve, whose forward pass is correct, in float32.
func TestConv2DMatchesConvolve(t *testing.T) {
	for _, c := range convCases {
		t.Run(c.String(), func(t *testing.T) {
			x := nntest.RandF32(1, 2, c.h, c.w, c.cin)
			kernel := nntest.RandF32(2, c.k, c.k, c.cin, c.cout)
			got := run1(t, func(xs []*graph.Node) *graph.Node { return Conv2DWithKernel(xs[0], xs[1], nil, c.s, c.p) }, x, kernel)
			want := run1(t, func(xs []*graph.Node) *graph.Node {
				return graph.Convolve(xs[0], xs[1]).StridePerAxis(c.s, c.s).PaddingPerDim([][2]int{{c.p, c.p}, {c.p, c.p}}).Done()
			}, x, kernel)
			if !got.Shape().Equal(want.Shape()) {
				t.Fatalf("shape %s, graph.Convolve gives %s", got.Shape(), want.Shape())
			}
			if d := nntest.MaxAbsDiff(got, want); !(d < 1e-5) {
				t.Errorf("max |Conv2D - Convolve| = %g", d)
			}
		})
	}
}

func TestConv2DGradient(t *testing.T) {
	for _, c := range convCases {
		t.Run(c.String(), func(t *testing.T) {
			nntest.GradCheck(t, goBackend(t), func(xs []*graph.Node) *graph.Node {
				return Conv2DWithKernel(xs[0], xs[1], xs[2], c.s, c.p)
			}, 1e-8, nntest.Rand(1, 2, c.h, c.w, c.cin), nntest.Rand(2, c.k, c.k, c.cin, c.cout), nntest.Rand(3, c.cout))
		})
	}
}

// For odd kernels graph.Convolve's gradients are right on the go backend: they must agree.
func TestConv2DGradientMatchesConvolveOddKernel(t *testing.T) {
	x, kernel := nntest.RandF32(1, 2, 7, 7, 3), nntest.RandF32(2, 3, 3, 3, 4)
	grads := func(native bool) []*tensors.Tensor {
		exec, err := graph.NewExec(goBackend(t), func(x, k *graph.Node) []*graph.Node {
			var y *graph.Node
			if native {
				y = graph.Convolve(x, k).PaddingPerDim([][2]int{{1, 1}, {1, 1}}).Done()
			} else {
				y = Conv2DWithKernel(x, k, nil, 1, 1)
			}
			return graph.Gradient(graph.ReduceAllSum(graph.Mul(y, y)), x, k)
		})
		if err != nil {
			t.Fatal(err)
		}
		return exec.MustExec(x, kernel)
	}
	ours, native := grads(false), grads(true)
	for i, name := range []string{"x", "kernel"} {
		if d := nntest.MaxAbsDiff(ours[i], native[i]); !(d < 1e-3) {
			t.Errorf("gradient of %s: max |ours - graph.Convolve| = %g", name, d)
		}
	}
}

var convTransposeCases = []convCase{
	{3, 3, 3, 2, 4, 2, 1}, // DCGAN generator: doubles the size.
	{4, 3, 2, 2, 3, 1, 1},
	{3, 4, 2, 3, 3, 2, 1},
	{3, 3, 2, 2, 2, 2, 0},
	{3, 2, 2, 2, 5, 3, 2},
	{3, 3, 2, 2, 1, 1, 0},
	{3, 3, 2, 2, 1, 2, 0}, // Kernel smaller than the stride: zeros between the pixels.
	{3, 3, 4, 8, 4, 2, 1}, // Cout >= perTapMinChannels: one product per tap.
	{4, 3, 3, 9, 3, 1, 1},
	{3, 3, 2, 8, 5, 3, 2},
}

func TestConvTranspose2DForward(t *testing.T) {
	for _, c := range convTransposeCases {
		t.Run(c.String(), func(t *testing.T) {
			x, kernel := nntest.Rand(1, 2, c.h, c.w, c.cin), nntest.Rand(2, c.k, c.k, c.cin, c.cout)
			got := run1(t, func(xs []*graph.Node) *graph.Node { return ConvTranspose2DWithKernel(xs[0], xs[1], nil, c.s, c.p) }, x, kernel)
			want, ho, wo := naiveConvTranspose2D(nntest.Float64s(x), 2, c.h, c.w, c.cin, nntest.Float64s(kernel), c.k, c.cout, c.s, c.p)
			if d := got.Shape().Dimensions; d[1] != ho || d[2] != wo {
				t.Fatalf("shape %s, want [2 %d %d %d]", got.Shape(), ho, wo, c.cout)
			}
			if d := nntest.MaxAbsDiff(got, tensors.FromFlatDataAndDimensions(want, 2, ho, wo, c.cout)); !(d < 1e-12) {
				t.Errorf("max |ConvTranspose2D - definition| = %g", d)
			}
		})
	}
}

func TestConvTranspose2DGradient(t *testing.T) {
	for _, c := range convTransposeCases {
		t.Run(c.String(), func(t *testing.T) {
			nntest.GradCheck(t, goBackend(t), func(xs []*graph.Node) *graph.Node {
				return ConvTranspose2DWithKernel(xs[0], xs[1], xs[2], c.s, c.p)
			}, 1e-8, nntest.Rand(1, 2, c.h, c.w, c.cin), nntest.Rand(2, c.k, c.k, c.cin, c.cout), nntest.Rand(3, c.cout))
		})
	}
}

func TestUpsample2x(t *testing.T) {
	x := nntest.Rand(1, 2, 3, 2, 2)
	got := nntest.Float64s(run1(t, func(xs []*graph.Node) *graph.Node { return Upsample2x(xs[0]) }, x))
	xv := nntest.Float64s(x)
	for b := range 2 {
		for i := range 6 {
			for j := range 4 {
				for c := range 2 {
					if g, w := got[((b*6+i)*4+j)*2+c], xv[((b*3+i/2)*2+j/2)*2+c]; g != w {
						t.Fatalf("y[%d,%d,%d,%d] = %g, want x[%d,%d,%d,%d] = %g", b, i, j, c, g, b, i/2, j/2, c, w)
					}
				}
			}
		}
	}
	nntest.GradCheck(t, goBackend(t), func(xs []*graph.Node) *graph.Node { return Upsample2x(xs[0]) }, 1e-8, x)
}

// A layer with the same scope name twice must fail loudly (GoMLX's scope rules), and the
// layers must create their variables with the documented shapes.
func TestConvLayersVariables(t *testing.T) {
	store := nntest.SeededStore(t)
	exec := newModelExec(t, store, func(scope *modelScope, x *graph.Node) *graph.Node {
		y := Conv2D(scope.In("a"), x, 4, 3, 1, 1)
		y = ConvTranspose2D(scope.In("b"), y, 5, 4, 2, 1)
		return Downsample(scope.In("c"), y, 6)
	})
	out := exec.MustExec(nntest.RandF32(1, 2, 5, 5, 3))[0]
	if got := out.Shape().Dimensions; fmt.Sprint(got) != "[2 5 5 6]" {
		t.Errorf("output shape %v, want [2 5 5 6]", got)
	}
	want := map[string]string{
		"/a/conv/weights": "(Float32)[3 3 3 4]", "/a/conv/biases": "(Float32)[4]",
		"/b/conv_transpose/weights": "(Float32)[4 4 4 5]", "/b/conv_transpose/biases": "(Float32)[5]",
		"/c/conv/weights": "(Float32)[3 3 5 6]", "/c/conv/biases": "(Float32)[6]",
	}
	for path, shape := range want {
		v := store.GetVariable(path)
		if v == nil {
			t.Errorf("variable %s missing", path)
			continue
		}
		if got := fmt.Sprintf("(%s)%v", v.Shape().DType, v.Shape().Dimensions); got != shape {
			t.Errorf("variable %s: shape %s, want %s", path, got, shape)
		}
	}
}

// The benchmarks' baseline computes the same functions.
func TestBaselineConvMatchesNN(t *testing.T) {
	x, kernel, bias := nntest.Rand(1, 2, 6, 6, 3), nntest.Rand(2, 4, 4, 3, 2), nntest.Rand(3, 2)
	for _, tc := range []struct {
		name     string
		nn, base func(x, kernel, bias *graph.Node, stride, padding int) *graph.Node
	}{{"conv", Conv2DWithKernel, baselineConv2DWithKernel}, {"convTranspose", ConvTranspose2DWithKernel, baselineConvTranspose2DWithKernel}} {
		got := run1(t, func(xs []*graph.Node) *graph.Node { return tc.nn(xs[0], xs[1], xs[2], 2, 1) }, x, kernel, bias)
		want := run1(t, func(xs []*graph.Node) *graph.Node { return tc.base(xs[0], xs[1], xs[2], 2, 1) }, x, kernel, bias)
		if d := nntest.MaxAbsDiff(got, want); !(d < 1e-12) {
			t.Errorf("%s: max |nn - baseline| = %g", tc.name, d)
		}
	}
}

// One compiled graph serves every step: model.Exec caches it by input shapes, and nothing in
// the layers (constants, custom gradients) defeats the cache.
func TestTrainingStepCompilesOnce(t *testing.T) {
	store := nntest.SeededStore(t)
	builds := 0
	exec := newModelExec(t, store, func(scope *modelScope, x *graph.Node) *graph.Node {
		builds++
		scope.Store().SetTraining(x.Graph(), true)
		y := Conv2D(scope.In("conv"), x, 8, 3, 1, 1)
		y = BatchNorm(scope.In("bn"), y).Done()
		y = ConvTranspose2D(scope.In("up"), y, 2, 4, 2, 1)
		loss := graph.ReduceAllMean(graph.Square(y))
		grads := scope.BuildTrainableVariablesGradientsGraph(loss)
		for i, v := range trainableVarsInUse(scope, x.Graph()) { // Plain SGD, to exercise updates.
			v.SetNodeValue(graph.Sub(v.NodeValue(x.Graph()), graph.MulScalar(grads[i], 0.01)))
		}
		return loss
	})
	x := nntest.RandF32(1, 2, 6, 6, 3)
	first := nntest.Float64s(exec.MustExec(x)[0])[0]
	var last float64
	for range 4 {
		last = nntest.Float64s(exec.MustExec(x)[0])[0]
	}
	if builds != 1 {
		t.Errorf("the step graph was built %d times, want 1", builds)
	}
	if !(last < first) {
		t.Errorf("loss did not decrease over 5 SGD steps: %g → %g", first, last)
	}
}

// TestNativeConvolveGradients: graph.Convolve's gradients match finite differences for the odd
// kernels Conv2D hands it (1×1, 3×3 with strides 1 and 2, 5×5) on the test backend
// (IAGEN_NN_BACKEND=xla:cpu checks XLA's; TestLayersAgreeOnXLACPU checks it in every run), and
// nativeConv2D — even kernels zero-padded to odd — matches the im2col Conv2DWithKernel and
// its finite differences.
func TestNativeConvolveGradients(t *testing.T) {
	for _, c := range []struct{ k, s, p, h int }{{1, 1, 0, 5}, {3, 1, 1, 7}, {3, 2, 1, 7}, {3, 2, 1, 8}, {3, 1, 0, 6}, {5, 1, 2, 6}} {
		t.Run(fmt.Sprintf("graph.Convolve k%d s%d p%d", c.k, c.s, c.p), func(t *testing.T) {
			nntest.GradCheck(t, goBackend(t), func(xs []*graph.Node) *graph.Node {
				return graph.Convolve(xs[0], xs[1]).StridePerAxis(c.s, c.s).PaddingPerDim([][2]int{{c.p, c.p}, {c.p, c.p}}).Done()
			}, 1e-8, nntest.Rand(1, 2, c.h, c.h, 3), nntest.Rand(2, c.k, c.k, 3, 4))
		})
	}
	for _, c := range []struct{ k, s, p, h int }{{3, 1, 1, 7}, {3, 2, 1, 8}, {4, 2, 1, 8}, {4, 1, 2, 5}, {2, 2, 0, 6}} {
		t.Run(fmt.Sprintf("nativeConv2D k%d s%d p%d", c.k, c.s, c.p), func(t *testing.T) {
			x, kernel, bias := nntest.Rand(1, 2, c.h, c.h, 3), nntest.Rand(2, c.k, c.k, 3, 4), nntest.Rand(3, 4)
			native := func(xs []*graph.Node) *graph.Node { return nativeConv2D(xs[0], xs[1], xs[2], c.s, c.p) }
			got := run1(t, native, x, kernel, bias)
			want := run1(t, func(xs []*graph.Node) *graph.Node { return Conv2DWithKernel(xs[0], xs[1], xs[2], c.s, c.p) }, x, kernel, bias)
			if !got.Shape().Equal(want.Shape()) {
				t.Fatalf("shape %s, Conv2DWithKernel gives %s", got.Shape(), want.Shape())
			}
			if d := nntest.MaxAbsDiff(got, want); !(d < 1e-10) {
				t.Errorf("max |native - im2col| = %g", d)
			}
			nntest.GradCheck(t, goBackend(t), native, 1e-8, x, kernel, bias)
		})
	}
}

// TestConv2DNativeParam: with ParamNativeConv set, Conv2D gives the same values on a backend
// with native convolutions, and NativeConvolutions names only XLA.
func TestConv2DNativeParam(t *testing.T) {
	if NativeConvolutions(nil) {
		t.Error("no backend has native convolutions")
	}
	x := nntest.RandF32(1, 2, 8, 8, 3)
	conv := func(native bool) *tensors.Tensor {
		store := nntest.SeededStore(t)
		_ = store.SetRNGStateFromSeed(3)
		exec, err := model.NewExec(goBackend(t), store, func(scope *model.Scope, x *graph.Node) *graph.Node {
			scope.SetParam(ParamNativeConv, native)
			return Conv2D(scope, x, 4, 3, 2, 1)
		})
		if err != nil {
			t.Fatal(err)
		}
		out, err := exec.Call(x)
		if err != nil {
			t.Fatal(err)
		}
		return out[0]
	}
	if d := nntest.MaxAbsDiff(conv(true), conv(false)); !(d < 1e-5) {
		t.Errorf("Conv2D with and without ParamNativeConv differ by %g", d)
	}
}
