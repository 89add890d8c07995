package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/train"
)

// TestMain lets the tests run this binary as the iagen command (IAGEN_TEST_AS_CLI=1), so a
// real process can be killed mid-run.
func TestMain(m *testing.M) {
	if os.Getenv("IAGEN_TEST_AS_CLI") == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

func cli(t *testing.T, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	status = run(args, &o, &e)
	return status, o.String(), e.String()
}

func TestCommandErrorsAreOneLineAndNonZero(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"train", "nosuchfamily", "--out", t.TempDir()}, "unknown family"},
		{[]string{"train", "classifier", "--profile", "huge", "--out", t.TempDir()}, "unknown profile"},
		{[]string{"train", "classifier"}, "--out DIR is required"},
		{[]string{"version", "--backend", "xla:nonexistent"}, `no PJRT plugin "nonexistent"`},
		{[]string{"eval", "classifier", "--from", t.TempDir()}, "not a finished run folder"},
		{[]string{"data", "verify", "mnist", "--data-dir", t.TempDir()}, "mnist"},
	} {
		status, _, stderr := cli(t, tc.args...)
		if status == 0 || !strings.Contains(stderr, tc.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 1 {
			t.Errorf("iagen %v: status %d, stderr %q; want non-zero and one line mentioning %q", tc.args, status, stderr, tc.want)
		}
	}
}

