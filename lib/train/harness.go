// Package train is the one training harness of iagen: every family hands it a Task (its
// variables and one training step) and gets seeding, progress in the terminal or live in a
// notebook, periodic evaluation, atomic checkpoints with exact resume, a NaN/Inf guard, and a
// run folder holding metrics.json, manifest.json, log.jsonl and checkpoint/.
package train

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/gomlx/gomlx/ml/model"
	"github.com/iagen-course/iagen/lib/backend"
)

// Metric is one named scalar reported by a training step or an evaluation.
type Metric struct {
	Name  string
	Value float64
}

// Metrics is an ordered list of metrics; the first of a training step is its loss.
type Metrics []Metric

// Get returns the value of the named metric.
func (ms Metrics) Get(name string) (float64, bool) {
	for _, m := range ms {
		if m.Name == name {
			return m.Value, true
		}
	}
	return 0, false
}

// Task is what a family hands to the harness.
type Task interface {
	// Store holds every variable the run needs to continue: weights, optimizer state, EMA
	// copies, the random-number state. All of it is checkpointed.
	Store() *model.Store
	// Step runs training step number step (0-based), one update of every model the family
	// trains, and returns its metrics. It must depend only on the store and step (draw batches
	// with data.BatchIndices, randomness from the store's RNG), so that a resumed run repeats an
	// uninterrupted one.
	Step(step int) (Metrics, error)
}

// Evaluator is implemented by tasks that can be evaluated while training (every
// Config.EvalEvery steps and at the end), e.g. validation loss.
type Evaluator interface {
	Evaluate(step int) (Metrics, error)
}

// Config says how to run a Task.
type Config struct {
	Steps int   // total training steps of the run (a resumed run continues up to it)
	Seed  int64 // seeds the store's random numbers and initializers

	// Dir is the run folder. Empty keeps nothing on disk (quick runs in a notebook).
	Dir    string
	Resume bool // continue from the newest checkpoint in Dir/checkpoint

	CheckpointEvery int // steps between checkpoints; 0: only at the end (and on interrupt)
	Keep            int // checkpoints kept; 0 means 2
	EvalEvery       int // steps between evaluations; 0: only at the end
	LogEvery        int // steps between records in log.jsonl; 0: about 200 records per run

	Progress Progress // nil: AutoProgress()

	// Description of the run, written into manifest.json and metrics.json.
	Family, Profile string
	Backend         backend.Info
	ModelConfig     any               // the family's configuration, as JSON
	Datasets        map[string]string // data file → SHA-256
}

// Record is one line of log.jsonl: metrics at a step.
type Record struct {
	Step    int                `json:"step"`
	Seconds float64            `json:"seconds"`
	Values  map[string]float64 `json:"values"`
}

// Result is what a finished run reports.
type Result struct {
	Steps          int     // steps completed in total
	StartStep      int     // step the run (re)started from
	Train          Metrics // metrics of the last step
	Eval           Metrics // metrics of the last evaluation
	WallSeconds    float64 // training time summed over all sessions of the run
	CompileSeconds float64 // duration of the first step of this session (graph compilation)
	StepsPerSecond float64 // steady-state training speed of this session
	History        []Record
}

// ErrInterrupted is returned (wrapped) when the context is cancelled: a checkpoint was saved
// and the run can be resumed.
var ErrInterrupted = errors.New("training interrupted")

// NonFiniteError reports a NaN or infinite metric. The checkpoint of the last good step is
// kept (none is written after the bad step).
type NonFiniteError struct {
	Step           int
	Metric         string
	Value          float64
	LastCheckpoint string
}

func (e *NonFiniteError) Error() string {
	where := "no checkpoint was saved yet"
	if e.LastCheckpoint != "" {
		where = "the last good checkpoint is kept at " + e.LastCheckpoint
	}
	return fmt.Sprintf("step %d: %s is %v — training diverged (try a lower learning rate); %s",
		e.Step, e.Metric, e.Value, where)
}

