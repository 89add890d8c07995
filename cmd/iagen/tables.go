package main

import (
	"fmt"
	"os"

	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/tabular"
)

func init() {
	register(&command{name: "tables", usage: "tables --out DIR [--seeds N] [--steps N]",
		summary: "train a TVAE on German Credit per seed; audit its synthetic tables (gaps by sex and age, TSTR vs TRTR) into tables.json and tables.md",
		run:     runTables})
}

// defaultTableSeeds is the fewest seeds whose t interval means something (n = 3: t = 4.30).
const defaultTableSeeds = 3

func runTables(args []string) error {
	var c common
	fs := newFlagSet("tables")
	addRunFlags(fs, &c)
	fs.StringVar(&c.out, "out", "", "folder for tables.json and tables.md (required)")
	fs.Int64Var(&c.seed, "seed", backend.Seed(), "first seed; seed i of the run is seed+i (default $"+backend.SeedEnvVar+", else fixed)")
	seeds := fs.Int("seeds", defaultTableSeeds, "seeds: one split, TVAE and synthetic table each (≥ 2)")
	steps := fs.Int("steps", tabular.DefaultConfig().Steps, "training steps of each TVAE")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("unexpected argument %q (tables takes only flags)", pos[0])
	case c.out == "":
		return fmt.Errorf("--out is required: the folder for tables.json and tables.md")
	case *steps < 1:
		return fmt.Errorf("--steps must be ≥ 1, got %d", *steps)
	}
	seedList, err := seedRange(c.seed, *seeds)
	if err != nil {
		return err
	}
	b, err := backend.New(c.backend)
	if err != nil {
		return err
	}
	defer b.Finalize()
	t, err := data.LoadGermanCredit(data.Dir(c.dataDir))
	if err != nil {
		return err
	}

	cfg := tabular.AuditConfig{Model: tabular.DefaultConfig(), Seeds: seedList}
	cfg.Model.Steps = *steps
	cfg.SeedDone = func(done, total int, s tabular.SeedResult) {
		fmt.Fprintf(os.Stderr, "tables: seed %d (%d of %d) trained in %.1f s\n", s.Seed, done, total, s.TrainSeconds)
	}
	ctx, stop := interruptible()
	defer stop()
	rep, err := tabular.AuditGermanCredit(ctx, b, t, cfg)
	if err != nil {
		return err
	}
	rep.Command = os.Args
	jsonPath, mdPath, err := writeReport(c.out, "tables", rep, rep.Markdown())
	if err != nil {
		return err
	}
	for _, g := range rep.Gaps {
		fmt.Printf("%-4s SPD real %+.3f  synthetic %+.3f  shift %+.3f [%+.3f, %+.3f]  %s\n", g.Attribute,
			g.SPD[tabular.RealTrain].Estimate, g.SPD[tabular.Synthetic].Estimate, g.Shift.Estimate, g.Shift.Lo, g.Shift.Hi, g.Verdict)
	}
	u := rep.Utility
	fmt.Printf("AUC  TRTR %.3f  TSTR %.3f  (accuracy %.3f, %.3f)\n", u.TRTRAUC.Estimate, u.TSTRAUC.Estimate, u.TRTRAccuracy.Estimate, u.TSTRAccuracy.Estimate)
	fmt.Println(jsonPath)
	fmt.Println(mdPath)
	return nil
}
