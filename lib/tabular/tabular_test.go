package tabular

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gomlx/compute"
	"github.com/iagen-course/iagen/lib/audit"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/backend/backendtest"
	"github.com/iagen-course/iagen/lib/data"
)

// toyCredit builds a small German-Credit-like table with known structure: women are 30 % of
// the rows, applicants ≤ 25 about 20 %; P(good) = 0.85 for older men with loans of at most 30
// months, 0.25 less for women, 0.3 less for the young, 0.2 less for longer loans; purpose has a
// rare level (5 %); amount grows with duration.
func toyCredit(n int, seed uint64) *data.Table {
	r := rand.New(rand.NewPCG(seed, 1))
	t := &data.Table{Name: "toy-credit",
		Columns: []string{"personal_status", "age", "purpose", "duration", "credit_amount", "class", "sex"},
		Levels: [][]string{{"male single", "female div/dep/mar", "female single"}, nil, {"car", "tv", "retraining"}, nil, nil,
			{"good", "bad"}, {"female", "male"}}}
	for range n {
		status, sex := "male single", "male"
		if r.Float64() < 0.3 {
			status, sex = "female div/dep/mar", "female"
		}
		age := 26 + r.IntN(45)
		if r.Float64() < 0.2 {
			age = 19 + r.IntN(7)
		}
		purpose := "car"
		switch u := r.Float64(); {
		case u < 0.05:
			purpose = "retraining"
		case u < 0.5:
			purpose = "tv"
		}
		duration := 6 + r.IntN(43)
		amount := 200*duration + r.IntN(3000)
		p := 0.85
		if sex == "female" {
			p -= 0.25
		}
		if age <= 25 {
			p -= 0.3
		}
		if duration > 30 {
			p -= 0.2
		}
		class := "bad"
		if r.Float64() < p {
			class = "good"
		}
		t.Rows = append(t.Rows, []string{status, strconv.Itoa(age), purpose, strconv.Itoa(duration), strconv.Itoa(amount), class, sex})
	}
	return t
}

func goBackend(t *testing.T) compute.Backend {
	t.Helper()
	b, err := backend.New("go")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Finalize)
	return b
}

func TestEncodingRoundTrip(t *testing.T) {
	tab := toyCredit(200, 1)
	enc, err := Fit(tab, "sex")
	if err != nil {
		t.Fatal(err)
	}
	// 3 numeric columns first, then one-hot blocks of 3 + 3 + 2.
	if enc.Numeric != 3 || enc.Width != 3+3+3+2 {
		t.Fatalf("numeric %d, width %d; want 3 and 11", enc.Numeric, enc.Width)
	}
	if c, _ := enc.Column("age"); c.Offset != 0 || !c.Integer || c.Categorical() {
		t.Errorf("age encoded as %+v", c)
	}
	if c, _ := enc.Column("purpose"); c.Offset != 6 || c.Width() != 3 {
		t.Errorf("purpose encoded as %+v", c)
	}
	if _, err := enc.Column("sex"); err == nil {
		t.Error("the skipped column sex is encoded")
	}
	x, err := enc.Encode(tab)
	if err != nil {
		t.Fatal(err)
	}
	// Standardised: mean 0, standard deviation 1.
	var mean, sq float64
	for i := range tab.Rows {
		v := float64(x[i*enc.Width+1])
		mean, sq = mean+v, sq+v*v
	}
	n := float64(len(tab.Rows))
	if mean /= n; math.Abs(mean) > 1e-5 || math.Abs(sq/n-mean*mean-1) > 1e-4 {
		t.Errorf("standardised duration has mean %g, variance %g", mean, sq/n-mean*mean)
	}
	for i, row := range tab.Rows {
		got := enc.Decode(x[i*enc.Width : (i+1)*enc.Width])
		for j, c := range enc.Columns {
			want := row[slices.Index(tab.Columns, c.Name)]
			if c.Categorical() {
				if got[j] != want {
					t.Fatalf("row %d %s: decoded %q, want %q", i, c.Name, got[j], want)
				}
				continue
			}
			g, _ := strconv.ParseFloat(got[j], 64)
			w, _ := strconv.ParseFloat(want, 64)
			if math.Abs(g-w) > 1e-3*max(1, math.Abs(w)) {
				t.Fatalf("row %d %s: decoded %s, want %s", i, c.Name, got[j], want)
			}
		}
	}

	bad := toyCredit(3, 2)
	bad.Rows[1][2] = "yacht"
	if _, err := enc.Encode(bad); err == nil || !strings.Contains(err.Error(), `purpose = "yacht"`) || strings.Contains(err.Error(), "\n") {
		t.Errorf("undeclared level: error %v", err)
	}
	bad = toyCredit(3, 2)
	bad.Rows[0][1] = "?"
	if _, err := enc.Encode(bad); err == nil || !strings.Contains(err.Error(), "missing values") {
		t.Errorf("missing value: error %v", err)
	}
	text := toyCredit(3, 2)
	text.Rows[0][3] = "six"
	if _, err := Fit(text); err == nil || !strings.Contains(err.Error(), "must be numeric") {
		t.Errorf("a non-numeric column without levels: error %v", err)
	}
}

