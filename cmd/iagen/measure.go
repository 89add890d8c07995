package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/iagen-course/iagen/lib/train"
)

// What the measurement commands (amplify, augment, tables, compare) share: their seeds, their
// interruption and their report files.

// seedRange returns the seeds first … first+n−1 of a measurement over --seeds N seeds; an
// interval over seeds needs two at least.
func seedRange(first int64, n int) ([]int64, error) {
	if n < 2 {
		return nil, fmt.Errorf("--seeds must be ≥ 2 (an interval over seeds needs two), got %d", n)
	}
	seeds := make([]int64, n)
	for i := range seeds {
		seeds[i] = first + int64(i)
	}
	return seeds, nil
}

// interruptible returns a context that Ctrl-C or SIGTERM cancels: a measurement stops between
// steps and keeps what it finished, to be resumed by the same command.
func interruptible() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// writeReport writes a measurement into dir as name.json (v) and name.md (md), atomically, and
// returns their paths.
func writeReport(dir, name string, v any, md string) (jsonPath, mdPath string, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	jsonPath, mdPath = filepath.Join(dir, name+".json"), filepath.Join(dir, name+".md")
	if err := train.WriteJSON(jsonPath, v); err != nil {
		return "", "", err
	}
	return jsonPath, mdPath, train.WriteFileAtomic(mdPath, []byte(md))
}
