// Package gpt is iagen's Transformer family: a character-level, decoder-only Transformer (a
// small GPT) trained on a Spanish text corpus to predict the next character.
//
// Training minimizes the mean cross-entropy of the next character over every position of every
// window (Radford et al. 2018, "Improving Language Understanding by Generative Pre-Training";
// Radford et al. 2019, "Language Models are Unsupervised Multitask Learners"):
//
//	L(θ) = −(1 / (B·T)) Σ_b Σ_t log p_θ(x_{b,t+1} | x_{b,1..t})
//
// which is the negative log-likelihood of the text under the autoregressive factorization
// p(x) = Π_t p(x_t | x_<t). Validation reports it per character in nats, in bits (÷ ln 2) and as
// perplexity (exp). Generation draws one character at a time (temperature, top-k, nucleus
// top-p) with a key/value cache. The model registers itself as the family "gpt":
//
//	iagen train gpt --profile small --out runs/gpt
//	iagen sample gpt --from runs/gpt --n 8 --out muestras.txt
package gpt

import (
	"fmt"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/metrics"
	"github.com/iagen-course/iagen/lib/train"
)

func init() {
	family.Register(family.Family{Name: "gpt", Title: "Transformer: character-level GPT on Spanish text", Generative: true,
		New:    func(o family.Options) (family.Model, error) { return New(o) },
		Curves: []family.Curve{{Name: "loss", Title: "nats por carácter: entrenamiento y validación", Keys: []string{"loss", "val_nats_per_char"}}}})
}

// vocabVar is the path of the non-trainable variable holding the vocabulary's code points, so
// that every checkpoint carries the mapping between ids and characters it was trained with.
const vocabVar = "/vocab/code_points"

// Model is a character-level GPT being trained or used.
type Model struct {
	Config
	seed      int64
	backend   compute.Backend
	store     *model.Store
	vocab     *data.Vocab
	vocabSize int
	trainIDs  []int32 // training split, encoded
	valIDs    []int32 // validation split, encoded
	datasets  map[string]string

	step, eval, prefill, decodeExec, attn *train.Exec
}

// New builds the model of opts.Profile (with opts.Overrides) and loads its corpus from opts.DataDir.
func New(opts family.Options) (*Model, error) {
	return family.New(opts, ProfileConfig, NewWithConfig)
}

// NewWithConfig builds a model with an explicit configuration: loads the corpus, builds its
// vocabulary (stored in the model as a non-trainable variable), splits it (the last 10% is
// validation) and prepares the training, evaluation and generation computations (compiled on
// first use).
func NewWithConfig(opts family.Options, cfg Config) (*Model, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	corpus, err := data.LoadCorpus(data.Dir(opts.DataDir), cfg.Corpus, cfg.Context, cfg.TrainFraction)
	if err != nil {
		return nil, fmt.Errorf("gpt: %w", err)
	}
	if _, err := corpus.Vocab.Encode(cfg.Prompt); err != nil { // fail now, not after training
		return nil, fmt.Errorf("gpt: the sample prompt %q does not fit corpus %s (%w): set another (--set prompt=…)", cfg.Prompt, cfg.Corpus, err)
	}
	m := &Model{Config: cfg, seed: opts.Seed, backend: opts.Backend, store: model.NewStore(), vocab: corpus.Vocab,
		vocabSize: corpus.Vocab.Size(), datasets: corpus.Files, trainIDs: corpus.Train, valIDs: corpus.Val}
	if err := StoreVocab(m.store, m.vocab); err != nil {
		return nil, err
	}
	if err := m.compile(); err != nil {
		return nil, err
	}
	return m, nil
}

// StoreVocab keeps the code points of vocab in store as the non-trainable variable
// /vocab/code_points, so that every checkpoint carries the mapping between ids and characters
// it was trained with (the character families gpt and bert).
func StoreVocab(store *model.Store, vocab *data.Vocab) error {
	chars := vocab.Chars()
	cp := make([]int32, len(chars))
	for i, r := range chars {
		cp[i] = int32(r)
	}
	v, err := store.CreateVariable(vocabVar, tensors.FromValue(cp))
	if err != nil {
		return err
	}
	v.SetTrainable(false)
	return nil
}

// Vocab returns the vocabulary the model's weights use: the one stored in the model (restored
// with a checkpoint), which must match the corpus's.
func (m *Model) Vocab() (*data.Vocab, error) { return StoredVocab(m.store, m.vocab, "gpt") }

