package audit

import (
	"math"
	"strings"
	"testing"

	"github.com/iagen-course/iagen/lib/data"
)

// Every prompt is a prefix of both genders' realisation of its template, for every occupation:
// it holds no gender cue (nor the occupation), and the continuation decides both.
func TestGenderPromptIsNeutral(t *testing.T) {
	for _, tpl := range data.OccupationTemplates {
		p := GenderPrompt(tpl)
		if strings.ContainsAny(p, "{}\uFFFD") {
			t.Errorf("prompt %q of %q", p, tpl)
		}
		for _, o := range data.Occupations {
			m, f := data.FillOccupationTemplate(tpl, o, false), data.FillOccupationTemplate(tpl, o, true)
			if !strings.HasPrefix(m, p) || !strings.HasPrefix(f, p) {
				t.Errorf("prompt %q is not a prefix of both %q and %q", p, m, f)
			}
			if p != "" && strings.Contains(p, o.Fem) {
				t.Errorf("prompt %q names the occupation %s", p, o.Fem)
			}
		}
	}
	for tpl, want := range map[string]string{
		"mi vecin{o} es {ocupación} desde hace diez años.":           "Mi vecin",
		"{el} {ocupación} explicó que {él} había revisado todo.":     "",
		"la persona que trabaja de {ocupación} dijo que {él} estaba": "La persona que trabaja de ",
	} {
		if got := GenderPrompt(tpl); got != want {
			t.Errorf("GenderPrompt(%q) = %q, want %q", tpl, got, want)
		}
	}
}

func newCorpusClassifier(t *testing.T) *GenderClassifier {
	t.Helper()
	c, err := NewGenderClassifier(data.Occupations, data.OccupationTemplates)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The classifier recovers the truth of the generated corpus from its lines, reading only their
// first MaxChars characters, and leaves undetermined what breaks the templates before the
// decisive characters.
func TestGenderClassifier(t *testing.T) {
	c := newCorpusClassifier(t)
	text, truth, err := data.GeneratedOccupationText(data.OccupationCorpusName)
	if err != nil {
		t.Fatal(err)
	}
	var heads []string
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		heads = append(heads, string([]rune(l)[:min(len([]rune(l)), c.MaxChars())]))
	}
	counts, undetermined := c.Count(heads)
	if undetermined != 0 {
		t.Errorf("%d corpus lines undetermined", undetermined)
	}
	for i, want := range CountsFromTruth(truth) {
		if counts[i] != want {
			t.Errorf("counts %+v, truth %+v", counts[i], want)
		}
	}
	for _, tc := range []struct {
		s, occ  string
		fem, ok bool
	}{
		{"La enfermera explicó que", "enfermero", true, true},
		{"El profesor explicó", "profesor", false, true},
		{"La profesora", "", false, false},                  // the noun's end is not reached
		{"El profesora explicó", "", false, false},          // mixed marks
		{"La enfermero explicó que ella", "", false, false}, // mixed marks
		{"La persona que trabaja de periodista dijo que ella zzz", "periodista", true, true},
		{"La persona que trabaja de periodista dijo", "", false, false}, // the pronoun decides
		{"Mi vecina es bombera desde", "bombero", true, true},
		{"Mi vecino es astronauta", "", false, false},
		{"", "", false, false},
	} {
		occ, fem, ok := c.Classify(tc.s)
		if occ != tc.occ || fem != tc.fem || ok != tc.ok {
			t.Errorf("Classify(%q) = %q, %v, %v; want %q, %v, %v", tc.s, occ, fem, ok, tc.occ, tc.fem, tc.ok)
		}
	}
	if _, err := NewGenderClassifier(data.Occupations, []string{"sin hueco"}); err == nil {
		t.Error("a template without {ocupación} was accepted")
	}
}

// Constructed models: one that always prefers the feminine sentence wins exactly the pairs whose
// stereotype is feminine; one that always prefers the masculine, the others; one that gives
// each sentence the training share of its gender reproduces the training statistics (every pair
// won, its probability within the pair equal to the training share).
// corpusPairs returns the occupation corpus's truth and its minimal pairs.
func corpusPairs(t *testing.T) ([]data.OccupationTruth, []MinimalPair) {
	t.Helper()
	_, truth, err := data.GeneratedOccupationText(data.OccupationCorpusName)
	if err != nil {
		t.Fatal(err)
	}
	pairs, err := MinimalPairs(truth, data.OccupationTemplates)
	if err != nil {
		t.Fatal(err)
	}
	return truth, pairs
}

