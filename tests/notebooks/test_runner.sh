#!/usr/bin/env bash
# Tests of the notebook runner (scripts/nbtest.py), its fixtures, the iagen kernel and
# scripts/lab.sh: pytest from the checkout's venv (scripts/setup.sh installs it).
#   tests/notebooks/test_runner.sh [pytest args]
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [[ ! -x $ROOT/.venv/bin/python ]]; then
  echo "test_runner.sh: no .venv: run scripts/setup.sh first" >&2
  exit 2
fi
cd "$ROOT"
exec "$ROOT/.venv/bin/python" -m pytest -q tests/notebooks "$@"
