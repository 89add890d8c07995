package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/iagen-course/iagen/lib/auditrun"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/train"
)

func init() {
	register(&command{name: "audit", usage: "audit <family> --from DIR [--out DIR] [--n N] [--gender-n N]",
		summary: "audit a trained run (classes, copying, authenticity; verbatim copying for text, and occupation–gender bias on es-ocupaciones; a masked model's minimal pairs) into audit.json and model-card.md", run: runAudit})
}

// auditFlags are iagen audit's own flags, besides --from, --backend and --data-dir.
type auditFlags struct {
	fs          *flag.FlagSet
	out         string
	n           int
	trainSubset int
	genderN     int
}

func runAudit(args []string) error {
	var f auditFlags
	return onRun("audit", family.Load, args, func(fs *flag.FlagSet) {
		f.fs = fs
		fs.StringVar(&f.out, "out", "", "folder for audit.json and model-card.md (default: the run folder)")
		fs.IntVar(&f.n, "n", 0, fmt.Sprintf("generated images (default %d) or texts (default %d)", auditrun.DefaultImages, auditrun.DefaultTexts))
		fs.IntVar(&f.trainSubset, "train-subset", auditrun.DefaultTrainSubset, "training images (the first ones) searched for the nearest neighbour of each sample")
		fs.IntVar(&f.genderN, "gender-n", auditrun.DefaultGenderPerTemplate, "text runs on "+data.OccupationCorpusName+": continuations of each neutral prompt for the gender audit")
	}, func() error {
		if f.n < 0 || f.n == 1 {
			return fmt.Errorf("--n must be ≥ 2 (or 0 for the default), got %d", f.n)
		}
		if f.trainSubset < 2 {
			return fmt.Errorf("--train-subset must be ≥ 2, got %d", f.trainSubset)
		}
		if f.genderN < 1 {
			return fmt.Errorf("--gender-n must be ≥ 1, got %d", f.genderN)
		}
		return nil
	}, func(r *family.Run) error {
		rep, err := auditrun.Run(r, auditrun.Options{N: f.n, TrainSubset: f.trainSubset, GenderPerTemplate: f.genderN,
			Backend: f.fs.Lookup("backend").Value.String(), DataDir: f.fs.Lookup("data-dir").Value.String()})
		if err != nil {
			return err
		}
		dir := f.out
		if dir == "" {
			dir = r.Dir
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := train.WriteJSON(filepath.Join(dir, "audit.json"), rep); err != nil {
			return err
		}
		card := filepath.Join(dir, "model-card.md")
		if err := train.WriteFileAtomic(card, []byte(rep.ModelCard())); err != nil {
			return err
		}
		fmt.Println(filepath.Join(dir, "audit.json"))
		fmt.Println(card)
		return nil
	})
}
