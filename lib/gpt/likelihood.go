package gpt

import (
	"fmt"

	"github.com/gomlx/gomlx/core/tensors"
	"github.com/iagen-course/iagen/lib/data"
)

// LogLikelihood returns the exact log-likelihood, in nats, of each text under the model:
//
//	log p(x_1..x_{n−1} | x_0) = Σ_{t=1}^{n−1} log p(x_t | x_{max(0, t−Context)} … x_{t−1}),
//
// every character predicted from all the characters before it that the model can see (at most
// Context). The first character is context only: the model has no start-of-text symbol, so
// prefix a newline to score a corpus line from its start. The first Context predictions come
// from one window, each later one from the window of the Context characters before it, all on
// the evaluation computation of Evaluate (the per-position NLL of nll). A text that is empty or
// has a character outside the vocabulary is an error.
func (m *Model) LogLikelihood(texts []string) ([]float64, error) {
	vocab, err := m.Vocab()
	if err != nil {
		return nil, err
	}
	ids, err := EncodeTexts(vocab, texts)
	if err != nil {
		return nil, fmt.Errorf("gpt: %w", err)
	}
	ctx := m.Context
	var windows []ScoredWindow
	for i, x := range ids {
		n := min(len(x)-1, ctx)
		windows = append(windows, ScoredWindow{Text: i, Tokens: x[:n], Targets: x[1 : n+1]})
		for t := ctx + 1; t < len(x); t++ { // x_t from x_{t−ctx} … x_{t−1}: only the last position counts
			windows = append(windows, ScoredWindow{Text: i, Tokens: x[t-ctx : t], Targets: x[t-ctx+1 : t+1], From: ctx - 1})
		}
	}
	return SumLogLikelihood(windows, len(texts), m.EvalBatch, ctx, func(in, tg *tensors.Tensor) (*tensors.Tensor, error) {
		out, err := m.eval.Call(in, tg)
		if err != nil {
			return nil, err
		}
		return out[0], nil
	})
}

// EncodeTexts encodes each text with vocab; an empty text is an error.
func EncodeTexts(vocab *data.Vocab, texts []string) ([][]int32, error) {
	out := make([][]int32, len(texts))
	for i, s := range texts {
		ids, err := vocab.Encode(s)
		if err != nil {
			return nil, fmt.Errorf("text %d: %w", i, err)
		}
		if len(ids) == 0 {
			return nil, fmt.Errorf("text %d is empty: a log-likelihood needs at least its first character as context", i)
		}
		out[i] = ids
	}
	return out, nil
}

// ScoredWindow is one row of a log-likelihood computation: Tokens predict Targets (as long as
// Tokens, at most the row length), and the predictions at positions From… count towards text
// number Text.
type ScoredWindow struct {
	Text            int
	Tokens, Targets []int32
	From            int
}

// SumLogLikelihood runs windows through nll in batches of rows×length (zero-padded: a causal
// model's predictions at a position do not depend on later ones) and returns, for each of texts
// texts, the sum of −NLL over the positions its windows score. nll maps int32 tokens and
// targets [rows, length] to the float32 NLL of each target [rows, length] (the evaluation
// computation of gpt and lstm).
func SumLogLikelihood(windows []ScoredWindow, texts, rows, length int, nll func(in, tg *tensors.Tensor) (*tensors.Tensor, error)) ([]float64, error) {
	ll := make([]float64, texts)
	for start := 0; start < len(windows); start += rows {
		batch := windows[start:min(start+rows, len(windows))]
		in, tg := make([]int32, rows*length), make([]int32, rows*length)
		for b, w := range batch {
			if len(w.Tokens) > length || len(w.Targets) != len(w.Tokens) {
				return nil, fmt.Errorf("window of %d tokens and %d targets in rows of %d", len(w.Tokens), len(w.Targets), length)
			}
			copy(in[b*length:], w.Tokens)
			copy(tg[b*length:], w.Targets)
		}
		out, err := nll(tensors.FromFlatDataAndDimensions(in, rows, length), tensors.FromFlatDataAndDimensions(tg, rows, length))
		if err != nil {
			return nil, err
		}
		v := tensors.MustCopyFlatData[float32](out)
		_ = out.FinalizeAll()
		for b, w := range batch {
			for t := w.From; t < len(w.Tokens); t++ {
				ll[w.Text] -= float64(v[b*length+t])
			}
		}
	}
	return ll, nil
}
