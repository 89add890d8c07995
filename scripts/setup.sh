#!/usr/bin/env bash
# Installs everything the notebooks, the lab and the tests need, inside this checkout:
#
#   .venv/          Python venv with JupyterLab & co., exact versions of scripts/requirements-lab.txt
#                   (and the course site's MkDocs & co., tutorials/requirements-site.txt)
#   .tools/bin/     gonb (the Go kernel), goimports, gopls — pinned versions
#   .venv/share/jupyter/kernels/iagen   the "Go (iagen)" kernel (kernels/)
#   Go module and build caches warmed (the usual per-user Go caches), datasets fetched
#
# Idempotent: a step already done (same versions, same inputs) is skipped, so a second run takes
# seconds. Needs go (>= the version in go.mod) and python3 (>= 3.11) with venv; uses only the
# Python and Go package registries, never sudo. Works as root or as an ordinary user.
#
# Environment: PYTHON (default python3), IAGEN_SETUP_SKIP_DATA=1 skips the dataset step,
# IAGEN_SETUP_SKIP_WARM=1 skips warming the Go build cache, IAGEN_SETUP_SKIP_XLA=1 skips the XLA
# CPU plugin (the pure-Go backend is then used).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

GONB_VERSION=v0.11.4
GOIMPORTS_VERSION=v0.52.0 # golang.org/x/tools
GOPLS_VERSION=v0.23.0     # golang.org/x/tools/gopls (@latest needs a newer Go)

export GOEXPERIMENT=simd GOMLX_NO_AUTO_INSTALL=1 GOFLAGS=-buildvcs=false
VENV=$ROOT/.venv
TOOLS=$ROOT/.tools/bin
REQS=$ROOT/scripts/requirements-lab.txt

start=$SECONDS
step() { printf '\n==> %s\n' "$*"; }
info() { printf '    %s\n' "$*"; }
die() {
  printf 'setup.sh: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
step "Checking go and python"
command -v go >/dev/null || die "go not found on PATH: install Go $(awk '$1 == "go" { print $2 }' go.mod) or newer"
GOROOT_DIR=$(go env GOROOT) # run in the repo: honours go.mod's toolchain line
GO_BIN=$GOROOT_DIR/bin/go
want_go=$(awk '$1 == "go" { print $2; exit }' go.mod)
have_go=$("$GO_BIN" env GOVERSION)
have_go=${have_go#go}
have_go=${have_go%%-*}
if [[ $(printf '%s\n%s\n' "$want_go" "$have_go" | sort -V | head -1) != "$want_go" ]]; then
  die "go $have_go is older than go.mod's go $want_go"
fi
info "go $have_go ($GO_BIN)"
export GOMODCACHE=${GOMODCACHE:-$(go env GOMODCACHE)}

PYTHON=${PYTHON:-python3}
command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.11 or newer (with venv)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' ||
  die "$PYTHON is $("$PYTHON" -V 2>&1); Python 3.11 or newer is needed"
info "$("$PYTHON" -V 2>&1) ($(command -v "$PYTHON"))"

# ---------------------------------------------------------------------------------------------
step "Python environment (.venv, pinned by scripts/requirements-lab.txt)"
if [[ -x $VENV/bin/python ]] && ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
  info "existing .venv is broken (its Python moved?): recreating it"
  rm -rf "$VENV"
fi
if [[ ! -x $VENV/bin/python ]]; then
  "$PYTHON" -m venv "$VENV" || die "could not create $VENV (Debian/Ubuntu: apt-get install python3-venv)"
  info "created $VENV"
fi
# The marker records what was installed: the lock file's hash and the venv's Python.
sha256() { sha256sum "$1" 2>/dev/null || shasum -a 256 "$1"; }
want_marker="$(sha256 "$REQS" | cut -d' ' -f1) $("$VENV/bin/python" -V 2>&1)"
marker=$VENV/.iagen-requirements
if [[ -f $marker && $(<"$marker") == "$want_marker" ]]; then
  info "up to date"
else
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
  # Packages added to .venv by hand (e.g. a PJRT plugin) may have their own complaints: warn only.
  "$VENV/bin/python" -m pip check >/dev/null || info "warning: pip check: $("$VENV/bin/python" -m pip check | tr '\n' ' ')"
  printf '%s\n' "$want_marker" >"$marker"
  info "installed: $("$VENV/bin/python" -m pip list --format=freeze 2>/dev/null |
    grep -iE '^(jupyterlab|nbclient|nbconvert|nbformat|pytest)==' | tr '\n' ' ')"
fi

# ---------------------------------------------------------------------------------------------
# The course site (make site, make test-site): MkDocs, Material, mkdocs-jupyter and MathJax, exact
# versions of tutorials/requirements-site.txt, with the lab lock as constraints (no package of the
# lab changes version).
SITE_REQS=$ROOT/tutorials/requirements-site.txt
step "Course site packages (.venv, pinned by tutorials/requirements-site.txt)"
want_site="$(sha256 "$SITE_REQS" | cut -d' ' -f1) $(sha256 "$REQS" | cut -d' ' -f1) $("$VENV/bin/python" -V 2>&1)"
site_marker=$VENV/.iagen-requirements-site
if [[ -f $site_marker && $(<"$site_marker") == "$want_site" ]]; then
  info "up to date"
else
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$SITE_REQS" -c "$REQS"
  printf '%s\n' "$want_site" >"$site_marker"
  info "installed: $("$VENV/bin/python" -m pip list --format=freeze 2>/dev/null |
    grep -iE '^(mkdocs|mkdocs-material|mkdocs-jupyter|jupyter-server-mathjax)==' | tr '\n' ' ')"
