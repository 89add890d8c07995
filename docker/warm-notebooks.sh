#!/usr/bin/env bash
# Build-time warm-up of the image (run by the Dockerfile after scripts/setup.sh, with the network):
# a notebook's temporary module, made the way the iagen kernel makes one (gonb's `go mod init`
# through kernels/iagen/bin/go, then `go get`, then `go build`), importing every package of lib/.
# Its `go get` loads the whole module graph, so every go.mod and checksum that a notebook's
# `go get` will need is in the module cache (and the checksum database's cache) before the image
# runs with GOPROXY=off; its build leaves the library compiled in the build cache.
set -euo pipefail

ROOT=${IAGEN_ROOT:-/opt/iagen}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
export PATH=$ROOT/kernels/iagen/bin:$ROOT/.tools/bin:$PATH IAGEN_ROOT=$ROOT IAGEN_GO=${IAGEN_GO:-$(command -v go)}
mod=$(awk '$1 == "module" { print $2; exit }' "$ROOT/go.mod")
{
	echo "package main"
	echo
	echo "import ("
	(cd "$ROOT" && "$IAGEN_GO" list ./lib/... | grep -v -e /internal/ -e 'test$') | sed 's/.*/\t_ "&"/'
	echo -e '\t_ "github.com/janpfeifer/gonb/gonbui"'
	echo -e '\t_ "github.com/janpfeifer/gonb/gonbui/widgets"'
	echo ")"
	echo
	echo "func main() {}"
} >main.go
go mod init gonb_imagewarm >/dev/null 2>&1
grep -q "=> $ROOT\$" go.mod || { echo "warm-notebooks: the kernel's go shim did not replace $mod with $ROOT" >&2; exit 1; }
t0=$SECONDS
go get
go build -o /dev/null .
echo "warm-notebooks: a notebook module importing $(grep -c '^\s_ "' main.go) packages builds ($((SECONDS - t0)) s)"
# The same, offline, as a notebook will run it.
GOPROXY=off go get
GOPROXY=off go build -o /dev/null .
