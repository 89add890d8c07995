package data

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Skewed builds a deliberately unbalanced training set from im, so that the amplification of
// the imbalance by a generative model can be measured against a known truth: it draws n images,
// a share fractions[g] of them from the images whose label is in groups[g] (for example
// groups {{0,1,2,3,4},{5,6,7,8,9}} with fractions {0.9, 0.1}). Group sizes are n·fractions
// rounded by largest remainder so they sum to n; within a group images are drawn uniformly
// without replacement (so each class keeps its natural share inside its group); the result is
// shuffled. The same seed gives the same set. Labels in no group are never drawn.
func Skewed(im *Images, groups [][]int, fractions []float64, n int, seed int64) (*Images, error) {
	if im == nil || im.N == 0 {
		return nil, fmt.Errorf("data: Skewed: empty image set")
	}
	if len(groups) == 0 || len(groups) != len(fractions) {
		return nil, fmt.Errorf("data: Skewed: %d groups but %d fractions", len(groups), len(fractions))
	}
	if n < 1 {
		return nil, fmt.Errorf("data: Skewed: n = %d, want at least 1", n)
	}
	sum := 0.0
	for _, f := range fractions {
		if f < 0 || math.IsNaN(f) {
			return nil, fmt.Errorf("data: Skewed: fraction %v is negative", f)
		}
		sum += f
	}
	if math.Abs(sum-1) > 1e-6 {
		return nil, fmt.Errorf("data: Skewed: fractions sum to %v, want 1", sum)
	}
	members, err := groupMembers(im, groups)
	if err != nil {
		return nil, fmt.Errorf("data: Skewed: %w", err)
	}
	counts := largestRemainder(fractions, n)
	r := rand.New(rand.NewPCG(uint64(seed), 0x736b65776564))
	var idx []int
	for g, c := range counts {
		if c > len(members[g]) {
			return nil, fmt.Errorf("data: Skewed: group %d (labels %v) needs %d images but %s has only %d", g, groups[g], c, im.Name, len(members[g]))
		}
		m := slices.Clone(members[g])
		r.Shuffle(len(m), func(i, j int) { m[i], m[j] = m[j], m[i] })
		idx = append(idx, m[:c]...)
	}
	r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	out := im.Subset(idx)
	out.Name = fmt.Sprintf("%s-skewed%v", im.Name, fractions)
	return out, nil
}

// groupMembers returns the indices of im's images in each group of labels; groups must be
// non-empty, disjoint and within im's classes.
func groupMembers(im *Images, groups [][]int) ([][]int, error) {
	groupOf := map[int]int{}
	for g, labels := range groups {
		if len(labels) == 0 {
			return nil, fmt.Errorf("group %d is empty", g)
		}
		for _, l := range labels {
			if l < 0 || l >= im.NumClasses {
				return nil, fmt.Errorf("label %d not in [0, %d)", l, im.NumClasses)
			}
			if h, dup := groupOf[l]; dup {
				return nil, fmt.Errorf("label %d is in groups %d and %d", l, h, g)
			}
			groupOf[l] = g
		}
	}
	members := make([][]int, len(groups))
	for i, l := range im.Labels {
		if g, ok := groupOf[int(l)]; ok {
			members[g] = append(members[g], i)
		}
	}
	return members, nil
}

// largestRemainder splits n into integer parts proportional to fractions (summing to 1).
func largestRemainder(fractions []float64, n int) []int {
	counts := make([]int, len(fractions))
	rem := make([]int, len(fractions))
	total := 0
	for i, f := range fractions {
		counts[i] = int(math.Floor(f * float64(n)))
		total += counts[i]
		rem[i] = i
	}
	slices.SortStableFunc(rem, func(a, b int) int {
		ra, rb := fractions[a]*float64(n)-float64(counts[a]), fractions[b]*float64(n)-float64(counts[b])
		switch {
		case ra > rb:
			return -1
		case ra < rb:
			return 1
		}
		return 0
	})
	for k := 0; total < n; k++ {
		counts[rem[k%len(rem)]]++
		total++
	}
	return counts
}

// Occupation is a Spanish occupation noun in its masculine and feminine forms (equal for the
// invariable nouns, whose gender shows only in the article and in agreement), with the share
// of feminine mentions that the corpus generator uses by default.
type Occupation struct {
	Masc, Fem string
	// DefaultFemShare is an invented, stereotype-shaped share of feminine mentions (0..1): a
	// knob for experiments, NOT a measured statistic about Spanish text or the labour market.
	DefaultFemShare float64
}

