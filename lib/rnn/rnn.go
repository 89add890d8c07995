// Package rnn is iagen's recurrent family: character-level language models whose layers are a
// simple RNN (Elman 1990), a GRU (Cho et al. 2014) or an LSTM (Hochreiter & Schmidhuber 1997,
// with the forget gate of Gers et al. 2000), trained on a Spanish text corpus to predict the
// next character. The equations of each cell are with Cell.
//
// The model is an embedding, Layers stacked recurrent layers and a Dense head:
//
//	x_t = E[c_t]   h⁰_t = x_t   hˡ_t = cell(hˡ⁻¹_t, hˡ_{t−1})   p(c_{t+1} | c_≤t) = softmax(W_out·h^L_t + b_out)
//
// trained, as gpt is, by minimizing the mean cross-entropy of the next character over every
// position of windows of Context characters; each window starts from a zero state and the
// gradient flows back through that window only (truncated back-propagation through time,
// BENCH.md's lstm). Validation reports nats, bits and perplexity per character with gpt's
// protocol. Generation carries the state from one character to the next: each character
// costs one step, whatever came before it, where a Transformer attends to all of its context.
//
// # Speed
//
// The gradient is written by hand (back-propagation through time, Werbos 1990) rather than
// left to GoMLX's automatic differentiation, the way cuDNN's fused RNN kernels arrange it:
// every product that does not depend on the previous step is done once for the whole window
// as one large matrix product — the input projections x_t·W of all T steps, and the weight
// gradients Σ_t x_tᵀ·dp_t and Σ_t h_{t−1}ᵀ·dq_t — and only h·R (forward) and dq·Rᵀ (backward)
// remain inside the time loop. Automatic differentiation of the unrolled loop instead makes T
// small weight-gradient products and, for anything sliced out of a whole-window tensor, a
// zero-padded copy of that tensor per step (see nn.LSTM). The hand-written gradient reaches
// GoMLX's optimizer through withGradients, and the tests check it against finite differences.
//
// On XLA's backends the time loop is one graph.While (Loop): the step is compiled once and run
// T times, forwards and then backwards. On xla:cpu (2 cores, 2026-12-05) BENCH.md's step
// compiles with 2.9 s of CPU time where the same step unrolled takes 76 s, and costs 181 ms of
// CPU time against 907 ms unrolled and 1882 ms for the nn.LSTM prototype (autodiff, unrolled).
// The go backend, which lacks DynamicSlice and DynamicUpdateSlice, unrolls.
//
// The model registers itself as the family "lstm" (the cell is a setting):
//
//	iagen train lstm --profile small --out runs/lstm
//	iagen train lstm --profile small --set cell=gru --out runs/gru
//	iagen train lstm --profile small --set forget_bias=1 --out runs/lstm-fb1
//	iagen sample lstm --from runs/lstm --n 8 --set temperature=0.8 --out muestras.txt
package rnn

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/model/initializer"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/metrics"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/train"
)

func init() {
	family.Register(family.Family{Name: "lstm", Title: "RNN/GRU/LSTM: character-level recurrent model on Spanish text", Generative: true,
		New:    func(o family.Options) (family.Model, error) { return New(o) },
		Curves: []family.Curve{{Name: "loss", Title: "nats por carácter: entrenamiento y validación", Keys: []string{"loss", "val_nats_per_char"}}}})
}

// Model is a character-level recurrent language model being trained or used.
type Model struct {
	Config
	net      network
	seed     int64
	backend  compute.Backend
	store    *model.Store
	vocab    *data.Vocab
	trainIDs []int32 // training split, encoded
	valIDs   []int32 // validation split, encoded
	datasets map[string]string

	step, eval, oneStep *train.Exec
	gradExec            *train.Exec // GradientByDistance's, compiled on first use
}

// New builds the model of opts.Profile (with opts.Overrides) and loads its corpus from opts.DataDir.
func New(opts family.Options) (*Model, error) {
	return family.New(opts, ProfileConfig, NewWithConfig)
}

