package data

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/gomlx/gomlx/core/tensors"
)

// TextCorpora names the corpora LoadText knows, in catalogue order.
var TextCorpora = []string{"es-rv1909", "es-fortunes", "en-mobydick", "en-web"}

// LoadText returns a whole text corpus as UTF-8 plain text, from the data folder dir (see
// [Dir]), after checking its files' SHA-256:
//
//	es-rv1909    Reina-Valera 1909 Bible from its SWORD module: notes dropped, markup stripped,
//	             a line per book title and per chapter
//	es-fortunes  the 24 top-level fortunes-es files: entries separated by a blank line
//	en-mobydick  Moby-Dick as shipped (line ends normalised to \n)
//	en-web       World English Bible from its SWORD module, as es-rv1909 (a line per
//	             paragraph, title or poetry line)
//
// and, generated offline rather than read (see [GeneratedTextCorpora]):
//
//	es-ocupaciones  the occupation–gender corpus of [GeneratedOccupationText]
//
// For a language model, split it with [SplitText] and encode it with a [Vocab].
func LoadText(dir, name string) (string, error) {
	if slices.Contains(GeneratedTextCorpora, name) {
		text, _, err := GeneratedOccupationText(name)
		return text, err
	}
	if !slices.Contains(TextCorpora, name) {
		known := append(slices.Clone(TextCorpora), GeneratedTextCorpora...)
		return "", fmt.Errorf("data: %q is not a text corpus (known: %s)", name, strings.Join(known, ", "))
	}
	files, _, err := readVerified(dir, name)
	if err != nil {
		return "", err
	}
	var text string
	switch name {
	case "es-rv1909", "en-web":
		text, err = swordText(files["ot.bzs"], files["ot.bzz"], files["nt.bzs"], files["nt.bzz"])
	case "es-fortunes":
		d, _ := Lookup(name)
		var b strings.Builder
		for _, f := range d.Files {
			entries, ferr := parseFortunes(files[f.Name])
			if ferr != nil {
				err = fmt.Errorf("%s: %w", f.Name, ferr)
				break
			}
			for _, e := range entries {
				if b.Len() > 0 {
					b.WriteByte('\n')
				}
				b.WriteString(e)
				b.WriteByte('\n')
			}
		}
		text = b.String()
	case "en-mobydick":
		b := files["data.txt"]
		if !utf8.Valid(b) {
			err = fmt.Errorf("data.txt is not valid UTF-8")
		}
		text = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	if err != nil {
		return "", fmt.Errorf("data: %s: %w; %s", name, err, fixHint(name, dir))
	}
	return text, nil
}

// parseFortunes splits a fortune file (UTF-8 entries separated by lines holding only "%") into
// its entries. Each line is trimmed of surrounding spaces and tabs, blank lines are dropped,
// and empty entries are skipped; an entry's lines are joined with "\n".
func parseFortunes(b []byte) ([]string, error) {
	if !utf8.Valid(b) {
		return nil, fmt.Errorf("not valid UTF-8")
	}
	var entries []string
	var cur []string
	flush := func() {
		if len(cur) > 0 {
			entries = append(entries, strings.Join(cur, "\n"))
			cur = cur[:0]
		}
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		line = strings.Trim(line, " \t\r\f\v")
		switch {
		case line == "%":
			flush()
		case line != "":
			cur = append(cur, line)
		}
	}
	flush()
	return entries, nil
}

// SplitText splits a corpus into training and validation text: the last 10% of its characters
// (runes, rounded down) is validation, as nanoGPT does.
func SplitText(s string) (train, val string) {
	n := utf8.RuneCountInString(s)
	cut := n - n/10
	i := 0
	for k := range s { // byte offset of rune number cut
		if i == cut {
			return s[:k], s[k:]
		}
		i++
	}
	return s, ""
}

// Vocab is a character vocabulary: the distinct runes of a text in increasing code-point order,
// rune i having id i. Build it from the whole corpus (training and validation) so that every
// character of either split can be encoded.
type Vocab struct {
	chars []rune
	index map[rune]int32
}

// NewVocab returns the vocabulary of the distinct characters of text, sorted by code point.
func NewVocab(text string) *Vocab {
	seen := map[rune]bool{}
	for _, r := range text {
		seen[r] = true
	}
	chars := make([]rune, 0, len(seen))
	for r := range seen {
		chars = append(chars, r)
	}
	slices.Sort(chars)
	return vocabOf(chars)
}

func vocabOf(chars []rune) *Vocab {
	v := &Vocab{chars: chars, index: make(map[rune]int32, len(chars))}
	for i, r := range chars {
		v.index[r] = int32(i)
	}
	return v
}

// Size returns the number of characters (ids run from 0 to Size()-1).
func (v *Vocab) Size() int { return len(v.chars) }

// Chars returns the characters in id order (a copy).
func (v *Vocab) Chars() []rune { return slices.Clone(v.chars) }

// ID returns the id of character r and whether it is in the vocabulary.
func (v *Vocab) ID(r rune) (int32, bool) {
	id, ok := v.index[r]
	return id, ok
}

// Encode returns the ids of the characters of s; a character outside the vocabulary is an
// error that names it and its position.
func (v *Vocab) Encode(s string) ([]int32, error) {
	ids := make([]int32, 0, len(s))
	pos := 0
	for _, r := range s {
		id, ok := v.index[r]
		if !ok {
			return nil, fmt.Errorf("data: character %q (U+%04X) at position %d is not in the vocabulary of %d characters", r, r, pos, len(v.chars))
		}
		ids = append(ids, id)
		pos++
	}
	return ids, nil
}

// Decode returns the text of ids; an id outside the vocabulary decodes as U+FFFD.
func (v *Vocab) Decode(ids []int32) string {
	var b strings.Builder
	b.Grow(len(ids))
	for _, id := range ids {
		if id >= 0 && int(id) < len(v.chars) {
			b.WriteRune(v.chars[id])
		} else {
			b.WriteRune(utf8.RuneError)
		}
	}
	return b.String()
}

// vocabJSON is the file format: {"chars": ["\n", " ", "!", …]}, one string per id.
type vocabJSON struct {
	Chars []string `json:"chars"`
}

// MarshalJSON encodes the vocabulary as {"chars": [one string per id]}.
func (v *Vocab) MarshalJSON() ([]byte, error) {
	j := vocabJSON{Chars: make([]string, len(v.chars))}
	for i, r := range v.chars {
		j.Chars[i] = string(r)
	}
	return json.Marshal(j)
}

// UnmarshalJSON decodes what MarshalJSON wrote, checking that each entry is one character and
// that none repeats.
func (v *Vocab) UnmarshalJSON(b []byte) error {
	var j vocabJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return fmt.Errorf("data: vocabulary: %w", err)
	}
	chars := make([]rune, len(j.Chars))
	seen := map[rune]bool{}
	for i, s := range j.Chars {
		r, n := utf8.DecodeRuneInString(s)
		if n == 0 || n != len(s) || (r == utf8.RuneError && n == 1) {
			return fmt.Errorf("data: vocabulary entry %d is %q, not one character", i, s)
		}
		if seen[r] {
			return fmt.Errorf("data: vocabulary entry %d repeats %q", i, s)
		}
		seen[r] = true
		chars[i] = r
	}
	*v = *vocabOf(chars)
	return nil
}

