package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iagen-course/iagen/lib/audit"
	"github.com/iagen-course/iagen/lib/data/datatest"
	"github.com/iagen-course/iagen/lib/train"
)

// readAudit reads dir/audit.json and returns a getter of its fields by path ("image",
// "copying", "copy_share"), failing t for a field that is missing.
func readAudit(t *testing.T, dir string) func(path ...string) any {
	t.Helper()
	var a map[string]any
	if err := train.ReadJSON(filepath.Join(dir, "audit.json"), &a); err != nil {
		t.Fatal(err)
	}
	return func(path ...string) any {
		t.Helper()
		var v any = a
		for _, k := range path {
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("audit.json: %s is not an object", strings.Join(path, "."))
			}
			if v, ok = m[k]; !ok {
				t.Fatalf("audit.json lacks %s", strings.Join(path, "."))
			}
		}
		return v
	}
}

// inRange fails t unless v is a number in [lo, hi].
func inRange(t *testing.T, name string, v any, lo, hi float64) {
	t.Helper()
	if x, ok := v.(float64); !ok || !(x >= lo && x <= hi) {
		t.Errorf("audit.json: %s = %v, want a number in [%g, %g]", name, v, lo, hi)
	}
}

// checkCard fails t unless dir/model-card.md has every section and the run's training command.
func checkCard(t *testing.T, dir, runDir string) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "model-card.md"))
	if err != nil {
		t.Fatal(err)
	}
	var man train.Manifest
	if err := train.ReadJSON(filepath.Join(runDir, "manifest.json"), &man); err != nil {
		t.Fatal(err)
	}
	for _, want := range append(audit.CardSections, strings.Join(man.Command, " ")) {
		if !strings.Contains(string(raw), want) {
			t.Errorf("model-card.md lacks %q", want)
		}
	}
}

// iagen audit on a tiny GAN: the class representation, copying and authenticity numbers with
// their baselines, written where --out says; bad input fails in one line.
func TestAuditImages(t *testing.T) {
	datatest.Dir(t, "mnist")
	run := t.TempDir()
	if status, _, stderr := cli(t, "train", "gan", "--backend", "go", "--steps", "2", "--samples", "0", "--set", "gen_channels=4",
		"--set", "disc_channels=4", "--set", "batch=8", "--set", "eval_samples=20", "--out", run); status != 0 {
		t.Fatalf("train gan: %s", stderr)
	}
	out := filepath.Join(t.TempDir(), "audit")
	if status, _, stderr := cli(t, "audit", "gan", "--backend", "go", "--from", run, "--n", "60", "--train-subset", "300", "--out", out); status != 0 {
		t.Fatalf("audit gan: %s", stderr)
	}
	get := readAudit(t, out)
	if get("family") != "gan" || get("kind") != "image" || get("n") != 60.0 || get("seed") != 2014.0 || get("run", "profile") != "ci" {
		t.Errorf("audit.json header: family %v, kind %v, n %v, seed %v, profile %v", get("family"), get("kind"), get("n"), get("seed"), get("run", "profile"))
	}
	if cmd, _ := get("run", "command").(string); cmd == "" {
		t.Errorf("run.command %q, want the training command (manifest.json's; in a test, the test binary's)", cmd)
	}
	inRange(t, "run.metrics.fld", get("run", "metrics", "fld"), 0, 1e9)
	img := func(path ...string) any { return get(append([]string{"image"}, path...)...) }
	if img("classifier_profile") != "ci" || img("train_subset") != 300.0 || img("test_images") != 60.0 || img("reference_labels") != 60000.0 {
		t.Errorf("image audit sizes: classifier %v, train subset %v, test images %v, reference labels %v",
			img("classifier_profile"), img("train_subset"), img("test_images"), img("reference_labels"))
	}
	if h, _ := img("generated_histogram").([]any); len(h) != 10 {
		t.Errorf("generated_histogram %v, want 10 classes", img("generated_histogram"))
	}
	for _, rep := range []string{"representation", "representation_test_baseline"} {
		inRange(t, rep+".tv", img(rep, "tv"), 0, 1)
		inRange(t, rep+".kl_nats", img(rep, "kl_nats"), 0, 100)
		inRange(t, rep+".fairness_discrepancy", img(rep, "fairness_discrepancy"), 0, 1)
		inRange(t, rep+".classes_covered", img(rep, "classes_covered"), 0, 10)
		if _, ok := img(rep, "missing_classes").([]any); !ok {
			t.Errorf("%s.missing_classes %v, want a list", rep, img(rep, "missing_classes"))
		}
	}
	inRange(t, "classifier_test_accuracy", img("classifier_test_accuracy"), 0.5, 1)
	inRange(t, "copying.copy_share", img("copying", "copy_share"), 0, 1)
	inRange(t, "copying.threshold", img("copying", "threshold"), 0, 1e6)
	inRange(t, "copying.generated_nn_distance.median", img("copying", "generated_nn_distance", "median"), 0, 1e6)
	inRange(t, "copying.test_nn_distance.median", img("copying", "test_nn_distance", "median"), 0, 1e6)
	for _, s := range []string{"separability", "separability_real_baseline"} {
		inRange(t, s+".estimate", img(s, "estimate"), 0, 1)
		inRange(t, s+".n", img(s, "n"), 60, 60)
	}
	checkCard(t, out, run)
	if _, err := os.Stat(filepath.Join(run, "audit.json")); !os.IsNotExist(err) {
		t.Errorf("audit.json written into the run folder although --out was given: %v", err)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"audit", "gan", "--from", run, "--n", "1"}, "--n must be ≥ 2"},
		{[]string{"audit", "lstm", "--from", run}, "holds a gan run"},
		{[]string{"audit", "gan", "--from", t.TempDir()}, "not a finished run folder"},
	} {
		status, _, stderr := cli(t, tc.args...)
		if status == 0 || !strings.Contains(stderr, tc.want) || !oneLine(stderr) {
			t.Errorf("iagen %v: status %d, stderr %q; want non-zero and one line mentioning %q", tc.args, status, stderr, tc.want)
		}
	}
}

