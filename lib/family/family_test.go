package family

import (
	"encoding/json"
	"errors"
	"os"
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

func TestConfigureAppliesOverrides(t *testing.T) {
	type cfg struct {
		Steps int     `json:"steps"`
		LR    float64 `json:"learning_rate"`
		Arch  string  `json:"arch"`
	}
	profile := func(p string) (cfg, error) {
		if p != "ci" {
			return cfg{}, CheckProfile("nope")
		}
		return cfg{Steps: 10, LR: 1e-3, Arch: "mlp"}, nil
	}
	got, err := Configure(Options{Profile: "ci", Overrides: []byte(`{"steps": 7, "arch": "conv"}`)}, profile)
	if want := (cfg{Steps: 7, LR: 1e-3, Arch: "conv"}); err != nil || got != want {
		t.Errorf("Configure = %+v, %v; want %+v", got, err, want)
	}
	if got, err := Configure(Options{Profile: "ci"}, profile); err != nil || got.Steps != 10 {
		t.Errorf("no overrides: %+v, %v", got, err)
	}
	for _, bad := range []string{`{"stpes": 7}`, `{"steps": "seven"}`, `[1]`} {
		if _, err := Configure(Options{Profile: "ci", Overrides: []byte(bad)}, profile); err == nil {
			t.Errorf("overrides %s: no error", bad)
		}
	}
	if _, err := Configure(Options{Profile: "full"}, profile); err == nil {
		t.Error("the profile's error is lost")
	}
}

// Finished accepts a run folder only when its profile, seed, steps and every overridden field of
// the configuration it recorded match, and only once metrics.json is written.
func TestFinished(t *testing.T) {
	dir := t.TempDir()
	man := `{"family": "vae", "profile": "small", "seed": 7, "steps": 300,
		"config": {"latent": 16, "skew": {"fractions": [0.9, 0.1], "n": 2000}}}`
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), []byte(man), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := Options{Profile: "small", Seed: 7, Overrides: []byte(`{"skew": {"n": 2000, "fractions": [0.9, 0.1]}}`)}
	if Finished(dir, opts, 300) {
		t.Error("a run without metrics.json is finished")
	}
	if err := os.WriteFile(filepath.Join(dir, "metrics.json"), []byte(`{}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if !Finished(dir, opts, 300) || !Finished(dir, opts, 0) || !Finished(dir, Options{Profile: "small", Seed: 7}, 0) {
		t.Error("the same run is not finished")
	}
	for name, o := range map[string]Options{
		"profile":  {Profile: "ci", Seed: 7},
		"seed":     {Profile: "small", Seed: 8},
		"override": {Profile: "small", Seed: 7, Overrides: []byte(`{"skew": {"n": 2000, "fractions": [0.5, 0.5]}}`)},
		"absent":   {Profile: "small", Seed: 7, Overrides: []byte(`{"train_fraction": 0.1}`)},
	} {
		if Finished(dir, o, 0) {
			t.Errorf("another %s is finished", name)
		}
	}
	if Finished(dir, opts, 500) {
		t.Error("a run of 300 steps is finished for 500")
	}
}

// DecodeChecked applies the options and checks them; the caller's value is never changed.
func TestDecodeChecked(t *testing.T) {
	type opts struct {
		Steps int `json:"steps"`
	}
	positive := func(o opts) error {
		if o.Steps < 1 {
			return errors.New("steps must be ≥ 1")
		}
		return nil
	}
	cur := opts{Steps: 50}
	if got, err := DecodeChecked(json.RawMessage(`{"steps": 20}`), cur, "test options", positive); err != nil || got.Steps != 20 || cur.Steps != 50 {
		t.Errorf("steps 20: got %+v, %v (current %+v)", got, err, cur)
	}
	if _, err := DecodeChecked(json.RawMessage(`{"steps": 0}`), cur, "test options", positive); err == nil {
		t.Error("steps 0 passed the check")
	}
	if _, err := DecodeChecked(json.RawMessage(`{"stepz": 3}`), cur, "test options", positive); err == nil || !strings.Contains(err.Error(), "stepz") {
		t.Errorf("a misspelt field: %v", err)
	}
}
