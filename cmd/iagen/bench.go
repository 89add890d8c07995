package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/train"
)

func init() {
	register(&command{name: "bench", usage: "bench [<family>...] [--json] [--steps N] [--warmup W] [--no-sample] [--set key=value]",
		summary: "time one training step of the bench configuration (median, p99, compile time), sampling speed, peak memory", run: runBench})
}

// What a sampling benchmark draws (BENCH.md: samples/s, per character for text).
const (
	benchImages = 64
	benchChars  = 500
)

func runBench(args []string) error {
	var c common
	fs := newFlagSet("bench")
	addCommon(fs, &c)
	asJSON := fs.Bool("json", false, "one JSON object per line per family")
	steps := fs.Int("steps", 20, "timed steps (about: go-benchmarks times for steps × one warm step's duration)")
	warmup := fs.Int("warmup", 3, "untimed steps first, at least 2 (the first compiles the graph)")
	noSample := fs.Bool("no-sample", false, "do not time sampling")
	ov := addOverrides(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if !isSet(fs, "profile") {
		c.profile = "bench"
	}
	names := pos
	if len(names) == 0 {
		for _, n := range family.Names() {
			if f, _ := family.Get(n); f.Generative {
				names = append(names, n)
			}
		}
	}
	if len(names) == 0 {
		return fmt.Errorf("no family to benchmark (name one of: %v)", family.Names())
	}
	for _, name := range names {
		r, config, err := benchFamily(name, c, ov, *warmup, *steps, !*noSample)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if *asJSON {
			line, err := json.Marshal(struct {
				Family  string `json:"family"`
				Profile string `json:"profile"`
				Backend string `json:"backend"`
				train.BenchResult
			}{name, c.profile, config, r})
			if err != nil {
				return err
			}
			fmt.Println(string(line))
			continue
		}
		sampling := ""
		if r.SampleUnit != "" {
			sampling = fmt.Sprintf("  %.1f %s/s", r.SamplesPerSecond, r.SampleUnit)
		}
		fmt.Printf("%-10s %-6s median %8.2f ms  p99 %8.2f ms  %7.2f steps/s  compile %.2f s%s  peak RSS %.0f MiB  (%d steps, %s)\n",
			name, c.profile, r.MedianMS, r.P99MS, r.StepsPerSecond, r.CompileSeconds, sampling, r.PeakRSSMiB, r.Steps, config)
	}
	return nil
}

// benchFamily builds name's model, times its training step and, if sample and the model is a
// family.Sampler, its sampling; it returns the results and the backend's configuration.
func benchFamily(name string, c common, ov *family.Overrides, warmup, steps int, sample bool) (r train.BenchResult, config string, err error) {
	m, info, b, err := buildModel(name, c, ov)
	if err != nil {
		return r, "", err
	}
	defer b.Finalize()
	config = backend.Config(b)
	if r, err = train.Benchmark(m, warmup, steps); err != nil {
		return r, config, err
	}
	if s, ok := m.(family.Sampler); ok && sample {
		if r.SamplesPerSecond, r.SampleUnit, err = sampleSpeed(s, info); err != nil {
			return r, config, fmt.Errorf("sampling: %w", err)
		}
	}
	r.PeakRSSMiB = train.PeakRSSMiB() // sampling may have raised it
	return r, config, nil
}

// sampleSpeed times one call of s.Sample once warm (a first, untimed call compiles): 64 images,
// or for a text family (SampleExt ".txt") about 500 characters, and returns samples per second
// and their unit, "images" or "chars". A text family's Sample(n) writes n texts of its
// configuration's sample_chars characters each (after the prompt): n is as many texts as make
// 500 characters. A text family without sample_chars is taken to count characters in n.
func sampleSpeed(s family.Sampler, info family.Info) (perSecond float64, unit string, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%v", firstLine(fmt.Sprint(p)))
		}
	}()
	n, units, unit := benchImages, benchImages, "images"
	if info.SampleExt == ".txt" {
		n, units, unit = benchChars, benchChars, "chars"
		if per := sampleChars(info.Config); per > 0 {
			n = (benchChars + per - 1) / per
			units = n * per
		}
	}
	dir, err := os.MkdirTemp("", "iagen-bench-")
	if err != nil {
		return 0, "", err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "samples"+info.SampleExt)
	if err := s.Sample(n, path); err != nil {
		return 0, "", err
	}
	t0 := time.Now()
	if err := s.Sample(n, path); err != nil {
		return 0, "", err
	}
	return float64(units) / time.Since(t0).Seconds(), unit, nil
}

// sampleChars returns the sample_chars field of a family's configuration, 0 if it has none.
func sampleChars(config any) int {
	raw, err := json.Marshal(config)
	if err != nil {
		return 0
	}
	var c struct {
		SampleChars int `json:"sample_chars"`
	}
	if json.Unmarshal(raw, &c) != nil {
		return 0
	}
	return c.SampleChars
}
