// Package classifier trains the MNIST digit classifier of iagen. It is the course's first
// model (notebook 00) and the yardstick of every image family: its predicted labels give the
// class histograms of generated samples, and its penultimate-layer features are the space in
// which Fréchet distance, KID, precision/recall and density/coverage are measured (BENCH.md).
//
// It registers itself as the non-generative family "classifier":
//
//	iagen train classifier --profile small --out runs/classifier
package classifier

import (
	"fmt"
	"math"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/train"
)

func init() {
	family.Register(family.Family{Name: "classifier", Title: "MNIST classifier (features for image metrics)",
		New: func(o family.Options) (family.Model, error) { return New(o) },
		Curves: []family.Curve{{Name: "loss", Title: "pérdida (entropía cruzada, nats)", Keys: []string{"loss"}},
			{Name: "accuracy", Title: "exactitud en entrenamiento y en prueba", Keys: []string{"accuracy", "test_accuracy"}}}})
}

// Model is a classifier being trained or used.
type Model struct {
	Config
	WeightsSHA256 string // set for the reference classifier (see Reference)
	seed          int64
	backend       compute.Backend
	store         *model.Store
	train, test   *data.Images
	step          *train.Exec
	predict       *train.Exec
}

// New builds the classifier of opts.Profile (with opts.Overrides) and loads MNIST from opts.DataDir.
func New(opts family.Options) (*Model, error) {
	return family.New(opts, ProfileConfig, NewWithConfig)
}

// NewWithConfig builds a classifier with an explicit configuration.
func NewWithConfig(opts family.Options, cfg Config) (*Model, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	dir := data.Dir(opts.DataDir)
	trainSet, err := data.LoadMNIST(dir, data.Train)
	if err != nil {
		return nil, err
	}
	testSet, err := data.LoadMNIST(dir, data.Test)
	if err != nil {
		return nil, err
	}
	m := &Model{Config: cfg, seed: opts.Seed, backend: opts.Backend, store: model.NewStore(), train: trainSet, test: testSet}
	opt := optimizer.Adam().LearningRate(cfg.LearningRate).Done()
	m.step, err = train.NewTrainExec(opts.Backend, m.store, opt, "", []string{"loss", "accuracy"},
		func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			train.SetLearningRate(scope, in[2])
			logits, _ := m.Forward(scope, in[0])
			l := graph.ReduceAllMean(loss.SparseCategoricalCrossEntropyLogits([]*graph.Node{graph.ExpandAxes(in[1], -1)}, []*graph.Node{logits}))
			return []*graph.Node{l, accuracy(logits, in[1])}
		})
	if err != nil {
		return nil, err
	}
	m.predict, err = train.NewEvalExec(opts.Backend, m.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		logits, features := m.Forward(scope, in[0])
		return []*graph.Node{logits, features}
	})
	return m, err
}

// Forward maps images [B, 28, 28, 1] in [0, 1] to logits [B, 10] and features [B, Hidden].
func (cfg Config) Forward(scope *model.Scope, x *graph.Node) (logits, features *graph.Node) {
	b := x.Shape().Dimensions[0]
	h := x
	if cfg.Arch == "cnn" {
		// 28×28×1 → 28×28×32 → 14×14×64 → 7×7×64: 3×3 convolutions, stride 2 to downsample.
		h = activation.Relu(nn.Conv2D(scope.In("c1"), h, 32, 3, 1, 1))
		h = activation.Relu(nn.Conv2D(scope.In("c2"), h, 64, 3, 2, 1))
		h = activation.Relu(nn.Conv2D(scope.In("c3"), h, 64, 3, 2, 1))
	}
	h = graph.Reshape(h, b, -1)
	features = activation.Relu(layers.Dense(scope.In("features"), h, true, cfg.Hidden))
	logits = layers.Dense(scope.In("logits"), features, true, 10)
	return logits, features
}

// accuracy is the fraction of rows whose arg-max logit is the label.
func accuracy(logits, labels *graph.Node) *graph.Node {
	pred := graph.ConvertDType(graph.ArgMax(logits, -1), labels.DType())
	return graph.ReduceAllMean(graph.ConvertDType(graph.Equal(pred, labels), logits.DType()))
}

// Store holds the weights and optimizer state.
func (m *Model) Store() *model.Store { return m.store }

// Step trains on batch number step of the shuffled training set.
func (m *Model) Step(step int) (train.Metrics, error) {
	idx := data.BatchIndices(m.train.N, m.Batch, m.seed, step)
	return m.step.Run(m.train.Float32(idx, 0, 1), m.train.LabelsInt32(idx), float32(m.schedule().At(step)))
}

