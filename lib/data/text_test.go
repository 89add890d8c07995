package data

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gomlx/gomlx/core/tensors"
)

// zText builds a SWORD zText testament (.bzs index, .bzz data) from OSIS blocks.
func zText(blocks ...string) (bzs, bzz []byte) {
	var idx, dat bytes.Buffer
	for _, blk := range blocks {
		var z bytes.Buffer
		w := zlib.NewWriter(&z)
		w.Write([]byte(blk))
		w.Close()
		binary.Write(&idx, binary.LittleEndian, [3]uint32{uint32(dat.Len()), uint32(z.Len()), uint32(len(blk))})
		dat.Write(z.Bytes())
	}
	return idx.Bytes(), dat.Bytes()
}

func TestOSISToText(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"words and punctuation", `<w lemma="strong:G1">de Abraham</w>. <w lemma="x">Abraham</w> <w>engendró</w>`, "de Abraham. Abraham engendró\n"},
		{"chapter milestones", `<chapter n="1" sID="Gen.1"/>EN el principio.<chapter eID="Gen.1"/><chapter sID="Gen.2"/>Y fueron.`, "EN el principio.\nY fueron.\n"},
		{"notes dropped", `Christ,<note placement="foot"><reference>1:1 </reference>Messiah <q>x</q></note>the son`, "Christ, the son\n"},
		{"note before punctuation", `the king<note>NU omits</note>, he said`, "the king, he said\n"},
		{"transChange", `de la<transChange type="added">que fué mujer</transChange><w>de</w> Urías`, "de la que fué mujer de Urías\n"},
		{"transChange before period", `siete <transChange type="added">lo será</transChange>.`, "siete lo será.\n"},
		{"title and div", `<div type="book" sID="b"/> <title type="main">San Mateo</title> <div sID="p" type="x-p"/>LIBRO`, "San Mateo\nLIBRO\n"},
		{"entities", `Tom &amp; Jerry &lt;3 &#233;&#x41; &bogus; & alone`, "Tom & Jerry <3 éA &bogus; & alone\n"},
		{"spaces collapse", "a  \t b\n\n\n c ", "a b\nc\n"},
		{"unclosed tag kept", `a < b`, "a < b\n"},
		{"nested notes", `x<note>a<note>b</note>c</note> y`, "x y\n"},
		{"empty", ``, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := osisToText(tt.in); got != tt.want {
				t.Fatalf("osisToText(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestSwordBlocks(t *testing.T) {
	bzs, bzz := zText("<w>uno</w>", "dos")
	blocks, err := swordBlocks(bzs, bzz)
	if err != nil || len(blocks) != 2 || string(blocks[1]) != "dos" {
		t.Fatalf("got %q, %v", blocks, err)
	}
	// An empty slot (size 0) is skipped.
	empty := append(slices.Clone(bzs), make([]byte, 12)...)
	if blocks, err := swordBlocks(empty, bzz); err != nil || len(blocks) != 2 {
		t.Fatalf("empty slot: %v %v", blocks, err)
	}
	bad := []struct {
		name     string
		bzs, bzz []byte
		want     string
	}{
		{"partial entry", bzs[:11], bzz, "whole number"},
		{"outside data", bzs, bzz[:len(bzz)-1], "outside"},
		{"wrong size", func() []byte { b := slices.Clone(bzs); b[8]++; return b }(), bzz, "index says"},
		{"not zlib", bzs, bytes.Repeat([]byte{7}, len(bzz)), "zlib"},
	}
	for _, tt := range bad {
		if _, err := swordBlocks(tt.bzs, tt.bzz); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
	otS, otZ := zText(`<chapter sID="Gen.1"/>En el principio`)
	ntS, ntZ := zText(`<chapter sID="Matt.1"/>LIBRO<note>n</note>`)
	text, err := swordText(otS, otZ, ntS, ntZ)
	if err != nil || text != "En el principio\nLIBRO\n" {
		t.Fatalf("swordText = %q, %v", text, err)
	}
}

func FuzzSwordBlocks(f *testing.F) {
	bzs, bzz := zText(`<w lemma="a">uno</w> <note>x</note>`, "<chapter sID=\"a\"/>dos &amp;")
	f.Add(bzs, bzz)
	f.Add(bzs[:12], bzz)
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, bzs, bzz []byte) {
		blocks, err := swordBlocks(bzs, bzz)
		if err != nil {
			return
		}
		for _, b := range blocks {
			out := osisToText(string(b))
			if !utf8.ValidString(out) {
				t.Fatalf("invalid UTF-8 out of valid block %q", b)
			}
		}
	})
}

func FuzzOSISToText(f *testing.F) {
	for _, s := range []string{`<w>a</w>, <note>b<note>c</note></note>d`, `<transChange>x</transChange>.`, "a &amp; &#x41; &#0; &", "<", "<div/>\n<title>T</title>"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := osisToText(s)
		if strings.Contains(out, "  ") || strings.Contains(out, "\n\n") || strings.HasPrefix(out, " ") {
			t.Fatalf("untidy output %q from %q", out, s)
		}
		if out != "" && !strings.HasSuffix(out, "\n") {
			t.Fatalf("output %q does not end with a newline", out)
		}
		if utf8.ValidString(s) && !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 out of %q", s)
		}
	})
}

