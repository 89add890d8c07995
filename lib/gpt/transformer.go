package gpt

import (
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/layers/attention"
	"github.com/gomlx/gomlx/ml/layers/norm"
	"github.com/gomlx/gomlx/ml/model"
)

// The decoder-only Transformer ("GPT": Radford et al. 2018, 2019; attention from Vaswani et al.
// 2017, "Attention Is All You Need"), with pre-LayerNorm blocks (Xiong et al. 2020):
//
//	h⁰ = E[x_t] + P[t]                                  token + learned position embedding
//	a  = hˡ + Attn(LN₁(hˡ))                             causal multi-head self-attention
//	hˡ⁺¹ = a + W₂·GELU(W₁·LN₂(a) + b₁) + b₂               MLP of width MLPMult·D, exact (erf) GELU
//	logits_t = W_out·LN_f(h^L_t) + b_out                   untied head: p(x_{t+1} | x_≤t) = softmax(logits_t)
//
// Variable scopes: /token_embedding, /position_embedding, /block_<l>/{ln_attn, attention/{query,
// key, value, output}, ln_mlp, mlp/{up, down}}, /ln_final, /head.

// layerNormEpsilon is PyTorch's default (GoMLX's is 1e-3): the bench configuration compares
// like for like.
const layerNormEpsilon = 1e-5

// kvCache holds one layer's keys and values for the positions generated so far, each
// [batch, Context, heads, headDim] (BSHD layout); positions not yet written hold anything.
type kvCache struct{ k, v *graph.Node }

// forward runs the Transformer on tokens [B, T] (int32, T ≤ Context) and returns the hidden
// state after the final LayerNorm [B, T, D]. With wantKV it also returns every layer's
// keys and values (for a KV cache to continue from); with wantAttn, the attention weights of
// every layer, each [B, T, H, T] (query position, head, key position).
func (m *Model) forward(scope *model.Scope, tokens *graph.Node, wantKV, wantAttn bool) (h *graph.Node, kv []kvCache, attn []*graph.Node) {
	return m.body(scope, tokens, true, nil, wantKV, wantAttn)
}

// body is forward with the attention pattern as a parameter: causal (the GPT), or
// bidirectional over the keys where keys [B, T] (bool) is true (every key when nil).
func (m *Model) body(scope *model.Scope, tokens *graph.Node, causal bool, keys *graph.Node, wantKV, wantAttn bool) (h *graph.Node, kv []kvCache, attn []*graph.Node) {
	b, t := tokens.Shape().Dimensions[0], tokens.Shape().Dimensions[1]
	x := m.embed(scope, tokens, graph.Iota(tokens.Graph(), shapes.Make(dtypes.Int32, t), 0))
	var mask *graph.Node
	if !causal && keys != nil {
		mask = graph.Reshape(keys, b, 1, 1, t) // broadcast over [B, query, H, key]
	}
	for l := range m.Layers {
		bs := scope.In("block_%d", l)
		q, k, v, as := m.project(bs, x)
		// Causal mask: position i may attend to keys j ≤ i only — the model predicts x_{i+1}
		// from x_≤i, so a key at j > i would let it read the answer. Core applies the
		// lower-triangular mask M[i,j] = (j ≤ i) to the scores before the softmax (masked
		// weights are exactly 0), row by row: softmax_j(q_i·k_j/√d_h over j ≤ i). Without it
		// (BERT), row i is a softmax over every key that mask lets through.
		out, coef := attention.Core(q, k, v, attention.LayoutBSHD, attention.CoreOptions{
			Scale: 1 / math.Sqrt(float64(m.HeadDim())), UseCausalMask: causal, AttentionMask: mask, WantCoefficients: wantAttn})
		x = m.finishBlock(bs, as, x, out)
		if wantKV {
			kv = append(kv, kvCache{k, v})
		}
		if wantAttn {
			attn = append(attn, coef)
		}
	}
	return m.finalNorm(scope, x), kv, attn
}