// Run trains task for cfg.Steps steps. See Config. Panics inside the task are returned as
// errors.
func Run(ctx context.Context, task Task, cfg Config) (res *Result, err error) {
	if cfg.Steps < 0 {
		return nil, fmt.Errorf("steps must be >= 0, got %d", cfg.Steps)
	}
	if cfg.Keep <= 0 {
		cfg.Keep = 2
	}
	if cfg.LogEvery <= 0 {
		cfg.LogEvery = max(1, cfg.Steps/200)
	}
	progress := cfg.Progress
	if progress == nil {
		progress = AutoProgress()
	}
	store := task.Store()
	ckptDir := ""
	if cfg.Dir != "" {
		ckptDir = filepath.Join(cfg.Dir, "checkpoint")
		if err := os.MkdirAll(cfg.Dir, 0o755); err != nil {
			return nil, err
		}
	}

	res = &Result{}
	started := time.Now()
	var lastCkpt string
	if ckptDir != "" {
		existing, _ := ListCheckpoints(ckptDir)
		switch {
		case cfg.Resume && len(existing) > 0:
			c, extra, skipped, ok, err := LoadLatestCheckpoint(ckptDir, store)
			if err != nil {
				return nil, err
			}
			for _, s := range skipped {
				fmt.Fprintf(os.Stderr, "warning: %s; using an older checkpoint\n", s)
			}
			if ok {
				if err := sameConfig(extra["config"], cfg.ModelConfig); err != nil {
					return nil, fmt.Errorf("%s: %w", c.Path, err)
				}
				res.StartStep, lastCkpt = c.Step, c.Path
				_ = json.Unmarshal(extra["wall_seconds"], &res.WallSeconds)
				_ = json.Unmarshal(extra["steps_per_second"], &res.StepsPerSecond)
				_ = json.Unmarshal(extra["compile_seconds"], &res.CompileSeconds)
				res.History = logUpTo(cfg.Dir, c.Step)
			}
		case !cfg.Resume && len(existing) > 0:
			return nil, fmt.Errorf("%s already holds a run (checkpoints up to step %d): resume it (--resume) or choose another output folder",
				cfg.Dir, existing[len(existing)-1].Step)
		}
	}
	if res.StartStep == 0 {
		if err := Seed(store, cfg.Seed); err != nil {
			return nil, err
		}
	}

	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("step %d: %v", res.Steps, firstLine(fmt.Sprint(r)))
		}
	}()

	save := func(step int) error {
		if ckptDir == "" {
			return nil
		}
		p, err := SaveCheckpoint(ckptDir, store, step, cfg.Keep, map[string]any{"wall_seconds": res.WallSeconds, "seed": cfg.Seed,
			"steps_per_second": res.StepsPerSecond, "compile_seconds": res.CompileSeconds,
			"profile": cfg.Profile, "config": cfg.ModelConfig, "total_steps": cfg.Steps})
		if err != nil {
			return err
		}
		lastCkpt = p
		return writeLog(cfg.Dir, res.History)
	}
	evaluate := func(step int) error {
		ev, ok := task.(Evaluator)
		if !ok {
			return nil
		}
		m, err := ev.Evaluate(step)
		if err != nil {
			return fmt.Errorf("evaluation at step %d: %w", step, err)
		}
		res.Eval = m
		return nil
	}

	res.Steps = res.StartStep
	sessionStart := time.Now()
	var steadyStart time.Time
	lastTick := time.Now()
	for step := res.StartStep; step < cfg.Steps; step++ {
		if ctx.Err() != nil {
			if err := save(step); err != nil {
				return res, err
			}
			return res, fmt.Errorf("%w at step %d (checkpoint %s): resume with --resume", ErrInterrupted, step, lastCkpt)
		}
		m, err := task.Step(step)
		if err != nil {
			return res, fmt.Errorf("step %d: %w", step, err)
		}
		now := time.Now()
		res.WallSeconds += now.Sub(lastTick).Seconds()
		lastTick = now
		if step == res.StartStep {
			res.CompileSeconds = now.Sub(sessionStart).Seconds()
			steadyStart = now
		}
		for _, x := range m {
			if math.IsNaN(x.Value) || math.IsInf(x.Value, 0) {
				return res, &NonFiniteError{Step: step, Metric: x.Name, Value: x.Value, LastCheckpoint: lastCkpt}
			}
		}
		res.Train, res.Steps = m, step+1
		if n := step - res.StartStep; n > 0 { // the first step of a session is compilation
			res.StepsPerSecond = float64(n) / now.Sub(steadyStart).Seconds()
		}
		last := step+1 == cfg.Steps
		if cfg.EvalEvery > 0 && (step+1)%cfg.EvalEvery == 0 && !last {
			if err := evaluate(step + 1); err != nil {
				return res, err
			}
		}
		if (step+1)%cfg.LogEvery == 0 || last || step == res.StartStep {
			res.History = append(res.History, record(step+1, res.WallSeconds, m, res.Eval))
		}
		if cfg.CheckpointEvery > 0 && (step+1)%cfg.CheckpointEvery == 0 && !last {
			if err := save(step + 1); err != nil {
				return res, err
			}
		}
		progress.Update(status(cfg, res))
		lastTick = time.Now() // evaluation and checkpoint time is not training time
	}
	if err := evaluate(res.Steps); err != nil {
		return res, err
	}
	if len(res.History) > 0 && len(res.Eval) > 0 {
		res.History[len(res.History)-1] = record(res.Steps, res.WallSeconds, res.Train, res.Eval)
	}
	if err := save(res.Steps); err != nil {
		return res, err
	}
	progress.Finish(status(cfg, res))
	if cfg.Dir != "" {
		if err := writeRunFiles(cfg, res, started, TrainableParams(store)); err != nil {
			return res, err
		}
	}
	return res, nil
}

