package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/compare"
	"github.com/iagen-course/iagen/lib/family"
)

func init() {
	register(&command{name: "compare", usage: "compare --out DIR [--profile P] [--from DIR [--runs DIR] | --evidence table.json]",
		summary: "the six families on one table with the course's claims judged: table.md, table.html, table.json and charts", run: runCompare})
}

func runCompare(args []string) error {
	var c common
	fs := newFlagSet("compare")
	addCommon(fs, &c)
	from := fs.String("from", "", "read finished runs instead of training: a results tree (DIR/<family>/<profile>) or a folder of run folders (DIR/<family>)")
	evidence := fs.String("evidence", "", "reuse the toy-GAN, recall and appetite measurements of this table.json instead of measuring them again (the appetite runs are measured if it has none)")
	runs := fs.String("runs", "", "folder of the runs the command trains: the families without --from, the appetite runs (GPT and LSTM on parts of the corpus; finished ones are reused, interrupted ones resumed) (default --out/runs)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	switch {
	case len(pos) > 0:
		return fmt.Errorf("compare takes no positional argument, got %q", pos)
	case c.out == "":
		return errors.New("--out DIR is required (the folder for table.md, table.html, table.json and the charts)")
	}
	if err := family.CheckProfile(c.profile); err != nil {
		return err
	}
	b, err := backend.New(c.backend)
	if err != nil {
		return err
	}
	defer b.Finalize()
	ctx, stop := interruptible()
	defer stop()

	if *runs == "" {
		*runs = filepath.Join(c.out, "runs")
	}
	opts := family.Options{Backend: b, Profile: c.profile, Seed: c.seed, DataDir: c.dataDir}
	var t compare.Table
	var failed []string
	if *from == "" {
		t, failed, err = compare.Live(ctx, opts, *runs, nil)
	} else {
		t, err = compare.FromDir(*from, c.profile)
	}
	if err != nil {
		return err
	}
	switch {
	case *evidence != "":
		old, err := compare.ReadJSON(*evidence)
		if err != nil {
			return err
		}
		if len(old.Evidence.Command) == 0 { // measured by the command that made that table
			old.Evidence.Command = old.Command
		}
		if len(old.Evidence.Appetite) == 0 { // a table made before the appetite runs: measure them alone
			if old.Evidence.Appetite, err = compare.Appetite(ctx, opts, *runs); err != nil {
				return fmt.Errorf("evidence: %w", err)
			}
		}
		t.UseMeasurements(old.Evidence)
	case *from != "":
		ev, err := compare.Measure(ctx, opts, *runs)
		if err != nil {
			return fmt.Errorf("evidence: %w", err)
		}
		t.UseMeasurements(ev)
	}
	t.Command = os.Args
	if len(t.Evidence.Command) == 0 { // measured just now
		t.Evidence.Command = os.Args
	}
	if err := os.MkdirAll(c.out, 0o755); err != nil {
		return err
	}
	if err := t.Write(c.out); err != nil {
		return err
	}
	fmt.Print(t.Markdown())
	for _, r := range t.Rows {
		if r.Missing != "" {
			fmt.Fprintf(os.Stderr, "compare: %s is missing: %s\n", r.Family, r.Missing)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s failed to train; the table in %s says why", strings.Join(failed, ", "), c.out)
	}
	return nil
}
