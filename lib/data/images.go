package data

import (
	"fmt"
	"maps"

	"github.com/gomlx/gomlx/core/tensors"
)

// Split selects the training or the test part of a dataset.
type Split int

const (
	Train Split = iota
	Test
)

func (s Split) String() string {
	switch s {
	case Train:
		return "train"
	case Test:
		return "test"
	}
	return fmt.Sprintf("Split(%d)", int(s))
}

// Images is a labelled image set in memory. Pixels holds N*Height*Width*Channels bytes in NHWC
// row-major order, 0 = background, 255 = full ink (every loader here maps its pixel range onto
// 0..255). Labels holds N class indices in [0, NumClasses).
type Images struct {
	Name                                   string
	N, Height, Width, Channels, NumClasses int
	Pixels                                 []uint8
	Labels                                 []uint8
	// ClassNames names each class (digits: "0".."9"); may be nil.
	ClassNames []string
	// Files maps each source file name to its SHA-256, for run manifests.
	Files map[string]string
}

// ImageSize returns the number of bytes of one image, Height*Width*Channels.
func (im *Images) ImageSize() int { return im.Height * im.Width * im.Channels }

// Float32 returns the images idx as a float32 tensor of shape [len(idx), Height, Width,
// Channels], each byte v mapped linearly from [0,255] to [lo,hi]: lo + v*(hi-lo)/255. A nil idx
// means all N images in order. Like slice indexing, it panics on an index outside [0, N).
func (im *Images) Float32(idx []int, lo, hi float32) *tensors.Tensor {
	idx = im.indices(idx)
	size := im.ImageSize()
	out := make([]float32, len(idx)*size)
	scale := (hi - lo) / 255
	var table [256]float32
	for v := range table {
		table[v] = lo + float32(v)*scale
	}
	for i, j := range idx {
		src := im.Pixels[j*size : (j+1)*size]
		dst := out[i*size : (i+1)*size]
		for k, v := range src {
			dst[k] = table[v]
		}
	}
	return tensors.FromFlatDataAndDimensions(out, len(idx), im.Height, im.Width, im.Channels)
}

// LabelsInt32 returns the labels of images idx as an int32 tensor of shape [len(idx)]. A nil idx
// means all N images. It panics on an index outside [0, N).
func (im *Images) LabelsInt32(idx []int) *tensors.Tensor {
	idx = im.indices(idx)
	out := make([]int32, len(idx))
	for i, j := range idx {
		out[i] = int32(im.Labels[j])
	}
	return tensors.FromFlatDataAndDimensions(out, len(idx))
}

// Subset returns a new image set holding copies of images idx, in that order (repeats allowed).
// A nil idx copies all. It panics on an index outside [0, N).
func (im *Images) Subset(idx []int) *Images {
	idx = im.indices(idx)
	size := im.ImageSize()
	out := &Images{
		Name: im.Name, N: len(idx), Height: im.Height, Width: im.Width, Channels: im.Channels,
		NumClasses: im.NumClasses, ClassNames: im.ClassNames, Files: maps.Clone(im.Files),
		Pixels: make([]uint8, len(idx)*size), Labels: make([]uint8, len(idx)),
	}
	for i, j := range idx {
		copy(out.Pixels[i*size:(i+1)*size], im.Pixels[j*size:(j+1)*size])
		out.Labels[i] = im.Labels[j]
	}
	return out
}

// ClassCounts returns the number of images of each class, a slice of length NumClasses.
func (im *Images) ClassCounts() []int {
	c := make([]int, im.NumClasses)
	for _, l := range im.Labels {
		if int(l) < len(c) {
			c[l]++
		}
	}
	return c
}

func (im *Images) indices(idx []int) []int {
	if idx != nil {
		for _, j := range idx {
			if j < 0 || j >= im.N {
				panic(fmt.Sprintf("data: image index %d out of range [0, %d) in %s", j, im.N, im.Name))
			}
		}
		return idx
	}
	all := make([]int, im.N)
	for i := range all {
		all[i] = i
	}
	return all
}

