package audit

import (
	"slices"
	"testing"
)

// table builds outcome and group columns: nFav favourable of n rows per group.
func table(privFav, priv, unprivFav, unpriv int) (favourable, privileged []bool) {
	for i := range priv {
		favourable, privileged = append(favourable, i < privFav), append(privileged, true)
	}
	for i := range unpriv {
		favourable, privileged = append(favourable, i < unprivFav), append(privileged, false)
	}
	return favourable, privileged
}

func TestAuditGroupFairness(t *testing.T) {
	// Privileged: 70 of 100 favourable; unprivileged: 25 of 50.
	// DI = 0.5/0.7 = 5/7, SPD = 0.5 − 0.7 = −0.2.
	g, err := AuditGroupFairness(table(70, 100, 25, 50))
	if err != nil {
		t.Fatal(err)
	}
	near(t, "unprivileged rate", g.UnprivilegedRate, 0.5, 1e-12)
	near(t, "privileged rate", g.PrivilegedRate, 0.7, 1e-12)
	near(t, "disparate impact", g.DisparateImpact, 5.0/7, 1e-12)
	near(t, "statistical parity difference", g.StatisticalParityDifference, -0.2, 1e-12)
	if g.Privileged != 100 || g.Unprivileged != 50 {
		t.Errorf("group sizes %d, %d", g.Privileged, g.Unprivileged)
	}
	// Parity.
	g, _ = AuditGroupFairness(table(30, 100, 3, 10))
	near(t, "parity DI", g.DisparateImpact, 1, 1e-12)
	near(t, "parity SPD", g.StatisticalParityDifference, 0, 1e-12)

	_, err = AuditGroupFairness(table(0, 10, 3, 10))
	oneLineError(t, "no privileged favourable", err, "disparate impact is undefined")
	_, err = AuditGroupFairness(table(1, 10, 0, 0))
	oneLineError(t, "no unprivileged", err, "both groups")
	_, err = AuditGroupFairness([]bool{true}, []bool{true, false})
	oneLineError(t, "lengths", err, "1 outcomes for 2")
}

func TestIndicator(t *testing.T) {
	b, err := Indicator([]string{"good", "bad", "good"}, "good")
	if err != nil || !slices.Equal(b, []bool{true, false, true}) {
		t.Errorf("Indicator = %v, %v", b, err)
	}
	_, err = Indicator([]string{"good", "bad"}, "God")
	oneLineError(t, "misspelt level", err, `no value "God"`)
}
