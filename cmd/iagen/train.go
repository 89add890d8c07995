package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gomlx/compute"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/train"
)

func init() {
	register(&command{name: "train", usage: "train <family> --out DIR [--profile P] [--steps N] [--resume]",
		summary: "train a family; writes metrics.json, manifest.json, checkpoint/, samples", run: runTrain})
	register(&command{name: "eval", usage: "eval <family> --from DIR",
		summary: "re-evaluate a trained run and rewrite its metrics.json", run: runEval})
	register(&command{name: "sample", usage: "sample <family> --from DIR --n N --out FILE",
		summary: "draw samples from a trained run (PNG grid or text)", run: runSample})
}

// familyArg returns the single positional argument, the family name.
func familyArg(pos []string) (string, error) {
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
	resume := fs.Bool("resume", false, "continue the run in --out from its newest checkpoint")
	evalEvery := fs.Int("eval-every", 0, "steps between evaluations (default: only at the end)")
	ckptEvery := fs.Int("checkpoint-every", 0, "steps between checkpoints (default: about 10 per run)")
	nSamples := fs.Int("samples", 64, "samples written next to the metrics at the end (0: none)")
	ov := addOverrides(fs)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	name, err := familyArg(pos)
	if err != nil {
		return err
	}
	if c.out == "" {
		return errors.New("--out DIR is required (the run folder)")
	}
	if *resume {
		// The run's own profile and configuration (saved in its checkpoints), under any --set.
		profile, saved, ok, err := train.SavedRunConfig(c.out)
		if err != nil {
			return err
		}
		if ok && !isSet(fs, "profile") && profile != "" {
			c.profile = profile
		}
		if err := ov.underlay(saved, "saved configuration"); err != nil {
			return err
		}
	}
	if c.overrides, err = ov.JSON(); err != nil {
		return err
	}
	m, info, b, err := buildModel(name, c)
	if err != nil {
		return err
	}
	defer b.Finalize()
	if *steps <= 0 {
		*steps = info.Steps
	}
	if *ckptEvery <= 0 {
		*ckptEvery = max(1, *steps/10)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := train.Run(ctx, m, train.Config{Steps: *steps, Seed: c.seed, Dir: c.out, Resume: *resume,
		CheckpointEvery: *ckptEvery, EvalEvery: *evalEvery, Family: name, Profile: c.profile,
		Backend: backend.Describe(b), ModelConfig: info.Config, Datasets: info.Datasets})
	if err != nil {
		return err
	}
	if s, ok := m.(family.Sampler); ok && *nSamples > 0 {
		path := filepath.Join(c.out, "samples"+info.SampleExt)
		if err := s.Sample(*nSamples, path); err != nil {
			return fmt.Errorf("samples: %w", err)
		}
	}
	fmt.Printf("%s: %d steps in %.1fs (%.2f steps/s); run folder %s\n", name, res.Steps, res.WallSeconds, res.StepsPerSecond, c.out)
	for _, x := range res.Eval {
		fmt.Printf("  %s = %.6g\n", x.Name, x.Value)
	}
	return nil
}

// buildModel picks the backend and builds the family's model for the flags in c.
func buildModel(name string, c common) (family.Model, family.Info, compute.Backend, error) {
	if err := family.CheckProfile(c.profile); err != nil {
		return nil, family.Info{}, nil, err
	}
	if _, err := family.Get(name); err != nil {
		return nil, family.Info{}, nil, err
	}
	b, err := backend.New(c.backend)
	if err != nil {
		return nil, family.Info{}, nil, err
	}
	m, err := family.Build(name, family.Options{Backend: b, Profile: c.profile, Seed: c.seed, DataDir: c.dataDir, Overrides: c.overrides})
	if err != nil {
		b.Finalize()
		return nil, family.Info{}, nil, err
	}
	return m, m.Info(), b, nil
}

// loadRun rebuilds the model of the run in dir (profile and seed from its manifest unless
// given) and restores its newest checkpoint.
func loadRun(name, dir string, c common, profileSet, seedSet bool) (family.Model, *train.Manifest, compute.Backend, int, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return nil, nil, nil, 0, fmt.Errorf("%s is not a finished run folder (no manifest.json): %w", dir, err)
	}
	var man train.Manifest
	if err := json.Unmarshal(raw, &man); err != nil {
		return nil, nil, nil, 0, fmt.Errorf("%s/manifest.json: %w", dir, err)
	}
	if man.Family != "" && man.Family != name {
		return nil, nil, nil, 0, fmt.Errorf("%s holds a %s run, not %s", dir, man.Family, name)
	}
	if !profileSet {
		c.profile = man.Profile
	}
	if !seedSet {
		c.seed = man.Seed
	}
	// The manifest's configuration is the one the run trained with, whatever --set gave.
	if man.Config != nil {
		if c.overrides, err = json.Marshal(man.Config); err != nil {
			return nil, nil, nil, 0, fmt.Errorf("%s/manifest.json: config: %w", dir, err)
		}
	}
	m, _, b, err := buildModel(name, c)
	if err != nil {
		return nil, nil, nil, 0, err
	}
	ck, _, _, ok, err := train.LoadLatestCheckpoint(filepath.Join(dir, "checkpoint"), m.Store())
	if err == nil && !ok {
		err = fmt.Errorf("no checkpoint in %s/checkpoint", dir)
	}
	if err != nil {
		b.Finalize()
		return nil, nil, nil, 0, err
	}
	return m, &man, b, ck.Step, nil
}