// sameConfig reports how the model configuration saved in a checkpoint differs from the one
// being resumed (a different model would load the saved weights only partly, or into the wrong
// places), ignoring "steps": a run may be resumed to go further. Checkpoints without a saved
// configuration are accepted.
func sameConfig(saved json.RawMessage, current any) error {
	if len(saved) == 0 || string(saved) == "null" || current == nil {
		return nil
	}
	var was, is map[string]any
	cur, err := json.Marshal(current)
	if err != nil || json.Unmarshal(saved, &was) != nil || json.Unmarshal(cur, &is) != nil {
		return nil // not JSON objects: nothing to compare
	}
	keys := map[string]bool{}
	for k := range was {
		keys[k] = true
	}
	for k := range is {
		keys[k] = true
	}
	var diffs []string
	for k := range keys {
		if k != "steps" && fmt.Sprint(was[k]) != fmt.Sprint(is[k]) {
			diffs = append(diffs, fmt.Sprintf("%s was %v, now %v", k, orNone(was[k]), orNone(is[k])))
		}
	}
	if len(diffs) == 0 {
		return nil
	}
	sort.Strings(diffs)
	return fmt.Errorf("trained with another configuration (%s): resume with the run's own profile and settings", strings.Join(diffs, "; "))
}

func orNone(v any) any {
	if v == nil {
		return "unset"
	}
	return v
}

// SavedRunConfig returns the profile, model configuration and total steps recorded in the
// newest readable checkpoint of the run in dir, so that a resumed run can rebuild the same model
// and go as far as it was asked to (steps is 0 in checkpoints that predate it); ok is false when
// there is none.
func SavedRunConfig(dir string) (profile string, config json.RawMessage, steps int, ok bool, err error) {
	_, extra, _, ok, err := LoadLatestCheckpoint(filepath.Join(dir, "checkpoint"), model.NewStore())
	if err != nil || !ok {
		return "", nil, 0, false, err
	}
	_ = json.Unmarshal(extra["profile"], &profile)
	_ = json.Unmarshal(extra["total_steps"], &steps)
	config = extra["config"]
	if len(config) == 0 || string(config) == "null" {
		return profile, nil, steps, profile != "", nil
	}
	return profile, config, steps, true, nil
}

func record(step int, wall float64, train, eval Metrics) Record {
	r := Record{Step: step, Seconds: math.Round(wall*1000) / 1000, Values: map[string]float64{}}
	for _, m := range train {
		r.Values[m.Name] = m.Value
	}
	for _, m := range eval {
		r.Values[m.Name] = m.Value
	}
	return r
}

func status(cfg Config, res *Result) Status {
	return Status{Step: res.Steps, Steps: cfg.Steps, Seconds: res.WallSeconds, StepsPerSecond: res.StepsPerSecond,
		Train: res.Train, Eval: res.Eval, History: res.History}
}

