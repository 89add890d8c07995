package text2img

import (
	"fmt"
	"math"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/train"
)

// The latent space (Config.Space "latent"), as Stable Diffusion (Rombach et al. 2022): a VAE
// (lib/vae's encoder and decoder, Config.VAE) trains first, VAESteps steps on −ELBO_β of the
// combined images; then every training image is encoded once to the mean μ(x) of q(z|x),
// scaled to unit variance (Rombach et al.'s scale factor, §4.3.2 and Appendix G), and the
// same diffusion — schedule, v-objective, prompts, classifier-free guidance, DDIM/DDPM — runs on
// those vectors with an MLP (LatentDenoiser) instead of the U-Net; samples are decoded by the
// VAE's decoder. A latent is carried as [B, Latent, 1, 1] so that lib/diffusion's graph pieces
// (made for [B, H, W, C]) apply unchanged.

// vaeScope holds the autoencoder's variables.
const vaeScope = "vae"

// latentSpace is the state of the latent variant.
type latentSpace struct {
	vaeStep *train.Exec // one Adam step on −ELBO_β
	encode  *train.Exec // images [B, 28, 28, 1] in [0, 1] → μ [B, Latent]
	decode  *train.Exec // latents [B, Latent] (unscaled) → images in [0, 1]
	values  []float32   // the training images' scaled μ, [N·Latent]; nil until needed
	scale   float64     // 1/std of μ over the training set
}

const latentBatch = 1000

func (m *Model) newLatentSpace() error {
	ls := &latentSpace{}
	vc := m.VAE
	adam := optimizer.Adam().LearningRate(vc.LearningRate).Betas(0.9, 0.999).Epsilon(1e-8).Done()
	var err error
	ls.vaeStep, err = train.NewTrainExec(m.backend, m.store, adam, vaeScope, []string{"vae_loss"},
		func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			x := in[0]
			eps := nn.StandardNormal(scope, x.Graph(), shapes.Make(dtypes.Float32, x.Shape().Dimensions[0], vc.Latent))
			recon, kl := vc.NegELBO(scope.At(vaeScope), x, eps)
			return []*graph.Node{graph.ReduceAllMean(graph.Add(recon, graph.MulScalar(kl, vc.Beta)))}
		})
	if err != nil {
		return err
	}
	ls.encode, err = train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		mu, logVar := vc.Encoder(scope.At(vaeScope), in[0])
		return []*graph.Node{mu, logVar} // log σ² unused, but the go backend failed to run the graph without it
	})
	if err != nil {
		return err
	}
	ls.decode, err = train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{graph.Reshape(graph.Sigmoid(vc.Decoder(scope.At(vaeScope), in[0])), -1, 28, 28, 1)}
	})
	m.latent = ls
	return err
}

// LatentDenoiser is the network of the latent space: z_t [B, L, 1, 1], t [B] int32 and the
// prompt embedding cond [B, D] → [B, L, 1, 1]. h = Dense(concat(z_t, sinusoidal(t), cond)),
// then depth residual blocks h += Dense(SiLU(Dense(SiLU(h)))), then Dense → L.
func LatentDenoiser(scope *model.Scope, zt, t, cond *graph.Node, hidden, depth int) *graph.Node {
	b, l := zt.Shape().Dimensions[0], zt.Shape().Dimensions[1]
	temb := nn.SinusoidalEmbedding(t, 64)
	h := layers.Dense(scope.In("in"), graph.Concatenate([]*graph.Node{graph.Reshape(zt, b, l), temb, cond}, -1), true, hidden)
	for i := range depth {
		r := activation.Swish(layers.Dense(scope.In("block%d_a", i), activation.Swish(h), true, hidden))
		h = graph.Add(h, layers.Dense(scope.In("block%d_b", i), r, true, hidden))
	}
	return graph.Reshape(layers.Dense(scope.In("out"), activation.Swish(h), true, l), b, l, 1, 1)
}

// vaeStep trains the autoencoder on batch number step of the grey images in [0, 1] (the
// Bernoulli likelihood of lib/vae read as a cross-entropy on grey levels).
func (m *Model) vaeStep(step int) (train.Metrics, error) {
	m.latent.values = nil // the encoder changes: encode again when needed
	idx := data.BatchIndices(m.train.N, m.VAE.Batch, m.seed, step)
	return m.latent.vaeStep.Run(m.train.Float32(idx, 0, 1))
}

// latents returns the scaled latents of the training images idx, [len(idx), Latent, 1, 1].
func (m *Model) latents(idx []int) (*tensors.Tensor, error) {
	if err := m.encodeTrainSet(); err != nil {
		return nil, err
	}
	L := m.VAE.Latent
	out := make([]float32, len(idx)*L)
	for i, j := range idx {
		copy(out[i*L:], m.latent.values[j*L:(j+1)*L])
	}
	return tensors.FromFlatDataAndDimensions(out, len(idx), L, 1, 1), nil
}

// encodeTrainSet encodes the training set and sets the scale, unless done since the VAE's last
// step.
func (m *Model) encodeTrainSet() error {
	ls, L := m.latent, m.VAE.Latent
	if ls.values == nil {
		values := make([]float32, 0, m.train.N*L)
		for start := 0; start < m.train.N; start += latentBatch {
			rows := make([]int, latentBatch)
			for i := range rows {
				rows[i] = min(start+i, m.train.N-1)
			}
			res, err := ls.encode.Call(m.train.Float32(rows, 0, 1))
			if err != nil {
				return fmt.Errorf("text2img: encoding the training set: %w", err)
			}
			mu := tensors.MustCopyFlatData[float32](res[0])
			res[0].FinalizeAll()
			res[1].FinalizeAll()
			values = append(values, mu[:min(latentBatch, m.train.N-start)*L]...)
		}
		var sq float64
		for _, v := range values {
			sq += float64(v) * float64(v)
		}
		ls.scale = 1 / math.Sqrt(sq/float64(len(values))+1e-12)
		for i := range values {
			values[i] *= float32(ls.scale)
		}
		ls.values = values
	}
	return nil
}

// decodeLatents turns n sampled scaled latents into images with the VAE's decoder.
func (m *Model) decodeLatents(values []float32, n int) (*data.Images, error) {
	if err := m.encodeTrainSet(); err != nil { // the scale
		return nil, err
	}
	L := m.VAE.Latent
	z := make([][]float32, n)
	for i := range z {
		z[i] = make([]float32, L)
		for j := range L {
			z[i][j] = values[i*L+j] / float32(m.latent.scale)
		}
	}
	return imagegen.Decode(m.latent.decode, z, L, latentBatch, imagegen.MNIST, 0, 1)
}
