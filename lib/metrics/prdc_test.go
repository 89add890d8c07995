package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// bruteForcePRDC is the definition, in float64, with explicit loops (Naeem et al.'s reference
// code, with closed balls).
func bruteForcePRDC(real, fake Matrix, k int) PRDC {
	dist := func(a, b []float32) float64 {
		var s float64
		for i := range a {
			d := float64(a[i]) - float64(b[i])
			s += d * d
		}
		return math.Sqrt(s)
	}
	radii := func(x Matrix) []float64 {
		out := make([]float64, x.Rows)
		ds := make([]float64, 0, x.Rows)
		for i := 0; i < x.Rows; i++ {
			ds = ds[:0]
			for j := 0; j < x.Rows; j++ {
				if j != i {
					ds = append(ds, dist(x.Row(i), x.Row(j)))
				}
			}
			slices.Sort(ds)
			out[i] = ds[k-1]
		}
		return out
	}
	rr, fr := radii(real), radii(fake)
	var precise, inBalls, covered, recalled int
	coveredBy := make([]bool, real.Rows)
	recalledBy := make([]bool, real.Rows)
	for j := 0; j < fake.Rows; j++ {
		in := 0
		for i := 0; i < real.Rows; i++ {
			d := dist(real.Row(i), fake.Row(j))
			if d <= rr[i] {
				in++
				coveredBy[i] = true
			}
			if d <= fr[j] {
				recalledBy[i] = true
			}
		}
		inBalls += in
		if in > 0 {
			precise++
		}
	}
	for i := range coveredBy {
		if coveredBy[i] {
			covered++
		}
		if recalledBy[i] {
			recalled++
		}
	}
	n, m := float64(real.Rows), float64(fake.Rows)
	return PRDC{float64(precise) / m, float64(recalled) / n, float64(inBalls) / (float64(k) * m), float64(covered) / n}
}

// The tiled, parallel, symmetric, SIMD computation equals the definition on sets spanning
// several ragged tiles.
func TestPRDCMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	real := randomMatrix(r, 700, 12, 1, 0)
	fake := randomMatrix(r, 530, 12, 1.3, 0.4)
	for _, k := range []int{1, 3, 5} {
		got, err := PrecisionRecallDensityCoverage(real, fake, k)
		if err != nil {
			t.Fatal(err)
		}
		want := bruteForcePRDC(real, fake, k)
		// float32 distances may flip a borderline case: allow two samples' worth.
		if !(math.Abs(got.Precision-want.Precision) <= 2.0/530) || !(math.Abs(got.Recall-want.Recall) <= 2.0/700) ||
			!(math.Abs(got.Density-want.Density) <= 2.0/(530*float64(k))) || !(math.Abs(got.Coverage-want.Coverage) <= 2.0/700) {
			t.Errorf("k = %d: got %+v, want %+v", k, got, want)
		}
	}
}

func TestPRDCOfASetWithItself(t *testing.T) {
	x := randomMatrix(rand.New(rand.NewPCG(3, 3)), 2000, 32, 1, 0)
	const k = 5
	got, err := PrecisionRecallDensityCoverage(x, x, k)
	if err != nil {
		t.Fatal(err)
	}
	// Every sample lies in its own ball: precision, recall and coverage are exactly 1. Each ball
	// holds its centre and its k nearest neighbours, so density is exactly (k+1)/k.
	want := PRDC{Precision: 1, Recall: 1, Density: float64(k+1) / k, Coverage: 1}
	if got != want {
		t.Errorf("PRDC(x, x) = %+v, want %+v", got, want)
	}
}