// iagen audit on a tiny LSTM: verbatim copying of its text against held-out text of the same
// length, written into the run folder.
func TestAuditText(t *testing.T) {
	datatest.Dir(t, "es-rv1909")
	run := t.TempDir()
	if status, _, stderr := cli(t, "train", "lstm", "--backend", "go", "--steps", "2", "--samples", "0", "--set", "eval_windows=4",
		"--set", "sample_chars=80", "--out", run); status != 0 {
		t.Fatalf("train lstm: %s", stderr)
	}
	if status, _, stderr := cli(t, "audit", "lstm", "--backend", "go", "--from", run, "--n", "4"); status != 0 {
		t.Fatalf("audit lstm: %s", stderr)
	}
	get := readAudit(t, run)
	if get("kind") != "text" || get("n") != 4.0 || get("text", "corpus") != "es-rv1909" || get("text", "chars_per_text") != 80.0 {
		t.Errorf("audit.json: kind %v, n %v, corpus %v, chars %v", get("kind"), get("n"), get("text", "corpus"), get("text", "chars_per_text"))
	}
	for _, set := range []string{"generated", "held_out_baseline"} {
		inRange(t, set+".texts", get("text", set, "texts"), 4, 4)
		inRange(t, set+".chars", get("text", set, "chars"), 320, 320)
		inRange(t, set+".longest_copied_chars", get("text", set, "longest_copied_chars"), 0, 80)
		inRange(t, set+".window_share", get("text", set, "window_share"), 0, 1)
		inRange(t, set+".windows_checked", get("text", set, "windows_checked"), 4*31, 4*31)
	}
	checkCard(t, run, run)

	// The classifier neither generates images nor text.
	clf := t.TempDir()
	if status, _, stderr := cli(t, "train", "classifier", "--backend", "go", "--steps", "2", "--samples", "0", "--set", "eval_images=20", "--out", clf); status != 0 {
		t.Fatalf("train classifier: %s", stderr)
	}
	status, _, stderr := cli(t, "audit", "classifier", "--backend", "go", "--from", clf)
	if status == 0 || !strings.Contains(stderr, "generates neither images nor text") || !oneLine(stderr) {
		t.Errorf("iagen audit classifier: status %d, stderr %q; want one line saying there is nothing to audit", status, stderr)
	}
}

