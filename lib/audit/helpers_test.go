package audit

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/iagen-course/iagen/lib/metrics"
)

// near fails the test unless got is within tol of want.
func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol || math.IsNaN(got) {
		t.Errorf("%s = %.9g, want %.9g (± %g)", name, got, want, tol)
	}
}

// oneLineError fails the test unless err is a non-nil one-line error mentioning want.
func oneLineError(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one mentioning %q", what, want)
		return
	}
	if !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("%s: error %q, want one line mentioning %q", what, err, want)
	}
}

// gaussian returns rows×cols standard normal features shifted by shift, from seed.
func gaussian(rows, cols int, shift float64, seed uint64) metrics.Matrix {
	r := rand.New(rand.NewPCG(seed, 1))
	d := make([]float32, rows*cols)
	for i := range d {
		d[i] = float32(r.NormFloat64() + shift)
	}
	return metrics.Matrix{Rows: rows, Cols: cols, Data: d}
}