// NewWithConfig builds a model with an explicit configuration: loads the corpus, builds its
// vocabulary of characters (runes: ñ, á, ¿ are one character each), splits it (the last 10% is
// validation) and prepares the training, evaluation and generation computations (compiled on
// first use). The vocabulary is a function of the corpus, whose SHA-256 the run's manifest
// records.
func NewWithConfig(opts family.Options, cfg Config) (*Model, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	corpus, err := data.LoadCorpus(data.Dir(opts.DataDir), cfg.Corpus, cfg.Context, cfg.TrainFraction)
	if err != nil {
		return nil, fmt.Errorf("rnn: %w", err)
	}
	if _, err := corpus.Vocab.Encode(cfg.Prompt); err != nil { // fail now, not after training
		return nil, fmt.Errorf("rnn: the sample prompt %q does not fit corpus %s (%w): set another (--set prompt=…)", cfg.Prompt, cfg.Corpus, err)
	}
	vocab := corpus.Vocab
	m := &Model{Config: cfg, seed: opts.Seed, backend: opts.Backend, store: model.NewStore(), vocab: vocab,
		datasets: corpus.Files, trainIDs: corpus.Train, valIDs: corpus.Val,
		net: network{cell: cfg.Cell, loop: cfg.Loop.resolve(opts.Backend), vocab: vocab.Size(), embed: cfg.Embed, hidden: cfg.Hidden,
			layers: cfg.Layers, forgetBias: cfg.ForgetBias}}
	if err := m.compile(); err != nil {
		return nil, err
	}
	return m, nil
}

// compile prepares the computations (GoMLX compiles each on its first call, once per shape).
func (m *Model) compile() (err error) {
	// Adam (Kingma & Ba 2015), β = (0.9, 0.999), ε = 1e-8 as in BENCH.md, on the gradient
	// clipped to global norm ClipNorm. Inputs: tokens [B, T], targets [B, T] (int32), learning
	// rate (scalar float32); outputs the loss and the gradient's norm before clipping.
	opt := optimizer.Adam().LearningRate(m.LearningRate).Betas(0.9, 0.999).Epsilon(1e-8).Done()
	m.step, err = train.NewTrainExec(m.backend, m.store, opt, "", []string{"loss", "grad_norm"},
		func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			train.SetLearningRate(scope, in[2])
			loss, norm := m.net.trainingLoss(scope, in[0], in[1], nil, m.ClipNorm)
			return []*graph.Node{loss, norm}
		})
	if err != nil {
		return err
	}
	// Per-position NLL [B, T] of targets given tokens, each window from a zero state.
	m.eval, err = train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		w := m.net.params(scope, in[0].Graph())
		ps := m.net.forward(w, in[0])
		nll, _ := crossEntropy(ps.logits, timeMajor(in[1]), nil)
		return []*graph.Node{timeMajor(nll)}
	})
	if err != nil {
		return err
	}
	// One generation step: token [B] and the state (h of every layer, then c of every LSTM
	// layer, each [B, H]) → next-character logits [B, V] and the new state.
	m.oneStep, err = train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		w := m.net.params(scope, in[0].Graph())
		logits, state := m.net.stepOne(w, in[0], in[1:])
		return append([]*graph.Node{logits}, state...)
	})
	return err
}

// Store holds the weights and the optimizer state.
func (m *Model) Store() *model.Store { return m.store }

// Step trains on batch number step: Batch windows of Context+1 characters at uniformly random
// offsets of the training split (data.TextWindows, as gpt), drawn from (seed, step) alone so a
// resumed run sees the same batches. It reports the loss and the gradient norm before clipping.
func (m *Model) Step(step int) (train.Metrics, error) {
	in, tg := data.TextWindows(m.trainIDs, m.Context, m.seed, step, m.Batch)
	return m.step.Run(in, tg, float32(m.Schedule().At(step)))
}

// Info describes the model for manifests and metrics.json.
func (m *Model) Info() family.Info {
	return family.Info{Steps: m.Steps, Config: m.Config, Datasets: m.datasets, Params: m.NumParams(m.net.vocab),
		SampleExt: ".txt"}
}