// Killing a training process (SIGKILL, no chance to clean up) and resuming it must end with the
// same metrics as a run that was never interrupted.
func TestKilledRunResumesToSameMetrics(t *testing.T) {
	if _, err := data.LoadMNIST(data.Dir(""), data.Train); err != nil {
		t.Skipf("MNIST not available (%v): run `iagen data fetch mnist`", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	args := func(out string, extra ...string) *exec.Cmd {
		c := exec.Command(self, append([]string{"train", "classifier", "--profile", "ci", "--steps", "600",
			"--checkpoint-every", "25", "--samples", "0", "--out", out}, extra...)...)
		c.Env = append(os.Environ(), "IAGEN_TEST_AS_CLI=1")
		return c
	}
	full, cut := filepath.Join(t.TempDir(), "full"), filepath.Join(t.TempDir(), "cut")
	if out, err := args(full).CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}

	c := args(cut)
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		cks, _ := train.ListCheckpoints(filepath.Join(cut, "checkpoint"))
		if len(cks) > 0 && cks[len(cks)-1].Step >= 100 {
			break
		}
		if time.Now().After(deadline) {
			c.Process.Kill()
			t.Fatal("no checkpoint at step 100 after 2 minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = c.Process.Signal(syscall.SIGKILL)
	_ = c.Wait()
	if _, err := os.Stat(filepath.Join(cut, "metrics.json")); err == nil {
		t.Skip("the run finished before it could be killed")
	}
	if out, err := args(cut, "--resume").CombinedOutput(); err != nil {
		t.Fatalf("resumed run: %v\n%s", err, out)
	}

	read := func(dir string) map[string]any {
		raw, err := os.ReadFile(filepath.Join(dir, "metrics.json"))
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]any{}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	a, b := read(full), read(cut)
	for _, k := range []string{"test_accuracy", "test_nll_nats", "train_loss", "steps"} {
		x, y := a[k].(float64), b[k].(float64)
		if d := x - y; d > 1e-5*max(1, x) || d < -1e-5*max(1, x) {
			t.Errorf("%s: %v uninterrupted, %v after kill and resume", k, x, y)
		}
	}
	var man train.Manifest
	raw, _ := os.ReadFile(filepath.Join(cut, "manifest.json"))
	if err := json.Unmarshal(raw, &man); err != nil || man.ResumedFrom < 100 {
		t.Errorf("manifest should record the resume point: %+v (%v)", man.ResumedFrom, err)
	}
}

// A configuration field changed with --set (here the width of the hidden layer, which changes
// the checkpoint's shapes) is recorded in the manifest, and eval rebuilds that model from it.
func TestSetOverridesReachManifestAndEval(t *testing.T) {
	if _, err := data.LoadMNIST(data.Dir(""), data.Train); err != nil {
		t.Skipf("MNIST not available (%v): run `iagen data fetch mnist`", err)
	}
	out := t.TempDir()
	if status, _, stderr := cli(t, "train", "classifier", "--steps", "5", "--samples", "0",
		"--set", "hidden=24", "--set", "eval_images=100", "--out", out); status != 0 {
		t.Fatalf("train --set: %s", stderr)
	}
	var man struct{ Config map[string]any }
	raw, _ := os.ReadFile(filepath.Join(out, "manifest.json"))
	if err := json.Unmarshal(raw, &man); err != nil || man.Config["hidden"] != 24.0 {
		t.Fatalf("manifest config %v (%v), want hidden 24", man.Config, err)
	}
	if status, _, stderr := cli(t, "eval", "classifier", "--from", out); status != 0 {
		t.Fatalf("eval of a run trained with --set: %s", stderr)
	}
	// --resume rebuilds the run's own model without repeating --set, and refuses another one.
	if status, _, stderr := cli(t, "train", "classifier", "--resume", "--steps", "8", "--samples", "0", "--out", out); status != 0 {
		t.Fatalf("resume without repeating --set: %s", stderr)
	}
	status, _, stderr := cli(t, "train", "classifier", "--resume", "--steps", "9", "--set", "hidden=32", "--out", out)
	if status == 0 || !strings.Contains(stderr, "hidden was 24, now 32") {
		t.Errorf("resume with another hidden width: status %d, stderr %q", status, stderr)
	}
	status, _, stderr = cli(t, "train", "classifier", "--set", "hiden=24", "--out", t.TempDir())
	if status == 0 || !strings.Contains(stderr, `unknown field "hiden"`) {
		t.Errorf("a misspelt field: status %d, stderr %q; want an error naming it", status, stderr)
	}
}

// iagen bench --json prints one JSON object per family with the step statistics, the peak
// memory and, for a family that samples, its sampling speed (unless --no-sample). It runs as
// its own process: bench prints to the process's standard output.
func TestBenchJSON(t *testing.T) {
	if _, err := data.LoadMNIST(data.Dir(""), data.Train); err != nil {
		t.Skipf("MNIST not available (%v): run `iagen data fetch mnist`", err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bench := func(args ...string) []map[string]any {
		t.Helper()
		c := exec.Command(self, append([]string{"bench"}, args...)...)
		c.Env = append(os.Environ(), "IAGEN_TEST_AS_CLI=1")
		var stderr bytes.Buffer
		c.Stderr = &stderr
		out, err := c.Output()
		if err != nil {
			t.Fatalf("iagen bench %v: %v\n%s", args, err, stderr.String())
		}
		var lines []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			m := map[string]any{}
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("iagen bench %v: line %q is not a JSON object: %v", args, line, err)
			}
			lines = append(lines, m)
		}
		return lines
	}
	check := func(m map[string]any, family string, sampleUnit string) {
		t.Helper()
		num := func(k string) float64 {
			v, ok := m[k].(float64)
			if !ok {
				t.Errorf("%s: field %q missing or not a number in %v", family, k, m)
			}
			return v
		}
		if m["family"] != family || m["profile"] != "ci" || m["backend"] == "" || m["backend"] == nil {
			t.Errorf("family, profile, backend: %v", m)
		}
		steps, median, p99, mean := num("steps"), num("median_ms"), num("p99_ms"), num("mean_ms")
		sps, compile, rss := num("steps_per_second"), num("compile_seconds"), num("peak_rss_mib")
		if steps < 1 || median <= 0 || p99 < median || mean <= 0 || compile <= 0 || rss <= 0 || rss > 1<<20 {
			t.Errorf("%s: implausible %v", family, m)
		}
		if want := 1000 / mean; sps < 0.99*want || sps > 1.01*want {
			t.Errorf("%s: %v steps/s, want 1000/mean_ms = %v", family, sps, want)
		}
		if sampleUnit == "" {
			if _, ok := m["samples_per_second"]; ok || m["sample_unit"] != nil {
				t.Errorf("%s: sampling reported where none was timed: %v", family, m)
			}
		} else if num("samples_per_second") <= 0 || m["sample_unit"] != sampleUnit {
			t.Errorf("%s: sampling %v %v/s, want > 0 %s/s", family, m["samples_per_second"], m["sample_unit"], sampleUnit)
		}
	}

	lines := bench("classifier", "vae", "--profile", "ci", "--steps", "3", "--warmup", "1", "--json")
	if len(lines) != 2 {
		t.Fatalf("%d JSON lines, want one per family (2): %v", len(lines), lines)
	}
	check(lines[0], "classifier", "") // the classifier does not sample
	check(lines[1], "vae", "images")

	lines = bench("vae", "--profile", "ci", "--steps", "2", "--warmup", "1", "--no-sample", "--json")
	if len(lines) != 1 {
		t.Fatalf("--no-sample: %d JSON lines, want 1: %v", len(lines), lines)
	}
	check(lines[0], "vae", "")
}

// iagen sample draws exactly --n samples (a grid of 100 images, not the first 64), takes the
// family's sampling options with --set, and names an unknown option in its one-line error;
// iagen publish copies the run's files and curves, not its checkpoints.
func TestSampleAndPublish(t *testing.T) {
	if _, err := data.LoadMNIST(data.Dir(""), data.Train); err != nil {
		t.Skipf("MNIST not available (%v): run `iagen data fetch mnist`", err)
	}
	vaeRun := t.TempDir()
	if status, _, stderr := cli(t, "train", "vae", "--steps", "3", "--samples", "0", "--set", "eval_samples=0",
		"--set", "eval_images=20", "--set", "iwae_k=2", "--out", vaeRun); status != 0 {
		t.Fatalf("train vae: %s", stderr)
	}
	grid := filepath.Join(t.TempDir(), "s.png")
	if status, _, stderr := cli(t, "sample", "vae", "--from", vaeRun, "--n", "100", "--out", grid); status != 0 {
		t.Fatalf("sample vae: %s", stderr)
	}
	f, err := os.Open(grid)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	const cell = 28*2 + 1 // 2× images, 1-pixel borders
	if b := img.Bounds(); b.Dx() != 10*cell+1 || b.Dy() != 10*cell+1 {
		t.Errorf("100 samples drawn as a %d×%d image, want 10×10 cells (%d×%d)", b.Dx(), b.Dy(), 10*cell+1, 10*cell+1)
	}
	status, _, stderr := cli(t, "sample", "vae", "--from", vaeRun, "--set", "temperature=0.5", "--out", grid)
	if status == 0 || !strings.Contains(stderr, "no options") || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("sampling options for a sampler without any: status %d, stderr %q", status, stderr)
	}

	gptRun := t.TempDir()
	if status, _, stderr := cli(t, "train", "gpt", "--steps", "3", "--samples", "0", "--set", "eval_windows=4", "--out", gptRun); status != 0 {
		t.Fatalf("train gpt: %s", stderr)
	}
	text := filepath.Join(t.TempDir(), "s.txt")
	if status, _, stderr := cli(t, "sample", "gpt", "--from", gptRun, "--n", "3", "--set", "temperature=0.5",
		"--set", "top_k=5", "--set", "prompt=En el principio", "--set", "sample_chars=30", "--out", text); status != 0 {
		t.Fatalf("sample gpt --set: %s", stderr)
	}
	raw, _ := os.ReadFile(text)
	if texts := strings.Split(strings.TrimSpace(string(raw)), "\n\n"); len(texts) != 3 || !strings.HasPrefix(texts[0], "En el principio") {
		t.Errorf("3 samples after the prompt expected, got %q", raw)
	}
	status, _, stderr = cli(t, "sample", "gpt", "--from", gptRun, "--set", "temprature=0.5", "--out", text)
	if status == 0 || !strings.Contains(stderr, `unknown field "temprature"`) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
		t.Errorf("a misspelt sampling option: status %d, stderr %q; want one line naming it", status, stderr)
	}
	status, _, stderr = cli(t, "sample", "gpt", "--from", gptRun, "--set", "temperature=-1", "--out", text)
	if status == 0 || !strings.Contains(stderr, "temperature") {
		t.Errorf("a negative temperature: status %d, stderr %q", status, stderr)
	}

	pub := t.TempDir()
	if status, _, stderr := cli(t, "publish", "vae", "--from", vaeRun, "--out", pub); status != 0 {
		t.Fatalf("publish: %s", stderr)
	}
	for _, file := range []string{"metrics.json", "manifest.json", "log.jsonl", "loss.svg"} {
		if fi, err := os.Stat(filepath.Join(pub, file)); err != nil || fi.Size() == 0 {
			t.Errorf("published %s: %v", file, err)
		}
	}
	if _, err := os.Stat(filepath.Join(pub, "checkpoint")); !os.IsNotExist(err) {
		t.Errorf("checkpoints were published: %v", err)
	}
	if status, _, stderr := cli(t, "publish", "gpt", "--from", vaeRun, "--out", pub); status == 0 || !strings.Contains(stderr, "holds a vae run") {
		t.Errorf("publishing a vae run as gpt: status %d, stderr %q", status, stderr)
	}
}
