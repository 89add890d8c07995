package vae

import (
	"math"

	"github.com/iagen-course/iagen/lib/data"
)

// GreyFraction is a crude measure of blur: the fraction of the pixels of im that are neither
// background nor ink, i.e. strictly between 10% and 90% grey. Binary images score 0 and MNIST's
// own anti-aliased grey digits about 0.08; the Bernoulli means a VAE decodes score far more, because
// a mean hedges wherever the model is unsure whether a pixel is on.
func GreyFraction(im *data.Images) float64 {
	if im == nil || len(im.Pixels) == 0 {
		return math.NaN()
	}
	var n int
	for _, v := range im.Pixels {
		if v > 25 && v < 230 {
			n++
		}
	}
	return float64(n) / float64(len(im.Pixels))
}
