// Package traintest holds the checks every family's tests make of its training task: that a run
// stopped and resumed from its checkpoint ends exactly where an uninterrupted run ends, and that
// its losses are the same on the go backend and on XLA's CPU backend.
package traintest

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gomlx/compute"
	"github.com/gomlx/gomlx/core/tensors"
	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/backend/backendtest"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/train"
)

// ResumeMatchesUninterrupted trains a task from newTask for steps steps in one go, and another
// for cut steps and then, rebuilt from scratch, resumed to steps in the same run folder. Both
// must end with bit-identical store variables (weights, optimizer states, RNG state: at least
// minVars of them) and the same value of the evaluation metric named metric (if not "").
func ResumeMatchesUninterrupted(t testing.TB, newTask func() train.Task, steps, cut, minVars int, metric string) {
	t.Helper()
	run := func(dir string, steps int, resume bool) (train.Task, *train.Result) {
		task := newTask()
		res, err := train.Run(context.Background(), task, train.Config{Steps: steps, Seed: 5, Dir: dir, Resume: resume,
			Progress: train.SilentProgress()})
		if err != nil {
			t.Fatal(err)
		}
		return task, res
	}
	whole, wholeRes := run(filepath.Join(t.TempDir(), "whole"), steps, false)
	dir := filepath.Join(t.TempDir(), "split")
	run(dir, cut, false)
	resumed, resumedRes := run(dir, steps, true)
	if resumedRes.StartStep != cut {
		t.Fatalf("resumed from step %d, want %d", resumedRes.StartStep, cut)
	}
	if n := SameStores(t, whole.Store(), resumed.Store()); n < minVars {
		t.Errorf("only %d variables compared, want at least %d", n, minVars)
	}
	if metric != "" {
		a, okA := wholeRes.Eval.Get(metric)
		b, okB := resumedRes.Eval.Get(metric)
		if !okA || !okB || a != b {
			t.Errorf("%s: %v (uninterrupted) vs %v (resumed)", metric, a, b)
		}
	}
}

// SameStores fails t unless every variable of want is in got with a bit-identical value, and
// returns the number of variables compared.
func SameStores(t testing.TB, want, got *model.Store) int {
	t.Helper()
	n := 0
	for v := range want.IterVariables() {
		w := got.GetVariable(v.Path())
		if w == nil {
			t.Fatalf("%s missing after resume", v.Path())
		}
		if !v.MustValue().Equal(w.MustValue()) {
			t.Errorf("%s differs between the uninterrupted and the resumed run", v.Path())
		}
		n++
	}
	return n
}

// AgreesAcrossBackends checks that a family computes the same values on the go backend and on
// XLA's CPU backend: the task is built on each, both get the weights and random-number state
// of one training step taken on the go backend (through a checkpoint), then measure runs on
// both and its values must agree: |xla − go| ≤ tol·max(1, |go|). Without the XLA CPU plugin
// the test is skipped, visibly — unless setup installed it here (backendtest.XLACPU).
//
// The backends draw different random bits from the same RNG state, so measure must not
// depend on in-graph noise: StepMetrics (a training step's losses) suits a family without
// noise; a family with noise measures a deterministic path (its generator on given latents,
// its encoder on given images).
func AgreesAcrossBackends(t *testing.T, build func(compute.Backend) train.Task, measure func(train.Task) ([]float64, error), tol float64) {
	t.Helper()
	xla := backendtest.XLACPU(t)
	goB, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	onGo, onXLA := build(goB), build(xla)
	for _, task := range []train.Task{onGo, onXLA} { // creates and initialises the variables
		if _, err := task.Step(0); err != nil {
			t.Fatal(err)
		}
	}
	path, err := train.SaveCheckpoint(t.TempDir(), onGo.Store(), 1, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := train.LoadCheckpoint(path, onXLA.Store()); err != nil {
		t.Fatal(err)
	}
	want, err := measure(onGo)
	if err != nil {
		t.Fatal(err)
	}
	got, err := measure(onXLA)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("%d values on xla:cpu, %d on go", len(got), len(want))
	}
	for i, w := range want {
		if !(math.Abs(got[i]-w) <= tol*math.Max(1, math.Abs(w))) {
			t.Errorf("value %d of %d: %.7g on xla:cpu, %.7g on go", i, len(want), got[i], w)
			return
		}
	}
}

// StepMetrics measures a task by the metrics (losses) of its next training step.
func StepMetrics(task train.Task) ([]float64, error) {
	ms, err := task.Step(1)
	out := make([]float64, len(ms))
	for i, m := range ms {
		out[i] = m.Value
	}
	return out, err
}

// Floats flattens float32 tensors into one slice, for a measure of AgreesAcrossBackends.
func Floats(ts []*tensors.Tensor) []float64 {
	var out []float64
	for _, t := range ts {
		for _, v := range tensors.MustCopyFlatData[float32](t) {
			out = append(out, float64(v))
		}
	}
	return out
}

