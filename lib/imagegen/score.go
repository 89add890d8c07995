package imagegen

import (
	"fmt"
	"time"

	"github.com/gomlx/compute"
	"github.com/iagen-course/iagen/lib/classifier"
	"github.com/iagen-course/iagen/lib/metrics"
	"github.com/iagen-course/iagen/lib/train"
)

// ReferenceProfile is the reference classifier's profile that scores an evaluation of n samples:
// the quick ci classifier for the seconds-long evaluations of ci runs (fewer than 2,000 samples),
// the ≥ 99 % CNN for everything that reports numbers.
func ReferenceProfile(n int) string {
	if n < 2000 {
		return "ci"
	}
	return "small"
}

// Scorer scores an image family's samples in the reference classifier's feature space. It
// keeps one yardstick per reference profile and sample count (the real images' features are
// computed once), so a yardstick of one profile is never used for another.
type Scorer struct {
	backend compute.Backend
	dataDir string
	cache   map[yardstickKey]*classifier.Yardstick
	// newYardstick builds a yardstick (classifier.NewYardstick; replaced in tests).
	newYardstick func(b compute.Backend, dataDir, profile string, n int) (*classifier.Yardstick, error)
}

type yardstickKey struct {
	profile string
	n       int
}

// NewScorer returns a scorer whose reference classifiers run on b, with data from dataDir.
func NewScorer(b compute.Backend, dataDir string) *Scorer {
	return &Scorer{backend: b, dataDir: dataDir, cache: map[yardstickKey]*classifier.Yardstick{},
		newYardstick: classifier.NewYardstick}
}

// Yardstick returns the yardstick for n samples (see ReferenceProfile), built on first use (the
// first use of a profile may train its reference classifier, see classifier.Reference).
func (s *Scorer) Yardstick(n int) (*classifier.Yardstick, error) {
	key := yardstickKey{ReferenceProfile(n), n}
	if y, ok := s.cache[key]; ok {
		return y, nil
	}
	y, err := s.newYardstick(s.backend, s.dataDir, key.profile, n)
	if err != nil {
		return nil, err
	}
	s.cache[key] = y
	return y, nil
}

// Report scores n images of g drawn with EvalSeed against as many training and test images
// (metrics.ImageReport: Fréchet distance and its real-vs-real baseline, KID, precision/recall,
// density/coverage, the class histograms).
func (s *Scorer) Report(g Generator, n int) (metrics.ImageReport, error) {
	rep, _, err := s.report(g, n)
	return rep, err
}

// report is Report and the seconds g took to draw the n images, its sampler compiled beforehand
// by drawing one image.
func (s *Scorer) report(g Generator, n int) (metrics.ImageReport, float64, error) {
	if n <= 0 {
		return metrics.ImageReport{}, 0, fmt.Errorf("the number of evaluation samples must be > 0, got %d", n)
	}
	y, err := s.Yardstick(n)
	if err != nil {
		return metrics.ImageReport{}, 0, err
	}
	if _, err := g.Samples(1, EvalSeed); err != nil {
		return metrics.ImageReport{}, 0, err
	}
	t0 := time.Now()
	samples, err := g.Samples(n, EvalSeed)
	if err != nil {
		return metrics.ImageReport{}, 0, err
	}
	seconds := time.Since(t0).Seconds()
	rep, err := y.Evaluate(samples)
	return rep, seconds, err
}

// Evaluate is Report as the metrics.json fields of every image family, with eval_samples (n) and
// sample_seconds, the time to draw them: the sampling speed the comparison reports.
func (s *Scorer) Evaluate(g Generator, n int) (train.Metrics, error) {
	rep, seconds, err := s.report(g, n)
	if err != nil {
		return nil, err
	}
	return append(classifier.Metrics(rep), train.Metric{Name: "eval_samples", Value: float64(n)},
		train.Metric{Name: "sample_seconds", Value: seconds}), nil
}
