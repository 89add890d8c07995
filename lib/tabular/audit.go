package tabular

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/gomlx/compute"
	"github.com/iagen-course/iagen/lib/audit"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/data"
)

// German Credit's columns as the audit reads them (data.LoadGermanCredit): the outcome, the
// column sex is coded in, age, and the derived sex column the model does not see (it would be
// a second, possibly contradicting, copy of personal_status).
const (
	classColumn  = "class"
	favourable   = "good"
	statusColumn = "personal_status"
	ageColumn    = "age"
	sexColumn    = "sex"
	// youngAge: applicants of this age or younger form the unprivileged age group, the split
	// AIF360's German Credit examples use (age > 25 privileged).
	youngAge = 25
)

// Attribute is a binary protected attribute of a German Credit row.
type Attribute struct {
	Name                     string `json:"name"`
	Privileged, Unprivileged string `json:"-"`
	// privileged reports, for each row of t, whether it is in the privileged group.
	privileged func(t *data.Table) ([]bool, error)
}

// Attributes are the two the audit measures: sex (read from personal_status, where the data
// codes it: "female div/dep/mar" and "female single" are women; the catalog card notes there is
// no "female single" row) with men privileged, and age, older than 25 privileged.
var Attributes = []Attribute{
	{Name: "sex", Privileged: "male", Unprivileged: "female", privileged: func(t *data.Table) ([]bool, error) {
		ps, err := t.Column(statusColumn)
		if err != nil {
			return nil, fmt.Errorf("tabular: %w", err)
		}
		out := make([]bool, len(ps))
		for i, v := range ps {
			sex, _, _ := strings.Cut(v, " ")
			if sex != "male" && sex != "female" {
				return nil, fmt.Errorf("tabular: %s row %d: personal_status %q codes no sex", t.Name, i, v)
			}
			out[i] = sex == "male"
		}
		return out, nil
	}},
	{Name: "age", Privileged: fmt.Sprintf("> %d", youngAge), Unprivileged: fmt.Sprintf("≤ %d", youngAge), privileged: func(t *data.Table) ([]bool, error) {
		ages, err := t.Floats(ageColumn)
		if err != nil {
			return nil, fmt.Errorf("tabular: %w", err)
		}
		out := make([]bool, len(ages))
		for i, a := range ages {
			out[i] = a > youngAge
		}
		return out, nil
	}},
}

// AuditConfig says how to run AuditGermanCredit.
type AuditConfig struct {
	Seeds     []int64 // one split, model and synthetic table per seed; at least 2 for intervals
	TrainRows int     // rows of the training split (0: 700); the rest are held out
	Model     Config
	Level     float64 // of the intervals (0: audit.DefaultLevel)
	// SeedDone, if set, is called after each seed (for progress).
	SeedDone func(done, total int, s SeedResult)
}

// The tables every seed measures, as the report names them.
const (
	RealTrain = "real_train"
	HeldOut   = "held_out"
	Synthetic = "synthetic"
)

var tableNames = []string{RealTrain, HeldOut, Synthetic}

// Report is the audit of synthetic German Credit tables over seeds: tables.json.
type Report struct {
	Dataset       string            `json:"dataset"`
	Files         map[string]string `json:"datasets_sha256"`
	Backend       string            `json:"backend"`
	Seeds         []int64           `json:"seeds"`
	Level         float64           `json:"level"`
	TrainRows     int               `json:"train_rows"`
	HeldOutRows   int               `json:"held_out_rows"`
	SyntheticRows int               `json:"synthetic_rows"`
	Model         Config            `json:"model"`
	Gaps          []GapReport       `json:"gaps"`
	Utility       UtilityReport     `json:"utility"`
	// MarginalTV is the total variation between the real training and the synthetic
	// distribution of each categorical column, averaged over columns (0: identical marginals).
	MarginalTV  audit.IntervalJSON `json:"marginal_tv"`
	PerSeed     []SeedResult       `json:"per_seed"`
	WallSeconds float64            `json:"wall_seconds"`
	Command     []string           `json:"command,omitempty"` // what produced it (set by the caller)
}

