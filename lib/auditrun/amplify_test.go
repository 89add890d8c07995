package auditrun

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/data/datatest"
	"github.com/iagen-course/iagen/lib/family"
	_ "github.com/iagen-course/iagen/lib/family/all"
	"github.com/iagen-course/iagen/lib/imagegen"
	"github.com/iagen-course/iagen/lib/train"
)

// A tiny amplification audit of the VAE: four runs (two seeds, skewed and balanced) trained,
// their samples labelled, the report assembled; run again, it reuses the four runs and gives the
// same shares. The classifier's share of the skewed training images is near their true 0.9.
func TestAmplifyTrainsThenReuses(t *testing.T) {
	dir := datatest.Dir(t, "mnist")
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	skew := imagegen.DefaultSkew()
	skew.N = 3000
	trained, reused := 0, 0
	cfg := AmplifyConfig{Family: "vae", Options: family.Options{Backend: b, Profile: "ci", DataDir: dir,
		Overrides: []byte(`{"iwae_k": 10, "eval_images": 100, "eval_samples": 200}`)}, Skew: skew,
		Seeds: []int64{1, 2}, Steps: 30, N: 200, Runs: t.TempDir(),
		RunDone: func(_ string, r bool) {
			if r {
				reused++
			} else {
				trained++
			}
		}}
	rep, err := Amplify(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if trained != 4 || reused != 0 || rep.Steps != 30 || len(rep.Skewed.Shares) != 2 || len(rep.Balanced.Dirs) != 2 || !rep.Balanced.Balance || rep.Skewed.Balance {
		t.Fatalf("trained %d, reused %d; report %+v", trained, reused, rep)
	}
	if math.Abs(rep.ClassifierShare-0.9) > 0.05 || math.Abs(rep.Parity-0.51) > 0.01 {
		t.Errorf("classifier share %.3f of a 0.9 set, parity %.3f (MNIST's digits 0-4: 0.51)", rep.ClassifierShare, rep.Parity)
	}
	for _, s := range append(rep.Skewed.Shares, rep.Balanced.Shares...) {
		if !(s >= 0 && s <= 1) {
			t.Errorf("share %v", s)
		}
	}
	if d := rep.Balanced.Shares[0] - rep.Skewed.Shares[0]; math.Abs(d-rep.Effect.Estimate) > 0.5 || rep.Effect.N != 2 {
		t.Errorf("effect %+v from shares %v and %v", rep.Effect, rep.Skewed.Shares, rep.Balanced.Shares)
	}
	// The digits' shares: group 0's add up to the group's share, in the samples and (0.9 by
	// construction) in the training set.
	group0 := func(classes []float64) float64 { return classes[0] + classes[1] + classes[2] + classes[3] + classes[4] }
	if math.Abs(group0(rep.TrainClasses)-0.9) > 1e-9 {
		t.Errorf("training digits %v: group 0 has %.4f, want 0.9", rep.TrainClasses, group0(rep.TrainClasses))
	}
	for _, a := range []AmplifyArm{rep.Skewed, rep.Balanced} {
		for i, c := range a.Classes {
			if len(c) != 10 || math.Abs(group0(c)-a.Shares[i]) > 1e-9 {
				t.Errorf("balance %v seed %d: digits %v against share %.4f", a.Balance, i, c, a.Shares[i])
			}
		}
	}
	if md := rep.Markdown(); !strings.Contains(md, "muestreo equilibrado") || !strings.Contains(md, "30 pasos") || !strings.Contains(md, "| entrenamiento (etiquetas reales) | ") {
		t.Errorf("markdown:\n%s", md)
	}
	again, err := Amplify(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if trained != 4 || reused != 4 || !slices.Equal(again.Skewed.Shares, rep.Skewed.Shares) || !slices.Equal(again.Balanced.Shares, rep.Balanced.Shares) {
		t.Errorf("second audit: trained %d, reused %d, shares %v %v against %v %v", trained, reused,
			again.Skewed.Shares, again.Balanced.Shares, rep.Skewed.Shares, rep.Balanced.Shares)
	}

	// An audit interrupted during a run: its folder keeps the checkpoints up to step 27 and no
	// manifest. The next audit resumes it, and it ends where it did uninterrupted.
	cut := rep.Balanced.Dirs[1]
	cks, err := train.ListCheckpoints(filepath.Join(cut, "checkpoint"))
	if err != nil || len(cks) < 2 {
		t.Fatalf("%d checkpoints (%v)", len(cks), err)
	}
	for _, p := range []string{cks[len(cks)-1].Path, filepath.Join(cut, "manifest.json"), filepath.Join(cut, "metrics.json")} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	resumed, err := Amplify(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if trained != 5 || resumed.Balanced.Shares[1] != rep.Balanced.Shares[1] {
		t.Errorf("after an interruption: trained %d (want 5), share %v, uninterrupted %v", trained, resumed.Balanced.Shares[1], rep.Balanced.Shares[1])
	}
}

func TestAmplifyRejectsBadConfigs(t *testing.T) {
	good := AmplifyConfig{Family: "vae", Skew: imagegen.DefaultSkew(), Seeds: []int64{1, 2}}
	three := good
	three.Skew.Groups = [][]int{{0}, {1}, {2}}
	for name, cfg := range map[string]AmplifyConfig{"three groups": three, "one seed": {Family: "vae", Skew: imagegen.DefaultSkew(), Seeds: []int64{1}}} {
		if _, err := Amplify(context.Background(), cfg); err == nil || !strings.HasPrefix(err.Error(), "amplify: ") {
			t.Errorf("%s: err %v", name, err)
		}
	}
}
