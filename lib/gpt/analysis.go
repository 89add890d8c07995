package gpt

import (
	"index/suffixarray"
	"math"
	"unicode/utf8"
)

// Copying measures how much generated text repeats the training text verbatim: for every
// n-character substring of the samples it looks the substring up in the training split (a
// suffix array over it, built once) and returns the fraction found. Natural text shares short
// n-grams with any large corpus (common words), so n of 20 or more is what reveals copying.
type Copying struct {
	index *suffixarray.Index
}

// NewCopying indexes the model's training split for Copying.Fraction (about a second for the
// Spanish corpus).
func (m *Model) NewCopying() (*Copying, error) {
	vocab, err := m.Vocab()
	if err != nil {
		return nil, err
	}
	return &Copying{index: suffixarray.New([]byte(vocab.Decode(m.trainIDs)))}, nil
}

// Fraction returns the fraction of the n-character substrings of texts that occur in the
// training split, and how many substrings were checked.
func (c *Copying) Fraction(texts []string, n int) (frac float64, checked int) {
	found := 0
	for _, t := range texts {
		r := []rune(t)
		for i := 0; i+n <= len(r); i++ {
			checked++
			if len(c.index.Lookup([]byte(string(r[i:i+n])), 1)) > 0 {
				found++
			}
		}
	}
	if checked == 0 {
		return math.NaN(), 0
	}
	return float64(found) / float64(checked), checked
}

// LongestCopy returns the longest substring of text (in characters) that occurs verbatim in the
// training split.
func (c *Copying) LongestCopy(text string) string {
	r := []rune(text)
	best := ""
	for i := range r {
		// Grow the match from i while it is still found (binary-searchable: a found string's
		// prefixes are found too).
		lo, hi := utf8.RuneCountInString(best)+1, len(r)-i
		for lo <= hi {
			mid := (lo + hi) / 2
			if len(c.index.Lookup([]byte(string(r[i:i+mid])), 1)) > 0 {
				best = string(r[i : i+mid])
				lo = mid + 1
			} else {
				hi = mid - 1
			}
		}
	}
	return best
}

// DistinctNGrams is the fraction of the n-character substrings of texts that are distinct
// (Li et al. 2016's distinct-n, on characters): near 1 for varied text, low when a sampler
// loops ("de la tierra de la tierra de la tierra…").
func DistinctNGrams(texts []string, n int) float64 {
	seen := map[string]bool{}
	total := 0
	for _, t := range texts {
		r := []rune(t)
		for i := 0; i+n <= len(r); i++ {
			seen[string(r[i:i+n])] = true
			total++
		}
	}
	if total == 0 {
		return math.NaN()
	}
	return float64(len(seen)) / float64(total)
}

// UnigramNatsPerChar is the validation cross-entropy of the simplest language model: each
// character drawn independently with its training-split frequency (add-one smoothed). A
// Transformer must beat it to have learned anything about order.
func (m *Model) UnigramNatsPerChar() float64 {
	counts := make([]float64, m.vocabSize)
	for _, id := range m.trainIDs {
		counts[id]++
	}
	total := float64(len(m.trainIDs) + m.vocabSize)
	var nll float64
	for _, id := range m.valIDs {
		nll -= math.Log((counts[id] + 1) / total)
	}
	return nll / float64(len(m.valIDs))
}
