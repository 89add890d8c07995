package metrics

import (
	"fmt"
	"math"
	"slices"
)

// DefaultNeighbours is the k of the k-nearest-neighbour manifold estimates: 5, the value both
// Kynkäänniemi et al. (2019) and Naeem et al. (2020) recommend and use.
const DefaultNeighbours = 5

// PRDC holds the four k-NN manifold metrics of a generated set against a real one. Each is a
// fraction in [0, 1] except Density, whose expectation is 1 when the generated samples follow the
// real distribution and which can exceed 1.
type PRDC struct {
	// Precision (Kynkäänniemi et al. 2019, "Improved Precision and Recall Metric for Assessing
	// Generative Models", eqs. 1–2): the fraction of generated samples inside the real manifold,
	// the union of the balls B(rᵢ, NNDₖ(rᵢ)) around every real sample, NNDₖ(rᵢ) being the distance
	// from rᵢ to its k-th nearest real neighbour (itself excluded).
	Precision float64
	// Recall (same paper): the fraction of real samples inside the generated manifold, built the
	// same way from the generated samples.
	Recall float64
	// Density (Naeem et al. 2020, "Reliable Fidelity and Diversity Metrics for Generative Models",
	// eq. 3): (1/kM) Σⱼ Σᵢ 1[fⱼ ∈ B(rᵢ, NNDₖ(rᵢ))] — how many real-sample balls contain each
	// generated sample, on average, divided by k.
	Density float64
	// Coverage (Naeem et al. 2020, eq. 4): (1/N) Σᵢ 1[∃j: fⱼ ∈ B(rᵢ, NNDₖ(rᵢ))] — the fraction of
	// real samples whose ball contains at least one generated sample.
	Coverage float64
}

// PrecisionRecallDensityCoverage computes PRDC for generated features fake (M×D) against real
// features real (N×D) with k nearest neighbours (k < N and k < M). Balls are closed
// (‖f − r‖ ≤ NNDₖ(r), as in Kynkäänniemi et al. eq. 1); the reference implementations use < ,
// which differs only on exact ties.
//
// Cost: three sets of pairwise distances (real–real, fake–fake, real–fake), streamed in tiles
// of ‖a‖² + ‖b‖² − 2a·b with the inner products from a SIMD matrix kernel, never stored; the
// two within-set passes use symmetry. The features are centred on the real mean first, which
// leaves distances unchanged and keeps the float32 cancellation in ‖a‖² + ‖b‖² − 2a·b small.
func PrecisionRecallDensityCoverage(real, fake Matrix, k int) (PRDC, error) {
	if err := sameWidth("real features", real, "generated features", fake); err != nil {
		return PRDC{}, err
	}
	if k < 1 {
		return PRDC{}, fmt.Errorf("metrics: k = %d nearest neighbours, want k ≥ 1", k)
	}
	if real.Rows <= k || fake.Rows <= k {
		return PRDC{}, fmt.Errorf("metrics: k = %d nearest neighbours need more than k samples per set, got %d real and %d generated", k, real.Rows, fake.Rows)
	}
	mu := columnMean(real)
	rc, rn := centered(real, mu)
	fc, fn := centered(fake, mu)
	workers := numWorkers()
	realR2 := kthNeighbourSqDist(rc, rn, k, workers)
	fakeR2 := kthNeighbourSqDist(fc, fn, k, workers)

	// One pass over real×fake distances; per-worker partial results, merged below.
	type partial struct {
		inBalls   []int32 // per fake sample: number of real balls containing it
		covered   []bool  // per real sample: its ball contains some fake sample
		recovered []bool  // per real sample: inside some fake ball
	}
	parts := make([]partial, workers)
	for w := range parts {
		parts[w] = partial{make([]int32, fake.Rows), make([]bool, real.Rows), make([]bool, real.Rows)}
	}
	forEachTile(rc, fc, false, workers, func(w, i0, ni, j0, nj int, g []float32, ldg int) {
		p := parts[w]
		inBalls := p.inBalls[j0 : j0+nj]
		fR2, fN := fakeR2[j0:j0+nj], fn[j0:j0+nj]
		for i := 0; i < ni; i++ {
			rR2, rN := realR2[i0+i], rn[i0+i]
			row := g[i*ldg : i*ldg+nj]
			cov, rec := false, false
			for j, gij := range row {
				d := rN + fN[j] - 2*gij
				if d <= rR2 {
					inBalls[j]++
					cov = true
				}
				if d <= fR2[j] {
					rec = true
				}
			}
			if cov {
				p.covered[i0+i] = true
			}
			if rec {
				p.recovered[i0+i] = true
			}
		}
	})
	var precise, inBallsTotal, covered, recovered int
	for j := 0; j < fake.Rows; j++ {
		var c int
		for _, p := range parts {
			c += int(p.inBalls[j])
		}
		inBallsTotal += c
		if c > 0 {
			precise++
		}
	}
	for i := 0; i < real.Rows; i++ {
		var cov, rec bool
		for _, p := range parts {
			cov = cov || p.covered[i]
			rec = rec || p.recovered[i]
		}
		if cov {
			covered++
		}
		if rec {
			recovered++
		}
	}
	n, m := float64(real.Rows), float64(fake.Rows)
	return PRDC{
		Precision: float64(precise) / m,
		Recall:    float64(recovered) / n,
		Density:   float64(inBallsTotal) / (float64(k) * m),
		Coverage:  float64(covered) / n,
	}, nil
}