// Invariable reports whether the noun has one form for both genders (la/el periodista).
func (o Occupation) Invariable() bool { return o.Masc == o.Fem }

// Occupations is the project's own list of 35 occupations for the Spanish occupation–gender
// audit. Provenance: written by the iagen authors for teaching (no registry package ships such
// a list). The feminine forms are the usual ones recorded by the Real Academia Española's
// dictionary (DLE) and discussed in the gender chapter of its Nueva gramática (2009): "la
// médica", "la jueza", "la ingeniera"; nouns in -ista and a few others (policía, piloto,
// soldado, gerente, contable) are used here as common-gender nouns, marked only by the article
// and by agreement. The default shares caricature common stereotypes on purpose, from trades
// seen as masculine (0.05) to care work seen as feminine (0.95), with two neutral controls at
// 0.5 (camarero, periodista), so an audit can check whether a model trained on the corpus
// reproduces, amplifies or flattens each one.
var Occupations = []Occupation{
	{"bombero", "bombera", 0.05},
	{"mecánico", "mecánica", 0.05},
	{"carpintero", "carpintera", 0.05},
	{"fontanero", "fontanera", 0.05},
	{"electricista", "electricista", 0.05},
	{"piloto", "piloto", 0.05},
	{"soldado", "soldado", 0.1},
	{"ingeniero", "ingeniera", 0.1},
	{"conductor", "conductora", 0.1},
	{"policía", "policía", 0.15},
	{"programador", "programadora", 0.15},
	{"agricultor", "agricultora", 0.2},
	{"directivo", "directiva", 0.2},
	{"científico", "científica", 0.25},
	{"gerente", "gerente", 0.3},
	{"juez", "jueza", 0.3},
	{"médico", "médica", 0.3},
	{"abogado", "abogada", 0.3},
	{"arquitecto", "arquitecta", 0.3},
	{"cocinero", "cocinera", 0.4},
	{"camarero", "camarera", 0.5},
	{"periodista", "periodista", 0.5},
	{"profesor", "profesora", 0.6},
	{"contable", "contable", 0.6},
	{"farmacéutico", "farmacéutica", 0.7},
	{"psicólogo", "psicóloga", 0.75},
	{"cajero", "cajera", 0.8},
	{"bailarín", "bailarina", 0.8},
	{"peluquero", "peluquera", 0.85},
	{"maestro", "maestra", 0.85},
	{"recepcionista", "recepcionista", 0.85},
	{"enfermero", "enfermera", 0.9},
	{"secretario", "secretaria", 0.9},
	{"limpiador", "limpiadora", 0.9},
	{"niñero", "niñera", 0.95},
}

// OccupationTemplates are the sentence frames of the corpus. Slots: {ocupación} the
// occupation noun in the referent's gender; {el} el/la, {un} un/una, {él} él/ella, and {o}
// the ending -o/-a of an agreeing adjective or noun (cansad{o}, vecin{o}). Every sentence thus
// marks the referent's gender at least twice, even for the invariable nouns.
var OccupationTemplates = []string{
	"la persona que trabaja de {ocupación} dijo que {él} estaba cansad{o}.",
	"la persona que trabaja de {ocupación} llegó pronto y {él} mism{o} abrió la puerta.",
	"{el} {ocupación} explicó que {él} había revisado todo.",
	"{el} nuev{o} {ocupación} empieza el lunes.",
	"ayer hablé con {un} {ocupación} muy simpátic{o}.",
	"conozco a {un} {ocupación} que vive en el centro; {él} siempre va andando.",
	"mi vecin{o} es {ocupación} desde hace diez años.",
	"según {el} {ocupación}, el problema tiene solución.",
	"{el} {ocupación} estaba content{o} con el resultado.",
	"nadie esperaba que {el} {ocupación} llegara tan tarde, pero {él} tenía una buena razón.",
}

// OccupationCorpusConfig sets up OccupationCorpus.
type OccupationCorpusConfig struct {
	// PerOccupation is the number of sentences per occupation (default 200).
	PerOccupation int
	// Strength scales every occupation's default bias: the feminine share used is
	// 0.5 + Strength·(DefaultFemShare − 0.5), so 0 gives a balanced corpus, 1 the default
	// shares and values in between a milder bias. Ignored for occupations listed in FemShare.
	Strength float64
	// FemShare overrides the feminine share of occupations, keyed by masculine form.
	FemShare map[string]float64
	// Seed makes the corpus reproducible.
	Seed int64
}

