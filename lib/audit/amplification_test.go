package audit

import (
	"math"
	"testing"
)

func TestAuditAmplification(t *testing.T) {
	tHalf := 4.302653 * 0.01 / math.Sqrt(3) // t_{0.975,2} · s/√n with s = 0.01
	for _, tc := range []struct {
		name  string
		train float64
		gen   []float64
		shift float64
		want  Verdict
	}{
		// The 90 % group of skewed MNIST pushed to 96 %: shifts 0.05, 0.06, 0.07.
		{"majority amplified", 0.9, []float64{0.95, 0.96, 0.97}, 0.06, Amplifies},
		{"majority dampened", 0.9, []float64{0.80, 0.81, 0.82}, -0.09, Dampens},
		{"majority kept", 0.9, []float64{0.89, 0.90, 0.91}, 0, Keeps},
		// The 10 % group shrinking further is amplification too.
		{"minority amplified", 0.1, []float64{0.05, 0.04, 0.03}, 0.06, Amplifies},
	} {
		a, err := AuditAmplification(tc.train, 0.5, tc.gen, DefaultLevel)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		near(t, tc.name+" shift", a.Shift.Estimate, tc.shift, 1e-12)
		near(t, tc.name+" shift lo", a.Shift.Lo, tc.shift-tHalf, 1e-6)
		near(t, tc.name+" shift hi", a.Shift.Hi, tc.shift+tHalf, 1e-6)
		if a.Verdict != tc.want {
			t.Errorf("%s: verdict %q, want %q", tc.name, a.Verdict, tc.want)
		}
	}
	a, _ := AuditAmplification(0.9, 0.5, []float64{0.95, 0.96, 0.97}, DefaultLevel)
	near(t, "generated mean", a.Generated.Estimate, 0.96, 1e-12)

	_, err := AuditAmplification(0.5, 0.5, []float64{0.6, 0.7}, DefaultLevel)
	oneLineError(t, "no bias", err, "equals parity")
	_, err = AuditAmplification(0.9, 0.5, []float64{0.95}, DefaultLevel)
	oneLineError(t, "one seed", err, "at least 2")
	_, err = AuditAmplification(0.9, 0.5, []float64{0.95, 1.2}, DefaultLevel)
	oneLineError(t, "share > 1", err, "not in [0, 1]")
}

func TestBiasAmplificationZhao(t *testing.T) {
	// Two items, two groups. Item 0: training 80/20 → generated 90/10 (+0.1 for group 0).
	// Item 1: training 30/70 → generated 40/60 (group 1 dominant: 0.6 − 0.7 = −0.1).
	// BA = (0.1 − 0.1)/2 = 0.
	ba, err := BiasAmplification([][]int{{80, 20}, {30, 70}}, [][]int{{9, 1}, {4, 6}})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "BA balanced", ba, 0, 1e-12)
	// Three groups: the threshold is 1/3. Training (50, 30, 20): only group 0 > 1/3;
	// generated (60, 20, 20): +0.1. Second item (40, 40, 20): groups 0 and 1 both > 1/3;
	// generated (50, 30, 20): +0.1 − 0.1 = 0. BA = 0.1/2.
	ba, err = BiasAmplification([][]int{{50, 30, 20}, {40, 40, 20}}, [][]int{{6, 2, 2}, {5, 3, 2}})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "BA three groups", ba, 0.05, 1e-12)

	_, err = BiasAmplification([][]int{{1, 1}}, [][]int{{0, 0}})
	oneLineError(t, "empty generated row", err, "generated item 0 has no counts")
	_, err = BiasAmplification([][]int{{1, 1}}, [][]int{{1, 1, 1}})
	oneLineError(t, "group mismatch", err, "3 groups, want 2")
	_, err = BiasAmplification([][]int{{1}}, [][]int{{1}})
	oneLineError(t, "one group", err, "at least 2 groups")
	_, err = BiasAmplification(nil, nil)
	oneLineError(t, "no items", err, "0 training")
}
