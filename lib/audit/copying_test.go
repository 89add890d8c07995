package audit

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/iagen-course/iagen/lib/metrics"
)

func TestNearestDistances(t *testing.T) {
	train := metrics.Matrix{Rows: 2, Cols: 2, Data: []float32{0, 0, 10, 0}}
	q := metrics.Matrix{Rows: 3, Cols: 2, Data: []float32{3, 4, 9, 0, -1, 0}}
	d, err := NearestDistances(q, train)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{5, 1, 1} {
		near(t, "distance", d[i], want, 1e-12)
	}
	_, err = NearestDistances(q, metrics.Matrix{Rows: 1, Cols: 3, Data: []float32{0, 0, 0}})
	oneLineError(t, "widths", err, "2 columns but reference features 3")
	_, err = NearestDistances(metrics.Matrix{Rows: 1, Cols: 2, Data: []float32{1}}, train)
	oneLineError(t, "short data", err, "query features")
}

func TestQuantilesOf(t *testing.T) {
	xs := make([]float64, 101)
	for i := range xs {
		xs[len(xs)-1-i] = float64(i) // reversed: QuantilesOf sorts a copy
	}
	q, err := QuantilesOf(xs)
	if err != nil {
		t.Fatal(err)
	}
	if q != (Quantiles{Min: 0, P1: 1, P5: 5, P25: 25, Median: 50, P75: 75, P95: 95, Max: 100}) || xs[0] != 100 {
		t.Errorf("quantiles of 0…100: %+v", q)
	}
	q, _ = QuantilesOf([]float64{0, 10})
	near(t, "interpolated median", q.Median, 5, 1e-12)
	_, err = QuantilesOf(nil)
	oneLineError(t, "empty", err, "no values")
}

func TestAuditCopying(t *testing.T) {
	train := gaussian(400, 8, 0, 1)
	test := gaussian(200, 8, 0, 2)
	// A generator that copies its training data: every sample at distance 0.
	copies := metrics.Matrix{Rows: 100, Cols: 8, Data: train.Data[:100*8]}
	a, err := AuditCopying(copies, test, train)
	if err != nil {
		t.Fatal(err)
	}
	if a.CopyShare != 1 || a.Generated.Max != 0 || a.Threshold <= 0 {
		t.Errorf("copying generator: share %v, max distance %v, threshold %v", a.CopyShare, a.Generated.Max, a.Threshold)
	}
	// A generator with the data distribution, but new samples: about 1 % below the threshold.
	fresh := gaussian(400, 8, 0, 3)
	a, err = AuditCopying(fresh, test, train)
	if err != nil {
		t.Fatal(err)
	}
	if a.CopyShare > 0.05 || a.Generated.Median < 0.7*a.Test.Median {
		t.Errorf("fresh generator: share %v, median %v vs test median %v", a.CopyShare, a.Generated.Median, a.Test.Median)
	}
	_, err = AuditCopying(fresh, metrics.Matrix{}, train)
	oneLineError(t, "empty test", err, "test vs train")
}

// longestNaive is the O(n³) definition of LongestCopied's length in runes.
func longestNaive(corpus, text string) int {
	r := []rune(text)
	best := 0
	for i := range r {
		for j := i + 1; j <= len(r); j++ {
			if j-i > best && strings.Contains(corpus, string(r[i:j])) {
				best = j - i
			}
		}
	}
	return best
}

func TestLongestCopied(t *testing.T) {
	idx, err := NewCorpusIndex("el enfermero llegó pronto.\nla médica abrió la puerta.\n")
	if err != nil {
		t.Fatal(err)
	}
	s, err := idx.LongestCopied("ayer el enfermero llegó tarde")
	if err != nil {
		t.Fatal(err)
	}
	if s.Text != "el enfermero llegó " || s.Runes != 19 || s.Start != 5 || s.CorpusOffset != 0 {
		t.Errorf("span %+v", s)
	}
	s, _ = idx.LongestCopied("xyz")
	if s.Text != "" || s.Runes != 0 || s.CorpusOffset != -1 {
		t.Errorf("no overlap: %+v", s)
	}
	// Against the definition, on random texts over a small alphabet with a two-byte rune.
	r := rand.New(rand.NewPCG(7, 7))
	alphabet := []rune("abñ ")
	randText := func(n int) string {
		var b strings.Builder
		for range n {
			b.WriteRune(alphabet[r.IntN(len(alphabet))])
		}
		return b.String()
	}
	for range 50 {
		corpus, text := randText(200), randText(40)
		idx, _ := NewCorpusIndex(corpus)
		s, err := idx.LongestCopied(text)
		if err != nil {
			t.Fatal(err)
		}
		want := longestNaive(corpus, text)
		if s.Runes != want || utf8.RuneCountInString(s.Text) != want || !strings.Contains(corpus, s.Text) ||
			corpus[s.CorpusOffset:s.CorpusOffset+len(s.Text)] != s.Text || text[s.Start:s.Start+len(s.Text)] != s.Text {
			t.Fatalf("corpus %q text %q: span %+v, want %d runes", corpus, text, s, want)
		}
	}
	_, err = NewCorpusIndex("")
	oneLineError(t, "empty corpus", err, "empty corpus")
	_, err = idx.LongestCopied("a\xffb")
	oneLineError(t, "bad UTF-8", err, "UTF-8")
}
