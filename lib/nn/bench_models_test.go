package nn

import (
	"math"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/nn/nntest"
)

// Benchmarks of one whole training step — forward, backward, optimizer update, one compiled
// model.Exec reused — of BENCH.md's lstm, diffusion and flow configurations. The lstm and flow
// models here are bench fixtures written from BENCH.md ("Speed configurations" and "Details
// that matter"); the families will own theirs. The diffusion step runs lib/nn's UNet, which
// lib/diffusion trains. They use lib/nn's layers only (benchBoth's baseline variant is for the convolution pieces in bench_test.go).
// Adam's ε is BENCH.md's 1e-8 (GoMLX's default is 1e-7).

// ----------------------------------------------------------------------------------------
// lstm: char-level LSTM language model.

// lstmVocab: BENCH.md's lstm reads the Spanish corpus es-rv1909 (Reina-Valera 1909), which has
// 85 distinct characters; the bench step uses random tokens of a vocabulary that size.
const lstmVocab = 85

// lstmLM is BENCH.md's lstm: embedding → numLayers stacked LSTM layers (LSTM, from a zero
// state: BENCH.md carries no state across windows) → Dense → V logits. tokens [B, S] int32 →
// logits [S, B, V] (time-major: the per-step hidden states are stacked as they come).
// BENCH.md: embed 64, hidden 256, 2 layers.
func lstmLM(scope *model.Scope, tokens *graph.Node, vocab, embed, hidden, numLayers int) *graph.Node {
	s := tokens.Shape().Dimensions[1]
	xs := make([]*graph.Node, s)
	embedding := scope.In("embedding")
	for t := range xs {
		// One embedding lookup per step (the index axis [B, 1] explicit): slicing the steps
		// out of one [B, S, E] lookup would cost O(S²) in back-propagation (see LSTM).
		xs[t] = layers.Embedding(embedding, graph.SliceAxis(tokens, 1, graph.AxisElem(t)), dtypes.Float32, vocab, embed)
	}
	for l := range numLayers {
		xs, _ = LSTM(scope.In("layer_%d", l), xs, hidden, nil, nil)
	}
	return layers.Dense(scope.In("head"), graph.Stack(xs, 0), true, vocab) // [S, B, V]
}

// lstmLoss is the softmax cross-entropy of targets [B, S] (int32) under logits [S, B, V],
// averaged over all B·S positions: mean of -log softmax(logits)[target].
func lstmLoss(logits, targets *graph.Node) *graph.Node {
	logp := graph.LogSoftmax(logits, -1)
	onehot := graph.OneHot(graph.Transpose(targets, 0, 1), logits.Shape().Dimensions[2], logits.DType())
	return graph.Neg(graph.ReduceAllMean(graph.ReduceSum(graph.Mul(logp, onehot), -1)))
}

// updateClipped applies opt to the gradients of loss clipped to global norm maxNorm
// (ClipByGlobalNorm): GoMLX's Adam has no global-norm clipping of its own. It returns the
// clipped gradients, in the order of the trainable variables in use.
func updateClipped(opt optimizer.Interface, scope *model.Scope, loss *graph.Node, maxNorm float64) []*graph.Node {
	grads, _ := ClipByGlobalNorm(scope.BuildTrainableVariablesGradientsGraph(loss), maxNorm)
	opt.(train.OptimizeWithGradients).UpdateGraphWithGradients(scope, grads, loss.DType())
	return grads
}

// BenchmarkLSTMStep: BENCH.md's lstm step: batch 32 windows of 64 characters, loss averaged
// over all positions, Adam lr 2e-3 on gradients clipped to global norm 1.
func BenchmarkLSTMStep(b *testing.B) {
	const batch, seq = 32, 64
	store := nntest.SeededStore(b)
	opt := optimizer.Adam().LearningRate(2e-3).Epsilon(1e-8).Done()
	builds := 0
	exec := model.MustNewExec(goBackend(b), store, func(root *model.Scope, tokens, targets *graph.Node) *graph.Node {
		builds++
		root.Store().SetTraining(tokens.Graph(), true)
		loss := lstmLoss(lstmLM(root, tokens, lstmVocab, 64, 256, 2), targets)
		updateClipped(opt, root, loss, 1)
		return loss
	})
	benchStep(b, exec, &builds, randTokens(1, lstmVocab, batch, seq), randTokens(2, lstmVocab, batch, seq))
}

