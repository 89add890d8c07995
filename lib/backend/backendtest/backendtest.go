// Package backendtest gives tests the XLA backend they compare the go backend with, and decides
// what its absence means: on a machine where setup installed the XLA CPU plugin
// (backend.XLACPUInstalled) an xla:cpu that does not load fails the test, in one line; on one
// where it was never installed (another platform, IAGEN_SETUP_SKIP_XLA=1) the test is skipped,
// visibly. A missing plugin thus never turns a machine's test run green by skipping.
package backendtest

import (
	"testing"

	"github.com/gomlx/compute"
	"github.com/iagen-course/iagen/lib/backend"
)

// XLACPU returns the xla:cpu backend, finalized when the test ends; see the package comment
// for when it skips or fails instead.
func XLACPU(tb testing.TB) compute.Backend {
	tb.Helper()
	marker, installed := backend.XLACPUInstalled()
	return need(tb, "xla:cpu", marker, installed)
}

// need returns the backend called name; if it does not load, it fails tb when installed (setup
// left marker) and skips it otherwise.
func need(tb testing.TB, name, marker string, installed bool) compute.Backend {
	tb.Helper()
	b, err := backend.New(name)
	switch {
	case err == nil:
		tb.Cleanup(b.Finalize)
		return b
	case installed:
		tb.Fatalf("%s does not load although setup installed it (%s): %v; rerun scripts/install-xla-cpu.sh", name, marker, firstLine(err.Error()))
	default:
		tb.Skipf("%s unavailable, checked on the go backend only (scripts/install-xla-cpu.sh installs it): %v", name, firstLine(err.Error()))
	}
	return nil
}

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' {
			return s[:i]
		}
	}
	return s
}
