package text2img

import (
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/nn"
	"github.com/iagen-course/iagen/lib/nn/nntest"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/train/traintest"
)

// tiny is a configuration that builds and steps in a fraction of a second: a U-Net of 4 and 8
// channels, T = 20, DDIM-1, 6 images per class.
func tiny() Config {
	c, _ := ProfileConfig("ci")
	c.UNetConfig = nn.UNetConfig{Channels: 4, Mults: []int{1, 2}, Heads: 1, Groups: 2, TimeDim: 8}
	c.TextDim, c.Timesteps, c.Batch, c.Steps = 8, 20, 4, 6
	c.Sampling.Steps, c.SampleBatch, c.EvalPerClass, c.StudyPerClass, c.RefereeSteps = 1, 90, 6, 6, 300
	return c
}

func newModel(t *testing.T, b compute.Backend, cfg Config) *Model {
	return traintest.NewModel(t, NewWithConfig, b, cfg, 7)
}

// Guided is (1 + w)·ε(z, c) − w·ε(z, ∅), computed elementwise on the host from the definition.
func TestGuidedMatchesDefinition(t *testing.T) {
	b := traintest.GoBackend(t)
	cond, uncond := nntest.RandF32(1, 2, 3, 3, 1), nntest.RandF32(2, 2, 3, 3, 1)
	c, u := tensors.MustCopyFlatData[float32](cond), tensors.MustCopyFlatData[float32](uncond)
	for _, w := range []float32{0, 0.5, 2, 4} {
		got := graph.MustExecOnce(b, func(c, u, w *graph.Node) *graph.Node { return Guided(c, u, w) }, cond, uncond, w)
		g := tensors.MustCopyFlatData[float32](got)
		for i := range c {
			want := (1+float64(w))*float64(c[i]) - float64(w)*float64(u[i])
			if math.Abs(float64(g[i])-want) > 1e-5 {
				t.Fatalf("w = %g, element %d: %g, want (1+w)·%g − w·%g = %g", w, i, g[i], c[i], u[i], want)
			}
		}
		if w == 0 && !slices.Equal(g, c) {
			t.Errorf("w = 0 must give the conditional estimate exactly")
		}
	}
}

func TestEncode(t *testing.T) {
	id := func(w string) int32 { return tokenOf[w] }
	for _, tc := range []struct {
		prompt string
		want   []int32
	}{
		{"un siete", []int32{id("un"), id("siete"), 0, 0}},
		{"  Una   ZAPATILLA ", []int32{id("una"), id("zapatilla"), 0, 0}},
		{"un cuatro inclinado grueso", []int32{id("un"), id("cuatro"), id("inclinado"), id("grueso")}},
		{"", []int32{nullToken, 0, 0, 0}},
	} {
		got, err := Encode(tc.prompt)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("Encode(%q) = %v, %v; want %v", tc.prompt, got, err, tc.want)
		}
	}
	_, err := Encode("un gato")
	if err == nil || !strings.Contains(err.Error(), `"gato"`) || !strings.Contains(err.Error(), "zapatilla") || strings.Contains(err.Error(), "\n") {
		t.Errorf("an unknown word must give a one-line error naming it and listing the vocabulary, got %v", err)
	}
	if _, err := Encode("un siete inclinado grueso fino"); err == nil {
		t.Error("a prompt of 5 words accepted")
	}
	if _, err := Encode(nullWord); err == nil {
		t.Error("the null prompt's internal word must not be typeable")
	}
	for c, p := range Classes {
		if ClassOf(p) != c || ClassOf(p+" inclinado") != c {
			t.Errorf("ClassOf(%q) = %d, want %d", p, ClassOf(p), c)
		}
	}
	if ClassOf("") != -1 || ClassOf("inclinado") != -1 {
		t.Error("a prompt without a noun names no class")
	}
	// The article agrees with the noun's gender.
	for _, p := range []string{"una camiseta", "un pantalón", "un jersey", "un vestido", "un abrigo", "una sandalia", "una camisa", "una zapatilla", "un bolso", "un botín"} {
		if ClassOf(p) < 10 || Classes[ClassOf(p)] != p {
			t.Errorf("%q is not a garment class prompt", p)
		}
	}
}

