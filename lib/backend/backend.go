// Package backend chooses, describes and seeds the GoMLX compute backend.
//
// The pure-Go backend ("go") always works and needs nothing installed. An XLA/PJRT backend is
// used when asked for by name ("xla:cpu", "xla:cuda", "xla:/abs/path/plugin.so") and a plugin
// is found on the machine; the default, "auto", takes XLA on CPU when its plugin is installed. Nothing is ever downloaded: GoMLX's plugin auto-installer is disabled
// when this package is imported.
package backend

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/gomlx/compute"
	"github.com/gomlx/go-xla/compute/xla"
	"github.com/gomlx/go-xla/pjrt"

	// Registers the "go" and "xla" backends.
	_ "github.com/gomlx/gomlx/backends/default"
)

// goDefaultOptions configure the pure-Go backend when no options are given: an unbounded worker
// pool (see Resolve).
const goDefaultOptions = "parallelism=-1"

// EnvVar is the environment variable that selects a backend when no name is given.
const EnvVar = compute.ConfigEnvVar // "GOMLX_BACKEND"

// Default is the backend used when neither a name nor $GOMLX_BACKEND is given: "auto" picks
// XLA on CPU when its PJRT plugin is installed (scripts/install-xla-cpu.sh; about 5× faster on
// an MLP here) and the pure-Go backend otherwise.
const Default = "auto"

func init() {
	// Never download plugins at run time, whatever the environment says.
	_ = os.Setenv(xla.NoAutoInstallEnv, "1")
	xla.EnableAutoInstall(false)
	compute.DefaultConfig = "go"
}

// New returns the backend named by name, or by $GOMLX_BACKEND when name is empty, or Default.
// Accepted names:
//
//	auto                       xla:cpu when its plugin is installed, else go (the default)
//	go                         pure Go, no dependencies, always available
//	go:ops_sequential          pure Go, one op at a time
//	xla:cuda, xla:cpu          an XLA PJRT plugin found on this machine (see FindPlugin)
//	xla:/abs/path/plugin.so    a PJRT plugin by absolute path
//
// Options after a comma are passed to the backend, e.g. "xla:cuda,preallocate=false".
// An unknown or unavailable backend gives an error that names what was looked for and how to
// fix it; it never panics.
func New(name string) (b compute.Backend, err error) {
	config, err := Resolve(name)
	if err != nil {
		return nil, err
	}
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, fmt.Errorf("backend %q: %v", config, firstLine(fmt.Sprint(r)))
		}
	}()
	if strings.HasPrefix(config, "go:") {
		// The go backend prints its parallelism setting to stdout; keep stdout for results
		// (iagen bench --json writes JSON lines there).
		stdout := os.Stdout
		if null, err := os.Open(os.DevNull); err == nil {
			os.Stdout = null
			defer func() { os.Stdout = stdout; null.Close() }()
		}
	}
	b, err = newBackend(config)
	if err != nil {
		return nil, fmt.Errorf("backend %q: %s", config, firstLine(err.Error()))
	}
	configs.Store(b, config)
	return b, nil
}

// CPUDevices is the number of devices iagen asks of XLA's CPU plugin, whose default is 4. The
// plugin sizes its pool of Eigen threads by it as well, at least one per core: with 4 devices on
// a 2-core machine, 4 Eigen threads and the calling thread take turns on the 2 cores. iagen runs
// every computation on one device; with 1 the pool has one thread per core, and the steps of
// BENCH.md take 6–12 % less (gpt, gan, diffusion; the flow's no different).
const CPUDevices = 1

// newBackend builds the backend of a resolved configuration. An XLA CPU plugin (its file name
// says cpu) gets CPUDevices devices; a plugin that refuses the option gets its defaults.
func newBackend(config string) (compute.Backend, error) {
	if plugin, ok := strings.CutPrefix(config, "xla:"); ok && isCPUPlugin(plugin) {
		if b, err := xla.NewWithOptions(plugin, pjrt.NamedValuesMap{"cpu_device_count": int64(CPUDevices)}); err == nil {
			return b, nil
		}
	}
	return compute.NewWithConfig(config)
}

// isCPUPlugin reports whether the plugin of an "xla:" configuration (a path, maybe followed by
// ",options") is one of XLA's CPU plugins, which name themselves so (pjrt_c_api_cpu_plugin.so,
// xla_cpu_plugin.so, libpjrt_cpu.so).
func isCPUPlugin(plugin string) bool {
	path, _, _ := strings.Cut(plugin, ",")
	return strings.Contains(strings.ToLower(filepath.Base(path)), "cpu")
}

