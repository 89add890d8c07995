package data

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gomlx/gomlx/core/tensors"
)

// synthMNIST writes a 3-image, 2x2 MNIST look-alike into dir/mnist and installs a catalogue
// that knows its checksums.
func synthMNIST(t *testing.T, dir string) (pixels, labels []byte) {
	t.Helper()
	pixels = []byte{0, 255, 128, 1, 10, 20, 30, 40, 255, 255, 0, 0}
	labels = []byte{7, 0, 9}
	files := map[string][]byte{
		"train-images-idx3-ubyte.gz": gz(idxBytes(pixels, 3, 2, 2)),
		"train-labels-idx1-ubyte.gz": gz(idxBytes(labels, 3)),
		"t10k-images-idx3-ubyte.gz":  gz(idxBytes(pixels[:4], 1, 2, 2)),
		"t10k-labels-idx1-ubyte.gz":  gz(idxBytes(labels[:1], 1)),
	}
	d := Dataset{Name: "mnist", Source: Source{GoModule, "example.com/m", "v1"}}
	for _, n := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
		d.Files = append(d.Files, fileFor(n, files[n]))
		if dir != "" {
			writeFile(t, filepath.Join(dir, "mnist", n), files[n])
		}
	}
	withCatalog(t, d)
	return pixels, labels
}

func TestLoadMNISTSynthetic(t *testing.T) {
	dir := t.TempDir()
	pixels, labels := synthMNIST(t, dir)
	im, err := LoadMNIST(dir, Train)
	if err != nil {
		t.Fatal(err)
	}
	if im.N != 3 || im.Height != 2 || im.Width != 2 || im.Channels != 1 || im.NumClasses != 10 {
		t.Fatalf("got N=%d %dx%dx%d classes=%d", im.N, im.Height, im.Width, im.Channels, im.NumClasses)
	}
	if !slices.Equal(im.Pixels, pixels) || !slices.Equal(im.Labels, labels) {
		t.Fatalf("pixels/labels differ: %v %v", im.Pixels, im.Labels)
	}
	if len(im.Files) != 2 || im.Files["train-labels-idx1-ubyte.gz"] == "" {
		t.Fatalf("Files = %v, want the two train files with checksums", im.Files)
	}
	test, err := LoadMNIST(dir, Test)
	if err != nil || test.N != 1 {
		t.Fatalf("test split: %v, %v", test, err)
	}

	x := im.Float32([]int{2, 0}, -1, 1)
	if got := x.Shape().Dimensions; !slices.Equal(got, []int{2, 2, 2, 1}) {
		t.Fatalf("Float32 shape %v, want [2 2 2 1]", got)
	}
	flat := tensors.MustCopyFlatData[float32](x)
	want := []float32{1, 1, -1, -1, -1, 1, 128.0/255*2 - 1, 1.0/255*2 - 1}
	for i := range want {
		if d := float64(flat[i] - want[i]); !(math.Abs(d) <= 1e-6) {
			t.Fatalf("Float32[%d] = %v, want %v (all: %v)", i, flat[i], want[i], flat)
		}
	}
	y := tensors.MustCopyFlatData[int32](im.LabelsInt32([]int{2, 0, 1}))
	if !slices.Equal(y, []int32{9, 7, 0}) {
		t.Fatalf("LabelsInt32 = %v", y)
	}
	sub := im.Subset([]int{1, 1})
	if sub.N != 2 || !slices.Equal(sub.Labels, []byte{0, 0}) || !slices.Equal(sub.Pixels, []byte{10, 20, 30, 40, 10, 20, 30, 40}) {
		t.Fatalf("Subset = %+v", sub)
	}
	sub.Pixels[0] = 99
	if im.Pixels[4] != 10 {
		t.Fatal("Subset shares pixel memory with its parent")
	}
	if c := im.ClassCounts(); c[7] != 1 || c[0] != 1 || c[9] != 1 {
		t.Fatalf("ClassCounts = %v", c)
	}
}

// A folder holding the files directly (as the upstream release unpacks) is accepted too.
func TestLoadMNISTFlatFolder(t *testing.T) {
	src := t.TempDir()
	synthMNIST(t, src)
	flat := t.TempDir()
	for _, f := range catalog[0].Files {
		b, _ := os.ReadFile(filepath.Join(src, "mnist", f.Name))
		writeFile(t, filepath.Join(flat, f.Name), b)
	}
	if _, err := LoadMNIST(flat, Train); err != nil {
		t.Fatal(err)
	}
}

func TestLoadMNISTBadFiles(t *testing.T) {
	tests := []struct {
		name    string
		damage  func(path string)
		wantErr []string
	}{
		{"missing", func(p string) { os.Remove(p) }, []string{"missing", "train-labels-idx1-ubyte.gz", "iagen data fetch mnist", "make setup"}},
		{"empty", func(p string) { os.WriteFile(p, nil, 0o644) }, []string{"empty", "train-labels-idx1-ubyte.gz", "iagen data fetch mnist"}},
		{"truncated", func(p string) { b, _ := os.ReadFile(p); os.WriteFile(p, b[:len(b)/2], 0o644) }, []string{"truncated", "train-labels-idx1-ubyte.gz"}},
		{"corrupt", func(p string) { b, _ := os.ReadFile(p); b[len(b)-1] ^= 1; os.WriteFile(p, b, 0o644) }, []string{"corrupt", "SHA-256", "train-labels-idx1-ubyte.gz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			synthMNIST(t, dir)
			tt.damage(filepath.Join(dir, "mnist", "train-labels-idx1-ubyte.gz"))
			_, err := LoadMNIST(dir, Train)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			st, verr := Verify(dir, "mnist")
			if verr == nil || len(st) != 4 || st[1].State == OK || st[0].State != OK {
				t.Errorf("Verify = %v, %v; want file 1 bad only", st, verr)
			}
		})
	}
}

