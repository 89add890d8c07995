package rnn

import (
	"fmt"
	"math/rand/v2"

	"github.com/gomlx/compute"
	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/gpt"
	"github.com/iagen-course/iagen/lib/train"
)

// How far back a recurrent model reaches, measured two ways: by the gradient that reaches an
// input k steps back (GradientByDistance), and by whether a model can learn to recall the
// symbol it read k steps back (Recall).

// GradientByDistance measures how much the prediction at the end of a window depends on the
// characters k steps before it. For the first `windows` validation windows (Context characters
// each, from a zero state) it takes the loss of the last position alone, ℓ = −log p(c_{T+1} |
// c_1..c_T), and returns norms[k−1] = the mean over windows of ‖∂ℓ/∂x_{T+1−k}‖, the gradient
// with respect to the embedding of the character k steps back, for k = 1..T (k = 1: the last
// character read).
//
// Back-propagation through time multiplies one Jacobian ∂h_t/∂h_{t−1} per step, so the norm
// typically falls geometrically with k (Bengio, Simard & Frasconi 1994; Hochreiter 1991): for
// the tanh RNN fastest, for the LSTM, whose cell state is carried additively, slowest — on a
// log scale the slope is the rate. The norm says how much the model could learn from that far
// back, not how much it uses.
func (m *Model) GradientByDistance(windows int) ([]float64, error) {
	if available := (len(m.valIDs) - 1) / m.Context; windows < 1 || windows > available {
		return nil, fmt.Errorf("rnn: %d validation windows requested, 1 to %d available", windows, available)
	}
	if m.gradExec == nil {
		var err error
		m.gradExec, err = train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			w := m.net.params(scope, in[0].Graph())
			return []*graph.Node{m.net.gradientByDistance(w, in[0], in[1])}
		})
		if err != nil {
			return nil, err
		}
	}
	ctx := m.Context
	in := tensors.FromFlatDataAndDimensions(m.valIDs[:windows*ctx], windows, ctx)
	tg := tensors.FromFlatDataAndDimensions(m.valIDs[1:windows*ctx+1], windows, ctx)
	out, err := m.gradExec.Call(in, tg)
	if err != nil {
		return nil, err
	}
	byPos := tensors.MustCopyFlatData[float32](out[0])
	_ = out[0].FinalizeAll()
	norms := make([]float64, ctx)
	for k := range norms {
		norms[k] = float64(byPos[ctx-1-k])
	}
	return norms, nil
}

// gradientByDistance returns, for tokens and targets [B, T], the mean over the batch of
// ‖∂ℓ/∂x_t‖ [T], where ℓ is the NLL of the last position's target.
func (n network) gradientByDistance(w params, tokens, targets *graph.Node) *graph.Node {
	ps := n.forward(w, tokens)
	g, b, t := tokens.Graph(), tokens.Shape().Dimensions[0], tokens.Shape().Dimensions[1]
	pos := graph.Iota(g, shapes.Make(dtypes.Int32, t, b), 0)
	weight := graph.ConvertDType(graph.Equal(pos, graph.Const(g, int32(t-1))), w.embed.DType()) // [T, B]: 1 at the last position
	_, dlogits := crossEntropy(ps.logits, timeMajor(targets), weight)
	_, dx := n.backward(w, ps, dlogits)
	return graph.ReduceMean(graph.Sqrt(graph.ReduceSum(graph.Square(dx), -1)), 1)
}

// RecallConfig sets up the delayed-recall task of Recall and RecallTransformer.
type RecallConfig struct {
	Symbols      int     // alphabet size S: chance accuracy is 1/S
	Length       int     // sequence length T (> every delay)
	Hidden       int     // state width of the one recurrent layer (the embedding is as wide)
	Batch        int     // sequences per training step
	Steps        int     // training steps per (model, delay)
	LearningRate float64 // Adam's (for the recurrent cells with the gradient clipped to global norm 1)
	TestSeqs     int     // fresh sequences the accuracy is measured on
	Seed         int64
	ForgetBias   float64 // the LSTM's (Config.ForgetBias)
	// Transformer sizes the decoder-only Transformer of lib/gpt that RecallTransformer trains:
	// its DModel, Heads, Layers and MLPMult (the context is Length; other fields are unused).
	Transformer gpt.Config
}

