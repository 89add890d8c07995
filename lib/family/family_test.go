package family

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestRegistry(t *testing.T) {
	Register(Family{Name: "test-ok", New: func(Options) (Model, error) { return nil, errors.New("no data here") }})
	Register(Family{Name: "test-panics", New: func(Options) (Model, error) { panic("shape mismatch [3] vs [4]") }})
	if _, err := Get("nope"); err == nil || !strings.Contains(err.Error(), "test-ok") {
		t.Errorf("unknown family error should list the registered ones: %v", err)
	}
	if _, err := Build("test-ok", Options{Profile: "ci"}); err == nil || err.Error() != "no data here" {
		t.Errorf("constructor errors must pass through: %v", err)
	}
	if _, err := Build("test-panics", Options{Profile: "ci"}); err == nil || !strings.Contains(err.Error(), "shape mismatch") {
		t.Errorf("a panic while building must become an error: %v", err)
	}
	if _, err := Build("test-ok", Options{Profile: "huge"}); err == nil || !strings.Contains(err.Error(), "ci, small, full, bench") {
		t.Errorf("a bad profile must name the valid ones: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Error("registering a name twice must panic at init time")
		}
	}()
	Register(Family{Name: "test-ok"})
}

func TestProfileAndRunDirFromEnv(t *testing.T) {
	t.Setenv(ProfileEnvVar, "small")
	if p := ProfileFromEnv("ci"); p != "small" {
		t.Errorf("ProfileFromEnv = %q", p)
	}
	t.Setenv(ProfileEnvVar, "bogus")
	if p := ProfileFromEnv("ci"); p != "ci" {
		t.Errorf("a bogus $%s must fall back to the default, got %q", ProfileEnvVar, p)
	}
	t.Setenv(RunsEnvVar, "/runs")
	if d := RunDir("vae", "ci"); d != filepath.Join("/runs", "vae", "ci") {
		t.Errorf("RunDir = %q", d)
	}
}
