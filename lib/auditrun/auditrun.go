// Package auditrun audits a trained run of a family: it draws the samples or the texts from the
// model, labels images with the reference classifier, and hands the numbers to lib/audit (whose
// functions never touch a model). `iagen audit` and notebook 08 use it alike.
//
//   - Images ([Images], [ImageYardstick]): classes against MNIST's mix, copying in the
//     classifier's feature space and real-vs-generated separability, each against real test
//     images.
//   - Text ([Text]): verbatim copying from the training split against held-out passages and,
//     for a model trained on the occupation corpus, the gender audit ([Gender]).
//   - A masked language model ([Masked]): it writes no text, so only the gender audit's
//     minimal pairs, scored by pseudo-log-likelihood.
package auditrun

import (
	"fmt"
	"strings"

	"github.com/gomlx/compute"
	"github.com/iagen-course/iagen/lib/audit"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/bert"
	"github.com/iagen-course/iagen/lib/classifier"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/metrics"
)

// Defaults of an audit. 2,000 images are the fewest the Scorer labels with the ≥ 99 % CNN
// (imagegen.ReferenceProfile) rather than the quick ci classifier.
const (
	DefaultImages      = 2000
	DefaultTexts       = 20
	DefaultTrainSubset = 10000
	// DefaultGenderPerTemplate continuations of each of the 10 neutral prompts: 2,000 in all,
	// about 57 per occupation, so a share's 95 % Wilson interval is about ±0.12 wide.
	DefaultGenderPerTemplate = 200
)

// Seed seeds the generated samples and texts of an audit: the evaluation seed, so the audited
// images are the ones metrics.json scored when n is the evaluation's sample count.
const Seed = imagegen.EvalSeed

// Options size an audit; zero values take the defaults above.
type Options struct {
	N                 int    // generated images or texts
	TrainSubset       int    // training images (the first ones) searched for each sample's nearest neighbour
	GenderPerTemplate int    // continuations of each neutral prompt (occupation corpus only)
	Backend           string // of the reference classifier (backend.New)
	DataDir           string
}

func (o Options) withDefaults(image bool) Options {
	if o.N == 0 {
		o.N = DefaultTexts
		if image {
			o.N = DefaultImages
		}
	}
	if o.TrainSubset == 0 {
		o.TrainSubset = DefaultTrainSubset
	}
	if o.GenderPerTemplate == 0 {
		o.GenderPerTemplate = DefaultGenderPerTemplate
	}
	return o
}

// Run audits the run r: its images (an imagegen.Generator), its text (gpt, lstm) or, for a
// masked language model (bert), its minimal pairs (Masked).
func Run(r *family.Run, o Options) (audit.Report, error) {
	info, err := Info(r)
	if err != nil {
		return audit.Report{}, err
	}
	rep := audit.Report{Family: r.Family, Run: info, Seed: Seed, Level: audit.DefaultLevel}
	if g, ok := r.Model.(imagegen.Generator); ok {
		o = o.withDefaults(true)
		rep.Kind, rep.N = "image", o.N
		b, err := backend.New(o.Backend)
		if err != nil {
			return rep, err
		}
		defer b.Finalize()
		rep.Image, err = Images(g, b, o.DataDir, o.N, o.TrainSubset)
		return rep, err
	}
	if m, ok := r.Model.(*bert.Model); ok {
		if o.N != 0 {
			return rep, fmt.Errorf("a masked model writes nothing to count: it is audited on its minimal pairs only (leave out --n)")
		}
		rep.Kind = "masked"
		if rep.Masked, err = Masked(m); err != nil {
			return rep, err
		}
		rep.N = rep.Masked.MinimalPairs.Pairs
		return rep, nil
	}
	o = o.withDefaults(false)
	rep.Kind, rep.N = "text", o.N
	rep.Text, err = Text(r.Model, o.DataDir, o.N, o.GenderPerTemplate)
	return rep, err
}

// Info gathers the run's record from its manifest and metrics.json.
func Info(r *family.Run) (audit.RunInfo, error) {
	man := r.Manifest
	info := audit.RunInfo{Dir: r.Dir, Profile: man.Profile, Seed: man.Seed, Steps: r.Step, Command: strings.Join(man.Command, " "),
		Backend: man.Backend.Name, Params: r.Model.Info().Params, Datasets: man.Datasets, Metrics: map[string]float64{}}
	ms, err := family.ReadMetrics(r.Dir)
	if err != nil {
		return info, fmt.Errorf("%s is not a finished run folder (no readable metrics.json)", r.Dir)
	}
	for k, v := range ms {
		if x, ok := v.(float64); ok {
			info.Metrics[k] = x
		}
	}
	return info, nil
}

