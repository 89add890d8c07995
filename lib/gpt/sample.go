package gpt

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/train"
)

// Sampling says how the next character is drawn from the model's distribution
// p_i = softmax(logits)_i. The three controls are applied in this order:
//
//	temperature τ  p_i ∝ exp(logit_i / τ): τ < 1 sharpens (safer, more repetitive), τ > 1 flattens;
//	               τ = 0 is greedy decoding (always the most likely character)
//	top-k          keep only the k most likely characters (0: all)
//	top-p          nucleus sampling (Holtzman et al. 2020, "The Curious Case of Neural Text
//	               Degeneration"): keep the smallest set of most likely characters whose total
//	               probability reaches p (0 or 1: all), cutting the unreliable tail
//
// and the kept probabilities are renormalized before the draw.
type Sampling struct {
	Temperature float64 `json:"temperature"`
	TopK        int     `json:"top_k,omitempty"`
	TopP        float64 `json:"top_p,omitempty"`
}

// Check reports settings that make no sense.
func (s Sampling) Check() error {
	if s.Temperature < 0 || s.TopK < 0 || s.TopP < 0 || s.TopP > 1 || math.IsNaN(s.Temperature) || math.IsNaN(s.TopP) {
		return fmt.Errorf("gpt: sampling needs temperature ≥ 0, top_k ≥ 0 and top_p in [0, 1]; got %+v", s)
	}
	return nil
}

// Distribution returns the probabilities the sampler draws from, given logits: temperature,
// then top-k, then top-p, renormalized (zero for the characters cut).
func (s Sampling) Distribution(logits []float32) []float64 {
	p := make([]float64, len(logits))
	if s.Temperature == 0 { // greedy: all the mass on the arg-max
		p[argmax(logits)] = 1
		return p
	}
	mx := float64(logits[argmax(logits)])
	var sum float64
	for i, l := range logits {
		p[i] = math.Exp((float64(l) - mx) / s.Temperature)
		sum += p[i]
	}
	order := make([]int, len(p)) // ids by decreasing probability (ties by id: deterministic)
	for i := range order {
		order[i] = i
		p[i] /= sum
	}
	sort.SliceStable(order, func(a, b int) bool { return p[order[a]] > p[order[b]] })
	keep := len(order)
	if s.TopK > 0 && s.TopK < keep {
		keep = s.TopK
	}
	if s.TopP > 0 && s.TopP < 1 {
		var cum float64
		for i := range keep {
			cum += p[order[i]]
			if cum >= s.TopP {
				keep = i + 1
				break
			}
		}
	}
	sum = 0
	for _, id := range order[keep:] {
		p[id] = 0
	}
	for _, id := range order[:keep] {
		sum += p[id]
	}
	for _, id := range order[:keep] {
		p[id] /= sum
	}
	return p
}

