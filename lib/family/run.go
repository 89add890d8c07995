package family

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"

	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/viz"
)

// RunConfig says how to train a family into a run folder.
type RunConfig struct {
	// Options build the model. On Resume the run's own profile (when Profile is "") and its
	// saved configuration are used, under any Overrides.
	Options
	Dir             string // the run folder; "" keeps nothing on disk
	Resume          bool   // continue the run in Dir from its newest checkpoint
	Steps           int    // total steps; 0: the profile's
	EvalEvery       int    // steps between evaluations; 0: Evaluations, else only at the end
	Evaluations     int    // with EvalEvery 0: evaluations spread evenly over the run, the last at the end
	CheckpointEvery int    // steps between checkpoints; 0: about ten per run
	LogEvery        int    // steps between records of log.jsonl; 0: about 200 per run
	Samples         int    // samples written to Dir/samples.png or .txt at the end; 0: none
	Progress        train.Progress
}

// Run is a family's model trained into, or restored from, a run folder, with the profile, seed
// and configuration it was trained with.
type Run struct {
	Family   string
	Dir      string
	Model    Model
	Manifest train.Manifest
	Step     int           // training steps behind the model's weights
	Result   *train.Result // the training's result (Train only)
}

// Train builds the model of family name and trains it with the harness (train.Run) into
// rc.Dir: metrics.json, manifest.json (with the datasets' SHA-256), log.jsonl, checkpoint/, and
// rc.Samples samples.
func Train(ctx context.Context, name string, rc RunConfig) (*Run, error) {
	if rc.Resume && rc.Dir != "" {
		profile, saved, steps, _, err := train.SavedRunConfig(rc.Dir)
		if err != nil {
			return nil, err
		}
		if rc.Profile == "" {
			rc.Profile = profile
		}
		if rc.Steps <= 0 { // the run's own length (iagen train --steps N), not the profile's
			rc.Steps = steps
		}
		var ov Overrides
		if err := ov.Underlay(rc.Overrides, "overrides"); err != nil {
			return nil, err
		}
		if err := ov.Underlay(saved, rc.Dir+": saved configuration"); err != nil {
			return nil, err
		}
		rc.Overrides = ov.JSON()
	}
	m, err := Build(name, rc.Options)
	if err != nil {
		return nil, err
	}
	info := m.Info()
	if rc.Steps <= 0 {
		rc.Steps = info.Steps
	}
	if rc.CheckpointEvery <= 0 {
		rc.CheckpointEvery = max(1, rc.Steps/10)
	}
	if rc.EvalEvery <= 0 && rc.Evaluations > 1 {
		rc.EvalEvery = max(1, rc.Steps/rc.Evaluations)
	}
	res, err := train.Run(ctx, m, train.Config{Steps: rc.Steps, Seed: rc.Seed, Dir: rc.Dir, Resume: rc.Resume,
		CheckpointEvery: rc.CheckpointEvery, EvalEvery: rc.EvalEvery, LogEvery: rc.LogEvery, Progress: rc.Progress,
		Family: name, Profile: rc.Profile, Backend: backend.Describe(rc.Backend), ModelConfig: info.Config,
		Datasets: info.Datasets})
	if err != nil {
		return nil, err
	}
	r := &Run{Family: name, Dir: rc.Dir, Model: m, Step: res.Steps, Result: res, Manifest: train.Manifest{Family: name,
		Profile: rc.Profile, Seed: rc.Seed, Steps: res.Steps, Config: info.Config, Datasets: info.Datasets}}
	if rc.Dir != "" && rc.Samples > 0 {
		if _, err := r.Sample(rc.Samples, "", nil); err != nil {
			return r, fmt.Errorf("samples: %w", err)
		}
	}
	return r, nil
}

// Continue is Train that resumes the run in rc.Dir when it holds checkpoints and starts it
// otherwise: a measurement that trains many runs (the comparison, the appetite runs, the
// amplification audit), interrupted, goes on where it stopped and ends where it would have.
func Continue(ctx context.Context, name string, rc RunConfig) (*Run, error) {
	if cks, err := train.ListCheckpoints(filepath.Join(rc.Dir, "checkpoint")); err == nil && len(cks) > 0 {
		rc.Resume = true
	}
	return Train(ctx, name, rc)
}

