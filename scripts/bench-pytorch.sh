#!/usr/bin/env bash
# Installs PyTorch for the speed comparison of bench/pytorch/ (make bench-pytorch) into
# .venv-torch/, a venv of its own so that the project's .venv never gets torch:
#
#   .venv-torch/   python3 -m venv, then bench/pytorch/requirements.txt with --require-hashes
#                  (every wheel pinned by its SHA-256): torch 2.15.0 and its CUDA libraries,
#                  several GB, downloaded only when this script runs
#
# Idempotent: a marker records the lock file's hash and the venv's Python, and a second run with
# both unchanged does nothing. The lock holds CPython 3.11 wheels for Linux x86_64 only.
# Environment: PYTHON (default python3). On failure it prints one line and exits 1.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$ROOT/.venv-torch
REQS=$ROOT/bench/pytorch/requirements.txt
PYTHON=${PYTHON:-python3}

die() {
  printf 'bench-pytorch.sh: %s\n' "$*" >&2
  exit 1
}

[[ $(uname -s)/$(uname -m) == Linux/x86_64 ]] ||
  die "the hashes of $REQS are those of Linux x86_64 wheels; this is $(uname -s)/$(uname -m)"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install Python 3.11 with venv (or set PYTHON)"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' ||
  die "$PYTHON is $("$PYTHON" -V 2>&1); the wheels of $REQS are for Python 3.11 (set PYTHON=python3.11)"

if [[ -x $VENV/bin/python ]] && ! "$VENV/bin/python" -c 'import sys' 2>/dev/null; then
  rm -rf "$VENV" # a venv whose Python moved: start again
fi
if [[ ! -x $VENV/bin/python ]]; then
  "$PYTHON" -m venv "$VENV" 2>/dev/null || die "could not create $VENV (Debian/Ubuntu: apt-get install python3-venv)"
fi

sha256() { sha256sum "$1" 2>/dev/null || shasum -a 256 "$1"; }
want_marker="$(sha256 "$REQS" | cut -d' ' -f1) $("$VENV/bin/python" -V 2>&1)"
marker=$VENV/.iagen-requirements
if [[ -f $marker && $(<"$marker") == "$want_marker" ]]; then
  echo "bench-pytorch.sh: $VENV is up to date ($("$VENV/bin/python" -W ignore -c 'import torch; print("torch", torch.__version__)' 2>&1 | tail -n1))"
  exit 0
fi

echo "bench-pytorch.sh: installing torch and its CUDA libraries into $VENV (several GB)..."
log=$VENV/pip-install.log
if ! "$VENV/bin/python" -m pip install --disable-pip-version-check --no-input --only-binary :all: \
  --require-hashes -r "$REQS" >"$log" 2>&1; then
  die "pip install failed: $(grep -m1 -E '^ERROR|Error' "$log" || tail -n1 "$log") (full log: $log)"
fi
version=$("$VENV/bin/python" -W ignore -c 'import torch; print(torch.__version__)' 2>&1 | tail -n1) ||
  die "torch was installed but does not import: $version"
printf '%s\n' "$want_marker" >"$marker"
echo "bench-pytorch.sh: torch $version ready in $VENV"