// decode runs one new position through the Transformer with a KV cache: token [B] (int32) is
// the character at position pos (a scalar int32, 0 ≤ pos < Context) of every row. Its key and
// value are written into the caches at pos, and its query attends to cache positions ≤ pos —
// the same causal rule as forward, without recomputing the earlier positions (O(T·D) work per
// character instead of O(T²·D)). It returns the final hidden state [B, D] and the updated
// caches.
func (m *Model) decode(scope *model.Scope, token, pos *graph.Node, caches []kvCache) (*graph.Node, []kvCache) {
	g := token.Graph()
	b := token.Shape().Dimensions[0]
	x := m.embed(scope, graph.Reshape(token, b, 1), graph.Reshape(pos, 1)) // [B, 1, D]
	slots := graph.Iota(g, shapes.Make(dtypes.Int32, m.Context), 0)
	// Keys at cache positions j ≤ pos are valid; later slots are stale or empty.
	mask := graph.Reshape(graph.LessOrEqual(slots, pos), 1, 1, 1, m.Context) // broadcast over [B, 1 query, H, keys]
	// The new key and value go to slot pos. (A select rather than DynamicUpdateSlice, which the
	// pure-Go backend lacks; it costs one pass over the cache, as the attention does anyway.)
	write := graph.BroadcastToDims(graph.Reshape(graph.Equal(slots, pos), 1, m.Context, 1, 1), b, m.Context, m.Heads, m.HeadDim())
	put := func(cache, x *graph.Node) *graph.Node {
		return graph.Where(write, graph.BroadcastToDims(x, b, m.Context, m.Heads, m.HeadDim()), cache)
	}
	updated := make([]kvCache, len(caches))
	for l := range m.Layers {
		bs := scope.In("block_%d", l)
		q, k, v, as := m.project(bs, x) // each [B, 1, H, headDim]
		kc, vc := put(caches[l].k, k), put(caches[l].v, v)
		updated[l] = kvCache{kc, vc}
		out, _ := attention.Core(q, kc, vc, attention.LayoutBSHD, attention.CoreOptions{
			Scale: 1 / math.Sqrt(float64(m.HeadDim())), AttentionMask: mask})
		x = m.finishBlock(bs, as, x, out)
	}
	return graph.Reshape(m.finalNorm(scope, x), b, m.DModel), updated
}

// Logits builds the Transformer of cfg (its sizes: Context, DModel, Heads, Layers, MLPMult) over
// tokens [B, T] (int32, T ≤ cfg.Context) drawn from a vocabulary of vocab symbols, with its
// variables in scope, and returns the next-symbol logits [B, T, vocab]: the graph the family
// trains, for tasks other than its corpus (lib/rnn's recall task trains it on synthetic
// sequences, as it does the recurrent cells).
func Logits(scope *model.Scope, cfg Config, vocab int, tokens *graph.Node) *graph.Node {
	m := &Model{Config: cfg, vocabSize: vocab}
	return m.logits(scope, tokens)
}

// Hidden builds the Transformer of cfg over tokens [B, T] (int32 ids below vocab, T ≤
// cfg.Context), with its variables in scope, and returns the hidden state after the final
// LayerNorm [B, T, D]: the family's graph without its head, for a family that puts its own head
// on it. With causal, position i attends to keys j ≤ i (the GPT). Without, every position
// attends to every key j where keys[b, j] is true (keys: bool [B, T]; nil means all): the
// bidirectional encoder of BERT (Devlin et al. 2019, §3), for which keys hides the padding of
// rows shorter than T. keys is ignored when causal.
func Hidden(scope *model.Scope, cfg Config, vocab int, tokens, keys *graph.Node, causal bool) *graph.Node {
	m := &Model{Config: cfg, vocabSize: vocab}
	h, _, _ := m.body(scope, tokens, causal, keys, false, false)
	return h
}

// NLL is the cross-entropy −log softmax(logits)[target] of each target, in nats, for logits
// [..., V] and int32 targets [...].
func NLL(logits, targets *graph.Node) *graph.Node { return nll(logits, targets) }

