package text2img

import (
	"encoding/json"
	"fmt"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/diffusion"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/train"
)

// Guided is classifier-free guidance (Ho & Salimans 2022, eq. 6): the noise estimate
//
//	ε̃ = (1 + w)·ε(z, c) − w·ε(z, ∅)
//
// from the conditional estimate cond, the unconditional uncond (same shape) and the scale w (a
// scalar node). w = 0 gives cond; w > 0 extrapolates away from the unconditional estimate.
func Guided(cond, uncond, w *graph.Node) *graph.Node {
	return graph.Sub(graph.Mul(graph.OnePlus(w), cond), graph.Mul(w, uncond))
}

// newDenoiseExec compiles one guided reverse step: inputs x_t [SampleBatch, 28, 28, 1] (or
// latents [SampleBatch, Latent, 1, 1]), z (same shape), t (int32 scalar), the step's coefficients [6] (diffusion.StepCoefficients.Vector),
// the prompts' tokens [SampleBatch, MaxWords] int32 and w (float32 scalar); outputs the next x
// and x̂_0. One U-Net pass on the batch twice over — once with the prompts, once with ∅ —
// gives both estimates of Guided.
func (m *Model) newDenoiseExec() (*train.Exec, error) {
	return train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		x, z, t, coef, tokens, w := in[0], in[1], in[2], in[3], in[4], in[5]
		b := x.Shape().Dimensions[0]
		null := make([]int32, b*MaxWords)
		for i := range b {
			null[i*MaxWords] = nullToken
		}
		both := graph.Concatenate([]*graph.Node{tokens, graph.Const(x.Graph(), tensors.FromFlatDataAndDimensions(null, b, MaxWords))}, 0)
		xx := graph.Concatenate([]*graph.Node{x, x}, 0)
		out := m.network(m.net(scope, true), xx, graph.BroadcastToDims(t, 2*b), both)
		diffusion.FreezeEMA(m.store)
		sqrtAB := graph.Reshape(graph.Slice(coef, graph.AxisElem(0)), 1, 1, 1, 1) // diffusion.StepCoefficients.Vector's order
		sqrtOneMinusAB := graph.Reshape(graph.Slice(coef, graph.AxisElem(1)), 1, 1, 1, 1)
		eps := diffusion.EpsilonFrom(m.Prediction, out, xx, sqrtAB, sqrtOneMinusAB)
		epsHat := Guided(graph.Slice(eps, graph.AxisRange(0, b)), graph.Slice(eps, graph.AxisRange(b, 2*b)), w)
		next, x0 := diffusion.ReverseStep(x, epsHat, z, coef)
		return []*graph.Node{next, x0}
	})
}

// Generate draws one image per prompt with sampler s and guidance s.Guidance (s.Prompt is
// ignored), from noise seeded by seed; image i depends only on its prompt, its index and seed.
func (m *Model) Generate(s Sampling, prompts []string, seed uint64) (*data.Images, error) {
	if err := s.Check(m.Timesteps); err != nil {
		return nil, err
	}
	batch, n := m.SampleBatch, len(prompts)
	tokens := make([]int32, ((n+batch-1)/batch)*batch*MaxWords)
	for i, p := range prompts {
		ids, err := Encode(p)
		if err != nil {
			return nil, err
		}
		copy(tokens[i*MaxWords:], ids)
	}
	for i := n; i < len(tokens)/MaxWords; i++ { // padding images: any valid prompt
		tokens[i*MaxWords] = nullToken
	}
	step := func(start int, x, z *tensors.Tensor, t int32, coef []float32) ([]*tensors.Tensor, error) {
		chunk := tensors.FromFlatDataAndDimensions(tokens[start*MaxWords:(start+batch)*MaxWords], batch, MaxWords)
		return m.denoise.Call(x, z, t, coef, chunk, float32(s.Guidance))
	}
	dims := []int{28, 28, 1}
	if m.Space == "latent" {
		dims, s.Clip = []int{m.VAE.Latent, 1, 1}, false // latents have no [−1, 1] range to clip to
	}
	values, err := diffusion.Reverse(s.Sampling, m.schedule, step, dims, batch, n, seed, nil)
	if err != nil {
		return nil, fmt.Errorf("text2img: %w", err)
	}
	im := &data.Images{Name: "samples", N: n, Height: 28, Width: 28, Channels: 1, Pixels: make([]uint8, len(values))}
	if m.Space == "latent" {
		if im, err = m.decodeLatents(values, n); err != nil {
			return nil, err
		}
	} else {
		for i, v := range values {
			im.Pixels[i] = imagegen.GreyLevel(v, -1, 1)
		}
	}
	im.NumClasses, im.ClassNames, im.Labels = NumClasses, Classes, make([]uint8, n)
	for i, p := range prompts {
		im.Labels[i] = uint8(max(0, ClassOf(p))) // the class asked for
	}
	return im, nil
}

// prompts returns n prompts: prompt each time, or with prompt "" the 20 class prompts in turn.
func prompts(prompt string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = prompt
		if prompt == "" {
			out[i] = Classes[i%NumClasses]
		}
	}
	return out
}

// Samples draws n images of the current sampler's prompt and guidance, seeded by seed (an
// imagegen.Generator).
func (m *Model) Samples(n int, seed uint64) (*data.Images, error) {
	return m.Generate(m.sampling, prompts(m.sampling.Prompt, n), seed)
}

// Sample writes a PNG grid of n samples to path; the run's seed picks them.
func (m *Model) Sample(n int, path string) error {
	return imagegen.WriteSamples(m, n, uint64(m.seed), path)
}

// SetSampling changes the sampler of Samples and Sample (family.SamplingOptions): a JSON object
// of Sampling's fields, e.g. {"prompt": "un siete", "guidance": 2, "steps": 50}.
func (m *Model) SetSampling(options json.RawMessage) error {
	s, err := family.DecodeChecked(options, m.sampling, "text2img sampling options", func(s Sampling) error { return s.Check(m.Timesteps) })
	if err == nil {
		m.sampling = s
	}
	return err
}

// Sampler returns the sampler of Samples and Sample.
func (m *Model) Sampler() Sampling { return m.sampling }

// FromPrompt draws n images of prompt with guidance scale w, from noise seeded by seed, with
// the run's sampler (its configuration's, or the one `--set` chose): the notebook's one call.
func FromPrompt(run *family.Run, prompt string, n int, w float64, seed uint64) (*data.Images, error) {
	m, ok := run.Model.(*Model)
	if !ok {
		return nil, fmt.Errorf("text2img: the run holds a %s model, not text2img", run.Family)
	}
	if n <= 0 {
		return nil, fmt.Errorf("text2img: the number of images must be > 0, got %d", n)
	}
	s := m.sampling
	s.Prompt, s.Guidance = prompt, w
	return m.Generate(s, prompts(prompt, n), seed)
}

var (
	_ family.Sampler         = (*Model)(nil)
	_ family.SamplingOptions = (*Model)(nil)
	_ imagegen.Generator     = (*Model)(nil)
)
