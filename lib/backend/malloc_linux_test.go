//go:build linux && cgo

package backend

import (
	"runtime"
	"sync"
	"testing"
)

// A block as large as a step's intermediate values (here 200 MiB), allocated and freed by any
// thread, stays with malloc for the next step (keepFreedMemory, run as the program loads). With glibc's defaults a
// thread other than the main one gets it with mmap and gives it back to the kernel.
func TestFreedMemoryIsKept(t *testing.T) {
	const n = 200 << 20
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			runtime.LockOSThread() // a thread of its own, as XLA's workers have
			defer runtime.UnlockOSThread()
			if !freedBlockKept(n) {
				t.Errorf("thread %d: a freed 200 MiB block went back to the kernel: every XLA step would fault its pages in again", i)
			}
		})
	}
	wg.Wait()
}
