package nn

import (
	"fmt"
	"math"
	"slices"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/layers/attention"
	"github.com/gomlx/gomlx/ml/model"
)

// UNetConfig is the shape of a DDPM U-Net (Ho et al. 2020, Appendix B: the PixelCNN++ backbone
// of Salimans et al. 2017, a U-Net of Ronneberger et al. 2015 with residual blocks and
// self-attention): one residual block per level on the way down and one on the way up, levels
// at full, half, quarter… resolution, the way down keeping each level's output for the way up
// (skip connections, concatenated). See UNet.
type UNetConfig struct {
	Channels  int   `json:"channels"`             // C: the channels of level 0 (BENCH.md: 32)
	Mults     []int `json:"channel_mults"`        // level l has C·Mults[l] channels at 1/2^l of the input's size (BENCH.md: 1, 2, 2 at 28, 14 and 7 pixels)
	Attention []int `json:"attention_levels"`     // the levels whose residual blocks are followed by self-attention (BENCH.md: 2, the 7×7 level)
	Heads     int   `json:"heads"`                // attention heads (BENCH.md: 4)
	Groups    int   `json:"groups"`               // GroupNorm groups (BENCH.md: 8)
	TimeDim   int   `json:"time_dim"`             // width of the sinusoidal time embedding and of its MLP (BENCH.md: 128)
	ResBlocks int   `json:"res_blocks,omitempty"` // residual blocks per level and way (0 or 1: one, BENCH.md's; Ho et al. 2020 use 2)
}

// BenchUNet returns BENCH.md's diffusion U-Net: 32 base channels, multipliers (1, 2, 2), one
// 4-head attention block at 7×7, GroupNorm with 8 groups, time embedding 128.
func BenchUNet() UNetConfig {
	return UNetConfig{Channels: 32, Mults: []int{1, 2, 2}, Attention: []int{2}, Heads: 4, Groups: 8, TimeDim: 128}
}

// Check reports the first thing that keeps c from building a U-Net on square images of side
// size: every level's channels must split into Groups (and into Heads where it has attention),
// and size must halve exactly down to the last level (the way up doubles it back).
func (c UNetConfig) Check(size int) error {
	if c.Channels < 1 || len(c.Mults) == 0 || c.Groups < 1 || c.TimeDim < 4 || c.TimeDim%2 != 0 || c.ResBlocks < 0 {
		return fmt.Errorf("u-net: channels (%d), groups (%d) must be ≥ 1, channel_mults (%v) not empty, time_dim (%d) even and ≥ 4, res_blocks (%d) ≥ 0",
			c.Channels, c.Groups, c.Mults, c.TimeDim, c.ResBlocks)
	}
	for l, m := range c.Mults {
		if m < 1 || c.Channels*m%c.Groups != 0 {
			return fmt.Errorf("u-net: level %d has %d·%d channels, which must be ≥ 1 and divisible by groups = %d", l, c.Channels, m, c.Groups)
		}
	}
	for _, l := range c.Attention {
		if l < 0 || l >= len(c.Mults) {
			return fmt.Errorf("u-net: attention level %d outside the %d levels", l, len(c.Mults))
		}
		if c.Heads < 1 || c.Channels*c.Mults[l]%c.Heads != 0 {
			return fmt.Errorf("u-net: level %d's %d channels must split into heads = %d", l, c.Channels*c.Mults[l], c.Heads)
		}
	}
	if down := 1 << (len(c.Mults) - 1); size%down != 0 {
		return fmt.Errorf("u-net: %d levels halve the size %d times: %d pixels is not a multiple of %d", len(c.Mults), len(c.Mults)-1, size, down)
	}
	return nil
}

// UNet is the ε-prediction network of DDPM (Ho et al. 2020, Appendix B): images x
// [B, H, W, Cx] and time steps t [B] (int32 or float) → ε̂ [B, H, W, Cx]. With L = len(Mults)
// levels and C_l = Channels·Mults[l]:
//
//	temb = Dense(SiLU(Dense(sinusoidal(t))))                       (all TimeDim wide)
//	h = Conv3×3 Cx→C_0
//	down, l = 0…L−1:  h = ResBlocks(h) → C_l [+ attention];  for l < L−1: s_l = h, h = stride-2 Conv3×3 (C_l kept)
//	up, l = L−2…0:    h = Conv3×3(nearest×2(h)) (channels kept);  h = ResBlocks(concat(h, s_l)) → C_l [+ attention]
//	ε̂ = Conv3×3(SiLU(GroupNorm(h))) → Cx
//
// With BenchUNet this is BENCH.md's U-Net exactly (conv_in 1→32; ResBlock 32→32 at 28×28;
// 32→64 at 14×14; 64→64 and attention at 7×7; ResBlocks 128→64 and 96→32 on the way up). The
// convolutions are Conv2D, so the scope's ParamNativeConv applies. cfg must pass Check for
// x's size.
func UNet(scope *model.Scope, cfg UNetConfig, x, t *graph.Node) *graph.Node {
	return UNetCond(scope, cfg, x, t, nil)
}

