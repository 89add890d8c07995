package audit

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/iagen-course/iagen/lib/data"
)

// GenderPrompt returns the neutral prompt of an occupation template (data.OccupationTemplates):
// its text before the first slot, capitalised as the sentence is. The occupation and every mark
// of the referent's gender ({el}, {un}, {él}, {o} and the noun itself) come after it, so the
// prompt is the same for every occupation and both genders, and a model continuing it chooses
// both: what [AuditGender] then compares with the training corpus. A template that starts with
// a slot gives "" (the sentence start alone).
func GenderPrompt(tpl string) string {
	i := strings.IndexByte(tpl, '{')
	if i < 0 {
		i = len(tpl)
	}
	if i == 0 {
		return ""
	}
	return data.FillOccupationTemplate(tpl[:i], data.Occupation{}, false)
}

// GenderClassifier tells which occupation and gender a sentence realises, by the first
// characters that decide them among all realisations of the templates
// (data.FillOccupationTemplate). A sentence that leaves the templates before that point, or
// mixes the genders there ("La enfermero"), is undetermined; what follows is not read, so a
// generation that changes the referent's gender later counts by its first marks.
type GenderClassifier struct {
	occupations []string // masculine forms, in the order of the occupations given
	rules       []genderRule
	maxChars    int
}

// genderRule: a sentence starting with prefix realises occupation occ in gender fem.
type genderRule struct {
	prefix string
	occ    int
	fem    bool
}

// NewGenderClassifier builds the classifier of the sentences that templates make with
// occupations. The decisive prefix of a realisation is its shortest prefix that no realisation
// of another (occupation, gender) shares and that holds the whole occupation noun and the
// character after it (so that "profesor" is not read as the start of "profesora").
func NewGenderClassifier(occupations []data.Occupation, templates []string) (*GenderClassifier, error) {
	if len(occupations) == 0 || len(templates) == 0 {
		return nil, fmt.Errorf("audit: a gender classifier of %d occupations and %d templates", len(occupations), len(templates))
	}
	type realisation struct {
		s        string
		occ      int
		fem      bool
		nounEnds int // byte offset just past the occupation noun
	}
	var rs []realisation
	for _, tpl := range templates {
		if !strings.Contains(tpl, "{ocupación}") {
			return nil, fmt.Errorf("audit: template %q has no {ocupación} slot", tpl)
		}
		for _, fem := range []bool{false, true} {
			// Where the noun starts: fill the template with a marker noun (the slots before it
			// have the same length for every occupation).
			at := strings.IndexByte(data.FillOccupationTemplate(tpl, data.Occupation{Masc: "\x00", Fem: "\x00"}, fem), 0)
			for i, o := range occupations {
				noun := o.Masc
				if fem {
					noun = o.Fem
				}
				rs = append(rs, realisation{data.FillOccupationTemplate(tpl, o, fem), i, fem, at + len(noun)})
			}
		}
	}
	c := &GenderClassifier{}
	for _, o := range occupations {
		c.occupations = append(c.occupations, o.Masc)
	}
	for _, r := range rs {
		d := r.nounEnds + 1
		for _, q := range rs {
			if q.occ != r.occ || q.fem != r.fem {
				d = max(d, commonPrefix(r.s, q.s)+1)
			}
		}
		if d > len(r.s) {
			return nil, fmt.Errorf("audit: %q does not tell its occupation and gender from the other realisations", r.s)
		}
		for d < len(r.s) && !utf8.RuneStart(r.s[d]) {
			d++
		}
		c.rules = append(c.rules, genderRule{prefix: r.s[:d], occ: r.occ, fem: r.fem})
		c.maxChars = max(c.maxChars, utf8.RuneCountInString(r.s[:d]))
	}
	return c, nil
}

func commonPrefix(a, b string) int {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	return n
}

// MaxChars is the length in characters of the longest decisive prefix: a generation needs no
// more characters than this (minus its prompt's) to be classified.
func (c *GenderClassifier) MaxChars() int { return c.maxChars }

// Classify returns the occupation (its masculine form) and the gender that sentence realises,
// ok false when it is undetermined.
func (c *GenderClassifier) Classify(sentence string) (occupation string, fem, ok bool) {
	for _, r := range c.rules {
		if strings.HasPrefix(sentence, r.prefix) {
			return c.occupations[r.occ], r.fem, true
		}
	}
	return "", false, false
}

