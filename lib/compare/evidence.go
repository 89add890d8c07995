package compare

import (
	"context"
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

// Measure runs the two measurements the claims need beyond the families' runs, sized by profile
// (ci: seconds; otherwise a few minutes on 2 cores): the toy GAN over ToySeeds and the
// delayed-recall task of the LSTM and the Transformer (rnn.RecallProfile).
func Measure(ctx context.Context, b compute.Backend, profile string) (Evidence, error) {
	var ev Evidence
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
	return ev, nil
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
// folder each — keeping a finished run of the same profile found there —, reads the table from
// them and measures the evidence. A family that fails to
// train stays in the table, marked missing with its error; failed names them.
func Live(ctx context.Context, opts family.Options, dir string, progress train.Progress) (t Table, failed []string, err error) {
	errs := map[string]string{}
	for _, name := range Families {
		run := filepath.Join(dir, name)
		if ms, err := family.ReadMetrics(run); err == nil && ms["profile"] == opts.Profile {
			continue // finished before: a rerun redraws the table without training again
		}
		_, err := family.Train(ctx, name, family.RunConfig{Options: opts, Dir: run, Progress: progress})
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
	ev, err := Measure(ctx, opts.Backend, opts.Profile)
	if err != nil {
		return t, failed, err
	}
	t.UseMeasurements(ev)
	return t, failed, nil
}
