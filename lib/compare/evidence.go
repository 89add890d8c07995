package compare

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"

	"github.com/gomlx/compute"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/gan"
	"github.com/iagen-course/iagen/lib/rnn"
	"github.com/iagen-course/iagen/lib/train"
)

// ToySeeds are the seeds of the toy GAN: three, the fewest that show a spread.
var ToySeeds = []int64{1, 2, 3}

// ToySeed is the toy GAN (gan.ToyModel, the plain unpacked GAN on ring8) trained with one seed:
// the modes it covers at the end and at each of six evaluations along the training.
type ToySeed struct {
	Dataset      string  `json:"dataset"`
	Seed         int64   `json:"seed"`
	Steps        int     `json:"steps"`
	Modes        int     `json:"modes"`
	Covered      int     `json:"covered"`
	HighQuality  float64 `json:"high_quality"`  // share of the points within 3σ of a mode
	CoveredAlong []int   `json:"covered_along"` // modes covered at each evaluation
}

// Measure runs the measurements the claims need beyond the families' runs, sized by
// opts.Profile: the toy GAN over ToySeeds and the delayed-recall task of the LSTM and the
// Transformer (rnn.RecallProfile) — seconds at ci, minutes on 2 cores otherwise — and the
// appetite runs (Appetite) in the folder runs, the profile's own GPT and LSTM again on parts of
// the corpus (at small, about an hour on 2 cores; finished ones are reused).
func Measure(ctx context.Context, opts family.Options, runs string) (Evidence, error) {
	var ev Evidence
	b, profile := opts.Backend, opts.Profile
	cfg := gan.DefaultToyConfig()
	if profile == "ci" {
		cfg.Steps = 1500
	}
	for _, seed := range ToySeeds {
		if err := ctx.Err(); err != nil {
			return ev, err
		}
		s, err := toySeed(ctx, b, cfg, seed)
		if err != nil {
			return ev, err
		}
		ev.ToyGAN = append(ev.ToyGAN, s)
	}
	rc, delays := rnn.RecallProfile(profile)
	lstm, err := rnn.Recall(b, rc, []rnn.Cell{rnn.LSTM}, delays)
	if err != nil {
		return ev, err
	}
	tf, err := rnn.RecallTransformer(b, rc, delays)
	if err != nil {
		return ev, err
	}
	ev.Recall, ev.RecallSymbols = append(lstm, tf...), rc.Symbols
	ev.Appetite, err = Appetite(ctx, opts, runs)
	return ev, err
}

// AppetiteFractions are the shares of the corpus's training text the appetite runs train on;
// the table's own GPT and LSTM runs are the 100 % point.
var AppetiteFractions = []float64{0.1, 0.3}

// AppetiteRun is GPT or the LSTM trained with its profile's configuration, steps included, on a
// fraction of the corpus's training text (train_fraction), scored on the whole validation text.
type AppetiteRun struct {
	Family   string  `json:"family"`
	Fraction float64 `json:"fraction"`
	Steps    int     `json:"steps"`
	ValNats  float64 `json:"val_nats_per_char"` // at the end of the run
	// BestValNats is the lowest validation loss of the run's evaluations along the way: above it
	// at the end, the model has begun to memorise its smaller corpus.
	BestValNats float64 `json:"best_val_nats_per_char"`
	TrainLoss   float64 `json:"train_loss"` // the last step's batch loss
	WallSeconds float64 `json:"wall_seconds"`
	Dir         string  `json:"dir"`
}

