package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/gomlx/compute"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/family"
)

func init() {
	register(&command{name: "train", usage: "train <family> --out DIR [--profile P] [--steps N] [--resume]",
		summary: "train a family; writes metrics.json, manifest.json, checkpoint/, samples", run: runTrain})
	register(&command{name: "eval", usage: "eval <family> --from DIR",
		summary: "re-evaluate a trained run and rewrite its metrics.json", run: runEval})
	register(&command{name: "publish", usage: "publish <family> --from DIR [--out DIR]",
		summary: "copy a finished run's metrics, manifest, log and samples (no checkpoints) and draw its curves into results/<family>/<profile>", run: runPublish})
	register(&command{name: "study", usage: "study <family> --from DIR [--n N]",
		summary: "measure what is too slow for every evaluation (diffusion: quality against sampler steps) into DIR/study.json and study.svg", run: runStudy})
	register(&command{name: "sample", usage: "sample <family> --from DIR --n N --out FILE",
		summary: "draw samples from a trained run (PNG grid or text)", run: runSample})
}

// parseFamily parses the flags of a command that takes one family (parseFlags) and returns the
// family's name, its single positional argument.
func parseFamily(fs *flag.FlagSet, args []string) (string, error) {
	pos, err := parseFlags(fs, args)
	if err != nil {
		return "", err
	}
	if len(pos) != 1 {
		return "", fmt.Errorf("give exactly one family (one of: %v)", family.Names())
	}
	return pos[0], nil
}

func runTrain(args []string) error {
	var c common
	fs := newFlagSet("train")
	addCommon(fs, &c)
	steps := fs.Int("steps", 0, "training steps (default: the profile's)")
	resume := fs.Bool("resume", false, "continue the run in --out from its newest checkpoint (its own profile and configuration)")
	evalEvery := fs.Int("eval-every", 0, "steps between evaluations (default: only at the end)")
	ckptEvery := fs.Int("checkpoint-every", 0, "steps between checkpoints (default: about 10 per run)")
	nSamples := fs.Int("samples", 64, "samples written next to the metrics at the end (0: none)")
	ov := addOverrides(fs)
	name, err := parseFamily(fs, args)
	if err != nil {
		return err
	}
	if c.out == "" {
		return errors.New("--out DIR is required (the run folder)")
	}
	if *resume && !isSet(fs, "profile") {
		c.profile = "" // the run's own
	}
	opts, b, err := modelOptions(name, c, ov)
	if err != nil {
		return err
	}
	defer b.Finalize()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := family.Train(ctx, name, family.RunConfig{Options: opts, Dir: c.out, Resume: *resume, Steps: *steps,
		EvalEvery: *evalEvery, CheckpointEvery: *ckptEvery, Samples: *nSamples})
	if err != nil {
		return err
	}
	res := r.Result
	fmt.Printf("%s: %d steps in %.1fs (%.2f steps/s); run folder %s\n", name, res.Steps, res.WallSeconds, res.StepsPerSecond, c.out)
	for _, x := range res.Eval {
		fmt.Printf("  %s = %.6g\n", x.Name, x.Value)
	}
	return nil
}

// modelOptions picks the backend and gathers the options that build family name's model.
func modelOptions(name string, c common, ov *family.Overrides) (family.Options, compute.Backend, error) {
	if c.profile != "" {
		if err := family.CheckProfile(c.profile); err != nil {
			return family.Options{}, nil, err
		}
	}
	if _, err := family.Get(name); err != nil {
		return family.Options{}, nil, err
	}
	b, err := backend.New(c.backend)
	if err != nil {
		return family.Options{}, nil, err
	}
	return family.Options{Backend: b, Profile: c.profile, Seed: c.seed, DataDir: c.dataDir, Overrides: ov.JSON()}, b, nil
}

// buildModel picks the backend and builds the family's model for the flags in c.
func buildModel(name string, c common, ov *family.Overrides) (family.Model, family.Info, compute.Backend, error) {
	opts, b, err := modelOptions(name, c, ov)
	if err != nil {
		return nil, family.Info{}, nil, err
	}
	m, err := family.Build(name, opts)
	if err != nil {
		b.Finalize()
		return nil, family.Info{}, nil, err
	}
	return m, m.Info(), b, nil
}

// loader restores a run folder: family.Load (a finished run) or family.Peek (also one still
// training, from its newest checkpoint).
type loader func(name, dir string, opts family.Options) (*family.Run, error)

