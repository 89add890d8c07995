package notebook

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iagen-course/iagen/lib/classifier" // registers "classifier"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/family"
)

// writeFiles writes name → content files into dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPublishedHTML(t *testing.T) {
	dir := t.TempDir()
	svg := `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><text>nats</text></svg>`
	writeFiles(t, dir, map[string]string{
		"metrics.json": `{"family": "gpt", "profile": "small", "val_nats_per_char": 1.43712, "steps": 3000,
			"wall_seconds": 612.345, "backend": "xla:/somewhere/lib/pjrt_c_api_cpu_plugin.so", "train_loss": 1.2}`,
		"manifest.json": `{"family": "gpt", "profile": "small", "seed": 42, "steps": 3000,
			"command": ["bin/iagen", "train", "gpt", "--profile", "small", "--out", "runs/gpt"]}`,
		"samples.txt": "Y dijo Dios: <sea> la luz\n",
		"loss.svg":    svg,
	})
	h, err := publishedHTML("gpt", "small", dir)
	if err != nil {
		t.Fatal(err)
	}
	curve := "data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString([]byte(svg))
	for _, want := range []string{
		"1.437", "val_nats_per_char", "3000", "612.3", // headline metrics, formatted
		"xla:pjrt_c_api_cpu_plugin.so",                       // the backend without the plugin's folder
		"bin/iagen train gpt --profile small --out runs/gpt", // the command that produced them
		"Y dijo Dios: &lt;sea&gt; la luz",                    // the samples, escaped
		curve, "perfil <code>small</code>", "results/gpt/small",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("the HTML lacks %q:\n%s", want, h)
		}
	}
	if strings.Contains(h, "train_loss") {
		t.Errorf("a field that is not a headline metric is shown:\n%s", h)
	}
}

func TestPublishedHTMLNotYetPublished(t *testing.T) {
	h, err := publishedHTML("gan", "small", filepath.Join(t.TempDir(), "results", "gan", "small"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"aún no publicado", "iagen train gan --profile small --out runs/gan", "iagen publish gan --from runs/gan"} {
		if !strings.Contains(h, want) {
			t.Errorf("the note lacks %q: %s", want, h)
		}
	}
}

func TestPublishedHTMLBrokenMetrics(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"metrics.json": "{not json"})
	if _, err := publishedHTML("gan", "small", dir); err == nil {
		t.Error("a damaged metrics.json must be an error, not a note")
	}
}

func TestFormatValue(t *testing.T) {
	for v, want := range map[any]string{4000.0: "4000", 0.99137: "0.9914", 207.607: "207.6", 0.0253266: "0.02533",
		"go": "go", "xla:cuda,preallocate=false": "xla:cuda,preallocate=false", true: "true"} {
		if got := formatValue(v); got != want {
			t.Errorf("formatValue(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestOverrides(t *testing.T) {
	for _, o := range []Option{Overrides(map[string]any{"steps": 20}), Overrides(`{"steps": 20}`),
		Overrides(struct {
			Steps int `json:"steps"`
		}{20})} {
		s, err := newSettings("x", []Option{o})
		if err != nil || string(s.overrides) != `{"steps": 20}` && string(s.overrides) != `{"steps":20}` {
			t.Errorf("overrides %s, %v: want steps 20", s.overrides, err)
		}
	}
	if _, err := newSettings("x", []Option{Overrides(func() {})}); err == nil {
		t.Error("overrides that are not JSON must be an error")
	}
}

// Train and Load round trip: the run Load rebuilds has the steps and the configuration it was
// trained with, not the bare profile's; training again only resumes it.
func TestTrainThenLoad(t *testing.T) {
	if _, err := data.LoadMNIST(data.Dir(""), data.Test); err != nil {
		t.Skipf("MNIST not available (%v): run `iagen data fetch mnist`", err)
	}
	t.Setenv(family.RunsEnvVar, t.TempDir())
	t.Setenv(family.ProfileEnvVar, "ci")
	if _, err := loadRun("classifier", settings{run: "classifier"}); err == nil ||
		!strings.Contains(err.Error(), "ejecuta antes la celda que lo entrena") {
		t.Errorf("loading before training: %v", err)
	}
	s, err := newSettings("classifier", []Option{Overrides(map[string]any{"steps": 20, "eval_images": 200}), Quiet()})
	if err != nil {
		t.Fatal(err)
	}
	trained, err := trainRun("classifier", s)
	if err != nil {
		t.Fatal(err)
	}
	if trained.Step != 20 || trained.Dir != family.RunDir("classifier", "ci") {
		t.Errorf("trained %d steps into %s", trained.Step, trained.Dir)
	}
	if n := len(trained.Result.History); n < 10 {
		t.Errorf("log.jsonl has %d records, want about one every 1%% of the run", n)
	}
	loaded, err := loadRun("classifier", settings{run: "classifier"})
	if err != nil {
		t.Fatal(err)
	}
	want := trained.Model.(*classifier.Model).Config
	if got := loaded.Model.(*classifier.Model).Config; loaded.Step != 20 || got != want {
		t.Errorf("loaded step %d with %+v; want step 20 with %+v", loaded.Step, got, want)
	}
	man, err := family.ReadManifest(loaded.Dir)
	if err != nil || len(man.Datasets) == 0 || man.Profile != "ci" {
		t.Errorf("manifest %+v, %v: want the ci profile and the datasets' SHA-256", man, err)
	}
	if _, err := curves(loaded, "exactitud", []string{"accuracy", "test_accuracy"}); err != nil {
		t.Errorf("curves of a loaded run: %v", err)
	}

	// The same cell run again resumes the finished run: no step is trained twice.
	s.overrides = nil
	again, err := trainRun("classifier", s)
	if err != nil {
		t.Fatal(err)
	}
	if again.Result.StartStep != 20 || again.Step != 20 {
		t.Errorf("running the cell again trained from step %d to %d, want 20 to 20", again.Result.StartStep, again.Step)
	}
	if line := summary("classifier", again); !strings.Contains(line, "ya estaba entrenado") {
		t.Errorf("summary of a resumed finished run: %q", line)
	}
	var saved map[string]any
	raw, _ := json.Marshal(again.Manifest.Config)
	_ = json.Unmarshal(raw, &saved)
	if saved["eval_images"] != 200.0 {
		t.Errorf("the resumed run forgot its configuration: %v", saved)
	}
}
