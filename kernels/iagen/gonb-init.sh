#!/usr/bin/env bash
# Makes the Go module in the current directory (a gonb notebook's temporary module) import this
# checkout's packages: `import "github.com/iagen-course/iagen/lib/..."` compiles lib/ from
# $IAGEN_ROOT, with the versions of GoMLX & co. pinned in $IAGEN_ROOT/go.mod.
#
# A `replace` alone is not enough: gonb runs `go get` after every cell, which then asks the
# module proxy for the (unpublished) module and fails. Replace plus a require of the zero
# pseudo-version works, and the checkout's go.sum is copied in so that nothing needs to be
# looked up on the network.
#
# The iagen kernel runs this automatically (kernels/iagen/bin/go calls it right after gonb's
# `go mod init`). In a notebook run by another gonb kernel, use it as the first cell:
#   !*IAGEN_ROOT=/path/to/checkout /path/to/checkout/kernels/iagen/gonb-init.sh
set -euo pipefail

root=${IAGEN_ROOT:-}
if [[ -z $root ]]; then
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
fi
go=${IAGEN_GO:-go}

if [[ ! -f go.mod ]]; then
  echo "gonb-init: no go.mod in $PWD (run it in the notebook's module: !*...)" >&2
  exit 1
fi
if [[ ! -f $root/go.mod ]]; then
  echo "gonb-init: $root/go.mod not found (IAGEN_ROOT=$root)" >&2
  exit 1
fi
mod=$(awk '$1 == "module" { print $2; exit }' "$root/go.mod")
if [[ -z $mod ]]; then
  echo "gonb-init: no module line in $root/go.mod" >&2
  exit 1
fi

"$go" mod edit -replace "$mod=$root" -require "$mod@v0.0.0-00010101000000-000000000000"
if [[ -f $root/go.sum && ! -s go.sum ]]; then
  cp "$root/go.sum" go.sum
fi
