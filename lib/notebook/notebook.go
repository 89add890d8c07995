// Package notebook is what the course notebooks share, so that a cell reads like a sentence
// of the course: stop a cell on an error (Must), the run profile and the backend, train a
// family into the notebook's run folder (Train) and load it back in a later cell (Load), draw
// a run's curves (ShowCurves) and show the published results of a profile (ShowPublished).
//
// gonb runs every cell as a program of its own, so a cell that trains keeps its run in
// family.RunDir and later cells load it from there. What it prints for the reader is in
// Spanish. Import it under a short name (a dot-import breaks later gonb cells):
//
//	import nb "github.com/iagen-course/iagen/lib/notebook"
//
//	r := nb.Train("gan")                    // trains the gan of nb.Profile(), or resumes it
//	m := nb.Load("gan").Model.(*gan.Model)  // in a later cell
package notebook

import (
	"fmt"
	"os"
	"sync"

	"github.com/gomlx/compute"
	"github.com/iagen-course/iagen/lib/backend"
	"github.com/iagen-course/iagen/lib/family"
)

// Must returns v, or stops the cell when err is not nil (see Check).
func Must[T any](v T, err error) T {
	Check(err)
	return v
}

// Must2 returns a and b, or stops the cell when err is not nil (see Check).
func Must2[A, B any](a A, b B, err error) (A, B) {
	Check(err)
	return a, b
}

// Check stops the cell when err is not nil: it prints "error: …" on stderr and exits with
// status 1, which gonb reports as a failed cell.
func Check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

// DefaultProfile is the profile of a notebook run without $IAGEN_PROFILE: seconds per model.
const DefaultProfile = "ci"

// Profile returns the profile the notebooks train: $IAGEN_PROFILE when it names one (small
// trains the reference models in minutes), else DefaultProfile.
func Profile() string { return family.ProfileFromEnv(DefaultProfile) }

var newBackend = sync.OnceValues(func() (compute.Backend, error) { return backend.New("") })

// Backend returns the cell's backend (backend.New("") — $GOMLX_BACKEND or the default), the
// same one however often it is called.
func Backend() compute.Backend { return Must(newBackend()) }