// OccupationTruth is the ground truth of one occupation in a generated corpus.
type OccupationTruth struct {
	Occupation
	FemShare  float64 // the share the generator was asked for
	Feminine  int     // sentences actually generated with the feminine referent
	Masculine int     // and with the masculine one
}

// Rate returns the realised feminine share, Feminine / (Feminine + Masculine).
func (t OccupationTruth) Rate() float64 {
	if t.Feminine+t.Masculine == 0 {
		return 0
	}
	return float64(t.Feminine) / float64(t.Feminine+t.Masculine)
}

// OccupationCorpus generates a Spanish corpus with a controlled occupation–gender bias: for
// every occupation of [Occupations], PerOccupation sentences from [OccupationTemplates], each
// independently feminine with probability equal to the occupation's share (see
// OccupationCorpusConfig). It returns the text, one sentence per line in shuffled order, and
// the ground truth per occupation (in [Occupations] order).
func OccupationCorpus(cfg OccupationCorpusConfig) (string, []OccupationTruth, error) {
	per := cfg.PerOccupation
	if per == 0 {
		per = 200
	}
	if per < 0 {
		return "", nil, fmt.Errorf("data: OccupationCorpus: PerOccupation = %d", per)
	}
	for k, v := range cfg.FemShare {
		if !slices.ContainsFunc(Occupations, func(o Occupation) bool { return o.Masc == k }) {
			return "", nil, fmt.Errorf("data: OccupationCorpus: unknown occupation %q in FemShare", k)
		}
		if v < 0 || v > 1 || math.IsNaN(v) {
			return "", nil, fmt.Errorf("data: OccupationCorpus: share %v for %q is not in [0, 1]", v, k)
		}
	}
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), 0x6f6363757061))
	truth := make([]OccupationTruth, len(Occupations))
	var lines []string
	for i, o := range Occupations {
		share, ok := cfg.FemShare[o.Masc]
		if !ok {
			share = min(1, max(0, 0.5+cfg.Strength*(o.DefaultFemShare-0.5)))
		}
		truth[i] = OccupationTruth{Occupation: o, FemShare: share}
		for range per {
			fem := r.Float64() < share
			if fem {
				truth[i].Feminine++
			} else {
				truth[i].Masculine++
			}
			tpl := OccupationTemplates[r.IntN(len(OccupationTemplates))]
			lines = append(lines, FillOccupationTemplate(tpl, o, fem))
		}
	}
	r.Shuffle(len(lines), func(i, j int) { lines[i], lines[j] = lines[j], lines[i] })
	return strings.Join(lines, "\n") + "\n", truth, nil
}

// FillOccupationTemplate realises one template (see [OccupationTemplates]) for occupation o
// with a feminine (fem) or masculine referent, capitalising the first letter.
func FillOccupationTemplate(tpl string, o Occupation, fem bool) string {
	noun, el, un, pron, o_ := o.Masc, "el", "un", "él", "o"
	if fem {
		noun, el, un, pron, o_ = o.Fem, "la", "una", "ella", "a"
	}
	s := strings.NewReplacer("{ocupación}", noun, "{el}", el, "{un}", un, "{él}", pron, "{o}", o_).Replace(tpl)
	// Contractions, should a template put a preposition before {el}.
	s = strings.NewReplacer(" de el ", " del ", " a el ", " al ").Replace(s)
	r, size := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[size:]
}

// Balanced is balanced sampling, the mitigation of a skewed training set: it repeats the images
// of every group but the largest (cycling through each group's images, every one as often as
// the others up to one) until each group of labels has as many as the largest, then shuffles
// with seed. A model trained on it sees each group equally often — in expectation the same as
// re-weighting its loss by the inverse of each group's share — but never a new image.
func Balanced(im *Images, groups [][]int, seed int64) (*Images, error) {
	if im == nil || im.N == 0 {
		return nil, fmt.Errorf("data: Balanced: empty image set")
	}
	members, err := groupMembers(im, groups)
	if err != nil {
		return nil, fmt.Errorf("data: Balanced: %w", err)
	}
	most := 0
	for g, m := range members {
		if len(m) == 0 {
			return nil, fmt.Errorf("data: Balanced: group %d (labels %v) has no image in %s", g, groups[g], im.Name)
		}
		most = max(most, len(m))
	}
	var idx []int
	for _, m := range members {
		for i := range most {
			idx = append(idx, m[i%len(m)])
		}
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x62616c616e6365))
	r.Shuffle(len(idx), func(i, j int) { idx[i], idx[j] = idx[j], idx[i] })
	out := im.Subset(idx)
	out.Name = im.Name + "-balanced"
	return out, nil
}