// ImageYardstick holds what the image audit compares samples with, computed once: the
// reference classifier for n samples (imagegen.ReferenceProfile), the labels and features of
// the first n test images and the features of the first trainSubset training images, and
// MNIST's class mix.
type ImageYardstick struct {
	clf     *classifier.Model
	profile string
	n       int
	train   int // training images searched
	labels  int // training images whose labels give the class mix
	in      audit.ImageInputs
}

// NewImageYardstick prepares the audit of n generated images on backend b.
func NewImageYardstick(b compute.Backend, dataDir string, n, trainSubset int) (*ImageYardstick, error) {
	if n < 2 || trainSubset < 2 {
		return nil, fmt.Errorf("auditrun: %d images and %d training images: want ≥ 2 of each", n, trainSubset)
	}
	y := &ImageYardstick{profile: imagegen.ReferenceProfile(n), n: n, in: audit.ImageInputs{Seed: Seed, Level: audit.DefaultLevel}}
	var err error
	if y.clf, err = classifier.Reference(b, dataDir, y.profile); err != nil {
		return nil, err
	}
	trainSet, err := data.LoadMNIST(data.Dir(dataDir), data.Train)
	if err != nil {
		return nil, err
	}
	test := y.clf.TestSet()
	y.train, y.labels = min(trainSubset, trainSet.N), trainSet.N
	tests := min(n, test.N)
	if y.in.TestLabels, y.in.Test, err = predictFeatures(y.clf, test, firstIndices(tests)); err != nil {
		return nil, err
	}
	if _, y.in.Train, err = predictFeatures(y.clf, trainSet, firstIndices(y.train)); err != nil {
		return nil, err
	}
	for _, l := range test.Labels[:tests] {
		y.in.TestTruth = append(y.in.TestTruth, int(l))
	}
	trainLabels := make([]int, trainSet.N)
	for i, l := range trainSet.Labels {
		trainLabels[i] = int(l)
	}
	y.in.Reference, err = metrics.ClassHistogram(trainLabels, trainSet.NumClasses)
	return y, err
}

// Audit audits the generated images gen (28×28×1, as many as the yardstick was made for).
func (y *ImageYardstick) Audit(gen *data.Images) (*audit.ImageReport, error) {
	if gen.N != y.n || gen.Height != 28 || gen.Width != 28 || gen.Channels != 1 {
		return nil, fmt.Errorf("auditrun: %d images of %d×%d×%d, want %d of 28×28×1", gen.N, gen.Height, gen.Width, gen.Channels, y.n)
	}
	in := y.in
	var err error
	if in.GeneratedLabels, in.Generated, err = predictFeatures(y.clf, gen, nil); err != nil {
		return nil, err
	}
	rep := &audit.ImageReport{ClassifierProfile: y.profile, ClassifierSHA256: y.clf.WeightsSHA256, ReferenceLabels: y.labels,
		TrainSubset: y.train, TestImages: len(in.TestTruth)}
	rep.ImageAudit, err = audit.AuditImages(in)
	return rep, err
}

// Images draws n images from g (seeded by Seed) and audits them (ImageYardstick).
func Images(g imagegen.Generator, b compute.Backend, dataDir string, n, trainSubset int) (*audit.ImageReport, error) {
	y, err := NewImageYardstick(b, dataDir, n, trainSubset)
	if err != nil {
		return nil, err
	}
	samples, err := g.Samples(n, Seed)
	if err != nil {
		return nil, err
	}
	return y.Audit(samples)
}

// predictFeatures classifies images idx of set (nil: all) and returns the labels and the
// penultimate-layer features.
func predictFeatures(clf *classifier.Model, set *data.Images, idx []int) ([]int, metrics.Matrix, error) {
	labels, feats, err := clf.Predict(set.Float32(idx, 0, 1))
	if err != nil {
		return nil, metrics.Matrix{}, err
	}
	m, err := metrics.MatrixFromRows(feats)
	return labels, m, err
}

func firstIndices(n int) []int {
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	return idx
}
