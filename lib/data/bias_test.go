package data

import (
	"math"
	"slices"
	"strings"
	"testing"
)

// tenClasses returns an image set of 100 1x1 images per class for 10 classes; the pixel value
// identifies the image.
func tenClasses() *Images {
	im := &Images{Name: "toy", Height: 1, Width: 1, Channels: 1, NumClasses: 10}
	for c := range 10 {
		for k := range 100 {
			im.Pixels = append(im.Pixels, uint8(c*10+k%10))
			im.Labels = append(im.Labels, uint8(c))
			im.N++
		}
	}
	return im
}

func TestSkewed(t *testing.T) {
	im := tenClasses()
	groups := [][]int{{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}}
	s, err := Skewed(im, groups, []float64{0.9, 0.1}, 301, 42)
	if err != nil {
		t.Fatal(err)
	}
	counts := s.ClassCounts()
	low, high := 0, 0
	for c, n := range counts {
		if c < 5 {
			low += n
		} else {
			high += n
		}
	}
	if s.N != 301 || low != 271 || high != 30 { // 270.9 → 271, 30.1 → 30
		t.Fatalf("N=%d groups %d/%d (counts %v)", s.N, low, high, counts)
	}
	again, _ := Skewed(im, groups, []float64{0.9, 0.1}, 301, 42)
	if !slices.Equal(s.Labels, again.Labels) || !slices.Equal(s.Pixels, again.Pixels) {
		t.Fatal("same seed, different set")
	}
	if slices.IsSorted(s.Labels) {
		t.Fatal("result is not shuffled")
	}
	// Two single digits, 50/50, all of them: every image exactly once.
	s, err = Skewed(im, [][]int{{3}, {8}}, []float64{0.5, 0.5}, 200, 1)
	if err != nil || s.ClassCounts()[3] != 100 || s.ClassCounts()[8] != 100 {
		t.Fatalf("%v %v", s.ClassCounts(), err)
	}
	bad := []struct {
		name   string
		groups [][]int
		fr     []float64
		n      int
	}{
		{"fractions do not sum to 1", groups, []float64{0.5, 0.4}, 10},
		{"length mismatch", groups, []float64{1}, 10},
		{"negative", groups, []float64{1.5, -0.5}, 10},
		{"too many needed", [][]int{{3}, {8}}, []float64{0.9, 0.1}, 1000},
		{"label twice", [][]int{{3}, {3}}, []float64{0.5, 0.5}, 10},
		{"label out of range", [][]int{{3}, {10}}, []float64{0.5, 0.5}, 10},
		{"empty group", [][]int{{3}, {}}, []float64{0.5, 0.5}, 10},
		{"n zero", groups, []float64{0.9, 0.1}, 0},
	}
	for _, tt := range bad {
		if _, err := Skewed(im, tt.groups, tt.fr, tt.n, 1); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

// Balanced repeats the smaller group's images until both groups are the same size, each image
// as often as the others of its group up to one, and keeps every image of the largest once.
func TestBalanced(t *testing.T) {
	groups := [][]int{{0, 1, 2, 3, 4}, {5, 6, 7, 8, 9}}
	s, err := Skewed(tenClasses(), groups, []float64{0.9, 0.1}, 300, 42)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Balanced(s, groups, 7)
	if err != nil {
		t.Fatal(err)
	}
	uses := map[[2]uint8]int{} // (label, pixel) identifies an image of tenClasses up to its 10 copies
	low := 0
	for i := range b.N {
		uses[[2]uint8{b.Labels[i], b.Pixels[i]}]++
		if b.Labels[i] < 5 {
			low++
		}
	}
	if b.N != 540 || low != 270 {
		t.Fatalf("%d images, %d of digits 0-4: want 540 and 270", b.N, low)
	}
	seen := map[[2]uint8]int{}
	for i := range s.N {
		seen[[2]uint8{s.Labels[i], s.Pixels[i]}]++
	}
	for k, n := range seen {
		if want := n; k[0] < 5 && uses[k] != want {
			t.Errorf("image %v of the larger group used %d times, want %d", k, uses[k], want)
		}
		if k[0] >= 5 && (uses[k] < 9*n || uses[k] > 9*n+n) { // 30 images cycled to 270: 9 times each
			t.Errorf("image %v of the smaller group used %d times for %d copies, want about 9 each", k, uses[k], n)
		}
	}
	if slices.IsSorted(b.Labels) {
		t.Error("not shuffled")
	}
	if _, err := Balanced(s, [][]int{{3}, {3}}, 1); err == nil {
		t.Error("a label in two groups: no error")
	}
	if _, err := Balanced(s, [][]int{{3}, {}}, 1); err == nil {
		t.Error("an empty group: no error")
	}
}

func TestLargestRemainder(t *testing.T) {
	for _, tt := range []struct {
		fr   []float64
		n    int
		want []int
	}{
		{[]float64{0.9, 0.1}, 301, []int{271, 30}},
		{[]float64{1.0 / 3, 1.0 / 3, 1.0 / 3}, 10, []int{4, 3, 3}},
		{[]float64{0.5, 0.5}, 1, []int{1, 0}},
	} {
		if got := largestRemainder(tt.fr, tt.n); !slices.Equal(got, tt.want) {
			t.Errorf("largestRemainder(%v, %d) = %v, want %v", tt.fr, tt.n, got, tt.want)
		}
	}
}

func TestOccupationList(t *testing.T) {
	if len(Occupations) < 30 {
		t.Fatalf("%d occupations, want about 30", len(Occupations))
	}
	seen := map[string]bool{}
	for _, o := range Occupations {
		if seen[o.Masc] || seen[o.Fem] && !o.Invariable() {
			t.Errorf("%s/%s repeats", o.Masc, o.Fem)
		}
		seen[o.Masc], seen[o.Fem] = true, true
		if !(o.DefaultFemShare >= 0 && o.DefaultFemShare <= 1) {
			t.Errorf("%s: share %v", o.Masc, o.DefaultFemShare)
		}
	}
}

func TestFillOccupationTemplate(t *testing.T) {
	med := Occupation{"médico", "médica", 0.3}
	per := Occupation{"periodista", "periodista", 0.5}
	for _, tt := range []struct {
		tpl  string
		o    Occupation
		fem  bool
		want string
	}{
		{OccupationTemplates[0], med, true, "La persona que trabaja de médica dijo que ella estaba cansada."},
		{OccupationTemplates[0], med, false, "La persona que trabaja de médico dijo que él estaba cansado."},
		{"{el} {ocupación} habló con {un} amig{o}.", per, true, "La periodista habló con una amiga."},
		{"vino de {el} {ocupación}.", per, false, "Vino del periodista."},
	} {
		if got := FillOccupationTemplate(tt.tpl, tt.o, tt.fem); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	for _, tpl := range OccupationTemplates {
		for _, fem := range []bool{false, true} {
			if s := FillOccupationTemplate(tpl, per, fem); strings.ContainsAny(s, "{}") {
				t.Errorf("unfilled slot in %q", s)
			}
		}
	}
}

func TestOccupationCorpus(t *testing.T) {
	text, truth, err := OccupationCorpus(OccupationCorpusConfig{PerOccupation: 400, Strength: 1, Seed: 3,
		FemShare: map[string]float64{"juez": 1}})
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if len(lines) != 400*len(Occupations) || len(truth) != len(Occupations) {
		t.Fatalf("%d lines, %d truths", len(lines), len(truth))
	}
	for _, tr := range truth {
		if tr.Feminine+tr.Masculine != 400 {
			t.Fatalf("%s: %d+%d sentences", tr.Masc, tr.Feminine, tr.Masculine)
		}
		want := tr.DefaultFemShare
		if tr.Masc == "juez" {
			want = 1
		}
		if !(math.Abs(tr.FemShare-want) <= 1e-12) || !(math.Abs(tr.Rate()-want) <= 0.08) {
			t.Errorf("%s: asked %v (want %v), realised %v", tr.Masc, tr.FemShare, want, tr.Rate())
		}
	}
	// The realised counts are what the text says: count "jueza" mentions.
	if n := strings.Count(text, "jueza"); n != 400 || strings.Contains(text, " juez ") {
		t.Fatalf("jueza appears %d times", n)
	}
	again, _, _ := OccupationCorpus(OccupationCorpusConfig{PerOccupation: 400, Strength: 1, Seed: 3, FemShare: map[string]float64{"juez": 1}})
	if again != text {
		t.Fatal("same seed, different corpus")
	}
	_, flat, _ := OccupationCorpus(OccupationCorpusConfig{PerOccupation: 10, Strength: 0})
	for _, tr := range flat {
		if tr.FemShare != 0.5 {
			t.Fatalf("strength 0: %s share %v", tr.Masc, tr.FemShare)
		}
	}
	for _, cfg := range []OccupationCorpusConfig{{PerOccupation: -1}, {FemShare: map[string]float64{"astronauta": 0.5}}, {FemShare: map[string]float64{"juez": 2}}} {
		if _, _, err := OccupationCorpus(cfg); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}
