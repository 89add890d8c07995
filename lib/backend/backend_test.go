package backend

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestResolveNames(t *testing.T) {
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", "")
	for _, tc := range []struct{ name, want string }{
		{"go", "go:parallelism=-1"},
		{" ", "auto"}, // blank: $GOMLX_BACKEND (unset here) then Default
	} {
		t.Setenv(EnvVar, "")
		got, err := Resolve(strings.TrimSpace(tc.name))
		if err != nil {
			t.Fatalf("Resolve(%q): %v", tc.name, err)
		}
		if tc.want == "auto" {
			if p, _ := FindPlugin("cpu"); p == "" && got != "go:parallelism=-1" || p != "" && got != "xla:"+p {
				t.Errorf("Resolve(default) = %q with cpu plugin %q", got, p)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("Resolve(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
	if got, _ := Resolve("go:ops_sequential"); got != "go:ops_sequential" {
		t.Errorf("go backend options dropped: %q", got)
	}
	t.Setenv(EnvVar, "go")
	if got, _ := Resolve(""); got != "go:parallelism=-1" {
		t.Errorf("$%s=go resolved to %q", EnvVar, got)
	}
}

func TestUnavailableBackendsFailFastWithClearErrors(t *testing.T) {
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", t.TempDir())
	bogus := filepath.Join(t.TempDir(), "pjrt_c_api_bogus_plugin.so")
	if err := os.WriteFile(bogus, []byte("not a shared library"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, wantInErr string }{
		{"tpu", "unknown backend"},
		{"xla:nonexistent", `no PJRT plugin "nonexistent" found`},
		{"xla:/no/such/plugin.so", "not found"},
		{"xla:" + bogus, "backend"},
	} {
		start := time.Now()
		b, err := New(tc.name)
		if err == nil {
			b.Finalize()
			t.Errorf("New(%q) succeeded, want an error", tc.name)
			continue
		}
		if !strings.Contains(err.Error(), tc.wantInErr) || strings.Contains(err.Error(), "goroutine") {
			t.Errorf("New(%q) error %q: want it to mention %q and hold no stack trace", tc.name, err, tc.wantInErr)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("New(%q) took %v to fail", tc.name, d)
		}
	}
	var pnf *PluginNotFoundError
	if _, err := New("xla:cuda"); !errors.As(err, &pnf) {
		if p, _ := FindPlugin("cuda"); p == "" {
			t.Errorf("xla:cuda without a plugin: want PluginNotFoundError, got %v", err)
		}
	} else if !strings.Contains(err.Error(), "jax-cuda") {
		t.Errorf("the cuda error should say how to install the plugin: %v", err)
	}
}

func TestFindPluginUsesLibraryPath(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pjrt_c_api_myaccel_plugin.so")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PJRT_PLUGIN_LIBRARY_PATH", dir)
	got, _ := FindPlugin("myaccel")
	if got != p {
		t.Errorf("FindPlugin = %q, want %q", got, p)
	}
	cfg, err := Resolve("xla:myaccel,preallocate=false")
	if err != nil || cfg != "xla:"+p+",preallocate=false" {
		t.Errorf("Resolve kept options wrong: %q, %v", cfg, err)
	}
}

func TestGoBackendDescribe(t *testing.T) {
	b, err := New("go")
	if err != nil {
		t.Fatal(err)
	}
	defer b.Finalize()
	info := Describe(b)
	if info.Name == "" || len(info.Devices) == 0 || info.Modules["github.com/gomlx/gomlx"] == "" && info.GoVersion == "" {
		t.Errorf("incomplete description: %+v", info)
	}
	if !strings.Contains(info.String(), "backend:") {
		t.Errorf("String() = %q", info.String())
	}
}

func TestSeed(t *testing.T) {
	t.Setenv(SeedEnvVar, "")
	if Seed() != DefaultSeed {
		t.Errorf("Seed() = %d, want the fixed default %d", Seed(), DefaultSeed)
	}
	t.Setenv(SeedEnvVar, "123")
	if Seed() != 123 {
		t.Errorf("Seed() = %d with $%s=123", Seed(), SeedEnvVar)
	}
}

// Notebook cells run in a temporary module outside the checkout: the kernel's $IAGEN_ROOT must
// still lead to the checkout's .venv.
func TestSitePackagesFollowIAGENRoot(t *testing.T) {
	root := t.TempDir()
	sp := filepath.Join(root, ".venv", "lib", "python3.99", "site-packages")
	if err := os.MkdirAll(sp, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("IAGEN_ROOT", root)
	for _, p := range sitePackages() {
		if p == sp {
			return
		}
	}
	t.Errorf("%s not searched (IAGEN_ROOT=%s)", sp, root)
}

// bin/iagen started from another folder finds its checkout (and so the checkout's .venv) from
// its own location: moduleRootFrom walks up from the executable's folder to this module's go.mod.
func TestModuleRootFromNestedFolder(t *testing.T) {
	root := t.TempDir()
	bin := filepath.Join(root, "bin", "deeper")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if got := moduleRootFrom(bin); got != "" {
		t.Errorf("no go.mod yet: moduleRootFrom = %q, want \"\"", got)
	}
	if err := os.WriteFile(filepath.Join(root, "go.mod"), []byte("module "+modulePath+"\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := moduleRootFrom(bin); got != root {
		t.Errorf("moduleRootFrom(%s) = %q, want %q", bin, got, root)
	}
}

func TestIsCPUPlugin(t *testing.T) {
	for plugin, want := range map[string]bool{
		"/v/lammps_jax_pjrt_cpu/pjrt_c_api_cpu_plugin.so":         true,
		"/v/jax_plugins/xla_cpu/xla_cpu_plugin.so,shared_buffers": true,
		"/v/fastatomstruct_xla_cpu/libpjrt_cpu.so":                true,
		"/v/jax_plugins/xla_cuda13/xla_cuda_plugin.so":            false,
		"/opt/cpu-tools/pjrt_c_api_cuda_plugin.so":                false, // the folder does not count
	} {
		if got := isCPUPlugin(plugin); got != want {
			t.Errorf("isCPUPlugin(%q) = %v, want %v", plugin, got, want)
		}
	}
}