// StoredVocab returns vocab (the corpus's) when store holds no vocabulary (StoreVocab) or the
// same one; a different one, from a checkpoint of another corpus, is an error that starts with
// who.
func StoredVocab(store *model.Store, vocab *data.Vocab, who string) (*data.Vocab, error) {
	v := store.GetVariable(vocabVar)
	if v == nil {
		return vocab, nil
	}
	t, err := v.Value()
	if err != nil {
		return nil, err
	}
	cp := tensors.MustCopyFlatData[int32](t)
	chars := vocab.Chars()
	if len(cp) != len(chars) {
		return nil, fmt.Errorf("%s: the model was trained with %d characters, the corpus has %d", who, len(cp), len(chars))
	}
	for i, r := range chars {
		if rune(cp[i]) != r {
			return nil, fmt.Errorf("%s: the model's vocabulary differs from the corpus's at id %d (%q vs %q)", who, i, rune(cp[i]), r)
		}
	}
	return vocab, nil
}

// compile prepares the computations (GoMLX compiles each on its first call, once per shape).
func (m *Model) compile() (err error) {
	// AdamW (Loshchilov & Hutter 2019): Adam's step plus a decoupled decay lr·λ·θ on every
	// trainable variable; β = (0.9, 0.999), ε = 1e-8 as in BENCH.md.
	opt := optimizer.Adam().LearningRate(m.LearningRate).WeightDecay(m.WeightDecay).Betas(0.9, 0.999).Epsilon(1e-8).Done()
	// Inputs: tokens [B, T], targets [B, T] (int32), learning rate (scalar float32).
	m.step, err = train.NewTrainExec(m.backend, m.store, opt, "", []string{"loss"},
		func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			train.SetLearningRate(scope, in[2])
			return []*graph.Node{graph.ReduceAllMean(nll(m.logits(scope, in[0]), in[1]))}
		})
	if err != nil {
		return err
	}
	// Per-position NLL [B, T] of targets given tokens.
	m.eval, err = train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{nll(m.logits(scope, in[0]), in[1])}
	})
	if err != nil {
		return err
	}
	// Prefill for generation: tokens [B, Context] whose first last+1 are real; returns the logits
	// [B, V] at position last (a scalar int32) and every layer's keys and values.
	m.prefill, err = train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		h, kv, _ := m.forward(scope, in[0], true, false)
		// h[:, last, :] as a Gather on the position axis (DynamicSlice is missing in the go backend).
		last := graph.Gather(graph.TransposeAllAxes(h, 1, 0, 2), graph.Reshape(in[1], 1)) // [B, D]
		outs := []*graph.Node{m.head(scope, last)}
		for _, c := range kv {
			outs = append(outs, c.k, c.v)
		}
		return outs
	})
	if err != nil {
		return err
	}
	// One cached generation step: token [B], position (scalar int32), then 2·Layers caches;
	// returns the logits [B, V] and the updated caches.
	m.decodeExec, err = train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		caches := make([]kvCache, m.Layers)
		for l := range caches {
			caches[l] = kvCache{in[2+2*l], in[3+2*l]}
		}
		h, updated := m.decode(scope, in[0], in[1], caches)
		outs := []*graph.Node{m.head(scope, h)}
		for _, c := range updated {
			outs = append(outs, c.k, c.v)
		}
		return outs
	})
	if err != nil {
		return err
	}
	// Attention weights of every layer for tokens [B, T]: each [B, T, H, T]. The hidden state is
	// returned too: the pure-Go backend (compute v0.1.3) fails at run time on a graph whose
	// outputs leave parameters unused (here the last block's MLP and the final LayerNorm).
	m.attn, err = train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		h, _, attn := m.forward(scope, in[0], false, true)
		return append(attn, h)
	})
	return err
}

// Store holds the weights, the optimizer state and the vocabulary.
func (m *Model) Store() *model.Store { return m.store }

// Schedule is the learning-rate schedule: constant, or a linear warm-up over WarmupSteps
// followed by a cosine decay to MinLRFraction·LearningRate at DecaySteps.
func (c Config) Schedule() train.Schedule {
	s := train.Schedule{LearningRate: c.LearningRate, Warmup: c.WarmupSteps, MinFraction: c.MinLRFraction}
	if c.DecaySteps > c.WarmupSteps {
		s.Decay, s.DecaySteps = "cosine", c.DecaySteps
	}
	return s
}

