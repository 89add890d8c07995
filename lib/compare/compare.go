// Package compare puts the six families on one table: the same harness, the same data, one
// scorer for every image family, and the course's comparison claims (advantages and drawbacks
// of each family) each with a verdict and the measurement behind it.
//
// A table is read from run folders or from the published results (FromDir), so that it costs
// nothing to redraw; `iagen compare --profile ci` trains the six families first. Per family:
// parameters, training speed and wall time, whether the run reached BENCH.md's "pass" target
// (Targets), the likelihood and its kind (exact for the flow and the autoregressive text
// models, a bound for the VAE and diffusion, none for the GAN), sampling speed, and for the
// image families the metrics of lib/imagegen's scorer next to the real-vs-real baseline. A
// family without a finished run stays in the table as missing, with the reason.
//
// The claims (Claims) are judged from those rows plus two measurements that no family's run
// makes: diffusion's quality against its number of sampling steps (the family's study.json,
// iagen study diffusion) and the delayed-recall task of lib/rnn, where the LSTM and the
// Transformer must remember a symbol k steps back.
package compare

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/iagen-course/iagen/lib/diffusion"
	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/rnn"
	"github.com/iagen-course/iagen/lib/train"
)

// Families are the six families of the course, in its order: GAN, VAE, Transformer, diffusion,
// normalizing flow, RNN/LSTM.
var Families = []string{"gan", "vae", "gpt", "diffusion", "flow", "lstm"}

// Likelihood kinds.
const (
	Exact = "exact" // log p(x) itself: the flow's change of variables, the text models' chain rule
	Bound = "bound" // an upper bound on −log p(x): the VAE's IWAE bound, diffusion's ELBO
	None  = "none"  // an implicit model: the GAN has no likelihood
)

// Row is one family's line of the table. Numbers a run did not measure are NaN (null in JSON).
type Row struct {
	Family  string `json:"family"`
	Profile string `json:"profile"`
	Dir     string `json:"dir,omitempty"` // where the numbers were read
	// Missing says why the family has no numbers ("" when it has).
	Missing string `json:"missing,omitempty"`

	Params         int `json:"params"`
	Steps          int `json:"steps"`
	WallSeconds    Num `json:"wall_seconds"`
	StepsPerSecond Num `json:"train_steps_per_second"`

	// Pass is whether the run met Target (nil: no target for this profile or not measured).
	Pass   *bool  `json:"pass"`
	Target string `json:"target,omitempty"`

	LikelihoodKind  string `json:"likelihood_kind"`
	Likelihood      Num    `json:"likelihood"`      // in LikelihoodUnit, lower is better
	LikelihoodUnit  string `json:"likelihood_unit"` // bits/dim, nats per image, nats/char
	SamplesPerSec   Num    `json:"samples_per_second"`
	SampleUnit      string `json:"sample_unit"` // images or characters
	SamplingComment string `json:"sampling_comment,omitempty"`

	Image *ImageScores `json:"image,omitempty"` // the image families' shared scores

	Backend  string `json:"backend,omitempty"`
	Hardware string `json:"hardware,omitempty"`
}

// ImageScores are the metrics.json fields every image family reports (lib/imagegen).
type ImageScores struct {
	FLD            Num `json:"fld"`
	Baseline       Num `json:"fld_real_baseline"`
	KID            Num `json:"kid"`
	Precision      Num `json:"precision"`
	Recall         Num `json:"recall"`
	Density        Num `json:"density"`
	Coverage       Num `json:"coverage"`
	ClassesCovered int `json:"classes_covered"`
	ClassTV        Num `json:"class_tv"`
}

// Table is the comparison: one row per family of Families, the verdicts on the course's claims,
// and the evidence measured for them.
type Table struct {
	Profile  string            `json:"profile"`
	Rows     []Row             `json:"rows"`
	Claims   []Claim           `json:"claims"`
	Evidence Evidence          `json:"evidence"`
	Versions map[string]string `json:"versions,omitempty"` // Go and module versions of the runs
	Command  []string          `json:"command,omitempty"`  // what made the table
}

// UseMeasurements takes the toy GAN, recall and appetite measurements of ev (Measure, or an earlier
// table's) and judges the claims again.
func (t *Table) UseMeasurements(ev Evidence) {
	t.Evidence.ToyGAN, t.Evidence.Recall, t.Evidence.RecallSymbols, t.Evidence.Command = ev.ToyGAN, ev.Recall, ev.RecallSymbols, ev.Command
	t.Evidence.Appetite = ev.Appetite
	t.Claims = Claims(*t)
}