// configs remembers the configuration each backend made by New was built from, for Describe.
var configs sync.Map

// Config returns the configuration b was built from by New ("go", "xla:/path/plugin.so"), or
// b's name for a backend made elsewhere.
func Config(b compute.Backend) string {
	if c, ok := configs.Load(b); ok {
		return c.(string)
	}
	return b.Name()
}

// Resolve turns a user-facing backend name into the configuration string GoMLX takes,
// locating PJRT plugins by absolute path. Empty name means $GOMLX_BACKEND, then Default.
func Resolve(name string) (string, error) {
	if name == "" {
		name = strings.TrimSpace(os.Getenv(EnvVar))
	}
	if name == "" {
		name = Default
	}
	kind, rest, _ := strings.Cut(name, ":")
	plugin, opts, _ := strings.Cut(rest, ",")
	if opts != "" {
		opts = "," + opts
	}
	switch kind {
	case "auto":
		if p, _ := FindPlugin("cpu"); p != "" {
			return "xla:" + p + opts, nil
		}
		return "go:" + goDefaultOptions, nil
	case "go":
		// Options of the pure-Go backend pass through, e.g. "go:ops_sequential". Without
		// options, its worker pool is unbounded: compute v0.1.3's bounded pool deadlocks when
		// more large matmuls are ready than it has workers (the GAN and GPT steps hang on 2
		// cores; lib/nn's TestKnownBugParallelMatMulDeadlock pins it).
		if rest != "" {
			return "go:" + rest, nil
		}
		return "go:" + goDefaultOptions, nil
	case "xla", "stablehlo", "shlo", "hlo":
		if plugin == "" {
			plugin = "cpu"
		}
		if filepath.IsAbs(plugin) {
			if _, err := os.Stat(plugin); err != nil {
				return "", fmt.Errorf("backend %q: PJRT plugin file %s not found", name, plugin)
			}
			return "xla:" + plugin + opts, nil
		}
		path, searched := FindPlugin(plugin)
		if path == "" {
			return "", &PluginNotFoundError{Backend: name, Plugin: plugin, Searched: searched}
		}
		return "xla:" + path + opts, nil
	default:
		return "", fmt.Errorf("unknown backend %q: use \"auto\" (the default), \"go\" (pure Go), \"xla:cpu\", \"xla:cuda\" "+
			"or \"xla:/absolute/path/to/pjrt_plugin.so\"", name)
	}
}

// PluginNotFoundError says which PJRT plugin was looked for, where, and how to get one.
type PluginNotFoundError struct {
	Backend, Plugin string
	Searched        []string
}

func (e *PluginNotFoundError) Error() string {
	var fix string
	switch e.Plugin {
	case "cuda":
		fix = "install JAX's CUDA plugin in a Python environment (pip package jax-cuda13-pjrt or jax-cuda12-pjrt), " +
			"or point GOMLX_BACKEND at the plugin: xla:/abs/path/xla_cuda_plugin.so"
	case "cpu":
		fix = "install an XLA CPU PJRT plugin (see README, \"Backends\"), set PJRT_PLUGIN_LIBRARY_PATH to its folder, " +
			"or use the pure-Go backend: GOMLX_BACKEND=go"
	default:
		fix = "set PJRT_PLUGIN_LIBRARY_PATH to the folder holding pjrt_c_api_" + e.Plugin + "_plugin.so, " +
			"or give its absolute path: xla:/abs/path/plugin.so"
	}
	return fmt.Sprintf("backend %q: no PJRT plugin %q found (looked in %s); %s",
		e.Backend, e.Plugin, strings.Join(e.Searched, ", "), fix)
}