func TestParseFortunes(t *testing.T) {
	in := "Primera línea\n\tsegunda  \n\t\t-- Autor. \n%\n%\n\nOtra.\r\n%\n"
	got, err := parseFortunes([]byte(in))
	want := []string{"Primera línea\nsegunda\n-- Autor.", "Otra."}
	if err != nil || !slices.Equal(got, want) {
		t.Fatalf("got %q, %v; want %q", got, err, want)
	}
	if got, _ := parseFortunes(nil); len(got) != 0 {
		t.Fatalf("empty input gave %q", got)
	}
	if _, err := parseFortunes([]byte{'a', 0xff}); err == nil {
		t.Fatal("invalid UTF-8 accepted")
	}
}

func FuzzParseFortunes(f *testing.F) {
	f.Add([]byte("uno\n%\ndos\n\t-- X\n%\n"))
	f.Add([]byte("%%\n%\n % \n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := parseFortunes(b)
		if err != nil {
			return
		}
		for _, e := range entries {
			if e == "" || strings.Contains(e, "\n\n") || slices.Contains(strings.Split(e, "\n"), "%") {
				t.Fatalf("bad entry %q from %q", e, b)
			}
		}
	})
}

func TestLoadTextSynthetic(t *testing.T) {
	dir := t.TempDir()
	otS, otZ := zText(`<chapter sID="Gen.1"/>En el principio`)
	ntS, ntZ := zText(`<chapter sID="Matt.1"/>LIBRO`)
	rv := Dataset{Name: "es-rv1909"}
	for name, b := range map[string][]byte{"ot.bzs": otS, "ot.bzz": otZ, "nt.bzs": ntS, "nt.bzz": ntZ} {
		rv.Files = append(rv.Files, fileFor(name, b))
		writeFile(t, filepath.Join(dir, "es-rv1909", name), b)
	}
	slices.SortFunc(rv.Files, func(a, b File) int { return strings.Compare(b.Name, a.Name) }) // ot first
	f1, f2 := []byte("a\n%\nb\n"), []byte("c\n")
	fo := Dataset{Name: "es-fortunes", Files: []File{fileFor("a.fortunes", f1), fileFor("b.fortunes", f2)}}
	writeFile(t, filepath.Join(dir, "es-fortunes", "a.fortunes"), f1)
	writeFile(t, filepath.Join(dir, "es-fortunes", "b.fortunes"), f2)
	md := []byte("Call me\r\nIshmael.\n")
	mb := Dataset{Name: "en-mobydick", Files: []File{fileFor("data.txt", md)}}
	writeFile(t, filepath.Join(dir, "en-mobydick", "data.txt"), md)
	withCatalog(t, rv, fo, mb)

	for name, want := range map[string]string{"es-rv1909": "En el principio\nLIBRO\n", "es-fortunes": "a\n\nb\n\nc\n", "en-mobydick": "Call me\nIshmael.\n"} {
		got, err := LoadText(dir, name)
		if err != nil || got != want {
			t.Errorf("LoadText(%s) = %q, %v; want %q", name, got, err, want)
		}
	}
	if _, err := LoadText(dir, "mnist"); err == nil {
		t.Error("LoadText accepted an image dataset")
	}
	os.Remove(filepath.Join(dir, "es-fortunes", "b.fortunes"))
	if _, err := LoadText(dir, "es-fortunes"); err == nil || !strings.Contains(err.Error(), "b.fortunes is missing") {
		t.Errorf("missing file: err = %v", err)
	}
}

