package main

import (
	"bytes"
	"encoding/json"
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