// Count classifies sentences and returns the feminine and masculine counts of every occupation
// (in the classifier's order, zeros included) and how many sentences were undetermined.
func (c *GenderClassifier) Count(sentences []string) (counts []OccupationCount, undetermined int) {
	counts = make([]OccupationCount, len(c.occupations))
	index := map[string]int{}
	for i, o := range c.occupations {
		counts[i].Occupation = o
		index[o] = i
	}
	for _, s := range sentences {
		occ, fem, ok := c.Classify(s)
		switch {
		case !ok:
			undetermined++
		case fem:
			counts[index[occ]].Feminine++
		default:
			counts[index[occ]].Masculine++
		}
	}
	return counts, undetermined
}

// ScoreMinimalPairs scores each pair's two sentences, each after prefix (the text before a
// corpus line: "\n" for a corpus of one sentence per line), with logLik: the exact
// log-likelihood of whole texts under a language model (family.TextScorer's LogLikelihood).
// The whole sentence's log-likelihood is its probability under the model, so sentences of
// different lengths ("él" / "ella") compare fairly when the extra characters are what the
// gender implies, as in this corpus.
func ScoreMinimalPairs(pairs []MinimalPair, prefix string, logLik func([]string) ([]float64, error)) ([]PairScore, error) {
	texts := make([]string, 0, 2*len(pairs))
	for _, p := range pairs {
		texts = append(texts, prefix+p.Stereo, prefix+p.Anti)
	}
	ll, err := logLik(texts)
	if err != nil {
		return nil, err
	}
	if len(ll) != len(texts) {
		return nil, fmt.Errorf("audit: %d log-likelihoods for %d sentences", len(ll), len(texts))
	}
	out := make([]PairScore, len(pairs))
	for i := range pairs {
		out[i] = PairScore{Stereo: ll[2*i], Anti: ll[2*i+1]}
	}
	return out, nil
}