func TestSampleRow(t *testing.T) {
	enc, err := Fit(toyCredit(200, 1), "sex")
	if err != nil {
		t.Fatal(err)
	}
	age, _ := enc.Column("age")
	purpose, _ := enc.Column("purpose")
	params := make([]float32, enc.Width)
	params[age.Offset] = 100 // far above the observed range
	// purpose: logits 0, log 3, −∞-ish → P(car) = ¼, P(tv) = ¾.
	params[purpose.Offset+1] = float32(math.Log(3))
	params[purpose.Offset+2] = -30
	sigma := []float32{0.5, 0.5, 0.5}
	r := rand.New(rand.NewPCG(3, 4))
	var tv int
	const n = 4000
	for range n {
		row := enc.SampleRow(params, sigma, r)
		a, err := strconv.ParseFloat(row[slices.Index(enc.Table("", nil).Columns, "age")], 64)
		if err != nil || a != age.Max {
			t.Fatalf("age %v (%v), want the clamped maximum %g", a, err, age.Max)
		}
		switch row[slices.Index(enc.Table("", nil).Columns, "purpose")] {
		case "tv":
			tv++
		case "retraining":
			t.Fatal("drew a level of probability e⁻³⁰")
		}
	}
	if p := float64(tv) / n; math.Abs(p-0.75) > 0.03 {
		t.Errorf("P(tv) = %.3f, want 0.75", p)
	}
	// Integer columns come out as integers, within range, with σ's noise.
	params[age.Offset] = 0
	seen := map[string]bool{}
	for range 200 {
		v := enc.SampleRow(params, sigma, r)[slices.Index(enc.Table("", nil).Columns, "age")]
		a, _ := strconv.ParseFloat(v, 64)
		if a != math.Round(a) || a < age.Min || a > age.Max {
			t.Fatalf("age %s is not an integer in [%g, %g]", v, age.Min, age.Max)
		}
		seen[v] = true
	}
	if len(seen) < 5 {
		t.Errorf("σ = 0.5 gave only %d distinct ages", len(seen))
	}
}

