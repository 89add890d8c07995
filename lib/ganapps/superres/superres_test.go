package superres

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gomlx/compute"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/train/traintest"
)

func tiny() Config {
	c, _ := ProfileConfig("ci")
	c.Channels, c.DiscChannels, c.Batch, c.Steps, c.EvalImages = 4, 4, 8, 10, 20
	return c
}

func newModel(t *testing.T, b compute.Backend, cfg Config) *Model {
	t.Helper()
	m, err := NewWithConfig(family.Options{Backend: b, Profile: "ci", Seed: 7}, cfg)
	if err == nil {
		err = train.Seed(m.Store(), 7)
	}
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestProfilesAreValid(t *testing.T) {
	traintest.ProfilesAreValid(t, ProfileConfig, Config.Check)
}

func TestResumeMatchesUninterrupted(t *testing.T) {
	b := traintest.GoBackend(t)
	traintest.ResumeMatchesUninterrupted(t, func() train.Task { return newModel(t, b, tiny()) }, 6, 3, 20, "psnr_gan")
}

func TestRunFolderRoundTrip(t *testing.T) {
	traintest.RunFolderRoundTrip(t, "superres", traintest.GoBackend(t), tiny(), 4, 3)
}

// TestCIBeatsBicubic: the ci profile's generators, trained with the L1 content loss, must
// reconstruct the test digits better than bicubic interpolation (higher PSNR).
func TestCIBeatsBicubic(t *testing.T) {
	b := traintest.GoBackend(t)
	cfg, _ := ProfileConfig("ci")
	m := newModel(t, b, cfg)
	start := time.Now()
	if _, err := train.Run(context.Background(), m, train.Config{Steps: cfg.Steps, Seed: backend.DefaultSeed, Progress: train.SilentProgress()}); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d steps in %v", cfg.Steps, time.Since(start))
	r, err := m.Report()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", r)
	if !(r.PSNRGAN > r.PSNRBicubic) {
		t.Errorf("the ci GAN reconstructs at %.2f dB, bicubic at %.2f dB", r.PSNRGAN, r.PSNRBicubic)
	}
	if !(r.AccuracyReal >= r.AccuracyGAN-0.01 && r.AccuracyGAN > 0.8) {
		t.Errorf("classifier accuracy %.3f on the GAN's images, %.3f on the real ones", r.AccuracyGAN, r.AccuracyReal)
	}
}

// TestSample writes rows low-res | bicubic | GAN | content-only | original.
func TestSample(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tiny())
	if _, err := m.Step(0); err != nil {
		t.Fatal(err)
	}
	u, err := m.Upscale([]int{3, 1})
	if err != nil {
		t.Fatal(err)
	}
	g := u.Grid()
	if g.N != 10 || u.Labels[0] != int(m.test.Labels[3]) {
		t.Fatalf("grid of %d images (want 2 rows × 5), labels %v", g.N, u.Labels)
	}
	// The last column is the original, the first the low-res input: their 2×2 means agree.
	orig := u.Original[:Side*Side]
	lo, _ := LowRes(orig, Side, Side)
	for i, v := range lo {
		if d := v - u.Nearest[(i/14)*2*Side+(i%14)*2]; d > 1e-6 || d < -1e-6 {
			t.Fatalf("low-res pixel %d: %v, nearest shows %v", i, v, u.Nearest[(i/14)*2*Side+(i%14)*2])
		}
	}
	path := filepath.Join(t.TempDir(), "sr.png")
	if err := m.Sample(3, path); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		t.Fatalf("no PNG written: %v", err)
	}
}
