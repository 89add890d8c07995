package flow

import (
	"math"
	"strings"
	"testing"

	"github.com/iagen-course/iagen/lib/train/traintest"
)

// Encode then Decode gives back the bin centres x + ½ of the test images (after a few training
// steps, so that every layer does something), more images than a batch; Interpolate's ends are
// its arguments; BitsPerDimOf the test set is TestBitsPerDim.
func TestEncodeDecode(t *testing.T) {
	m := newModel(t, traintest.GoBackend(t), tiny())
	for s := range 3 {
		if _, err := m.Step(s); err != nil {
			t.Fatal(err)
		}
	}
	idx := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	z, err := m.Encode(m.TestSet(), idx)
	if err != nil {
		t.Fatal(err)
	}
	v, err := m.Decode(z)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for k, i := range idx {
		for j, p := range m.TestSet().Pixels[i*imageSize : (i+1)*imageSize] {
			worst = max(worst, math.Abs(float64(v[k][j])-(float64(p)+0.5)))
		}
	}
	if len(v) != len(idx) || worst > 0.01 {
		t.Errorf("%d images back, largest error %g", len(v), worst)
	}
	if im := ImagesOf(v); im.N != len(idx) || string(im.Pixels) != string(m.TestSet().Pixels[:len(idx)*imageSize]) {
		t.Error("ImagesOf(Decode(Encode(x))) is not x")
	}
	path := Interpolate(z[0], z[1], 5)
	if len(path) != 5 || path[0][7] != z[0][7] || path[4][7] != z[1][7] {
		t.Error("Interpolate's ends are not its arguments")
	}
	a, err := m.TestBitsPerDim()
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := m.BitsPerDimOf(m.TestSet(), m.EvalTestImages); a != b {
		t.Errorf("BitsPerDimOf the test set %g, TestBitsPerDim %g", b, a)
	}
	cfg := tiny()
	cfg.Dataset = "cifar"
	if err := cfg.Check(); err == nil || !strings.Contains(err.Error(), "dataset") {
		t.Errorf("dataset cifar: %v", err)
	}
}
