package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iagen-course/iagen/lib/data/datatest"
	"github.com/iagen-course/iagen/lib/tabular"
	"github.com/iagen-course/iagen/lib/train"
)

func TestTablesBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"tables"}, "--out is required"},
		{[]string{"tables", "--out", t.TempDir(), "--seeds", "0"}, "--seeds must be ≥ 2"},
		{[]string{"tables", "--out", t.TempDir(), "--seeds", "1"}, "--seeds must be ≥ 2"},
		{[]string{"tables", "--out", t.TempDir(), "--steps", "0"}, "--steps must be ≥ 1"},
		{[]string{"tables", "extra", "--out", t.TempDir()}, `unexpected argument "extra"`},
		{[]string{"tables", "--out", t.TempDir(), "--data-dir", t.TempDir(), "--backend", "go"}, "german-credit"},
		{[]string{"tables", "--out", t.TempDir(), "--backend", "xla:nonexistent"}, `"nonexistent"`},
	} {
		status, _, stderr := cli(t, tc.args...)
		if status == 0 || !strings.Contains(stderr, tc.want) || !oneLine(stderr) {
			t.Errorf("iagen %v: status %d, stderr %q; want non-zero and one line mentioning %q", tc.args, status, stderr, tc.want)
		}
	}
}

// TestTablesEndToEnd runs `iagen tables` on the real German Credit on the go backend, with
// TVAEs of a few steps: both files are written, the real gaps are German Credit's, and the
// Markdown has a section per attribute and the utility table.
func TestTablesEndToEnd(t *testing.T) {
	dataDir := datatest.Dir(t, "german-credit")
	out := filepath.Join(t.TempDir(), "tables")
	status, stdout, stderr := iagen(t, nil, "tables", "--out", out, "--seeds", "2", "--steps", "30", "--backend", "go", "--data-dir", dataDir)
	if status != 0 {
		t.Fatalf("status %d\n%s", status, stderr)
	}
	for _, want := range []string{"sex  SPD real", "age  SPD real", "AUC  TRTR", "tables.json", "tables.md"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	if n := strings.Count(stderr, "tables: seed"); n != 2 {
		t.Errorf("%d progress lines on stderr, want 2:\n%s", n, stderr)
	}
	var rep tabular.Report
	if err := train.ReadJSON(filepath.Join(out, "tables.json"), &rep); err != nil {
		t.Fatal(err)
	}
	if rep.Dataset != "german-credit" || len(rep.PerSeed) != 2 || rep.TrainRows != 700 || rep.HeldOutRows != 300 ||
		rep.SyntheticRows != 700 || rep.Model.Steps != 30 || rep.Backend == "" {
		t.Errorf("report header %+v", rep)
	}
	// German Credit: good-credit rate 64.8 % for women, 72.3 % for men (SPD −0.075); 57.9 % at
	// 25 or younger, 72.8 % older (SPD −0.149). A 700-row split lands near those.
	for i, want := range []float64{-0.075, -0.149} {
		g := rep.Gaps[i]
		if got := g.SPD[tabular.RealTrain].Estimate; got > want+0.05 || got < want-0.05 {
			t.Errorf("%s: real training SPD %.3f, German Credit's is %.3f", g.Attribute, got, want)
		}
		if g.Verdict == "" || g.SPD[tabular.Synthetic].N != 2 {
			t.Errorf("%s: verdict %q, synthetic SPD %+v", g.Attribute, g.Verdict, g.SPD[tabular.Synthetic])
		}
	}
	if auc := rep.Utility.TRTRAUC.Estimate; auc < 0.7 || auc > 0.9 {
		t.Errorf("TRTR AUC %.3f: a logistic regression on German Credit scores about 0.78", auc)
	}
	md, err := os.ReadFile(filepath.Join(out, "tables.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"## Brecha por sexo", "## Brecha por edad", "| sintética (TVAE) |", "(TSTR)", "**La tabla sintética la "} {
		if !strings.Contains(string(md), want) {
			t.Errorf("tables.md lacks %q", want)
		}
	}
}
