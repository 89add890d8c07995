package audit

import (
	"fmt"
	"index/suffixarray"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/iagen-course/iagen/lib/metrics"
)

// CopyPercentile is the percentile of the test-to-train nearest-neighbour distances below
// which a generated sample counts as a (near-)copy in [AuditCopying]: 1 %.
const CopyPercentile = 0.01

// Quantiles summarises a set of distances.
type Quantiles struct {
	Min, P1, P5, P25, Median, P75, P95, Max float64
}

// QuantilesOf returns the quantiles of xs (linear interpolation between order statistics, as
// R's default type 7 and NumPy's default).
func QuantilesOf(xs []float64) (Quantiles, error) {
	if len(xs) == 0 {
		return Quantiles{}, fmt.Errorf("audit: quantiles of no values")
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if math.IsNaN(s[0]) || math.IsNaN(s[len(s)-1]) {
		return Quantiles{}, fmt.Errorf("audit: quantiles of values with a NaN")
	}
	q := func(p float64) float64 { return quantileSorted(s, p) }
	return Quantiles{Min: s[0], P1: q(0.01), P5: q(0.05), P25: q(0.25), Median: q(0.5), P75: q(0.75), P95: q(0.95), Max: s[len(s)-1]}, nil
}

// quantileSorted is the p-quantile of the sorted, non-empty s (type 7).
func quantileSorted(s []float64, p float64) float64 {
	h := p * float64(len(s)-1)
	lo := int(math.Floor(h))
	if lo >= len(s)-1 {
		return s[len(s)-1]
	}
	return s[lo] + (h-float64(lo))*(s[lo+1]-s[lo])
}

// CopyAudit compares how close generated samples lie to the training set with how close
// held-out test samples do.
type CopyAudit struct {
	// Generated and Test summarise the Euclidean distance from each generated (test) sample to
	// its nearest training sample.
	Generated, Test Quantiles
	// Threshold is the CopyPercentile quantile of the test-to-train distances: a real, unseen
	// sample is this close to the training set only 1 % of the time.
	Threshold float64
	// CopyShare is the share of generated samples nearer to a training sample than Threshold
	// (or at distance 0): ≈ 0.01 for a generator that generalises like the test set, ≈ 1 for
	// one that reproduces its training data.
	CopyShare float64
}

// AuditCopying measures memorisation in feature space: the nearest-neighbour distance of every
// generated feature vector (gen) to the training set (train), against the baseline of the same
// distance for test samples never trained on (test), in the spirit of the memorisation
// analyses of Carlini et al. (2023), "Extracting Training Data from Diffusion Models" (USENIX
// Security), which flag generations unusually close to one training image. All three share the
// feature width (e.g. the MNIST classifier's penultimate layer). Brute force,
// O((|gen| + |test|)·|train|·D).
func AuditCopying(gen, test, train metrics.Matrix) (CopyAudit, error) {
	dGen, err := NearestDistances(gen, train)
	if err != nil {
		return CopyAudit{}, fmt.Errorf("audit: generated vs train: %w", err)
	}
	dTest, err := NearestDistances(test, train)
	if err != nil {
		return CopyAudit{}, fmt.Errorf("audit: test vs train: %w", err)
	}
	var a CopyAudit
	if a.Generated, err = QuantilesOf(dGen); err != nil {
		return CopyAudit{}, err
	}
	if a.Test, err = QuantilesOf(dTest); err != nil {
		return CopyAudit{}, err
	}
	a.Threshold = a.Test.P1
	n := 0
	for _, d := range dGen {
		if d < a.Threshold || d == 0 {
			n++
		}
	}
	a.CopyShare = float64(n) / float64(len(dGen))
	return a, nil
}

// NearestDistances returns, for every row of queries, the Euclidean distance to its nearest
// row of ref (brute force, accumulated in float64).
func NearestDistances(queries, ref metrics.Matrix) ([]float64, error) {
	_, d, err := nearest(queries, ref)
	return d, err
}

// nearest returns, for every row of q, the index of its nearest row of ref (the lowest index
// on ties) and the Euclidean distance to it.
func nearest(q, ref metrics.Matrix) ([]int, []float64, error) {
	if err := checkFeatures("query features", q); err != nil {
		return nil, nil, err
	}
	if err := checkFeatures("reference features", ref); err != nil {
		return nil, nil, err
	}
	if q.Cols != ref.Cols {
		return nil, nil, fmt.Errorf("audit: query features have %d columns but reference features %d", q.Cols, ref.Cols)
	}
	idx := make([]int, q.Rows)
	dist := make([]float64, q.Rows)
	for i := range q.Rows {
		a := q.Row(i)
		best, bestJ := math.Inf(1), -1
		for j := range ref.Rows {
			b := ref.Row(j)
			var s float64
			for k, v := range a {
				d := float64(v) - float64(b[k])
				s += d * d
				if s >= best {
					break
				}
			}
			if s < best {
				best, bestJ = s, j
			}
		}
		idx[i], dist[i] = bestJ, math.Sqrt(best)
	}
	return idx, dist, nil
}

// checkFeatures validates a feature matrix (shape and finite values) through metrics.NewMatrix.
func checkFeatures(name string, m metrics.Matrix) error {
	if _, err := metrics.NewMatrix(m.Rows, m.Cols, m.Data); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// CorpusIndex is a suffix array over a training corpus, for finding the verbatim text a
// generation shares with it.
type CorpusIndex struct {
	corpus []byte
	index  *suffixarray.Index
}

// NewCorpusIndex indexes corpus (O(n) memory and time, index/suffixarray).
func NewCorpusIndex(corpus string) (*CorpusIndex, error) {
	if corpus == "" {
		return nil, fmt.Errorf("audit: cannot index an empty corpus")
	}
	b := []byte(corpus)
	return &CorpusIndex{corpus: b, index: suffixarray.New(b)}, nil
}

// CopiedSpan is the longest piece of a generated text found verbatim in the corpus.
type CopiedSpan struct {
	Text  string
	Start int // byte offset in the generated text
	Runes int // length in characters
	// CorpusOffset is one byte offset where Text occurs in the corpus (-1 if Text is empty).
	CorpusOffset int
}

// LongestCopied returns the longest substring of text that occurs verbatim in the corpus,
// on character (rune) boundaries; the first one found on ties, and an empty span if no
// character of text occurs at all. It walks the text once, using that the longest match
// starting one character later is at most one character shorter, so it needs O(len(text))
// suffix-array look-ups of O(m·log n) each. A long span (dozens of characters beyond what the
// templates or common phrases explain) suggests regurgitated training text.
func (c *CorpusIndex) LongestCopied(text string) (CopiedSpan, error) {
	if !utf8.ValidString(text) {
		return CopiedSpan{}, fmt.Errorf("audit: generated text is not valid UTF-8")
	}
	// bounds[k] is the byte offset of the k-th rune; bounds[len] = len(text).
	var bounds []int
	for i := range text {
		bounds = append(bounds, i)
	}
	bounds = append(bounds, len(text))
	best := CopiedSpan{CorpusOffset: -1}
	occurs := func(s string) int {
		if hits := c.index.Lookup([]byte(s), 1); len(hits) > 0 {
			return hits[0]
		}
		return -1
	}
	n := len(bounds) - 1 // runes
	l := 0               // runes matched from position i on
	for i := 0; i < n; i++ {
		if l > 0 {
			l-- // the match from i−1 minus its first rune still occurs
		}
		for i+l < n && occurs(text[bounds[i]:bounds[i+l+1]]) >= 0 {
			l++
		}
		if l > best.Runes {
			s := text[bounds[i]:bounds[i+l]]
			best = CopiedSpan{Text: s, Start: bounds[i], Runes: l, CorpusOffset: occurs(s)}
		}
	}
	return best, nil
}
