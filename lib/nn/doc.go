// Package nn holds the neural-network building blocks that iagen's generative models need and
// that GoMLX (v0.28.4) lacks, or computes wrongly on its pure-Go backend: 2D convolution and
// transposed convolution with correct gradients for every kernel size, nearest ×2 upsampling,
// GroupNorm, BatchNorm with gradients through the batch statistics (PyTorch semantics),
// ActNorm, LogSumExp, CumSum, the sinusoidal (time-step) embedding, DDPM's U-Net (residual
// blocks with a time embedding, self-attention), an LSTM whose gradient stays linear in the
// sequence length, RealNVP's checkerboard mask and global-norm gradient clipping.
//
// The functions follow GoMLX's idiom: they take a *model.Scope (when they own variables) and
// *graph.Node values, and return nodes. Images are NHWC (channels last): [batch, height,
// width, channels]. Every layer is written with ops whose gradients are correct on the go
// backend, and checked against central finite differences (see package nntest and the tests);
// knownbugs_test.go pins the native GoMLX ops these replace, and fails when they get fixed.
//
// # The go backend (compute v0.1.3): what these layers work around, measured here
//
//   - Its Gather, ScatterSum and Transpose copy element by element (~10 ns per element), its
//     Slice too (~2.5 ns); Pad and Concatenate copy whole blocks. The convolutions are built
//     from slices, pads and concatenations, with hand-written gradients (customgrad.go), and
//     matrix products arranged in the two layouts its matmul takes without a transpose
//     (MatMul2D).
//   - Its parallel executor deadlocks when 2·GOMAXPROCS large matrix products are ready at
//     once. The layers chain their own products (afterNode); a whole model can still have
//     that many independent branches: configure the backend as "go:parallelism=-1" (or
//     "go:ops_sequential") to rule it out.
//   - Built with GOEXPERIMENT=simd, its AVX-512 matmul returns without VZEROUPPER (Go emits
//     none after simd/archsimd code), and math.Exp — hence the backend's Exp, Logistic, Tanh,
//     Softplus — then runs ~250× slower on that thread until something clears the state.
//     Asynchronous preemption dirties it too: run with GODEBUG=asyncpreemptoff=1 (the tests do).
package nn
