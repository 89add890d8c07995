package metrics

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// BenchmarkGram times A·Bᵀ for 10,000 × 10,000 rows of 128 features (1.28·10¹⁰ multiply-adds)
// with each micro-kernel, and with gonum's pure-Go Sgemm/Dgemm on the same 256-row blocks shared
// out to the same number of goroutines, for comparison.
//
//	GOEXPERIMENT=simd go test ./lib/metrics/ -run '^$' -bench Gram -benchtime 2x
func BenchmarkGram(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 1))
	const n, d = 10000, 128
	x, y := randomMatrix(r, n, d, 1, 0), randomMatrix(r, n, d, 1, 0)
	report := func(b *testing.B, cpu0 float64) {
		b.ReportMetric(float64(n)*n*d*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
		b.ReportMetric((processCPUSeconds()-cpu0)/float64(b.N), "cpu-s/op")
	}
	saved := gramKernel{kernelName, kernelRows, microKernel}
	defer useKernel(saved)
	for _, k := range availableKernels {
		b.Run(k.name, func(b *testing.B) {
			useKernel(k)
			cpu0 := processCPUSeconds()
			for b.Loop() {
				forEachTile(x, y, false, numWorkers(), func(int, int, int, int, int, []float32, int) {})
			}
			report(b, cpu0)
		})
	}
	// parallelBlocks runs f(i0, rows) for 256-row blocks of A on numWorkers goroutines.
	parallelBlocks := func(f func(w, i0, rows int)) {
		var next atomic.Int64
		var wg sync.WaitGroup
		for w := 0; w < numWorkers(); w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i0 := int(next.Add(1)-1) * tileSize
					if i0 >= n {
						return
					}
					f(w, i0, min(tileSize, n-i0))
				}
			}()
		}
		wg.Wait()
	}
	b.Run("gonum-sgemm", func(b *testing.B) {
		ya := blas32.General{Rows: n, Cols: d, Stride: d, Data: y.Data}
		out := make([][]float32, numWorkers())
		for w := range out {
			out[w] = make([]float32, tileSize*n)
		}
		cpu0 := processCPUSeconds()
		for b.Loop() {
			parallelBlocks(func(w, i0, rows int) {
				a := blas32.General{Rows: rows, Cols: d, Stride: d, Data: x.Data[i0*d:]}
				c := blas32.General{Rows: rows, Cols: n, Stride: n, Data: out[w]}
				blas32.Gemm(blas.NoTrans, blas.Trans, 1, a, ya, 0, c)
			})
		}
		report(b, cpu0)
	})
	b.Run("gonum-dgemm", func(b *testing.B) {
		xd, yd := make([]float64, n*d), make([]float64, n*d)
		for i := range xd {
			xd[i], yd[i] = float64(x.Data[i]), float64(y.Data[i])
		}
		ya := blas64.General{Rows: n, Cols: d, Stride: d, Data: yd}
		out := make([][]float64, numWorkers())
		for w := range out {
			out[w] = make([]float64, tileSize*n)
		}
		cpu0 := processCPUSeconds()
		for b.Loop() {
			parallelBlocks(func(w, i0, rows int) {
				a := blas64.General{Rows: rows, Cols: d, Stride: d, Data: xd[i0*d:]}
				c := blas64.General{Rows: rows, Cols: n, Stride: n, Data: out[w]}
				blas64.Gemm(blas.NoTrans, blas.Trans, 1, a, ya, 0, c)
			})
		}
		report(b, cpu0)
	})
}

// imageBenchSets is 10,000 generated, training and test feature vectors of 128 dimensions drawn
// from ten class blobs (non-negative, like a ReLU layer's output), with labels: the sizes
// BENCH.md fixes for the sample-quality protocol.
func imageBenchSets() ImageSamples {
	r := rand.New(rand.NewPCG(42, 42))
	const n, d = 10000, 128
	all := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	relu := func(m Matrix) Matrix {
		for i, v := range m.Data {
			m.Data[i] = max(0, v)
		}
		return m
	}
	gen, genLabels := classBlobs(r, n, d, all)
	train, trainLabels := classBlobs(r, n, d, all)
	test, _ := classBlobs(r, n, d, all)
	return ImageSamples{relu(gen), genLabels, relu(train), trainLabels, relu(test)}
}

// BenchmarkImageMetrics10k times every image metric for 10,000 generated vs 10,000 real samples
// of 128 features: the whole EvaluateImages report (two Fréchet distances, KID over 100 subsets
// of 1000, PRDC with k = 5, class histograms), and each part alone.
//
//	GOEXPERIMENT=simd go test ./lib/metrics/ -run '^$' -bench ImageMetrics10k -benchtime 3x
func BenchmarkImageMetrics10k(b *testing.B) {
	in := imageBenchSets()
	b.Logf("micro-kernel %s, GOMAXPROCS %d", kernelName, numWorkers())
	parts := []struct {
		name string
		run  func() error
	}{
		{"EvaluateImages", func() error { _, err := EvaluateImages(in, DefaultImageReportConfig()); return err }},
		{"Frechet", func() error { _, err := FrechetDistance(in.Generated, in.Train); return err }},
		{"KID", func() error { _, err := KID(in.Generated, in.Train, DefaultKIDConfig()); return err }},
		{"PRDC", func() error {
			_, err := PrecisionRecallDensityCoverage(in.Train, in.Generated, DefaultNeighbours)
			return err
		}},
	}
	for _, p := range parts {
		b.Run(p.name, func(b *testing.B) {
			cpu0 := processCPUSeconds()
			for b.Loop() {
				if err := p.run(); err != nil {
					b.Fatal(err)
				}
			}
			// CPU seconds per op: on a machine shared with other jobs, wall time overstates
			// the cost; on 2 idle cores, wall ≈ cpu-s/op ÷ 2 for the parallel parts.
			b.ReportMetric((processCPUSeconds()-cpu0)/float64(b.N), "cpu-s/op")
		})
	}
}