// Evidence is what the claims need beyond the rows.
type Evidence struct {
	// DiffusionStudy is diffusion's quality against sampler steps (nil: not measured).
	DiffusionStudy *diffusion.Study `json:"diffusion_study,omitempty"`
	// ToyGAN is the toy GAN trained with each of ToySeeds (empty: not measured).
	ToyGAN []ToySeed `json:"toy_gan,omitempty"`
	// Recall is the delayed-recall task for the LSTM and the Transformer (empty: not measured),
	// over an alphabet of RecallSymbols symbols.
	Recall        []rnn.RecallResult `json:"recall,omitempty"`
	RecallSymbols int                `json:"recall_symbols,omitempty"`
	// Appetite is GPT and the LSTM trained on parts of the corpus (empty: not measured).
	Appetite []AppetiteRun `json:"appetite,omitempty"`
	// Command is what measured the toy GAN, the recall task and the appetite runs (a table may reuse an earlier
	// table's measurements: iagen compare --evidence).
	Command []string `json:"command,omitempty"`
}

// Row returns the row of family name.
func (t Table) Row(name string) (Row, bool) {
	for _, r := range t.Rows {
		if r.Family == name {
			return r, true
		}
	}
	return Row{}, false
}

// FromDir reads the table of profile from dir: a results tree (dir/<family>/<profile>/) or a
// folder of run folders (dir/<family>/), whichever holds the family's metrics.json. A family
// with no metrics.json, or one of another profile, is a row marked missing.
func FromDir(dir, profile string) (Table, error) {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return Table{}, fmt.Errorf("compare: %s is not a folder of results or runs", dir)
	}
	t := Table{Profile: profile}
	for _, name := range Families {
		row, man := readRow(dir, name, profile)
		t.Rows = append(t.Rows, row)
		if man != nil && t.Versions == nil {
			t.Versions = map[string]string{"go": man.Backend.GoVersion}
			for k, v := range man.Backend.Modules {
				t.Versions[k] = v
			}
		}
		if name == "diffusion" && row.Missing == "" {
			if st, err := diffusion.ReadStudy(row.Dir); err == nil {
				t.Evidence.DiffusionStudy = &st
				t.Rows[len(t.Rows)-1] = withStudySpeed(row, man, st)
			}
		}
	}
	if missing := t.missing(); len(missing) == len(Families) {
		return t, fmt.Errorf("compare: no family has a finished %s run in %s", profile, dir)
	}
	t.Claims = Claims(t)
	return t, nil
}

// missing names the families without numbers.
func (t Table) missing() []string {
	var names []string
	for _, r := range t.Rows {
		if r.Missing != "" {
			names = append(names, r.Family)
		}
	}
	return names
}

// withStudySpeed gives a diffusion row without a sampling speed of its own (a run evaluated before
// metrics.json timed its samples) the speed its study measured for the run's sampler.
func withStudySpeed(r Row, man *train.Manifest, st diffusion.Study) Row {
	if r.SamplesPerSec.Known() || man == nil {
		return r
	}
	var cfg diffusion.Config
	if b, err := json.Marshal(man.Config); err != nil || json.Unmarshal(b, &cfg) != nil {
		return r
	}
	name := cfg.Sampling.Name(cfg.Timesteps)
	for _, q := range st.Rows {
		if q.Sampler == name {
			r.SamplesPerSec, r.SampleUnit = Num(q.SamplesPerSecond), "imágenes"
			r.SamplingComment = fmt.Sprintf("%s, del estudio de %d muestras", name, st.Samples)
		}
	}
	return r
}

// readRow reads family name's run of profile under dir, and its manifest when there is one.
func readRow(dir, name, profile string) (Row, *train.Manifest) {
	row := Row{Family: name, Profile: profile}
	var tried []string
	for _, d := range []string{filepath.Join(dir, name, profile), filepath.Join(dir, name)} {
		tried = append(tried, d)
		ms, err := family.ReadMetrics(d)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			row.Missing = err.Error()
			return row, nil
		}
		if p, _ := ms["profile"].(string); p != profile {
			row.Missing = fmt.Sprintf("%s holds a %q run, not %q", d, p, profile)
			return row, nil
		}
		row.Dir = d
		fill(&row, ms)
		if man, err := family.ReadManifest(d); err == nil {
			return row, &man
		}
		return row, nil
	}
	row.Missing = fmt.Sprintf("no metrics.json in %v", tried)
	return row, nil
}