// Appetite trains GPT and the LSTM of opts.Profile on each of AppetiteFractions of the corpus into
// runs/<family>-<percent> (a finished run there with the same profile, seed and fraction is
// reused, so that one made beforehand with iagen train … --set train_fraction=F is not repeated;
// an interrupted one is resumed) and reads their validation losses.
func Appetite(ctx context.Context, opts family.Options, runs string) ([]AppetiteRun, error) {
	var out []AppetiteRun
	for _, name := range []string{"gpt", "lstm"} {
		for _, f := range AppetiteFractions {
			dir := filepath.Join(runs, fmt.Sprintf("%s-%.0f", name, 100*f))
			o := opts
			var err error
			if o.Overrides, err = json.Marshal(map[string]float64{"train_fraction": f}); err != nil {
				return nil, err
			}
			if !family.Finished(dir, o, 0) {
				if _, err := family.Continue(ctx, name, family.RunConfig{Options: o, Dir: dir, Evaluations: 6, Progress: train.SilentProgress()}); err != nil {
					return nil, fmt.Errorf("appetite: %s on %.0f %% of the corpus: %w", name, 100*f, err)
				}
			}
			r, err := readAppetiteRun(dir, name, f)
			if err != nil {
				return nil, err
			}
			out = append(out, r)
		}
	}
	return out, nil
}

func readAppetiteRun(dir, name string, f float64) (AppetiteRun, error) {
	ms, err := family.ReadMetrics(dir)
	if err != nil {
		return AppetiteRun{}, err
	}
	r := AppetiteRun{Family: name, Fraction: f, Dir: dir}
	for key, dst := range map[string]*float64{"val_nats_per_char": &r.ValNats, "train_loss": &r.TrainLoss, "wall_seconds": &r.WallSeconds} {
		v, ok := ms[key].(float64)
		if !ok {
			return r, fmt.Errorf("%s/metrics.json has no %s", dir, key)
		}
		*dst = v
	}
	steps, _ := ms["steps"].(float64)
	r.Steps, r.BestValNats = int(steps), r.ValNats
	recs, err := train.ReadLog(dir)
	if err != nil {
		return r, err
	}
	for _, rec := range recs {
		if v, ok := rec.Values["val_nats_per_char"]; ok {
			r.BestValNats = min(r.BestValNats, v)
		}
	}
	return r, nil
}

func toySeed(ctx context.Context, b compute.Backend, cfg gan.ToyConfig, seed int64) (ToySeed, error) {
	t, err := gan.NewToy(b, cfg, seed)
	if err != nil {
		return ToySeed{}, err
	}
	res, err := train.Run(ctx, t, train.Config{Steps: cfg.Steps, Seed: seed, EvalEvery: cfg.Steps / 6, LogEvery: cfg.Steps / 6,
		Progress: train.SilentProgress()})
	if err != nil {
		return ToySeed{}, err
	}
	rep, err := t.Modes()
	if err != nil {
		return ToySeed{}, err
	}
	s := ToySeed{Dataset: cfg.Dataset, Seed: seed, Steps: cfg.Steps, Modes: len(rep.Counts), Covered: rep.Covered, HighQuality: rep.HighQuality}
	for i, r := range res.History { // a record per evaluation (LogEvery = EvalEvery), the first before any
		if i > 0 {
			s.CoveredAlong = append(s.CoveredAlong, int(r.Values["modes_covered"]))
		}
	}
	return s, nil
}

// Live trains the six families with opts (its profile, seed, backend and data) into dir, one run
// folder each — keeping a finished run of the same profile and seed found there, resuming an
// interrupted one —, reads the table from them and measures the evidence. A family that fails to
// train stays in the table, marked missing with its error; failed names them.
func Live(ctx context.Context, opts family.Options, dir string, progress train.Progress) (t Table, failed []string, err error) {
	errs := map[string]string{}
	for _, name := range Families {
		run := filepath.Join(dir, name)
		if family.Finished(run, opts, 0) {
			continue // finished before: a rerun redraws the table without training again
		}
		_, err := family.Continue(ctx, name, family.RunConfig{Options: opts, Dir: run, Progress: progress})
		if ctx.Err() != nil {
			return t, nil, ctx.Err()
		}
		if err != nil {
			errs[name] = "falló al entrenar: " + err.Error()
			failed = append(failed, name)
		}
	}
	if t, err = FromDir(dir, opts.Profile); err != nil {
		return t, failed, err
	}
	for i, r := range t.Rows {
		if e, ok := errs[r.Family]; ok {
			t.Rows[i].Missing = e
		}
	}
	ev, err := Measure(ctx, opts, dir)
	if err != nil {
		return t, failed, err
	}
	t.UseMeasurements(ev)
	return t, failed, nil
}
