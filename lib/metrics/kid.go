package metrics

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"sync/atomic"
)

// KIDConfig says how KID is estimated over random subsets.
type KIDConfig struct {
	// Subsets is the number of random subset pairs averaged: 100 by default, as in
	// torch-fidelity (the reference code of Bińkowski et al., compute_scores.py, uses 50).
	Subsets int
	// SubsetSize is the number of samples drawn, without replacement, from each set for every
	// subset: 1000 by default, as in both. It must not exceed either set's size.
	SubsetSize int
	// Seed makes the subsets reproducible.
	Seed uint64
}

// DefaultKIDConfig is 100 subsets of 1000 samples, seed 0.
func DefaultKIDConfig() KIDConfig { return KIDConfig{Subsets: 100, SubsetSize: 1000} }

// KIDResult is the mean and standard deviation of the per-subset MMD² estimates.
type KIDResult struct {
	Mean float64
	// Std is the population standard deviation (ddof 0) over subsets, as torch-fidelity reports
	// it: the spread of one subset's estimate, not the standard error of Mean.
	Std float64
}

// KID is the Kernel Inception Distance (Bińkowski et al. 2018, "Demystifying MMD GANs", §3 and
// App. D): the squared maximum mean discrepancy between the feature distributions of x and y
// under the cubic polynomial kernel
//
//	k(a, b) = (aᵀb / D + 1)³,
//
// estimated without bias (Gretton et al. 2012, eq. 3) on subsets X, Y of m samples each:
//
//	MMD²ᵤ = 1/(m(m−1)) Σ_{i≠j} k(xᵢ, xⱼ) + 1/(m(m−1)) Σ_{i≠j} k(yᵢ, yⱼ) − 2/m² Σ_{i,j} k(xᵢ, yⱼ),
//
// averaged over cfg.Subsets independent subset pairs. Being unbiased, it can be slightly
// negative when the distributions match. Features are used as given (the kernel is not
// translation invariant). Subsets are drawn up front from cfg.Seed, so the result does not depend
// on how many goroutines compute it.
func KID(x, y Matrix, cfg KIDConfig) (KIDResult, error) {
	if err := sameWidth("first feature set", x, "second feature set", y); err != nil {
		return KIDResult{}, err
	}
	m := cfg.SubsetSize
	if cfg.Subsets < 1 {
		return KIDResult{}, fmt.Errorf("metrics: KID needs at least 1 subset, got %d", cfg.Subsets)
	}
	if m < 2 {
		return KIDResult{}, fmt.Errorf("metrics: KID subset size %d, want at least 2", m)
	}
	if m > x.Rows || m > y.Rows {
		return KIDResult{}, fmt.Errorf("metrics: KID subset size %d exceeds the sample sizes (%d and %d): lower KIDConfig.SubsetSize", m, x.Rows, y.Rows)
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x4b4944))
	permX, permY := identityPerm(x.Rows), identityPerm(y.Rows)
	subsets := make([][2][]int, cfg.Subsets)
	for s := range subsets {
		subsets[s] = [2][]int{drawWithoutReplacement(rng, permX, m), drawWithoutReplacement(rng, permY, m)}
	}
	mmd := make([]float64, cfg.Subsets)
	workers := max(1, min(numWorkers(), cfg.Subsets))
	var next atomic.Int64
	var wg sync.WaitGroup
	invD := 1 / float64(x.Cols)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g := make([]float32, tileSize*tileSize)
			xs := Matrix{Rows: m, Cols: x.Cols, Data: make([]float32, m*x.Cols)}
			ys := Matrix{Rows: m, Cols: y.Cols, Data: make([]float32, m*y.Cols)}
			for {
				s := int(next.Add(1)) - 1
				if s >= len(subsets) {
					return
				}
				gatherRows(xs, x, subsets[s][0])
				gatherRows(ys, y, subsets[s][1])
				xp, yp := packRows(xs), packRows(ys)
				kxx := cubicKernelSum(xs, xp, true, invD, g)
				kyy := cubicKernelSum(ys, yp, true, invD, g)
				kxy := cubicKernelSum(xs, yp, false, invD, g)
				fm := float64(m)
				mmd[s] = (kxx+kyy)/(fm*(fm-1)) - 2*kxy/(fm*fm)
			}
		}()
	}
	wg.Wait()
	var mean float64
	for _, v := range mmd {
		mean += v
	}
	mean /= float64(len(mmd))
	var ss float64
	for _, v := range mmd {
		ss += (v - mean) * (v - mean)
	}
	return KIDResult{Mean: mean, Std: math.Sqrt(ss / float64(len(mmd)))}, nil
}

// cubicKernelSum returns Σᵢⱼ (aᵢ·bⱼ/D + 1)³ over all rows of a and of the packed b, or with
// offDiagonal (b is a) the sum over i ≠ j. Tiles are computed serially (KID parallelises over
// subsets) and summed in float64.
func cubicKernelSum(a Matrix, b packedRows, offDiagonal bool, invD float64, g []float32) float64 {
	var total float64
	for i0 := 0; i0 < a.Rows; i0 += tileSize {
		ni := min(tileSize, a.Rows-i0)
		jStart := 0
		if offDiagonal {
			jStart = i0
		}
		for j0 := jStart; j0 < b.m; j0 += tileSize {
			nj := min(tileSize, b.m-j0)
			gramTile(a, i0, ni, b, j0, nj, g, tileSize)
			var s float64
			for i := 0; i < ni; i++ {
				row := g[i*tileSize : i*tileSize+nj]
				for j, v := range row {
					if offDiagonal && i0 == j0 && i == j {
						continue
					}
					t := float64(v)*invD + 1
					s += t * t * t
				}
			}
			if offDiagonal && j0 != i0 {
				s *= 2 // the mirrored tile below the diagonal
			}
			total += s
		}
	}
	return total
}

func identityPerm(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

// drawWithoutReplacement returns m distinct indices uniformly at random: a partial Fisher–Yates
// shuffle of perm (any permutation; it is left permuted, which keeps later draws uniform).
func drawWithoutReplacement(rng *rand.Rand, perm []int, m int) []int {
	n := len(perm)
	for i := 0; i < m; i++ {
		j := i + rng.IntN(n-i)
		perm[i], perm[j] = perm[j], perm[i]
	}
	return append([]int(nil), perm[:m]...)
}

func gatherRows(dst, src Matrix, idx []int) {
	for r, i := range idx {
		copy(dst.Row(r), src.Row(i))
	}
}