// ReadManifest reads dir/manifest.json, the record a finished run leaves.
func ReadManifest(dir string) (train.Manifest, error) {
	var man train.Manifest
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		return man, fmt.Errorf("%s is not a finished run folder (no manifest.json): train into it first (iagen train … --out %s)", dir, dir)
	}
	if err := json.Unmarshal(raw, &man); err != nil {
		return man, fmt.Errorf("%s/manifest.json: %w", dir, err)
	}
	return man, nil
}

// Finished reports whether dir holds a finished run (manifest.json and metrics.json) trained as
// opts asks — the same profile and seed, every field of opts.Overrides equal in the configuration
// it recorded — and for steps steps (0: any number). Measurements that train many runs (the
// comparison, the appetite runs, the amplification audit) reuse such a run rather than train it
// again, so that an interrupted measurement goes on where it stopped.
func Finished(dir string, opts Options, steps int) bool {
	man, err := ReadManifest(dir)
	if err != nil || man.Profile != opts.Profile || man.Seed != opts.Seed || (steps > 0 && man.Steps != steps) {
		return false
	}
	if _, err := ReadMetrics(dir); err != nil {
		return false
	}
	var want map[string]any
	if len(opts.Overrides) > 0 && json.Unmarshal(opts.Overrides, &want) != nil {
		return false
	}
	got, _ := man.Config.(map[string]any)
	for k, v := range want {
		if !reflect.DeepEqual(got[k], v) {
			return false
		}
	}
	return true
}

// Load rebuilds the model of the finished run in dir — its family, profile, seed and the
// configuration it trained with, from its manifest — and restores its newest checkpoint.
// opts gives the backend and the data folder; its profile, seed and overrides are ignored.
func Load(name, dir string, opts Options) (*Run, error) {
	man, err := ReadManifest(dir)
	if err != nil {
		return nil, err
	}
	return restore(name, dir, man, opts)
}

// Peek is Load for a run that may still be training, or was stopped: without manifest.json it
// rebuilds the model from the profile and configuration its newest checkpoint records (those
// --resume uses), so that a run's samples can be looked at while it trains (iagen sample). Such
// a Run's Manifest has no Finished time, and Manifest.Steps is the length the run was asked for.
func Peek(name, dir string, opts Options) (*Run, error) {
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err == nil {
		return Load(name, dir, opts)
	}
	profile, config, steps, ok, err := train.SavedRunConfig(dir)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%s holds neither a finished run (manifest.json) nor a checkpoint: train into it first (iagen train … --out %s)", dir, dir)
	}
	man := train.Manifest{Family: name, Profile: profile, Steps: steps}
	if config != nil {
		man.Config = config
	}
	return restore(name, dir, man, opts)
}

// restore builds the model that man describes and restores the newest checkpoint in dir.
func restore(name, dir string, man train.Manifest, opts Options) (*Run, error) {
	var err error
	if man.Family != "" && man.Family != name {
		return nil, fmt.Errorf("%s holds a %s run, not %s", dir, man.Family, name)
	}
	opts.Profile, opts.Seed, opts.Overrides = man.Profile, man.Seed, nil
	if man.Config != nil {
		if opts.Overrides, err = json.Marshal(man.Config); err != nil {
			return nil, fmt.Errorf("%s/manifest.json: config: %w", dir, err)
		}
	}
	m, err := Build(name, opts)
	if err != nil {
		return nil, err
	}
	ck, _, _, ok, err := train.LoadLatestCheckpoint(filepath.Join(dir, "checkpoint"), m.Store())
	if err == nil && !ok {
		err = fmt.Errorf("no checkpoint in %s/checkpoint", dir)
	}
	if err != nil {
		return nil, err
	}
	return &Run{Family: name, Dir: dir, Model: m, Manifest: man, Step: ck.Step}, nil
}