func TestSplitText(t *testing.T) {
	s := strings.Repeat("ñ", 95) + strings.Repeat("a", 5)
	train, val := SplitText(s)
	if utf8.RuneCountInString(train) != 90 || utf8.RuneCountInString(val) != 10 || train+val != s {
		t.Fatalf("split %d/%d runes", utf8.RuneCountInString(train), utf8.RuneCountInString(val))
	}
	if train, val := SplitText("abc"); train != "abc" || val != "" {
		t.Fatalf("short text: %q %q", train, val)
	}
}

func TestVocab(t *testing.T) {
	v := NewVocab("hola, señor\n")
	if got := string(v.Chars()); got != "\n ,aehlorsñ" {
		t.Fatalf("chars %q not sorted by code point", got)
	}
	ids, err := v.Encode("señor")
	if err != nil || v.Decode(ids) != "señor" {
		t.Fatalf("round trip: %v %v", ids, err)
	}
	if _, err := v.Encode("hola!"); err == nil || !strings.Contains(err.Error(), `'!'`) {
		t.Fatalf("unknown character: err = %v", err)
	}
	if v.Decode([]int32{-1, 99}) != "\uFFFD\uFFFD" {
		t.Fatal("out-of-range ids should decode as U+FFFD")
	}
	path := filepath.Join(t.TempDir(), "vocab.json")
	if err := v.Save(path); err != nil {
		t.Fatal(err)
	}
	w, err := LoadVocab(path)
	if err != nil || !slices.Equal(w.Chars(), v.Chars()) {
		t.Fatalf("LoadVocab: %v %v", w, err)
	}
	for _, bad := range []string{`{"chars": ["ab"]}`, `{"chars": ["a", "a"]}`, `{"chars": [""]}`, `[`} {
		os.WriteFile(path, []byte(bad), 0o644)
		if _, err := LoadVocab(path); err == nil {
			t.Errorf("LoadVocab accepted %s", bad)
		}
	}
}

func TestTextWindows(t *testing.T) {
	ids := make([]int32, 50)
	for i := range ids {
		ids[i] = int32(i)
	}
	x, y := TextWindows(ids, 8, 3, 17, 4)
	if !slices.Equal(x.Shape().Dimensions, []int{4, 8}) || !slices.Equal(y.Shape().Dimensions, []int{4, 8}) {
		t.Fatalf("shapes %v %v", x.Shape(), y.Shape())
	}
	xs, ys := tensors.MustCopyFlatData[int32](x), tensors.MustCopyFlatData[int32](y)
	for i := range xs {
		if ys[i] != xs[i]+1 {
			t.Fatalf("target %d is %d, want input+1 = %d", i, ys[i], xs[i]+1)
		}
		if i%8 > 0 && xs[i] != xs[i-1]+1 {
			t.Fatalf("window not contiguous at %d", i)
		}
	}
	x2, _ := TextWindows(ids, 8, 3, 17, 4)
	if !slices.Equal(xs, tensors.MustCopyFlatData[int32](x2)) {
		t.Fatal("same (seed, step) gave a different batch")
	}
	x3, _ := TextWindows(ids, 8, 3, 18, 4)
	if slices.Equal(xs, tensors.MustCopyFlatData[int32](x3)) {
		t.Fatal("next step gave the same batch")
	}
	// Every offset, the last one included, is reachable.
	seen := map[int32]bool{}
	for step := range 400 {
		x, _ := TextWindows(ids[:12], 8, 1, step, 2)
		for i, v := range tensors.MustCopyFlatData[int32](x) {
			if i%8 == 0 {
				seen[v] = true
			}
		}
	}
	if len(seen) != 4 {
		t.Fatalf("offsets seen %v, want 0..3", seen)
	}
	if x, y := TextWindows(ids[:8], 8, 1, 0, 2); x != nil || y != nil {
		t.Fatal("a corpus shorter than ctx+1 should give nil")
	}
}