// Evaluate scores the validation split with BENCH.md's protocol for text (gpt's): the
// non-overlapping windows of Context characters from its start, each from a zero state, every
// position scored; nats/char = total NLL / scored characters. It reports val_nats_per_char,
// val_bpc, val_perplexity and val_chars. EvalWindows > 0 scores only that many windows.
func (m *Model) Evaluate(int) (train.Metrics, error) {
	ctx, bs := m.Context, m.EvalBatch
	windows := data.NumValBatches(len(m.valIDs), ctx, 1) // every full window
	if m.EvalWindows > 0 {
		windows = min(windows, m.EvalWindows)
	}
	total := 0.0
	for start := 0; start < windows; start += bs {
		// Consecutive windows are consecutive in the split: window j is valIDs[j·ctx, (j+1)·ctx).
		// The last batch is padded with zero rows, not scored.
		n := min(bs, windows-start)
		in, tg := make([]int32, bs*ctx), make([]int32, bs*ctx)
		copy(in, m.valIDs[start*ctx:(start+n)*ctx])
		copy(tg, m.valIDs[start*ctx+1:(start+n)*ctx+1])
		out, err := m.eval.Call(tensors.FromFlatDataAndDimensions(in, bs, ctx), tensors.FromFlatDataAndDimensions(tg, bs, ctx))
		if err != nil {
			return nil, err
		}
		for _, x := range tensors.MustCopyFlatData[float32](out[0])[:n*ctx] {
			total += float64(x)
		}
		_ = out[0].FinalizeAll()
	}
	chars := windows * ctx
	nats := metrics.NatsPerChar(total, chars)
	return train.Metrics{
		{Name: "val_nats_per_char", Value: nats},
		{Name: "val_bpc", Value: metrics.BitsPerChar(nats)},
		{Name: "val_perplexity", Value: metrics.Perplexity(nats)},
		{Name: "val_chars", Value: float64(chars)},
	}, nil
}

// network is the architecture alone, with no data: the family's model and the synthetic tasks
// of analysis.go build it.
type network struct {
	cell                         Cell
	loop                         Loop // Unrolled or While (resolved)
	vocab, embed, hidden, layers int
	forgetBias                   float64 // Config.ForgetBias (LSTM only)
}

// params are the network's variables as nodes of one graph — or, from backward, the
// gradients of the loss with respect to them, in the same places.
type params struct {
	embed        *graph.Node   // E [V, Emb]
	w, r, bx, bh []*graph.Node // per layer: W [F, G·H], R [H, G·H], b_x, b_h [G·H]
	headW, headB *graph.Node   // [H, V], [V]
}

// list returns the nodes in a fixed order.
func (p params) list() []*graph.Node {
	out := []*graph.Node{p.embed}
	for l := range p.w {
		out = append(out, p.w[l], p.r[l], p.bx[l], p.bh[l])
	}
	return append(out, p.headW, p.headB)
}

// params returns the variables of scope in graph g, creating them on first use with PyTorch's
// initialization (so that a run compares like for like with BENCH.md's PyTorch reference):
// E ~ N(0, 1) (nn.Embedding); every recurrent weight and bias and the head's weights and
// biases ~ U(−1/√H, 1/√H) (nn.LSTM, and nn.Linear's bound 1/√fan_in with fan_in = H).
// Paths: /embedding/embeddings, /layer_<l>/{input_weights, recurrent_weights, input_biases,
// recurrent_biases}, /head/{weights, biases}. A forgetBias is added to the forget gate's block
// of every layer's b_x (see forgetBiasInit).
func (n network) params(scope *model.Scope, g *graph.Graph) params {
	k := 1 / math.Sqrt(float64(n.hidden))
	uniform := func(s *model.Scope) *model.Scope { return s.WithInitializer(initializer.RandomUniformFn(s, -k, k)) }
	v := func(s *model.Scope, name string, dims ...int) *graph.Node {
		return s.VariableWithShape(name, shapes.Make(dtypes.Float32, dims...)).NodeValue(g)
	}
	es := scope.At("embedding")
	p := params{embed: v(es.WithInitializer(nn.NormalInitializer(es, 1)), "embeddings", n.vocab, n.embed)}
	gh := n.cell.Gates() * n.hidden
	for l := range n.layers {
		s, in := uniform(scope.At("layer_%d", l)), n.hidden
		if l == 0 {
			in = n.embed
		}
		p.w = append(p.w, v(s, "input_weights", in, gh))
		p.r = append(p.r, v(s, "recurrent_weights", n.hidden, gh))
		bx := s
		if n.forgetBias != 0 {
			bx = s.WithInitializer(forgetBiasInit(initializer.RandomUniformFn(s, -k, k), n.hidden, n.forgetBias))
		}
		p.bx = append(p.bx, v(bx, "input_biases", gh))
		p.bh = append(p.bh, v(s, "recurrent_biases", gh))
	}
	hs := uniform(scope.At("head"))
	p.headW, p.headB = v(hs, "weights", n.hidden, n.vocab), v(hs, "biases", n.vocab)
	return p
}

