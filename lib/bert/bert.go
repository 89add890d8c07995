// Package bert is iagen's masked language model: a small character-level BERT (Devlin, Chang,
// Lee & Toutanova 2019, "BERT: Pre-training of Deep Bidirectional Transformers for Language
// Understanding") on the Spanish corpus of lib/gpt, with gpt's Transformer (gpt.Hidden) run
// without the causal mask, so that every position sees the whole window, left and right. Unlike
// the paper's model it reads characters, not word pieces, keeps gpt's pre-LayerNorm blocks, and
// has no next-sentence task or segment embeddings.
//
// Training hides characters and asks for them back (§3.1, "Masked LM"): in each window 15 % of
// the positions are chosen (Mask); of those, 80 % are replaced by a [MASK] symbol added to the
// vocabulary, 10 % by a random character and 10 % left as they are, and the loss is the
// cross-entropy of the original characters at the chosen positions only:
//
//	L(θ) = −(1 / |M|) Σ_{(b,t) ∈ M} log p_θ(x_{b,t} | x̃_b)        x̃: the corrupted window, M: chosen positions
//
// What it can do: fill blanks from both sides (FillMask). What it cannot: it defines no
// probability of a text — p(x_t | x_{\t}) for every t is not a factorization of p(x) — so it has
// no exact likelihood (it does not implement family.TextScorer) and no natural way to write a
// sentence. The pseudo-log-likelihood (Salazar et al. 2020, PseudoLogLikelihood) scores texts
// in its place, and Gibbs-style sampling from an all-[MASK] window (Wang & Cho 2019,
// GibbsSample) is the best it can do at writing; CompareWriting measures how far that is from
// the GPT's text (KnownWordFraction, and the GPT's bits per character on both). The model registers itself as the family "bert" (not generative: it is
// left out of `iagen bench` and the comparison of the six generative families):
//
//	iagen train bert --profile small --out runs/bert
//	iagen sample bert --from runs/bert --set prompt="la ca_a es mu_ grande" --out huecos.txt
//	iagen audit bert --from runs/bert-gender     # trained with --set corpus=es-ocupaciones: its minimal pairs
package bert

import (
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/gpt"
	"github.com/iagen-course/iagen/lib/train"
)

func init() {
	family.Register(family.Family{Name: "bert", Title: "Masked language model: character-level BERT on Spanish text", Generative: false,
		New: func(o family.Options) (family.Model, error) { return New(o) },
		Curves: []family.Curve{{Name: "loss", Title: "nats por carácter enmascarado: entrenamiento y validación",
			Keys: []string{"loss", "val_masked_nats"}}}})
}

// Model is a character-level BERT being trained or used. Ids 0…V−1 are the corpus's
// characters (gpt's vocabulary) and V is [MASK].
type Model struct {
	Config
	seed      int64
	backend   compute.Backend
	store     *model.Store
	vocab     *data.Vocab
	vocabSize int // V: characters, without [MASK]
	trainIDs  []int32
	valIDs    []int32
	datasets  map[string]string

	step, logProbs *train.Exec

	wordsOnce sync.Once
	words     map[string]bool // the training split's words (KnownWordFraction)
}

// New builds the model of opts.Profile (with opts.Overrides) on its corpus from opts.DataDir.
func New(opts family.Options) (*Model, error) {
	return family.New(opts, ProfileConfig, NewWithConfig)
}

// NewWithConfig builds a model with an explicit configuration: gpt's corpus, vocabulary and
// split (data.LoadCorpus), plus [MASK].
func NewWithConfig(opts family.Options, cfg Config) (*Model, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	corpus, err := data.LoadCorpus(data.Dir(opts.DataDir), cfg.Corpus, cfg.Context, 0)
	if err != nil {
		return nil, fmt.Errorf("bert: %w", err)
	}
	return newModel(opts, cfg, corpus)
}

func newModel(opts family.Options, cfg Config, corpus *data.Corpus) (*Model, error) {
	m := &Model{Config: cfg, seed: opts.Seed, backend: opts.Backend, store: model.NewStore(), vocab: corpus.Vocab,
		vocabSize: corpus.Vocab.Size(), datasets: corpus.Files, trainIDs: corpus.Train, valIDs: corpus.Val}
	if _, err := m.parsePrompts(cfg.Prompts); err != nil { // fail now, not after training
		return nil, err
	}
	if err := gpt.StoreVocab(m.store, m.vocab); err != nil {
		return nil, err
	}
	if err := m.compile(); err != nil {
		return nil, err
	}
	return m, nil
}

// maskID is the id of [MASK]: one past the characters.
func (m *Model) maskID() int32 { return int32(m.vocabSize) }

// logits runs the bidirectional Transformer (gpt.Hidden without the causal mask) over tokens
// [B, T] (characters and [MASK]) and returns the logits [B, T, V] of the character at every
// position: the head predicts characters only, never [MASK].
func (m *Model) logits(scope *model.Scope, tokens, keys *graph.Node) *graph.Node {
	h := gpt.Hidden(scope, m.transformer(), m.vocabSize+1, tokens, keys, false)
	return layers.Dense(scope.In("head"), h, true, m.vocabSize)
}