// GapReport is the good-credit gap over one attribute in the three tables, over seeds.
type GapReport struct {
	Attribute    string `json:"attribute"`
	Privileged   string `json:"privileged"`
	Unprivileged string `json:"unprivileged"`
	// Statistical parity difference P(good | unprivileged) − P(good | privileged) and disparate
	// impact P(good | unprivileged) / P(good | privileged), per table (RealTrain, HeldOut,
	// Synthetic).
	SPD map[string]audit.IntervalJSON `json:"statistical_parity_difference"`
	DI  map[string]audit.IntervalJSON `json:"disparate_impact"`
	// Shift is synthetic − real training SPD, paired by seed; Verdict reads it
	// (audit.CompareGaps).
	Shift   audit.IntervalJSON `json:"spd_shift"`
	Verdict string             `json:"verdict"`
}

// UtilityReport compares a logistic regression trained on synthetic rows with one trained on
// the real training rows, both scored on the held-out real rows.
type UtilityReport struct {
	TRTRAccuracy audit.IntervalJSON `json:"trtr_accuracy"`
	TSTRAccuracy audit.IntervalJSON `json:"tstr_accuracy"`
	TRTRAUC      audit.IntervalJSON `json:"trtr_auc"`
	TSTRAUC      audit.IntervalJSON `json:"tstr_auc"`
	AUCShift     audit.IntervalJSON `json:"auc_shift"` // TSTR − TRTR, paired by seed
}

// SeedResult is what one seed measured.
type SeedResult struct {
	Seed         int64   `json:"seed"`
	TrainSeconds float64 `json:"train_seconds"`
	FinalLoss    float64 `json:"final_loss"`
	// −ELBO in nats per row on the training and the held-out rows (one z sample per row).
	TrainNegELBO   float64 `json:"train_neg_elbo"`
	HeldOutNegELBO float64 `json:"held_out_neg_elbo"`
	// Fairness[attribute][table].
	Fairness   map[string]map[string]audit.GroupFairness `json:"fairness"`
	GoodRate   map[string]float64                        `json:"good_rate"` // per table
	MarginalTV float64                                   `json:"marginal_tv"`
	TRTR       Score                                     `json:"trtr"`
	TSTR       Score                                     `json:"tstr"`
}

// Score is a classifier's accuracy and AUC on the held-out real rows.
type Score struct {
	Accuracy float64 `json:"accuracy"`
	AUC      float64 `json:"auc"`
}

// AuditGermanCredit runs the audit of the package comment on German Credit t
// (data.LoadGermanCredit) on backend b.
func AuditGermanCredit(ctx context.Context, b compute.Backend, t *data.Table, cfg AuditConfig) (*Report, error) {
	if cfg.TrainRows == 0 {
		cfg.TrainRows = 700
	}
	if cfg.Level == 0 {
		cfg.Level = audit.DefaultLevel
	}
	if len(cfg.Seeds) < 2 {
		return nil, fmt.Errorf("tabular: an interval over seeds needs at least 2 seeds, got %d", len(cfg.Seeds))
	}
	if cfg.TrainRows < 2 || cfg.TrainRows >= len(t.Rows)-1 {
		return nil, fmt.Errorf("tabular: %d training rows of %d leave no held-out rows; use 2 to %d", cfg.TrainRows, len(t.Rows), len(t.Rows)-2)
	}
	if err := cfg.Model.Check(); err != nil {
		return nil, err
	}
	started := time.Now()
	rep := &Report{Dataset: t.Name, Files: t.Files, Backend: backend.Config(b), Seeds: cfg.Seeds, Level: cfg.Level,
		TrainRows: cfg.TrainRows, HeldOutRows: len(t.Rows) - cfg.TrainRows, SyntheticRows: cfg.TrainRows, Model: cfg.Model}
	for i, seed := range cfg.Seeds {
		s, err := auditSeed(ctx, b, t, cfg, seed)
		if err != nil {
			return nil, fmt.Errorf("seed %d: %w", seed, err)
		}
		rep.PerSeed = append(rep.PerSeed, s)
		if cfg.SeedDone != nil {
			cfg.SeedDone(i+1, len(cfg.Seeds), s)
		}
	}
	if err := rep.summarise(); err != nil {
		return nil, err
	}
	rep.WallSeconds = time.Since(started).Seconds()
	return rep, nil
}

