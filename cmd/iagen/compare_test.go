package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/iagen-course/iagen/lib/compare"
)

// iagen compare --profile ci trains the six families, measures the claims' evidence and writes
// the table: six rows with numbers, every claim judged, and the charts.
func TestCompareCI(t *testing.T) {
	if testing.Short() {
		t.Skip("trains six families")
	}
	out := t.TempDir()
	status, stdout, stderr := iagen(t, nil, "compare", "--profile", "ci", "--out", out)
	if status != 0 {
		t.Fatalf("iagen compare: status %d\n%s\n%s", status, stderr, stdout)
	}
	tab, err := compare.ReadJSON(filepath.Join(out, "table.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tab.Rows) != len(compare.Families) {
		t.Fatalf("%d rows, want %d", len(tab.Rows), len(compare.Families))
	}
	for _, r := range tab.Rows {
		if r.Missing != "" || r.Params <= 0 || !r.StepsPerSecond.Known() {
			t.Errorf("%s: missing %q, %d parameters, %v steps/s", r.Family, r.Missing, r.Params, r.StepsPerSecond)
		}
		if (r.Family == "flow" || r.Family == "gpt" || r.Family == "lstm") != (r.LikelihoodKind == compare.Exact && r.Likelihood.Known()) {
			t.Errorf("%s: likelihood %s %v", r.Family, r.LikelihoodKind, r.Likelihood)
		}
		if r.Image != nil && !r.SamplesPerSec.Known() {
			t.Errorf("%s: no sampling speed", r.Family)
		}
	}
	if len(tab.Evidence.ToyGAN) != len(compare.ToySeeds) || len(tab.Evidence.Recall) == 0 || len(tab.Evidence.Appetite) != 2*len(compare.AppetiteFractions) {
		t.Errorf("evidence: %d toy GAN seeds, %d recall results, %d appetite runs", len(tab.Evidence.ToyGAN), len(tab.Evidence.Recall), len(tab.Evidence.Appetite))
	}
	for _, c := range tab.Claims {
		if c.Verdict == compare.Unmeasured && c.Family != "diffusion" {
			t.Errorf("claim %q of %s unmeasured: %s", c.Claim, c.Family, c.Evidence)
		}
	}
	for _, f := range []string{"table.md", "table.html", "quality_time.svg", "quality_speed.svg", "quality_diversity.svg", "data_appetite.svg"} {
		if fi, err := os.Stat(filepath.Join(out, f)); err != nil || fi.Size() == 0 {
			t.Errorf("%s: %v", f, err)
		}
	}
	// Redrawn from the runs it trained, with the evidence of its own table: the same rows.
	again := filepath.Join(out, "again")
	status, _, stderr = iagen(t, nil, "compare", "--profile", "ci", "--from", filepath.Join(out, "runs"), "--evidence", filepath.Join(out, "table.json"), "--out", again)
	if status != 0 {
		t.Fatalf("iagen compare --from: status %d: %s", status, stderr)
	}
	redrawn, err := compare.ReadJSON(filepath.Join(again, "table.json"))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := tab.Sections(), redrawn.Sections(); !reflect.DeepEqual(a, b) {
		t.Errorf("the table redrawn from the runs differs:\n%v\n---\n%v", a, b)
	}
	if !reflect.DeepEqual(redrawn.Evidence.Command, tab.Command) {
		t.Errorf("the redrawn table's evidence was measured by %q, want the first table's command %q", redrawn.Evidence.Command, tab.Command)
	}
}

func TestCompareBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"compare"}, "--out DIR is required"},
		{[]string{"compare", "gan", "--out", t.TempDir()}, "no positional argument"},
		{[]string{"compare", "--profile", "huge", "--out", t.TempDir()}, "unknown profile"},
		{[]string{"compare", "--from", filepath.Join(t.TempDir(), "none"), "--out", t.TempDir()}, "not a folder"},
		{[]string{"compare", "--from", t.TempDir(), "--out", t.TempDir()}, "no family has a finished ci run"},
	} {
		status, _, stderr := cli(t, tc.args...)
		if status == 0 || !strings.Contains(stderr, tc.want) || !oneLine(stderr) || strings.Count(stderr, "compare:") != 1 {
			t.Errorf("iagen %v: status %d, stderr %q; want non-zero and one line mentioning %q, prefixed once", tc.args, status, stderr, tc.want)
		}
	}
}
