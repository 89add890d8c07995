package imagegen

import (
	"strings"
	"testing"

	"github.com/iagen-course/iagen/lib/data"
)

// A nil Skew keeps the training set; DefaultSkew draws its 90/10 set, and with Balance the same
// set with the smaller group repeated to the size of the larger.
func TestSkewApply(t *testing.T) {
	im := &data.Images{Name: "toy", Height: 1, Width: 1, Channels: 1, NumClasses: 10}
	for i := range 5000 {
		im.Pixels, im.Labels = append(im.Pixels, uint8(i)), append(im.Labels, uint8(i%10))
		im.N++
	}
	var none *Skew
	if got, err := none.Apply(im); err != nil || got != im {
		t.Fatalf("nil skew: %v", err)
	}
	s := DefaultSkew()
	s.N = 1000
	low := func(x *data.Images) (n int) {
		for _, l := range x.Labels {
			if l < 5 {
				n++
			}
		}
		return n
	}
	skewed, err := s.Apply(im)
	if err != nil || skewed.N != 1000 || low(skewed) != 900 {
		t.Fatalf("skewed: %v, %d images, %d of digits 0-4", err, skewed.N, low(skewed))
	}
	s.Balance = true
	balanced, err := s.Apply(im)
	if err != nil || balanced.N != 1800 || low(balanced) != 900 {
		t.Fatalf("balanced: %v, %d images, %d of digits 0-4", err, balanced.N, low(balanced))
	}
	s.Fractions = []float64{0.9, 0.2}
	if _, err := s.Apply(im); err == nil || !strings.HasPrefix(err.Error(), "skew: ") {
		t.Errorf("fractions summing to 1.1: err %v", err)
	}
}
