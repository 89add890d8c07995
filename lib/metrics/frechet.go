package metrics

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
)

// GaussianStats are the first two moments of a feature set, all that the Fréchet distance uses.
type GaussianStats struct {
	// Mean is the per-feature sample mean, length D.
	Mean []float64
	// Cov is the D×D sample covariance, row-major, with the unbiased 1/(N−1) normalisation
	// (numpy.cov's default, as in the reference FID code).
	Cov []float64
	// N is the number of samples the moments came from (informative; not used by the distance).
	N int
}

// Dim is the number of features D.
func (s GaussianStats) Dim() int { return len(s.Mean) }

// FeatureStats returns the mean and the unbiased covariance of the rows of x, accumulated in
// float64 (two passes: mean, then the centred Gram matrix XcᵀXc/(N−1)). It needs at least two
// samples; the covariance is singular (rank ≤ N−1) unless N > D, which the Fréchet distance
// tolerates but which makes it a poor estimate: use N ≫ D (BENCH.md: N = 10,000).
func FeatureStats(x Matrix) (GaussianStats, error) {
	if err := x.validate("features"); err != nil {
		return GaussianStats{}, err
	}
	if x.Rows < 2 {
		return GaussianStats{}, fmt.Errorf("metrics: a covariance needs at least 2 samples, got %d", x.Rows)
	}
	n, d := x.Rows, x.Cols
	mu := columnMean(x)
	xc := mat.NewDense(n, d, nil)
	raw := xc.RawMatrix()
	for i := 0; i < n; i++ {
		row := raw.Data[i*raw.Stride : i*raw.Stride+d]
		for j, v := range x.Row(i) {
			row[j] = float64(v) - mu[j]
		}
	}
	var cov mat.SymDense
	cov.SymOuterK(1/float64(n-1), xc.T()) // (D×N)·(D×N)ᵀ = XcᵀXc
	c := make([]float64, d*d)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			v := cov.At(i, j)
			c[i*d+j], c[j*d+i] = v, v
		}
	}
	return GaussianStats{Mean: mu, Cov: c, N: n}, nil
}

// FrechetDistance is the Fréchet (2-Wasserstein) distance between Gaussians fitted to the rows
// of x and y — FID (Heusel et al. 2017, "GANs Trained by a Two Time-Scale Update Rule Converge to
// a Local Nash Equilibrium", eq. 6) when the features come from an image classifier. See
// FrechetFromStats for the formula and how it is evaluated.
func FrechetDistance(x, y Matrix) (float64, error) {
	if err := sameWidth("first feature set", x, "second feature set", y); err != nil {
		return 0, err
	}
	a, err := FeatureStats(x)
	if err != nil {
		return 0, err
	}
	b, err := FeatureStats(y)
	if err != nil {
		return 0, err
	}
	return FrechetFromStats(a, b)
}

// FrechetFromStats is the Fréchet distance between N(μ₁, Σ₁) and N(μ₂, Σ₂) (Heusel et al. 2017,
// eq. 6; Dowson & Landau 1982):
//
//	d² = ‖μ₁ − μ₂‖² + Tr(Σ₁ + Σ₂ − 2(Σ₁Σ₂)^{1/2}).
//
// Σ₁Σ₂ is not symmetric, and taking its square root with a general sqrtm (as scipy-based code
// does) can return complex values and needs ad-hoc fixes when Σ₁ is singular. Instead, with
// S = Σ₁^{1/2} (symmetric, from the eigendecomposition of Σ₁), S·Σ₂·S is symmetric positive
// semi-definite and has the eigenvalues of Σ₁Σ₂ (Σ₁Σ₂ = S·(SΣ₂S)·S⁻¹ when S is invertible; by
// continuity otherwise), so
//
//	Tr (Σ₁Σ₂)^{1/2} = Σᵢ √λᵢ(S Σ₂ S),
//
// computed with a symmetric eigensolver; eigenvalues that rounding makes slightly negative are
// taken as zero. The result is clamped at 0 (it is a squared distance; a tiny negative value
// can only come from rounding when the two Gaussians coincide).
func FrechetFromStats(a, b GaussianStats) (float64, error) {
	if err := a.validate("first"); err != nil {
		return 0, err
	}
	if err := b.validate("second"); err != nil {
		return 0, err
	}
	d := a.Dim()
	if b.Dim() != d {
		return 0, fmt.Errorf("metrics: Fréchet distance between %d-dimensional and %d-dimensional statistics", d, b.Dim())
	}
	var meanTerm float64
	for i := range a.Mean {
		diff := a.Mean[i] - b.Mean[i]
		meanTerm += diff * diff
	}
	var trA, trB float64
	for i := 0; i < d; i++ {
		trA += a.Cov[i*d+i]
		trB += b.Cov[i*d+i]
	}
	sqrtA, err := symmetricSqrt(mat.NewSymDense(d, a.Cov))
	if err != nil {
		return 0, fmt.Errorf("metrics: square root of the first covariance: %w", err)
	}
	var tmp, m mat.Dense
	tmp.Mul(sqrtA, mat.NewSymDense(d, b.Cov))
	m.Mul(&tmp, sqrtA)
	sym := mat.NewSymDense(d, nil)
	for i := 0; i < d; i++ {
		for j := i; j < d; j++ {
			sym.SetSym(i, j, 0.5*(m.At(i, j)+m.At(j, i)))
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(sym, false) {
		return 0, fmt.Errorf("metrics: eigendecomposition of Σ₁^½ Σ₂ Σ₁^½ did not converge")
	}
	var trSqrt float64
	for _, l := range eig.Values(nil) {
		trSqrt += math.Sqrt(max(l, 0))
	}
	return max(0, meanTerm+trA+trB-2*trSqrt), nil
}

// symmetricSqrt returns V·diag(√max(w, 0))·Vᵀ for the eigendecomposition Σ = V·diag(w)·Vᵀ.
func symmetricSqrt(s *mat.SymDense) (*mat.Dense, error) {
	var eig mat.EigenSym
	if !eig.Factorize(s, true) {
		return nil, fmt.Errorf("eigendecomposition did not converge")
	}
	w := eig.Values(nil)
	var v mat.Dense
	eig.VectorsTo(&v)
	n := len(w)
	scaled := mat.NewDense(n, n, nil)
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			scaled.Set(i, j, v.At(i, j)*math.Sqrt(max(w[j], 0)))
		}
	}
	var out mat.Dense
	out.Mul(scaled, v.T())
	return &out, nil
}

// validate checks shapes and finiteness, and that the covariance is symmetric.
func (s GaussianStats) validate(which string) error {
	d := len(s.Mean)
	if d == 0 {
		return fmt.Errorf("metrics: %s statistics have an empty mean", which)
	}
	if len(s.Cov) != d*d {
		return fmt.Errorf("metrics: %s statistics: covariance has %d values, want %d×%d", which, len(s.Cov), d, d)
	}
	for i, v := range s.Mean {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("metrics: %s statistics: mean[%d] = %v", which, i, v)
		}
	}
	for i := 0; i < d; i++ {
		for j := 0; j < d; j++ {
			v := s.Cov[i*d+j]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return fmt.Errorf("metrics: %s statistics: covariance[%d][%d] = %v", which, i, j, v)
			}
			if j > i {
				w := s.Cov[j*d+i]
				if math.Abs(v-w) > 1e-9*(math.Abs(v)+math.Abs(w))+1e-300 {
					return fmt.Errorf("metrics: %s statistics: covariance is not symmetric ([%d][%d] = %v, [%d][%d] = %v)", which, i, j, v, j, i, w)
				}
			}
		}
	}
	return nil
}
