package metrics

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// Inner products between all rows of two feature sets, tile by tile.
//
// Every pairwise metric here (k-NN radii, precision/recall, density/coverage, the KID kernel)
// needs G = A·Bᵀ for A (n×d) and B (m×d) with n, m ≈ 10⁴ and d ≈ 10²: 10⁸ inner products, too
// many to store comfortably (400 MB) but cheap to stream. B is packed once into panels of
// panelWidth rows stored transposed (d×panelWidth), the layout a register-blocked micro-kernel
// wants: for each k it loads panelWidth values of B and broadcasts one value of A per row, so a
// tile costs d fused multiply-adds per panelWidth·kernelRows outputs, with no horizontal sums.
// Tiles of tileSize×tileSize inner products (256 KiB, L2-resident) are handed to a visitor that
// reduces them at once (k-th smallest distances, counts, kernel sums); workers take tiles from
// an atomic counter and keep their own partial results, merged by the caller.

const (
	// panelWidth is the number of B rows per packed panel: 2 AVX-512 or 4 AVX2 registers of float32.
	panelWidth = 32
	// tileSize is the side of one tile of inner products; a multiple of panelWidth.
	tileSize = 256
)

// packedRows is B (m×d) as ⌈m/panelWidth⌉ panels; panel p holds, at [k·panelWidth + c], the value
// B[p·panelWidth + c][k], and zero for c past the last row.
type packedRows struct {
	m, d int
	data []float32
}

func packRows(b Matrix) packedRows {
	panels := (b.Rows + panelWidth - 1) / panelWidth
	p := packedRows{m: b.Rows, d: b.Cols, data: make([]float32, panels*panelWidth*b.Cols)}
	for r := 0; r < b.Rows; r++ {
		panel := p.data[(r/panelWidth)*panelWidth*b.Cols:]
		c := r % panelWidth
		for k, v := range b.Row(r) {
			panel[k*panelWidth+c] = v
		}
	}
	return p
}

func (p packedRows) panel(i int) []float32 {
	size := panelWidth * p.d
	return p.data[i*size : (i+1)*size]
}

// microKernel computes out[r·ldo + c] = Σₖ a[r·d + k]·panel[k·panelWidth + c] for r < rows, c <
// panelWidth. It is the pure-Go kernel unless a SIMD one (gram_simd_amd64.go) replaced it at init.
// kernelRows is the number of rows it is most efficient with; rows may be fewer.
var (
	microKernel = microKernelGeneric
	kernelRows  = 4
	kernelName  = "generic"
)

// gramKernel is one micro-kernel implementation; availableKernels lists those the CPU can run
// (the tests check each against a float64 reference).
type gramKernel struct {
	name string
	rows int
	fn   func(a []float32, rows, d int, panel []float32, out []float32, ldo int)
}

var availableKernels = []gramKernel{{"generic", 4, microKernelGeneric}}

func useKernel(k gramKernel) { microKernel, kernelRows, kernelName = k.fn, k.rows, k.name }

func microKernelGeneric(a []float32, rows, d int, panel []float32, out []float32, ldo int) {
	for r := 0; r < rows; r++ {
		var acc [panelWidth]float32
		row := a[r*d : (r+1)*d]
		for k, av := range row {
			p := panel[k*panelWidth : (k+1)*panelWidth]
			for c := range acc {
				acc[c] += av * p[c]
			}
		}
		copy(out[r*ldo:r*ldo+panelWidth], acc[:])
	}
}

// gramTile fills g (stride ldg ≥ nj rounded up to panelWidth) with g[i·ldg + j] = A[i0+i]·B[j0+j]
// for i < ni, j < nj. j0 must be a multiple of panelWidth.
func gramTile(a Matrix, i0, ni int, b packedRows, j0, nj int, g []float32, ldg int) {
	d := a.Cols
	p0 := j0 / panelWidth
	panels := (nj + panelWidth - 1) / panelWidth
	for p := 0; p < panels; p++ {
		panel := b.panel(p0 + p)
		for r := 0; r < ni; r += kernelRows {
			rows := min(kernelRows, ni-r)
			microKernel(a.Data[(i0+r)*d:(i0+r+rows)*d], rows, d, panel, g[r*ldg+p*panelWidth:], ldg)
		}
	}
}

// tileVisitor receives one tile: g[i·ldg + j] = A[i0+i]·B[j0+j] for i < ni, j < nj. worker is in
// [0, workers) and no two tiles with the same worker are visited concurrently.
type tileVisitor func(worker, i0, ni, j0, nj int, g []float32, ldg int)

// numWorkers is how many goroutines the tiled computations use.
func numWorkers() int { return max(1, runtime.GOMAXPROCS(0)) }

// forEachTile visits every tile of A·Bᵀ, in parallel over workers goroutines. With symmetric set
// (B is A, pass the same matrix), only tiles with j0 ≥ i0 are visited: the visitor accounts for
// the mirrored tile itself. Tiles on the diagonal (i0 == j0) are complete (both triangles).
func forEachTile(a, b Matrix, symmetric bool, workers int, visit tileVisitor) {
	bp := packRows(b)
	nbA := (a.Rows + tileSize - 1) / tileSize
	nbB := (b.Rows + tileSize - 1) / tileSize
	type job struct{ ib, jb int }
	var jobs []job
	for ib := 0; ib < nbA; ib++ {
		jStart := 0
		if symmetric {
			jStart = ib
		}
		for jb := jStart; jb < nbB; jb++ {
			jobs = append(jobs, job{ib, jb})
		}
	}
	workers = max(1, min(workers, len(jobs)))
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			g := make([]float32, tileSize*tileSize)
			for {
				n := int(next.Add(1)) - 1
				if n >= len(jobs) {
					return
				}
				jb := jobs[n]
				i0, j0 := jb.ib*tileSize, jb.jb*tileSize
				ni, nj := min(tileSize, a.Rows-i0), min(tileSize, b.Rows-j0)
				gramTile(a, i0, ni, bp, j0, nj, g, tileSize)
				visit(w, i0, ni, j0, nj, g, tileSize)
			}
		}(w)
	}
	wg.Wait()
}