// isSet reports whether flag name was given on the command line.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func runEval(args []string) error {
	var c common
	fs := newFlagSet("eval")
	addCommon(fs, &c)
	from := fs.String("from", "", "run folder written by iagen train")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	name, err := familyArg(pos)
	if err != nil {
		return err
	}
	m, man, b, step, err := loadRun(name, *from, c, isSet(fs, "profile"), isSet(fs, "seed"))
	if err != nil {
		return err
	}
	defer b.Finalize()
	ev, ok := m.(train.Evaluator)
	if !ok {
		return fmt.Errorf("family %s has no evaluation", name)
	}
	ms, err := ev.Evaluate(step)
	if err != nil {
		return err
	}
	path := filepath.Join(*from, "metrics.json")
	out := map[string]any{}
	if raw, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(raw, &out)
	}
	out["family"], out["profile"], out["seed"], out["steps"] = name, man.Profile, man.Seed, step
	for _, x := range ms {
		out[x.Name] = x.Value
		fmt.Printf("%s = %.6g\n", x.Name, x.Value)
	}
	return train.WriteJSON(path, out)
}

func runSample(args []string) error {
	var c common
	fs := newFlagSet("sample")
	addCommon(fs, &c)
	from := fs.String("from", "", "run folder written by iagen train")
	n := fs.Int("n", 64, "number of samples")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	name, err := familyArg(pos)
	if err != nil {
		return err
	}
	if c.out == "" {
		return errors.New("--out FILE is required")
	}
	m, _, b, _, err := loadRun(name, *from, c, isSet(fs, "profile"), isSet(fs, "seed"))
	if err != nil {
		return err
	}
	defer b.Finalize()
	s, ok := m.(family.Sampler)
	if !ok {
		return fmt.Errorf("family %s does not generate samples", name)
	}
	if err := s.Sample(*n, c.out); err != nil {
		return err
	}
	fmt.Println(c.out)
	return nil
}

// addOverrides adds --set and --config to fs, collected in the overrides it returns.
func addOverrides(fs *flag.FlagSet) *overrides {
	ov := &overrides{}
	fs.Var(ov, "set", "override one field of the profile's configuration, `key=value` (its JSON name; repeatable)")
	fs.Func("config", "JSON `file` of configuration fields over the profile's (before any --set)", ov.readFile)
	return ov
}

// overrides collects --config and --set into one JSON object of configuration fields.
type overrides struct{ fields map[string]json.RawMessage }

func (o *overrides) String() string { return "" }

// Set takes key=value; a value that is not valid JSON is taken as a string (--set arch=conv).
func (o *overrides) Set(kv string) error {
	key, value, ok := strings.Cut(kv, "=")
	if !ok || key == "" {
		return fmt.Errorf("want key=value, got %q", kv)
	}
	raw := json.RawMessage(value)
	if !json.Valid(raw) {
		raw, _ = json.Marshal(value)
	}
	o.put(key, raw)
	return nil
}

func (o *overrides) readFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return o.underlay(b, path) // --set wins over --config whatever their order
}

// underlay adds the fields of the JSON object obj (from source, for errors) that are not set yet.
func (o *overrides) underlay(obj json.RawMessage, source string) error {
	if len(obj) == 0 {
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(obj, &fields); err != nil {
		return fmt.Errorf("%s: want a JSON object of configuration fields: %w", source, err)
	}
	for k, v := range fields {
		if _, set := o.fields[k]; !set {
			o.put(k, v)
		}
	}
	return nil
}

func (o *overrides) put(key string, v json.RawMessage) {
	if o.fields == nil {
		o.fields = map[string]json.RawMessage{}
	}
	o.fields[key] = v
}

// JSON returns the overrides as one object, or nil when there are none.
func (o *overrides) JSON() (json.RawMessage, error) {
	if len(o.fields) == 0 {
		return nil, nil
	}
	return json.Marshal(o.fields)
}
