// Package datatest gives tests the real datasets they need, and decides what their absence
// means: a dataset never fetched on this machine skips the test, visibly, with the command that
// fetches it; a dataset that was fetched but is damaged — a file missing, empty, truncated or
// corrupt — fails the test, in one line naming the file and the fix. Damaged data never turns a
// test run green by skipping.
package datatest

import (
	"strings"
	"testing"

	"github.com/iagen-course/iagen/lib/data"
)

// Dir returns the data folder (data.Dir("")) once the named datasets are verified there (see
// the package comment for when it skips or fails instead).
func Dir(tb testing.TB, names ...string) string {
	tb.Helper()
	dir := data.Dir("")
	fetched, err := data.Fetched(dir, names...)
	switch {
	case err != nil:
		tb.Fatal(err.Error())
	case !fetched:
		tb.Skipf("dataset %s not fetched in %s: run `iagen data fetch %s` (or `make setup`)", strings.Join(names, ", "), dir, strings.Join(names, " "))
	}
	return dir
}
