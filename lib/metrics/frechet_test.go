package metrics

import (
	"math"
	"math/rand/v2"
	"testing"
)

// frechet2x2 is the closed form for 2×2 covariances: the eigenvalues λ₁, λ₂ of M = Σ₁Σ₂ are
// positive, and Tr M^{1/2} = √λ₁ + √λ₂ = √(Tr M + 2√det M).
func frechet2x2(mu1, mu2 [2]float64, s1, s2 [4]float64) float64 {
	m := [4]float64{
		s1[0]*s2[0] + s1[1]*s2[2], s1[0]*s2[1] + s1[1]*s2[3],
		s1[2]*s2[0] + s1[3]*s2[2], s1[2]*s2[1] + s1[3]*s2[3],
	}
	trSqrt := math.Sqrt(m[0] + m[3] + 2*math.Sqrt(m[0]*m[3]-m[1]*m[2]))
	dm := (mu1[0]-mu2[0])*(mu1[0]-mu2[0]) + (mu1[1]-mu2[1])*(mu1[1]-mu2[1])
	return dm + s1[0] + s1[3] + s2[0] + s2[3] - 2*trSqrt
}

func diagCov(v []float64) []float64 {
	d := len(v)
	c := make([]float64, d*d)
	for i, x := range v {
		c[i*d+i] = x
	}
	return c
}

func TestFrechetFromStatsClosedForm(t *testing.T) {
	tests := []struct {
		name string
		a, b GaussianStats
		want float64
	}{
		{
			// Commuting (diagonal) covariances: d² = ‖Δμ‖² + Σᵢ (σ₁ᵢ − σ₂ᵢ)².
			name: "diagonal",
			a:    GaussianStats{Mean: []float64{0, 1, 2}, Cov: diagCov([]float64{1, 4, 9})},
			b:    GaussianStats{Mean: []float64{1, 1, 0}, Cov: diagCov([]float64{4, 4, 0.25})},
			want: 1 + 0 + 4 + (1-2)*(1-2) + 0 + (3-0.5)*(3-0.5),
		},
		{
			// A singular first covariance: Σ₁^{1/2} has a zero eigenvalue.
			name: "singular",
			a:    GaussianStats{Mean: []float64{0, 0}, Cov: diagCov([]float64{1, 0})},
			b:    GaussianStats{Mean: []float64{0, 0}, Cov: diagCov([]float64{4, 9})},
			want: 1 + 9,
		},
		{
			name: "identical",
			a:    GaussianStats{Mean: []float64{3, -1}, Cov: []float64{2, 0.7, 0.7, 1}},
			b:    GaussianStats{Mean: []float64{3, -1}, Cov: []float64{2, 0.7, 0.7, 1}},
			want: 0,
		},
		{
			// Non-commuting full covariances.
			name: "full 2x2",
			a:    GaussianStats{Mean: []float64{1, 2}, Cov: []float64{2, 0.9, 0.9, 1}},
			b:    GaussianStats{Mean: []float64{-1, 0.5}, Cov: []float64{0.5, -0.3, -0.3, 3}},
			want: frechet2x2([2]float64{1, 2}, [2]float64{-1, 0.5}, [4]float64{2, 0.9, 0.9, 1}, [4]float64{0.5, -0.3, -0.3, 3}),
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FrechetFromStats(tc.a, tc.b)
			if err != nil {
				t.Fatal(err)
			}
			if !(math.Abs(got-tc.want) <= 1e-10*(1+tc.want)) {
				t.Errorf("FrechetFromStats = %.15g, want %.15g", got, tc.want)
			}
			// Symmetric in its arguments.
			back, err := FrechetFromStats(tc.b, tc.a)
			if err != nil {
				t.Fatal(err)
			}
			if !(math.Abs(back-got) <= 1e-10*(1+got)) {
				t.Errorf("not symmetric: %.15g vs %.15g", got, back)
			}
		})
	}
}

// sampleGaussian draws n samples of μ + L·z, z ~ N(0, I), L lower-triangular (d×d row-major).
func sampleGaussian(r *rand.Rand, n int, mu, l []float64) Matrix {
	d := len(mu)
	m := Matrix{Rows: n, Cols: d, Data: make([]float32, n*d)}
	z := make([]float64, d)
	for i := 0; i < n; i++ {
		for j := range z {
			z[j] = r.NormFloat64()
		}
		row := m.Row(i)
		for a := 0; a < d; a++ {
			v := mu[a]
			for b := 0; b <= a; b++ {
				v += l[a*d+b] * z[b]
			}
			row[a] = float32(v)
		}
	}
	return m
}

