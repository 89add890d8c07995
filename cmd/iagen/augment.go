package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/ganapps/augment"
	"github.com/iagen-course/iagen/lib/viz"
)

func init() {
	register(&command{name: "augment", usage: "augment --out DIR [--profile P] [--seeds N] [--set k=v]",
		summary: "does a class-conditional GAN trained on a few labelled digits help a classifier trained on them? over seeds, with a confidence interval (augment.json, augment.md, augment.svg)",
		run:     runAugment})
}

func runAugment(args []string) error {
	var c common
	fs := newFlagSet("augment")
	addCommon(fs, &c)
	ov := addOverrides(fs)
	seeds := fs.Int("seeds", 3, "seeds seed … seed+N-1 (≥ 2): each draws its labelled subset, trains the GAN and both classifiers")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("augment takes no positional argument, got %q", pos)
	case c.out == "":
		return fmt.Errorf("--out is required: the folder for augment.json, augment.md and augment.svg")
	}
	seedList, err := seedRange(c.seed, *seeds)
	if err != nil {
		return err
	}
	cfg, err := family.Configure(family.Options{Profile: c.profile, Overrides: ov.JSON()}, augment.ProfileConfig)
	if err != nil {
		return err
	}
	if err := cfg.Check(); err != nil {
		return err
	}
	b, err := backend.New(c.backend)
	if err != nil {
		return err
	}
	defer b.Finalize()
	opts := augment.Options{Backend: b, DataDir: c.dataDir, Profile: c.profile, Seeds: seedList, SeedDone: func(s augment.Seed) {
		fmt.Fprintf(os.Stderr, "augment: seed %d: %.4f without, %.4f with generated images\n", s.Seed, s.Baseline, s.Augmented)
	}}
	ctx, stop := interruptible()
	defer stop()
	rep, err := augment.Run(ctx, cfg, opts)
	if err != nil {
		return err
	}
	rep.Command = os.Args
	md := rep.Markdown()
	if _, _, err := writeReport(c.out, "augment", rep, md); err != nil {
		return err
	}
	chart, err := rep.Chart()
	if err == nil {
		err = viz.SaveChart(chart, filepath.Join(c.out, "augment.svg"))
	}
	if err != nil {
		return err
	}
	fmt.Print(md)
	return nil
}
