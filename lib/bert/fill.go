package bert

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"unicode"

	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/train"
)

// Blank marks a character to fill in FillMask's texts (not a character of the corpus).
const Blank = '_'

// Choice is one filled blank.
type Choice struct {
	Position int     // character index in the text
	Char     string  // the character chosen
	Prob     float64 // its probability when it was chosen
	Order    int     // 0 for the first blank filled, 1 for the next…
}

// Fill is a text with its blanks filled.
type Fill struct {
	Text    string
	Choices []Choice // in the order of the text's blanks
}

// FillOptions says how FillMask decodes.
type FillOptions struct {
	// Parallel fills every blank at once with its most likely character given the unfilled
	// text (one pass, blanks blind to each other); the default fills the most confident blank
	// first and runs the model again (one pass per blank).
	Parallel bool
}

// FillMask fills the blanks of text, one "_" per character ("la casa es mu_ grande",
// "el ____ de la mañana"), with the most likely characters. By default it decodes most
// confident first (the one-token-at-a-time case of Mask-Predict, Ghazvininejad et al. 2019,
// "Mask-Predict: Parallel Decoding of Conditional Masked Language Models"): all blanks are
// [MASK]; the blank whose best character is the most probable is fixed to it, and the model is
// run again on the text with it filled, until none is left — so later blanks see earlier
// choices. With o.Parallel every blank takes its arg-max from a single pass. The text must
// fit in Context characters; a character outside the vocabulary is an error.
func (m *Model) FillMask(text string, o FillOptions) (Fill, error) {
	row, blanks, err := m.encodeBlanks(text)
	if err != nil {
		return Fill{}, err
	}
	vocab, err := m.Vocab()
	if err != nil {
		return Fill{}, err
	}
	chosen := map[int]Choice{}
	v := m.vocabSize
	for order := 0; len(chosen) < len(blanks); {
		var logp []float32
		if err := m.runRows([][]int32{row}, func(_ int, lp []float32) { logp = lp }); err != nil {
			return Fill{}, err
		}
		best, bestP, bestID := -1, -1.0, 0
		for _, t := range blanks {
			if _, done := chosen[t]; done {
				continue
			}
			id := argmax(logp[t*v : (t+1)*v])
			p := math.Exp(float64(logp[t*v+id]))
			if o.Parallel {
				chosen[t] = Choice{Position: t, Char: vocab.Decode([]int32{int32(id)}), Prob: p, Order: order}
				row[t] = int32(id)
				continue
			}
			if p > bestP {
				best, bestP, bestID = t, p, id
			}
		}
		if !o.Parallel {
			chosen[best] = Choice{Position: best, Char: vocab.Decode([]int32{int32(bestID)}), Prob: bestP, Order: order}
			row[best] = int32(bestID)
			order++
		}
	}
	f := Fill{Text: vocab.Decode(row)}
	for _, t := range blanks {
		f.Choices = append(f.Choices, chosen[t])
	}
	return f, nil
}

// encodeBlanks encodes text with [MASK] at each Blank and returns the blanks' positions.
func (m *Model) encodeBlanks(text string) (row []int32, blanks []int, err error) {
	vocab, err := m.Vocab()
	if err != nil {
		return nil, nil, err
	}
	for i, r := range []rune(text) {
		if r == Blank {
			row, blanks = append(row, m.maskID()), append(blanks, i)
			continue
		}
		id, ok := vocab.ID(r)
		if !ok {
			return nil, nil, fmt.Errorf("bert: character %q at position %d of %q is not in the corpus's vocabulary", r, i, text)
		}
		row = append(row, id)
	}
	if len(row) < 1 || len(row) > m.Context {
		return nil, nil, fmt.Errorf("bert: %q has %d characters; the model reads 1 to %d", text, len(row), m.Context)
	}
	return row, blanks, nil
}

// parsePrompts checks that every prompt can be filled.
func (m *Model) parsePrompts(prompts []string) (blanks int, err error) {
	for _, p := range prompts {
		_, b, err := m.encodeBlanks(p)
		if err != nil {
			return 0, err
		}
		if len(b) == 0 {
			return 0, fmt.Errorf("bert: prompt %q has no blank: mark each character to fill with %q", p, Blank)
		}
		blanks += len(b)
	}
	return blanks, nil
}

// SetSampling changes what Sample fills (family.SamplingOptions): {"prompt": "la ca_a"} for one
// text, {"prompts": ["…", "…"]} for several.
func (m *Model) SetSampling(options json.RawMessage) error {
	var o struct {
		Prompt  string   `json:"prompt"`
		Prompts []string `json:"prompts"`
	}
	o.Prompts = m.Prompts
	if err := family.Decode(options, &o, "bert sampling options"); err != nil {
		return err
	}
	if o.Prompt != "" {
		o.Prompts = []string{o.Prompt}
	}
	if _, err := m.parsePrompts(o.Prompts); err != nil {
		return err
	}
	m.Prompts = o.Prompts
	return nil
}

var _ family.SamplingOptions = (*Model)(nil)