// FindPlugin looks for the PJRT plugin called name ("cpu", "cuda", ...) and returns its absolute
// path, or "" and the places searched. Search order: $PJRT_PLUGIN_LIBRARY_PATH, go-xla's install
// folders (/usr/local/lib/go-xla, ~/.local/lib/go-xla), then — for cuda — the
// jax_plugins/xla_cuda*/xla_cuda_plugin.so that pip's JAX CUDA plugin installs in a
// site-packages folder, and for cpu the plugin packaged by pip wheels of XLA's CPU client.
func FindPlugin(name string) (path string, searched []string) {
	var dirs []string
	for _, d := range filepath.SplitList(os.Getenv("PJRT_PLUGIN_LIBRARY_PATH")) {
		if d != "" {
			dirs = append(dirs, d)
		}
	}
	dirs = append(dirs, "/usr/local/lib/go-xla")
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(home, ".local", "lib", "go-xla"))
	}
	fileNames := []string{"pjrt_c_api_" + name + "_plugin.so", "pjrt_plugin_" + name + ".so", "lib" + name + "_pjrt.so"}
	for _, d := range dirs {
		searched = append(searched, d)
		for _, f := range fileNames {
			if p := filepath.Join(d, f); isFile(p) {
				return absPath(p), searched
			}
		}
		// Versioned names, e.g. pjrt_c_api_cpu_v0.83.1_plugin.so.
		if m, _ := filepath.Glob(filepath.Join(d, "pjrt_c_api_"+name+"_v*_plugin.so")); len(m) > 0 {
			return absPath(m[len(m)-1]), searched
		}
	}
	patterns := map[string][]string{
		"cuda": {"jax_plugins/xla_cuda*/xla_cuda_plugin.so"},
		"cpu": {
			// XLA's CPU plugin from PyPI's lammps-jax-pjrt-cpu (scripts/install-xla-cpu.sh).
			"lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so",
			"jax_plugins/xla_cpu*/xla_cpu_plugin.so",
			// Other wheels that package it (older XLA builds, also checked to work with go-xla).
			"fastatomstruct_xla_cpu/libpjrt_cpu.so",
			"xla_plugins/xla_cpu_pjrt/xla_cpu_pjrt.so",
			"*pjrt*cpu*/*.so",
		},
	}[name]
	for _, sp := range sitePackages() {
		searched = append(searched, sp)
		for _, pat := range patterns {
			if m, _ := filepath.Glob(filepath.Join(sp, pat)); len(m) > 0 {
				return absPath(m[len(m)-1]), searched
			}
		}
	}
	return "", searched
}

// XLACPUMarkerName is the file that scripts/install-xla-cpu.sh writes into the checkout's .venv
// once it has installed the pinned XLA CPU plugin (it holds the plugin's path). It tells tests
// that this machine is meant to have xla:cpu: there a backend that does not load is a failure,
// not a reason to skip (see lib/backend/backendtest).
const XLACPUMarkerName = ".iagen-xla-cpu"

// XLACPUInstalled reports whether setup installed the XLA CPU plugin in this checkout: the path
// of its marker (.venv/.iagen-xla-cpu under CheckoutRoot; "" outside a checkout) and whether
// the marker is there. It does not check the plugin itself: New("xla:cpu") does.
func XLACPUInstalled() (marker string, ok bool) {
	root := CheckoutRoot()
	if root == "" {
		return "", false
	}
	marker = filepath.Join(root, ".venv", XLACPUMarkerName)
	return marker, isFile(marker)
}

// sitePackages lists the Python package folders where pip may have put a PJRT plugin: the
// active virtual environment, this checkout's .venv, the user's and the system's.
func sitePackages() []string {
	var roots []string
	if v := os.Getenv("VIRTUAL_ENV"); v != "" {
		roots = append(roots, v)
	}
	// This checkout's .venv: found from the working directory, from the executable's folder
	// (bin/iagen started elsewhere), or from $IAGEN_ROOT, which the iagen kernel sets (notebook
	// cells run in a temporary module elsewhere).
	for _, root := range []string{ModuleRoot(), executableRoot(), os.Getenv("IAGEN_ROOT")} {
		if root != "" {
			roots = append(roots, filepath.Join(root, ".venv"))
		}
	}
	home, _ := os.UserHomeDir()
	var out []string
	for _, r := range roots {
		m, _ := filepath.Glob(filepath.Join(r, "lib", "python3*", "site-packages"))
		out = append(out, m...)
	}
	for _, pat := range []string{
		filepath.Join(home, ".local", "lib", "python3*", "site-packages"),
		"/usr/local/lib/python3*/site-packages", "/usr/local/lib/python3*/dist-packages",
		"/usr/lib/python3/dist-packages", "/opt/conda/lib/python3*/site-packages",
		filepath.Join(home, ".pyenv", "versions", "*", "lib", "python3*", "site-packages"),
	} {
		m, _ := filepath.Glob(pat)
		out = append(out, m...)
	}
	return out
}

