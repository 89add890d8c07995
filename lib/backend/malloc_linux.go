//go:build linux && cgo

package backend

/*
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

// XLA's CPU runtime allocates one block for all of a step's intermediate values at every
// execution and frees it at the end (126 MiB for the gpt bench step). glibc gives a block that
// large to a worker thread's arena with mmap and takes it back with munmap, so every step
// faulted and zeroed every page again: a quarter of the gpt step's CPU time went to the kernel.
// With one arena, no mmap and no trimming the block is allocated once and reused; the price is
// a resident size that stays at its peak.
//
// It runs as the program is loaded, before the Go runtime starts its threads: glibc fixes the
// number of arenas when a second thread first allocates. GLIBC_TUNABLES naming a glibc.malloc
// tunable leaves the user's settings alone.
__attribute__((constructor)) static void keepFreedMemory(void) {
	const char *tunables = getenv("GLIBC_TUNABLES");
	if (tunables != NULL && strstr(tunables, "glibc.malloc.") != NULL) {
		return;
	}
#if defined(M_ARENA_MAX) && defined(M_MMAP_MAX) && defined(M_TRIM_THRESHOLD)
	mallopt(M_ARENA_MAX, 1);
	mallopt(M_MMAP_MAX, 0);
	mallopt(M_TRIM_THRESHOLD, 0x7fffffff);
#endif
}

// freedBlockKept allocates n bytes, frees them and reports whether malloc still holds them.
static int freedBlockKept(size_t n) {
	void *p = malloc(n);
	if (p == NULL) {
		return 0;
	}
	((volatile char *)p)[n - 1] = 1;
	free(p);
	return mallinfo2().fordblks >= n;
}
*/
import "C"

// freedBlockKept reports whether a block of n bytes, allocated and freed, stays with malloc
// for the next allocation rather than going back to the kernel.
func freedBlockKept(n int) bool { return C.freedBlockKept(C.size_t(n)) != 0 }