// Evaluate scores the test set: accuracy and mean cross-entropy (nats).
func (m *Model) Evaluate(int) (train.Metrics, error) {
	n := m.test.N
	if m.EvalImages > 0 && m.EvalImages < n {
		n = m.EvalImages
	}
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	logits, _, err := m.run(m.test.Float32(idx, 0, 1))
	if err != nil {
		return nil, err
	}
	var correct int
	var nll float64
	for i, row := range logits {
		lab := int(m.test.Labels[i])
		if argmax(row) == lab {
			correct++
		}
		nll += logSumExp(row) - float64(row[lab])
	}
	return train.Metrics{{Name: "test_accuracy", Value: float64(correct) / float64(n)}, {Name: "test_nll_nats", Value: nll / float64(n)}}, nil
}

// Predict classifies images [N, 28, 28, 1] with values in [0, 1] and returns the labels and the
// penultimate-layer features [N][Hidden].
func (m *Model) Predict(images *tensors.Tensor) (labels []int, features [][]float32, err error) {
	logits, feats, err := m.run(images)
	if err != nil {
		return nil, nil, err
	}
	labels = make([]int, len(logits))
	for i, row := range logits {
		labels[i] = argmax(row)
	}
	return labels, feats, nil
}

const predictBatch = 500

// run evaluates the network on images in batches of predictBatch (one compiled graph; the last
// batch is padded), returning logits and features row by row.
func (m *Model) run(images *tensors.Tensor) (logits, features [][]float32, err error) {
	dims := images.Shape().Dimensions
	if len(dims) != 4 || dims[1] != 28 || dims[2] != 28 || dims[3] != 1 {
		return nil, nil, fmt.Errorf("classifier: images must be [N, 28, 28, 1], got %v", dims)
	}
	flat, err := tensors.CopyFlatData[float32](images)
	if err != nil {
		return nil, nil, err
	}
	const size = 28 * 28
	for start := 0; start < dims[0]; start += predictBatch {
		n := min(predictBatch, dims[0]-start)
		batch := make([]float32, predictBatch*size)
		copy(batch, flat[start*size:(start+n)*size])
		out, err := m.predict.Call(tensors.FromFlatDataAndDimensions(batch, predictBatch, 28, 28, 1))
		if err != nil {
			return nil, nil, err
		}
		l := tensors.MustCopyFlatData[float32](out[0])
		f := tensors.MustCopyFlatData[float32](out[1])
		for i := range n {
			logits = append(logits, l[i*10:(i+1)*10])
			features = append(features, f[i*m.Hidden:(i+1)*m.Hidden])
		}
	}
	return logits, features, nil
}

// Info describes the model for manifests.
func (m *Model) Info() family.Info {
	return family.Info{Steps: m.Steps, Config: m.Config, Datasets: data.FilesOf(m.train, m.test), Params: train.TrainableParams(m.store)}
}

func argmax(row []float32) int {
	best := 0
	for i, v := range row {
		if v > row[best] {
			best = i
		}
	}
	return best
}

func logSumExp(row []float32) float64 {
	mx := float64(row[argmax(row)])
	var s float64
	for _, v := range row {
		s += math.Exp(float64(v) - mx)
	}
	return mx + math.Log(s)
}

// Mistakes returns up to n test images the classifier gets wrong, with the labels it predicted.
func (m *Model) Mistakes(n int) (idx, predicted []int, err error) {
	labels, _, err := m.Predict(m.test.Float32(nil, 0, 1))
	if err != nil {
		return nil, nil, err
	}
	for i, p := range labels {
		if p != int(m.test.Labels[i]) && len(idx) < n {
			idx, predicted = append(idx, i), append(predicted, p)
		}
	}
	return idx, predicted, nil
}

// SetTrainSet replaces the images the classifier trains on (MNIST's training set by default),
// e.g. with a small labelled subset plus generated images (lib/ganapps/augment). Call it before
// training.
func (m *Model) SetTrainSet(im *data.Images) error {
	if im == nil || im.N == 0 || im.Height != 28 || im.Width != 28 || im.Channels != 1 || len(im.Labels) != im.N {
		return fmt.Errorf("classifier: a training set must hold labelled 28×28 grey images")
	}
	m.train = im
	return nil
}

// TestSet returns the MNIST test images the model is evaluated on.
func (m *Model) TestSet() *data.Images { return m.test }