// CheckoutRoot returns the root of this checkout: from the working directory, else the running
// executable's folder (bin/iagen), else $IAGEN_ROOT (the iagen kernel sets it: notebook cells
// run in a temporary module elsewhere); "" when none is found.
func CheckoutRoot() string {
	for _, root := range []string{ModuleRoot(), executableRoot(), os.Getenv("IAGEN_ROOT")} {
		if root != "" {
			return root
		}
	}
	return ""
}

// ModuleRoot returns the root of this checkout (the folder with go.mod that declares this
// module), searching upwards from the working directory, or "" when not inside it.
func ModuleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	return moduleRootFrom(dir)
}

// executableRoot is the checkout holding the running executable (bin/iagen), so that the CLI
// finds the checkout's .venv wherever it is started from.
func executableRoot() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return moduleRootFrom(filepath.Dir(exe))
}

// moduleRootFrom is the nearest folder at or above dir whose go.mod declares this module.
func moduleRootFrom(dir string) string {
	for {
		data, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && strings.Contains(string(data), "module "+modulePath+"\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

const modulePath = "github.com/iagen-course/iagen"

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// Info describes a backend and the software around it, for notebooks and run manifests.
type Info struct {
	Name        string            `json:"name"`
	Config      string            `json:"config"`
	Description string            `json:"description"`
	Devices     []string          `json:"devices"`
	GoVersion   string            `json:"go_version"`
	GOOS        string            `json:"goos"`
	GOARCH      string            `json:"goarch"`
	CPUs        int               `json:"cpus"`
	SIMD        bool              `json:"simd"`
	Modules     map[string]string `json:"modules"`
}

// Describe reports what b is, its devices, and the versions of Go, GoMLX and its backends.
func Describe(b compute.Backend) Info {
	info := Info{
		GoVersion: runtime.Version(),
		GOOS:      runtime.GOOS,
		GOARCH:    runtime.GOARCH,
		CPUs:      runtime.NumCPU(),
		Modules:   Versions(),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "GOEXPERIMENT" && strings.Contains(s.Value, "simd") {
				info.SIMD = true
			}
		}
	}
	if b == nil {
		return info
	}
	info.Name = b.Name()
	info.Config = Config(b)
	info.Description = b.Description()
	for i := range b.NumDevices() {
		info.Devices = append(info.Devices, b.DeviceDescription(compute.DeviceNum(i)))
	}
	return info
}

// Versions returns the versions of the modules a result depends on (GoMLX and its backends),
// as recorded in the binary's build information.
func Versions() map[string]string {
	out := map[string]string{}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return out
	}
	for _, m := range bi.Deps {
		switch m.Path {
		case "github.com/gomlx/gomlx", "github.com/gomlx/compute", "github.com/gomlx/go-xla", "github.com/janpfeifer/gonb":
			v := m.Version
			if m.Replace != nil {
				v = m.Replace.Version
			}
			out[m.Path] = v
		}
	}
	return out
}

// String renders the description as a few lines of text.
func (i Info) String() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "backend:  %s (%s)\n", i.Name, i.Description)
	for n, d := range i.Devices {
		fmt.Fprintf(&sb, "device %d: %s\n", n, d)
	}
	fmt.Fprintf(&sb, "go:       %s %s/%s, %d CPUs, SIMD build: %v\n", i.GoVersion, i.GOOS, i.GOARCH, i.CPUs, i.SIMD)
	for _, m := range []string{"github.com/gomlx/gomlx", "github.com/gomlx/compute", "github.com/gomlx/go-xla"} {
		if v, ok := i.Modules[m]; ok {
			fmt.Fprintf(&sb, "%-9s %s\n", filepath.Base(m)+":", v)
		}
	}
	return sb.String()
}

// DefaultSeed seeds every run unless a seed is given: runs are reproducible by default.
const DefaultSeed int64 = 42

// SeedEnvVar overrides DefaultSeed for runs started without an explicit seed (notebooks, CI).
const SeedEnvVar = "IAGEN_SEED"

// Seed returns $IAGEN_SEED when it holds an integer, else DefaultSeed.
func Seed() int64 {
	var s int64
	if v := strings.TrimSpace(os.Getenv(SeedEnvVar)); v != "" {
		if _, err := fmt.Sscan(v, &s); err == nil {
			return s
		}
	}
	return DefaultSeed
}
