package imagegen

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/graph"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/classifier"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/train/traintest"
)

// counting is a Generator whose image i has every pixel at grey level i mod 256.
type counting struct{}

func (counting) Samples(n int, seed uint64) (*data.Images, error) {
	im := &data.Images{N: n, Height: 28, Width: 28, Channels: 1, NumClasses: 10, Pixels: make([]uint8, n*784)}
	for i := range n {
		for j := range 784 {
			im.Pixels[i*784+j] = uint8(i)
		}
	}
	return im, nil
}

// TestWriteSamplesDrawsAllN: 100 samples give a grid of 100 cells (10×10 of 2× images with
// 1-pixel borders), not the first 64.
func TestWriteSamplesDrawsAllN(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.png")
	if err := WriteSamples(counting{}, 100, 1, path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	const cell = 28*2 + 1
	if b := img.Bounds(); b.Dx() != 10*cell+1 || b.Dy() != 10*cell+1 {
		t.Fatalf("grid of 100 samples is %v, want %d×%d (10×10 cells)", b, 10*cell+1, 10*cell+1)
	}
	// The last cell holds image 99 (grey level 99).
	r, _, _, _ := img.At(9*cell+1+28, 9*cell+1+28).RGBA()
	if r>>8 != 99 {
		t.Errorf("last cell has grey level %d, want 99", r>>8)
	}
}

// TestDecodeBatchesAndScales decodes 7 latents in batches of 3 (the last one padded) through a
// graph that paints every pixel of image i with its latent's first value, and checks the grey
// levels against GreyLevel.
func TestDecodeBatchesAndScales(t *testing.T) {
	b := traintest.GoBackend(t)
	exec, err := train.NewEvalExec(b, model.NewStore(), nil, func(scope *model.Scope, in []*graph.Node) []*graph.Node {
		first := graph.Slice(in[0], graph.AxisRange(), graph.AxisRange(0, 1)) // [B, 1]
		return []*graph.Node{graph.BroadcastToDims(graph.Reshape(first, -1, 1, 1, 1), in[0].Shape().Dimensions[0], 28, 28, 1)}
	})
	if err != nil {
		t.Fatal(err)
	}
	z := [][]float32{{-1, 0}, {-0.5, 0}, {0, 0}, {0.5, 0}, {1, 0}, {2, 0}, {-3, 0}}
	im, err := Decode(exec, z, 2, 3, MNIST, -1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if im.N != len(z) || len(im.Pixels) != len(z)*784 {
		t.Fatalf("decoded %d images (%d pixels), want %d", im.N, len(im.Pixels), len(z))
	}
	want := []uint8{0, 64, 128, 191, 255, 255, 0}
	for i, w := range want {
		if got := im.Pixels[i*784+400]; got != w || GreyLevel(z[i][0], -1, 1) != w {
			t.Errorf("image %d: grey %d (GreyLevel %d), want %d", i, got, GreyLevel(z[i][0], -1, 1), w)
		}
	}
	if _, err := Decode(exec, [][]float32{{1}}, 2, 3, MNIST, -1, 1); err == nil {
		t.Error("a latent of the wrong size was accepted")
	}
}

// TestScorerKeepsOneYardstickPerProfile: asking for the ci yardstick and then the small one
// must not hand back the ci one (nor build either twice).
func TestScorerKeepsOneYardstickPerProfile(t *testing.T) {
	s := NewScorer(nil, "")
	built := map[string]int{}
	s.newYardstick = func(_ compute.Backend, _, profile string, n int) (*classifier.Yardstick, error) {
		built[profile]++
		return &classifier.Yardstick{Classifier: &classifier.Model{WeightsSHA256: profile}}, nil
	}
	for _, n := range []int{500, 10000, 500, 10000} {
		y, err := s.Yardstick(n)
		if err != nil {
			t.Fatal(err)
		}
		if want := ReferenceProfile(n); y.Classifier.WeightsSHA256 != want {
			t.Errorf("%d samples: yardstick of profile %q, want %q", n, y.Classifier.WeightsSHA256, want)
		}
	}
	if built["ci"] != 1 || built["small"] != 1 {
		t.Errorf("yardsticks built: %v, want each profile once", built)
	}
	if _, err := s.Report(counting{}, 0); err == nil {
		t.Error("a report of 0 samples was accepted")
	}
}

func TestLatentsAreSeeded(t *testing.T) {
	a, b, c := Latents(3, 4, 1, 7), Latents(3, 4, 1, 7), Latents(3, 4, 2, 7)
	if a[2][3] != b[2][3] || a[2][3] == c[2][3] || len(a) != 3 || len(a[0]) != 4 {
		t.Errorf("latents not reproducible by seed: %v %v %v", a[2], b[2], c[2])
	}
}