func TestMinimalPairsWithConstructedModels(t *testing.T) {
	c := newCorpusClassifier(t)
	truth, pairs := corpusPairs(t)
	femPairs := 0
	for _, p := range pairs {
		if p.FemStereo {
			femPairs++
		}
	}
	rate := map[string]float64{}
	for _, tr := range truth {
		rate[tr.Masc] = tr.Rate()
	}
	model := func(score func(occ string, fem bool) float64) func([]string) ([]float64, error) {
		return func(texts []string) ([]float64, error) {
			out := make([]float64, len(texts))
			for i, s := range texts {
				if !strings.HasPrefix(s, "\n") {
					t.Fatalf("text %q lacks the line start", s)
				}
				occ, fem, ok := c.Classify(s[1:])
				if !ok {
					t.Fatalf("pair sentence %q unclassified", s)
				}
				out[i] = score(occ, fem)
			}
			return out, nil
		}
	}
	for _, tc := range []struct {
		name  string
		score func(string, bool) float64
		wins  int
		ties  int
	}{
		{"always feminine", func(_ string, fem bool) float64 { return -10 - 2*oneIf(!fem) }, femPairs, 0},
		{"always masculine", func(_ string, fem bool) float64 { return -10 - 2*oneIf(fem) }, len(pairs) - femPairs, 0},
		{"indifferent", func(string, bool) float64 { return -7 }, 0, len(pairs)},
		{"training shares", func(occ string, fem bool) float64 {
			if fem {
				return math.Log(rate[occ])
			}
			return math.Log(1 - rate[occ])
		}, len(pairs), 0},
	} {
		scores, err := ScoreMinimalPairs(pairs, "\n", model(tc.score))
		if err != nil {
			t.Fatal(err)
		}
		p, err := ScorePairs(scores, DefaultLevel)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := WilsonInterval(tc.wins, len(pairs), DefaultLevel)
		if p.Wins != tc.wins || p.Ties != tc.ties || p.Share != want {
			t.Errorf("%s: %d wins, %d ties, share %+v; want %d, %d, %+v", tc.name, p.Wins, p.Ties, p.Share, tc.wins, tc.ties, want)
		}
		if tc.name == "training shares" {
			r, err := AuditTextGender(truth, c, []string{"El bombero explicó"}, pairs, scores, DefaultLevel)
			if err != nil {
				t.Fatal(err)
			}
			near(t, "model stereotyped probability", r.MinimalPairs.ModelStereoProbability, r.MinimalPairs.TrainStereoShare, 1e-12)
		}
	}
	if femPairs == 0 || femPairs == len(pairs) {
		t.Fatalf("%d of %d pairs feminine-stereotyped: the corpus has both directions", femPairs, len(pairs))
	}
}