func TestDecodeIDXImagesErrors(t *testing.T) {
	img := gz(idxBytes(make([]byte, 8), 2, 2, 2))
	lbl := gz(idxBytes([]byte{1, 2}, 2))
	tests := []struct {
		name          string
		images, label []byte
		want          string
	}{
		{"wrong magic images", gz(idxBytes(make([]byte, 8), 2, 4)), lbl, "magic"},
		{"labels as images", lbl, lbl, "magic"},
		{"not gzip", idxBytes(make([]byte, 8), 2, 2, 2), lbl, "gzip"},
		{"truncated data", gz(idxBytes(make([]byte, 7), 2, 2, 2)), lbl, "truncated"},
		{"count mismatch", img, gz(idxBytes([]byte{1, 2, 3}, 3)), "2 images but 3 labels"},
		{"label out of range", img, gz(idxBytes([]byte{1, 10}, 2)), "label 10"},
		{"empty", nil, lbl, "gzip"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeIDXImages(tt.images, tt.label, 10)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want mention of %q", err, tt.want)
			}
		})
	}
	if _, err := decodeIDXImages(img, lbl, 10); err != nil {
		t.Fatalf("valid input: %v", err)
	}
}

func TestParseIDX(t *testing.T) {
	dims, v, err := parseIDX(idxBytes([]byte{1, 2, 3, 4, 5, 6}, 2, 3))
	if err != nil || !slices.Equal(dims, []int{2, 3}) || len(v) != 6 {
		t.Fatalf("got %v %v %v", dims, v, err)
	}
	for _, bad := range [][]byte{nil, {0, 0, 8}, {0, 0, 9, 1, 0, 0, 0, 1, 0}, {0, 0, 8, 0}, {0, 0, 8, 1, 0, 0}, {0, 0, 8, 1, 0, 0, 0, 0}, idxBytes([]byte{1, 2}, 3)} {
		if _, _, err := parseIDX(bad); err == nil {
			t.Errorf("parseIDX(%v): no error", bad)
		}
	}
}

func FuzzParseIDX(f *testing.F) {
	f.Add(idxBytes([]byte{1, 2, 3, 4, 5, 6}, 2, 3))
	f.Add(idxBytes([]byte{7}, 1))
	f.Add([]byte{0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 42})
	f.Fuzz(func(t *testing.T, b []byte) {
		dims, v, err := parseIDX(b)
		if err != nil {
			return
		}
		n := 1
		for _, d := range dims {
			n *= d
		}
		if n != len(v) {
			t.Fatalf("dims %v but %d values", dims, len(v))
		}
		// Through gzip the same bytes must decode the same way (or fail on the magic check).
		if d2, v2, err := parseIDXGz(gz(b), uint32(0x0800|len(dims))); err != nil || !slices.Equal(d2, dims) || len(v2) != len(v) {
			t.Fatalf("gzip path differs: %v %v", d2, err)
		}
	})
}

// Invariants of the published datasets, on the real files when they have been fetched.
func TestMNISTReal(t *testing.T) {
	dir := realDir(t, "mnist")
	train, err := LoadMNIST(dir, Train)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || train.Height != 28 || train.Width != 28 || train.Channels != 1 || len(train.Pixels) != 60000*784 {
		t.Fatalf("train: N=%d %dx%dx%d", train.N, train.Height, train.Width, train.Channels)
	}
	if !slices.Equal(train.Labels[:10], []byte{5, 0, 4, 1, 9, 2, 1, 3, 1, 4}) {
		t.Fatalf("first train labels %v, want 5 0 4 1 9 2 1 3 1 4", train.Labels[:10])
	}
	if c := train.ClassCounts(); c[1] != 6742 || c[5] != 5421 {
		t.Fatalf("class counts %v", c)
	}
	test, err := LoadMNIST(dir, Test)
	if err != nil || test.N != 10000 {
		t.Fatalf("test: %v %v", test, err)
	}
	x := tensors.MustCopyFlatData[float32](train.Float32([]int{0}, 0, 1))
	var sum float32
	for _, v := range x {
		sum += v
	}
	if sum < 50 || sum > 200 { // the first "5" has about 107 units of ink
		t.Fatalf("ink of image 0 = %v", sum)
	}
}

func TestFashionMNISTReal(t *testing.T) {
	dir := realDir(t, "fashion-mnist")
	train, err := LoadFashionMNIST(dir, Train)
	if err != nil {
		t.Fatal(err)
	}
	if train.N != 60000 || !slices.Equal(train.Labels[:10], []byte{9, 0, 0, 3, 0, 2, 7, 2, 5, 5}) {
		t.Fatalf("N=%d first labels %v, want 9 0 0 3 0 2 7 2 5 5", train.N, train.Labels[:10])
	}
	for c, n := range train.ClassCounts() {
		if n != 6000 {
			t.Fatalf("class %d has %d images, want 6000", c, n)
		}
	}
	test, err := LoadFashionMNIST(dir, Test)
	if err != nil || test.N != 10000 {
		t.Fatalf("test: %v", err)
	}
}