// ReadLog reads the training history dir/log.jsonl, one Record a line (on a damaged line, the
// records before it and the error).
func ReadLog(dir string) ([]Record, error) {
	raw, err := os.ReadFile(filepath.Join(dir, "log.jsonl"))
	if err != nil {
		return nil, fmt.Errorf("%s has no training history: %w", dir, err)
	}
	var out []Record
	for n, line := range strings.Split(string(raw), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var r Record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			return out, fmt.Errorf("%s/log.jsonl line %d: %w", dir, n+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// logUpTo is the history of the run in dir up to step (a resumed run rewrites the rest); a
// missing or damaged log gives what could be read.
func logUpTo(dir string, step int) []Record {
	all, _ := ReadLog(dir)
	var out []Record
	for _, r := range all {
		if r.Step <= step {
			out = append(out, r)
		}
	}
	return out
}

// Seed makes the variables store initialises and the random numbers its graphs draw reproducible
// from seed: what Run does before step 0, and what a test that steps a model itself needs.
func Seed(store *model.Store, seed int64) error {
	store.SetParam(model.ParamInitialSeed, seed)
	return store.SetRNGStateFromSeed(seed)
}

// NewSeededStore is a new store already Seed-ed: for a model whose weights may be created (by
// evaluating it untrained) before Run seeds them.
func NewSeededStore(seed int64) (*model.Store, error) {
	store := model.NewStore()
	return store, Seed(store, seed)
}

// Manifest records how a run was produced, next to its metrics.
type Manifest struct {
	Family         string            `json:"family"`
	Profile        string            `json:"profile"`
	Seed           int64             `json:"seed"`
	Steps          int               `json:"steps"`
	ResumedFrom    int               `json:"resumed_from,omitempty"`
	WallSeconds    float64           `json:"wall_seconds"`
	CompileSeconds float64           `json:"compile_seconds"`
	Started        time.Time         `json:"started"`
	Finished       time.Time         `json:"finished"`
	Command        []string          `json:"command"`
	Backend        backend.Info      `json:"backend"`
	Datasets       map[string]string `json:"datasets_sha256"`
	Config         any               `json:"config"`
}

// writeLog writes the metrics history to dir/log.jsonl, one JSON record a line.
func writeLog(dir string, history []Record) error {
	var log strings.Builder
	for _, r := range history {
		b, _ := json.Marshal(r)
		log.Write(b)
		log.WriteByte('\n')
	}
	return WriteFileAtomic(filepath.Join(dir, "log.jsonl"), []byte(log.String()))
}

func writeRunFiles(cfg Config, res *Result, started time.Time, params int) error {
	man := Manifest{Family: cfg.Family, Profile: cfg.Profile, Seed: cfg.Seed, Steps: res.Steps, ResumedFrom: res.StartStep,
		WallSeconds: res.WallSeconds, CompileSeconds: res.CompileSeconds, Started: started, Finished: time.Now(),
		Command: os.Args, Backend: cfg.Backend, Datasets: cfg.Datasets, Config: cfg.ModelConfig}
	if err := WriteJSON(filepath.Join(cfg.Dir, "manifest.json"), man); err != nil {
		return err
	}
	m := MetricsJSON(cfg, res, params)
	return WriteJSON(filepath.Join(cfg.Dir, "metrics.json"), m)
}

// MetricsJSON is the flat metrics.json object of a run (the README lists its fields): the fields every run
// has, then the last training metrics and the last evaluation.
func MetricsJSON(cfg Config, res *Result, params int) map[string]any {
	hw := fmt.Sprintf("%s, %d CPUs", runtime.GOARCH, runtime.NumCPU())
	if d := cfg.Backend.Devices; len(d) > 0 && !strings.HasPrefix(d[0], "cpu") && !strings.HasPrefix(d[0], "device#") {
		hw = d[0] // an accelerator, e.g. a GPU's description
	}
	m := map[string]any{
		"family": cfg.Family, "profile": cfg.Profile, "backend": cfg.Backend.Config, "hardware": hw,
		"seed": cfg.Seed, "steps": res.Steps, "wall_seconds": round(res.WallSeconds, 3),
		"train_steps_per_second": round(res.StepsPerSecond, 3), "compile_seconds": round(res.CompileSeconds, 3),
		"params": params,
	}
	for _, x := range res.Train {
		m["train_"+x.Name] = x.Value
	}
	for _, x := range res.Eval {
		m[x.Name] = x.Value
	}
	return m
}

// WriteJSON writes v as indented JSON to path atomically.
func WriteJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(path, append(b, '\n'))
}

// ReadJSON reads the JSON file at path into v (a run's metrics.json or manifest.json); the
// error names the file.
func ReadJSON(path string, v any) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// TrainableParams counts the scalars in the trainable variables of store.
func TrainableParams(store *model.Store) int {
	n := 0
	for v := range store.IterVariables() {
		if v.Trainable {
			n += v.Shape().Size()
		}
	}
	return n
}