// Two independent samples of one distribution: density has expectation 1 and coverage
// 1 − Πᵢ₌₁ᵏ (N−i)/(N+M−i) ≈ 1 − 2⁻ᵏ (Naeem et al. 2020, §3.2 and Lemma 1).
func TestPRDCOfTwoSamplesOfOneDistribution(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n, k = 3000, 5
	real, fake := randomMatrix(r, n, 16, 1, 0), randomMatrix(r, n, 16, 1, 0)
	got, err := PrecisionRecallDensityCoverage(real, fake, k)
	if err != nil {
		t.Fatal(err)
	}
	wantCov := 1.0
	prod := 1.0
	for i := 1; i <= k; i++ {
		prod *= float64(n-i) / float64(2*n-i)
	}
	wantCov -= prod
	if !(math.Abs(got.Density-1) <= 0.05) {
		t.Errorf("density = %.4f, want ≈ 1", got.Density)
	}
	if !(math.Abs(got.Coverage-wantCov) <= 0.015) {
		t.Errorf("coverage = %.4f, want ≈ %.4f", got.Coverage, wantCov)
	}
	if got.Precision < 0.6 || got.Recall < 0.6 {
		t.Errorf("precision %.3f, recall %.3f: want both high for one distribution", got.Precision, got.Recall)
	}
}

// Generated samples from only half of the real modes: precise but half the recall and coverage;
// far-away samples: nothing.
func TestPRDCModeDroppingAndDisjoint(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	const d, perMode = 8, 300
	blobs := func(modes []int) Matrix {
		m := Matrix{Rows: len(modes) * perMode, Cols: d, Data: make([]float32, len(modes)*perMode*d)}
		for b, mode := range modes {
			for i := 0; i < perMode; i++ {
				row := m.Row(b*perMode + i)
				for j := range row {
					row[j] = float32(0.3 * r.NormFloat64())
				}
				row[mode] += 10
			}
		}
		return m
	}
	real := blobs([]int{0, 1, 2, 3})
	// Precision and recall of a fresh sample of the same distribution are below 1 (its points
	// can fall outside the union of balls); dropping half the modes leaves precision there and
	// halves recall and coverage.
	same, err := PrecisionRecallDensityCoverage(real, blobs([]int{0, 1, 2, 3}), 5)
	if err != nil {
		t.Fatal(err)
	}
	half := blobs([]int{0, 1, 0, 1})
	got, err := PrecisionRecallDensityCoverage(real, half, 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("same distribution %+v, half the modes %+v", same, got)
	if !(math.Abs(got.Precision-same.Precision) <= 0.03) || !(math.Abs(got.Recall-same.Recall/2) <= 0.03) ||
		!(math.Abs(got.Coverage-same.Coverage/2) <= 0.03) {
		t.Errorf("half the modes: %+v, want precision ≈ %.3f, recall ≈ %.3f, coverage ≈ %.3f",
			got, same.Precision, same.Recall/2, same.Coverage/2)
	}
	far := randomMatrix(r, 500, d, 0.3, 100)
	got, err = PrecisionRecallDensityCoverage(real, far, 5)
	if err != nil {
		t.Fatal(err)
	}
	if got != (PRDC{}) {
		t.Errorf("disjoint sets: %+v, want all zero", got)
	}
}

func TestKNNRadiiMatchesBruteForce(t *testing.T) {
	x := randomMatrix(rand.New(rand.NewPCG(2, 2)), 600, 7, 1, 3)
	got, err := KNNRadii(x, 4)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < x.Rows; i++ {
		var ds []float64
		for j := 0; j < x.Rows; j++ {
			if j == i {
				continue
			}
			var s float64
			for c := 0; c < x.Cols; c++ {
				d := float64(x.Row(i)[c]) - float64(x.Row(j)[c])
				s += d * d
			}
			ds = append(ds, math.Sqrt(s))
		}
		slices.Sort(ds)
		if !(math.Abs(got[i]-ds[3]) <= 1e-4*ds[3]) {
			t.Fatalf("radius %d = %v, want %v", i, got[i], ds[3])
		}
	}
}

func TestPRDCErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	a := randomMatrix(r, 5, 3, 1, 0)
	if _, err := PrecisionRecallDensityCoverage(a, randomMatrix(r, 50, 3, 1, 0), 5); err == nil {
		t.Error("k = N: no error")
	}
	if _, err := PrecisionRecallDensityCoverage(randomMatrix(r, 50, 3, 1, 0), randomMatrix(r, 50, 4, 1, 0), 5); err == nil {
		t.Error("different feature counts: no error")
	}
	if _, err := PrecisionRecallDensityCoverage(a, a, 0); err == nil {
		t.Error("k = 0: no error")
	}
}
