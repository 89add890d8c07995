package data

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// State says what Verify found for one file.
type State int

const (
	OK         State = iota // present, right size and SHA-256
	Missing                 // no such file
	Empty                   // zero bytes (an interrupted copy, say)
	Truncated               // shorter than the catalogue's size
	Corrupt                 // right size or longer, wrong SHA-256
	Unreadable              // exists but cannot be read
)

func (s State) String() string {
	switch s {
	case OK:
		return "ok"
	case Missing:
		return "missing"
	case Empty:
		return "empty"
	case Truncated:
		return "truncated"
	case Corrupt:
		return "checksum mismatch"
	case Unreadable:
		return "unreadable"
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// FileStatus is Verify's finding for one file of one dataset.
type FileStatus struct {
	Dataset string
	File    string // file name, as in the catalogue
	Path    string // where it was looked for
	State   State
	Size    int64  // bytes found (0 when missing)
	SHA256  string // checksum found (empty unless the file was read)
	Want    string // checksum expected
	Err     error  // the I/O error for Unreadable

	dataDir string // the data folder given, for the fix hint
}

// Error describes a file that is not OK as one sentence naming the file and the fix.
func (s FileStatus) Error() string {
	if s.State == OK {
		return ""
	}
	what := s.State.String()
	switch s.State {
	case Truncated:
		what = fmt.Sprintf("truncated (%d bytes, want %d)", s.Size, wantSize(s.Dataset, s.File))
	case Corrupt:
		what = fmt.Sprintf("corrupt (SHA-256 %s, want %s)", short(s.SHA256), short(s.Want))
	case Unreadable:
		what = fmt.Sprintf("unreadable (%v)", s.Err)
	}
	return fmt.Sprintf("data: %s: file %s is %s; %s", s.Dataset, s.Path, what, fixHint(s.Dataset, s.dataDir))
}

// fixHint tells how to repair dataset name in the data folder dir.
func fixHint(name, dir string) string {
	flag := ""
	if dir != "" && filepath.Clean(dir) != filepath.Clean(Dir("")) {
		flag = " --data-dir " + dir
	}
	return fmt.Sprintf("run `iagen data fetch %s%s` (or `make setup`), or point --data-dir/$%s to a folder holding the right files", name, flag, DirEnvVar)
}

func short(sum string) string {
	if len(sum) > 12 {
		return sum[:12] + "…"
	}
	return sum
}

func wantSize(dataset, file string) int64 {
	d, err := Lookup(dataset)
	if err != nil {
		return -1
	}
	for _, f := range d.Files {
		if f.Name == file {
			return f.Size
		}
	}
	return -1
}

// Verify checks the files of the named datasets (all when no name is given) in the data folder
// dir (see [Dir]; a dataset's files are looked for in dir/NAME/, then in dir itself). It returns
// one status per file; the error is non-nil when a name is unknown or any file is not OK, and
// then describes the first bad file and how to fix it.
func Verify(dir string, names ...string) ([]FileStatus, error) {
	sets, err := selectDatasets(names)
	if err != nil {
		return nil, err
	}
	var all []FileStatus
	var first error
	for _, d := range sets {
		st := verifyDataset(dir, d)
		for _, s := range st {
			if s.State != OK && first == nil {
				first = errors.New(s.Error())
			}
		}
		all = append(all, st...)
	}
	return all, first
}

// Fetched reports whether the named datasets (all when none is given) were fetched into the
// data folder dir — each has its folder dir/NAME, or some of its files, there — and verifies the
// ones that were: err describes the first missing, empty, truncated or corrupt file of a fetched
// dataset, in one line with the fix (see Verify). fetched is true when every named dataset was
// fetched. Tests use it to tell "never fetched here" (skip) from "fetched and damaged" (fail).
func Fetched(dir string, names ...string) (fetched bool, err error) {
	sets, err := selectDatasets(names)
	if err != nil {
		return false, err
	}
	fetched = true
	for _, d := range sets {
		st := verifyDataset(dir, d)
		here := isDir(filepath.Join(dir, d.Name))
		for _, s := range st {
			here = here || s.State != Missing
		}
		if !here {
			fetched = false
			continue
		}
		for _, s := range st {
			if s.State != OK && err == nil {
				err = errors.New(s.Error())
			}
		}
	}
	return fetched, err
}

func isDir(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.IsDir()
}

func selectDatasets(names []string) ([]Dataset, error) {
	if len(names) == 0 {
		return Catalog(), nil
	}
	var sets []Dataset
	for _, n := range names {
		d, err := Lookup(n)
		if err != nil {
			return nil, err
		}
		sets = append(sets, d)
	}
	return sets, nil
}

// datasetDir returns the folder holding d's files: dir/NAME when its first file is there, else
// dir itself when its first file is there, else dir/NAME (where fetch puts them).
func datasetDir(dir string, d Dataset) string {
	sub := filepath.Join(dir, d.Name)
	if len(d.Files) == 0 {
		return sub
	}
	if _, err := os.Stat(filepath.Join(sub, d.Files[0].Name)); err == nil {
		return sub
	}
	if _, err := os.Stat(filepath.Join(dir, d.Files[0].Name)); err == nil {
		return dir
	}
	return sub
}

func verifyDataset(dir string, d Dataset) []FileStatus {
	base := datasetDir(dir, d)
	out := make([]FileStatus, len(d.Files))
	for i, f := range d.Files {
		out[i] = checkFile(dir, d.Name, f, filepath.Join(base, f.Name))
	}
	return out
}

// checkFile compares one file against its catalogue entry.
func checkFile(dir, dataset string, f File, path string) FileStatus {
	s := FileStatus{Dataset: dataset, File: f.Name, Path: path, Want: f.SHA256, dataDir: dir}
	fh, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			s.State = Missing
		} else {
			s.State, s.Err = Unreadable, err
		}
		return s
	}
	defer fh.Close()
	h := sha256.New()
	n, err := io.Copy(h, fh)
	s.Size = n
	switch {
	case err != nil:
		s.State, s.Err = Unreadable, err
	case n == 0:
		s.State = Empty
	default:
		s.SHA256 = hex.EncodeToString(h.Sum(nil))
		switch {
		case s.SHA256 == f.SHA256:
			s.State = OK
		case f.Size > 0 && n < f.Size:
			s.State = Truncated
		default:
			s.State = Corrupt
		}
	}
	return s
}

