package notebook

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/train"
	"github.com/iagen-course/iagen/lib/viz"
)

// Option changes how Train trains a run (Named also applies to Load).
type Option func(*settings)

type settings struct {
	run         string          // the run's folder name under the runs folder
	steps       int             // 0: the profile's
	evalEvery   int             // steps between evaluations; 0: from evaluations
	evaluations int             // evaluations spread over the run
	overrides   json.RawMessage // configuration fields
	seed        int64
	quiet       bool
	err         error
}

func newSettings(name string, opts []Option) (settings, error) {
	s := settings{run: name, evaluations: 4, seed: backend.Seed()}
	for _, o := range opts {
		o(&s)
	}
	return s, s.err
}

// Named keeps the run in the folder of that name instead of the family's own, so that
// variants of a family (another β, another latent size) are trained and loaded side by side.
func Named(run string) Option { return func(s *settings) { s.run = run } }

// Steps sets the total number of training steps (default: the profile's).
func Steps(n int) Option { return func(s *settings) { s.steps = n } }

// EvalEvery evaluates the model every n steps and at the end.
func EvalEvery(n int) Option { return func(s *settings) { s.evalEvery = n } }

// Evaluations spreads k evaluations evenly over the run, the last one at the end (default 4;
// 1 evaluates only at the end).
func Evaluations(k int) Option { return func(s *settings) { s.evaluations = k } }

// Seed sets the seed of a new run (default backend.Seed()).
func Seed(seed int64) Option { return func(s *settings) { s.seed = seed } }

// Quiet trains without the progress bar and the summary line.
func Quiet() Option { return func(s *settings) { s.quiet = true } }

// Overrides replaces fields of the profile's configuration: a map of fields by their JSON
// names ({"beta": 8}), a configuration struct of the family, or a JSON object as a string.
// An unknown field is an error. The last Overrides given counts.
func Overrides(fields any) Option {
	return func(s *settings) {
		if text, ok := fields.(string); ok {
			s.overrides = json.RawMessage(text)
			return
		}
		raw, err := json.Marshal(fields)
		if err != nil {
			s.err = fmt.Errorf("nb.Overrides: %w", err)
		}
		s.overrides = raw
	}
}

// Train trains the model of family name with Profile() into its run folder
// (family.RunDir(name, Profile()), or the Named one) and returns the run. The run resumes from
// its newest checkpoint, so running the cell again continues an interrupted training, or only
// evaluates a finished one. It shows the progress live and prints a one-line summary.
func Train(name string, opts ...Option) *family.Run {
	s := Must(newSettings(name, opts))
	r := Must(trainRun(name, s))
	if !s.quiet {
		fmt.Println(summary(s.run, r))
	}
	return r
}

func trainRun(name string, s settings) (*family.Run, error) {
	rc := family.RunConfig{Dir: family.RunDir(s.run, Profile()), Resume: true, Steps: s.steps, EvalEvery: s.evalEvery,
		Evaluations: s.evaluations, Options: family.Options{Backend: Backend(), Profile: Profile(), Seed: s.seed, Overrides: s.overrides}}
	if s.quiet {
		rc.Progress = train.SilentProgress()
	}
	return family.Train(context.Background(), name, rc)
}

// summary describes a finished training in one Spanish line.
func summary(run string, r *family.Run) string {
	res := r.Result
	done := fmt.Sprintf("%d pasos en %.1f s (%.1f pasos/s)", res.Steps, res.WallSeconds, res.StepsPerSecond)
	what := fmt.Sprintf("%s (perfil %s)", run, r.Manifest.Profile)
	switch {
	case res.StartStep >= res.Steps:
		return fmt.Sprintf("%s ya estaba entrenado: %s; se cargó su último punto de control de %s", what, done, r.Dir)
	case res.StartStep > 0:
		return fmt.Sprintf("%s: %s, retomado en el paso %d; guardado en %s", what, done, res.StartStep, r.Dir)
	}
	return fmt.Sprintf("%s: %s; guardado en %s", what, done, r.Dir)
}

// Load loads the run that Train left in the run folder of family name (or the Named one):
// the model rebuilt with the profile, seed and configuration it was trained with, and its
// newest checkpoint. Type-assert its Model to the family's model: Load("gan").Model.(*gan.Model).
func Load(name string, opts ...Option) *family.Run {
	return Must(loadRun(name, Must(newSettings(name, opts))))
}

func loadRun(name string, s settings) (*family.Run, error) {
	dir := family.RunDir(s.run, Profile())
	if _, err := os.Stat(filepath.Join(dir, "manifest.json")); err != nil {
		return nil, fmt.Errorf("no hay ningún entrenamiento terminado de %s (perfil %s) en %s: ejecuta antes la celda que lo entrena (nb.Train)",
			s.run, Profile(), dir)
	}
	return family.Load(name, dir, family.Options{Backend: Backend()})
}

// ShowCurves draws the training history of run r — the log.jsonl values named by keys,
// against the step — as one chart with a curve per key.
func ShowCurves(r *family.Run, title string, keys ...string) {
	viz.ShowChart(Must(curves(r, title, keys)))
}

func curves(r *family.Run, title string, keys []string) (*viz.Chart, error) {
	var history []train.Record
	if r.Result != nil {
		history = r.Result.History
	} else {
		var err error
		if history, err = train.ReadLog(r.Dir); err != nil {
			return nil, err
		}
	}
	return viz.LineChart(title, "paso", "", train.HistorySeries(history, keys...))
}