// randTensor returns a tensor of the given dimensions filled by draw, reproducible from seed.
func randTensor[T int32 | float32](seed uint64, draw func(rng *rand.Rand) T, dims ...int) *tensors.Tensor {
	rng := rand.New(rand.NewPCG(seed, 3))
	size := 1
	for _, d := range dims {
		size *= d
	}
	flat := make([]T, size)
	for i := range flat {
		flat[i] = draw(rng)
	}
	return tensors.FromFlatDataAndDimensions(flat, dims...)
}

// randTokens returns int32 values uniform on {0, …, n-1}: tokens, time steps.
func randTokens(seed uint64, n int, dims ...int) *tensors.Tensor {
	return randTensor(seed, func(rng *rand.Rand) int32 { return int32(rng.IntN(n)) }, dims...)
}

// randUniform returns float32 values uniform in [lo, hi).
func randUniform(seed uint64, lo, hi float64, dims ...int) *tensors.Tensor {
	return randTensor(seed, func(rng *rand.Rand) float32 { return float32(lo + (hi-lo)*rng.Float64()) }, dims...)
}

// randNormal returns float32 standard normal values.
func randNormal(seed uint64, dims ...int) *tensors.Tensor {
	return randTensor(seed, func(rng *rand.Rand) float32 { return float32(rng.NormFloat64()) }, dims...)
}

// randPixels returns float32 8-bit pixel values: integers uniform on {0, …, 255}.
func randPixels(seed uint64, dims ...int) *tensors.Tensor {
	return randTensor(seed, func(rng *rand.Rand) float32 { return float32(rng.IntN(256)) }, dims...)
}

// ----------------------------------------------------------------------------------------
// diffusion: DDPM ε-prediction U-Net.

// BenchmarkUNetStep: BENCH.md's diffusion step on its U-Net (UNet with BenchUNet): batch 64,
// t uniform on {0…999}, the mean squared error of ε̂(x_t, t) against ε, Adam lr 2e-4. x_t, ε
// and t are drawn once, in Go, and fed as inputs: the forward noising x_t = √ᾱ_t·x_0 +
// √(1−ᾱ_t)·ε, a few element-wise products, is lib/diffusion's (`iagen bench diffusion` times
// the family's whole step).
func BenchmarkUNetStep(b *testing.B) {
	const batch, steps = 64, 1000
	store := nntest.SeededStore(b)
	opt := optimizer.Adam().LearningRate(2e-4).Epsilon(1e-8).Done()
	builds := 0
	exec := model.MustNewExec(goBackend(b), store, func(root *model.Scope, xt, eps, t *graph.Node) *graph.Node {
		builds++
		root.SetParam(ParamNativeConv, benchNativeConv())
		root.Store().SetTraining(xt.Graph(), true)
		loss := graph.ReduceAllMean(graph.Square(graph.Sub(eps, UNet(root, BenchUNet(), xt, t))))
		opt.UpdateGraph(root, xt.Graph(), loss)
		return loss
	})
	benchStep(b, exec, &builds, randUniform(1, -1, 1, batch, 28, 28, 1), randNormal(2, batch, 28, 28, 1), randTokens(3, steps, batch))
}

// ----------------------------------------------------------------------------------------
// flow: RealNVP, single scale.

// flowAlpha is the logit transform's α (Dinh et al. 2017, §4.1; BENCH.md: 0.05).
const flowAlpha = 0.05