// readVerified reads every file of the named dataset after checking its checksum. It returns
// the contents keyed by file name and the name → SHA-256 map for run manifests; errors name the
// file and the fix.
func readVerified(dir, name string) (map[string][]byte, map[string]string, error) {
	d, err := Lookup(name)
	if err != nil {
		return nil, nil, err
	}
	return readFiles(dir, d)
}

// readChecked reads file f of dataset from folder base and checks its checksum.
func readChecked(dir, dataset string, f File, base string) ([]byte, error) {
	path := filepath.Join(base, f.Name)
	b, err := os.ReadFile(path)
	if err != nil {
		s := FileStatus{Dataset: dataset, File: f.Name, Path: path, Want: f.SHA256, State: Unreadable, Err: err, dataDir: dir}
		if errors.Is(err, os.ErrNotExist) {
			s.State = Missing
		}
		return nil, errors.New(s.Error())
	}
	if s := statusOf(dir, dataset, f, path, b); s.State != OK {
		return nil, errors.New(s.Error())
	}
	return b, nil
}

// statusOf is checkFile for bytes already read.
func statusOf(dir, dataset string, f File, path string, b []byte) FileStatus {
	s := FileStatus{Dataset: dataset, File: f.Name, Path: path, Want: f.SHA256, Size: int64(len(b)), dataDir: dir}
	if len(b) == 0 {
		s.State = Empty
		return s
	}
	sum := sha256.Sum256(b)
	s.SHA256 = hex.EncodeToString(sum[:])
	switch {
	case s.SHA256 == f.SHA256:
		s.State = OK
	case f.Size > 0 && s.Size < f.Size:
		s.State = Truncated
	default:
		s.State = Corrupt
	}
	return s
}