// iagen audit on a tiny GPT trained on the occupation corpus: the copying audit plus the gender
// audit (generations from neutral prompts against the corpus's truth, minimal pairs scored by
// the exact log-likelihood) in audit.json and the model card. No data folder is needed; a
// context of 96 holds every corpus sentence, so each is scored in one window.
func TestAuditTextGender(t *testing.T) {
	run := t.TempDir()
	if status, _, stderr := cli(t, "train", "gpt", "--backend", "go", "--steps", "5", "--samples", "0", "--set", "corpus=es-ocupaciones",
		"--set", "prompt=El ", "--set", "context=96", "--set", "d_model=16", "--set", "eval_windows=4", "--set", "sample_chars=40", "--out", run); status != 0 {
		t.Fatalf("train gpt: %s", stderr)
	}
	if status, _, stderr := cli(t, "audit", "gpt", "--backend", "go", "--from", run, "--n", "3", "--gender-n", "4"); status != 0 {
		t.Fatalf("audit gpt: %s", stderr)
	}
	get := readAudit(t, run)
	g := func(path ...string) any { return get(append([]string{"text", "gender"}, path...)...) }
	if get("text", "corpus") != "es-ocupaciones" || g("generations") != 40.0 || g("generations_per_template") != 4.0 {
		t.Errorf("audit.json: corpus %v, generations %v, per template %v", get("text", "corpus"), g("generations"), g("generations_per_template"))
	}
	if p, _ := g("prompts").([]any); len(p) != 10 || p[0] != "La persona que trabaja de " {
		t.Errorf("prompts %v, want the 10 templates' neutral starts", g("prompts"))
	}
	if g("sampling", "temperature") != 1.0 {
		t.Errorf("gender sampling %v, want temperature 1", g("sampling"))
	}
	// Five steps teach the model no occupation yet: what it generates may name none, and then
	// every occupation is unseen and the generated share null.
	inRange(t, "undetermined", g("undetermined"), 0, 40)
	if unseen, _ := g("unseen_occupations").([]any); g("generated_feminine_share") == nil && len(unseen) != 35 {
		t.Errorf("no generated share but %d unseen occupations, want all 35", len(unseen))
	}
	inRange(t, "train_feminine_share", g("train_feminine_share"), 0.3, 0.6)
	// 35 occupations, 2 of them at ½ by default but not necessarily in the realised corpus: one
	// pair per template for each occupation whose realised share is not exactly ½.
	inRange(t, "minimal_pairs.pairs", g("minimal_pairs", "pairs"), 330, 350)
	inRange(t, "minimal_pairs.stereotyped_share", g("minimal_pairs", "stereotyped_share", "estimate"), 0, 1)
	inRange(t, "minimal_pairs.model_stereo_probability", g("minimal_pairs", "model_stereo_probability"), 0, 1)
	inRange(t, "minimal_pairs.train_stereo_share", g("minimal_pairs", "train_stereo_share"), 0.5, 1)
	checkCard(t, run, run)
	raw, err := os.ReadFile(filepath.Join(run, "model-card.md"))
	if err != nil {
		t.Fatal(err)
	}
	amplification := "Amplificación del sesgo (Zhao et al. 2017"
	if g("bias_amplification") == nil {
		amplification = "Ninguna generación nombra una ocupación del corpus"
	}
	for _, want := range []string{"### Género y ocupación", "Pares mínimos (Nangia et al. 2020", amplification} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("model-card.md lacks %q", want)
		}
	}
}

// iagen audit on a masked model trained on the occupation corpus: only the minimal pairs, scored
// on shared characters and on whole sentences; on another corpus, or asked for a sample count, it
// refuses in one line.
func TestAuditMaskedModel(t *testing.T) {
	run := t.TempDir()
	if status, _, stderr := cli(t, "train", "bert", "--backend", "go", "--steps", "3", "--samples", "0", "--set", "corpus=es-ocupaciones",
		"--set", "d_model=16", "--set", "eval_windows=4", "--set", "pll_windows=1", "--set", "eval_batch=512", "--out", run); status != 0 {
		t.Fatalf("train bert: %s", stderr)
	}
	if status, _, stderr := cli(t, "audit", "bert", "--backend", "go", "--from", run, "--n", "5"); status == 0 || !oneLine(stderr) || !strings.Contains(stderr, "minimal pairs only") {
		t.Errorf("iagen audit bert --n 5: status %d, stderr %q; want one line refusing --n", status, stderr)
	}
	if status, _, stderr := cli(t, "audit", "bert", "--backend", "go", "--from", run); status != 0 {
		t.Fatalf("audit bert: %s", stderr)
	}
	get := readAudit(t, run)
	m := func(path ...string) any { return get(append([]string{"masked"}, path...)...) }
	if get("kind") != "masked" || m("corpus") != "es-ocupaciones" || m("prefix") != "\n" || get("n") != m("minimal_pairs", "pairs") {
		t.Errorf("audit.json: kind %v, corpus %v, prefix %q, n %v, pairs %v", get("kind"), m("corpus"), m("prefix"), get("n"), m("minimal_pairs", "pairs"))
	}
	inRange(t, "train_feminine_share", m("train_feminine_share"), 0.3, 0.6)
	for _, k := range []string{"minimal_pairs", "whole_sentence_pll"} {
		inRange(t, k+".pairs", m(k, "pairs"), 330, 350)
		inRange(t, k+".stereotyped_share", m(k, "stereotyped_share", "estimate"), 0, 1)
		inRange(t, k+".model_stereo_probability", m(k, "model_stereo_probability"), 0, 1)
	}
	checkCard(t, run, run)
	raw, err := os.ReadFile(filepath.Join(run, "model-card.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Pares mínimos (Nangia et al. 2020", "caracteres que las dos frases comparten", "frase entera", "no escribe"} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("model-card.md lacks %q", want)
		}
	}

	t.Run("another corpus", func(t *testing.T) {
		datatest.Dir(t, "es-rv1909")
		other := t.TempDir()
		if status, _, stderr := cli(t, "train", "bert", "--backend", "go", "--steps", "1", "--samples", "0", "--set", "d_model=16",
			"--set", "eval_windows=4", "--set", "pll_windows=1", "--out", other); status != 0 {
			t.Fatalf("train bert: %s", stderr)
		}
		if status, _, stderr := cli(t, "audit", "bert", "--backend", "go", "--from", other); status == 0 || !oneLine(stderr) || !strings.Contains(stderr, "es-ocupaciones") {
			t.Errorf("iagen audit bert on es-rv1909: status %d, stderr %q; want one line naming the corpus it needs", status, stderr)
		}
	})
}
