package train

import (
	"fmt"
	"math"
	"sort"
	"time"
)

// BenchResult is the timing of a task's training step (BENCH.md: warm-up, that is graph
// compilation, is excluded from step times and reported on its own).
type BenchResult struct {
	Steps          int     `json:"steps"`
	MedianMS       float64 `json:"median_ms"`
	P99MS          float64 `json:"p99_ms"`
	MeanMS         float64 `json:"mean_ms"`
	StepsPerSecond float64 `json:"steps_per_second"`
	CompileSeconds float64 `json:"compile_seconds"`
}

// Benchmark times task's training step: the first step (compilation) and warmup-1 more are
// run untimed, then steps steps are timed one by one.
func Benchmark(task Task, warmup, steps int) (r BenchResult, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("benchmark: %v", firstLine(fmt.Sprint(p)))
		}
	}()
	if steps <= 0 {
		return r, fmt.Errorf("benchmark: steps must be > 0")
	}
	warmup = max(warmup, 1)
	for i := range warmup {
		t0 := time.Now()
		if _, err := task.Step(i); err != nil {
			return r, err
		}
		if i == 0 {
			r.CompileSeconds = time.Since(t0).Seconds()
		}
	}
	d := make([]float64, steps)
	var total float64
	for i := range steps {
		t0 := time.Now()
		if _, err := task.Step(warmup + i); err != nil {
			return r, err
		}
		d[i] = float64(time.Since(t0).Microseconds()) / 1000
		total += d[i]
	}
	sort.Float64s(d)
	r.Steps = steps
	r.MedianMS = Quantile(d, 0.5)
	r.P99MS = Quantile(d, 0.99)
	r.MeanMS = total / float64(steps)
	r.StepsPerSecond = 1000 / r.MeanMS
	return r, nil
}

// Quantile returns the q-quantile of sorted values, interpolating linearly between ranks.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	pos := q * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	hi := min(lo+1, len(sorted)-1)
	return sorted[lo] + (pos-float64(lo))*(sorted[hi]-sorted[lo])
}