// The distance between large samples of two Gaussians converges to the closed form between the
// Gaussians themselves (the estimator's bias is O(D/N)).
func TestFrechetDistanceConvergesToClosedForm(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	// Σ = L·Lᵀ.
	l1 := []float64{1.4, 0, 0.6, 0.8}  // Σ₁ = [[1.96, 0.84], [0.84, 1.0]]
	l2 := []float64{0.7, 0, -0.5, 1.5} // Σ₂ = [[0.49, -0.35], [-0.35, 2.5]]
	mu1, mu2 := []float64{0.5, -1}, []float64{-0.5, 0.5}
	want := frechet2x2([2]float64{0.5, -1}, [2]float64{-0.5, 0.5},
		[4]float64{1.96, 0.84, 0.84, 1.0}, [4]float64{0.49, -0.35, -0.35, 2.5})
	var prevErr float64 = math.Inf(1)
	for _, n := range []int{2000, 200000} {
		got, err := FrechetDistance(sampleGaussian(r, n, mu1, l1), sampleGaussian(r, n, mu2, l2))
		if err != nil {
			t.Fatal(err)
		}
		e := math.Abs(got - want)
		t.Logf("N = %d: FD = %.4f, closed form %.4f", n, got, want)
		if tol := 20 / math.Sqrt(float64(n)); e > tol {
			t.Errorf("N = %d: FD = %.4f, closed form %.4f (|error| %.4f > %.4f)", n, got, want, e, tol)
		}
		if n > 2000 && e > prevErr {
			t.Errorf("error grew from %.4f to %.4f with more samples", prevErr, e)
		}
		prevErr = e
	}

	// Eight dimensions, diagonal covariances: d² = ‖Δμ‖² + Σ (σ₁ᵢ − σ₂ᵢ)².
	d := 8
	lA, lB := make([]float64, d*d), make([]float64, d*d)
	muA, muB := make([]float64, d), make([]float64, d)
	want = 0
	for i := 0; i < d; i++ {
		sa, sb := 1+0.2*float64(i), 2-0.1*float64(i)
		lA[i*d+i], lB[i*d+i] = sa, sb
		muA[i], muB[i] = 0.1*float64(i), -0.1*float64(i)
		want += (muA[i]-muB[i])*(muA[i]-muB[i]) + (sa-sb)*(sa-sb)
	}
	got, err := FrechetDistance(sampleGaussian(r, 100000, muA, lA), sampleGaussian(r, 100000, muB, lB))
	if err != nil {
		t.Fatal(err)
	}
	if !(math.Abs(got-want) <= 0.02*want) {
		t.Errorf("8-d diagonal: FD = %.4f, closed form %.4f", got, want)
	}
}

func TestFrechetDistanceOfIdenticalSetsIsZero(t *testing.T) {
	x := randomMatrix(rand.New(rand.NewPCG(1, 5)), 3000, 64, 2, 1)
	got, err := FrechetDistance(x, x)
	if err != nil {
		t.Fatal(err)
	}
	if got > 1e-9 {
		t.Errorf("FD(x, x) = %g, want 0", got)
	}
}

func TestFeatureStatsMatchesDefinition(t *testing.T) {
	x, _ := MatrixFromRows([][]float32{{1, 2}, {3, 0}, {2, 7}, {-2, 3}})
	s, err := FeatureStats(x)
	if err != nil {
		t.Fatal(err)
	}
	wantMean := []float64{1, 3}
	// Unbiased: Σ (x−μ)(x−μ)ᵀ / (N−1).
	wantCov := []float64{14.0 / 3, -2.0 / 3, -2.0 / 3, 26.0 / 3}
	for i := range wantMean {
		if !(math.Abs(s.Mean[i]-wantMean[i]) <= 1e-12) {
			t.Errorf("mean[%d] = %v, want %v", i, s.Mean[i], wantMean[i])
		}
	}
	for i := range wantCov {
		if !(math.Abs(s.Cov[i]-wantCov[i]) <= 1e-12) {
			t.Errorf("cov[%d] = %v, want %v", i, s.Cov[i], wantCov[i])
		}
	}
}

func TestFrechetErrors(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	a, b := randomMatrix(r, 10, 3, 1, 0), randomMatrix(r, 10, 4, 1, 0)
	if _, err := FrechetDistance(a, b); err == nil {
		t.Error("different feature counts: no error")
	}
	if _, err := FrechetDistance(randomMatrix(r, 1, 3, 1, 0), a); err == nil {
		t.Error("one sample: no error")
	}
	if _, err := FrechetDistance(Matrix{Rows: 2, Cols: 3, Data: make([]float32, 5)}, a); err == nil {
		t.Error("short data: no error")
	}
	nan := randomMatrix(r, 10, 3, 1, 0)
	nan.Data[4] = float32(math.NaN())
	if _, err := FrechetDistance(nan, a); err == nil {
		t.Error("NaN feature: no error")
	}
	if _, err := FrechetFromStats(GaussianStats{Mean: []float64{0, 0}, Cov: []float64{1, 0.5, 0, 1}},
		GaussianStats{Mean: []float64{0, 0}, Cov: diagCov([]float64{1, 1})}); err == nil {
		t.Error("asymmetric covariance: no error")
	}
}