// Evaluate evaluates the run's model again and writes the result into dir/metrics.json (the
// other fields are kept). It returns the new metrics.
func (r *Run) Evaluate() (train.Metrics, error) {
	ev, ok := r.Model.(train.Evaluator)
	if !ok {
		return nil, fmt.Errorf("family %s has no evaluation", r.Family)
	}
	ms, err := ev.Evaluate(r.Step)
	if err != nil {
		return nil, err
	}
	if r.Dir == "" {
		return ms, nil
	}
	path := filepath.Join(r.Dir, "metrics.json")
	out := map[string]any{}
	if raw, err := os.ReadFile(path); err == nil {
		_ = json.Unmarshal(raw, &out)
	}
	out["family"], out["profile"], out["seed"], out["steps"] = r.Family, r.Manifest.Profile, r.Manifest.Seed, r.Step
	out["params"] = r.Model.Info().Params
	for _, x := range ms {
		out[x.Name] = x.Value
	}
	return ms, train.WriteJSON(path, out)
}

// Studier is a model with a measurement too slow to repeat at every evaluation (the diffusion
// family's quality against the sampler's steps): Study writes it into the run folder dir as
// study.json and study.svg, which Publish copies, on n samples (0: the configuration's number).
type Studier interface {
	Study(dir string, n int) error
}

// Charted is a study that draws itself (a Studier's result).
type Charted interface{ Chart() (*viz.Chart, error) }

// WriteStudy writes a study just measured (or the error measuring it) into dir as study.json
// and its chart as study.svg.
func WriteStudy[S Charted](dir string, st S, err error) error {
	if err != nil {
		return err
	}
	chart, err := st.Chart()
	if err != nil {
		return err
	}
	if err := train.WriteJSON(filepath.Join(dir, "study.json"), st); err != nil {
		return err
	}
	return viz.SaveChart(chart, filepath.Join(dir, "study.svg"))
}

// ReadStudy reads the study.json that a Studier wrote into dir (a run folder or its published
// results).
func ReadStudy[S any](dir string) (S, error) {
	var st S
	return st, train.ReadJSON(filepath.Join(dir, "study.json"), &st)
}

// Study runs the family's study of the run into its folder (`iagen study`).
func (r *Run) Study(n int) error {
	s, ok := r.Model.(Studier)
	if !ok {
		return fmt.Errorf("family %s has no study", r.Family)
	}
	if n < 0 {
		return fmt.Errorf("the number of samples must be ≥ 0, got %d", n)
	}
	return s.Study(r.Dir, n)
}

// Sample writes n samples to path (a PNG grid or text; "" means dir/samples.png or .txt) with
// the sampling options given (a JSON object of the family's SamplingConfig fields, e.g.
// {"temperature": 0.8}), and returns the path written.
func (r *Run) Sample(n int, path string, options json.RawMessage) (string, error) {
	s, ok := r.Model.(Sampler)
	if !ok {
		return "", fmt.Errorf("family %s does not generate samples", r.Family)
	}
	if n <= 0 {
		return "", fmt.Errorf("the number of samples must be > 0, got %d", n)
	}
	if err := ApplySampling(r.Model, options); err != nil {
		return "", err
	}
	if path == "" {
		path = filepath.Join(r.Dir, "samples"+r.Model.Info().SampleExt)
	}
	return path, s.Sample(n, path)
}

// SamplingOptions is implemented by models whose sampler has options (a temperature, top-k,
// a diffusion sampler and its number of steps), which `iagen sample --set` changes:
// SetSampling takes a JSON object of some of them (decode it with Decode, so that an unknown
// field is an error naming it) and validates the result.
type SamplingOptions interface {
	SetSampling(options json.RawMessage) error
}

// ApplySampling sets the sampling options of m from the JSON object options.
func ApplySampling(m Model, options json.RawMessage) error {
	if len(options) == 0 || string(options) == "null" {
		return nil
	}
	so, ok := m.(SamplingOptions)
	if !ok {
		return fmt.Errorf("this family's sampler has no options (got %s)", options)
	}
	return so.SetSampling(options)
}
