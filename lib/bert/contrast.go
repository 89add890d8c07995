package bert

import (
	"fmt"
	"math"
	"unicode/utf8"

	"github.com/iagen-course/iagen/lib/gpt"
)

// WritingContrast compares the masked model's attempt at writing (GibbsSample) with a GPT's
// (gpt.Model.Generate at temperature 1) on two cheap, honest measures: the share of their words
// found in the training split (KnownWordFraction), and the GPT's own bits per character on each
// text — how surprising the masked model's sentences are to a model of the same corpus that
// does define a probability of text.
type WritingContrast struct {
	Length, Samples, Sweeps int
	BERT, GPT               []string // the texts
	BERTKnownWords          float64
	GPTKnownWords           float64
	GPTBitsOnBERT           float64 // the GPT's bits/char on the masked model's texts
	GPTBitsOnGPT            float64 // … and on its own
}

// CompareWriting writes n texts of length characters (≤ both models' context) with each model
// — the masked one from all-[MASK] with sweeps Gibbs sweeps, the GPT from a space — seeded by
// seed, and measures them (WritingContrast).
func (m *Model) CompareWriting(g *gpt.Model, n, length, sweeps int, seed int64) (WritingContrast, error) {
	if length < 2 || length > g.Context {
		return WritingContrast{}, fmt.Errorf("bert: texts of %d characters: want 2 to %d (the GPT's context)", length, g.Context)
	}
	c := WritingContrast{Length: length, Samples: n, Sweeps: sweeps}
	var err error
	if c.BERT, err = m.GibbsSample(n, length, sweeps, seed); err != nil {
		return c, err
	}
	gen, err := g.Generate(" ", length-1, gpt.GenerateOptions{Sampling: gpt.Sampling{Temperature: 1}, Rows: n, Seed: seed})
	if err != nil {
		return c, err
	}
	for _, s := range gen {
		c.GPT = append(c.GPT, " "+s)
	}
	c.BERTKnownWords, _ = m.KnownWordFraction(c.BERT)
	c.GPTKnownWords, _ = m.KnownWordFraction(c.GPT)
	if c.GPTBitsOnBERT, err = bitsPerChar(g, c.BERT); err != nil {
		return c, err
	}
	c.GPTBitsOnGPT, err = bitsPerChar(g, c.GPT)
	return c, err
}

// bitsPerChar is g's mean −log₂ p(x_t | x_<t) over texts (the first character of each is context).
func bitsPerChar(g *gpt.Model, texts []string) (float64, error) {
	ll, err := g.LogLikelihood(texts)
	if err != nil {
		return 0, err
	}
	var sum float64
	chars := 0
	for i, t := range texts {
		sum -= ll[i]
		chars += utf8.RuneCountInString(t) - 1
	}
	return sum / float64(chars) / math.Ln2, nil
}