// DefaultRecall is a task small enough to train a cell for three delays in about a minute on
// xla:cpu (two cores, shared). Its Transformer has 2 blocks of width 64, about three times the
// LSTM's parameters.
var DefaultRecall = RecallConfig{Symbols: 8, Length: 40, Hidden: 64, Batch: 32, Steps: 2500, LearningRate: 3e-3,
	TestSeqs: 1024, Seed: 1, Transformer: gpt.Config{DModel: 64, Heads: 4, Layers: 2, MLPMult: 4}}

// RecallProfile is the recall task and its delays for a profile: for ci, sequences of 20
// symbols, 300 steps per model and delay and a one-block Transformer (seconds); otherwise
// DefaultRecall at delays 5, 15 and 30.
func RecallProfile(profile string) (RecallConfig, []int) {
	if profile == "ci" {
		return RecallConfig{Symbols: 8, Length: 20, Hidden: 32, Batch: 32, Steps: 300, LearningRate: 1e-2, TestSeqs: 512,
			Seed: 1, Transformer: gpt.Config{DModel: 32, Heads: 2, Layers: 1, MLPMult: 2}}, []int{2, 6, 12}
	}
	return DefaultRecall, []int{5, 15, 30}
}

// RecallResult is one (model, delay) of Recall or RecallTransformer.
type RecallResult struct {
	Model     string  `json:"model"` // the cell (rnn, gru, lstm) or "transformer"
	Delay     int     `json:"delay"`
	Params    int     `json:"params"`     // trainable parameters
	Accuracy  float64 `json:"accuracy"`   // at the last position of TestSeqs fresh sequences
	FinalLoss float64 `json:"final_loss"` // training loss of the last step (nats; chance is log S)
}

// Transformer is RecallResult.Model for the Transformer of RecallTransformer.
const Transformer = "transformer"

// Recall measures memory directly: a one-layer network of each cell reads a sequence of
// symbols drawn uniformly from S and must output, at every step t ≥ k, the symbol it read k
// steps earlier (x_{t−k}); nothing in the input marks it, so it must be remembered. A fresh
// network is trained for each delay k (cfg.Steps steps of Adam on the mean loss over the
// positions t ≥ k), then scored on fresh sequences by whether its most likely symbol at the
// last position is x_{T−k}. A model that has not learned to remember scores 1/S.
func Recall(b compute.Backend, cfg RecallConfig, cells []Cell, delays []int) ([]RecallResult, error) {
	var models []recallModel
	for _, c := range cells {
		if err := c.Check(); err != nil {
			return nil, err
		}
		net := network{cell: c, loop: Auto.resolve(b), vocab: cfg.Symbols, embed: cfg.Hidden, hidden: cfg.Hidden, layers: 1}
		if c == LSTM {
			net.forgetBias = cfg.ForgetBias
		}
		models = append(models, recallModel{name: string(c),
			loss: func(scope *model.Scope, tokens, targets, weight *graph.Node) *graph.Node {
				loss, _ := net.trainingLoss(scope, tokens, targets, weight, 1)
				return loss
			},
			logits: func(scope *model.Scope, tokens *graph.Node) *graph.Node {
				return timeMajor(net.forward(net.params(scope, tokens.Graph()), tokens).logits)
			}})
	}
	return recallAll(b, cfg, models, delays)
}

// RecallTransformer is Recall for the decoder-only Transformer of lib/gpt (gpt.Logits, sized by
// cfg.Transformer): the same sequences, loss weights, optimizer, steps and accuracy, the
// gradient left to GoMLX's automatic differentiation and not clipped (as the gpt family
// trains). Causal attention reads every earlier position directly — recalling x_{t−k} is
// attending k positions back (Vaswani et al. 2017), with no state to carry it through k steps —
// so its accuracy should not fall with k, up to the window it sees (Length).
func RecallTransformer(b compute.Backend, cfg RecallConfig, delays []int) ([]RecallResult, error) {
	tf := cfg.Transformer
	tf.Context, tf.Batch, tf.EvalBatch, tf.LearningRate = cfg.Length, cfg.Batch, cfg.Batch, cfg.LearningRate
	if err := tf.Check(); err != nil {
		return nil, fmt.Errorf("rnn: recall's Transformer: %w", err)
	}
	return recallAll(b, cfg, []recallModel{{name: Transformer,
		loss: func(scope *model.Scope, tokens, targets, weight *graph.Node) *graph.Node {
			nll, _ := crossEntropy(timeMajor(gpt.Logits(scope, tf, cfg.Symbols, tokens)), timeMajor(targets), weight)
			return meanLoss(nll, weight)
		},
		logits: func(scope *model.Scope, tokens *graph.Node) *graph.Node {
			return gpt.Logits(scope, tf, cfg.Symbols, tokens)
		}}}, delays)
}