// LoadMNIST loads the MNIST training (60,000) or test (10,000) images, 28x28x1, labels 0-9,
// from the data folder dir (see [Dir]; the files are looked for in dir/mnist/, then in dir).
// Every file's SHA-256 is checked first; the error names any missing or bad file and the fix.
func LoadMNIST(dir string, split Split) (*Images, error) {
	return loadIDXImages(dir, "mnist", split, digitNames)
}

// LoadMNISTSplits loads both MNIST splits (LoadMNIST): what an image family trains on and
// evaluates on.
func LoadMNISTSplits(dir string) (train, test *Images, err error) {
	if train, err = LoadMNIST(dir, Train); err != nil {
		return nil, nil, err
	}
	test, err = LoadMNIST(dir, Test)
	return train, test, err
}

// FashionMNISTClasses names the ten Fashion-MNIST classes in label order.
var FashionMNISTClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

var digitNames = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}

// LoadFashionMNIST loads the Fashion-MNIST training (60,000) or test (10,000) images, 28x28x1,
// 10 classes named by [FashionMNISTClasses], from dir/fashion-mnist/ (or dir), checksums first.
func LoadFashionMNIST(dir string, split Split) (*Images, error) {
	return loadIDXImages(dir, "fashion-mnist", split, FashionMNISTClasses)
}

func loadIDXImages(dir, name string, split Split, classes []string) (*Images, error) {
	prefix := "train"
	switch split {
	case Train:
	case Test:
		prefix = "t10k"
	default:
		return nil, fmt.Errorf("data: %s: unknown split %d", name, int(split))
	}
	d, err := Lookup(name)
	if err != nil {
		return nil, err
	}
	imgFile, lblFile := prefix+"-images-idx3-ubyte.gz", prefix+"-labels-idx1-ubyte.gz"
	var keep []File
	for _, f := range d.Files {
		if f.Name == imgFile || f.Name == lblFile {
			keep = append(keep, f)
		}
	}
	d.Files = keep
	contents, sums, err := readFiles(dir, d)
	if err != nil {
		return nil, err
	}
	im, err := decodeIDXImages(contents[imgFile], contents[lblFile], len(classes))
	if err != nil {
		return nil, fmt.Errorf("data: %s %s: %w; %s", name, split, err, fixHint(name, dir))
	}
	im.Name = name + "-" + split.String()
	im.ClassNames = classes
	im.Files = sums
	return im, nil
}

// decodeIDXImages decodes a gzipped IDX image file [N, H, W] and a gzipped IDX label file [N]
// into an Images with one channel, checking that labels lie in [0, numClasses).
func decodeIDXImages(imagesGz, labelsGz []byte, numClasses int) (*Images, error) {
	idims, pixels, err := parseIDXGz(imagesGz, idxImagesMagic)
	if err != nil {
		return nil, fmt.Errorf("images file: %w", err)
	}
	ldims, labels, err := parseIDXGz(labelsGz, idxLabelsMagic)
	if err != nil {
		return nil, fmt.Errorf("labels file: %w", err)
	}
	if idims[0] != ldims[0] {
		return nil, fmt.Errorf("%d images but %d labels", idims[0], ldims[0])
	}
	for i, l := range labels {
		if int(l) >= numClasses {
			return nil, fmt.Errorf("label %d of example %d is not in [0, %d)", l, i, numClasses)
		}
	}
	return &Images{N: idims[0], Height: idims[1], Width: idims[2], Channels: 1, NumClasses: numClasses,
		Pixels: pixels, Labels: labels}, nil
}

// readFiles reads and checks all files of d (which may be a filtered copy of a catalogue entry).
func readFiles(dir string, d Dataset) (map[string][]byte, map[string]string, error) {
	base := datasetDir(dir, d)
	contents := make(map[string][]byte, len(d.Files))
	sums := make(map[string]string, len(d.Files))
	for _, f := range d.Files {
		b, err := readChecked(dir, d.Name, f, base)
		if err != nil {
			return nil, nil, err
		}
		contents[f.Name] = b
		sums[f.Name] = f.SHA256
	}
	return contents, sums, nil
}

// FilesOf maps the source files of every set to their SHA-256 (the datasets of a run manifest).
func FilesOf(sets ...*Images) map[string]string {
	out := map[string]string{}
	for _, s := range sets {
		for k, v := range s.Files {
			out[k] = v
		}
	}
	return out
}