// loadRun restores the run of family name in dir with load on the backend of c, and says on
// stderr when it is not finished.
func loadRun(command string, load loader, name, dir string, c common) (*family.Run, compute.Backend, error) {
	if dir == "" {
		return nil, nil, errors.New("--from DIR is required (a run folder written by iagen train)")
	}
	if _, err := family.Get(name); err != nil {
		return nil, nil, err
	}
	b, err := backend.New(c.backend)
	if err != nil {
		return nil, nil, err
	}
	r, err := load(name, dir, family.Options{Backend: b, DataDir: c.dataDir})
	if err != nil {
		b.Finalize()
		return nil, nil, err
	}
	if r.Manifest.Finished.IsZero() {
		fmt.Fprintf(os.Stderr, "%s: %s is not finished: its newest checkpoint, step %d of %d\n", command, dir, r.Step, r.Manifest.Steps)
	}
	return r, b, nil
}

// isSet reports whether flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// onRun runs a command on a run: it parses --from, the run flags and those that addFlags adds,
// checks them with ready (nil: nothing to check) before loading anything, loads the run with load
// and calls do with it.
func onRun(command string, load loader, args []string, addFlags func(fs *flag.FlagSet), ready func() error,
	do func(r *family.Run) error) error {
	var c common
	fs := newFlagSet(command)
	addRunFlags(fs, &c)
	from := fs.String("from", "", "run folder written by iagen train")
	if addFlags != nil {
		addFlags(fs)
	}
	name, err := parseFamily(fs, args)
	if err != nil {
		return err
	}
	if ready != nil {
		if err := ready(); err != nil {
			return err
		}
	}
	r, b, err := loadRun(command, load, name, *from, c)
	if err != nil {
		return err
	}
	defer b.Finalize()
	return do(r)
}

func runEval(args []string) error {
	return onRun("eval", family.Load, args, nil, nil, func(r *family.Run) error {
		ms, err := r.Evaluate()
		for _, x := range ms {
			fmt.Printf("%s = %.6g\n", x.Name, x.Value)
		}
		return err
	})
}

func runStudy(args []string) error {
	var n *int
	return onRun("study", family.Load, args, func(fs *flag.FlagSet) {
		n = fs.Int("n", 0, "samples per measurement (default: the configuration's)")
	}, func() error {
		if *n < 0 { // before the run is loaded
			return fmt.Errorf("--n must be ≥ 0 (0: the configuration's), got %d", *n)
		}
		return nil
	}, func(r *family.Run) error {
		if err := r.Study(*n); err != nil {
			return err
		}
		fmt.Println(filepath.Join(r.Dir, "study.json"))
		return nil
	})
}

func runSample(args []string) error {
	var n *int
	var out string
	ov := &family.Overrides{}
	return onRun("sample", family.Peek, args, func(fs *flag.FlagSet) {
		fs.StringVar(&out, "out", "", "output file: a PNG grid for image families, text for text families")
		n = fs.Int("n", 64, "number of samples (images, or characters of text)")
		fs.Var(ov, "set", "sampling option `key=value` (e.g. temperature=0.8, top_k=10; repeatable)")
	}, func() error {
		if out == "" {
			return errors.New("--out FILE is required")
		}
		return nil
	}, func(r *family.Run) error {
		path, err := r.Sample(*n, out, ov.JSON())
		if err != nil {
			return err
		}
		fmt.Println(path)
		return nil
	})
}

// addOverrides adds --set and --config to fs, collected in the overrides it returns.
func addOverrides(fs *flag.FlagSet) *family.Overrides {
	ov := &family.Overrides{}
	fs.Var(ov, "set", "override one field of the profile's configuration, `key=value` (its JSON name; repeatable)")
	fs.Func("config", "JSON `file` of configuration fields over the profile's (before any --set)", ov.ReadFile)
	return ov
}

func runPublish(args []string) error {
	fs := newFlagSet("publish")
	from := fs.String("from", "", "run folder written by iagen train")
	out := fs.String("out", "", "where to publish (default: results/<family>/<profile> of this checkout)")
	name, err := parseFamily(fs, args)
	if err != nil {
		return err
	}
	if *from == "" {
		return errors.New("--from DIR is required (a run folder written by iagen train)")
	}
	if *out == "" {
		man, err := family.ReadManifest(*from)
		if err != nil {
			return err
		}
		*out = family.ResultsDir("", name, man.Profile)
	}
	if err := family.Publish(name, *from, *out); err != nil {
		return err
	}
	fmt.Println(*out)
	return nil
}
