package main

import (
	"encoding/json"
	"fmt"

	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/train"
)

func init() {
	register(&command{name: "bench", usage: "bench [<family>...] [--json] [--steps N] [--warmup W] [--set key=value]",
		summary: "time one training step of the bench configuration (median, p99, compile time)", run: runBench})
}

func runBench(args []string) error {
	var c common
	fs := newFlagSet("bench")
	addCommon(fs, &c)
	asJSON := fs.Bool("json", false, "one JSON object per line per family")
	steps := fs.Int("steps", 20, "timed steps")
	warmup := fs.Int("warmup", 3, "untimed steps first (the first compiles the graph)")
	ov := addOverrides(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if c.overrides, err = ov.JSON(); err != nil {
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
		m, _, b, err := buildModel(name, c)
		if err != nil {
			return err
		}
		r, err := train.Benchmark(m, *warmup, *steps)
		desc, _ := json.Marshal(struct {
			Family  string `json:"family"`
			Profile string `json:"profile"`
			Backend string `json:"backend"`
			train.BenchResult
		}{name, c.profile, backend.Config(b), r})
		b.Finalize()
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if *asJSON {
			fmt.Println(string(desc))
		} else {
			fmt.Printf("%-10s %-6s median %8.2f ms  p99 %8.2f ms  %7.2f steps/s  compile %.2f s  (%d steps, %s)\n",
				name, c.profile, r.MedianMS, r.P99MS, r.StepsPerSecond, r.CompileSeconds, r.Steps, backend.Config(b))
		}
	}
	return nil
}
