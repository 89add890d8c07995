package gpt

import (
	"fmt"
	"index/suffixarray"
	"math"
	"strings"
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

// CurveSVG draws one or more curves y(x) (x = 0, 1, …) as a small SVG line chart with labelled
// axes — for the loss at each position of the context. names label the curves.
func CurveSVG(title, xLabel, yLabel string, names []string, curves [][]float64) string {
	const w, h, left, bottom, top, right = 520.0, 260.0, 48.0, 34.0, 22.0, 120.0
	colors := []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}
	lo, hi, n := math.Inf(1), math.Inf(-1), 0
	for _, c := range curves {
		n = max(n, len(c))
		for _, y := range c {
			lo, hi = math.Min(lo, y), math.Max(hi, y)
		}
	}
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) { // no points
		lo, hi = 0, 1
	}
	if !(hi > lo) {
		hi = lo + 1
	}
	pw, ph := w-left-right, h-top-bottom
	px := func(i int) float64 { return left + pw*float64(i)/float64(max(n-1, 1)) }
	py := func(y float64) float64 { return top + ph*(hi-y)/(hi-lo) }
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="11">`, w, h)
	fmt.Fprintf(&sb, `<text x="%.0f" y="14" font-weight="bold">%s</text>`, left, escape(title))
	fmt.Fprintf(&sb, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" fill="none" stroke="#999"/>`, left, top, pw, ph)
	for k := 0; k <= 4; k++ { // y ticks
		y := lo + (hi-lo)*float64(k)/4
		fmt.Fprintf(&sb, `<text x="%.0f" y="%.1f" text-anchor="end">%.2f</text>`, left-4, py(y)+4, y)
	}
	for _, i := range []int{0, (n - 1) / 2, n - 1} { // x ticks
		fmt.Fprintf(&sb, `<text x="%.1f" y="%.0f" text-anchor="middle">%d</text>`, px(i), top+ph+14, i)
	}
	fmt.Fprintf(&sb, `<text x="%.0f" y="%.0f" text-anchor="middle">%s</text>`, left+pw/2, h-4, escape(xLabel))
	fmt.Fprintf(&sb, `<text x="12" y="%.0f" text-anchor="middle" transform="rotate(-90 12 %.0f)">%s</text>`, top+ph/2, top+ph/2, escape(yLabel))
	for k, c := range curves {
		col := colors[k%len(colors)]
		var pts []string
		for i, y := range c {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(i), py(y)))
		}
		fmt.Fprintf(&sb, `<polyline fill="none" stroke="%s" stroke-width="1.6" points="%s"/>`, col, strings.Join(pts, " "))
		if k < len(names) {
			fmt.Fprintf(&sb, `<text x="%.0f" y="%.0f" fill="%s">%s</text>`, left+pw+8, top+12+14*float64(k), col, escape(names[k]))
		}
	}
	sb.WriteString(`</svg>`)
	return sb.String()
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
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
