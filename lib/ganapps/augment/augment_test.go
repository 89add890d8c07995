package augment

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/train/traintest"
)

func TestProfilesAreValid(t *testing.T) {
	traintest.ProfilesAreValid(t, ProfileConfig, Config.Check)
}

// TestSummarizeCI: the interval of the mean difference over 3 seeds is x̄ ± t(0.975, 2)·s/√3,
// with t = 4.302653 (Student's t, 2 degrees of freedom).
func TestSummarizeCI(t *testing.T) {
	seeds := []Seed{{Seed: 1, Baseline: 0.70, Augmented: 0.72, Difference: 0.02}, {Seed: 2, Baseline: 0.68, Augmented: 0.73, Difference: 0.05},
		{Seed: 3, Baseline: 0.71, Augmented: 0.70, Difference: -0.01}}
	r, err := Summarize(seeds)
	if err != nil {
		t.Fatal(err)
	}
	mean := (0.02 + 0.05 - 0.01) / 3
	s := math.Sqrt((math.Pow(0.02-mean, 2) + math.Pow(0.05-mean, 2) + math.Pow(-0.01-mean, 2)) / 2)
	half := 4.302653 * s / math.Sqrt(3)
	if d := r.Difference; math.Abs(d.Estimate-mean) > 1e-12 || math.Abs(d.Lo-(mean-half)) > 1e-6 || math.Abs(d.Hi-(mean+half)) > 1e-6 || d.N != 3 {
		t.Errorf("difference %+v, want %v ± %v", d, mean, half)
	}
	if math.Abs(r.Baseline.Estimate-0.69666666) > 1e-6 || math.Abs(r.Augmented.Estimate-0.71666666) > 1e-6 {
		t.Errorf("arm means %v, %v", r.Baseline.Estimate, r.Augmented.Estimate)
	}
	if _, err := Summarize(seeds[:1]); err == nil {
		t.Error("an interval from one seed")
	}
}

func TestBalancedSubset(t *testing.T) {
	im := &data.Images{N: 30, Height: 1, Width: 1, Channels: 1, NumClasses: 3, Pixels: make([]uint8, 30), Labels: make([]uint8, 30)}
	for i := range im.Labels {
		im.Labels[i], im.Pixels[i] = uint8(i%3), uint8(i)
	}
	a, err := BalancedSubset(im, 4, 9)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := BalancedSubset(im, 4, 9)
	c, _ := BalancedSubset(im, 4, 10)
	if got := a.ClassCounts(); got[0] != 4 || got[1] != 4 || got[2] != 4 || a.N != 12 {
		t.Errorf("class counts %v", got)
	}
	if string(a.Pixels) != string(b.Pixels) || string(a.Pixels) == string(c.Pixels) {
		t.Error("the subset is not a function of the seed")
	}
	if _, err := BalancedSubset(im, 11, 1); err == nil {
		t.Error("more images per class than there are accepted")
	}
}

// TestSeedIsReproducible: the seed fixes the experiment's accuracies exactly (a shortened ci
// profile, to keep the test quick on the go backend).
func TestSeedIsReproducible(t *testing.T) {
	cfg, _ := ProfileConfig("ci")
	cfg.GAN.Steps, cfg.Classifier.Steps, cfg.SyntheticPerClass = 20, 100, 10
	b := traintest.GoBackend(t)
	start := time.Now()
	r1, err := RunSeed(context.Background(), cfg, b, "", 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("one seed in %v: %+v", time.Since(start), r1)
	r2, err := RunSeed(context.Background(), cfg, b, "", 3)
	if err != nil {
		t.Fatal(err)
	}
	if r1 != r2 {
		t.Errorf("seed 3 twice: %+v then %+v", r1, r2)
	}
	if r1.Baseline < 0.4 || r1.Augmented < 0.2 {
		t.Errorf("accuracies %+v: the classifier did not learn", r1)
	}
}