func TestValWindows(t *testing.T) {
	ids := make([]int32, 30)
	for i := range ids {
		ids[i] = int32(i)
	}
	if n := NumValBatches(len(ids), 4, 3); n != 2 { // 7 windows of 4 → 2 full batches of 3
		t.Fatalf("NumValBatches = %d, want 2", n)
	}
	x, y := ValWindows(ids, 4, 3, 1)
	xs, ys := tensors.MustCopyFlatData[int32](x), tensors.MustCopyFlatData[int32](y)
	if !slices.Equal(xs, []int32{12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}) || ys[0] != 13 || ys[11] != 24 {
		t.Fatalf("batch 1 = %v / %v", xs, ys)
	}
	if x, _ := ValWindows(ids, 4, 3, 2); x != nil {
		t.Fatal("batch past the end should be nil")
	}
}

// Sizes of the published corpora, on the real corpora when they have been fetched.
func TestTextCorporaReal(t *testing.T) {
	tests := []struct {
		name           string
		minLen, maxLen int // characters
		distinct       int // 0: not checked
		starts         string
	}{
		{"es-rv1909", 3_700_000, 3_900_000, 85, "Génesis\nEN el principio crió Dios los cielos y la tierra."},
		{"es-fortunes", 850_000, 950_000, 0, "No es otra cosa la amistad"},
		{"en-mobydick", 1_190_317, 1_190_317, 0, "CHAPTER 1. Loomings."},
		{"en-web", 4_800_000, 5_100_000, 0, "Preface to the World English Bible"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			text, err := LoadText(realDir(t, tt.name), tt.name)
			if err != nil {
				t.Fatal(err)
			}
			n := utf8.RuneCountInString(text)
			if n < tt.minLen || n > tt.maxLen {
				t.Errorf("%d characters, want %d..%d", n, tt.minLen, tt.maxLen)
			}
			if tt.distinct > 0 && NewVocab(text).Size() != tt.distinct {
				t.Errorf("%d distinct characters, want %d", NewVocab(text).Size(), tt.distinct)
			}
			if !strings.HasPrefix(text, tt.starts) {
				t.Errorf("starts %q", text[:min(len(text), 80)])
			}
			if strings.ContainsAny(text, "<>") && tt.name != "es-fortunes" {
				t.Errorf("markup left in the text")
			}
		})
	}
}

// The 24 fortunes files concatenated in name order have the checksum the catalog records.
func TestFortunesConcatenationChecksum(t *testing.T) {
	dir := realDir(t, "es-fortunes")
	files, _, err := readVerified(dir, "es-fortunes")
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		h.Write(files[n])
	}
	if len(names) != 24 || hex.EncodeToString(h.Sum(nil)) != fortunesConcatSHA256 {
		t.Fatalf("%d files, concatenation SHA-256 %x", len(names), h.Sum(nil))
	}
}