// recallModel is one model of the recall task: the loss of a training step, for tokens and
// targets [B, T] and loss weights [T, B], whose gradient the optimizer follows, and the logits
// [B, T, S] it predicts with.
type recallModel struct {
	name   string
	loss   func(scope *model.Scope, tokens, targets, weight *graph.Node) *graph.Node
	logits func(scope *model.Scope, tokens *graph.Node) *graph.Node
}

// recallAll trains and scores every model at every delay.
func recallAll(b compute.Backend, cfg RecallConfig, models []recallModel, delays []int) ([]RecallResult, error) {
	var out []RecallResult
	for _, rm := range models {
		for _, k := range delays {
			if k < 1 || k >= cfg.Length {
				return nil, fmt.Errorf("rnn: delay %d outside [1, %d)", k, cfg.Length)
			}
			r, err := recallOne(b, cfg, rm, k)
			if err != nil {
				return nil, fmt.Errorf("rnn: recall, %s, delay %d: %w", rm.name, k, err)
			}
			out = append(out, r)
		}
	}
	return out, nil
}

// recallBatch draws n sequences of cfg.Length symbols for delay k from r: tokens, targets
// (x_{t−k}, 0 before k) and the loss weights [T·n] (1/count for t ≥ k, 0 before), time-major
// for the weights.
func recallBatch(cfg RecallConfig, k, n int, r *rand.Rand) (tokens, targets, weight *tensors.Tensor) {
	t := cfg.Length
	tok, tg, w := make([]int32, n*t), make([]int32, n*t), make([]float32, t*n)
	for i := range n {
		for j := range t {
			tok[i*t+j] = int32(r.IntN(cfg.Symbols))
			if j >= k {
				tg[i*t+j] = tok[i*t+j-k]
				w[j*n+i] = 1 / float32(n*(t-k))
			}
		}
	}
	return tensors.FromFlatDataAndDimensions(tok, n, t), tensors.FromFlatDataAndDimensions(tg, n, t),
		tensors.FromFlatDataAndDimensions(w, t, n)
}

// recallOne trains a fresh rm for delay k and scores it. Every model sees the same sequences
// for the same delay (they are drawn from (Seed, k)).
func recallOne(b compute.Backend, cfg RecallConfig, rm recallModel, k int) (RecallResult, error) {
	res := RecallResult{Model: rm.name, Delay: k}
	store := model.NewStore()
	if err := store.SetRNGStateFromSeed(cfg.Seed); err != nil {
		return res, err
	}
	opt := optimizer.Adam().LearningRate(cfg.LearningRate).Epsilon(1e-8).Done()
	step, err := train.NewTrainExec(b, store, opt, "", []string{"loss"}, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{rm.loss(scope, in[0], in[1], in[2])}
	})
	if err != nil {
		return res, err
	}
	r := rand.New(rand.NewPCG(uint64(cfg.Seed), uint64(k)))
	for range cfg.Steps {
		tok, tg, w := recallBatch(cfg, k, cfg.Batch, r)
		ms, err := step.Run(tok, tg, w)
		if err != nil {
			return res, err
		}
		res.FinalLoss = ms[0].Value
	}
	res.Params = train.TrainableParams(store)
	// Score the last position: the argmax of its logits against x_{T−k}.
	score, err := train.NewEvalExec(b, store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		last := graph.SliceAxis(rm.logits(scope, in[0]), 1, graph.AxisElem(cfg.Length-1)) // [B, 1, S]
		return []*graph.Node{graph.ArgMax(graph.Squeeze(last, 1), -1, in[0].DType())}
	})
	if err != nil {
		return res, err
	}
	tok, tg, _ := recallBatch(cfg, k, cfg.TestSeqs, r)
	out, err := score.Call(tok)
	if err != nil {
		return res, err
	}
	pred, want := tensors.MustCopyFlatData[int32](out[0]), tensors.MustCopyFlatData[int32](tg)
	correct := 0
	for i, p := range pred {
		if p == want[i*cfg.Length+cfg.Length-1] {
			correct++
		}
	}
	res.Accuracy = float64(correct) / float64(cfg.TestSeqs)
	return res, nil
}