// UNetCond is UNet conditioned on a vector per image, cond [B, D] (a text embedding, a class
// embedding), in two ways: a Dense layer maps it to TimeDim and adds it to the time embedding,
// so every residual block sees it where it sees t (the pooled-embedding conditioning of GLIDE
// and Imagen; Ho & Salimans 2022's class-conditional U-Net), and another maps it to an H×W map
// concatenated to x as an extra input channel (as cascaded models concatenate their
// low-resolution image, Ho et al. 2022), which gives the network each prompt's layout at once
// rather than through per-channel biases. A nil cond is UNet exactly, with the same variables.
func UNetCond(scope *model.Scope, cfg UNetConfig, x, t, cond *graph.Node) *graph.Node {
	temb := SinusoidalEmbedding(t, cfg.TimeDim)
	temb = activation.Swish(layers.Dense(scope.In("temb1"), temb, true, cfg.TimeDim))
	temb = layers.Dense(scope.In("temb2"), temb, true, cfg.TimeDim)
	in := x
	if cond != nil {
		temb = graph.Add(temb, layers.Dense(scope.In("cond"), cond, true, cfg.TimeDim))
		d := x.Shape().Dimensions
		layout := graph.Reshape(layers.Dense(scope.In("cond_map"), cond, true, d[1]*d[2]), d[0], d[1], d[2], 1)
		in = graph.Concatenate([]*graph.Node{x, layout}, 3)
	}

	last := len(cfg.Mults) - 1
	channels := func(h *graph.Node) int { return h.Shape().Dimensions[3] }
	h := Conv2D(scope.In("conv_in"), in, cfg.Channels*cfg.Mults[0], 3, 1, 1)
	skips := make([]*graph.Node, last)
	for l := range cfg.Mults {
		h = cfg.level(scope.In("down_%d", l), h, temb, l)
		if l < last {
			skips[l] = h
			h = Downsample(scope.In("down_%d_ds", l), h, channels(h))
		}
	}
	for l := last - 1; l >= 0; l-- {
		h = Conv2D(scope.In("up_%d_us", l), Upsample2x(h), channels(h), 3, 1, 1)
		h = cfg.level(scope.In("up_%d", l), graph.Concatenate([]*graph.Node{h, skips[l]}, 3), temb, l)
	}
	h = activation.Swish(GroupNorm(scope.In("out_gn"), h, cfg.Groups))
	return Conv2D(scope.In("conv_out"), h, channels(x), 3, 1, 1)
}

// level is the work of level l on one way through the U-Net: ResBlocks residual blocks (at
// least one) to Channels·Mults[l] channels, then self-attention if the level has it. The first
// block's variables sit in the level's scope itself, so one block is BENCH.md's U-Net with its
// variable names.
func (c UNetConfig) level(scope *model.Scope, h, temb *graph.Node, l int) *graph.Node {
	for i := range max(c.ResBlocks, 1) {
		s := scope
		if i > 0 {
			s = scope.In("res_%d", i)
		}
		h = ResBlock(s, h, temb, c.Channels*c.Mults[l], c.Groups)
	}
	if slices.Contains(c.Attention, l) {
		h = AttentionBlock(scope.In("attn"), h, c.Heads, c.Groups)
	}
	return h
}

// ResBlock is the U-Net's residual block (DDPM, Ho et al. 2020, Appendix B; BENCH.md):
//
//	h = Conv3×3(SiLU(GroupNorm(x))) → cout,  h += Dense(SiLU(temb)) (per channel, every pixel)
//	h = Conv3×3(SiLU(GroupNorm(h)));  out = skip(x) + h
//
// where skip is x itself when it has cout channels, a 1×1 convolution otherwise. x
// [B, H, W, Cin], temb [B, E] → [B, H, W, cout]; Cin and cout must be divisible by groups.
func ResBlock(scope *model.Scope, x, temb *graph.Node, cout, groups int) *graph.Node {
	return resBlock(Conv2D, scope, x, temb, cout, groups)
}

// conv2DLayer is a convolution layer with Conv2D's signature (benchmarks swap in others).
type conv2DLayer func(scope *model.Scope, x *graph.Node, outChannels, kernel, stride, padding int) *graph.Node

func resBlock(conv conv2DLayer, scope *model.Scope, x, temb *graph.Node, cout, groups int) *graph.Node {
	b, cin := x.Shape().Dimensions[0], x.Shape().Dimensions[3]
	h := conv(scope.In("conv1"), activation.Swish(GroupNorm(scope.In("gn1"), x, groups)), cout, 3, 1, 1)
	t := layers.Dense(scope.In("temb"), activation.Swish(temb), true, cout)
	h = graph.Add(h, graph.Reshape(t, b, 1, 1, cout))
	h = conv(scope.In("conv2"), activation.Swish(GroupNorm(scope.In("gn2"), h, groups)), cout, 3, 1, 1)
	skip := x
	if cin != cout {
		skip = conv(scope.In("shortcut"), x, cout, 1, 1, 0)
	}
	return graph.Add(skip, h)
}

// AttentionBlock is the U-Net's self-attention block (DDPM, Ho et al. 2020, Appendix B; the
// attention of Vaswani et al. 2017): GroupNorm, then every pixel attends to every pixel with
// `heads` heads — q, k, v by per-pixel Dense layers, softmax(q·kᵀ/√d)·v over the H·W positions,
// d = C/heads — and an output Dense layer, added back to x. x [B, H, W, C] → same shape; C must
// be divisible by heads and by groups.
func AttentionBlock(scope *model.Scope, x *graph.Node, heads, groups int) *graph.Node {
	d := x.Shape().Dimensions
	b, n, c := d[0], d[1]*d[2], d[3]
	h := graph.Reshape(GroupNorm(scope.In("gn"), x, groups), b, n, c)
	q := layers.Dense(scope.In("query"), h, true, heads, c/heads) // [B, H·W, heads, C/heads]
	k := layers.Dense(scope.In("key"), h, true, heads, c/heads)
	v := layers.Dense(scope.In("value"), h, true, heads, c/heads)
	out, _ := attention.Core(q, k, v, attention.LayoutBSHD, attention.CoreOptions{Scale: 1 / math.Sqrt(float64(c/heads))})
	out = layers.Dense(scope.In("output"), graph.Reshape(out, b, n, c), true, c)
	return graph.Add(x, graph.Reshape(out, d...))
}