// Sample writes fills to path as UTF-8 text. With Prompts, each prompt and its fill, the
// probability of every choice beside it (n is not used). Without, n validation windows spread
// over the split, their Mask-chosen positions (15 %) blanked, the truth, the blanks and the
// fill one under the other, with how many blanks came back right.
func (m *Model) Sample(n int, path string) error {
	if n < 1 {
		return fmt.Errorf("bert: number of samples must be ≥ 1, got %d", n)
	}
	var sb strings.Builder
	if len(m.Prompts) > 0 {
		for _, p := range m.Prompts {
			f, err := m.FillMask(p, FillOptions{})
			if err != nil {
				return err
			}
			fmt.Fprintf(&sb, "huecos:  %s\nrelleno: %s\n", p, f.Text)
			for _, c := range f.Choices {
				fmt.Fprintf(&sb, "  posición %d: %q p=%.3f (orden %d)\n", c.Position, c.Char, c.Prob, c.Order)
			}
			sb.WriteString("\n")
		}
		return train.WriteFileAtomic(path, []byte(sb.String()))
	}
	vocab, err := m.Vocab()
	if err != nil {
		return err
	}
	all := m.valWindows(0)
	r := rand.New(rand.NewPCG(uint64(m.seed), evalMaskSeed))
	for i := range min(n, len(all)) {
		w := all[i*len(all)/n]
		b := Mask(w, m.Context, m.vocabSize, m.maskID(), m.MaskRate, r)
		blanked := []rune(vocab.Decode(w))
		for t, wt := range b.Weights {
			if wt > 0 {
				blanked[t] = Blank
			}
		}
		f, err := m.FillMask(string(blanked), FillOptions{})
		if err != nil {
			return err
		}
		right := 0
		for _, c := range f.Choices {
			if c.Char == string([]rune(vocab.Decode(w))[c.Position]) {
				right++
			}
		}
		fmt.Fprintf(&sb, "verdad:  %s\nhuecos:  %s\nrelleno: %s\naciertos: %d de %d\n\n", oneLine(vocab.Decode(w)), oneLine(string(blanked)),
			oneLine(f.Text), right, len(f.Choices))
	}
	return train.WriteFileAtomic(path, []byte(sb.String()))
}

// oneLine shows newlines as ⏎ so each window stays on its line.
func oneLine(s string) string { return strings.ReplaceAll(s, "\n", "⏎") }

// GibbsSample tries to write n texts of length characters (≤ Context) with the masked model,
// as Wang & Cho (2019, "BERT has a Mouth, and It Must Speak") do: start from all [MASK], then
// sweep left to right sweeps times, each position replaced by a draw from p(x_t | x_{\t})
// (temperature 1), the rest held fixed. It is Gibbs sampling from the conditionals, which need
// not be those of any joint distribution: the chain has no guarantee of reaching fluent text,
// which is the point of showing it next to the GPT's samples. Draws are seeded by seed.
func (m *Model) GibbsSample(n, length, sweeps int, seed int64) ([]string, error) {
	if n < 1 || length < 1 || length > m.Context || sweeps < 1 {
		return nil, fmt.Errorf("bert: Gibbs sampling needs n ≥ 1, 1 ≤ length ≤ %d and sweeps ≥ 1; got %d, %d, %d", m.Context, n, length, sweeps)
	}
	vocab, err := m.Vocab()
	if err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(uint64(seed), 0x6769626273)) // "gibbs"
	rows := make([][]int32, n)
	for i := range rows {
		rows[i] = make([]int32, length)
		for t := range rows[i] {
			rows[i][t] = m.maskID()
		}
	}
	v := m.vocabSize
	for range sweeps {
		for t := range length {
			for _, row := range rows {
				row[t] = m.maskID()
			}
			err := m.runRows(rows, func(i int, logp []float32) {
				u, cum := r.Float64(), 0.0
				rows[i][t] = int32(v - 1)
				for c := range v {
					if cum += math.Exp(float64(logp[t*v+c])); u < cum {
						rows[i][t] = int32(c)
						break
					}
				}
			})
			if err != nil {
				return nil, err
			}
		}
	}
	out := make([]string, n)
	for i, row := range rows {
		out[i] = vocab.Decode(row)
	}
	return out, nil
}

// KnownWordFraction returns the share of the words of texts (maximal runs of letters,
// lower-cased) that occur in the training split, and how many words it checked: near 1 for
// text made of real Spanish words, lower for invented ones. It measures any model's text —
// GibbsSample's next to gpt's Generate — on the same dictionary. Words cut by the ends of a
// text count like the others.
func (m *Model) KnownWordFraction(texts []string) (frac float64, words int) {
	m.wordsOnce.Do(func() {
		m.words = map[string]bool{}
		for _, w := range splitWords(m.vocab.Decode(m.trainIDs)) {
			m.words[w] = true
		}
	})
	known := 0
	for _, t := range texts {
		for _, w := range splitWords(t) {
			words++
			if m.words[w] {
				known++
			}
		}
	}
	if words == 0 {
		return math.NaN(), 0
	}
	return float64(known) / float64(words), words
}

func splitWords(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) })
}