// TestTVAELearnsMarginals trains briefly on the go backend: the loss falls, and the synthetic
// table's class rate, women's share, rare purpose and mean age come near the real ones.
func TestTVAELearnsMarginals(t *testing.T) {
	b := goBackend(t)
	tab := toyCredit(600, 5)
	enc, err := Fit(tab, "sex")
	if err != nil {
		t.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Steps = 400
	m, err := New(b, enc, tab, cfg, 11)
	if err != nil {
		t.Fatal(err)
	}
	before, err := m.NegELBO(tab, 1)
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Train(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	after, err := m.NegELBO(tab, 1)
	if err != nil {
		t.Fatal(err)
	}
	first, last := res.History[0].Values["loss"], res.Train[0].Value
	t.Logf("loss %.2f → %.2f; −ELBO %.2f → %.2f nats per row; %.0f steps/s", first, last, before, after, res.StepsPerSecond)
	if !(last < 0.7*first) || !(after < before-3) {
		t.Errorf("training did not lower the loss enough: %.2f → %.2f, −ELBO %.2f → %.2f", first, last, before, after)
	}

	synth, err := m.Sample(2000, 9)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		column, level string
		tol           float64
	}{
		{"class", "good", 0.06},
		{"personal_status", "female div/dep/mar", 0.06},
		{"purpose", "retraining", 0.04},
		{"purpose", "tv", 0.08},
	} {
		real, _ := tab.Column(tc.column)
		fake, err := synth.Column(tc.column)
		if err != nil {
			t.Fatal(err)
		}
		p, q := rate(real, tc.level), rate(fake, tc.level)
		if math.Abs(p-q) > tc.tol {
			t.Errorf("P(%s = %s): synthetic %.3f, real %.3f (tolerance %.2f)", tc.column, tc.level, q, p, tc.tol)
		}
	}
	realAge, _ := tab.Floats("age")
	fakeAge, err := synth.Floats("age")
	if err != nil {
		t.Fatal(err)
	}
	age, _ := enc.Column("age")
	if d := math.Abs(meanOf(fakeAge) - meanOf(realAge)); d > 0.2*age.Std {
		t.Errorf("mean age: synthetic %.1f, real %.1f", meanOf(fakeAge), meanOf(realAge))
	}
	if tv, _ := marginalTV(enc, tab, synth); tv > 0.06 {
		t.Errorf("mean total variation of the categorical marginals %.3f > 0.06", tv)
	}
}

// TestTVAEDeterministic: the same seed gives the same weights and the same table; another seed
// another table.
func TestTVAEDeterministic(t *testing.T) {
	b := goBackend(t)
	tab := toyCredit(100, 5)
	enc, _ := Fit(tab, "sex")
	cfg := DefaultConfig()
	cfg.Steps, cfg.Batch = 20, 32
	sample := func(seed int64) [][]string {
		m, err := New(b, enc, tab, cfg, seed)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Train(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		s, err := m.Sample(50, 1)
		if err != nil {
			t.Fatal(err)
		}
		return s.Rows
	}
	a, again, other := sample(3), sample(3), sample(4)
	if !slices.EqualFunc(a, again, slices.Equal) {
		t.Error("the same seed gave two different tables")
	}
	if slices.EqualFunc(a, other, slices.Equal) {
		t.Error("seeds 3 and 4 gave the same table")
	}
}

// TestTVAEOnXLACPU trains on xla:cpu: the loss falls, sampling works and repeats for a seed.
func TestTVAEOnXLACPU(t *testing.T) {
	b := backendtest.XLACPU(t)
	tab := toyCredit(300, 5)
	enc, _ := Fit(tab, "sex")
	cfg := DefaultConfig()
	cfg.Steps = 200
	m, err := New(b, enc, tab, cfg, 11)
	if err != nil {
		t.Fatal(err)
	}
	res, err := m.Train(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if first, last := res.History[0].Values["loss"], res.Train[0].Value; !(last < 0.5*first) {
		t.Errorf("xla:cpu: loss %.2f → %.2f", first, last)
	}
	a, err := m.Sample(100, 2)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := m.Sample(100, 2)
	if !slices.EqualFunc(a.Rows, again.Rows, slices.Equal) {
		t.Error("xla:cpu: the same sampling seed gave two tables")
	}
}

func TestConfigCheck(t *testing.T) {
	if err := DefaultConfig().Check(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []func(*Config){
		func(c *Config) { c.Hidden = 0 },
		func(c *Config) { c.Latent = 0 },
		func(c *Config) { c.Steps = -1 },
		func(c *Config) { c.LearningRate = 0 },
		func(c *Config) { c.LossFactor = math.NaN() },
	} {
		c := DefaultConfig()
		f(&c)
		if err := c.Check(); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("%+v: error %v", c, err)
		}
	}
}

func TestFitLogisticSeparable(t *testing.T) {
	// Two features; the label is x₀ + x₁ > 0, with a margin.
	r := rand.New(rand.NewPCG(1, 2))
	var x [][]float64
	var y []bool
	for len(x) < 400 {
		a, b := r.NormFloat64(), r.NormFloat64()
		if math.Abs(a+b) < 0.2 {
			continue
		}
		x, y = append(x, []float64{a, b}), append(y, a+b > 0)
	}
	l, err := FitLogistic(x, y)
	if err != nil {
		t.Fatal(err)
	}
	acc, auc, err := l.Score(x, y)
	if err != nil {
		t.Fatal(err)
	}
	if acc < 0.99 || auc < 0.999 {
		t.Errorf("separable data: accuracy %.3f, AUC %.4f", acc, auc)
	}
	if l.W[0] < 1 || l.W[1] < 1 || math.Abs(l.W[0]-l.W[1]) > 0.2*l.W[0] || math.Abs(l.B) > 0.2*l.W[0] {
		t.Errorf("weights %v, bias %g: want two equal large positive weights and a small bias", l.W, l.B)
	}

	if _, err := FitLogistic(x, y[:3]); err == nil {
		t.Error("mismatched labels accepted")
	}
	if _, err := FitLogistic(x[:2], []bool{true, true}); err == nil || !strings.Contains(err.Error(), "both classes") {
		t.Errorf("one class: error %v", err)
	}
}

func TestAUC(t *testing.T) {
	for _, tc := range []struct {
		scores []float64
		y      []bool
		want   float64
	}{
		{[]float64{0.1, 0.4, 0.35, 0.8}, []bool{false, false, true, true}, 0.75},
		{[]float64{0.9, 0.8, 0.1}, []bool{true, true, false}, 1},
		{[]float64{0.9, 0.8, 0.1}, []bool{false, false, true}, 0},
		{[]float64{0.5, 0.5}, []bool{true, false}, 0.5}, // a tie counts ½
		{[]float64{0.2, 0.5, 0.5, 0.7}, []bool{false, true, false, true}, 0.875},
	} {
		got, err := AUC(tc.scores, tc.y)
		if err != nil || math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("AUC(%v, %v) = %g, %v; want %g", tc.scores, tc.y, got, err, tc.want)
		}
	}
	if _, err := AUC([]float64{1, 2}, []bool{true, true}); err == nil {
		t.Error("AUC of one class accepted")
	}
}

func TestSplit(t *testing.T) {
	tab := toyCredit(50, 1)
	for i := range tab.Rows {
		tab.Rows[i][1] = strconv.Itoa(i) // a row id
	}
	a, b := Split(tab, 35, 7)
	a2, _ := Split(tab, 35, 7)
	c, _ := Split(tab, 35, 8)
	if len(a.Rows) != 35 || len(b.Rows) != 15 {
		t.Fatalf("split sizes %d, %d", len(a.Rows), len(b.Rows))
	}
	ids := map[string]bool{}
	for _, r := range append(slices.Clone(a.Rows), b.Rows...) {
		ids[r[1]] = true
	}
	if len(ids) != 50 {
		t.Errorf("the split has %d distinct rows of 50", len(ids))
	}
	if !slices.EqualFunc(a.Rows, a2.Rows, slices.Equal) || slices.EqualFunc(a.Rows, c.Rows, slices.Equal) {
		t.Error("the split is not a function of its seed")
	}
}

// TestAuditToy runs the whole audit on the toy table (it has German Credit's class,
// personal_status and age columns): the real gaps are the ones built in, the report is
// complete, and utility beats chance.
func TestAuditToy(t *testing.T) {
	b := goBackend(t)
	tab := toyCredit(1000, 3)
	cfg := DefaultConfig()
	cfg.Steps = 150
	var calls int
	rep, err := AuditGermanCredit(context.Background(), b, tab, AuditConfig{Seeds: []int64{1, 2, 3}, Model: cfg,
		SeedDone: func(done, total int, s SeedResult) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 3 || len(rep.PerSeed) != 3 || rep.HeldOutRows != 300 || rep.SyntheticRows != 700 {
		t.Errorf("%d progress calls, %d seeds, %d held out, %d synthetic", calls, len(rep.PerSeed), rep.HeldOutRows, rep.SyntheticRows)
	}
	if len(rep.Gaps) != 2 || rep.Gaps[0].Attribute != "sex" || rep.Gaps[1].Attribute != "age" {
		t.Fatalf("gaps %+v", rep.Gaps)
	}
	// Built in: −0.25 by sex, −0.3 by age (the other factors are independent of the group).
	if spd := rep.Gaps[0].SPD[RealTrain].Estimate; spd > -0.15 || spd < -0.35 {
		t.Errorf("real sex SPD %.3f, built in −0.25", spd)
	}
	if spd := rep.Gaps[1].SPD[RealTrain].Estimate; spd > -0.2 || spd < -0.4 {
		t.Errorf("real age SPD %.3f, built in −0.3", spd)
	}
	verdicts := []string{audit.GapKeeps, audit.GapWidens, audit.GapNarrows, audit.GapErases, audit.GapReverses}
	for _, g := range rep.Gaps {
		if !slices.Contains(verdicts, g.Verdict) {
			t.Errorf("%s: verdict %q", g.Attribute, g.Verdict)
		}
		for _, name := range tableNames {
			if iv := g.SPD[name]; iv.N != 3 || !(iv.Lo <= iv.Estimate && iv.Estimate <= iv.Hi) {
				t.Errorf("%s %s: SPD interval %+v", g.Attribute, name, iv)
			}
		}
	}
	if auc := rep.Utility.TRTRAUC.Estimate; auc < 0.6 {
		t.Errorf("TRTR AUC %.3f: the built-in signal should be learnable", auc)
	}
	if rep.Utility.TSTRAUC.N != 3 {
		t.Errorf("TSTR AUC %+v", rep.Utility.TSTRAUC)
	}
	t.Logf("sex SPD real %.3f synthetic %.3f (%s); age SPD real %.3f synthetic %.3f (%s); AUC TRTR %.3f TSTR %.3f; %.1f s",
		rep.Gaps[0].SPD[RealTrain].Estimate, rep.Gaps[0].SPD[Synthetic].Estimate, rep.Gaps[0].Verdict,
		rep.Gaps[1].SPD[RealTrain].Estimate, rep.Gaps[1].SPD[Synthetic].Estimate, rep.Gaps[1].Verdict,
		rep.Utility.TRTRAUC.Estimate, rep.Utility.TSTRAUC.Estimate, rep.WallSeconds)

	if _, err := AuditGermanCredit(context.Background(), b, tab, AuditConfig{Seeds: []int64{1}, Model: cfg}); err == nil ||
		!strings.Contains(err.Error(), "at least 2 seeds") {
		t.Errorf("one seed: error %v", err)
	}
	if _, err := AuditGermanCredit(context.Background(), b, tab, AuditConfig{Seeds: []int64{1, 2}, TrainRows: 1000, Model: cfg}); err == nil {
		t.Error("a split with no held-out rows accepted")
	}
}

func rate(values []string, level string) float64 {
	var n int
	for _, v := range values {
		if v == level {
			n++
		}
	}
	return float64(n) / float64(len(values))
}

func meanOf(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}
