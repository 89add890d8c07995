package text2img

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/layers"
	"github.com/gomlx/gomlx/ml/layers/activation"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/gomlx/gomlx/ml/train/loss"
	"github.com/gomlx/gomlx/ml/train/optimizer"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/train"
)

// The referee is the classifier that says which of the 20 classes a sample shows. One 20-class
// classifier rather than lib/classifier's MNIST reference plus a Fashion-MNIST one: a digit
// prompt that yields a garment must count as a miss, which two 10-class classifiers (each
// forced to pick one of its own classes) cannot see; and its hidden layer gives one feature
// space for the per-class coverage of both datasets. An MLP 784 → 256 → 20 (ReLU) suffices:
// its test accuracy (RefereeAccuracy, recorded with every evaluation) is the ceiling of the
// agreement it can report — high on digits, lower on Fashion-MNIST's shirts and pullovers.
type referee struct {
	store    *model.Store
	train    *data.Images
	step     *train.Exec
	predict  *train.Exec
	Accuracy float64 // on the combined test set
}

const (
	refereeHidden = 256
	refereeBatch  = 128
	predictBatch  = 500
)

func newReferee(b compute.Backend, trainSet *data.Images) (*referee, error) {
	r := &referee{store: model.NewStore(), train: trainSet}
	forward := func(scope *model.Scope, x *graph.Node) (logits, features *graph.Node) {
		h := graph.Reshape(x, x.Shape().Dimensions[0], -1)
		features = activation.Relu(layers.Dense(scope.In("hidden"), h, true, refereeHidden))
		return layers.Dense(scope.In("logits"), features, true, NumClasses), features
	}
	var err error
	r.step, err = train.NewTrainExec(b, r.store, optimizer.Adam().LearningRate(1e-3).Done(), "", []string{"loss"},
		func(scope *model.Scope, in []*graph.Node) []*graph.Node {
			logits, _ := forward(scope, in[0])
			return []*graph.Node{graph.ReduceAllMean(loss.SparseCategoricalCrossEntropyLogits(
				[]*graph.Node{graph.ExpandAxes(in[1], -1)}, []*graph.Node{logits}))}
		})
	if err != nil {
		return nil, err
	}
	r.predict, err = train.NewEvalExec(b, r.store, nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		logits, features := forward(scope, in[0])
		return []*graph.Node{graph.ArgMax(logits, -1), features}
	})
	return r, err
}

func (r *referee) Store() *model.Store { return r.store }

func (r *referee) Step(step int) (train.Metrics, error) {
	idx := data.BatchIndices(r.train.N, refereeBatch, backend.DefaultSeed, step)
	return r.step.Run(r.train.Float32(idx, 0, 1), r.train.LabelsInt32(idx))
}

// loadReferee returns the referee classifier for data in dataDir trained steps steps: trained once
// with the default seed (seconds to a minute) into dataDir/text2img-referee/<steps>, loaded
// from there afterwards.
func (m *Model) loadReferee() (*referee, error) {
	if m.referee != nil {
		return m.referee, nil
	}
	r, err := newReferee(m.backend, m.train)
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(data.Dir(m.dataDir), "text2img-referee", fmt.Sprint(m.RefereeSteps))
	if _, err := os.Stat(filepath.Join(dir, "metrics.json")); err != nil {
		fmt.Fprintf(os.Stderr, "training the 20-class referee classifier of text2img into %s\n", dir)
		if _, err := train.Run(context.Background(), r, train.Config{Steps: m.RefereeSteps, Seed: backend.DefaultSeed, Dir: dir,
			Resume: true, Family: "text2img-referee", Backend: backend.Describe(m.backend), Progress: train.SilentProgress()}); err != nil {
			return nil, fmt.Errorf("text2img: training the referee classifier: %w", err)
		}
	} else if _, err := train.Restore(dir, r.store); err != nil {
		return nil, err
	}
	labels, _, err := r.Classify(m.test)
	if err != nil {
		return nil, err
	}
	for i, l := range labels {
		if l == int(m.test.Labels[i]) {
			r.Accuracy++
		}
	}
	r.Accuracy /= float64(len(labels))
	m.referee = r
	return r, nil
}

// Classify returns the referee's class of each image and its hidden features.
func (r *referee) Classify(im *data.Images) (labels []int, features [][]float32, err error) {
	x := tensors.MustCopyFlatData[float32](im.Float32(nil, 0, 1))
	const size = 28 * 28
	for start := 0; start < im.N; start += predictBatch {
		n := min(predictBatch, im.N-start)
		batch := make([]float32, predictBatch*size)
		copy(batch, x[start*size:(start+n)*size])
		out, err := r.predict.Call(tensors.FromFlatDataAndDimensions(batch, predictBatch, 28, 28, 1))
		if err != nil {
			return nil, nil, fmt.Errorf("text2img: referee: %w", err)
		}
		l := tensors.MustCopyFlatData[int32](out[0])
		f := tensors.MustCopyFlatData[float32](out[1])
		for i := range n {
			labels = append(labels, int(l[i]))
			features = append(features, f[i*refereeHidden:(i+1)*refereeHidden])
		}
	}
	return labels, features, nil
}
