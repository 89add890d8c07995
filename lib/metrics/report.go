package metrics

import "fmt"

// ImageSamples is what the image sample-quality report needs: classifier features (penultimate
// layer) and predicted labels of generated samples, and the same classifier's features of real
// images. BENCH.md fixes N = 10,000 generated samples and the same seed for every family; pass
// 10,000 training and 10,000 test images too, so that the baseline and the generated number
// share a sample size (the Fréchet distance's bias depends on it).
type ImageSamples struct {
	// Generated holds the features of the generated samples (N×D).
	Generated Matrix
	// GeneratedLabels are the classes the classifier predicts for them (len N).
	GeneratedLabels []int
	// Train holds the features of training images: the reference for every metric.
	Train Matrix
	// TrainLabels are the labels the class histogram is compared with: those of the Train rows,
	// or of the whole training split.
	TrainLabels []int
	// Test holds the features of held-out real images, for the real-vs-real baseline.
	Test Matrix
}

// ImageReportConfig holds the knobs of EvaluateImages. Zero fields other than NumClasses take
// the defaults of DefaultImageReportConfig.
type ImageReportConfig struct {
	// NumClasses is the number of classes of the labels (10 for MNIST).
	NumClasses int
	// Neighbours is the k of precision/recall/density/coverage (DefaultNeighbours = 5).
	Neighbours int
	// KID is the subset scheme; a SubsetSize larger than either set is lowered to the smaller
	// set's size (so small CI runs still get a KID, from fewer samples).
	KID KIDConfig
	// MinClassFraction is the share a class needs to count as covered; 0 means
	// DefaultMinClassFraction(NumClasses).
	MinClassFraction float64
}

// DefaultImageReportConfig is 10 classes, k = 5, KID over 100 subsets of 1000, and the default
// class-coverage threshold (1% of samples for 10 classes).
func DefaultImageReportConfig() ImageReportConfig {
	return ImageReportConfig{NumClasses: 10, Neighbours: DefaultNeighbours, KID: DefaultKIDConfig()}
}

// ImageReport is the image sample-quality block of metrics.json (README, «The command line»); the JSON tags are
// the flat field names. The fields tagged "-" are extra detail for notebooks and audits.
type ImageReport struct {
	// FLD is the Fréchet distance between Gaussians fitted to the classifier features of the
	// generated and of the training samples (FID's formula on the project's MNIST classifier).
	FLD float64 `json:"fld"`
	// FLDRealBaseline is the same distance between training and test features: what a perfect
	// generator would score at this sample size. BENCH.md's GAN target is FLD ≤ 3× this.
	FLDRealBaseline float64 `json:"fld_real_baseline"`
	// KID is the mean unbiased MMD² (KID) between generated and training features.
	KID float64 `json:"kid"`
	// Precision, Recall, Density and Coverage compare generated (fake) with training (real) features.
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	Density   float64 `json:"density"`
	Coverage  float64 `json:"coverage"`
	// ClassesCovered counts classes with at least MinClassFraction of the generated samples.
	ClassesCovered int `json:"classes_covered"`
	// ClassTV is the total variation between the generated and training class histograms.
	ClassTV float64 `json:"class_tv"`

	// KIDStd is the standard deviation of KID over subsets.
	KIDStd float64 `json:"-"`
	// ClassKL is KL(generated ‖ train) between the class histograms, in nats (see KLDivergence).
	ClassKL float64 `json:"-"`
	// GeneratedHistogram and TrainHistogram are the class histograms compared.
	GeneratedHistogram []float64 `json:"-"`
	TrainHistogram     []float64 `json:"-"`
	// MinClassFraction is the coverage threshold that was used.
	MinClassFraction float64 `json:"-"`
}