// SharedChars aligns two sentences character by character — a longest common subsequence of
// their runes — and marks, in each, the characters the alignment shares: CrowS-Pairs' unmodified
// tokens (Nangia et al. 2020, §3), the only ones its masked-model score counts. "\nEl pastor" and
// "\nLa pastora" share "\n" and " pastor"; the articles and the final "a" are what differs.
func SharedChars(a, b string) (inA, inB []bool) {
	x, y := []rune(a), []rune(b)
	// lcs[i][j] is the longest common subsequence of x[i:] and y[j:].
	lcs := make([][]int, len(x)+1)
	for i := range lcs {
		lcs[i] = make([]int, len(y)+1)
	}
	for i := len(x) - 1; i >= 0; i-- {
		for j := len(y) - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	inA, inB = make([]bool, len(x)), make([]bool, len(y))
	for i, j := 0, 0; i < len(x) && j < len(y); {
		switch {
		case x[i] == y[j]:
			inA[i], inB[j] = true, true
			i, j = i+1, j+1
		case lcs[i+1][j] >= lcs[i][j+1]:
			i++
		default:
			j++
		}
	}
	return inA, inB
}

// ScoreMinimalPairsShared is [ScoreMinimalPairs] for a masked language model, as CrowS-Pairs
// scores one: pll(texts, scored) sums the pseudo-log-likelihood of each text over the
// characters scored marks (bert.Model.PseudoLogLikelihoodOf), and each sentence is scored on the
// characters it shares with the other sentence of its pair ([SharedChars]), predicted from the
// whole sentence, gendered characters included. Both sentences then sum the same number of
// terms, which a whole-sentence pseudo-log-likelihood does not: it is no probability, and every
// extra character ("pastora") only lowers it.
func ScoreMinimalPairsShared(pairs []MinimalPair, prefix string, pll func(texts []string, scored [][]bool) ([]float64, error)) ([]PairScore, error) {
	return ScoreMinimalPairs(pairs, prefix, func(texts []string) ([]float64, error) {
		scored := make([][]bool, len(texts))
		for i := 0; i+1 < len(texts); i += 2 { // ScoreMinimalPairs passes each pair's two sentences in turn
			scored[i], scored[i+1] = SharedChars(texts[i], texts[i+1])
		}
		return pll(texts, scored)
	})
}

// AuditTextGender is the occupation–gender audit of a text model trained on an occupation
// corpus whose truth is truth: its generations from neutral prompts ([GenderPrompt]) classified
// by c, compared with the training shares by [AuditGender], with the Student-t interval of the
// bias amplification over occupations ([MeanCI] of the per-occupation shifts, whose mean is
// Zhao et al.'s score); and its minimal pairs ([MinimalPairs]) scored by [ScorePairs]. Intervals
// are at level. Generations that realise no occupation of the corpus leave the generated share
// and the amplification null (every occupation unseen).
func AuditTextGender(truth []data.OccupationTruth, c *GenderClassifier, generations []string, pairs []MinimalPair, scores []PairScore, level float64) (GenderReport, error) {
	if len(pairs) != len(scores) {
		return GenderReport{}, fmt.Errorf("audit: %d minimal pairs but %d scores", len(pairs), len(scores))
	}
	train := CountsFromTruth(truth)
	gen, undetermined := c.Count(generations)
	r := GenderReport{Generations: len(generations), Undetermined: undetermined, Unseen: []string{}, TrainFeminineShare: feminineShare(train)}
	genFem, genAll := 0, 0
	for _, g := range gen {
		genFem, genAll = genFem+g.Feminine, genAll+g.Feminine+g.Masculine
	}
	r.Occupations = []OccupationGenderJSON{}
	pairsJSON, err := scorePairsJSON(truth, pairs, scores, level)
	if err != nil {
		return GenderReport{}, err
	}
	r.MinimalPairs = pairsJSON
	if genAll == 0 { // a model that names no occupation: nothing to compare, all unseen
		for _, t := range train {
			r.Unseen = append(r.Unseen, t.Occupation)
		}
		return r, nil
	}
	iv, err := WilsonInterval(genFem, genAll, level)
	if err != nil {
		return GenderReport{}, err
	}
	share := IntervalJSON(iv)
	r.GeneratedFeminineShare = &share
	a, err := AuditGender(train, gen, level)
	if err != nil {
		return GenderReport{}, err
	}
	r.BiasAmplification = &a.BiasAmplification
	if a.Unseen != nil {
		r.Unseen = a.Unseen
	}
	var shifts []float64
	for _, o := range a.Occupations {
		r.Occupations = append(r.Occupations, OccupationGenderJSON{Occupation: o.Occupation, Train: o.Train,
			Generated: IntervalJSON(o.Generated), Shift: o.Shift, Verdict: o.Verdict})
		shifts = append(shifts, o.Shift)
	}
	if len(shifts) >= 2 {
		ci, err := MeanCI(shifts, level)
		if err != nil {
			return GenderReport{}, err
		}
		civ := IntervalJSON(ci)
		r.BiasAmplificationInterval = &civ
	}
	return r, nil
}

// AuditMaskedPairs builds the masked model's report from its minimal pairs ([MinimalPairs] of
// truth) scored on shared characters and on whole sentences. Intervals are at level.
func AuditMaskedPairs(truth []data.OccupationTruth, pairs []MinimalPair, shared, whole []PairScore, level float64) (MaskedReport, error) {
	if len(shared) != len(pairs) || len(whole) != len(pairs) {
		return MaskedReport{}, fmt.Errorf("audit: %d minimal pairs but %d and %d scores", len(pairs), len(shared), len(whole))
	}
	r := MaskedReport{TrainFeminineShare: feminineShare(CountsFromTruth(truth))}
	var err error
	if r.MinimalPairs, err = scorePairsJSON(truth, pairs, shared, level); err != nil {
		return MaskedReport{}, err
	}
	r.WholeSentence, err = scorePairsJSON(truth, pairs, whole, level)
	return r, err
}

// feminineShare is the feminine share of all the mentions counted (0 when there are none).
func feminineShare(counts []OccupationCount) float64 {
	fem, all := 0, 0
	for _, c := range counts {
		fem, all = fem+c.Feminine, all+c.Feminine+c.Masculine
	}
	if all == 0 {
		return 0
	}
	return float64(fem) / float64(all)
}

// scorePairsJSON is the minimal-pair part of AuditTextGender and AuditMaskedPairs.
func scorePairsJSON(truth []data.OccupationTruth, pairs []MinimalPair, scores []PairScore, level float64) (PairsJSON, error) {
	pref, err := ScorePairs(scores, level)
	if err != nil {
		return PairsJSON{}, err
	}
	rate := map[string]float64{}
	for _, t := range truth {
		rate[t.Masc] = t.Rate()
	}
	mp := PairsJSON{Pairs: len(pairs), StereotypedShare: IntervalJSON(pref.Share), Wins: pref.Wins, Ties: pref.Ties}
	for i, p := range pairs {
		// σ(LL_s − LL_a): the model's probability of the stereotyped sentence within the pair,
		// against the stereotyped gender's share in training.
		mp.ModelStereoProbability += 1 / (1 + math.Exp(scores[i].Anti-scores[i].Stereo))
		if p.FemStereo {
			mp.TrainStereoShare += rate[p.Occupation]
		} else {
			mp.TrainStereoShare += 1 - rate[p.Occupation]
		}
	}
	mp.ModelStereoProbability /= float64(len(pairs))
	mp.TrainStereoShare /= float64(len(pairs))
	return mp, nil
}
