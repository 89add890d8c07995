# iagen — the two commands that matter:
#   make lab    set up if needed, then JupyterLab on 127.0.0.1 with the iagen kernel
#   make test   set up if needed, then every Go test and every notebook, headless
# Everything here is a thin wrapper over scripts/ and the iagen command.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
export GOEXPERIMENT := simd
export GOMLX_NO_AUTO_INSTALL := 1
export GOFLAGS := -buildvcs=false
# Asynchronous preemption leaves the SIMD matmul's vector registers dirty, which makes math.Exp
# on that thread ~240x slower on the go backend (see lib/nn/main_test.go).
export GODEBUG := asyncpreemptoff=1

VENV   := .venv
PYTHON := $(VENV)/bin/python
NOTEBOOKS ?= $(sort $(wildcard notebooks/*.ipynb))

.PHONY: setup lab test test-go test-notebooks build bench data results fuzz clean

## setup: Python venv with JupyterLab, gonb + goimports + gopls, the kernel, data (idempotent)
setup:
	bash scripts/setup.sh

## lab: the main job — JupyterLab on 127.0.0.1 (PORT, JUPYTER_TOKEN) with the iagen kernel
lab:
	bash scripts/lab.sh

## test: all Go tests, then every notebook executed headless with the ci profile
test: setup test-go test-notebooks

test-go:
	go vet ./...
	go test -count=1 -timeout 40m ./...

test-notebooks:
	IAGEN_RUNS_DIR=$$(mktemp -d) $(PYTHON) scripts/nbtest.py --offline --timeout 1800 $(NOTEBOOKS)
	bash tests/notebooks/test_runner.sh

## build: the iagen command in bin/
build:
	go build -o bin/iagen ./cmd/iagen

## bench: step times of the bench configurations (BENCH.md), one JSON line per family
bench: build
	bin/iagen bench --json

## results: re-run the published small results (results/<family>/small), one run after another
results: build
	bash scripts/results.sh

## data: fetch and verify every dataset of the catalog (iagen data list)
data: build
	bin/iagen data fetch
	bin/iagen data verify

FUZZTIME ?= 20s

## fuzz: every fuzz target of the Go tests (each `func FuzzX` of a _test.go) for FUZZTIME each
## (default 20s); a failing input is kept in the package's testdata/fuzz/FuzzX/ and the target
## named at the end
fuzz:
	@failed=""; \
	for f in $$(grep -rl --include='*_test.go' '^func Fuzz' lib cmd | sort); do \
	  for name in $$(sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$$f"); do \
	    echo "== $$name (./$$(dirname "$$f"), $(FUZZTIME))"; \
	    go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "./$$(dirname "$$f")" || failed="$$failed $$name"; \
	  done; \
	done; \
	if [[ -n $$failed ]]; then echo "fuzz: failing inputs found by:$$failed (see testdata/fuzz/)" >&2; exit 1; fi

clean:
	rm -rf bin
