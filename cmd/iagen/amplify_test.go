package main

import (
	"strings"
	"testing"
)

func TestAmplifyBadInput(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"amplify", "vae"}, "--out is required"},
		{[]string{"amplify", "--out", t.TempDir()}, "give exactly one family"},
		{[]string{"amplify", "vae", "--out", t.TempDir(), "--seeds", "1"}, "--seeds must be ≥ 2"},
		{[]string{"amplify", "vae", "--out", t.TempDir(), "--steps", "-1"}, "--steps must be ≥ 0"},
		{[]string{"amplify", "vae", "--out", t.TempDir(), "--n", "1"}, "--n must be ≥ 2"},
		{[]string{"amplify", "nope", "--out", t.TempDir()}, "nope"},
		{[]string{"amplify", "vae", "--out", t.TempDir(), "--data-dir", t.TempDir()}, "mnist"},
		{[]string{"amplify", "lstm", "--out", t.TempDir()}, "does not generate images"},
	} {
		status, _, stderr := cli(t, tc.args...)
		if status == 0 || !strings.Contains(stderr, tc.want) || !oneLine(stderr) {
			t.Errorf("iagen %v: status %d, stderr %q; want non-zero and one line mentioning %q", tc.args, status, stderr, tc.want)
		}
	}
}
