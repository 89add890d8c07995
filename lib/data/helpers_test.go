package data

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// realDir returns the data folder holding the named datasets: it skips the test where they
// were never fetched, and fails it where one was fetched but is damaged (see Fetched; other
// packages use datatest.Dir, which this package's own tests cannot import).
func realDir(t *testing.T, names ...string) string {
	t.Helper()
	dir := Dir("")
	if fetched, err := Fetched(dir, names...); err != nil {
		t.Fatal(err.Error())
	} else if !fetched {
		t.Skipf("dataset %v not fetched in %s (run `go run ./cmd/iagen data fetch %s`)", names, dir, names[0])
	}
	return dir
}

// withCatalog replaces the catalogue for one test, so loaders can run on synthetic files.
func withCatalog(t *testing.T, sets ...Dataset) {
	t.Helper()
	saved := catalog
	catalog = sets
	t.Cleanup(func() { catalog = saved })
}

// fileFor describes content b as a catalogue File named name.
func fileFor(name string, b []byte) File {
	sum := sha256.Sum256(b)
	return File{Name: name, Path: "src/" + name, Size: int64(len(b)), SHA256: hex.EncodeToString(sum[:])}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

// idxBytes builds an uncompressed IDX file of unsigned bytes with the given dimensions.
func idxBytes(values []byte, dims ...int) []byte {
	var buf bytes.Buffer
	binary.Write(&buf, binary.BigEndian, uint32(0x0800|len(dims)))
	for _, d := range dims {
		binary.Write(&buf, binary.BigEndian, uint32(d))
	}
	buf.Write(values)
	return buf.Bytes()
}
