package audit

import (
	"math"
	"testing"

	"github.com/iagen-course/iagen/lib/data"
)

func TestScorePairs(t *testing.T) {
	pairs := []PairScore{
		{-10, -12}, {-10, -11}, {-3, -4}, {-5, -6}, {-1, -2}, {-7, -8}, {-9, -9.5}, // 7 wins
		{-4, -4},             // a tie
		{-12, -10}, {-8, -3}, // 2 losses
	}
	p, err := ScorePairs(pairs, DefaultLevel)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := WilsonInterval(7, 10, DefaultLevel)
	if p.Wins != 7 || p.Ties != 1 || p.Share != want {
		t.Errorf("wins %d, ties %d, share %+v; want 7, 1, %+v", p.Wins, p.Ties, p.Share, want)
	}
	_, err = ScorePairs(nil, DefaultLevel)
	oneLineError(t, "no pairs", err, "no minimal pairs")
	_, err = ScorePairs([]PairScore{{math.NaN(), 0}}, DefaultLevel)
	oneLineError(t, "NaN", err, "pair 0")
}

func TestMinimalPairs(t *testing.T) {
	truth := []data.OccupationTruth{
		{Occupation: data.Occupation{Masc: "enfermero", Fem: "enfermera"}, Feminine: 9, Masculine: 1},
		{Occupation: data.Occupation{Masc: "camarero", Fem: "camarera"}, Feminine: 5, Masculine: 5},
		{Occupation: data.Occupation{Masc: "piloto", Fem: "piloto"}, Feminine: 1, Masculine: 9},
	}
	tpls := []string{"{el} {ocupación} explicó que {él} había revisado todo."}
	pairs, err := MinimalPairs(truth, tpls)
	if err != nil {
		t.Fatal(err)
	}
	want := []MinimalPair{
		{"enfermero", "La enfermera explicó que ella había revisado todo.", "El enfermero explicó que él había revisado todo.", true},
		{"piloto", "El piloto explicó que él había revisado todo.", "La piloto explicó que ella había revisado todo.", false},
	}
	if len(pairs) != len(want) {
		t.Fatalf("%d pairs, want %d (the ½ occupation skipped): %+v", len(pairs), len(want), pairs)
	}
	for i := range want {
		if pairs[i] != want[i] {
			t.Errorf("pair %d = %+v, want %+v", i, pairs[i], want[i])
		}
	}
	// The whole project list: one pair per template for every occupation not at exactly ½.
	_, corpusTruth, _ := data.OccupationCorpus(data.OccupationCorpusConfig{PerOccupation: 10, Strength: 1, Seed: 1})
	all, err := MinimalPairs(corpusTruth, data.OccupationTemplates)
	if err != nil || len(all)%len(data.OccupationTemplates) != 0 || len(all) == 0 {
		t.Errorf("%d pairs from the corpus truth, err %v", len(all), err)
	}
	_, err = MinimalPairs(nil, tpls)
	oneLineError(t, "no truth", err, "0 occupations")
	_, err = MinimalPairs([]data.OccupationTruth{{Occupation: data.Occupation{Masc: "juez"}}}, tpls)
	oneLineError(t, "no mentions", err, `"juez"`)
}