// bar draws a stroke of the given width through (14, 14) with horizontal shift shear per row
// upwards: x = 14 + shear·(14 − y).
func bar(shear float64, width int) []uint8 {
	px := make([]uint8, 28*28)
	for y := 4; y < 24; y++ {
		x0 := int(math.Round(14 + shear*float64(14-y)))
		for x := x0 - width/2; x < x0-width/2+width; x++ {
			px[y*28+x] = 255
		}
	}
	return px
}

func TestMeasureSlantAndInk(t *testing.T) {
	for _, tc := range []struct {
		shear float64
		word  string
	}{{0, Upright}, {0.5, Slanted}, {-0.5, Slanted}, {0.2, ""}} {
		m := Measure(bar(tc.shear, 2))
		if math.Abs(m.Slant-tc.shear) > 0.05 || SlantWord(m.Slant) != tc.word {
			t.Errorf("shear %g: slant %.3f (%q), want ≈ %g (%q)", tc.shear, m.Slant, SlantWord(m.Slant), tc.shear, tc.word)
		}
	}
	if thin, thick := Measure(bar(0, 1)).Ink, Measure(bar(0, 4)).Ink; thin != 20 || thick != 80 {
		t.Errorf("ink of 20 rows × 1 and × 4 pixels: %g and %g, want 20 and 80", thin, thick)
	}
	if (Measure(make([]uint8, 28*28)) != Moments{}) {
		t.Error("an empty image has no slant and no ink")
	}
	// Thickness words come from the terciles of ink within a class: three 7s of widths 1, 2, 4.
	var px []uint8
	for _, w := range []int{1, 2, 4} {
		px = append(px, bar(0.5, w)...)
	}
	a := describe(append(px, bar(0, 3)...), []uint8{7, 7, 7, 12})
	if a[0] != (attributes{Slanted, Thin}) || a[1] != (attributes{Slanted, ""}) || a[2] != (attributes{Slanted, Thick}) || a[3] != (attributes{}) {
		t.Errorf("describe: %v", a)
	}
}

func TestProfiles(t *testing.T) {
	traintest.ProfilesAreValid(t, ProfileConfig, Config.Check)
}

func TestResumeMatchesUninterrupted(t *testing.T) {
	b := traintest.GoBackend(t)
	traintest.ResumeMatchesUninterrupted(t, func() train.Task { return newModel(t, b, tiny()) }, 6, 3, 50, "")
}

// tinyLatent is tiny in the latent space: a VAE of 32 hidden units and 4 latents trained 3
// steps, then 3 steps of a 16-unit denoiser.
func tinyLatent() Config {
	c := tiny()
	c.Space, c.VAESteps, c.DenoiserHidden, c.DenoiserDepth, c.Steps = "latent", 3, 16, 1, 3
	c.VAE.Hidden, c.VAE.Latent, c.VAE.Batch = 32, 4, 8
	return c
}

// Resumed in the denoiser's phase, a latent run encodes the training set again with the
// restored VAE and ends where the uninterrupted run ends.
func TestLatentResumeMatchesUninterrupted(t *testing.T) {
	b := traintest.GoBackend(t)
	traintest.ResumeMatchesUninterrupted(t, func() train.Task { return newModel(t, b, tinyLatent()) }, 6, 4, 50, "class_agreement")
}

func TestRunFolderRoundTrip(t *testing.T) {
	traintest.RunFolderRoundTrip(t, "text2img", traintest.GoBackend(t), tiny(), 4, 10)
}

// A denoising step gives the same pixels on the go backend and on xla:cpu (the noise is drawn
// on the host, so sampling is deterministic given the weights).
func TestAgreesAcrossBackends(t *testing.T) {
	if testing.Short() {
		t.Skip("compiles the model on xla:cpu (about 20 s on 2 cores)")
	}
	traintest.AgreesAcrossBackends(t, func(b compute.Backend) train.Task { return newModel(t, b, tiny()) },
		func(task train.Task) ([]float64, error) {
			s := task.(*Model).Config.Sampling
			s.Guidance = 2
			im, err := task.(*Model).Generate(s, []string{"un siete", "una zapatilla"}, 3)
			if err != nil {
				return nil, err
			}
			out := make([]float64, len(im.Pixels))
			for i, p := range im.Pixels {
				out[i] = float64(p)
			}
			return out, nil
		}, 0.01)
}

