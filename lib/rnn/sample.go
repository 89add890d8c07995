package rnn

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/iagen-course/iagen/lib/gpt"
)

// stepOne is one step of the network for generation: token [B] (int32) read with the state
// (h of every layer, then c of every layer for the LSTM, each [B, H]); it returns the logits of
// the next character [B, V] and the new state, in the same order. Its cost does not depend on
// how many characters came before.
func (n network) stepOne(w params, token *graph.Node, state []*graph.Node) (logits *graph.Node, next []*graph.Node) {
	x := graph.Gather(w.embed, graph.InsertAxes(token, -1)) // [B, Emb]
	hs, cs := make([]*graph.Node, n.layers), make([]*graph.Node, n.layers)
	for l := range n.layers {
		var c *graph.Node
		if n.cell.HasCellState() {
			c = state[n.layers+l]
		}
		p := affine(x, w.w[l], w.bx[l])
		q := affine(state[l], w.r[l], w.bh[l])
		hs[l], cs[l], _ = n.cell.step(p, q, state[l], c)
		x = hs[l]
	}
	if n.cell.HasCellState() {
		hs = append(hs, cs...)
	}
	return affine(x, w.headW, w.headB), hs
}

// zeroState returns the initial state of rows sequences for stepOne.
func (n network) zeroState(rows int) []*tensors.Tensor {
	k := n.layers
	if n.cell.HasCellState() {
		k *= 2
	}
	out := make([]*tensors.Tensor, k)
	for i := range out {
		out[i] = tensors.FromShape(shapes.Make(dtypes.Float32, rows, n.hidden))
	}
	return out
}

// GenerateOptions controls Generate.
type GenerateOptions struct {
	gpt.Sampling       // the zero value is greedy decoding
	Rows         int   // independent continuations of the prompt, generated as one batch (default 1)
	Seed         int64 // seeds the draws: the same seed and settings give the same text
}

// Generate continues prompt with n characters drawn from the model, Rows times, and returns the
// continuations (without the prompt). Characters of prompt outside the vocabulary are an error.
//
// The state starts at zero (as in training), reads the prompt one character at a time, and then
// each drawn character is fed back: every character costs one compiled step (stepOne), the
// same for the first as for the thousandth — the recurrent state is all the model keeps of the
// past. (The model was trained on windows of Context characters; it runs on past them, but
// what it learned of longer spans is only what fit in a window.)
func (m *Model) Generate(prompt string, n int, o GenerateOptions) ([]string, error) {
	if err := o.Sampling.Check(); err != nil {
		return nil, err
	}
	ids, err := m.vocab.Encode(prompt)
	if err != nil {
		return nil, fmt.Errorf("rnn: prompt: %w", err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("rnn: the prompt must hold at least one character")
	}
	rows := max(o.Rows, 1)
	r := rand.New(rand.NewPCG(uint64(o.Seed), 0x726e6e73616d706c)) // "rnnsampl"
	state := m.net.zeroState(rows)
	tok := make([]int32, rows)
	out := make([][]int32, rows)
	defer func() { release(state) }()
	for i := range len(ids) + n - 1 {
		for b := range rows {
			if i < len(ids) {
				tok[b] = ids[i]
			} else {
				tok[b] = out[b][i-len(ids)]
			}
		}
		res, err := m.oneStep.Call(append([]any{tok}, anys(state)...)...)
		if err != nil {
			return nil, err
		}
		release(state)
		state = res[1:]
		if i < len(ids)-1 {
			_ = res[0].FinalizeAll()
			continue
		}
		logits := tensors.MustCopyFlatData[float32](res[0])
		_ = res[0].FinalizeAll()
		for b := range rows {
			out[b] = append(out[b], o.Draw(logits[b*m.net.vocab:(b+1)*m.net.vocab], r))
		}
	}
	texts := make([]string, rows)
	for b := range rows {
		texts[b] = m.vocab.Decode(out[b])
	}
	return texts, nil
}

func anys(ts []*tensors.Tensor) []any {
	out := make([]any, len(ts))
	for i, t := range ts {
		out[i] = t
	}
	return out
}

// release frees tensors now rather than when the garbage collector finds them.
func release(ts []*tensors.Tensor) {
	for _, t := range ts {
		_ = t.FinalizeAll()
	}
}

// SetSampling changes the sampling options of Sample (family.SamplingOptions): the
// gpt.SampleOptions fields temperature, top_k, top_p, prompt and sample_chars, given as a JSON
// object; an unknown field is an error naming it.
func (m *Model) SetSampling(options json.RawMessage) error {
	o := gpt.SampleOptions{Sampling: m.Sampling, Prompt: m.Prompt, SampleChars: m.SampleChars}
	if err := o.Decode(options, "lstm sampling options"); err != nil {
		return err
	}
	c := m.Config
	c.Sampling, c.Prompt, c.SampleChars = o.Sampling, o.Prompt, o.SampleChars
	if err := c.Check(); err != nil {
		return err
	}
	m.Config = c
	return nil
}

// Sample writes n samples to path as UTF-8 text: each is Prompt followed by SampleChars
// characters drawn with the configuration's Sampling (and the model's seed), separated by
// blank lines. The n samples are generated together, as one batch.
func (m *Model) Sample(n int, path string) error {
	if n < 1 {
		return fmt.Errorf("rnn: number of samples must be ≥ 1, got %d", n)
	}
	texts, err := m.Generate(m.Prompt, m.SampleChars, GenerateOptions{Sampling: m.Sampling, Rows: n, Seed: m.seed})
	if err != nil {
		return err
	}
	return gpt.WriteTexts(path, m.Prompt, texts)
}

// MeasureGeneration returns the characters generated per second (all rows counted) for rows
// sequences of n characters after prompt, timed after an untimed run that compiles the step.
func (m *Model) MeasureGeneration(prompt string, rows, n int) (float64, error) {
	o := GenerateOptions{Sampling: m.Sampling, Rows: rows}
	if _, err := m.Generate(prompt, 2, o); err != nil {
		return 0, err
	}
	t0 := time.Now()
	if _, err := m.Generate(prompt, n, o); err != nil {
		return 0, err
	}
	return float64(rows*n) / time.Since(t0).Seconds(), nil
}
