//go:build unix

package train

import (
	"runtime"
	"syscall"
)

// PeakRSSMiB returns the peak resident memory of this process in MiB (getrusage's
// ru_maxrss: KiB on Linux and the BSDs, bytes on macOS), or 0 if it cannot be read.
func PeakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return float64(ru.Maxrss) / (1 << 20)
	}
	return float64(ru.Maxrss) / (1 << 10)
}
