package rnn

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/iagen-course/iagen/lib/gpt"
)

// LogLikelihood returns the exact log-likelihood, in nats, of each text under the model:
//
//	log p(x_1..x_{n−1} | x_0) = Σ_{t=1}^{n−1} log p(x_t | x_0 … x_{t−1}),
//
// the state starting at zero before x_0 and carried over the whole text, as Generate carries it
// (the first character is context only, as in gpt's LogLikelihood: prefix a newline to score a
// corpus line from its start). Each text is one row of the evaluation computation of Evaluate,
// the rows padded to a multiple of Context so that a few lengths are compiled. A text that is
// empty or has a character outside the vocabulary is an error.
func (m *Model) LogLikelihood(texts []string) ([]float64, error) {
	ids, err := gpt.EncodeTexts(m.vocab, texts)
	if err != nil {
		return nil, fmt.Errorf("rnn: %w", err)
	}
	longest := 1
	windows := make([]gpt.ScoredWindow, len(ids))
	for i, x := range ids {
		windows[i] = gpt.ScoredWindow{Text: i, Tokens: x[:len(x)-1], Targets: x[1:]}
		longest = max(longest, len(x)-1)
	}
	length := (longest + m.Context - 1) / m.Context * m.Context
	return gpt.SumLogLikelihood(windows, len(texts), m.EvalBatch, length, func(in, tg *tensors.Tensor) (*tensors.Tensor, error) {
		out, err := m.eval.Call(in, tg)
		if err != nil {
			return nil, err
		}
		return out[0], nil
	})
}
