package nn

import (
	"fmt"
	"os"
	"runtime/debug"
	"strings"
	"syscall"
	"testing"
)

// TestMain re-executes the test binary with GODEBUG=asyncpreemptoff=1 when it was built with
// GOEXPERIMENT=simd. Measured here (go1.26.8, Xeon with AVX-512): in a simd build, Go's
// asynchronous preemption leaves the upper halves of the vector registers dirty, and every
// scalar float instruction that follows on that thread pays the AVX-SSE transition penalty:
// math.Exp then takes 100–1400 ns instead of 6 ns, and the go backend's Exp, Logistic, Tanh
// run 10–50× slower (sigmoid of 1.6M floats: 640–900 ms vs 17–19 ms). Turning off
// asynchronous preemption avoids it. Set IAGEN_KEEP_GODEBUG=1 to measure without it.
func TestMain(m *testing.M) {
	if simdBuild() && !strings.Contains(os.Getenv("GODEBUG"), "asyncpreemptoff=1") && os.Getenv("IAGEN_KEEP_GODEBUG") == "" {
		godebug := "asyncpreemptoff=1"
		if old := os.Getenv("GODEBUG"); old != "" {
			godebug = old + "," + godebug
		}
		env := append(os.Environ(), "GODEBUG="+godebug)
		if exe, err := os.Executable(); err == nil {
			err = syscall.Exec(exe, os.Args, env)
			fmt.Fprintf(os.Stderr, "lib/nn tests: could not re-execute with GODEBUG=%s: %v\n", godebug, err)
		}
	}
	os.Exit(m.Run())
}

func simdBuild() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "GOEXPERIMENT" && strings.Contains(s.Value, "simd") {
			return true
		}
	}
	return false
}
