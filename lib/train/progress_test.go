package train

import (
	"math"
	"strings"
	"testing"
)

func TestHistorySeriesSkipsMissingKeys(t *testing.T) {
	h := []Record{
		{Step: 10, Values: map[string]float64{"loss": 2, "acc": 0.1}},
		{Step: 20, Values: map[string]float64{"loss": 1}},
		{Step: 30, Values: map[string]float64{"loss": 0.5, "acc": 0.3}},
	}
	s := HistorySeries(h, "loss", "acc")
	if len(s) != 2 || s[0].Name != "loss" || s[1].Name != "acc" {
		t.Fatalf("series %+v", s)
	}
	if got := s[1].X; len(got) != 2 || got[0] != 10 || got[1] != 30 || s[1].Y[1] != 0.3 {
		t.Errorf("acc series: x %v, y %v", s[1].X, s[1].Y)
	}
	if len(s[0].X) != 3 || len(s[0].Y) != 3 {
		t.Errorf("loss series: x %v, y %v", s[0].X, s[0].Y)
	}
}

func TestProgressHTMLDrawsTheLossCurve(t *testing.T) {
	s := Status{Step: 3, Steps: 10, Train: Metrics{{Name: "loss", Value: 0.5}}, History: []Record{
		{Step: 1, Values: map[string]float64{"loss": 2}},
		{Step: 2, Values: map[string]float64{"loss": math.NaN()}},
		{Step: 3, Values: map[string]float64{"loss": 0.5}},
	}}
	h := ProgressHTML(s)
	if !strings.Contains(h, "<svg") || !strings.Contains(h, "</svg></div>") || !strings.Contains(h, ">loss</text>") {
		t.Errorf("no loss curve in %.300s…", h)
	}
	// Before a finite value is logged there is no curve, and no error either.
	s.History = []Record{{Step: 1, Values: map[string]float64{"loss": math.Inf(1)}}, {Step: 2, Values: map[string]float64{}}}
	if h := ProgressHTML(s); strings.Contains(h, "<svg") {
		t.Error("a curve with no finite point was drawn")
	}
}
