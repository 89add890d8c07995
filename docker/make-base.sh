#!/usr/bin/env bash
# Makes a Debian 12 base image without a container registry: debootstrap (minbase) into a
# temporary folder, then `docker import`. Prints the image's tag on the last line.
#
#   docker/make-base.sh [TAG]        (default iagen-base:bookworm; kept and reused when present)
#
# Environment: DOCKER (default docker), DEBOOTSTRAP_MIRROR (default: debootstrap's own),
# IAGEN_BASE_REBUILD=1 rebuilds an existing TAG. Needs root and debootstrap.
set -euo pipefail

TAG=${1:-iagen-base:bookworm}
DOCKER=${DOCKER:-docker}
SUITE=bookworm

if [[ ${IAGEN_BASE_REBUILD:-} != 1 ]] && "$DOCKER" image inspect "$TAG" >/dev/null 2>&1; then
	echo "make-base: $TAG is already there (IAGEN_BASE_REBUILD=1 rebuilds it)" >&2
	echo "$TAG"
	exit 0
fi
command -v debootstrap >/dev/null || { echo "make-base: debootstrap not found (apt-get install debootstrap)" >&2; exit 1; }
[[ $(id -u) == 0 ]] || { echo "make-base: debootstrap needs root" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "make-base: debootstrap --variant=minbase $SUITE ${DEBOOTSTRAP_MIRROR:-} (log: $tmp/debootstrap.log)" >&2
if ! debootstrap --variant=minbase --include=ca-certificates "$SUITE" "$tmp/rootfs" ${DEBOOTSTRAP_MIRROR:+"$DEBOOTSTRAP_MIRROR"} \
	>"$tmp/debootstrap.log" 2>&1; then
	tail -20 "$tmp/debootstrap.log" >&2
	echo "make-base: debootstrap failed (see above)" >&2
	exit 1
fi
# What docker's Debian images leave out: downloaded packages and package lists.
rm -rf "$tmp"/rootfs/var/cache/apt/archives/*.deb "$tmp"/rootfs/var/lib/apt/lists/*
tar -C "$tmp/rootfs" --numeric-owner -c . |
	"$DOCKER" import -c 'CMD ["bash"]' -c 'ENV LANG=C.UTF-8' -m "debootstrap --variant=minbase $SUITE" - "$TAG" >/dev/null
echo "$TAG"
