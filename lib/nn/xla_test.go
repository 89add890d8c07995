package nn

import (
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/iagen-course/iagen/lib/backend/backendtest"
	"github.com/iagen-course/iagen/lib/nn/nntest"
)

// TestLayersAgreeOnXLACPU checks every layer on XLA's CPU backend, when its plugin is
// installed: the forward values equal the go backend's, and the gradients pass the same
// finite-difference check. Without a plugin it is skipped, visibly — unless setup installed
// one here (backendtest.XLACPU).
func TestLayersAgreeOnXLACPU(t *testing.T) {
	xla := backendtest.XLACPU(t)
	goB := goBackend(t)
	cases := []struct {
		name   string
		fn     nntest.Fn
		inputs []*tensors.Tensor
	}{
		{"Conv2D k4 s2 p1", func(x []*graph.Node) *graph.Node { return Conv2DWithKernel(x[0], x[1], x[2], 2, 1) },
			[]*tensors.Tensor{nntest.Rand(1, 2, 8, 8, 3), nntest.Rand(2, 4, 4, 3, 4), nntest.Rand(3, 4)}},
		{"Conv2D k3 s1 p1", func(x []*graph.Node) *graph.Node { return Conv2DWithKernel(x[0], x[1], nil, 1, 1) },
			[]*tensors.Tensor{nntest.Rand(4, 2, 6, 6, 2), nntest.Rand(5, 3, 3, 2, 3)}},
		{"ConvTranspose2D k4 s2 p1", func(x []*graph.Node) *graph.Node { return ConvTranspose2DWithKernel(x[0], x[1], x[2], 2, 1) },
			[]*tensors.Tensor{nntest.Rand(6, 2, 4, 4, 3), nntest.Rand(7, 4, 4, 3, 2), nntest.Rand(8, 2)}},
		{"nativeConv2D k3 s2 p1", func(x []*graph.Node) *graph.Node { return nativeConv2D(x[0], x[1], x[2], 2, 1) },
			[]*tensors.Tensor{nntest.Rand(13, 2, 8, 8, 3), nntest.Rand(14, 3, 3, 3, 4), nntest.Rand(15, 4)}},
		{"nativeConv2D k4 s2 p1", func(x []*graph.Node) *graph.Node { return nativeConv2D(x[0], x[1], nil, 2, 1) },
			[]*tensors.Tensor{nntest.Rand(16, 2, 8, 8, 2), nntest.Rand(17, 4, 4, 2, 3)}},
		{"Upsample2x", func(x []*graph.Node) *graph.Node { return Upsample2x(x[0]) },
			[]*tensors.Tensor{nntest.Rand(9, 2, 3, 3, 2)}},
		{"GroupNorm", func(x []*graph.Node) *graph.Node { return GroupNormWith(x[0], 2, x[1], x[2], 1e-5) },
			[]*tensors.Tensor{nntest.Rand(10, 2, 4, 4, 4), nntest.Rand(11, 4), nntest.Rand(12, 4)}},
		{"BatchNormTraining", func(x []*graph.Node) *graph.Node {
			y, _, _ := BatchNormTraining(x[0], x[1], x[2], 1e-5)
			return y
		}, []*tensors.Tensor{nntest.Rand(13, 4, 3, 3, 2), nntest.Rand(14, 2), nntest.Rand(15, 2)}},
		{"LogSumExp", func(x []*graph.Node) *graph.Node { return LogSumExp(x[0], -1) },
			[]*tensors.Tensor{nntest.Rand(16, 3, 7)}},
		{"CumSum", func(x []*graph.Node) *graph.Node { return CumSum(x[0], 1) },
			[]*tensors.Tensor{nntest.Rand(17, 3, 5)}},
		{"MatMul2D", func(x []*graph.Node) *graph.Node { return MatMul2D(x[0], x[1]) },
			[]*tensors.Tensor{nntest.Rand(18, 3, 4), nntest.Rand(19, 4, 5)}},
		{"LSTMCellWithWeights", func(x []*graph.Node) *graph.Node {
			h, c := LSTMCellWithWeights(x[0], x[1], x[2], x[3], x[4], x[5])
			return graph.Concatenate([]*graph.Node{h, c}, 1)
		}, []*tensors.Tensor{nntest.Rand(20, 2, 3), nntest.Rand(21, 2, 4), nntest.Rand(22, 2, 4),
			nntest.Rand(23, 3, 16), nntest.Rand(24, 4, 16), nntest.Rand(25, 16)}},
		{"ClipByGlobalNorm", func(x []*graph.Node) *graph.Node {
			clipped, _ := ClipByGlobalNorm([]*graph.Node{x[0], x[1]}, 0.5)
			return graph.Concatenate([]*graph.Node{graph.Reshape(clipped[0], -1), graph.Reshape(clipped[1], -1)}, 0)
		}, []*tensors.Tensor{nntest.Rand(26, 3, 2), nntest.Rand(27, 4)}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var outs [2]*tensors.Tensor
			for i, b := range []compute.Backend{goB, xla} {
				e, err := graph.NewExec(b, func(in []*graph.Node) *graph.Node { return tc.fn(in) })
				if err != nil {
					t.Fatal(err)
				}
				args := make([]any, len(tc.inputs))
				for j, x := range tc.inputs {
					args[j] = clone(t, x) // a tensor is bound to the backend it was used on
				}
				if outs[i], err = e.Exec1(args...); err != nil {
					t.Fatal(err)
				}
			}
			if d := nntest.MaxAbsDiff(outs[0], outs[1]); !(d <= 1e-9) {
				t.Errorf("go and xla:cpu forward values differ by %g", d)
			}
			fresh := make([]*tensors.Tensor, len(tc.inputs))
			for j, x := range tc.inputs {
				fresh[j] = clone(t, x)
			}
			nntest.GradCheck(t, xla, tc.fn, 1e-6, fresh...)
		})
	}
}

func clone(t *testing.T, x *tensors.Tensor) *tensors.Tensor {
	t.Helper()
	c, err := x.LocalClone()
	if err != nil {
		t.Fatal(err)
	}
	return c
}