// fill sets the row's numbers from a metrics.json.
func fill(r *Row, ms map[string]any) {
	num := func(k string) Num {
		if v, ok := ms[k].(float64); ok {
			return Num(v)
		}
		return Num(math.NaN())
	}
	r.Params, r.Steps = int(num("params")), int(num("steps"))
	r.WallSeconds, r.StepsPerSecond = num("wall_seconds"), num("train_steps_per_second")
	r.Backend, _ = ms["backend"].(string)
	r.Hardware, _ = ms["hardware"].(string)
	r.Likelihood, r.SamplesPerSec = Num(math.NaN()), Num(math.NaN())
	switch r.Family {
	case "gan":
		r.LikelihoodKind = None
	case "vae":
		r.LikelihoodKind, r.Likelihood, r.LikelihoodUnit = Bound, num("test_nll_nats"), "nats/imagen (MNIST binarizado)"
	case "diffusion":
		r.LikelihoodKind, r.LikelihoodUnit = Bound, "no calculada (la pérdida, de ε o de v, no es una cota en nats)"
	case "flow":
		r.LikelihoodKind, r.Likelihood, r.LikelihoodUnit = Exact, num("test_bits_per_dim"), "bits/dim"
	case "gpt", "lstm":
		r.LikelihoodKind, r.Likelihood, r.LikelihoodUnit = Exact, num("val_nats_per_char"), "nats/carácter"
	}
	if _, ok := ms["fld"]; ok {
		r.Image = &ImageScores{FLD: num("fld"), Baseline: num("fld_real_baseline"), KID: num("kid"),
			Precision: num("precision"), Recall: num("recall"), Density: num("density"), Coverage: num("coverage"),
			ClassesCovered: int(num("classes_covered")), ClassTV: num("class_tv")}
		r.SampleUnit = "imágenes"
		if n, s := num("eval_samples"), num("sample_seconds"); n > 0 && s > 0 {
			r.SamplesPerSec = n / s
		}
	}
	if v := num("sample_chars_per_second"); v > 0 {
		r.SamplesPerSec, r.SampleUnit = v, "caracteres"
	}
	if t, ok := Targets[r.Family]; ok && r.Profile != "ci" {
		pass, known := t.Met(func(k string) float64 { return float64(num(k)) })
		r.Target = t.Text
		if known {
			r.Pass = &pass
		}
	}
}

// Target is BENCH.md's "pass" for a family's small profile.
type Target struct {
	Text string // the target in words (Spanish, for the table)
	// Met reports whether the metrics meet the target, and false for known when one it needs is
	// missing.
	Met func(num func(string) float64) (met, known bool)
}

// Targets are BENCH.md's quality targets ("pass", small profile) by family.
var Targets = map[string]Target{
	"gan":       imageTarget,
	"diffusion": imageTarget,
	"vae":       belowTarget("test_nll_nats", 95, "NLL de prueba ≤ 95 nats (IWAE, K ≥ 1000)"),
	"flow":      belowTarget("test_bits_per_dim", 1.15, "≤ 1.15 bits/dim en la prueba"),
	"gpt":       belowTarget("val_nats_per_char", 1.6, "validación ≤ 1.6 nats/carácter"),
	"lstm":      belowTarget("val_nats_per_char", 1.6, "validación ≤ 1.6 nats/carácter"),
}

var imageTarget = Target{Text: "10 clases, variación total de clases ≤ 0.05, Fréchet ≤ 3 × real contra real",
	Met: func(num func(string) float64) (bool, bool) {
		classes, tv, fld, base := num("classes_covered"), num("class_tv"), num("fld"), num("fld_real_baseline")
		if math.IsNaN(classes + tv + fld + base) {
			return false, false
		}
		return classes == 10 && tv <= 0.05 && fld <= 3*base, true
	}}

func belowTarget(key string, limit float64, text string) Target {
	return Target{Text: text, Met: func(num func(string) float64) (bool, bool) {
		v := num(key)
		return v <= limit, !math.IsNaN(v)
	}}
}

// WriteJSON writes the table as path (table.json).
func (t Table) WriteJSON(path string) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return err
	}
	return train.WriteFileAtomic(path, append(b, '\n'))
}

// ReadJSON reads a table written by WriteJSON.
func ReadJSON(path string) (Table, error) {
	var t Table
	b, err := os.ReadFile(path)
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal(b, &t); err != nil {
		return t, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

// Num is a measured number: NaN when it was not measured, written as null in JSON.
type Num float64

// Known reports whether the number was measured.
func (n Num) Known() bool { return !math.IsNaN(float64(n)) && !math.IsInf(float64(n), 0) }

func (n Num) MarshalJSON() ([]byte, error) {
	if !n.Known() {
		return []byte("null"), nil
	}
	return json.Marshal(float64(n))
}

func (n *Num) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*n = Num(math.NaN())
		return nil
	}
	return json.Unmarshal(b, (*float64)(n))
}
