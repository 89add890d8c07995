package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// bruteForceMMD2 is the unbiased MMD² with the cubic kernel over whole sets, in float64.
func bruteForceMMD2(x, y Matrix) float64 {
	k := func(a, b []float32) float64 {
		var s float64
		for i := range a {
			s += float64(a[i]) * float64(b[i])
		}
		v := s/float64(len(a)) + 1
		return v * v * v
	}
	var kxx, kyy, kxy float64
	m, n := float64(x.Rows), float64(y.Rows)
	for i := 0; i < x.Rows; i++ {
		for j := 0; j < x.Rows; j++ {
			if i != j {
				kxx += k(x.Row(i), x.Row(j))
			}
		}
		for j := 0; j < y.Rows; j++ {
			kxy += k(x.Row(i), y.Row(j))
		}
	}
	for i := 0; i < y.Rows; i++ {
		for j := 0; j < y.Rows; j++ {
			if i != j {
				kyy += k(y.Row(i), y.Row(j))
			}
		}
	}
	return kxx/(m*(m-1)) + kyy/(n*(n-1)) - 2*kxy/(m*n)
}

// With one subset as large as the sets, the subset is the whole set (permuted): KID equals the
// unbiased MMD² of the definition.
func TestKIDMatchesDefinition(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	x, y := randomMatrix(r, 530, 20, 1, 0), randomMatrix(r, 530, 20, 1.2, 0.3)
	got, err := KID(x, y, KIDConfig{Subsets: 1, SubsetSize: 530, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	want := bruteForceMMD2(x, y)
	if !(math.Abs(got.Mean-want) <= 1e-5*math.Abs(want)) || got.Std != 0 {
		t.Errorf("KID = %+v, want mean %v, std 0", got, want)
	}
}

func TestKIDSameVersusShiftedDistribution(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	const n, d = 3000, 32
	x, y := randomMatrix(r, n, d, 1, 0), randomMatrix(r, n, d, 1, 0)
	shifted := randomMatrix(r, n, d, 1, 0.3)
	cfg := KIDConfig{Subsets: 20, SubsetSize: 500, Seed: 3}
	same, err := KID(x, y, cfg)
	if err != nil {
		t.Fatal(err)
	}
	self, err := KID(x, x, cfg)
	if err != nil {
		t.Fatal(err)
	}
	diff, err := KID(x, shifted, cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A set against itself is not two independent samples: both subsets come from the same n
	// points, so E[MMD²ᵤ] = 2/(n−1)·(mean of all k(xᵢ, xⱼ) − mean of k(xᵢ, xᵢ)), slightly negative.
	xp := packRows(x)
	g := make([]float32, tileSize*tileSize)
	all := cubicKernelSum(x, xp, false, 1.0/d, g)
	off := cubicKernelSum(x, xp, true, 1.0/d, g)
	wantSelf := 2.0 / (n - 1) * (all/(n*n) - (all-off)/n)
	t.Logf("KID same %+v, self %+v (expected %.5f), shifted %+v", same, self, wantSelf, diff)
	// Unbiased: the mean over subsets is within a few standard errors of 0.
	se := same.Std / math.Sqrt(float64(cfg.Subsets))
	if !(math.Abs(same.Mean) <= 4*se) {
		t.Errorf("KID of one distribution: %+v, want ≈ 0", same)
	}
	if !(math.Abs(self.Mean-wantSelf) <= 4*self.Std/math.Sqrt(float64(cfg.Subsets))) {
		t.Errorf("KID of a set with itself: %+v, want ≈ %.5f", self, wantSelf)
	}
	if diff.Mean < 10*(math.Abs(same.Mean)+4*se) || diff.Mean <= 0 {
		t.Errorf("KID of a shifted distribution %+v is not clearly above that of the same one %+v", diff, same)
	}
	again, _ := KID(x, shifted, cfg)
	if again != diff {
		t.Errorf("same seed, different result: %+v vs %+v", again, diff)
	}
}

func TestKIDErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	x := randomMatrix(r, 100, 4, 1, 0)
	if _, err := KID(x, x, KIDConfig{Subsets: 10, SubsetSize: 101}); err == nil {
		t.Error("subset larger than the set: no error")
	}
	if _, err := KID(x, x, KIDConfig{Subsets: 0, SubsetSize: 10}); err == nil {
		t.Error("no subsets: no error")
	}
	if _, err := KID(x, randomMatrix(r, 100, 5, 1, 0), KIDConfig{Subsets: 1, SubsetSize: 10}); err == nil {
		t.Error("different feature counts: no error")
	}
}