// logits returns the next-character logits [B, T, V] for tokens [B, T].
func (m *Model) logits(scope *model.Scope, tokens *graph.Node) *graph.Node {
	h, _, _ := m.forward(scope, tokens, false, false)
	return m.head(scope, h)
}

// embed returns E[tokens] + P[positions]: tokens [B, T] int32, positions [T] int32 → [B, T, D].
func (m *Model) embed(scope *model.Scope, tokens, positions *graph.Node) *graph.Node {
	b, t := tokens.Shape().Dimensions[0], tokens.Shape().Dimensions[1]
	// The explicit index axis [B, T, 1] keeps T = 1 from being taken for it.
	x := layers.Embedding(scope.In("token_embedding"), graph.InsertAxes(tokens, -1), dtypes.Float32, m.vocabSize, m.DModel)
	table := scope.In("position_embedding").VariableWithShape("embeddings",
		shapes.Make(dtypes.Float32, m.Context, m.DModel)).NodeValue(tokens.Graph())
	p := graph.Gather(table, graph.Reshape(positions, t, 1)) // [T, D]
	return graph.Add(x, graph.BroadcastToDims(graph.Reshape(p, 1, t, m.DModel), b, t, m.DModel))
}

// project computes the queries, keys and values of LN₁(x) for x [B, T, D]: three Dense layers
// with bias, each [B, T, H, headDim]. It also returns the attention's scope (for its output
// projection).
func (m *Model) project(scope *model.Scope, x *graph.Node) (q, k, v *graph.Node, as *model.Scope) {
	h := layerNorm(scope.In("ln_attn"), x)
	as = scope.In("attention")
	q = layers.Dense(as.In("query"), h, true, m.Heads, m.HeadDim())
	k = layers.Dense(as.In("key"), h, true, m.Heads, m.HeadDim())
	v = layers.Dense(as.In("value"), h, true, m.Heads, m.HeadDim())
	return q, k, v, as
}

// finishBlock completes a block given the attention heads' output [B, T, H, headDim]: the
// output projection (in the attention scope as) and residual, then the MLP and residual.
func (m *Model) finishBlock(scope, as *model.Scope, x, heads *graph.Node) *graph.Node {
	dims := x.Shape().Dimensions
	heads = graph.Reshape(heads, dims[0], dims[1], m.DModel) // concatenate the heads
	x = graph.Add(x, layers.Dense(as.In("output"), heads, true, m.DModel))
	h := layerNorm(scope.In("ln_mlp"), x)
	ms := scope.In("mlp")
	h = activation.Gelu(layers.Dense(ms.In("up"), h, true, m.MLPMult*m.DModel)) // exact: x·Φ(x)
	return graph.Add(x, layers.Dense(ms.In("down"), h, true, m.DModel))
}

func (m *Model) finalNorm(scope *model.Scope, x *graph.Node) *graph.Node {
	return layerNorm(scope.In("ln_final"), x)
}

// head maps hidden states [..., D] to next-character logits [..., V] (untied from the embedding).
func (m *Model) head(scope *model.Scope, h *graph.Node) *graph.Node {
	return layers.Dense(scope.In("head"), h, true, m.vocabSize)
}

// layerNorm normalizes the last axis with a learned gain and offset (Ba et al. 2016).
func layerNorm(scope *model.Scope, x *graph.Node) *graph.Node {
	return norm.LayerNorm(scope, x, -1).Epsilon(layerNormEpsilon).Done()
}

// nll returns the negative log-likelihood of each target, −log softmax(logits)[target], for
// logits [..., V] and int32 targets [...]: the cross-entropy of the next character, in nats.
func nll(logits, targets *graph.Node) *graph.Node {
	logp := graph.LogSoftmax(logits, -1)
	onehot := graph.OneHot(targets, logits.Shape().Dimensions[logits.Rank()-1], logits.DType())
	return graph.Neg(graph.ReduceSum(graph.Mul(logp, onehot), -1))
}