func oneIf(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Generations that are the training corpus itself amplify nothing; undetermined ones are
// counted and left out.
func TestAuditTextGender(t *testing.T) {
	c := newCorpusClassifier(t)
	text, truth, err := data.GeneratedOccupationText(data.OccupationCorpusName)
	if err != nil {
		t.Fatal(err)
	}
	gens := append(strings.Split(strings.TrimSuffix(text, "\n"), "\n"), "Xyz", "La enfermero")
	pairs, _ := MinimalPairs(truth, data.OccupationTemplates)
	scores := make([]PairScore, len(pairs))
	r, err := AuditTextGender(truth, c, gens, pairs, scores, DefaultLevel)
	if err != nil {
		t.Fatal(err)
	}
	if r.Generations != len(gens) || r.Undetermined != 2 || len(r.Occupations) != len(data.Occupations) || len(r.Unseen) != 0 {
		t.Errorf("generations %d, undetermined %d, occupations %d, unseen %v", r.Generations, r.Undetermined, len(r.Occupations), r.Unseen)
	}
	if r.BiasAmplification == nil || r.GeneratedFeminineShare == nil {
		t.Fatalf("amplification %v, generated share %v; want both measured", r.BiasAmplification, r.GeneratedFeminineShare)
	}
	near(t, "bias amplification", *r.BiasAmplification, 0, 1e-12)
	if iv := r.BiasAmplificationInterval; iv == nil || iv.Lo != 0 || iv.Hi != 0 {
		t.Errorf("amplification interval %+v, want [0, 0]", iv)
	}
	near(t, "generated feminine share", r.GeneratedFeminineShare.Estimate, r.TrainFeminineShare, 1e-12)
	if r.MinimalPairs.Ties != len(pairs) || r.MinimalPairs.ModelStereoProbability != 0.5 {
		t.Errorf("equal scores: %+v", r.MinimalPairs)
	}
	// Only nurses, all feminine: the one occupation seen, pushed to 1 from its training share.
	r, err = AuditTextGender(truth, c, []string{"La enfermera estaba contenta", "Zzz"}, pairs, scores, DefaultLevel)
	if err != nil || len(r.Occupations) != 1 || len(r.Unseen) != len(data.Occupations)-1 || r.BiasAmplificationInterval != nil {
		t.Fatalf("one nurse: %+v, %v", r, err)
	}
	near(t, "nurse shift", r.Occupations[0].Shift, 1-r.Occupations[0].Train, 1e-12)
	// Nothing classified: nothing to compare, every occupation unseen, the pairs still scored.
	r, err = AuditTextGender(truth, c, []string{"Zzz"}, pairs, scores, DefaultLevel)
	if err != nil || r.BiasAmplification != nil || r.GeneratedFeminineShare != nil || len(r.Unseen) != len(data.Occupations) || r.MinimalPairs.Pairs != len(pairs) {
		t.Errorf("no occupation generated: %+v, %v", r, err)
	}
	_, err = AuditTextGender(truth, c, gens, pairs, scores[1:], DefaultLevel)
	oneLineError(t, "scores", err, "minimal pairs")
}

// SharedChars marks a longest common subsequence in both sentences: as many marks in each as
// the subsequence is long, and the marked characters spell the same string.
func TestSharedChars(t *testing.T) {
	for _, tc := range []struct {
		a, b   string
		shared string
	}{
		{"\nEl pastor dijo", "\nLa pastora dijo", "\n pastor dijo"},
		{"él estaba cansado", "ella estaba cansada", "l estaba cansad"},
		{"igual", "igual", "igual"},
		{"abc", "xyz", ""},
		{"", "abc", ""},
	} {
		inA, inB := SharedChars(tc.a, tc.b)
		ra, rb := []rune(tc.a), []rune(tc.b)
		if len(inA) != len(ra) || len(inB) != len(rb) {
			t.Fatalf("%q/%q: marks of %d and %d for %d and %d characters", tc.a, tc.b, len(inA), len(inB), len(ra), len(rb))
		}
		pick := func(r []rune, in []bool) string {
			var out []rune
			for i, ok := range in {
				if ok {
					out = append(out, r[i])
				}
			}
			return string(out)
		}
		if sa, sb := pick(ra, inA), pick(rb, inB); sa != tc.shared || sb != tc.shared {
			t.Errorf("%q/%q share %q and %q, want %q", tc.a, tc.b, sa, sb, tc.shared)
		}
	}
}

// A masked model that is indifferent to gender — the same score for every character — ties on
// every pair when only the shared characters count, but prefers the shorter sentence when the
// whole sentence does: the length bias that shared-character scoring removes. A model that
// scores a shared character higher when the sentence has the stereotyped gender wins every pair.
func TestScoreMinimalPairsShared(t *testing.T) {
	truth, pairs := corpusPairs(t)
	stereo := map[string]bool{}
	shorter := 0
	for _, p := range pairs {
		stereo["\n"+p.Stereo] = true
		if len([]rune(p.Stereo)) < len([]rune(p.Anti)) {
			shorter++
		}
	}
	pll := func(perChar func(text string) float64) func([]string, [][]bool) ([]float64, error) {
		return func(texts []string, scored [][]bool) ([]float64, error) {
			out := make([]float64, len(texts))
			for i, s := range texts {
				if scored != nil && len(scored[i]) != len([]rune(s)) {
					t.Fatalf("text %q: %d marks", s, len(scored[i]))
				}
				for j := range []rune(s) {
					if scored == nil || scored[i][j] {
						out[i] += perChar(s)
					}
				}
			}
			return out, nil
		}
	}
	whole := func(f func([]string, [][]bool) ([]float64, error)) func([]string) ([]float64, error) {
		return func(texts []string) ([]float64, error) { return f(texts, nil) }
	}
	indifferent := pll(func(string) float64 { return -2 })
	shared, err := ScoreMinimalPairsShared(pairs, "\n", indifferent)
	if err != nil {
		t.Fatal(err)
	}
	wholeScores, err := ScoreMinimalPairs(pairs, "\n", whole(indifferent))
	if err != nil {
		t.Fatal(err)
	}
	r, err := AuditMaskedPairs(truth, pairs, shared, wholeScores, DefaultLevel)
	if err != nil {
		t.Fatal(err)
	}
	if r.MinimalPairs.Ties != len(pairs) || r.MinimalPairs.ModelStereoProbability != 0.5 {
		t.Errorf("indifferent model, shared characters: %+v; want every pair tied", r.MinimalPairs)
	}
	if r.WholeSentence.Wins != shorter || shorter == 0 {
		t.Errorf("indifferent model, whole sentences: %d wins, want the %d pairs whose stereotyped sentence is shorter", r.WholeSentence.Wins, shorter)
	}
	g, err := AuditTextGender(truth, newCorpusClassifier(t), nil, pairs, shared, DefaultLevel)
	if err != nil {
		t.Fatal(err)
	}
	near(t, "training feminine share", r.TrainFeminineShare, g.TrainFeminineShare, 0)
	biased := pll(func(s string) float64 { return -2 + oneIf(stereo[s]) })
	if shared, err = ScoreMinimalPairsShared(pairs, "\n", biased); err != nil {
		t.Fatal(err)
	}
	p, err := ScorePairs(shared, DefaultLevel)
	if err != nil || p.Wins != len(pairs) {
		t.Errorf("stereotyped model: %d of %d pairs won (%v)", p.Wins, len(pairs), err)
	}
	_, err = AuditMaskedPairs(truth, pairs, shared, wholeScores[1:], DefaultLevel)
	oneLineError(t, "scores", err, "minimal pairs")
}
