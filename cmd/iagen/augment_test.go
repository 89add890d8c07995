package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAugmentBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"augment"}, "--out is required"},
		{[]string{"augment", "--out", t.TempDir(), "--seeds", "1"}, "--seeds must be ≥ 2"},
		{[]string{"augment", "gan", "--out", t.TempDir()}, "no positional argument"},
		{[]string{"augment", "--out", t.TempDir(), "--profile", "huge"}, "unknown profile"},
		{[]string{"augment", "--out", t.TempDir(), "--set", "per_clas=3"}, "per_clas"},
		{[]string{"augment", "--out", t.TempDir(), "--set", "per_class=0"}, "per_class"},
		{[]string{"augment", "--out", t.TempDir(), "--data-dir", t.TempDir(), "--backend", "go"}, "mnist"},
	} {
		status, _, stderr := cli(t, tc.args...)
		if status == 0 || !strings.Contains(stderr, tc.want) || !oneLine(stderr) {
			t.Errorf("iagen %v: status %d, stderr %q; want non-zero and one line mentioning %q", tc.args, status, stderr, tc.want)
		}
	}
}

// TestAugmentWritesReport runs a shortened experiment over two seeds on the go backend.
func TestAugmentWritesReport(t *testing.T) {
	out := t.TempDir()
	status, _, stderr := cli(t, "augment", "--backend", "go", "--seeds", "2", "--out", out,
		"--set", `gan={"steps":5}`, "--set", `classifier={"steps":20,"eval_images":200}`, "--set", "synthetic_per_class=5")
	if status != 0 {
		t.Fatalf("status %d: %s", status, stderr)
	}
	var rep struct {
		Seeds      []map[string]float64 `json:"seeds"`
		Difference struct{ N int }      `json:"difference"`
	}
	raw, err := os.ReadFile(filepath.Join(out, "augment.json"))
	if err == nil {
		err = json.Unmarshal(raw, &rep)
	}
	if err != nil || len(rep.Seeds) != 2 || rep.Difference.N != 2 {
		t.Fatalf("augment.json %s (%v)", raw, err)
	}
	for _, f := range []string{"augment.md", "augment.svg"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