// Save writes the vocabulary to path as JSON.
func (v *Vocab) Save(path string) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// LoadVocab reads a vocabulary written by Save.
func LoadVocab(path string) (*Vocab, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	v := &Vocab{}
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("%w (in %s)", err, path)
	}
	return v, nil
}

// TextWindows returns training batch number step for a next-character model: inputs and
// targets are int32 tensors of shape [batch, ctx]; row b is ids[o:o+ctx] and ids[o+1:o+ctx+1]
// for an offset o drawn uniformly from [0, len(ids)-ctx-1]. The offsets depend only on
// (seed, step), so any step's batch can be recomputed and a resumed run sees exactly the
// batches it would have seen. It returns nil, nil when ctx or batch is below 1 or ids holds
// fewer than ctx+1 tokens.
func TextWindows(ids []int32, ctx int, seed int64, step, batch int) (inputs, targets *tensors.Tensor) {
	if ctx < 1 || batch < 1 || len(ids) < ctx+1 {
		return nil, nil
	}
	r := rand.New(rand.NewPCG(uint64(seed), uint64(step)^0x7465787477696e64)) // "textwind"
	in := make([]int32, batch*ctx)
	tg := make([]int32, batch*ctx)
	span := len(ids) - ctx // offsets 0..span-1
	for b := range batch {
		o := r.IntN(span)
		copy(in[b*ctx:(b+1)*ctx], ids[o:o+ctx])
		copy(tg[b*ctx:(b+1)*ctx], ids[o+1:o+ctx+1])
	}
	return tensors.FromFlatDataAndDimensions(in, batch, ctx), tensors.FromFlatDataAndDimensions(tg, batch, ctx)
}

