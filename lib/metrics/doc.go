// Package metrics measures generative models: likelihoods (nats, bits/dim, bits/char,
// perplexity, the IWAE bound), sample quality on classifier features (Fréchet distance, KID,
// precision/recall, density/coverage) and class histograms (coverage, total variation, KL).
//
// Everything is pure Go on plain slices; nothing here builds a GoMLX graph. A feature set is a
// [Matrix]: N rows (samples) × D columns (features), float32, row-major. The MNIST classifier
// that produces features is not part of this package: callers pass its penultimate-layer
// features and predicted labels in, and [EvaluateImages] turns them into the flat metrics.json
// fields (the README lists them).
//
// Pairwise metrics stream ‖a‖² + ‖b‖² − 2a·b over tiles whose inner products come from a
// register-blocked SIMD kernel (AVX-512 or AVX2+FMA through simd/archsimd when built with
// GOEXPERIMENT=simd on amd64, a pure-Go kernel otherwise), on all of GOMAXPROCS. For 10,000
// vs 10,000 samples of 128 features, every image metric together takes a few seconds on two
// cores (BenchmarkImageMetrics10k: ≈2.9 CPU-seconds).
package metrics