// KNNRadii returns, for every row of x, the Euclidean distance to its k-th nearest other row
// (NNDₖ in Kynkäänniemi et al. 2019 and Naeem et al. 2020). It needs k < x.Rows.
func KNNRadii(x Matrix, k int) ([]float64, error) {
	if err := x.validate("features"); err != nil {
		return nil, err
	}
	if k < 1 || k >= x.Rows {
		return nil, fmt.Errorf("metrics: k = %d nearest neighbours of %d samples, want 1 ≤ k < %d", k, x.Rows, x.Rows)
	}
	xc, norms := centered(x, columnMean(x))
	r2 := kthNeighbourSqDist(xc, norms, k, numWorkers())
	out := make([]float64, len(r2))
	for i, v := range r2 {
		out[i] = math.Sqrt(float64(v))
	}
	return out, nil
}

// kthNeighbourSqDist returns, for every row i of x, the k-th smallest squared distance to a row
// j ≠ i, given the squared norms of the rows. Each worker keeps the k smallest values seen per
// row (sorted, insertion on a hit); tiles above the diagonal update both the row and the column.
func kthNeighbourSqDist(x Matrix, norms []float32, k, workers int) []float32 {
	n := x.Rows
	inf := float32(math.MaxFloat32)
	best := make([][]float32, workers)
	for w := range best {
		best[w] = make([]float32, n*k)
		for i := range best[w] {
			best[w][i] = inf
		}
	}
	insert := func(list []float32, d float32) {
		// list is sorted ascending and d < list[k-1].
		p := len(list) - 1
		for p > 0 && list[p-1] > d {
			list[p] = list[p-1]
			p--
		}
		list[p] = d
	}
	forEachTile(x, x, true, workers, func(w, i0, ni, j0, nj int, g []float32, ldg int) {
		b := best[w]
		diag := i0 == j0
		for i := 0; i < ni; i++ {
			gi := i0 + i
			ni2 := norms[gi]
			rowBest := b[gi*k : gi*k+k]
			row := g[i*ldg : i*ldg+nj]
			for j, gij := range row {
				gj := j0 + j
				if diag && gj == gi {
					continue
				}
				d := max(0, ni2+norms[gj]-2*gij)
				if d < rowBest[k-1] {
					insert(rowBest, d)
				}
				if !diag {
					if colBest := b[gj*k : gj*k+k]; d < colBest[k-1] {
						insert(colBest, d)
					}
				}
			}
		}
	})
	out := make([]float32, n)
	merged := make([]float32, 0, workers*k)
	for i := 0; i < n; i++ {
		merged = merged[:0]
		for w := range best {
			merged = append(merged, best[w][i*k:i*k+k]...)
		}
		slices.Sort(merged)
		out[i] = merged[k-1]
	}
	return out
}