// realNVP is BENCH.md's flow (Dinh, Sohl-Dickstein & Bengio 2017, single scale). It maps the
// dequantized pixels v = x + u ∈ [0, 256) (x the 8-bit value, u ~ U[0, 1)), [B, H, W, 1], to
//
//	p = α + (1-2α)·v/256,  z₀ = logit p = log p - log(1-p)                 (preprocessing)
//	z_k = coupling_k(ActNorm_k(z_{k-1})), k = 1…numLayers                   (checkerboard masks,
//	                                                                         (i+j) even for odd k)
//
// and returns z = z_numLayers and log|det ∂z/∂v| per example [B]: the preprocessing's
// Σ_pixels [log((1-2α)/256) - log p - log(1-p)] (dz₀/dv = (1-2α)/256 / (p(1-p))) plus each
// ActNorm's and coupling's log-det. With the preprocessing term the likelihood is of v, that is
// of the 8-bit pixels: bits/dim are in 8-bit pixel space.
func realNVP(scope *model.Scope, v *graph.Node, numLayers int) (z, logDet *graph.Node) {
	d := v.Shape().Dimensions
	p := graph.AddScalar(graph.MulScalar(v, (1-2*flowAlpha)/256), flowAlpha)
	logP, log1mP := graph.Log(p), graph.Log(graph.OneMinus(p))
	z = graph.Sub(logP, log1mP)
	logDet = graph.ReduceSum(graph.Sub(graph.AddScalar(graph.Neg(logP), math.Log((1-2*flowAlpha)/256)), log1mP), 1, 2, 3)
	for k := range numLayers {
		ls := scope.In("layer_%d", k)
		var ld *graph.Node
		z, ld = ActNorm(ls, z) // ld: a scalar, the same for every example
		logDet = graph.Add(logDet, ld)
		z, ld = coupling(nnConvLayers, ls.In("coupling"), z, CheckerboardMask(v.Graph(), v.DType(), d[1], d[2], k%2 == 1))
		logDet = graph.Add(logDet, ld)
	}
	return z, logDet
}

// realNVPInverse inverts realNVP (same scope and numLayers): the layers in reverse order, then
// p = σ(z₀), v = 256·(p - α)/(1-2α).
func realNVPInverse(scope *model.Scope, z *graph.Node, numLayers int) *graph.Node {
	d := z.Shape().Dimensions
	for k := numLayers - 1; k >= 0; k-- {
		ls := scope.In("layer_%d", k)
		z = couplingInverse(nnConvLayers, ls.In("coupling"), z, CheckerboardMask(z.Graph(), z.DType(), d[1], d[2], k%2 == 1))
		z = ActNormInverse(ls, z)
	}
	return graph.MulScalar(graph.AddScalar(graph.Sigmoid(z), -flowAlpha), 256/(1-2*flowAlpha))
}

// flowBitsPerDim is the batch mean of -log p(v) / (D·ln 2), D = H·W pixels, with the change of
// variables (Dinh et al. 2017, eq. 3) log p(v) = log N(z; 0, I) + log|det ∂z/∂v|,
// log N(z; 0, I) = -½ Σ z² - (D/2)·log 2π.
func flowBitsPerDim(z, logDet *graph.Node) *graph.Node {
	dims := float64(z.Shape().Size() / z.Shape().Dimensions[0])
	logPrior := graph.AddScalar(graph.MulScalar(graph.ReduceSum(graph.Square(z), 1, 2, 3), -0.5), -dims/2*math.Log(2*math.Pi))
	return graph.DivScalar(graph.ReduceAllMean(graph.Neg(graph.Add(logPrior, logDet))), dims*math.Ln2)
}

// BenchmarkRealNVPStep: BENCH.md's flow step: 8 coupling layers on 28×28×1, batch 64, Adam
// lr 1e-3, loss = batch mean bits/dim. The 8-bit images x and the dequantization noise u are
// drawn once, in Go, and fed as inputs. (The first step also initialises the ActNorms from the
// batch; every step computes the batch statistics for that selection, see ActNorm.)
func BenchmarkRealNVPStep(b *testing.B) {
	const batch = 64
	store := nntest.SeededStore(b)
	opt := optimizer.Adam().LearningRate(1e-3).Epsilon(1e-8).Done()
	builds := 0
	exec := model.MustNewExec(goBackend(b), store, func(root *model.Scope, x, u *graph.Node) *graph.Node {
		builds++
		root.SetParam(ParamNativeConv, benchNativeConv())
		root.Store().SetTraining(x.Graph(), true)
		loss := flowBitsPerDim(realNVP(root, graph.Add(x, u), 8))
		opt.UpdateGraph(root, x.Graph(), loss)
		return loss
	})
	benchStep(b, exec, &builds, randPixels(1, batch, 28, 28, 1), randUniform(2, 0, 1, batch, 28, 28, 1))
}

// benchNativeConv is whether the U-Net and RealNVP benchmarks let Conv2D use the backend's own
// convolution (ParamNativeConv): IAGEN_NN_NATIVE_CONV=1.
func benchNativeConv() bool { return os.Getenv("IAGEN_NN_NATIVE_CONV") == "1" }
