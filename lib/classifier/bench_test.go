package classifier

import (
	"testing"

	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/data"
)

// BenchmarkYardstick10k times BENCH.md's sample-quality protocol end to end with the ≥99% CNN:
// features of 10,000 training and 10,000 test images (once), then features and every image
// metric for 10,000 "generated" images (here: the test images themselves).
//
//	go test -run '^$' -bench Yardstick10k -benchtime 1x ./lib/classifier
func BenchmarkYardstick10k(b *testing.B) {
	if _, err := data.LoadMNIST(data.Dir(""), data.Test); err != nil {
		b.Skipf("MNIST not available: %v", err)
	}
	be, err := backend.New("")
	if err != nil {
		b.Fatal(err)
	}
	defer be.Finalize()
	for b.Loop() {
		y, err := NewYardstick(be, "", "small", 10000)
		if err != nil {
			b.Fatal(err)
		}
		r, err := y.Evaluate(y.Classifier.TestSet())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(r.FLD, "fld")
	}
}
