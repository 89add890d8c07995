package diffusion

import (
	"fmt"
	"math/rand/v2"

	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/train"
)

// What the notebook shows of a diffusion model at work: the forward process destroying images
// (Noised), and the reverse process building them, with the model's running estimate of the
// clean image (Trajectory).

// Noised draws x_t ~ q(x_t | x_0) = N(√ᾱ_t·x_0, (1−ᾱ_t)·I) (eq. 4) for the images idx of set
// at every time step of ts, with the noise ε drawn with seed, through the graph function that
// training uses. It returns the values [len(idx)][len(ts)][28·28] (x_0 in [−1, 1]; x_t is not
// bounded) — Images turns them into grey levels, image by image along the rows.
func (m *Model) Noised(set *data.Images, idx, ts []int, seed uint64) ([][][]float32, error) {
	for _, t := range ts {
		if t < 0 || t >= m.Timesteps {
			return nil, fmt.Errorf("diffusion: time step %d outside 0…%d", t, m.Timesteps-1)
		}
	}
	n := len(idx) * len(ts)
	rows, steps, eps := make([]int, 0, n), make([]int32, 0, n), make([]float32, n*imageSize)
	r := rand.New(rand.NewPCG(seed, noisedStream))
	for _, i := range idx {
		for _, t := range ts {
			rows, steps = append(rows, i), append(steps, int32(t))
		}
	}
	for i := range eps {
		eps[i] = float32(r.NormFloat64())
	}
	exec, err := train.NewEvalExec(m.backend, model.NewStore(), nil, func(_ *model.Scope, in []*graph.Node) []*graph.Node {
		return []*graph.Node{m.noised(in[0], in[1], in[2])}
	})
	if err != nil {
		return nil, err
	}
	res, err := exec.Call(set.Float32(rows, -1, 1), tensors.FromFlatDataAndDimensions(eps, n, 28, 28, 1), steps)
	if err != nil {
		return nil, fmt.Errorf("diffusion: noising: %w", err)
	}
	flat := tensors.MustCopyFlatData[float32](res[0])
	out := make([][][]float32, len(idx))
	for i := range out {
		out[i] = make([][]float32, len(ts))
		for j := range ts {
			k := i*len(ts) + j
			out[i][j] = flat[k*imageSize : (k+1)*imageSize]
		}
	}
	return out, nil
}

// Frame is the state of a sampler's reverse process at one of its steps, for n images: the
// step's time step T, its input x_t and the clean image the model sees in it,
// x̂_0 = (x_t − √(1−ᾱ_t)·ε̂)/√ᾱ_t. Values are [n][28·28], about [−1, 1] (x_t is not bounded).
type Frame struct {
	Step int // 0 for the first step (from pure noise)
	T    int
	X    [][]float32
	X0   [][]float32
}

// Trajectory runs sampler s on n images drawn with seed (the images Generate gives) and returns
// the frames of the steps listed in at (0…S−1 for a sampler of S steps; see
// Sampling.Timesteps), with the final images.
func (m *Model) Trajectory(s Sampling, n int, seed uint64, at []int) ([]Frame, [][]float32, error) {
	ts := s.Timesteps(m.Timesteps)
	frames := make([]Frame, len(at))
	index := map[int]int{}
	for i, k := range at {
		if k < 0 || k >= len(ts) {
			return nil, nil, fmt.Errorf("diffusion: step %d outside 0…%d of %s", k, len(ts)-1, s.Name(m.Timesteps))
		}
		frames[i] = Frame{Step: k, T: ts[len(ts)-1-k], X: make([][]float32, n), X0: make([][]float32, n)}
		index[k] = i
	}
	final, err := m.reverse(s, n, seed, func(k, start int, x, x0 []float32) {
		f, ok := index[k]
		if !ok {
			return
		}
		for i := start; i < min(n, start+m.SampleBatch); i++ {
			j := (i - start) * imageSize
			frames[f].X[i], frames[f].X0[i] = x[j:j+imageSize], x0[j:j+imageSize]
		}
	})
	if err != nil {
		return nil, nil, err
	}
	out := make([][]float32, n)
	for i := range out {
		out[i] = final[i*imageSize : (i+1)*imageSize]
	}
	return frames, out, nil
}

// Images turns rows of images of values in [−1, 1] (Noised's, Trajectory's) into one set of
// grey-level images, row after row (clipping values outside [−1, 1]): a grid with as many
// columns as a row has images shows them (viz.Grid).
func Images(rows ...[][]float32) *data.Images {
	var values []float32
	n := 0
	for _, row := range rows {
		for _, im := range row {
			values = append(values, im...)
			n++
		}
	}
	return images(values, n)
}