// auditSeed splits t by seed, trains a TVAE on the training rows, samples as many rows and
// measures the three tables.
func auditSeed(ctx context.Context, b compute.Backend, t *data.Table, cfg AuditConfig, seed int64) (SeedResult, error) {
	s := SeedResult{Seed: seed, Fairness: map[string]map[string]audit.GroupFairness{}, GoodRate: map[string]float64{}}
	trainT, heldOut := Split(t, cfg.TrainRows, uint64(seed))
	enc, err := Fit(trainT, sexColumn)
	if err != nil {
		return s, err
	}
	m, err := New(b, enc, trainT, cfg.Model, seed)
	if err != nil {
		return s, err
	}
	res, err := m.Train(ctx, nil)
	if err != nil {
		return s, err
	}
	s.TrainSeconds = res.WallSeconds
	if len(res.Train) > 0 {
		s.FinalLoss = res.Train[0].Value
	}
	if s.TrainNegELBO, err = m.NegELBO(trainT, uint64(seed)); err != nil {
		return s, err
	}
	if s.HeldOutNegELBO, err = m.NegELBO(heldOut, uint64(seed)); err != nil {
		return s, err
	}
	synth, err := m.Sample(cfg.TrainRows, uint64(seed))
	if err != nil {
		return s, err
	}
	tables := map[string]*data.Table{RealTrain: trainT, HeldOut: heldOut, Synthetic: synth}
	for _, name := range tableNames {
		good, err := goodCredit(tables[name])
		if err != nil {
			return s, err
		}
		s.GoodRate[name] = share(good)
		for _, a := range Attributes {
			priv, err := a.privileged(tables[name])
			if err != nil {
				return s, err
			}
			g, err := audit.AuditGroupFairness(good, priv)
			if err != nil {
				return s, fmt.Errorf("%s, %s table: %w", a.Name, name, err)
			}
			if s.Fairness[a.Name] == nil {
				s.Fairness[a.Name] = map[string]audit.GroupFairness{}
			}
			s.Fairness[a.Name][name] = g
		}
	}
	if s.MarginalTV, err = marginalTV(enc, trainT, synth); err != nil {
		return s, err
	}
	if s.TRTR, err = utility(enc, trainT, heldOut); err != nil {
		return s, fmt.Errorf("TRTR: %w", err)
	}
	if s.TSTR, err = utility(enc, synth, heldOut); err != nil {
		return s, fmt.Errorf("TSTR: %w", err)
	}
	return s, nil
}

// summarise fills the intervals and verdicts from PerSeed.
func (r *Report) summarise() error {
	seeds := r.PerSeed
	column := func(f func(SeedResult) float64) []float64 {
		out := make([]float64, len(seeds))
		for i, s := range seeds {
			out[i] = f(s)
		}
		return out
	}
	var err error
	ci := func(xs []float64) audit.IntervalJSON {
		iv, e := audit.MeanCI(xs, r.Level)
		if err == nil {
			err = e
		}
		return audit.IntervalJSON(iv)
	}
	for _, a := range Attributes {
		g := GapReport{Attribute: a.Name, Privileged: a.Privileged, Unprivileged: a.Unprivileged,
			SPD: map[string]audit.IntervalJSON{}, DI: map[string]audit.IntervalJSON{}}
		spd := map[string][]float64{}
		for _, name := range tableNames {
			spd[name] = column(func(s SeedResult) float64 { return s.Fairness[a.Name][name].StatisticalParityDifference })
			g.SPD[name] = ci(spd[name])
			g.DI[name] = ci(column(func(s SeedResult) float64 { return s.Fairness[a.Name][name].DisparateImpact }))
		}
		c, e := audit.CompareGaps(spd[RealTrain], spd[Synthetic], r.Level)
		if e != nil {
			return e
		}
		g.Shift, g.Verdict = audit.IntervalJSON(c.Shift), c.Verdict
		r.Gaps = append(r.Gaps, g)
	}
	trtrAUC, tstrAUC := column(func(s SeedResult) float64 { return s.TRTR.AUC }), column(func(s SeedResult) float64 { return s.TSTR.AUC })
	shift := make([]float64, len(seeds))
	for i := range shift {
		shift[i] = tstrAUC[i] - trtrAUC[i]
	}
	r.Utility = UtilityReport{
		TRTRAccuracy: ci(column(func(s SeedResult) float64 { return s.TRTR.Accuracy })),
		TSTRAccuracy: ci(column(func(s SeedResult) float64 { return s.TSTR.Accuracy })),
		TRTRAUC:      ci(trtrAUC), TSTRAUC: ci(tstrAUC), AUCShift: ci(shift)}
	r.MarginalTV = ci(column(func(s SeedResult) float64 { return s.MarginalTV }))
	return err
}