// NumValBatches returns how many full batches [ValWindows] forms from n validation tokens:
// floor(floor((n-1)/ctx) / batch).
func NumValBatches(n, ctx, batch int) int {
	if ctx < 1 || batch < 1 || n < ctx+1 {
		return 0
	}
	return (n - 1) / ctx / batch
}

// ValWindows returns validation batch k: int32 tensors of shape [batch, ctx] whose row b is
// window j = k*batch+b, inputs ids[j*ctx:(j+1)*ctx] and targets ids[j*ctx+1:(j+1)*ctx+1]. The
// windows do not overlap and start at the beginning of ids (the validation split), so
// evaluation is deterministic. Only full batches are formed; for k outside
// [0, NumValBatches) it returns nil, nil.
func ValWindows(ids []int32, ctx, batch, k int) (inputs, targets *tensors.Tensor) {
	if k < 0 || k >= NumValBatches(len(ids), ctx, batch) {
		return nil, nil
	}
	in := make([]int32, batch*ctx)
	tg := make([]int32, batch*ctx)
	for b := range batch {
		o := (k*batch + b) * ctx
		copy(in[b*ctx:(b+1)*ctx], ids[o:o+ctx])
		copy(tg[b*ctx:(b+1)*ctx], ids[o+1:o+ctx+1])
	}
	return tensors.FromFlatDataAndDimensions(in, batch, ctx), tensors.FromFlatDataAndDimensions(tg, batch, ctx)
}

// Corpus is a text corpus as the character models train on it: its vocabulary (from the whole
// corpus), the training and validation splits (SplitText) as character ids, and its files'
// SHA-256 for the run manifest (keyed "corpus/file"; a generated corpus's text as
// "corpus/generated.txt").
type Corpus struct {
	Name       string
	Vocab      *Vocab
	Train, Val []int32
	Files      map[string]string
}

// LoadCorpus loads the corpus name from the data folder dir and prepares it for a character
// model whose windows have context characters: both splits must be longer than that.
// trainFraction in (0, 1] keeps only the first part of the training split (0 keeps all of it);
// the validation split and the vocabulary stay those of the whole corpus, so that models trained
// on 10 % and on 100 % of the text are scored on the same characters — the measurement of a
// model's appetite for data (Kaplan et al. 2020, §3).
func LoadCorpus(dir, name string, context int, trainFraction float64) (*Corpus, error) {
	if !(trainFraction >= 0 && trainFraction <= 1) {
		return nil, fmt.Errorf("corpus %s: train_fraction must be in (0, 1] (or 0 for all), got %g", name, trainFraction)
	}
	text, err := LoadText(dir, name)
	if err != nil {
		return nil, err
	}
	sums, generated := generatedChecksums(name, text)
	if !generated {
		if sums, err = Checksums(name); err != nil {
			return nil, err
		}
	}
	c := &Corpus{Name: name, Vocab: NewVocab(text), Files: map[string]string{}}
	for f, s := range sums {
		c.Files[name+"/"+f] = s
	}
	trainText, valText := SplitText(text)
	if c.Train, err = c.Vocab.Encode(trainText); err != nil {
		return nil, err
	}
	if c.Val, err = c.Vocab.Encode(valText); err != nil {
		return nil, err
	}
	if trainFraction > 0 {
		c.Train = c.Train[:int(trainFraction*float64(len(c.Train)))]
	}
	if len(c.Train) <= context || len(c.Val) <= context {
		return nil, fmt.Errorf("corpus %s is too short for a context of %d characters", name, context)
	}
	return c, nil
}