fi

# ---------------------------------------------------------------------------------------------
step "Go tools in .tools/bin (gonb $GONB_VERSION, goimports $GOIMPORTS_VERSION, gopls $GOPLS_VERSION)"
mkdir -p "$TOOLS"

# tool_version BIN MODULE: the version of MODULE that BIN was built from, or "".
tool_version() {
  [[ -x $1 ]] || return 0
  "$GO_BIN" version -m "$1" 2>/dev/null | awk -v m="$2" '$1 == "mod" && $2 == m { print $3 }'
}

# install_tool NAME MODULE VERSION PACKAGE
install_tool() {
  local name=$1 module=$2 version=$3 pkg=$4 have
  have=$(tool_version "$TOOLS/$name" "$module")
  if [[ $have == "$version" ]]; then
    info "$name $version: up to date"
    return
  fi
  info "$name: installing $module@$version${have:+ (found $have)}"
  # A throw-away module: `go install pkg@version` asks the proxy for the module's version
  # list (a deprecation check), which is refused here for some modules (gonb).
  local tmp
  tmp=$(mktemp -d)
  if ! (
    cd "$tmp"
    "$GO_BIN" mod init iagen-tools-tmp
    "$GO_BIN" get "$pkg@$version"
    GOBIN=$TOOLS "$GO_BIN" install "$pkg"
  ) >"$tmp.log" 2>&1; then
    cat "$tmp.log" >&2
    rm -rf "$tmp" "$tmp.log"
    die "installing $name ($pkg@$version) failed"
  fi
  rm -rf "$tmp" "$tmp.log"
  have=$(tool_version "$TOOLS/$name" "$module")
  [[ $have == "$version" ]] || die "$name built, but go version -m reports ${have:-nothing} for $module, not $version"
  info "$name $have installed"
}

install_tool gonb github.com/janpfeifer/gonb "$GONB_VERSION" github.com/janpfeifer/gonb
install_tool goimports golang.org/x/tools "$GOIMPORTS_VERSION" golang.org/x/tools/cmd/goimports
install_tool gopls golang.org/x/tools/gopls "$GOPLS_VERSION" golang.org/x/tools/gopls

# ---------------------------------------------------------------------------------------------
step "Jupyter kernel \"Go (iagen)\" (kernels/iagen)"
chmod +x kernels/iagen/bin/go kernels/iagen/gonb-init.sh
"$VENV/bin/python" kernels/install.py --root "$ROOT" --gonb "$TOOLS/gonb" --goroot "$GOROOT_DIR"
"$VENV/bin/python" kernels/install.py --check --root "$ROOT"

# ---------------------------------------------------------------------------------------------
# Packages a notebook may import beyond this module's own (gonb's display, widgets and cache).
NOTEBOOK_PKGS=(github.com/janpfeifer/gonb/gonbui github.com/janpfeifer/gonb/gonbui/dom
  github.com/janpfeifer/gonb/gonbui/widgets github.com/janpfeifer/gonb/cache)
step "Go modules needed by the library, its tests and the notebooks"
# (`go mod download` with no arguments would also ask for modules that no package needs, one of
# which the module proxy does not serve.)
"$GO_BIN" list -deps -test ./... >/dev/null
"$GO_BIN" list -deps "${NOTEBOOK_PKGS[@]}" >/dev/null