// ProfilesAreValid checks that every profile of family.Profiles has a configuration that check
// accepts, and that an unknown profile is an error.
func ProfilesAreValid[C any](t *testing.T, profile func(string) (C, error), check func(C) error) {
	t.Helper()
	for _, p := range family.Profiles {
		c, err := profile(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if err := check(c); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := profile("huge"); err == nil {
		t.Error("unknown profile accepted")
	}
}

// RunFolderRoundTrip is the contract of run folders (README, «The command line») for family name: it trains
// the ci profile under overrides (a configuration, or a JSON object of some of its fields) for
// steps steps into a folder with family.Train, checks the files the run leaves, then restores
// the run with family.Load and evaluates it again, which must give the metrics the training
// run reported (fields that measure time aside).
func RunFolderRoundTrip(t *testing.T, name string, b compute.Backend, overrides any, steps, samples int) {
	t.Helper()
	raw, err := json.Marshal(overrides)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "run")
	r, err := family.Train(context.Background(), name, family.RunConfig{Options: family.Options{Backend: b, Profile: "ci",
		Seed: 11, Overrides: raw}, Dir: dir, Steps: steps, Samples: samples, Progress: train.SilentProgress()})
	if err != nil {
		t.Fatal(err)
	}
	var met map[string]any
	readJSON(t, filepath.Join(dir, "metrics.json"), &met)
	for _, k := range []string{"family", "profile", "backend", "seed", "steps", "wall_seconds", "train_steps_per_second", "params"} {
		if _, ok := met[k]; !ok {
			t.Errorf("metrics.json has no %q", k)
		}
	}
	if met["family"] != name || met["profile"] != "ci" || met["seed"] != 11.0 || met["steps"] != float64(steps) {
		t.Errorf("metrics.json says family %v, profile %v, seed %v, steps %v; want %s, ci, 11, %d", met["family"], met["profile"], met["seed"], met["steps"], name, steps)
	}
	if p, _ := met["params"].(float64); p <= 0 || int(p) != r.Model.Info().Params {
		t.Errorf("metrics.json params %v, the model has %d", met["params"], r.Model.Info().Params)
	}
	man, err := family.ReadManifest(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(man.Datasets) == 0 || man.Backend.Config == "" || man.Seed != 11 || len(man.Command) == 0 || man.Steps != steps {
		t.Errorf("manifest.json lacks what reproduces the run: datasets %v, backend %q, seed %d, command %v, steps %d",
			man.Datasets, man.Backend.Config, man.Seed, man.Command, man.Steps)
	}
	for file, sum := range man.Datasets {
		if len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
			t.Errorf("manifest.json: dataset %s has SHA-256 %q", file, sum)
		}
	}
	if samples > 0 {
		if fi, err := os.Stat(filepath.Join(dir, "samples"+r.Model.Info().SampleExt)); err != nil || fi.Size() == 0 {
			t.Errorf("no samples written: %v", err)
		}
	}

	loaded, err := family.Load(name, dir, family.Options{Backend: b})
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(r.Model.Info().Config)
	got, _ := json.Marshal(loaded.Model.Info().Config)
	if string(got) != string(want) || loaded.Step != steps || loaded.Manifest.Profile != "ci" {
		t.Fatalf("loaded run differs: step %d (want %d), profile %q, config %s, want %s", loaded.Step, steps, loaded.Manifest.Profile, got, want)
	}
	again, err := loaded.Evaluate()
	if err != nil {
		t.Fatal(err)
	}
	if len(again) == 0 {
		t.Fatal("the loaded run reports no evaluation metric")
	}
	for _, m := range again {
		if strings.HasSuffix(m.Name, "_seconds") {
			continue
		}
		if v, ok := met[m.Name].(float64); !ok || v != m.Value {
			t.Errorf("%s: %v after training, %v when the loaded run is evaluated again", m.Name, met[m.Name], m.Value)
		}
	}
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := train.ReadJSON(path, v); err != nil {
		t.Fatal(err)
	}
}

var goBackend = sync.OnceValues(func() (compute.Backend, error) { return backend.New("go") })

// GoBackend is the pure-Go backend the family tests train on, one per test binary: it
// compiles in a fraction of a second, and it is where GoMLX's own gradients are least to be
// trusted, so the one to check.
func GoBackend(t testing.TB) compute.Backend {
	t.Helper()
	b, err := goBackend()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// NewModel builds a family's model with build (its NewWithConfig) from cfg under the ci profile
// on b, and seeds its store with seed: a test that steps the model itself gets the same weights
// every run. It fails t at once if the model cannot be built.
func NewModel[M interface{ Store() *model.Store }, C any](t testing.TB, build func(family.Options, C) (M, error), b compute.Backend, cfg C, seed int64) M {
	t.Helper()
	m, err := build(family.Options{Backend: b, Profile: "ci", Seed: seed}, cfg)
	if err == nil {
		err = train.Seed(m.Store(), seed)
	}
	if err != nil {
		t.Fatal(err)
	}
	return m
}
