package backendtest

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// recorder is a testing.TB that records Fatalf and Skipf, which end the calling goroutine.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()        {}
func (r *recorder) Cleanup(func()) {}
func (r *recorder) Fatalf(format string, a ...any) {
	r.fatal = fmt.Sprintf(format, a...)
	runtime.Goexit()
}
func (r *recorder) Skipf(format string, a ...any) {
	r.skip = fmt.Sprintf(format, a...)
	runtime.Goexit()
}

// run calls need in its own goroutine (Fatalf and Skipf end it) and returns what it recorded.
func run(name, marker string, installed bool) *recorder {
	r := &recorder{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		need(r, name, marker, installed)
	}()
	<-done
	return r
}

// A backend that does not load is a one-line failure where setup installed it, and a skip
// where it did not.
func TestNeed(t *testing.T) {
	const missing = "xla:/nonexistent/pjrt_c_api_cpu_plugin.so"
	for _, tc := range []struct {
		installed   bool
		fatal, skip bool
	}{{installed: true, fatal: true}, {installed: false, skip: true}} {
		r := run(missing, "/checkout/.venv/.iagen-xla-cpu", tc.installed)
		if (r.fatal != "") != tc.fatal || (r.skip != "") != tc.skip {
			t.Errorf("installed %v: fatal %q, skip %q; want fatal %v, skip %v", tc.installed, r.fatal, r.skip, tc.fatal, tc.skip)
		}
		msg := r.fatal + r.skip
		if strings.Contains(msg, "\n") || !strings.Contains(msg, "/nonexistent/") {
			t.Errorf("installed %v: %q; want one line naming the plugin", tc.installed, msg)
		}
		if tc.installed && !strings.Contains(msg, ".iagen-xla-cpu") {
			t.Errorf("the failure does not name the marker: %q", msg)
		}
	}
	if r := run("go", "", true); r.fatal != "" || r.skip != "" {
		t.Errorf("a backend that loads: fatal %q, skip %q", r.fatal, r.skip)
	}
}