// EvaluateImages computes every image sample-quality metric of metrics.json from classifier
// features and labels: the Fréchet distance to the training features and its train-vs-test
// baseline, KID, precision/recall/density/coverage (training features as the real set), classes
// covered and the class-histogram total variation.
func EvaluateImages(in ImageSamples, cfg ImageReportConfig) (ImageReport, error) {
	if err := sameWidth("generated features", in.Generated, "training features", in.Train); err != nil {
		return ImageReport{}, err
	}
	if err := sameWidth("training features", in.Train, "test features", in.Test); err != nil {
		return ImageReport{}, err
	}
	if len(in.GeneratedLabels) != in.Generated.Rows {
		return ImageReport{}, fmt.Errorf("metrics: %d generated labels for %d generated feature rows", len(in.GeneratedLabels), in.Generated.Rows)
	}
	if cfg.NumClasses < 1 {
		return ImageReport{}, fmt.Errorf("metrics: ImageReportConfig.NumClasses = %d", cfg.NumClasses)
	}
	defaults := DefaultImageReportConfig()
	if cfg.Neighbours == 0 {
		cfg.Neighbours = defaults.Neighbours
	}
	if cfg.KID.Subsets == 0 {
		cfg.KID.Subsets = defaults.KID.Subsets
	}
	if cfg.KID.SubsetSize == 0 {
		cfg.KID.SubsetSize = defaults.KID.SubsetSize
	}
	minFrac := cfg.MinClassFraction
	if minFrac == 0 {
		minFrac = DefaultMinClassFraction(cfg.NumClasses)
	}
	var r ImageReport
	r.MinClassFraction = minFrac
	var err error
	if r.GeneratedHistogram, err = ClassHistogram(in.GeneratedLabels, cfg.NumClasses); err != nil {
		return ImageReport{}, fmt.Errorf("generated labels: %w", err)
	}
	if r.TrainHistogram, err = ClassHistogram(in.TrainLabels, cfg.NumClasses); err != nil {
		return ImageReport{}, fmt.Errorf("training labels: %w", err)
	}
	r.ClassesCovered = ClassesCovered(r.GeneratedHistogram, minFrac)
	if r.ClassTV, err = TotalVariation(r.GeneratedHistogram, r.TrainHistogram); err != nil {
		return ImageReport{}, err
	}
	if r.ClassKL, err = KLDivergence(r.GeneratedHistogram, r.TrainHistogram); err != nil {
		return ImageReport{}, err
	}

	trainStats, err := FeatureStats(in.Train)
	if err != nil {
		return ImageReport{}, fmt.Errorf("training features: %w", err)
	}
	genStats, err := FeatureStats(in.Generated)
	if err != nil {
		return ImageReport{}, fmt.Errorf("generated features: %w", err)
	}
	testStats, err := FeatureStats(in.Test)
	if err != nil {
		return ImageReport{}, fmt.Errorf("test features: %w", err)
	}
	if r.FLD, err = FrechetFromStats(genStats, trainStats); err != nil {
		return ImageReport{}, err
	}
	if r.FLDRealBaseline, err = FrechetFromStats(testStats, trainStats); err != nil {
		return ImageReport{}, err
	}

	kidCfg := cfg.KID
	kidCfg.SubsetSize = min(kidCfg.SubsetSize, in.Generated.Rows, in.Train.Rows)
	kid, err := KID(in.Generated, in.Train, kidCfg)
	if err != nil {
		return ImageReport{}, err
	}
	r.KID, r.KIDStd = kid.Mean, kid.Std

	prdc, err := PrecisionRecallDensityCoverage(in.Train, in.Generated, cfg.Neighbours)
	if err != nil {
		return ImageReport{}, err
	}
	r.Precision, r.Recall, r.Density, r.Coverage = prdc.Precision, prdc.Recall, prdc.Density, prdc.Coverage
	return r, nil
}

// Fields returns the report as the flat metrics.json fields of metrics.json, ready to merge into
// the run's metrics object.
func (r ImageReport) Fields() map[string]any {
	return map[string]any{
		"fld":               r.FLD,
		"fld_real_baseline": r.FLDRealBaseline,
		"kid":               r.KID,
		"precision":         r.Precision,
		"recall":            r.Recall,
		"density":           r.Density,
		"coverage":          r.Coverage,
		"classes_covered":   r.ClassesCovered,
		"class_tv":          r.ClassTV,
	}
}
