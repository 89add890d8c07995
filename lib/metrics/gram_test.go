package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

func randomMatrix(r *rand.Rand, rows, cols int, scale, shift float64) Matrix {
	m := Matrix{Rows: rows, Cols: cols, Data: make([]float32, rows*cols)}
	for i := range m.Data {
		m.Data[i] = float32(r.NormFloat64()*scale + shift)
	}
	return m
}

// Every micro-kernel the CPU can run must reproduce float64 inner products, on shapes with
// ragged edges (rows not a multiple of the kernel's rows, columns not a multiple of a panel,
// a dimension that is not a multiple of a vector).
func TestGramKernelsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	saved := gramKernel{kernelName, kernelRows, microKernel}
	defer useKernel(saved)
	for _, k := range availableKernels {
		for _, shape := range [][3]int{{1, 1, 1}, {7, 33, 5}, {300, 270, 128}, {513, 40, 17}} {
			n, m, d := shape[0], shape[1], shape[2]
			a, b := randomMatrix(r, n, d, 1, 0.5), randomMatrix(r, m, d, 1, -0.2)
			useKernel(k)
			got := make([]float64, n*m)
			forEachTile(a, b, false, 3, func(_, i0, ni, j0, nj int, g []float32, ldg int) {
				for i := 0; i < ni; i++ {
					for j := 0; j < nj; j++ {
						got[(i0+i)*m+j0+j] = float64(g[i*ldg+j])
					}
				}
			})
			for i := 0; i < n; i++ {
				for j := 0; j < m; j++ {
					var want, mag float64
					for c := 0; c < d; c++ {
						p := float64(a.Row(i)[c]) * float64(b.Row(j)[c])
						want += p
						mag += math.Abs(p)
					}
					if diff := math.Abs(got[i*m+j] - want); !(diff <= 1e-5*mag+1e-6) {
						t.Fatalf("kernel %s, %d×%d·%d: G[%d][%d] = %v, want %v", k.name, n, m, d, i, j, got[i*m+j], want)
					}
				}
			}
		}
	}
}

// The symmetric walk must visit each unordered pair of tiles exactly once.
func TestForEachTileSymmetricCoversUpperTriangle(t *testing.T) {
	a := randomMatrix(rand.New(rand.NewPCG(3, 4)), 600, 8, 1, 0)
	seen := make([]int, 600*600)
	forEachTile(a, a, true, 2, func(_, i0, ni, j0, nj int, _ []float32, _ int) {
		if j0 < i0 {
			t.Errorf("tile (%d, %d) below the diagonal", i0, j0)
		}
		for i := i0; i < i0+ni; i++ {
			for j := j0; j < j0+nj; j++ {
				seen[i*600+j]++
				if i0 != j0 {
					seen[j*600+i]++
				}
			}
		}
	})
	for p, c := range seen {
		if c != 1 {
			t.Fatalf("pair (%d, %d) visited %d times", p/600, p%600, c)
		}
	}
}
