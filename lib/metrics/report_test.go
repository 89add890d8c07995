package metrics

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// classBlobs returns n feature vectors from ten Gaussian blobs (one per class, separated along
// their own axis) with their labels, drawing classes from classes cyclically.
func classBlobs(r *rand.Rand, n, d int, classes []int) (Matrix, []int) {
	m := Matrix{Rows: n, Cols: d, Data: make([]float32, n*d)}
	labels := make([]int, n)
	for i := 0; i < n; i++ {
		c := classes[i%len(classes)]
		labels[i] = c
		row := m.Row(i)
		for j := range row {
			row[j] = float32(r.NormFloat64())
		}
		row[c] += 6
	}
	return m, labels
}

func TestEvaluateImages(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	const n, d = 2000, 16
	all := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
	train, trainLabels := classBlobs(r, n, d, all)
	test, _ := classBlobs(r, n, d, all)
	cfg := DefaultImageReportConfig()
	cfg.KID.Subsets = 10

	// The training set itself as the "generated" set.
	perfect, err := EvaluateImages(ImageSamples{train, trainLabels, train, trainLabels, test}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if perfect.FLD > 1e-9 || perfect.Precision != 1 || perfect.Recall != 1 || perfect.Coverage != 1 ||
		perfect.ClassesCovered != 10 || perfect.ClassTV != 0 {
		t.Errorf("generated = train: %+v", perfect)
	}
	if perfect.FLDRealBaseline <= 0 {
		t.Errorf("real-vs-real baseline %v, want > 0", perfect.FLDRealBaseline)
	}

	// A generator that samples the right distribution, and one that never makes 8s or 9s.
	good, goodLabels := classBlobs(r, n, d, all)
	fair, err := EvaluateImages(ImageSamples{good, goodLabels, train, trainLabels, test}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	gen, genLabels := classBlobs(r, n, d, all[:8])
	dropped, err := EvaluateImages(ImageSamples{gen, genLabels, train, trainLabels, test}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("right distribution: %+v", fair)
	t.Logf("two classes dropped: %+v", dropped)
	if fair.ClassesCovered != 10 || fair.FLD > 3*fair.FLDRealBaseline {
		t.Errorf("right distribution: covered %d, FLD %v (baseline %v)", fair.ClassesCovered, fair.FLD, fair.FLDRealBaseline)
	}
	if dropped.ClassesCovered != 8 || dropped.ClassTV < 0.19 || dropped.ClassTV <= perfect.ClassTV {
		t.Errorf("two classes dropped: covered %d, TV %v", dropped.ClassesCovered, dropped.ClassTV)
	}
	if dropped.FLD <= 3*dropped.FLDRealBaseline || dropped.KID <= 0 {
		t.Errorf("two classes dropped: FLD %v (baseline %v), KID %v", dropped.FLD, dropped.FLDRealBaseline, dropped.KID)
	}
	if !(math.Abs(dropped.Precision-fair.Precision) <= 0.05) || !(math.Abs(dropped.Recall-0.8*fair.Recall) <= 0.05) ||
		!(math.Abs(dropped.Coverage-0.8*fair.Coverage) <= 0.05) || dropped.KID <= 10*math.Abs(fair.KID) {
		t.Errorf("two classes dropped: %+v, want precision as for the right distribution, 80%% of its recall and coverage", dropped)
	}

	// The fields for notebooks (not in metrics.json), in closed form for the dropped classes:
	// histograms 1/8 on classes 0–7 against 1/10 everywhere, KL = Σ_{c<8} ⅛·log(⅛ / ⅒) = log 1.25
	// (up to the 1e-6 smoothing), the default threshold 1/(10·10).
	for c := range 10 {
		wantGen := 0.0
		if c < 8 {
			wantGen = 1.0 / 8
		}
		if !(math.Abs(dropped.GeneratedHistogram[c]-wantGen) <= 1e-12) || !(math.Abs(dropped.TrainHistogram[c]-0.1) <= 1e-12) {
			t.Errorf("class %d: generated share %v (want %v), training share %v (want 0.1)", c, dropped.GeneratedHistogram[c], wantGen, dropped.TrainHistogram[c])
		}
	}
	if len(dropped.GeneratedHistogram) != 10 || len(dropped.TrainHistogram) != 10 {
		t.Errorf("histograms over %d and %d classes, want 10", len(dropped.GeneratedHistogram), len(dropped.TrainHistogram))
	}
	if !(math.Abs(dropped.ClassKL-math.Log(1.25)) <= 1e-4) || !(math.Abs(fair.ClassKL) <= 1e-3) {
		t.Errorf("class KL %v with two classes dropped (want log 1.25 = %v), %v for the right distribution (want ≈ 0)", dropped.ClassKL, math.Log(1.25), fair.ClassKL)
	}
	if dropped.MinClassFraction != 0.01 || !(dropped.KIDStd > 0) || !(dropped.KIDStd < dropped.KID) {
		t.Errorf("MinClassFraction %v (want 0.01), KID %v ± %v (want a positive spread below the mean)", dropped.MinClassFraction, dropped.KID, dropped.KIDStd)
	}

	// metrics.json fields: exactly the names the README lists.
	b, err := json.Marshal(dropped)
	if err != nil {
		t.Fatal(err)
	}
	var obj map[string]any
	if err := json.Unmarshal(b, &obj); err != nil {
		t.Fatal(err)
	}
	want := []string{"class_tv", "classes_covered", "coverage", "density", "fld", "fld_real_baseline", "kid", "precision", "recall"}
	var keys, fieldKeys []string
	for k := range obj {
		keys = append(keys, k)
	}
	for k := range dropped.Fields() {
		fieldKeys = append(fieldKeys, k)
	}
	slices.Sort(keys)
	slices.Sort(fieldKeys)
	if !slices.Equal(keys, want) || !slices.Equal(fieldKeys, want) {
		t.Errorf("JSON keys %v, Fields keys %v, want %v", keys, fieldKeys, want)
	}

	if _, err := EvaluateImages(ImageSamples{gen, genLabels[:10], train, trainLabels, test}, cfg); err == nil {
		t.Error("labels and features of different lengths: no error")
	}
}