// forgetBiasInit is init plus bias on the forget gate's block of an LSTM bias vector [4H]:
// elements [H, 2H) in the order i, f, g, o (LSTM). Only b_x is shifted, so the forget gate's
// total bias b_x,f + b_h,f starts at bias plus PyTorch's uniform noise, and init draws the same
// random numbers as without it: every other parameter is initialized as it would be.
func forgetBiasInit(init initializer.VariableInitializer, hidden int, bias float64) initializer.VariableInitializer {
	return func(g *graph.Graph, shape shapes.Shape) *graph.Node {
		block := graph.DivScalar(graph.Iota(g, shapes.Make(dtypes.Int32, shape.Dimensions...), 0), hidden)
		forget := graph.ConvertDType(graph.Equal(block, graph.Const(g, int32(1))), shape.DType)
		return graph.Add(init(g, shape), graph.MulScalar(forget, bias))
	}
}

// affine returns x·W + b for x [..., F], w [F, N] and b [N]: [..., N].
func affine(x, w, b *graph.Node) *graph.Node {
	y := graph.DotGeneral(x, []int{x.Rank() - 1}, nil, w, []int{0}, nil)
	return graph.Add(y, graph.ExpandLeftToRank(b, y.Rank()))
}

// timeMajor swaps the first two axes: [B, T, …] ↔ [T, B, …].
func timeMajor(x *graph.Node) *graph.Node { return graph.Transpose(x, 0, 1) }

// pass is a forward pass over windows, kept for the backward pass.
type pass struct {
	tokens *graph.Node   // [T, B] int32
	inputs []*graph.Node // every layer's input, [T, B, F]: the embeddings, then the previous layer's states
	layers []*layerPass
	logits *graph.Node // [T, B, V]
}

// forward runs the network over tokens [B, T] (int32), each window from a zero state.
func (n network) forward(w params, tokens *graph.Node) *pass {
	ps := &pass{tokens: timeMajor(tokens)}
	return n.forwardFrom(w, ps, graph.Gather(w.embed, graph.InsertAxes(ps.tokens, -1))) // [T, B, Emb]
}

// forwardFrom runs the layers and the head from the embeddings x [T, B, Emb].
func (n network) forwardFrom(w params, ps *pass, x *graph.Node) *pass {
	b := x.Shape().Dimensions[1]
	zero := graph.Zeros(x.Graph(), shapes.Make(x.DType(), b, n.hidden))
	var c0 *graph.Node
	if n.cell.HasCellState() {
		c0 = zero
	}
	for l := range n.layers {
		ps.inputs = append(ps.inputs, x)
		p := affine(x, w.w[l], w.bx[l]) // all T steps at once
		lp := runLayer(n.loop, n.cell, p, w.r[l], w.bh[l], zero, c0)
		ps.layers = append(ps.layers, lp)
		x = lp.h
	}
	ps.logits = affine(x, w.headW, w.headB)
	return ps
}

// backward returns the gradients of the loss with respect to every parameter, given dlogits,
// its gradient with respect to the logits [T, B, V], and the gradient with respect to the
// embeddings x_t [T, B, Emb] (analysis.go reads it). Each layer: dP from back-propagation
// through time (layerPass.backward), then ∂L/∂W = Σ_t x_tᵀ·dp_t, ∂L/∂b_x = Σ_t dp_t and the
// gradient passed down, dX = dP·Wᵀ, each one product over all steps.
func (n network) backward(w params, ps *pass, dlogits *graph.Node) (grads params, dx *graph.Node) {
	top := ps.layers[n.layers-1].h
	grads.headW = graph.DotGeneral(top, []int{0, 1}, nil, dlogits, []int{0, 1}, nil)
	grads.headB = graph.ReduceSum(dlogits, 0, 1)
	dH := graph.DotGeneral(dlogits, []int{2}, nil, w.headW, []int{1}, nil) // [T, B, H]
	grads.w, grads.r = make([]*graph.Node, n.layers), make([]*graph.Node, n.layers)
	grads.bx, grads.bh = make([]*graph.Node, n.layers), make([]*graph.Node, n.layers)
	for l := n.layers - 1; l >= 0; l-- {
		var dP *graph.Node
		dP, grads.r[l], grads.bh[l] = ps.layers[l].backward(dH)
		grads.w[l] = graph.DotGeneral(ps.inputs[l], []int{0, 1}, nil, dP, []int{0, 1}, nil)
		grads.bx[l] = graph.ReduceSum(dP, 0, 1)
		dH = graph.DotGeneral(dP, []int{2}, nil, w.w[l], []int{1}, nil) // [T, B, F]
	}
	// E's rows are gathered by the tokens: ∂L/∂E[v] = Σ_{t,b: c_tb = v} dx_tb = onehotᵀ·dX.
	onehot := graph.OneHot(ps.tokens, n.vocab, dH.DType())
	grads.embed = graph.DotGeneral(onehot, []int{0, 1}, nil, dH, []int{0, 1}, nil)
	return grads, dH
}

