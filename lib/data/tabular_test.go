package data

import (
	"math"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const tinyARFF = `% a comment
@relation 'tiny credit'
@attribute age numeric
@attribute personal_status { 'male single', 'female div/dep/mar'}
@attribute purpose {radio/tv, 'new car'}
@attribute note string
@attribute class { good, bad}
@data
% another comment
30,'male single',radio/tv,"a, b",good
?, 'female div/dep/mar' , 'new car', 'it\'s', bad
`

func TestParseARFF(t *testing.T) {
	tb, err := parseARFF([]byte(tinyARFF))
	if err != nil {
		t.Fatal(err)
	}
	if tb.Name != "tiny credit" || !slices.Equal(tb.Columns, []string{"age", "personal_status", "purpose", "note", "class"}) {
		t.Fatalf("name %q columns %v", tb.Name, tb.Columns)
	}
	if !slices.Equal(tb.Levels[1], []string{"male single", "female div/dep/mar"}) || tb.Levels[0] != nil {
		t.Fatalf("levels %q", tb.Levels)
	}
	want := [][]string{{"30", "male single", "radio/tv", "a, b", "good"}, {"?", "female div/dep/mar", "new car", "it's", "bad"}}
	if len(tb.Rows) != 2 || !slices.Equal(tb.Rows[0], want[0]) || !slices.Equal(tb.Rows[1], want[1]) {
		t.Fatalf("rows %q", tb.Rows)
	}
	bad := map[string]string{
		"no data":        "@relation x\n@attribute a numeric\n",
		"bad number":     "@attribute a numeric\n@data\nx\n",
		"bad level":      "@attribute a {x,y}\n@data\nz\n",
		"wrong arity":    "@attribute a numeric\n@data\n1,2\n",
		"unclosed set":   "@attribute a {x,y\n@data\nx\n",
		"unclosed quote": "@attribute a string\n@data\n'abc\n",
		"unknown type":   "@attribute a date\n@data\n1\n",
		"sparse":         "@attribute a numeric\n@data\n{0 1}\n",
		"stray line":     "hello\n@data\n",
		"duplicate":      "@attribute a numeric\n@attribute a numeric\n@data\n",
	}
	for name, in := range bad {
		if _, err := parseARFF([]byte(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestParseCSV(t *testing.T) {
	tb, err := parseCSV([]byte("a,b\n1,x\n2.5,\"y,z\"\n"))
	if err != nil || len(tb.Rows) != 2 || tb.Rows[1][1] != "y,z" {
		t.Fatalf("%v %v", tb, err)
	}
	tb.Name = "t"
	if v, err := tb.Floats("a"); err != nil || !slices.Equal(v, []float64{1, 2.5}) {
		t.Fatalf("Floats = %v %v", v, err)
	}
	if _, err := tb.Floats("b"); err == nil {
		t.Fatal("non-numeric column parsed")
	}
	if _, err := tb.Column("zzz"); err == nil {
		t.Fatal("unknown column accepted")
	}
	for _, bad := range []string{"", "a,b\n1\n", "a\n\"x\n"} {
		if _, err := parseCSV([]byte(bad)); err == nil {
			t.Errorf("parseCSV(%q): no error", bad)
		}
	}
}

func FuzzParseARFF(f *testing.F) {
	f.Add([]byte(tinyARFF))
	f.Add([]byte("@attribute a {x,'y'}\n@data\nx\n?\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		tb, err := parseARFF(b)
		if err != nil {
			return
		}
		if len(tb.Levels) != len(tb.Columns) {
			t.Fatalf("%d levels for %d columns", len(tb.Levels), len(tb.Columns))
		}
		for _, r := range tb.Rows {
			if len(r) != len(tb.Columns) {
				t.Fatalf("row %q has %d values for %d columns", r, len(r), len(tb.Columns))
			}
		}
	})
}

func FuzzParseCSV(f *testing.F) {
	f.Add([]byte("a,b\n1,2\n"))
	f.Add([]byte("0,0,5,13,9,1,0,0\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if tb, err := parseCSV(b); err == nil {
			for _, r := range tb.Rows {
				if len(r) != len(tb.Columns) {
					t.Fatalf("ragged row %q", r)
				}
			}
		}
		if im, err := parseDigitsCSV(b); err == nil {
			if len(im.Pixels) != im.N*64 || len(im.Labels) != im.N {
				t.Fatalf("digits: N=%d with %d pixels and %d labels", im.N, len(im.Pixels), len(im.Labels))
			}
		}
	})
}

func TestParseDigitsCSV(t *testing.T) {
	row := strings.Repeat("16,", 63) + "0,7\n"
	im, err := parseDigitsCSV([]byte(row + row))
	if err != nil || im.N != 2 || im.Height != 8 || im.Labels[1] != 7 || im.Pixels[0] != 255 || im.Pixels[63] != 0 {
		t.Fatalf("%+v %v", im, err)
	}
	for _, bad := range []string{"", strings.Repeat("1,", 64) + "10\n", strings.Repeat("17,", 64) + "1\n", "1,2,3\n"} {
		if _, err := parseDigitsCSV([]byte(bad)); err == nil {
			t.Errorf("accepted %.30q", bad)
		}
	}
}

func TestLoad8x8DigitsSynthetic(t *testing.T) {
	dir := t.TempDir()
	b := gz([]byte(strings.Repeat("8,", 64) + "3\n"))
	withCatalog(t, Dataset{Name: "digits8x8", Files: []File{fileFor("digits.csv.gz", b)}})
	writeFile(t, filepath.Join(dir, "digits8x8", "digits.csv.gz"), b)
	im, err := Load8x8Digits(dir)
	if err != nil || im.N != 1 || im.Pixels[0] != 128 || im.Labels[0] != 3 || im.Files["digits.csv.gz"] == "" {
		t.Fatalf("%+v %v", im, err)
	}
}

func TestLoad8x8DigitsReal(t *testing.T) {
	im, err := Load8x8Digits(realDir(t, "digits8x8"))
	if err != nil {
		t.Fatal(err)
	}
	if im.N != 1797 || len(im.Pixels) != 1797*64 {
		t.Fatalf("N = %d", im.N)
	}
	for c, n := range im.ClassCounts() {
		if n < 170 || n > 190 {
			t.Errorf("class %d has %d images", c, n)
		}
	}
	if im.Labels[0] != 0 || im.Labels[1] != 1 {
		t.Errorf("first labels %v", im.Labels[:2])
	}
}

func TestGermanCreditReal(t *testing.T) {
	tb, err := LoadGermanCredit(realDir(t, "german-credit"))
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Rows) != 1000 || len(tb.Columns) != 22 {
		t.Fatalf("%d rows, %d columns", len(tb.Rows), len(tb.Columns))
	}
	sex, _ := tb.Column("sex")
	class, _ := tb.Column("class")
	bad := map[string][2]int{}
	for i := range sex {
		c := bad[sex[i]]
		c[1]++
		if class[i] == "bad" {
			c[0]++
		}
		bad[sex[i]] = c
	}
	rate := func(s string) float64 { return float64(bad[s][0]) / float64(bad[s][1]) }
	if !(math.Abs(rate("female")-0.352) <= 0.0005) || !(math.Abs(rate("male")-0.277) <= 0.0005) {
		t.Fatalf("bad-credit rates: women %.4f (%v), men %.4f (%v); the data card says 35.2%% and 27.7%%", rate("female"), bad["female"], rate("male"), bad["male"])
	}
}

func TestCPSWagesReal(t *testing.T) {
	tb, err := LoadCPSWages(realDir(t, "cps-wages-1985"))
	if err != nil {
		t.Fatal(err)
	}
	wage, err := tb.Floats("wage")
	if err != nil || len(wage) != 534 {
		t.Fatalf("%d wages, %v", len(wage), err)
	}
	// Raw dollars per hour (not logs): the 1985 mean was about $9.
	mean := 0.0
	for _, w := range wage {
		mean += w / float64(len(wage))
	}
	if !(mean >= 7 && mean <= 11) {
		t.Fatalf("mean wage %.2f", mean)
	}
	if g, _ := tb.Column("gender"); !slices.Contains(g, "female") || !slices.Contains(g, "male") {
		t.Fatal("gender column lacks female/male")
	}
}

func TestNamesAndAFINNReal(t *testing.T) {
	dir := realDir(t, "first-names-en", "afinn-es")
	female, male, err := LoadFirstNames(dir)
	if err != nil || len(female) != 4951 || len(male) != 3898 {
		t.Fatalf("%d female, %d male names, %v", len(female), len(male), err)
	}
	lex, err := LoadAFINNSpanish(dir)
	if err != nil || len(lex) != 2861 {
		t.Fatalf("%d entries, %v", len(lex), err)
	}
	if lex["abrazo"] != 2 {
		t.Fatalf("abrazo = %d, want 2", lex["abrazo"])
	}
}