func (m *Model) compile() (err error) {
	// AdamW, as gpt (Loshchilov & Hutter 2019); BERT used Adam with decay 0.01 (§A.2).
	opt := optimizer.Adam().LearningRate(m.LearningRate).WeightDecay(m.WeightDecay).Betas(0.9, 0.999).Epsilon(1e-8).Done()
	// Inputs: corrupted tokens [B, T], targets [B, T] (int32), weights [B, T] (float32: 1 at the
	// chosen positions), learning rate. Loss: the mean NLL over the chosen positions only.
	m.step, err = train.NewTrainExec(m.backend, m.store, opt, "", []string{"loss"},
		func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			train.SetLearningRate(scope, in[3])
			return []*graph.Node{maskedLoss(m.logits(scope, in[0], nil), in[1], in[2])}
		})
	if err != nil {
		return err
	}
	// Log-probabilities [B, T, V] of every character at every position of tokens [B, T] whose
	// row b holds lengths[b] real positions (the rest is padding, hidden from the attention: a
	// row's results are those of the row alone).
	m.logProbs, err = train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		dims := in[0].Shape().Dimensions
		pos := graph.Iota(in[0].Graph(), shapes.Make(dtypes.Int32, dims[0], dims[1]), 1)
		keys := graph.LessThan(pos, graph.BroadcastToDims(graph.Reshape(in[1], dims[0], 1), dims[0], dims[1]))
		return []*graph.Node{graph.LogSoftmax(m.logits(scope, in[0], keys), -1)}
	})
	return err
}

// maskedLoss is the masked-LM loss (Devlin et al. 2019, §3.1): the cross-entropy of targets
// under logits [B, T, V], averaged over the chosen positions, weights [B, T] = 1, only:
// Σ w·(−log p(target)) / Σ w. Mask chooses at least one position per window, so Σ w > 0.
func maskedLoss(logits, targets, weights *graph.Node) *graph.Node {
	nll := gpt.NLL(logits, targets)
	return graph.Div(graph.ReduceAllSum(graph.Mul(nll, weights)), graph.ReduceAllSum(weights))
}

// Store holds the weights, the optimizer state and the vocabulary.
func (m *Model) Store() *model.Store { return m.store }

// Vocab returns the characters the model's weights use (restored with a checkpoint), checked
// against the corpus's.
func (m *Model) Vocab() (*data.Vocab, error) { return gpt.StoredVocab(m.store, m.vocab, "bert") }

// Step trains on batch number step: Batch windows of Context characters at random offsets of
// the training split (data.TextWindows), corrupted by Mask; windows and masks depend on
// (seed, step) alone, so a resumed run sees the same batches.
func (m *Model) Step(step int) (train.Metrics, error) {
	in, _ := data.TextWindows(m.trainIDs, m.Context, m.seed, step, m.Batch)
	r := rand.New(rand.NewPCG(uint64(m.seed), uint64(step)^0x626572746d61736b)) // "bertmask"
	b := Mask(tensors.MustCopyFlatData[int32](in), m.Context, m.vocabSize, m.maskID(), m.MaskRate, r)
	return m.step.Run(m.tensor(b.Inputs, m.Batch), m.tensor(b.Targets, m.Batch),
		tensors.FromFlatDataAndDimensions(b.Weights, m.Batch, m.Context), float32(m.Schedule().At(step)))
}

func (m *Model) tensor(ids []int32, rows int) *tensors.Tensor {
	return tensors.FromFlatDataAndDimensions(ids, rows, m.Context)
}

// Info describes the model for manifests and metrics.json.
func (m *Model) Info() family.Info {
	return family.Info{Steps: m.Steps, Config: m.Config, Datasets: m.datasets, Params: m.NumParams(m.vocabSize), SampleExt: ".txt"}
}

// runRows computes the log-probabilities of rows (each 1 to Context ids, [MASK] allowed) in
// batches of EvalBatch rows padded to Context (a single row alone: FillMask's one pass per
// blank), and calls fn with each row's index and its log-probabilities [Context·V] (positions
// past the row's length are padding).
func (m *Model) runRows(rows [][]int32, fn func(i int, logp []float32)) error {
	bs, ctx, v := m.EvalBatch, m.Context, m.vocabSize
	if len(rows) == 1 {
		bs = 1
	}
	for start := 0; start < len(rows); start += bs {
		tok := make([]int32, bs*ctx)
		lens := make([]int32, bs)
		for b := range bs {
			lens[b] = int32(ctx) // padding rows: any full row (a row with no key would be 0/0)
			if start+b < len(rows) {
				r := rows[start+b]
				if len(r) < 1 || len(r) > ctx {
					return fmt.Errorf("bert: a row of %d characters, want 1 to %d", len(r), ctx)
				}
				copy(tok[b*ctx:], r)
				lens[b] = int32(len(r))
			}
		}
		out, err := m.logProbs.Call(tensors.FromFlatDataAndDimensions(tok, bs, ctx), lens)
		if err != nil {
			return err
		}
		flat := tensors.MustCopyFlatData[float32](out[0])
		_ = out[0].FinalizeAll()
		for b := range min(bs, len(rows)-start) {
			fn(start+b, flat[b*ctx*v:(b+1)*ctx*v])
		}
	}
	return nil
}