# notebook_module DIR: makes DIR the module of a notebook that imports every package of lib/ and
# NOTEBOOK_PKGS, the way the kernel makes one (through its go shim, which adds the replace and
# require of this checkout), and runs gonb's `go get` there. That `go get` loads the module graph
# of a module that requires only this checkout, which needs go.mod files that the lists above do
# not (those of the dependencies of pre-1.17 modules such as ajstarks/svgo): so it runs once here
# with the network, and once more at the end with GOPROXY=off, as the kernel will run it.
notebook_module() (
  cd "$1"
  {
    printf 'package main\n\nimport (\n\t"fmt"\n\t"os"\n\n'
    printf '\t"github.com/iagen-course/iagen/lib/backend"\n\t_ "github.com/gomlx/gomlx/core/graph"\n'
    "$GO_BIN" -C "$ROOT" list ./lib/... | grep -vx 'github.com/iagen-course/iagen/lib/backend' | sed 's/.*/\t_ "&"/'
    printf '\t_ "%s"\n' "${NOTEBOOK_PKGS[@]}"
    printf ')\n\nfunc main() {\n\tb, err := backend.New("")\n\tif err != nil {\n'
    printf '\t\tfmt.Fprintln(os.Stderr, err)\n\t\tos.Exit(1)\n\t}\n\tfmt.Print(backend.Describe(b))\n}\n'
  } >main.go
  export PATH=$ROOT/kernels/iagen/bin:$TOOLS:$PATH IAGEN_ROOT=$ROOT IAGEN_GO=$GO_BIN GOTOOLCHAIN=local
  go mod init gonb_setupcheck >/dev/null 2>&1
  grep -q "=> $ROOT\$" go.mod || die "the kernel's go shim did not add the replace of this checkout to go.mod"
  go get >/dev/null
)
tmp=$(mktemp -d)
notebook_module "$tmp" || die "go get in a notebook-like module failed (see above)"
rm -rf "$tmp"
info "in the module cache ($GOMODCACHE)"

# ---------------------------------------------------------------------------------------------
# DATA: datasets the notebooks and tests use, fetched and verified (SHA-256) by the CLI into
# $IAGEN_DATA_DIR (default: a folder under the user's cache directory). Nothing is fetched later
# at run time. Add further datasets here.
step "Datasets"
if [[ ${IAGEN_SETUP_SKIP_DATA:-} == 1 ]]; then
  info "skipped (IAGEN_SETUP_SKIP_DATA=1)"
elif [[ -f cmd/iagen/data.go ]]; then
  # Every dataset of the catalog, lib/data (about 55 MiB; each verified by SHA-256; safe to rerun).
  "$GO_BIN" run ./cmd/iagen data fetch
else
  info "skipped: cmd/iagen has no data command yet (cmd/iagen/data.go)"
fi

# ---------------------------------------------------------------------------------------------
# XLA on CPU: the pinned PJRT CPU plugin in .venv (Linux x86-64). The library's default backend
# ("auto") uses it when present; without it everything runs on the pure-Go backend.
step "XLA CPU plugin (scripts/install-xla-cpu.sh)"
if [[ ${IAGEN_SETUP_SKIP_XLA:-} == 1 ]]; then
  info "skipped (IAGEN_SETUP_SKIP_XLA=1): the pure-Go backend will be used"
else
  # A platform without the wheel is skipped (exit 0); a failed install stops setup, in one line:
  # the tests would otherwise run on the go backend only and pass.
  xla_out=$(bash scripts/install-xla-cpu.sh "$VENV") ||
    die "the XLA CPU plugin did not install (the reason is above); fix it and rerun, or set IAGEN_SETUP_SKIP_XLA=1 to use the pure-Go backend only"
  [[ -z $xla_out ]] || info "$xla_out"
fi

# ---------------------------------------------------------------------------------------------
step "Warming the Go build cache (go build ./..., then a notebook-like GoMLX program)"
if [[ ${IAGEN_SETUP_SKIP_WARM:-} == 1 ]]; then
  info "skipped (IAGEN_SETUP_SKIP_WARM=1)"
else
  t0=$SECONDS
  "$GO_BIN" build ./...
  info "go build ./...: $((SECONDS - t0)) s"
  # Build and run a program the way the kernel builds a cell, with GOPROXY=off: a notebook must
  # build from what setup installed, without the network.
  t0=$SECONDS
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (
    GOPROXY=off notebook_module "$tmp"
    cd "$tmp"
    GOPROXY=off GOTOOLCHAIN=local "$GO_BIN" build -o warm .
    IAGEN_ROOT=$ROOT ./warm | sed 's/^/    | /'
  ) || die "a notebook-like program did not build or run offline (see above)"
  rm -rf "$tmp"
  trap - EXIT
  info "notebook-like program: $((SECONDS - t0)) s"
fi

step "Setup done in $((SECONDS - start)) s"
info "start the lab:  scripts/lab.sh"
info "test notebooks: .venv/bin/python scripts/nbtest.py notebooks/"
