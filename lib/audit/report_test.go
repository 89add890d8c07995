package audit

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/iagen-course/iagen/lib/metrics"
)

// A generator that reproduces training rows and one class only: every sample is a copy, every
// other class is missing, and 1-NN tells its samples from test ones; the test images' own
// numbers are the baselines.
func TestAuditImagesCopyingGenerator(t *testing.T) {
	train := gaussian(200, 4, 0, 1)
	test := gaussian(100, 4, 0, 2)
	gen := metrics.Matrix{Rows: 50, Cols: 4, Data: append([]float32(nil), train.Data[:50*4]...)}
	genLabels := make([]int, 50) // all class 0
	testLabels := make([]int, 100)
	for i := range testLabels {
		testLabels[i] = i % 4
	}
	a, err := AuditImages(ImageInputs{Generated: gen, Test: test, Train: train, GeneratedLabels: genLabels,
		TestLabels: testLabels, TestTruth: testLabels, Reference: Uniform(4), Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	near(t, "copy share", a.Copying.CopyShare, 1, 0)
	if a.Copying.CopyShareInterval.Lo <= CopyPercentile || a.Copying.CopyShareInterval.N != 50 {
		t.Errorf("copy share interval %+v should lie above %v", a.Copying.CopyShareInterval, CopyPercentile)
	}
	near(t, "generated median distance", a.Copying.Generated.Median, 0, 0)
	near(t, "TV", a.Representation.TV, 0.75, 1e-12)
	near(t, "TV of the test baseline", a.RepresentationTest.TV, 0, 1e-12)
	near(t, "fairness discrepancy against uniform", a.FairnessDiscrepancyUniform, a.Representation.FairnessDiscrepancy, 1e-12)
	near(t, "classifier accuracy", a.ClassifierTestAccuracy, 1, 0)
	if got := a.Representation.Missing; len(got) != 3 || got[0] != 1 || a.Representation.Covered != 1 {
		t.Errorf("missing %v, covered %d; want classes 1, 2, 3 missing and 1 covered", got, a.Representation.Covered)
	}
	if len(a.RepresentationTest.Missing) != 0 || a.RepresentationTest.Missing == nil {
		t.Errorf("test baseline missing classes %v, want an empty (not null) list", a.RepresentationTest.Missing)
	}
	if a.Separability.Level != DefaultLevel || a.SeparabilityBaseline.Estimate > 0.75 {
		t.Errorf("separability %+v, real baseline %+v", a.Separability, a.SeparabilityBaseline)
	}
	if _, err := json.Marshal(a); err != nil {
		t.Errorf("audit.json encoding: %v", err)
	}

	_, err = AuditImages(ImageInputs{Generated: gen, Test: test, Train: train, GeneratedLabels: genLabels[:3],
		TestLabels: testLabels, Reference: Uniform(4)})
	oneLineError(t, "labels for fewer rows", err, "generated features")
	_, err = AuditImages(ImageInputs{Generated: gen, Test: test, Train: train, GeneratedLabels: genLabels,
		TestLabels: testLabels, Reference: []float64{0.5, 0.6, 0, 0}})
	oneLineError(t, "a reference that is no histogram", err, "reference histogram")
}

func TestAuditTexts(t *testing.T) {
	idx, err := NewCorpusIndex("en el principio creó dios los cielos y la tierra. y la tierra estaba desordenada y vacía.")
	if err != nil {
		t.Fatal(err)
	}
	gen := []string{"creó dios los cielos y la tierra", "xyz"}
	held := []string{"los mares y", "qqq"}
	a, err := AuditTexts(idx, gen, held, 10)
	if err != nil {
		t.Fatal(err)
	}
	g := a.Generated
	if g.LongestChars != 32 || g.Longest != "creó dios los cielos y la tierra" || g.Texts != 2 || g.Chars != 35 {
		t.Errorf("generated: %+v", g)
	}
	near(t, "mean longest", g.MeanLongestChars, 16.5, 0) // 32 and "y"
	if g.WindowShare == nil || *g.WindowShare != 1 || g.Windows != 23 {
		t.Errorf("generated windows: share %v of %d, want all 23", g.WindowShare, g.Windows)
	}
	if h := a.HeldOut; h.LongestChars != 4 || h.Windows != 2 || h.WindowShare == nil || *h.WindowShare != 0 {
		t.Errorf("held out: %+v", h)
	}
	short, err := AuditTexts(idx, []string{"dios"}, []string{"mar"}, 0)
	if err != nil || short.Window != DefaultWindow || short.Generated.WindowShare != nil || short.Generated.Windows != 0 {
		t.Errorf("texts shorter than the window: %+v, %v; want no share (null in JSON)", short, err)
	}
	_, err = AuditTexts(idx, nil, held, 10)
	oneLineError(t, "no generated texts", err, "no generated texts")
	_, err = AuditTexts(idx, []string{"\xff"}, held, 10)
	oneLineError(t, "invalid UTF-8", err, "UTF-8")
}

func TestHeldOutPassages(t *testing.T) {
	got, err := HeldOutPassages("abcdefghij", []int{3, 3, 2})
	if err != nil || strings.Join(got, ",") != "abc,def,ij" {
		t.Errorf("passages %q (%v), want abc,def,ij: evenly spaced, the last at the end", got, err)
	}
	if got, err := HeldOutPassages("añob", []int{2}); err != nil || got[0] != "añ" {
		t.Errorf("one passage of characters: %q (%v)", got, err)
	}
	_, err = HeldOutPassages("abc", []int{4})
	oneLineError(t, "a passage longer than the text", err, "4 characters")
}

// The model card carries every section, the run's command and the numbers, with no formatting
// mistake, for an image and a text report.
func TestModelCard(t *testing.T) {
	run := RunInfo{Dir: "runs/x", Profile: "ci", Seed: 1, Steps: 3, Command: "iagen train gan --steps 3 --out runs/x",
		Params: 10, Datasets: map[string]string{"mnist/train": "abc123"}, Metrics: map[string]float64{"fld": 12.5}}
	share := 0.25
	reports := []Report{
		{Family: "gan", Kind: "image", Run: run, N: 100, Seed: 2014, Level: 0.95, Image: &ImageReport{ClassifierProfile: "ci",
			TrainSubset: 1000, TestImages: 100, ReferenceLabels: 60000, ImageAudit: ImageAudit{ReferenceHistogram: Uniform(10),
				GeneratedHistogram: Uniform(10), TestHistogram: Uniform(10), Representation: RepresentationJSON{TV: 0.3, Missing: []int{3, 7}},
				Copying:              CopyingJSON{CopyShare: 0.5, Percentile: 0.01, CopyShareInterval: IntervalJSON{Estimate: 0.5, Lo: 0.4, Hi: 0.6}},
				Separability:         IntervalJSON{Estimate: 0.9, Lo: 0.8, Hi: 0.95, Level: 0.95},
				SeparabilityBaseline: IntervalJSON{Estimate: 0.6, Lo: 0.55, Hi: 0.65, Level: 0.95}}}},
		{Family: "lstm", Kind: "text", Run: run, N: 5, Seed: 2014, Level: 0.95, Text: &TextReport{Corpus: "es-rv1909", Prompt: "Y dijo ",
			CharsPerText: 120, TextAudit: TextAudit{Window: 50, Generated: TextCopying{Texts: 5, LongestChars: 40, WindowShare: &share, Windows: 4},
				HeldOut: TextCopying{Texts: 5, LongestChars: 20}}}},
		{Family: "bert", Kind: "masked", Run: run, N: 350, Seed: 2014, Level: 0.95, Masked: &MaskedReport{Corpus: "es-ocupaciones", Prefix: "\n",
			TrainFeminineShare: 0.45, MinimalPairs: PairsJSON{Pairs: 350, Wins: 280, StereotypedShare: IntervalJSON{Estimate: 0.8, Lo: 0.755, Hi: 0.838}},
			WholeSentence: PairsJSON{Pairs: 350, Wins: 140, StereotypedShare: IntervalJSON{Estimate: 0.4, Lo: 0.35, Hi: 0.452}}}},
	}
	wants := [][]string{
		{"clases 3, 7", "50.0 %", "por encima del 1 %", "se distinguen", "0.3000", "Incluso imágenes reales", "fld", "12.5"},
		{"supera al que comparte", "25.0 % de 4", "— (textos más cortos", "es-rv1909"},
		{"en 280 de 350 pares (80.0 % [75.5 %, 83.8 %])", "40.0 % [35.0 %, 45.2 %]", "por encima del 50 %", "no escribe", "0.450", "lenguaje enmascarado"},
	}
	for i, r := range reports {
		card := r.ModelCard()
		for _, want := range append(append(wants[i], CardSections...), run.Command, "abc123") {
			if !strings.Contains(card, want) {
				t.Errorf("%s card lacks %q:\n%s", r.Kind, want, card)
			}
		}
		if strings.Contains(card, "%!") {
			t.Errorf("%s card has a formatting mistake:\n%s", r.Kind, card)
		}
	}
}
