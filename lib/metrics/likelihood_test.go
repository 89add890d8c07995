package metrics

import (
	"math"
	"testing"
)

func TestLogMeanExp(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		name string
		x    []float64
		want float64
		tol  float64
	}{
		{"equal +1000", []float64{1000, 1000, 1000}, 1000, 0},
		{"equal -1000", []float64{-1000, -1000}, -1000, 0},
		{"+1000 and -1000", []float64{1000, -1000}, 1000 - math.Ln2, 1e-12},
		{"-1000 and -1000+ln 3", []float64{-1000, -1000 + math.Log(3)}, -1000 + math.Ln2, 1e-12},
		{"+1000 and 1000+ln 3", []float64{1000, 1000 + math.Log(3)}, 1000 + math.Ln2, 1e-12},
		{"small", []float64{0.1, 0.2, 0.3}, math.Log((math.Exp(0.1) + math.Exp(0.2) + math.Exp(0.3)) / 3), 1e-15},
		{"one", []float64{-7.25}, -7.25, 0},
		{"with -Inf", []float64{math.Inf(-1), 0}, -math.Ln2, 1e-15},
		{"all -Inf", []float64{math.Inf(-1), math.Inf(-1)}, math.Inf(-1), 0},
		{"+Inf", []float64{1, inf}, inf, 0},
	}
	for _, tc := range tests {
		got := LogMeanExp(tc.x)
		if got != tc.want && !(math.Abs(got-tc.want) <= tc.tol*math.Max(1, math.Abs(tc.want))) {
			t.Errorf("%s: LogMeanExp(%v) = %.17g, want %.17g", tc.name, tc.x, got, tc.want)
		}
	}
	if !math.IsNaN(LogMeanExp(nil)) || !math.IsNaN(LogMeanExp([]float64{1, math.NaN()})) {
		t.Error("LogMeanExp of empty or NaN input is not NaN")
	}
	if got := LogSumExp([]float64{1000, 1000}); !(math.Abs(got-(1000+math.Ln2)) <= 1e-12) {
		t.Errorf("LogSumExp(1000, 1000) = %v", got)
	}
}

func TestIWAEBound(t *testing.T) {
	// K = 1 is the ELBO: the mean log-weight.
	elbo, err := IWAEBound([][]float64{{-90}, {-100}})
	if err != nil || elbo != -95 {
		t.Errorf("K = 1: %v (%v), want -95", elbo, err)
	}
	// log ½(e⁰ + 3e⁰·…): weights 1 and 3 average to 2.
	b, err := IWAEBound([][]float64{{-500, -500 + math.Log(3)}, {-500 + math.Log(2), -500 + math.Log(2)}})
	if err != nil || !(math.Abs(b-(-500+math.Ln2)) <= 1e-12) {
		t.Errorf("bound = %v (%v), want %v", b, err, -500+math.Ln2)
	}
	// The bound never goes below the ELBO of the same weights (Jensen).
	w := [][]float64{{-101.3, -97.2, -99.9, -120}}
	b, _ = IWAEBound(w)
	e := (-101.3 - 97.2 - 99.9 - 120) / 4
	if b < e {
		t.Errorf("IWAE bound %v below the ELBO %v", b, e)
	}
	if _, err := IWAEBound([][]float64{{1, 2}, {1}}); err == nil {
		t.Error("ragged K: no error")
	}
	if _, err := IWAEBound(nil); err == nil {
		t.Error("no examples: no error")
	}
	if _, err := IWAEBound([][]float64{{math.NaN()}}); err == nil {
		t.Error("NaN log-weight: no error")
	}
}

func TestBitsPerDim(t *testing.T) {
	const d = 784
	// A uniform distribution over 256 levels per pixel: −log p = D·ln 256 nats.
	if got := BitsPerDim(d*math.Log(256), d); !(math.Abs(got-8) <= 1e-12) {
		t.Errorf("uniform over 256 levels: %v bits/dim, want 8", got)
	}
	// A uniform density on [0, 1]^D (−log p_Y = 0) on pixels scaled by 1/256.
	if got := BitsPerDimRescaled(0, d, 1.0/256); !(math.Abs(got-8) <= 1e-12) {
		t.Errorf("uniform density on [0,1]: %v bits/dim, want 8", got)
	}
	// A uniform density on [−1, 1]^D (−log p_Y = D·ln 2) on pixels scaled by 2/256.
	if got := BitsPerDimRescaled(d*math.Ln2, d, 2.0/256); !(math.Abs(got-8) <= 1e-12) {
		t.Errorf("uniform density on [-1,1]: %v bits/dim, want 8", got)
	}
	// A model that puts a density of e per dimension on [0, 1] data is better than uniform:
	// −log p_Y = −D, bits/dim = 8 − 1/ln 2.
	if got := BitsPerDimRescaled(-d, d, 1.0/256); !(math.Abs(got-(8-1/math.Ln2)) <= 1e-12) {
		t.Errorf("density e per dim: %v bits/dim, want %v", got, 8-1/math.Ln2)
	}
	if got := NatsFromBitsPerDim(BitsPerDim(1234.5, d), d); !(math.Abs(got-1234.5) <= 1e-9) {
		t.Errorf("nats→bits/dim→nats = %v, want 1234.5", got)
	}
	if !math.IsNaN(BitsPerDim(1, 0)) || !math.IsNaN(BitsPerDimRescaled(1, 10, 0)) {
		t.Error("invalid dims or scale: not NaN")
	}
}

func TestTextUnits(t *testing.T) {
	npc := NatsPerChar(64*math.Log(50), 64)
	if !(math.Abs(Perplexity(npc)-50) <= 1e-9) {
		t.Errorf("perplexity = %v, want 50", Perplexity(npc))
	}
	if got := BitsPerChar(math.Ln2); !(math.Abs(got-1) <= 1e-15) {
		t.Errorf("bits/char of ln 2 nats = %v, want 1", got)
	}
	if got := NatsToBits(BitsToNats(3.5)); !(math.Abs(got-3.5) <= 1e-15) {
		t.Errorf("bits→nats→bits = %v", got)
	}
	if !math.IsNaN(NatsPerChar(1, 0)) {
		t.Error("zero characters: not NaN")
	}
}
