//go:build !unix

package train

// PeakRSSMiB returns 0: peak resident memory is read with getrusage, on Unix systems only.
func PeakRSSMiB() float64 { return 0 }
