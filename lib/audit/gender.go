package audit

import (
	"fmt"

	"github.com/iagen-course/iagen/lib/data"
)

// OccupationCount is how often an occupation is mentioned with a feminine and with a masculine
// referent, in the training corpus or in generated text.
type OccupationCount struct {
	Occupation          string // masculine form, as data.Occupation.Masc
	Feminine, Masculine int
}

// CountsFromTruth turns the ground truth of data.OccupationCorpus into training counts.
func CountsFromTruth(truth []data.OccupationTruth) []OccupationCount {
	out := make([]OccupationCount, len(truth))
	for i, t := range truth {
		out[i] = OccupationCount{Occupation: t.Masc, Feminine: t.Feminine, Masculine: t.Masculine}
	}
	return out
}

// OccupationGender is the gender audit of one occupation.
type OccupationGender struct {
	Occupation string
	// Train is P(femenino | ocupación) in the training corpus: the truth the model saw.
	Train float64
	// Generated is P(femenino | ocupación) in the generations, with its Wilson interval.
	Generated Interval
	// Shift is sign(Train − ½) · (Generated − Train): positive when the generations push the
	// occupation further towards its stereotyped gender than the training data did; 0 for an
	// occupation whose training share is exactly ½.
	Shift float64
	// Verdict compares the Wilson interval with the training share (taken as known) in the
	// stereotyped direction; empty for an occupation whose training share is exactly ½.
	Verdict Verdict
}

// GenderAudit is the occupation–gender audit of generated text against its training corpus.
type GenderAudit struct {
	Occupations []OccupationGender // in the order of the training counts, unseen ones left out
	// BiasAmplification is the mean bias amplification of Zhao et al. (2017) over the
	// occupations generated at least once (see [BiasAmplification]); for two genders it equals
	// the mean of Shift.
	BiasAmplification float64
	// Unseen lists the occupations of the training counts that the generations never mention.
	Unseen []string
}

// AuditGender compares P(femenino | ocupación) in generated text (gen) with the training corpus
// (train, e.g. [CountsFromTruth]) per occupation, with Wilson intervals at level, and scores the
// amplification in the stereotyped direction: the direction of each occupation is the gender
// that dominates it in training. Occupations in gen but not in train are an error; occupations
// in train with no generated mention are listed in Unseen and left out of the score.
func AuditGender(train, gen []OccupationCount, level float64) (GenderAudit, error) {
	if err := checkLevel(level); err != nil {
		return GenderAudit{}, err
	}
	if len(train) == 0 {
		return GenderAudit{}, fmt.Errorf("audit: no training occupation counts")
	}
	genBy := map[string]OccupationCount{}
	for _, g := range gen {
		if g.Feminine < 0 || g.Masculine < 0 {
			return GenderAudit{}, fmt.Errorf("audit: negative generated count for %q", g.Occupation)
		}
		if _, dup := genBy[g.Occupation]; dup {
			return GenderAudit{}, fmt.Errorf("audit: occupation %q appears twice in the generated counts", g.Occupation)
		}
		genBy[g.Occupation] = g
	}
	var a GenderAudit
	var trainCounts, genCounts [][]int
	seen := map[string]bool{}
	for _, t := range train {
		if t.Feminine < 0 || t.Masculine < 0 || t.Feminine+t.Masculine == 0 {
			return GenderAudit{}, fmt.Errorf("audit: training counts for %q are %d feminine, %d masculine", t.Occupation, t.Feminine, t.Masculine)
		}
		if seen[t.Occupation] {
			return GenderAudit{}, fmt.Errorf("audit: occupation %q appears twice in the training counts", t.Occupation)
		}
		seen[t.Occupation] = true
		g := genBy[t.Occupation]
		n := g.Feminine + g.Masculine
		if n == 0 {
			a.Unseen = append(a.Unseen, t.Occupation)
			continue
		}
		p := float64(t.Feminine) / float64(t.Feminine+t.Masculine)
		iv, err := WilsonInterval(g.Feminine, n, level)
		if err != nil {
			return GenderAudit{}, err
		}
		og := OccupationGender{Occupation: t.Occupation, Train: p, Generated: iv}
		if p != 0.5 {
			dir := 1.0
			if p < 0.5 {
				dir = -1
			}
			og.Shift = dir * (iv.Estimate - p)
			lo, hi := dir*(iv.Lo-p), dir*(iv.Hi-p)
			og.Verdict = verdictOf(Interval{Lo: min(lo, hi), Hi: max(lo, hi)})
		}
		a.Occupations = append(a.Occupations, og)
		trainCounts = append(trainCounts, []int{t.Feminine, t.Masculine})
		genCounts = append(genCounts, []int{g.Feminine, g.Masculine})
	}
	for occ := range genBy {
		if !seen[occ] {
			return GenderAudit{}, fmt.Errorf("audit: generated occupation %q has no training counts", occ)
		}
	}
	if len(a.Occupations) == 0 {
		return GenderAudit{}, fmt.Errorf("audit: the generations mention none of the %d training occupations", len(train))
	}
	ba, err := BiasAmplification(trainCounts, genCounts)
	if err != nil {
		return GenderAudit{}, err
	}
	a.BiasAmplification = ba
	return a, nil
}

// BiasAmplification is the mean bias amplification of Zhao, Wang, Yatskar, Ordonez & Chang
// (2017), "Men Also Like Shopping: Reducing Gender Bias Amplification using Corpus-level
// Constraints" (EMNLP). With c(o, g) the count of item o (an occupation) with group g (a
// gender), the bias score is b(o, g) = c(o, g) / Σ_g' c(o, g'), and
//
//	BA = (1/|O|) Σ_g Σ_{o : b*(o,g) > 1/|G|} ( b̃(o, g) − b*(o, g) ),
//
// b* from the training counts and b̃ from the generated (predicted) ones: the average
// increase of each item's majority-group share. Positive means amplification, negative
// dampening, 0 that the training bias is reproduced on average. train[o][g] and gen[o][g] are
// the counts; every row needs a positive total.
func BiasAmplification(train, gen [][]int) (float64, error) {
	if len(train) == 0 || len(train) != len(gen) {
		return 0, fmt.Errorf("audit: bias amplification over %d training and %d generated items", len(train), len(gen))
	}
	groups := len(train[0])
	if groups < 2 {
		return 0, fmt.Errorf("audit: bias amplification needs at least 2 groups, got %d", groups)
	}
	share := func(row []int, which string, o int) ([]float64, error) {
		if len(row) != groups {
			return nil, fmt.Errorf("audit: %s item %d has %d groups, want %d", which, o, len(row), groups)
		}
		total := 0
		for _, c := range row {
			if c < 0 {
				return nil, fmt.Errorf("audit: %s item %d has a negative count", which, o)
			}
			total += c
		}
		if total == 0 {
			return nil, fmt.Errorf("audit: %s item %d has no counts", which, o)
		}
		b := make([]float64, groups)
		for g, c := range row {
			b[g] = float64(c) / float64(total)
		}
		return b, nil
	}
	var s float64
	for o := range train {
		bStar, err := share(train[o], "training", o)
		if err != nil {
			return 0, err
		}
		bGen, err := share(gen[o], "generated", o)
		if err != nil {
			return 0, err
		}
		for g := range bStar {
			if bStar[g] > 1/float64(groups) {
				s += bGen[g] - bStar[g]
			}
		}
	}
	return s / float64(len(train)), nil
}
