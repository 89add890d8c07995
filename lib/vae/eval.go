package vae

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/shapes"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/metrics"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/train"
)

// TestBinarizationSeed fixes the one binarization of the MNIST test set that every VAE run is
// scored on (BENCH.md: "the test set binarized once with a fixed seed"), whatever the run's seed.
const TestBinarizationSeed = 20140101

// EvalSeed seeds the importance samples of IWAE, so that evaluating a model twice gives the same
// number. Evaluation never draws from the training RNG in the store: a resumed run repeats an
// uninterrupted one however often it was evaluated.
const EvalSeed = 2016

// Binarize returns a copy of im with every pixel drawn once as Bernoulli(grey level/255):
// 0 or 255, from a PCG generator seeded with seed.
func Binarize(im *data.Images, seed uint64) *data.Images {
	out := *im
	out.Name = im.Name + "-binarized"
	out.Pixels = make([]uint8, len(im.Pixels))
	r := rand.New(rand.NewPCG(seed, 0x5eed))
	for i, v := range im.Pixels {
		if r.Float64()*255 < float64(v) {
			out.Pixels[i] = 255
		}
	}
	return &out
}

// TestSet returns the binarized MNIST test images the model is evaluated on (pixels 0 or 255).
func (m *Model) TestSet() *data.Images { return m.test }

// TrainSet returns the grey MNIST training images (binarized afresh at every step).
func (m *Model) TrainSet() *data.Images { return m.train }

// IWAEResult is an importance-weighted evaluation on the binarized test set.
type IWAEResult struct {
	NLL     float64 // −L_K: the IWAE upper bound on the test negative log-likelihood, nats per image
	Recon   float64 // −E_q[log p(x|z)], averaged over all K·N samples, nats per image
	K       int     // importance samples per image
	Images  int     // test images scored
	Seconds float64 // wall time of the evaluation
}

// IWAE estimates the test log-likelihood of the first n binarized test images (n ≤ 0: all) with
// the importance-weighted bound of Burda et al. 2016 (eq. 8), using k samples per image:
//
//	log p(x) ≥ L_k(x) = log (1/k) Σ_i p(x, z_i)/q(z_i|x),   z_i ~ q(z|x),
//
// which tightens as k grows (L_1 is the ELBO) and is returned as NLL = −mean L_k. The
// log-weights are computed in the graph, IWAEChunk samples per call, and reduced by
// metrics.IWAEBounds (a stable log-mean-exp).
func (m *Model) IWAE(k, n int) (IWAEResult, error) {
	t0 := time.Now()
	if k < 1 {
		return IWAEResult{}, fmt.Errorf("vae: IWAE needs k ≥ 1 samples, got %d", k)
	}
	if n <= 0 || n > m.test.N {
		n = m.test.N
	}
	kc := min(k, m.IWAEChunk) // samples per image per call: a divisor of k
	for k%kc != 0 {
		kc--
	}
	nb := min(n, max(1, m.IWAEChunk/kc)) // images per call
	exec, err := m.iwaeExec(kc)
	if err != nil {
		return IWAEResult{}, err
	}
	state, err := graph.RNGStateFromSeed(EvalSeed)
	if err != nil {
		return IWAEResult{}, err
	}
	var sumBound, sumLogPx float64
	logW := make([][]float64, nb)
	for start := 0; start < n; start += nb {
		valid := min(nb, n-start)
		idx := make([]int, nb)
		for i := range idx {
			idx[i] = start + min(i, valid-1) // the last batch repeats its last image
		}
		x := m.test.Float32(idx, 0, 1)
		for i := range logW {
			logW[i] = logW[i][:0]
		}
		for c := 0; c < k; c += kc {
			out, err := exec.Call(x, state)
			if err != nil {
				return IWAEResult{}, fmt.Errorf("vae: IWAE: %w", err)
			}
			w := tensors.MustCopyFlatData[float32](out[0])
			px := tensors.MustCopyFlatData[float32](out[1])
			state = out[2]
			for i := range valid {
				for j := range kc {
					logW[i] = append(logW[i], float64(w[i*kc+j]))
					sumLogPx += float64(px[i*kc+j])
				}
			}
		}
		bounds, err := metrics.IWAEBounds(logW[:valid])
		if err != nil {
			return IWAEResult{}, fmt.Errorf("vae: IWAE: %w", err)
		}
		for _, b := range bounds {
			sumBound += b
		}
	}
	return IWAEResult{NLL: -sumBound / float64(n), Recon: -sumLogPx / float64(n*k), K: k, Images: n,
		Seconds: time.Since(t0).Seconds()}, nil
}

