//go:build unix

package metrics

import "syscall"

// processCPUSeconds is the user+system CPU time of this process so far: on a shared machine
// the benchmarks report it next to wall time, which other processes inflate.
func processCPUSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
