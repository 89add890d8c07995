package metrics

import (
	"fmt"
	"math"
)

// Matrix is a dense row-major matrix of float32 feature vectors: row i is Data[i*Cols : (i+1)*Cols].
// It is how every sample-quality metric of this package takes a feature set: one row per sample,
// one column per feature (Rows = N samples, Cols = D features).
//
// float32 is what classifiers emit and what the pairwise-distance kernel multiplies (twice the
// SIMD width of float64); every reduction that needs the precision (means, covariances, kernel
// and distance sums, eigenvalues) is accumulated in float64.
type Matrix struct {
	Rows, Cols int
	Data       []float32
}

// NewMatrix wraps data (row-major, len rows·cols) as a Matrix without copying.
func NewMatrix(rows, cols int, data []float32) (Matrix, error) {
	m := Matrix{Rows: rows, Cols: cols, Data: data}
	if err := m.validate("matrix"); err != nil {
		return Matrix{}, err
	}
	return m, nil
}

// MatrixFromRows copies a slice of equal-length feature vectors into a Matrix.
func MatrixFromRows(rows [][]float32) (Matrix, error) {
	if len(rows) == 0 {
		return Matrix{}, fmt.Errorf("metrics: no rows given")
	}
	cols := len(rows[0])
	if cols == 0 {
		return Matrix{}, fmt.Errorf("metrics: rows have zero features")
	}
	data := make([]float32, 0, len(rows)*cols)
	for i, r := range rows {
		if len(r) != cols {
			return Matrix{}, fmt.Errorf("metrics: row %d has %d features, row 0 has %d", i, len(r), cols)
		}
		data = append(data, r...)
	}
	return Matrix{Rows: len(rows), Cols: cols, Data: data}, nil
}

// MatrixFromFloat64 converts row-major float64 data (len rows·cols) to a float32 Matrix.
func MatrixFromFloat64(rows, cols int, data []float64) (Matrix, error) {
	if rows <= 0 || cols <= 0 || len(data) != rows*cols {
		return Matrix{}, fmt.Errorf("metrics: %d values do not form a %d×%d matrix", len(data), rows, cols)
	}
	d := make([]float32, len(data))
	for i, v := range data {
		d[i] = float32(v)
	}
	return NewMatrix(rows, cols, d)
}

// Row returns row i (aliasing the matrix's storage).
func (m Matrix) Row(i int) []float32 { return m.Data[i*m.Cols : (i+1)*m.Cols] }

// validate checks the shape and that every value is finite; name says which argument is wrong.
func (m Matrix) validate(name string) error {
	if m.Rows <= 0 || m.Cols <= 0 {
		return fmt.Errorf("metrics: %s is empty (%d×%d)", name, m.Rows, m.Cols)
	}
	if len(m.Data) != m.Rows*m.Cols {
		return fmt.Errorf("metrics: %s has %d values, want Rows·Cols = %d·%d = %d",
			name, len(m.Data), m.Rows, m.Cols, m.Rows*m.Cols)
	}
	for i, v := range m.Data {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("metrics: %s has a non-finite value %v at row %d, column %d", name, v, i/m.Cols, i%m.Cols)
		}
	}
	return nil
}

// sameWidth validates a and b and checks that they have the same number of features.
func sameWidth(aName string, a Matrix, bName string, b Matrix) error {
	if err := a.validate(aName); err != nil {
		return err
	}
	if err := b.validate(bName); err != nil {
		return err
	}
	if a.Cols != b.Cols {
		return fmt.Errorf("metrics: %s has %d features per sample but %s has %d", aName, a.Cols, bName, b.Cols)
	}
	return nil
}

// centered returns a copy of m minus the float64 column mean mu (as float32), and the squared
// norm of every centred row accumulated in float64.
func centered(m Matrix, mu []float64) (Matrix, []float32) {
	out := Matrix{Rows: m.Rows, Cols: m.Cols, Data: make([]float32, len(m.Data))}
	norms := make([]float32, m.Rows)
	for i := 0; i < m.Rows; i++ {
		src, dst := m.Row(i), out.Row(i)
		var s float64
		for j, v := range src {
			c := float32(float64(v) - mu[j])
			dst[j] = c
			s += float64(c) * float64(c)
		}
		norms[i] = float32(s)
	}
	return out, norms
}

// columnMean returns the float64 mean of every column of m.
func columnMean(m Matrix) []float64 {
	mu := make([]float64, m.Cols)
	for i := 0; i < m.Rows; i++ {
		for j, v := range m.Row(i) {
			mu[j] += float64(v)
		}
	}
	for j := range mu {
		mu[j] /= float64(m.Rows)
	}
	return mu
}
