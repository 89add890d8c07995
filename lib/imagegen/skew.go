package imagegen

import (
	"fmt"

	"github.com/iagen-course/iagen/lib/data"
)

// Skew makes an image family train on a deliberately unbalanced training set (data.Skewed): the
// amplification audit measures whether a model's samples keep, dampen or amplify a bias whose
// size is known. Balance trains on the same images with balanced sampling (data.Balanced), the
// mitigation the audit measures beside it. Every image family's configuration has one (`skew`,
// absent: the whole training set).
type Skew struct {
	Groups    [][]int   `json:"groups"`    // labels of each group, e.g. {{0,1,2,3,4},{5,6,7,8,9}}
	Fractions []float64 `json:"fractions"` // each group's share of the images, e.g. {0.9, 0.1}
	N         int       `json:"n"`         // training images drawn
	Seed      int64     `json:"seed"`      // which images are drawn (fixed across training seeds)
	Balance   bool      `json:"balance,omitempty"`
}

// DefaultSkew is the audit's skew: 90 % of digits 0–4 and 10 % of 5–9 among 20,000 MNIST training
// images (the smaller group then has 2,000, enough for every digit to be learned).
func DefaultSkew() Skew {
	return Skew{Groups: [][]int{{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}}, Fractions: []float64{0.9, 0.1}, N: 20000, Seed: 1}
}

// Apply returns the training set of s drawn from im (im itself when s is nil).
func (s *Skew) Apply(im *data.Images) (*data.Images, error) {
	if s == nil {
		return im, nil
	}
	out, err := data.Skewed(im, s.Groups, s.Fractions, s.N, s.Seed)
	if err == nil && s.Balance {
		out, err = data.Balanced(out, s.Groups, s.Seed)
	}
	if err != nil {
		return nil, fmt.Errorf("skew: %w", err)
	}
	return out, nil
}
