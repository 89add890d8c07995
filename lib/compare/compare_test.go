package compare

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iagen-course/iagen/lib/family"
	"github.com/iagen-course/iagen/lib/rnn"
)

// writeRun writes dir/metrics.json with the given fields plus family and profile.
func writeRun(t *testing.T, dir, name, profile string, fields map[string]any) {
	t.Helper()
	ms := map[string]any{"family": name, "profile": profile, "params": 1000, "steps": 10, "wall_seconds": 60.0,
		"train_steps_per_second": 2.0, "backend": "go", "hardware": "amd64, 2 CPUs"}
	for k, v := range fields {
		ms[k] = v
	}
	b, _ := json.Marshal(ms)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// image returns the image metrics of a family with Fréchet distance fld.
func image(fld, precision, recall, coverage float64, classes int, tv float64) map[string]any {
	return map[string]any{"fld": fld, "fld_real_baseline": 3.0, "kid": fld / 2, "precision": precision, "recall": recall,
		"density": 0.5, "coverage": coverage, "classes_covered": float64(classes), "class_tv": tv}
}

func merge(ms ...map[string]any) map[string]any {
	out := map[string]any{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// A results tree with four of the six families gives six rows: the two absent ones, and one of
// another profile, are marked missing with the reason, never dropped.
func TestFromDirReportsMissingFamilies(t *testing.T) {
	dir := t.TempDir()
	writeRun(t, filepath.Join(dir, "gan", "small"), "gan", "small", image(7, 0.7, 0.9, 0.7, 10, 0.02))
	writeRun(t, filepath.Join(dir, "vae", "small"), "vae", "small", merge(image(110, 0.8, 0.7, 0.3, 10, 0.1), map[string]any{"test_nll_nats": 91.5}))
	writeRun(t, filepath.Join(dir, "gpt"), "gpt", "small", map[string]any{"val_nats_per_char": 1.44})
	writeRun(t, filepath.Join(dir, "lstm", "small"), "lstm", "ci", map[string]any{"val_nats_per_char": 1.44})
	tab, err := FromDir(dir, "small")
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != len(Families) {
		t.Fatalf("%d rows, want one per family (%d)", len(tab.Rows), len(Families))
	}
	for i, name := range Families {
		r := tab.Rows[i]
		missing := name == "diffusion" || name == "flow" || name == "lstm"
		if r.Family != name || (r.Missing != "") != missing {
			t.Errorf("row %d: family %s, missing %q; want %s, missing %v", i, r.Family, r.Missing, name, missing)
		}
	}
	if r, _ := tab.Row("lstm"); !strings.Contains(r.Missing, `"ci"`) {
		t.Errorf("lstm of another profile: missing %q, want the profile named", r.Missing)
	}
	if r, _ := tab.Row("vae"); r.LikelihoodKind != Bound || r.Likelihood != 91.5 || r.Pass == nil || !*r.Pass {
		t.Errorf("vae row %+v: want a bound of 91.5 nats that meets ≤ 95", r)
	}
	if r, _ := tab.Row("gan"); r.LikelihoodKind != None || r.Likelihood.Known() || r.Image == nil || r.Image.FLD != 7 {
		t.Errorf("gan row %+v: want no likelihood and Fréchet 7", r)
	}
	md := tab.Markdown()
	for _, name := range Families {
		if !strings.Contains(md, "| "+name+" |") {
			t.Errorf("table.md has no row for %s", name)
		}
	}
	if !strings.Contains(md, "falta:") || !strings.Contains(md, "real contra real") {
		t.Errorf("table.md lacks the missing families or the real-vs-real row:\n%s", md)
	}
	if _, err := FromDir(filepath.Join(dir, "nowhere"), "small"); err == nil {
		t.Error("a folder that does not exist was accepted")
	}
}

// The targets of BENCH.md, at their boundaries; ci runs have none.
func TestTargets(t *testing.T) {
	for _, c := range []struct {
		name   string
		fields map[string]any
		pass   bool
	}{
		{"flow", map[string]any{"test_bits_per_dim": 1.15}, true},
		{"flow", map[string]any{"test_bits_per_dim": 1.16}, false},
		{"gpt", map[string]any{"val_nats_per_char": 1.61}, false},
		{"gan", image(9, 0.7, 0.9, 0.7, 10, 0.05), true},
		{"gan", image(9.1, 0.7, 0.9, 0.7, 10, 0.05), false},
		{"diffusion", image(5, 0.7, 0.9, 0.7, 9, 0.01), false},
		{"diffusion", image(5, 0.7, 0.9, 0.7, 10, 0.051), false},
	} {
		r := Row{Family: c.name, Profile: "small"}
		fill(&r, merge(map[string]any{"family": c.name}, c.fields))
		if r.Pass == nil || *r.Pass != c.pass {
			t.Errorf("%s %v: pass %v, want %v", c.name, c.fields, r.Pass, c.pass)
		}
	}
	r := Row{Family: "flow", Profile: "ci"}
	fill(&r, map[string]any{"test_bits_per_dim": 1.0})
	if r.Pass != nil {
		t.Errorf("a ci run was judged against the small target: %v", *r.Pass)
	}
	r = Row{Family: "flow", Profile: "small"}
	fill(&r, map[string]any{})
	if r.Pass != nil {
		t.Error("a flow without bits/dim was judged")
	}
}

// table builds a table from rows given as metrics by family (profile small).
func table(t *testing.T, runs map[string]map[string]any) Table {
	t.Helper()
	tab := Table{Profile: "small"}
	for _, name := range Families {
		r := Row{Family: name, Profile: "small"}
		if ms, ok := runs[name]; ok {
			fill(&r, ms)
		} else {
			r.Missing = "not run"
		}
		tab.Rows = append(tab.Rows, r)
	}
	tab.Claims = Claims(tab)
	return tab
}

func verdict(t *testing.T, tab Table, family, claimPrefix string) Claim {
	t.Helper()
	for _, c := range tab.Claims {
		if c.Family == family && strings.HasPrefix(c.Claim, claimPrefix) {
			return c
		}
	}
	t.Fatalf("no claim %q for %s", claimPrefix, family)
	return Claim{}
}

// The verdicts on the image families' claims follow the scores they are given.
func TestImageVerdicts(t *testing.T) {
	passing := image(7, 0.7, 0.9, 0.7, 10, 0.02)
	runs := map[string]map[string]any{
		"gan":       merge(passing, map[string]any{"eval_samples": 1000.0, "sample_seconds": 0.5}),
		"vae":       merge(image(100, 0.8, 0.95, 0.8, 10, 0.1), map[string]any{"test_nll_nats": 90.0}),
		"diffusion": merge(image(40, 0.6, 0.9, 0.4, 10, 0.06), map[string]any{"eval_samples": 1000.0, "sample_seconds": 500.0}),
	}
	tab := table(t, runs)
	if c := verdict(t, tab, "gan", "las imágenes"); c.Verdict != Caveat || !strings.Contains(c.Evidence, "diffusion") {
		t.Errorf("GAN best while diffusion missed its target: %+v, want a caveat naming diffusion", c)
	}
	if c := verdict(t, tab, "vae", "muestras más variadas"); c.Verdict != Holds {
		t.Errorf("VAE with higher recall and coverage: %+v", c)
	}
	if c := verdict(t, tab, "vae", "menor calidad"); c.Verdict != Holds {
		t.Errorf("VAE with a larger Fréchet distance: %+v", c)
	}
	if c := verdict(t, tab, "diffusion", "la mayor"); c.Verdict != DoesNotHold {
		t.Errorf("diffusion with the GAN's Fréchet distance lower: %+v", c)
	}
	if c := verdict(t, tab, "diffusion", "generación lenta"); c.Verdict != Holds {
		t.Errorf("diffusion at 2 images/s against the GAN's 2000: %+v", c)
	}
	if c := verdict(t, tab, "gan", "entrenamiento inestable"); c.Verdict != Unmeasured {
		t.Errorf("no toy GAN measured: %+v", c)
	}

	runs["diffusion"] = merge(image(5, 0.8, 0.9, 0.8, 10, 0.01), map[string]any{"eval_samples": 1000.0, "sample_seconds": 0.4})
	tab = table(t, runs)
	if c := verdict(t, tab, "diffusion", "la mayor"); c.Verdict != Holds {
		t.Errorf("diffusion best and every family on target: %+v", c)
	}
	if c := verdict(t, tab, "diffusion", "generación lenta"); c.Verdict != DoesNotHold {
		t.Errorf("diffusion sampling faster than the GAN: %+v", c)
	}
	if c := verdict(t, tab, "gan", "las imágenes"); c.Verdict != DoesNotHold {
		t.Errorf("GAN no longer best: %+v", c)
	}
	runs["vae"] = image(100, 0.8, 0.95, 0.3, 10, 0.1)
	if c := verdict(t, table(t, runs), "vae", "muestras más variadas"); c.Verdict != Caveat {
		t.Errorf("VAE with higher recall only: %+v", c)
	}
}

// The toy GAN's modes over seeds decide the instability claim.
func TestInstabilityVerdict(t *testing.T) {
	for _, c := range []struct {
		covered []int
		want    Verdict
	}{{[]int{8, 5, 8}, Holds}, {[]int{6, 6, 6}, Caveat}, {[]int{8, 8, 8}, DoesNotHold}, {[]int{7}, Unmeasured}} {
		tab := table(t, nil)
		var ev Evidence
		for i, k := range c.covered {
			ev.ToyGAN = append(ev.ToyGAN, ToySeed{Dataset: "ring8", Seed: int64(i), Modes: 8, Covered: k})
		}
		tab.UseMeasurements(ev)
		if got := verdict(t, tab, "gan", "entrenamiento inestable"); got.Verdict != c.want {
			t.Errorf("modes covered %v: %+v, want %s", c.covered, got, c.want)
		}
	}
}

// The recall task decides the memory claims of the Transformer and the LSTM; the training times
// the efficiency claims.
func TestSequenceVerdicts(t *testing.T) {
	text := func(loss, seconds float64) map[string]any {
		return map[string]any{"val_nats_per_char": loss, "wall_seconds": seconds}
	}
	tab := table(t, map[string]map[string]any{"gpt": text(1.44, 1300), "lstm": text(1.44, 400)})
	recall := func(lstm ...float64) Evidence {
		ev := Evidence{RecallSymbols: 8}
		for i, d := range []int{5, 15, 30} {
			ev.Recall = append(ev.Recall, rnn.RecallResult{Model: "lstm", Delay: d, Accuracy: lstm[i]},
				rnn.RecallResult{Model: rnn.Transformer, Delay: d, Accuracy: 1})
		}
		return ev
	}
	tab.UseMeasurements(recall(1, 0.6, 0.2))
	if c := verdict(t, tab, "lstm", "problemas"); c.Verdict != Holds || !strings.Contains(c.Evidence, "1/8") {
		t.Errorf("LSTM falling from 1 to 0.2 with the delay: %+v", c)
	}
	if c := verdict(t, tab, "gpt", "captan"); c.Verdict != Holds {
		t.Errorf("Transformer at 1 where the LSTM is at 0.2: %+v", c)
	}
	tab.UseMeasurements(recall(1, 1, 0.98))
	if c := verdict(t, tab, "lstm", "problemas"); c.Verdict != DoesNotHold {
		t.Errorf("LSTM recalling at every delay: %+v", c)
	}
	if c := verdict(t, tab, "gpt", "captan"); c.Verdict != Caveat {
		t.Errorf("both recall: %+v", c)
	}
	if c := verdict(t, tab, "lstm", "menos eficientes"); c.Verdict != DoesNotHold {
		t.Errorf("LSTM at GPT's loss in a third of the time: %+v", c)
	}
	if c := verdict(t, tab, "gpt", "necesitan"); c.Verdict != Caveat {
		t.Errorf("GPT taking longer for the same loss: %+v", c)
	}
	tab = table(t, map[string]map[string]any{"gpt": text(1.3, 1000), "lstm": text(1.5, 1200)})
	if c := verdict(t, tab, "lstm", "menos eficientes"); c.Verdict != Holds {
		t.Errorf("LSTM worse and slower: %+v", c)
	}
	if c := verdict(t, tab, "lstm", "buenas"); c.Verdict != DoesNotHold {
		t.Errorf("LSTM 15 %% worse than GPT: %+v", c)
	}
}

// The appetite runs decide the data half of "need much data and compute": GPT's validation loss
// rising more than the LSTM's when the corpus shrinks to 10 %.
func TestDataAppetiteVerdict(t *testing.T) {
	text := func(loss, seconds float64) map[string]any {
		return map[string]any{"val_nats_per_char": loss, "wall_seconds": seconds}
	}
	appetite := func(gpt10, gpt30, lstm10, lstm30 float64) Evidence {
		return Evidence{Appetite: []AppetiteRun{{Family: "gpt", Fraction: 0.1, ValNats: gpt10, BestValNats: gpt10 - 0.3},
			{Family: "gpt", Fraction: 0.3, ValNats: gpt30, BestValNats: gpt30}, {Family: "lstm", Fraction: 0.1, ValNats: lstm10, BestValNats: lstm10},
			{Family: "lstm", Fraction: 0.3, ValNats: lstm30, BestValNats: lstm30}}}
	}
	slowGPT := table(t, map[string]map[string]any{"gpt": text(1.44, 1300), "lstm": text(1.44, 400)})
	slowGPT.UseMeasurements(appetite(2.2, 1.7, 1.7, 1.55))
	if c := verdict(t, slowGPT, "gpt", "necesitan"); c.Verdict != Holds || !strings.Contains(c.Evidence, "sube 0.760 en GPT y 0.260 en la LSTM") ||
		!strings.Contains(c.Evidence, "GPT 2.200 (mejor 1.900: memoriza) / 1.700 / 1.440") {
		t.Errorf("GPT slower and hurt more by less data: %+v", c)
	}
	slowGPT.UseMeasurements(appetite(1.7, 1.55, 2.2, 1.7))
	if c := verdict(t, slowGPT, "gpt", "necesitan"); c.Verdict != Caveat {
		t.Errorf("GPT slower, the LSTM hurt more by less data: %+v", c)
	}
	fastGPT := table(t, map[string]map[string]any{"gpt": text(1.3, 300), "lstm": text(1.44, 400)})
	fastGPT.UseMeasurements(appetite(1.7, 1.55, 2.2, 1.7))
	if c := verdict(t, fastGPT, "gpt", "necesitan"); c.Verdict != DoesNotHold {
		t.Errorf("GPT faster and hurt less by less data: %+v", c)
	}
	fastGPT.UseMeasurements(Evidence{Appetite: appetite(1.7, 1.55, 2.2, 1.7).Appetite[:3]}) // the LSTM's 30 % run is missing
	if c := verdict(t, fastGPT, "gpt", "necesitan"); c.Verdict != DoesNotHold || !strings.Contains(c.Evidence, "no está medido") {
		t.Errorf("an appetite run missing: %+v", c)
	}
}

// Appetite reads a finished run of the same profile and fraction instead of training it again;
// its best validation loss is the lowest one logged along the way.
func TestAppetiteReusesFinishedRuns(t *testing.T) {
	runs := t.TempDir()
	for _, name := range []string{"gpt", "lstm"} {
		for _, f := range AppetiteFractions {
			dir := filepath.Join(runs, fmt.Sprintf("%s-%.0f", name, 100*f))
			writeRun(t, dir, name, "small", map[string]any{"val_nats_per_char": 2 - f, "train_loss": 1.0})
			man, _ := json.Marshal(map[string]any{"family": name, "profile": "small", "config": map[string]any{"train_fraction": f}})
			logs := `{"step":0,"values":{"val_nats_per_char":4}}` + "\n" + `{"step":5,"values":{"val_nats_per_char":1.5}}` + "\n"
			if os.WriteFile(filepath.Join(dir, "manifest.json"), man, 0o644) != nil || os.WriteFile(filepath.Join(dir, "log.jsonl"), []byte(logs), 0o644) != nil {
				t.Fatal("writing the run folder")
			}
		}
	}
	got, err := Appetite(context.Background(), family.Options{Profile: "small"}, runs) // no backend: training would fail
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 4 || got[1].Family != "gpt" || got[1].Fraction != 0.3 || got[1].ValNats != 1.7 || got[1].BestValNats != 1.5 || got[1].Steps != 10 {
		t.Errorf("appetite runs read back: %+v", got)
	}
	if _, err := Appetite(context.Background(), family.Options{Profile: "ci"}, runs); err == nil {
		t.Error("runs of another profile were reused")
	}
}

// table.json keeps unmeasured numbers as null and reads them back as unknown.
func TestJSONRoundTrip(t *testing.T) {
	tab := table(t, map[string]map[string]any{"gan": image(7, 0.7, 0.9, 0.7, 10, 0.02), "flow": {"test_bits_per_dim": 1.1}})
	path := filepath.Join(t.TempDir(), "table.json")
	if err := tab.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if !strings.Contains(string(raw), `"likelihood": null`) {
		t.Errorf("the GAN's missing likelihood is not null in:\n%.600s", raw)
	}
	back, err := ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	g, _ := back.Row("gan")
	f, _ := back.Row("flow")
	if g.Likelihood.Known() || g.Image.FLD != 7 || f.Likelihood != 1.1 || f.Pass == nil || !*f.Pass || len(back.Claims) != len(tab.Claims) {
		t.Errorf("read back: gan %+v, flow %+v", g, f)
	}
	if math.IsNaN(float64(f.Likelihood)) {
		t.Error("a measured number came back unknown")
	}
}
