package audit

import (
	"slices"
	"testing"

	"github.com/iagen-course/iagen/lib/data"
)

func TestAuditGender(t *testing.T) {
	train := []OccupationCount{
		{"enfermero", 90, 10}, // 0.9 feminine in training
		{"bombero", 5, 95},    // 0.05
		{"camarero", 50, 50},  // exactly ½: a control with no stereotyped direction
		{"piloto", 5, 95},     // never generated
	}
	gen := []OccupationCount{
		{"enfermero", 950, 50}, // 0.95: +0.05 towards the stereotype
		{"bombero", 20, 980},   // 0.02: 0.03 further from ½
		{"camarero", 600, 400}, // 0.6
	}
	a, err := AuditGender(train, gen, DefaultLevel)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Occupations) != 3 || !slices.Equal(a.Unseen, []string{"piloto"}) {
		t.Fatalf("occupations %d, unseen %v; want 3 and [piloto]", len(a.Occupations), a.Unseen)
	}
	nurse, firefighter, waiter := a.Occupations[0], a.Occupations[1], a.Occupations[2]
	near(t, "nurse train", nurse.Train, 0.9, 1e-12)
	near(t, "nurse generated", nurse.Generated.Estimate, 0.95, 1e-12)
	near(t, "nurse shift", nurse.Shift, 0.05, 1e-12)
	near(t, "firefighter shift", firefighter.Shift, 0.03, 1e-12)
	near(t, "waiter shift", waiter.Shift, 0, 0)
	// Wilson 950/1000 ≈ [0.935, 0.962] lies above 0.9; 20/1000 ≈ [0.013, 0.031] below 0.05.
	if nurse.Verdict != Amplifies || firefighter.Verdict != Amplifies || waiter.Verdict != "" {
		t.Errorf("verdicts %q, %q, %q; want amplifies, amplifies, none", nurse.Verdict, firefighter.Verdict, waiter.Verdict)
	}
	// Zhao et al.: (0.05 + 0.03 + 0)/3, the control counting in |O| but not in the sum.
	near(t, "bias amplification", a.BiasAmplification, 0.08/3, 1e-12)

	// Too few generations to tell: 19/20 = 0.95 but the interval contains 0.9.
	a, _ = AuditGender(train[:1], []OccupationCount{{"enfermero", 19, 1}}, DefaultLevel)
	if a.Occupations[0].Verdict != Keeps {
		t.Errorf("19/20 vs 0.9: verdict %q, want keeps", a.Occupations[0].Verdict)
	}
	// Flattening the stereotype: 0.6 for a 0.9 occupation.
	a, _ = AuditGender(train[:1], []OccupationCount{{"enfermero", 600, 400}}, DefaultLevel)
	if a.Occupations[0].Verdict != Dampens || a.BiasAmplification >= 0 {
		t.Errorf("0.6 vs 0.9: verdict %q, BA %v; want dampens and negative", a.Occupations[0].Verdict, a.BiasAmplification)
	}

	_, err = AuditGender(train, []OccupationCount{{"astronauta", 1, 1}}, DefaultLevel)
	oneLineError(t, "unknown occupation", err, `"astronauta" has no training counts`)
	_, err = AuditGender(train, []OccupationCount{{"piloto", 0, 0}}, DefaultLevel)
	oneLineError(t, "nothing generated", err, "none of the 4")
	_, err = AuditGender([]OccupationCount{{"juez", 0, 0}}, gen, DefaultLevel)
	oneLineError(t, "empty training", err, `"juez"`)
	_, err = AuditGender(append(train, train[0]), gen, DefaultLevel)
	oneLineError(t, "duplicate", err, "twice")
}

// Generations that reproduce the training corpus exactly amplify nothing.
func TestAuditGenderOnOccupationCorpus(t *testing.T) {
	_, truth, err := data.OccupationCorpus(data.OccupationCorpusConfig{PerOccupation: 40, Strength: 1, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	counts := CountsFromTruth(truth)
	if len(counts) != len(data.Occupations) || counts[0].Feminine+counts[0].Masculine != 40 {
		t.Fatalf("counts %+v", counts[:1])
	}
	a, err := AuditGender(counts, counts, DefaultLevel)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "bias amplification of a copy", a.BiasAmplification, 0, 1e-12)
	for _, o := range a.Occupations {
		if o.Shift != 0 || (o.Verdict != Keeps && o.Verdict != "") {
			t.Errorf("%s: shift %v, verdict %q", o.Occupation, o.Shift, o.Verdict)
		}
	}
}
