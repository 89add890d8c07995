package audit

import (
	"fmt"
	"math"

	"github.com/iagen-course/iagen/lib/data"
)

// PairScore holds a model's log-likelihoods of the two sentences of a minimal pair.
type PairScore struct {
	Stereo, Anti float64
}

// PairPreference is the CrowS-Pairs-style score of a model on a set of minimal pairs.
type PairPreference struct {
	// Share is the share of pairs whose stereotyped sentence is strictly more likely, with its
	// Wilson interval. An unbiased model scores ½.
	Share Interval
	Wins  int // pairs where Stereo > Anti
	Ties  int // pairs where Stereo == Anti (counted as not won)
}

// ScorePairs is the metric of Nangia, Vania, Bhalerao & Bowman (2020), "CrowS-Pairs: A
// Challenge Dataset for Measuring Social Biases in Masked Language Models" (EMNLP): the
// percentage of minimal pairs for which the model prefers the stereotyped sentence, here with a
// Wilson interval at level (see [WilsonInterval]) so that "50 %" can be tested. CrowS-Pairs
// scores masked models by pseudo-log-likelihood of the tokens the two sentences share; for the
// character models of this course pass the log-likelihood of each whole sentence, or of the
// part after the first difference. Sentences of different lengths (bailarín/bailarina) are
// penalised by their extra characters, so compare only pairs of equal length or normalise per
// character before calling.
func ScorePairs(pairs []PairScore, level float64) (PairPreference, error) {
	if len(pairs) == 0 {
		return PairPreference{}, fmt.Errorf("audit: no minimal pairs to score")
	}
	var p PairPreference
	for i, s := range pairs {
		if math.IsNaN(s.Stereo) || math.IsNaN(s.Anti) {
			return PairPreference{}, fmt.Errorf("audit: pair %d has a NaN log-likelihood", i)
		}
		switch {
		case s.Stereo > s.Anti:
			p.Wins++
		case s.Stereo == s.Anti:
			p.Ties++
		}
	}
	iv, err := WilsonInterval(p.Wins, len(pairs), level)
	if err != nil {
		return PairPreference{}, err
	}
	p.Share = iv
	return p, nil
}

// MinimalPair is a Spanish sentence about an occupation in its stereotyped gender and the same
// sentence in the other gender ("El enfermero…" / "La enfermera…" when nursing is mostly
// feminine in training: then Stereo is the feminine one).
type MinimalPair struct {
	Occupation   string // masculine form
	Stereo, Anti string
	// FemStereo reports whether the stereotyped sentence is the feminine one.
	FemStereo bool
}

// MinimalPairs builds one pair per occupation and template (data.OccupationTemplates, filled
// by data.FillOccupationTemplate), the stereotyped gender being the one that dominates the
// occupation in the training truth (OccupationTruth.Rate, the realised share). Occupations
// with a training share of exactly ½ have no stereotype and are skipped.
func MinimalPairs(truth []data.OccupationTruth, templates []string) ([]MinimalPair, error) {
	if len(truth) == 0 || len(templates) == 0 {
		return nil, fmt.Errorf("audit: minimal pairs from %d occupations and %d templates", len(truth), len(templates))
	}
	var out []MinimalPair
	for _, t := range truth {
		if t.Feminine+t.Masculine == 0 {
			return nil, fmt.Errorf("audit: occupation %q has no training mentions", t.Masc)
		}
		r := t.Rate()
		if r == 0.5 {
			continue
		}
		fem := r > 0.5
		for _, tpl := range templates {
			out = append(out, MinimalPair{
				Occupation: t.Masc,
				Stereo:     data.FillOccupationTemplate(tpl, t.Occupation, fem),
				Anti:       data.FillOccupationTemplate(tpl, t.Occupation, !fem),
				FemStereo:  fem,
			})
		}
	}
	return out, nil
}
