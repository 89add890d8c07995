package classifier

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"

	"github.com/gomlx/compute"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/metrics"
	"github.com/iagen-course/iagen/lib/train"
)

// ReferenceProfile is the classifier profile that scores image samples for a family profile:
// the quick MLP for ci runs, the ≥99% CNN for everything that reports numbers.
func ReferenceProfile(familyProfile string) string {
	if familyProfile == "ci" {
		return "ci"
	}
	return "small"
}

// ReferenceDir is where the reference classifier of a profile is kept: in the data folder,
// next to the data it was trained on.
func ReferenceDir(dataDir, profile string) string {
	return filepath.Join(data.Dir(dataDir), "classifier", ReferenceProfile(profile))
}

// Reference returns the reference classifier for familyProfile: trained once, with the
// default seed, the first time it is needed (seconds for ci, minutes for the CNN), and loaded
// from ReferenceDir afterwards. Its weights are identified by the SHA-256 of its checkpoint
// (WeightsSHA256), which every evaluation records.
//
//	iagen train classifier --profile small --out ~/.cache/iagen/data/classifier/small   # the same, by hand
func Reference(b compute.Backend, dataDir, familyProfile string) (*Model, error) {
	dir := ReferenceDir(dataDir, familyProfile)
	m, err := New(family.Options{Backend: b, Profile: ReferenceProfile(familyProfile), Seed: backend.DefaultSeed, DataDir: dataDir})
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, "metrics.json")); err != nil {
		fmt.Fprintf(os.Stderr, "training the reference MNIST classifier (%s profile) into %s\n", ReferenceProfile(familyProfile), dir)
		_, err := train.Run(context.Background(), m, train.Config{Steps: m.Steps, Seed: backend.DefaultSeed, Dir: dir, Resume: true,
			Family: "classifier", Profile: ReferenceProfile(familyProfile), Backend: backend.Describe(b), ModelConfig: m.Config,
			Datasets: m.Info().Datasets})
		if err != nil {
			return nil, fmt.Errorf("training the reference classifier: %w", err)
		}
	} else if _, err := train.Restore(dir, m.store); err != nil {
		return nil, err
	}
	cks, err := train.ListCheckpoints(filepath.Join(dir, "checkpoint"))
	if err != nil || len(cks) == 0 {
		return nil, fmt.Errorf("reference classifier in %s has no checkpoint", dir)
	}
	m.WeightsSHA256, err = fileSHA256(cks[len(cks)-1].Path)
	return m, err
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Yardstick scores generated MNIST-like images against real ones in the reference
// classifier's feature space (BENCH.md: the same classifier, features and real sets for every
// family). The real features are computed once.
type Yardstick struct {
	Classifier  *Model
	train, test metrics.Matrix
	trainLabels []int
	Config      metrics.ImageReportConfig
}

// NewYardstick prepares the real-image side: the features of the first nReal training and the
// first nReal test images (BENCH.md uses 10,000 of each, the same number as generated samples).
func NewYardstick(b compute.Backend, dataDir, familyProfile string, nReal int) (*Yardstick, error) {
	m, err := Reference(b, dataDir, familyProfile)
	if err != nil {
		return nil, err
	}
	nReal = min(nReal, m.test.N)
	idx := make([]int, nReal)
	for i := range idx {
		idx[i] = i
	}
	y := &Yardstick{Classifier: m, Config: metrics.DefaultImageReportConfig()}
	if y.train, err = m.cachedFeatures(ReferenceDir(dataDir, familyProfile), "train", m.train, idx); err != nil {
		return nil, err
	}
	if y.test, err = m.cachedFeatures(ReferenceDir(dataDir, familyProfile), "test", m.test, idx); err != nil {
		return nil, err
	}
	for _, i := range idx {
		y.trainLabels = append(y.trainLabels, int(m.train.Labels[i]))
	}
	return y, nil
}

// Evaluate computes the image metrics of metrics.json for samples (28×28×1 images).
func (y *Yardstick) Evaluate(samples *data.Images) (metrics.ImageReport, error) {
	if samples.Height != 28 || samples.Width != 28 || samples.Channels != 1 {
		return metrics.ImageReport{}, fmt.Errorf("yardstick: samples must be 28×28×1, got %d×%d×%d", samples.Height, samples.Width, samples.Channels)
	}
	labels, feats, err := y.Classifier.Predict(samples.Float32(nil, 0, 1))
	if err != nil {
		return metrics.ImageReport{}, err
	}
	gen, err := metrics.MatrixFromRows(feats)
	if err != nil {
		return metrics.ImageReport{}, err
	}
	return metrics.EvaluateImages(metrics.ImageSamples{Generated: gen, GeneratedLabels: labels, Train: y.train,
		TrainLabels: y.trainLabels, Test: y.test}, y.Config)
}

// Metrics returns the report as harness metrics (the flat metrics.json fields).
func Metrics(r metrics.ImageReport) train.Metrics {
	return train.Metrics{{Name: "fld", Value: r.FLD}, {Name: "fld_real_baseline", Value: r.FLDRealBaseline},
		{Name: "kid", Value: r.KID}, {Name: "precision", Value: r.Precision}, {Name: "recall", Value: r.Recall},
		{Name: "density", Value: r.Density}, {Name: "coverage", Value: r.Coverage},
		{Name: "classes_covered", Value: float64(r.ClassesCovered)}, {Name: "class_tv", Value: r.ClassTV}}
}

// cachedFeatures returns the features of images idx of set, computed once per reference
// classifier and kept in dir as raw float32 rows: the file name carries the weights' hash and
// the row count, so other weights or another count never reuse it.
func (m *Model) cachedFeatures(dir, name string, set *data.Images, idx []int) (metrics.Matrix, error) {
	path := filepath.Join(dir, fmt.Sprintf("features-%s-%d-%s.f32", name, len(idx), m.WeightsSHA256[:16]))
	if raw, err := os.ReadFile(path); err == nil && len(raw) == 4*len(idx)*m.Hidden {
		flat := make([]float32, len(idx)*m.Hidden)
		for i := range flat {
			flat[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
		}
		return metrics.NewMatrix(len(idx), m.Hidden, flat)
	}
	_, feats, err := m.Predict(set.Float32(idx, 0, 1))
	if err != nil {
		return metrics.Matrix{}, err
	}
	mat, err := metrics.MatrixFromRows(feats)
	if err != nil {
		return mat, err
	}
	raw := make([]byte, 4*len(mat.Data))
	for i, v := range mat.Data {
		binary.LittleEndian.PutUint32(raw[4*i:], math.Float32bits(v))
	}
	if err := train.WriteFileAtomic(path, raw); err != nil {
		fmt.Fprintf(os.Stderr, "warning: could not cache features in %s: %v\n", path, err)
	}
	return mat, nil
}