// Step trains on batch number step: Batch windows of Context+1 characters at uniformly random
// offsets of the training split, drawn from (seed, step) alone so a resumed run sees the same
// batches.
func (m *Model) Step(step int) (train.Metrics, error) {
	in, tg := data.TextWindows(m.trainIDs, m.Context, m.seed, step, m.Batch)
	return m.step.Run(in, tg, float32(m.Schedule().At(step)))
}

// Info describes the model for manifests and metrics.json.
func (m *Model) Info() family.Info {
	return family.Info{Steps: m.Steps, Config: m.Config, Datasets: m.datasets, Params: m.NumParams(m.vocabSize),
		SampleExt: ".txt"}
}

// Evaluate scores the validation split with BENCH.md's protocol: non-overlapping windows of
// Context characters from its start, every position scored (window-fresh context);
// nats/char = total NLL / scored characters. It reports val_nats_per_char, val_bpc,
// val_perplexity and val_chars (how many characters were scored).
func (m *Model) Evaluate(int) (train.Metrics, error) {
	r, err := m.EvaluateContext(m.Context)
	if err != nil {
		return nil, err
	}
	return train.Metrics{
		{Name: "val_nats_per_char", Value: r.NatsPerChar},
		{Name: "val_bpc", Value: metrics.BitsPerChar(r.NatsPerChar)},
		{Name: "val_perplexity", Value: metrics.Perplexity(r.NatsPerChar)},
		{Name: "val_chars", Value: float64(r.Chars)},
	}, nil
}

// ValResult is a validation score at one context length.
type ValResult struct {
	Context     int       // window length: every character is predicted from at most Context−1 before it
	Chars       int       // characters scored
	NatsPerChar float64   // total NLL / Chars
	ByPosition  []float64 // mean NLL (nats) at each position 0..Context−1 of a window: position t sees t characters
}

// EvaluateContext scores the validation split in non-overlapping windows of ctx characters
// (2 ≤ ctx ≤ Context) with the protocol of Evaluate. Shorter windows show how much the model
// gains from context (a model trained at Context can be read at any shorter one: positions
// 0..ctx−1 of its learned position table). EvalWindows > 0 limits the windows scored.
func (m *Model) EvaluateContext(ctx int) (ValResult, error) {
	if ctx < 2 || ctx > m.Context {
		return ValResult{}, fmt.Errorf("gpt: evaluation context %d outside [2, %d]", ctx, m.Context)
	}
	windows := data.NumValBatches(len(m.valIDs), ctx, 1) // every full window
	if m.EvalWindows > 0 {
		windows = min(windows, m.EvalWindows)
	}
	bs := m.EvalBatch
	total := 0.0
	byPos := make([]float64, ctx)
	for start := 0; start < windows; start += bs {
		n := min(bs, windows-start)
		var in, tg *tensors.Tensor
		if n == bs {
			in, tg = data.ValWindows(m.valIDs, ctx, bs, start/bs)
		} else { // the last, partial batch: windows one at a time, padded with zeros
			in, tg = m.partialValBatch(ctx, start, n)
		}
		out, err := m.eval.Call(in, tg)
		if err != nil {
			return ValResult{}, err
		}
		v := tensors.MustCopyFlatData[float32](out[0])
		_ = out[0].FinalizeAll()
		for b := range n {
			for t := range ctx {
				x := float64(v[b*ctx+t])
				total += x
				byPos[t] += x
			}
		}
	}
	for t := range byPos {
		byPos[t] /= float64(windows)
	}
	chars := windows * ctx
	return ValResult{Context: ctx, Chars: chars, NatsPerChar: metrics.NatsPerChar(total, chars), ByPosition: byPos}, nil
}

// partialValBatch packs validation windows start..start+n−1 (data.ValWindows with batch 1)
// into a batch of EvalBatch rows, the rest zero (ignored).
func (m *Model) partialValBatch(ctx, start, n int) (in, tg *tensors.Tensor) {
	inFlat := make([]int32, m.EvalBatch*ctx)
	tgFlat := make([]int32, m.EvalBatch*ctx)
	for b := range n {
		i, t := data.ValWindows(m.valIDs, ctx, 1, start+b)
		copy(inFlat[b*ctx:], tensors.MustCopyFlatData[int32](i))
		copy(tgFlat[b*ctx:], tensors.MustCopyFlatData[int32](t))
	}
	return tensors.FromFlatDataAndDimensions(inFlat, m.EvalBatch, ctx), tensors.FromFlatDataAndDimensions(tgFlat, m.EvalBatch, ctx)
}