// Sampling options: the prompt and guidance through --set, an unknown word rejected in one line.
func TestSamplingOptionsAndFromPrompt(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tiny())
	if err := m.SetSampling(json.RawMessage(`{"prompt": "un siete", "guidance": 3}`)); err != nil {
		t.Fatal(err)
	}
	if s := m.Sampler(); s.Prompt != "un siete" || s.Guidance != 3 || s.Sampler != "ddim" {
		t.Errorf("sampler after --set: %+v", s)
	}
	if err := m.SetSampling(json.RawMessage(`{"prompt": "un perro"}`)); err == nil || !strings.Contains(err.Error(), "vocabulary") {
		t.Errorf("unknown word: %v", err)
	}
	run := &family.Run{Family: "text2img", Model: m}
	a, err := FromPrompt(run, "una zapatilla", 3, 2, 9)
	if err != nil {
		t.Fatal(err)
	}
	b, err := FromPrompt(run, "una zapatilla", 5, 2, 9)
	if err != nil {
		t.Fatal(err)
	}
	if a.N != 3 || a.Labels[0] != 17 || string(a.Pixels) != string(b.Pixels[:3*28*28]) {
		t.Errorf("FromPrompt: %d images of class %d; the first 3 of 5 equal the 3: %v", a.N, a.Labels[0], string(a.Pixels) == string(b.Pixels[:3*28*28]))
	}
	if _, err := FromPrompt(run, "un gato", 1, 2, 9); err == nil {
		t.Error("FromPrompt accepted an unknown word")
	}
}

// TestCIRunFollowsPrompts trains the ci profile in pixel space (400 steps) and in latent space
// (600 VAE steps, 400 denoiser steps) and checks that their guided samples agree with their
// prompts' class far more often than chance (1/20), by the referee classifier. Seed 42 on
// xla:cpu gives 0.645 (pixel) and 0.66 (latent).
func TestCIRunFollowsPrompts(t *testing.T) {
	if testing.Short() {
		t.Skip("trains the ci profile twice")
	}
	b, err := backend.New("")
	if err != nil {
		t.Fatal(err)
	}
	for _, space := range []string{"pixel", "latent"} {
		m, err := New(family.Options{Backend: b, Profile: "ci", Seed: backend.DefaultSeed, Overrides: json.RawMessage(`{"space": "` + space + `"}`)})
		if err != nil {
			t.Fatal(err)
		}
		res, err := train.Run(context.Background(), m, train.Config{Steps: m.Info().Steps, Seed: backend.DefaultSeed,
			Progress: train.SilentProgress(), Dir: filepath.Join(t.TempDir(), space)})
		if err != nil {
			t.Fatal(err)
		}
		agree, _ := res.Eval.Get("class_agreement")
		ref, _ := res.Eval.Get("referee_accuracy")
		t.Logf("%s ci after %d steps on %s: %v", space, m.Info().Steps, backend.Describe(b).Config, res.Eval)
		if !(ref > 0.8) {
			t.Errorf("referee test accuracy %.3f, want > 0.8", ref)
		}
		if !(agree > 0.3) {
			t.Errorf("%s: class agreement %.3f of the ci run's guided samples, want > 0.3 (chance: 0.05)", space, agree)
		}
	}
}

// The combined set has both datasets' 70,000 images each, garments as classes 10–19, and keeps
// the SHA-256 of all eight files (the two datasets name their files alike).
func TestLoadCombinedKeepsBothDatasets(t *testing.T) {
	trainSet, testSet, err := LoadCombined("")
	if err != nil {
		t.Fatal(err)
	}
	if trainSet.N != 120000 || testSet.N != 20000 {
		t.Fatalf("combined sets have %d and %d images, want 120000 and 20000", trainSet.N, testSet.N)
	}
	if lo, hi := slices.Min(trainSet.Labels), slices.Max(trainSet.Labels); lo != 0 || hi != NumClasses-1 || trainSet.Labels[60000] < 10 {
		t.Errorf("labels span %d…%d (image 60000: %d), want 0…19 with garments from 10", lo, hi, trainSet.Labels[60000])
	}
	files := data.FilesOf(trainSet, testSet)
	if len(files) != 8 {
		t.Errorf("the manifest would name %d files, want 8: %v", len(files), files)
	}
}