// iwaeExec returns the compiled log-weight computation for k samples per image.
func (m *Model) iwaeExec(k int) (*train.Exec, error) {
	if e, ok := m.iwaeExecs[k]; ok {
		return e, nil
	}
	e, err := train.NewEvalExec(m.backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		// The RNG state is an input and an output, not the store's: evaluation leaves training alone.
		x, state := in[0], in[1]
		noise := shapes.Make(dtypes.Float32, x.Shape().Dimensions[0], k, m.Latent)
		state, u1 := graph.RandomUniform(state, noise)
		state, u2 := graph.RandomUniform(state, noise)
		logW, logPx := m.logWeights(scope, x, nn.BoxMuller(u1, u2))
		return []*graph.Node{logW, logPx, state}
	})
	if err != nil {
		return nil, err
	}
	m.iwaeExecs[k] = e
	return e, nil
}

// LatentStats describes how the model uses its latent dimensions on a set of test images.
type LatentStats struct {
	KLPerDim []float64 // mean over images of KL(q(z_d|x) ‖ N(0, 1)), nats, per dimension
	Activity []float64 // Cov_x(E_q[z_d]): variance over images of μ_d(x), per dimension
	Active   int       // dimensions with Activity > ActiveThreshold (Burda et al. 2016, §5.2)
	KL       float64   // Σ_d KLPerDim: the mean KL term of the ELBO, nats per image
}

// ActiveThreshold is Burda et al.'s criterion for an active latent unit: A_d = Cov_x(E_q[z_d]) > 0.01.
// An inactive unit has q(z_d|x) ≈ p(z_d) for every x: it carries no information (its KL is ≈ 0).
const ActiveThreshold = 0.01

// Latents computes LatentStats on the first n binarized test images (n ≤ 0: all).
func (m *Model) Latents(n int) (LatentStats, error) {
	if n <= 0 || n > m.test.N {
		n = m.test.N
	}
	mu, logVar, err := m.Encode(m.test, seq(n))
	if err != nil {
		return LatentStats{}, err
	}
	d := m.Latent
	s := LatentStats{KLPerDim: make([]float64, d), Activity: make([]float64, d)}
	mean := make([]float64, d)
	for i := range n {
		for j := range d {
			mu, lv := float64(mu[i][j]), float64(logVar[i][j])
			s.KLPerDim[j] += 0.5 * (mu*mu + math.Exp(lv) - 1 - lv)
			mean[j] += mu
		}
	}
	for j := range d {
		s.KLPerDim[j] /= float64(n)
		mean[j] /= float64(n)
	}
	for i := range n {
		for j := range d {
			dv := float64(mu[i][j]) - mean[j]
			s.Activity[j] += dv * dv
		}
	}
	for j := range d {
		s.Activity[j] /= float64(n)
		if s.Activity[j] > ActiveThreshold {
			s.Active++
		}
		s.KL += s.KLPerDim[j]
	}
	return s, nil
}

// Evaluate scores the model on the binarized test set (its first EvalImages images; all when 0).
// Its metrics are the family's fields of metrics.json, all in nats per image:
//
//	test_nll_nats    IWAE bound with iwae_k samples (an upper bound on −log p(x))
//	test_elbo_nats   −ELBO = test_recon_nats + test_kl_nats (≥ test_nll_nats; β plays no part)
//	test_recon_nats  −E_q[log p(x|z)], test_kl_nats  KL(q(z|x) ‖ p(z)) in closed form
//	active_units     latent dimensions with Cov_x(E_q[z]) > 0.01, out of latent_dims
//	iwae_k, iwae_images, iwae_seconds   how the bound was computed, and how long it took
func (m *Model) Evaluate(int) (train.Metrics, error) {
	r, err := m.IWAE(m.IWAEK, m.EvalImages)
	if err != nil {
		return nil, err
	}
	s, err := m.Latents(r.Images)
	if err != nil {
		return nil, err
	}
	ms := train.Metrics{
		{Name: "test_nll_nats", Value: r.NLL},
		{Name: "test_elbo_nats", Value: r.Recon + s.KL},
		{Name: "test_recon_nats", Value: r.Recon},
		{Name: "test_kl_nats", Value: s.KL},
		{Name: "active_units", Value: float64(s.Active)},
		{Name: "latent_dims", Value: float64(m.Latent)},
		{Name: "iwae_k", Value: float64(r.K)},
		{Name: "iwae_images", Value: float64(r.Images)},
		{Name: "iwae_seconds", Value: math.Round(r.Seconds*100) / 100},
	}
	if m.EvalSamples > 0 {
		images, err := m.scorer.Evaluate(m, m.EvalSamples)
		if err != nil {
			return nil, err
		}
		ms = append(ms, images...)
	}
	return ms, nil
}

func seq(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}
