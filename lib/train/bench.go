package train

import (
	"fmt"
	"os"
	"sync"
	"time"

	benchmarks "github.com/janpfeifer/go-benchmarks"
)

// BenchResult is the timing of a task's training step (BENCH.md: warm-up, that is graph
// compilation, is excluded from step times and reported on its own).
type BenchResult struct {
	Steps          int     `json:"steps"` // timed steps (go-benchmarks' count)
	MedianMS       float64 `json:"median_ms"`
	P99MS          float64 `json:"p99_ms"`
	MeanMS         float64 `json:"mean_ms"`
	StepsPerSecond float64 `json:"steps_per_second"`
	CompileSeconds float64 `json:"compile_seconds"` // the first warm-up step

	// PeakRSSMiB is the peak resident memory of the whole process so far (getrusage's
	// ru_maxrss), read after the timed steps; 0 where the system does not report it. It is a
	// high-water mark: a second task benchmarked in the same process reports at least the first's.
	PeakRSSMiB float64 `json:"peak_rss_mib"`

	// Sampling speed, filled by callers that can sample (iagen bench for a family.Sampler);
	// absent from the JSON when not measured.
	SamplesPerSecond float64 `json:"samples_per_second,omitempty"`
	SampleUnit       string  `json:"sample_unit,omitempty"` // "images" or "chars"
}

// minBenchDuration is the shortest timed loop: go-benchmarks divides by the number of calls it
// made, so its loop must last long enough for at least one.
const minBenchDuration = 20 * time.Millisecond

// Benchmark times task's training step with github.com/janpfeifer/go-benchmarks (the library
// GoMLX's PJRT bindings, go-xla, benchmark with): its median and 99th percentile (a streaming
// quantile estimator, by rank without interpolation: p99 is the ⌊0.99·n⌋-th fastest step) and
// its mean.
//
// The first step compiles the graph: it is run untimed and reported as CompileSeconds. Then
// warmup-1 more untimed steps (at least one, which calibrates the timed loop). go-benchmarks
// times a function for a given duration, not a given number of calls, takes no durations
// measured elsewhere and returns nothing (it prints a table), so the loop runs for steps times
// the last warm-up step's duration — about steps steps; Steps reports how many it timed — and
// the statistics are caught on their way to the printer.
//
// A step's error ends the benchmark and is returned as it is; a panic becomes an error.
func Benchmark(task Task, warmup, steps int) (r BenchResult, err error) {
	if steps <= 0 {
		return r, fmt.Errorf("benchmark: steps must be > 0, got %d", steps)
	}
	defer func() {
		if p := recover(); p != nil {
			if se, ok := p.(stepError); ok {
				r, err = BenchResult{}, se.err
				return
			}
			r, err = BenchResult{}, fmt.Errorf("benchmark: %v", firstLine(fmt.Sprint(p)))
		}
	}()

	warmup = max(warmup, 2)
	var last time.Duration
	for i := range warmup {
		t0 := time.Now()
		if _, err := task.Step(i); err != nil {
			return r, err
		}
		last = time.Since(t0)
		if i == 0 {
			r.CompileSeconds = last.Seconds()
		}
	}

	next, count := warmup, 0
	step := func() {
		if _, err := task.Step(next); err != nil {
			panic(stepError{err}) // go-benchmarks' loop cannot stop early: unwind it
		}
		next++
		count++
	}
	// go-benchmarks reports its statistics only by printing them, each duration through the
	// pretty-print function: in order the mean, the median, then the quantiles asked for.
	var stats []time.Duration
	record := func(d time.Duration) string {
		stats = append(stats, d)
		return benchmarks.PrettyPrint(d)
	}
	withoutStdout(func() {
		benchmarks.New(benchmarks.NamedFunction{Name: "step", Func: step}).
			WithWarmUps(0).
			WithQuantiles(99).
			WithDuration(max(time.Duration(steps)*last, minBenchDuration)).
			WithPrettyPrintFn(record).
			WithHeader(false).
			Done()
	})
	if len(stats) != 3 || count == 0 {
		return BenchResult{}, fmt.Errorf("benchmark: go-benchmarks gave %d statistics for %d steps, want mean, median and p99", len(stats), count)
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	r.Steps = count
	r.MeanMS, r.MedianMS, r.P99MS = ms(stats[0]), ms(stats[1]), ms(stats[2])
	r.StepsPerSecond = 1000 / r.MeanMS
	r.PeakRSSMiB = PeakRSSMiB()
	return r, nil
}

// stepError carries a step's error out of go-benchmarks' timing loop.
type stepError struct{ err error }

func (e stepError) String() string { return e.err.Error() }

var stdoutMu sync.Mutex

// withoutStdout runs f with os.Stdout sent to the null device: go-benchmarks prints its table
// there (fmt.Printf), which would break `iagen bench --json`'s one JSON object per line.
func withoutStdout(f func()) {
	stdoutMu.Lock()
	defer stdoutMu.Unlock()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		f()
		return
	}
	saved := os.Stdout
	os.Stdout = null
	defer func() {
		os.Stdout = saved
		null.Close()
	}()
	f()
}