// The generated occupation corpus loads offline, the same on every call, and its truth is what
// its lines say: every line is one realisation of a template, and counting them per occupation
// and gender gives the truth exactly.
func TestOccupationCorpusName(t *testing.T) {
	text, err := LoadText(t.TempDir(), OccupationCorpusName) // an empty data folder: nothing is read
	if err != nil {
		t.Fatal(err)
	}
	again, truth, err := GeneratedOccupationText(OccupationCorpusName)
	if err != nil || again != text {
		t.Fatalf("GeneratedOccupationText differs from LoadText (err %v)", err)
	}
	type key struct {
		occ string
		fem bool
	}
	realisations := map[string]key{}
	for _, o := range Occupations {
		for _, tpl := range OccupationTemplates {
			for _, fem := range []bool{false, true} {
				realisations[FillOccupationTemplate(tpl, o, fem)] = key{o.Masc, fem}
			}
		}
	}
	counts := map[key]int{}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for i, l := range lines {
		k, ok := realisations[l]
		if !ok {
			t.Fatalf("line %d %q is no template's realisation", i, l)
		}
		counts[k]++
	}
	per := DefaultOccupationCorpusConfig().PerOccupation
	if len(lines) != per*len(Occupations) || len(truth) != len(Occupations) {
		t.Fatalf("%d lines and %d truths, want %d and %d", len(lines), len(truth), per*len(Occupations), len(Occupations))
	}
	for i, tr := range truth {
		if tr.Masc != Occupations[i].Masc || tr.Feminine != counts[key{tr.Masc, true}] || tr.Masculine != counts[key{tr.Masc, false}] {
			t.Errorf("%s: truth %d/%d, lines %d/%d", tr.Masc, tr.Feminine, tr.Masculine, counts[key{tr.Masc, true}], counts[key{tr.Masc, false}])
		}
		if math.Abs(tr.Rate()-tr.DefaultFemShare) > 0.1 {
			t.Errorf("%s: realised share %.3f, asked %.2f", tr.Masc, tr.Rate(), tr.DefaultFemShare)
		}
	}
	c, err := LoadCorpus(t.TempDir(), OccupationCorpusName, 64, 0)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(text))
	if c.Files[OccupationCorpusName+"/generated.txt"] != hex.EncodeToString(sum[:]) || len(c.Train)+len(c.Val) != utf8.RuneCountInString(text) {
		t.Errorf("corpus files %v, %d+%d characters", c.Files, len(c.Train), len(c.Val))
	}
	if _, err := LoadText(t.TempDir(), "es-nada"); err == nil || !strings.Contains(err.Error(), OccupationCorpusName) {
		t.Errorf("unknown corpus: err %v, want one listing %s", err, OccupationCorpusName)
	}
}

// train_fraction keeps a prefix of the training split; the validation split and the vocabulary
// are those of the whole corpus, so models trained on parts of it are scored alike.
func TestLoadCorpusTrainFraction(t *testing.T) {
	dir := t.TempDir()
	all, err := LoadCorpus(dir, OccupationCorpusName, 64, 0)
	if err != nil {
		t.Fatal(err)
	}
	part, err := LoadCorpus(dir, OccupationCorpusName, 64, 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if want := int(0.1 * float64(len(all.Train))); len(part.Train) != want || !slices.Equal(part.Train, all.Train[:want]) {
		t.Errorf("10%%: %d training characters, want the first %d of %d", len(part.Train), want, len(all.Train))
	}
	if !slices.Equal(part.Val, all.Val) || part.Vocab.Size() != all.Vocab.Size() {
		t.Errorf("10%%: validation %d characters and vocabulary %d, want %d and %d", len(part.Val), part.Vocab.Size(), len(all.Val), all.Vocab.Size())
	}
	for _, f := range []float64{-0.1, 1.5, math.NaN()} {
		if _, err := LoadCorpus(dir, OccupationCorpusName, 64, f); err == nil || !strings.Contains(err.Error(), "train_fraction") {
			t.Errorf("fraction %g: err %v, want one naming train_fraction", f, err)
		}
	}
	if _, err := LoadCorpus(dir, OccupationCorpusName, 64, 1e-6); err == nil || !strings.Contains(err.Error(), "too short") {
		t.Errorf("a fraction leaving < 64 characters: err %v, want too short", err)
	}
}