// crossEntropy returns the negative log-likelihood of each target, −log softmax(logits)[target],
// for logits [T, B, V] and int32 targets [T, B] (nats), and the gradient of Σ weight·NLL with
// respect to the logits: weight ⊙ (softmax(logits) − onehot(target)). weight [T, B] weighs each
// position in the loss; nil means the mean over all positions, 1/(T·B) each.
func crossEntropy(logits, targets, weight *graph.Node) (nll, dlogits *graph.Node) {
	dims := logits.Shape().Dimensions
	onehot := graph.OneHot(targets, dims[2], logits.DType())
	nll = graph.Neg(graph.ReduceSum(graph.Mul(graph.LogSoftmax(logits, -1), onehot), -1))
	d := graph.Sub(graph.Softmax(logits, -1), onehot)
	if weight == nil {
		return nll, graph.DivScalar(d, float64(dims[0]*dims[1]))
	}
	return nll, graph.Mul(d, graph.InsertAxes(weight, -1))
}

// trainingLoss builds a training step's loss, the NLL of targets [B, T] given tokens [B, T]
// weighted by weight [T, B] (nil: the mean over all positions, see crossEntropy), whose gradient (as GoMLX's optimizers take it, graph.Gradient of the returned node)
// is the hand-written one of backward, clipped to global norm clip (if > 0). It returns the
// gradient's norm before clipping too.
//
// The loss returned is L̃ = sg(L) + Σ_i ⟨sg(g_i), θ_i − sg(θ_i)⟩, with sg the stop-gradient and
// g_i the gradient for parameter θ_i: its value is L (the second term is exactly 0) and its
// gradient with respect to θ_i is g_i — GoMLX differentiates only that last term, so the
// optimizer updates with backward's gradients and nothing of the forward pass is
// differentiated automatically.
func (n network) trainingLoss(scope *model.Scope, tokens, targets, weight *graph.Node, clip float64) (loss, gradNorm *graph.Node) {
	w := n.params(scope, tokens.Graph())
	ps := n.forward(w, tokens)
	nll, dlogits := crossEntropy(ps.logits, timeMajor(targets), weight)
	grads, _ := n.backward(w, ps, dlogits)
	if clip == 0 {
		clip = math.Inf(1) // no clipping: the factor min(1, ∞) is 1
	}
	g, norm := nn.ClipByGlobalNorm(grads.list(), clip)
	return withGradients(meanLoss(nll, weight), w.list(), g), norm
}

// meanLoss is the loss whose gradient crossEntropy's dlogits is: the mean of nll [T, B], or
// Σ weight·nll for weights [T, B].
func meanLoss(nll, weight *graph.Node) *graph.Node {
	if weight == nil {
		return graph.ReduceAllMean(nll)
	}
	return graph.ReduceAllSum(graph.Mul(nll, weight))
}

// withGradients returns a node equal to loss whose gradient with respect to thetas[i] is
// grads[i]: sg(loss) + Σ_i Σ sg(grads[i]) ⊙ (thetas[i] − sg(thetas[i])).
func withGradients(loss *graph.Node, thetas, grads []*graph.Node) *graph.Node {
	out := graph.StopGradient(loss)
	for i, th := range thetas {
		zero := graph.Sub(th, graph.StopGradient(th))
		out = graph.Add(out, graph.ReduceAllSum(graph.Mul(graph.StopGradient(grads[i]), zero)))
	}
	return out
}
