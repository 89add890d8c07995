package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/iagen-course/iagen/lib/auditrun"
	"github.com/iagen-course/iagen/lib/imagegen"
)

func init() {
	register(&command{name: "amplify", usage: "amplify <family> --out DIR [--profile P] [--steps N] [--seeds N] [--n N] [--runs DIR] [--set k=v]",
		summary: "train an image family on a 90/10-skewed MNIST over seeds, and with balanced sampling; does it keep, dampen or amplify the skew? (amplification.json, amplification.md)",
		run:     runAmplify})
}

func runAmplify(args []string) error {
	var c common
	fs := newFlagSet("amplify")
	addCommon(fs, &c)
	ov := addOverrides(fs)
	steps := fs.Int("steps", 0, "training steps of each run (default: the profile's)")
	seeds := fs.Int("seeds", 3, "training seeds, seed … seed+N-1 (≥ 2), each trained skewed and balanced")
	n := fs.Int("n", auditrun.DefaultImages, "samples of each run put in a group by the reference classifier")
	runs := fs.String("runs", "", "folder of the runs (default --out/runs); finished ones with the same configuration are reused, interrupted ones resumed")
	name, err := parseFamily(fs, args)
	if err != nil {
		return err
	}
	switch {
	case c.out == "":
		return fmt.Errorf("--out is required: the folder for amplification.json and amplification.md")
	case *steps < 0:
		return fmt.Errorf("--steps must be ≥ 0, got %d", *steps)
	case *n < 2:
		return fmt.Errorf("--n must be ≥ 2, got %d", *n)
	}
	seedList, err := seedRange(c.seed, *seeds)
	if err != nil {
		return err
	}
	if *runs == "" {
		*runs = filepath.Join(c.out, "runs")
	}
	opts, b, err := modelOptions(name, c, ov)
	if err != nil {
		return err
	}
	defer b.Finalize()
	cfg := auditrun.AmplifyConfig{Family: name, Options: opts, Skew: imagegen.DefaultSkew(), Steps: *steps, N: *n, Runs: *runs, Seeds: seedList,
		RunDone: func(dir string, reused bool) {
			verb := "trained"
			if reused {
				verb = "reused"
			}
			fmt.Fprintf(os.Stderr, "amplify: %s %s\n", verb, dir)
		}}
	ctx, stop := interruptible()
	defer stop()
	rep, err := auditrun.Amplify(ctx, cfg)
	if err != nil {
		return err
	}
	rep.Command = os.Args
	md := rep.Markdown()
	if _, _, err := writeReport(c.out, "amplification", rep, md); err != nil {
		return err
	}
	fmt.Print(md)
	return nil
}