// Draw samples a character id from logits with r.
func (s Sampling) Draw(logits []float32, r *rand.Rand) int32 {
	p := s.Distribution(logits)
	u := r.Float64()
	var cum float64
	last := 0
	for i, q := range p {
		if q == 0 {
			continue
		}
		cum += q
		last = i
		if u < cum {
			return int32(i)
		}
	}
	return int32(last) // rounding: u ≥ Σp
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// GenerateOptions controls Generate.
type GenerateOptions struct {
	Sampling       // the zero value is greedy decoding
	Rows     int   // independent continuations of the prompt, generated as one batch (default 1)
	Seed     int64 // seeds the draws: the same seed and settings give the same text
	NoCache  bool  // recompute the whole context for every character (the baseline the cache beats)
}

// Generate continues prompt with n characters drawn from the model, Rows times, and returns the
// continuations (without the prompt). Characters of prompt outside the vocabulary are an error.
//
// The model sees at most Context characters. With the key/value cache (the default), the prompt
// is run once (prefill) and each new character costs one position: its key and value are
// appended to every layer's cache and its query attends to the cached ones. When the window is
// full, the cache restarts from the last Context/2 characters (one prefill), so the model always
// sees between Context/2 and Context characters. With NoCache, every character recomputes the
// whole window of the last Context characters (as nanoGPT's generate does): up to Context times
// the arithmetic (MeasureGeneration measures what that costs in time).
func (m *Model) Generate(prompt string, n int, o GenerateOptions) ([]string, error) {
	if err := o.Sampling.Check(); err != nil {
		return nil, err
	}
	vocab, err := m.Vocab()
	if err != nil {
		return nil, err
	}
	ids, err := vocab.Encode(prompt)
	if err != nil {
		return nil, fmt.Errorf("gpt: prompt: %w", err)
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("gpt: the prompt must hold at least one character")
	}
	rows := max(o.Rows, 1)
	r := rand.New(rand.NewPCG(uint64(o.Seed), 0x67707473616d706c)) // "gptsampl"
	seqs := make([][]int32, rows)
	for b := range seqs {
		seqs[b] = slices.Clone(ids)
	}
	g := &generator{m: m, rows: rows, seqs: seqs}
	for range n {
		var logits [][]float32
		if o.NoCache {
			logits, err = g.full()
		} else {
			logits, err = g.cached()
		}
		if err != nil {
			return nil, err
		}
		for b := range rows {
			seqs[b] = append(seqs[b], o.Draw(logits[b], r))
		}
	}
	g.release()
	out := make([]string, rows)
	for b := range rows {
		out[b] = vocab.Decode(seqs[b][len(ids):])
	}
	return out, nil
}

// generator keeps the state of one Generate call.
type generator struct {
	m      *Model
	rows   int
	seqs   [][]int32         // every row's characters so far (all the same length)
	start  int               // first character of the cached window
	filled int               // characters of the window already in the cache (0: prefill needed)
	caches []*tensors.Tensor // 2·Layers tensors [rows, Context, H, headDim]
}

// window returns the last characters of every row from start, padded with zeros to Context.
func (g *generator) window(start int) *tensors.Tensor {
	ctx := g.m.Context
	flat := make([]int32, g.rows*ctx)
	for b, s := range g.seqs {
		copy(flat[b*ctx:(b+1)*ctx], s[start:])
	}
	return tensors.FromFlatDataAndDimensions(flat, g.rows, ctx)
}

// full returns the next-character logits of every row by running the whole window of the last
// Context characters (no cache).
func (g *generator) full() ([][]float32, error) {
	n := len(g.seqs[0])
	start := max(0, n-g.m.Context)
	out, err := g.m.prefill.Call(g.window(start), int32(n-1-start))
	if err != nil {
		return nil, err
	}
	for _, c := range out[1:] { // the keys and values are not used without the cache
		_ = c.FinalizeAll()
	}
	return g.rowsOf(out[0]), nil
}

// cached returns the next-character logits of every row, extending the KV cache by the newest
// character, or (re)filling it when empty or full.
func (g *generator) cached() ([][]float32, error) {
	n, ctx := len(g.seqs[0]), g.m.Context
	if g.filled > 0 && n-g.start > ctx { // window full: keep the last ctx/2 characters
		g.filled = 0
	}
	if g.filled == 0 {
		g.start = max(0, n-ctx)
		if n-g.start == ctx && n > ctx {
			g.start = n - ctx/2
		}
		out, err := g.m.prefill.Call(g.window(g.start), int32(n-1-g.start))
		if err != nil {
			return nil, err
		}
		g.release()
		g.caches, g.filled = out[1:], n-g.start
		return g.rowsOf(out[0]), nil
	}
	// One new character per row, at window position n−1−start.
	tok := make([]int32, g.rows)
	for b, s := range g.seqs {
		tok[b] = s[n-1]
	}
	in := []any{tok, int32(n - 1 - g.start)}
	for _, c := range g.caches {
		// Donated: the computation may update the cache in place, and the old one is not kept
		// alive until the garbage collector runs (16 MB a character for 64 rows of the bench
		// model otherwise).
		d, err := graph.DonateTensorBuffer(c, g.m.backend, 0)
		if err != nil {
			return nil, err
		}
		in = append(in, d)
	}
	g.caches = nil
	out, err := g.m.decodeExec.Call(in...)
	if err != nil {
		return nil, err
	}
	g.caches, g.filled = out[1:], n-g.start
	return g.rowsOf(out[0]), nil
}

// release frees the cache tensors now rather than when the garbage collector finds them.
func (g *generator) release() {
	for _, c := range g.caches {
		_ = c.FinalizeAll()
	}
	g.caches = nil
}

// rowsOf copies the logits [rows, V] to the host (and frees t).
func (g *generator) rowsOf(t *tensors.Tensor) [][]float32 {
	flat := tensors.MustCopyFlatData[float32](t)
	_ = t.FinalizeAll()
	v := g.m.vocabSize
	out := make([][]float32, g.rows)
	for b := range out {
		out[b] = flat[b*v : (b+1)*v]
	}
	return out
}

// SampleOptions are the fields of a character model's configuration that `iagen sample --set`
// may change: temperature, top_k, top_p (Sampling), prompt and sample_chars. The lstm family
// shares them.
type SampleOptions struct {
	Sampling           // temperature, top_k, top_p
	Prompt      string `json:"prompt"`
	SampleChars int    `json:"sample_chars"`
}

// Decode applies the JSON object options over o (family.Decode: an unknown field is an error
// naming it, what says whose options they are) and checks the result.
func (o *SampleOptions) Decode(options json.RawMessage, what string) error {
	if err := family.Decode(options, o, what); err != nil {
		return err
	}
	if err := o.Sampling.Check(); err != nil {
		return err
	}
	if o.SampleChars < 1 {
		return fmt.Errorf("%s: sample_chars must be ≥ 1, got %d", what, o.SampleChars)
	}
	return nil
}

// WriteTexts writes texts to path as UTF-8, each after prompt, separated by blank lines: the
// samples file of a text family.
func WriteTexts(path, prompt string, texts []string) error {
	var sb strings.Builder
	for i, t := range texts {
		if i > 0 {
			sb.WriteString("\n\n")
		}
		sb.WriteString(prompt + t)
	}
	sb.WriteString("\n")
	return train.WriteFileAtomic(path, []byte(sb.String()))
}

// SetSampling changes the sampling options of Sample (family.SamplingOptions), given as a JSON
// object of SampleOptions fields.
func (m *Model) SetSampling(options json.RawMessage) error {
	o := SampleOptions{m.Sampling, m.Prompt, m.SampleChars}
	if err := o.Decode(options, "gpt sampling options"); err != nil {
		return err
	}
	m.Sampling, m.Prompt, m.SampleChars = o.Sampling, o.Prompt, o.SampleChars
	return nil
}

// Sample writes n samples to path as UTF-8 text: each is Prompt followed by SampleChars
// characters drawn with the configuration's Sampling (and the model's seed), separated by
// blank lines. The n samples are generated together, as one batch, with the KV cache.
func (m *Model) Sample(n int, path string) error {
	if n < 1 {
		return fmt.Errorf("gpt: number of samples must be ≥ 1, got %d", n)
	}
	texts, err := m.Generate(m.Prompt, m.SampleChars, GenerateOptions{Sampling: m.Sampling, Rows: n, Seed: m.seed})
	if err != nil {
		return err
	}
	return WriteTexts(path, m.Prompt, texts)
}

// GenerationSpeed is characters generated per second, with and without the KV cache.
type GenerationSpeed struct {
	Rows                int     `json:"rows"`  // sequences generated together
	Chars               int     `json:"chars"` // characters per sequence (after a warm-up run)
	CachedCharsPerSec   float64 `json:"cached_chars_per_second"`
	UncachedCharsPerSec float64 `json:"uncached_chars_per_second"`
	Speedup             float64 `json:"speedup"`
}

// MeasureGeneration times Generate with and without the KV cache: rows sequences of n
// characters each after the prompt, after an untimed run of each that compiles the graphs.
// Characters per second count every row.
func (m *Model) MeasureGeneration(prompt string, rows, n int) (GenerationSpeed, error) {
	s := GenerationSpeed{Rows: rows, Chars: n}
	for _, noCache := range []bool{false, true} {
		o := GenerateOptions{Sampling: m.Sampling, Rows: rows, NoCache: noCache}
		if _, err := m.Generate(prompt, m.Context+2, o); err != nil { // compile prefill and decode
			return s, err
		}
		t0 := time.Now()
		if _, err := m.Generate(prompt, n, o); err != nil {
			return s, err
		}
		cps := float64(rows*n) / time.Since(t0).Seconds()
		if noCache {
			s.UncachedCharsPerSec = cps
		} else {
			s.CachedCharsPerSec = cps
		}
	}
	s.Speedup = s.CachedCharsPerSec / s.UncachedCharsPerSec
	return s, nil
}

// zeroCaches returns empty caches for rows sequences (for tests of decode from position 0).
func (m *Model) zeroCaches(rows int) []*tensors.Tensor {
	out := make([]*tensors.Tensor, 2*m.Layers)
	for i := range out {
		out[i] = tensors.FromShape(shapes.Make(dtypes.Float32, rows, m.Context, m.Heads, m.HeadDim()))
	}
	return out
}