// Split returns a seeded random split of t's rows: n for training, the rest held out. The
// same seed gives the same split.
func Split(t *data.Table, n int, seed uint64) (train, heldOut *data.Table) {
	perm := rand.New(rand.NewPCG(seed, 0x5b117)).Perm(len(t.Rows))
	pick := func(idx []int, suffix string) *data.Table {
		rows := make([][]string, len(idx))
		for i, r := range idx {
			rows[i] = t.Rows[r]
		}
		return &data.Table{Name: t.Name + suffix, Columns: t.Columns, Levels: t.Levels, Rows: rows, Files: t.Files}
	}
	return pick(perm[:n], "-train"), pick(perm[n:], "-held-out")
}

func goodCredit(t *data.Table) ([]bool, error) {
	class, err := t.Column(classColumn)
	if err != nil {
		return nil, fmt.Errorf("tabular: %w", err)
	}
	out := make([]bool, len(class))
	for i, c := range class {
		out[i] = c == favourable
	}
	return out, nil
}

func share(b []bool) float64 {
	var n int
	for _, v := range b {
		if v {
			n++
		}
	}
	return float64(n) / float64(len(b))
}

// utility fits a logistic regression of good credit on the other encoded columns of trainT and
// scores it on test.
func utility(enc *Encoding, trainT, test *data.Table) (Score, error) {
	x, y, err := features(enc, trainT)
	if err != nil {
		return Score{}, err
	}
	l, err := FitLogistic(x, y)
	if err != nil {
		return Score{}, err
	}
	xt, yt, err := features(enc, test)
	if err != nil {
		return Score{}, err
	}
	acc, auc, err := l.Score(xt, yt)
	return Score{Accuracy: acc, AUC: auc}, err
}

// features encodes t with enc and splits each row into the features (every encoded value but
// the class block) and the label (good credit).
func features(enc *Encoding, t *data.Table) ([][]float64, []bool, error) {
	class, err := enc.Column(classColumn)
	if err != nil {
		return nil, nil, err
	}
	flat, err := enc.Encode(t)
	if err != nil {
		return nil, nil, err
	}
	good := slices.Index(class.Levels, favourable)
	if good < 0 {
		return nil, nil, fmt.Errorf("tabular: class has no level %q", favourable)
	}
	x := make([][]float64, len(t.Rows))
	y := make([]bool, len(t.Rows))
	for i := range x {
		row := flat[i*enc.Width : (i+1)*enc.Width]
		y[i] = row[class.Offset+good] == 1
		for j, v := range row {
			if j < class.Offset || j >= class.Offset+class.Width() {
				x[i] = append(x[i], float64(v))
			}
		}
	}
	return x, y, nil
}

// marginalTV is the total variation ½ Σ_v |p(v) − q(v)| between the real and the synthetic
// marginal of each categorical column, averaged over those columns.
func marginalTV(enc *Encoding, real, synth *data.Table) (float64, error) {
	p, err := enc.Encode(real)
	if err != nil {
		return 0, err
	}
	q, err := enc.Encode(synth)
	if err != nil {
		return 0, err
	}
	mean := func(x []float32, n, j int) float64 {
		var s float64
		for i := range n {
			s += float64(x[i*enc.Width+j])
		}
		return s / float64(n)
	}
	var sum float64
	var cols int
	for _, c := range enc.Columns {
		if !c.Categorical() {
			continue
		}
		var tv float64
		for j := c.Offset; j < c.Offset+c.Width(); j++ {
			d := mean(p, len(real.Rows), j) - mean(q, len(synth.Rows), j)
			tv += max(d, -d) / 2
		}
		sum += tv
		cols++
	}
	if cols == 0 {
		return 0, nil
	}
	return sum / float64(cols), nil
}
