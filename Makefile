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
# Executed copies of the notebooks (scripts/nbtest.py --out), which the course site renders
EXECUTED := tutorials/_build/executed

.PHONY: setup lab test test-go test-notebooks build bench bench-pytorch bench-compare data results fuzz clean docker test-docker site test-site test-browser

## setup: Python venv with JupyterLab, gonb + goimports + gopls, the kernel, data (idempotent)
setup:
	bash scripts/setup.sh

## lab: the main job — JupyterLab on 127.0.0.1 (PORT, JUPYTER_TOKEN) with the iagen kernel
lab:
	bash scripts/lab.sh

## test: all Go tests, then every notebook executed headless with the ci profile, then the course
## site built with --strict from those executed notebooks
test: setup test-go test-notebooks test-site

test-go:
	go vet ./...
	go test -count=1 -timeout 40m ./...

test-notebooks:
	IAGEN_RUNS_DIR=$$(mktemp -d) $(PYTHON) scripts/nbtest.py --offline --timeout 1800 --out $(EXECUTED) $(NOTEBOOKS)
	bash tests/notebooks/test_runner.sh

## site: the course site (tutorials/, MkDocs + Material) in tutorials/_build/site; notebooks whose
## executed copy ($(EXECUTED)) is missing or stale are executed first (ci profile)
site: setup
	$(PYTHON) tutorials/build_site.py --execute --strict

## test-site: `mkdocs build --strict` of the site (no broken links) from the executed copies that
## test-notebooks left; never executes (a notebook without a copy is shown without outputs, and says so)
test-site:
	$(PYTHON) tutorials/build_site.py --strict

## test-browser: Debian's chromium driven by Playwright: JupyterLab started as `make lab` starts it
## runs 00_inicio; the site's home and notebook pages render with no console errors and the video
## embeds present (screenshots in tests/site/artifacts/). Needs /usr/bin/chromium; not in `make test`
test-browser: test-site
	PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 $(PYTHON) -m pip install --quiet --disable-pip-version-check \
	  -r tests/site/requirements-browser.txt -c scripts/requirements-lab.txt
	$(PYTHON) -m pytest -q tests/site

## build: the iagen command in bin/
build:
	go build -o bin/iagen ./cmd/iagen

## bench: step times of the bench configurations (BENCH.md), one JSON line per family
bench: build
	bin/iagen bench --json

## bench-pytorch: PyTorch 2.15 for the speed comparison, in .venv-torch/ (bench/pytorch/requirements.txt,
## every wheel hash-checked; several GB, downloaded only by this target). Not part of `make test`
bench-pytorch:
	bash scripts/bench-pytorch.sh

COMPARE_ARGS ?=

## bench-compare: the bench configurations timed by iagen and by PyTorch on this machine, one family at
## a time, as a Markdown table with the ratio PyTorch/iagen (bench/pytorch/compare.py; COMPARE_ARGS,
## e.g. "gpt lstm --steps 50 --threads 2" or "--json")
bench-compare: build bench-pytorch
	.venv-torch/bin/python bench/pytorch/compare.py $(COMPARE_ARGS)

## results: re-run the published small results (results/<family>/small), one run after another
results: build
	bash scripts/results.sh

## data: fetch and verify every dataset of the catalog (iagen data list)
data: build
	bin/iagen data fetch
	bin/iagen data verify

VARIANT ?= cpu

## docker: the notebook image iagen-notebook:$(VARIANT) (cpu or gpu; BASE_IMAGE=... to change the
## base), built with this machine's Go proxy, pip index and CA certificates (docker/build.sh)
docker:
	bash docker/build.sh --variant $(VARIANT) $(if $(BASE_IMAGE),--base $(BASE_IMAGE))

## test-docker: the image with a real Docker engine (started when none runs): built on a
## debootstrap base, run alone, over an empty home volume, and by JupyterHub for three users
## (tests/docker/run.sh). Where no engine can start it says "test-docker: SKIPPED: <why>" in one
## line and exits 0 (run.sh itself exits 77). Not part of `make test`.
test-docker:
	bash tests/docker/run.sh || { rc=$$?; [[ $$rc == 77 ]] || exit $$rc; }

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
