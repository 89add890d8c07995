// Package nn holds the neural-network building blocks that iagen's generative models need and
// that GoMLX (v0.28.4) lacks, or computes wrongly on its pure-Go backend: 2D convolution and
// transposed convolution with correct gradients for every kernel size, nearest ×2 upsampling,
// GroupNorm, BatchNorm with gradients through the batch statistics (PyTorch semantics),
// ActNorm, LogSumExp, CumSum and the sinusoidal (time-step) embedding.
//
// The functions follow GoMLX's idiom: they take a *model.Scope (when they own variables) and
// *graph.Node values, and return nodes. Images are NHWC (channels last): [batch, height,
// width, channels]. Every layer is written with ops whose gradients are correct on the go
// backend, and checked against central finite differences (see package nntest and the tests);
// knownbugs_test.go pins the native GoMLX ops these replace, and fails when they get fixed.
package nn
