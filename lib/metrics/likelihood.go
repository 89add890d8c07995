package metrics

import (
	"fmt"
	"math"
)

// LogSumExp returns log Σᵢ exp(xᵢ), computed as m + log Σᵢ exp(xᵢ − m) with m = maxᵢ xᵢ so that
// nothing overflows or underflows to a wrong answer: inputs of ±1000 (where exp overflows or
// returns 0) give exact results. It is −Inf for an empty slice or all −Inf, +Inf if any input is
// +Inf, and NaN if any is NaN.
func LogSumExp(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		if math.IsNaN(v) {
			return math.NaN()
		}
		m = max(m, v)
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return m + math.Log(s)
}

// LogMeanExp returns log((1/n) Σᵢ exp(xᵢ)) = LogSumExp(x) − log n, stably (see LogSumExp); the
// maximum term contributes exp(0) = 1 exactly, so n equal inputs return that input exactly. It is
// NaN for an empty slice.
func LogMeanExp(x []float64) float64 {
	if len(x) == 0 {
		return math.NaN()
	}
	m := math.Inf(-1)
	for _, v := range x {
		if math.IsNaN(v) {
			return math.NaN()
		}
		m = max(m, v)
	}
	if math.IsInf(m, 0) {
		return m
	}
	var s float64
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return m + math.Log(s/float64(len(x)))
}

// IWAEBound is the importance-weighted lower bound on the mean log-likelihood (Burda et al. 2016,
// "Importance Weighted Autoencoders", eq. 8), in nats per example:
//
//	L_K = (1/N) Σₙ log (1/K) Σₖ wₙₖ,   log wₙₖ = log p(xₙ, zₙₖ) − log q(zₙₖ | xₙ),  zₙₖ ~ q(z | xₙ),
//
// given logWeights[n][k] = log wₙₖ. L_K ≤ log p(x), increasing in K (Burda et al., Theorem 1);
// with K = 1 it is the ELBO. The NLL reported as test_nll_nats is −L_K (an upper bound on the
// true NLL). Every example needs the same K ≥ 1 and finite or −Inf log-weights.
func IWAEBound(logWeights [][]float64) (float64, error) {
	per, err := IWAEBounds(logWeights)
	if err != nil {
		return 0, err
	}
	var s float64
	for _, v := range per {
		s += v
	}
	return s / float64(len(per)), nil
}

// IWAEBounds is IWAEBound per example: log (1/K) Σₖ wₙₖ for every n.
func IWAEBounds(logWeights [][]float64) ([]float64, error) {
	if len(logWeights) == 0 {
		return nil, fmt.Errorf("metrics: IWAE bound of no examples")
	}
	k := len(logWeights[0])
	if k == 0 {
		return nil, fmt.Errorf("metrics: IWAE bound with K = 0 importance samples")
	}
	out := make([]float64, len(logWeights))
	for n, w := range logWeights {
		if len(w) != k {
			return nil, fmt.Errorf("metrics: example %d has %d importance samples, example 0 has %d", n, len(w), k)
		}
		for j, v := range w {
			if math.IsNaN(v) || math.IsInf(v, 1) {
				return nil, fmt.Errorf("metrics: log-weight [%d][%d] = %v", n, j, v)
			}
		}
		out[n] = LogMeanExp(w)
	}
	return out, nil
}

// NatsToBits converts nats to bits: b = n / ln 2.
func NatsToBits(nats float64) float64 { return nats / math.Ln2 }

// BitsToNats converts bits to nats: n = b · ln 2.
func BitsToNats(bits float64) float64 { return bits * math.Ln2 }

// BitsPerDim converts the negative log-likelihood of one example, in nats, to bits per dimension:
// nll / (D · ln 2). The likelihood must already be in the space the number is quoted for (for
// images, discrete 8-bit pixels or, equivalently, a density on [0, 256)^D); a model trained on
// rescaled pixels needs BitsPerDimRescaled. NaN unless dims ≥ 1.
func BitsPerDim(nllNats float64, dims int) float64 {
	if dims < 1 {
		return math.NaN()
	}
	return nllNats / (float64(dims) * math.Ln2)
}

// NatsFromBitsPerDim is the inverse of BitsPerDim: the NLL of one D-dimensional example in nats,
// bits/dim · D · ln 2 (in whatever space the bits/dim were quoted). NaN unless dims ≥ 1.
func NatsFromBitsPerDim(bitsPerDim float64, dims int) float64 {
	if dims < 1 {
		return math.NaN()
	}
	return bitsPerDim * float64(dims) * math.Ln2
}

// BitsPerDimRescaled is bits/dim in 8-bit pixel space for a continuous model whose data are the
// dequantized pixels x ∈ [0, 256)^D mapped by y = scale·x + shift (per dimension), given the
// model's NLL of y in nats, −log p_Y(y).
//
// Change of variables: p_X(x) = p_Y(y)·|dy/dx| = p_Y(y)·scaleᴰ, so
//
//	−log p_X(x) = −log p_Y(y) − D·log scale,
//	bits/dim    = −log p_Y(y) / (D·ln 2) − log₂ scale.
//
// For data scaled to [0, 1] (y = x/256) the correction is −log₂(1/256) = +8: it is added, which
// is why a model on [0, 1] can report a negative −log p_Y yet a positive bits/dim; a uniform
// density on [0, 1]^D (−log p_Y = 0) gives exactly 8 bits/dim, the cost of 256 equally likely
// levels. For [−1, 1] (y = x/128 − 1) it is +7. Any further invertible preprocessing (the
// flow's logit transform) must add its own log|det J| to the NLL before this conversion.
// NaN unless dims ≥ 1 and scale > 0.
func BitsPerDimRescaled(nllNats float64, dims int, scale float64) float64 {
	if dims < 1 || !(scale > 0) {
		return math.NaN()
	}
	return nllNats/(float64(dims)*math.Ln2) - math.Log2(scale)
}

// NatsPerChar is the mean NLL per scored character, totalNats / chars (BENCH.md: text
// validation). NaN unless chars ≥ 1.
func NatsPerChar(totalNats float64, chars int) float64 {
	if chars < 1 {
		return math.NaN()
	}
	return totalNats / float64(chars)
}

// BitsPerChar converts nats per character to bits per character (÷ ln 2).
func BitsPerChar(natsPerChar float64) float64 { return natsPerChar / math.Ln2 }

// Perplexity is exp(nats per character) = 2^(bits per character): the size of a uniform
// alphabet that would be as hard to predict.
func Perplexity(natsPerChar float64) float64 { return math.Exp(natsPerChar) }
