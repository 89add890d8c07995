#!/usr/bin/env bash
# `make test-docker`: the notebook image tested with a real Docker engine.
#
#   1. starts dockerd when no engine answers (and stops it at the end, by its process id);
#   2. builds the base image (debootstrap + docker import: no container registry is needed) and
#      the image (docker/build.sh, no per-commit tag), and reports their build times and the
#      image's size; before and after, reclaims what earlier builds left (see reclaim below);
#   3. installs JupyterHub and DockerSpawner (tests/docker/requirements-hub.txt) in a venv of
#      their own and configurable-http-proxy (npm, pinned) in a cache folder;
#   4. runs tests/docker/test_image.py (pytest, the project's .venv): the image alone, with an
#      empty volume over /home/jovyan, and served by JupyterHub to three users at once.
#
# Exit status: 0 passed, 1 failed, 77 skipped because no Docker engine could be started here
# (said in one line: "test-docker: SKIPPED: <why>"; make test-docker and .ci/run report the skip).
#
# Environment: DOCKER (default docker), IAGEN_DOCKER_IMAGE (default iagen-notebook:cpu),
# IAGEN_DOCKER_BASE (default iagen-base:bookworm, made when missing), IAGEN_DOCKER_MIN_FREE_GB
# (default 25: below it the build stage's cache goes too; a build from scratch takes about 7),
# IAGEN_DOCKER_CACHE (default ~/.cache/iagen-docker-test: the hub's venv and the proxy),
# IAGEN_DOCKER_NO_BUILD=1 tests the image as it is, IAGEN_DOCKER_CONTEXT (build context; default
# the checkout), PYTEST_ARGS (extra pytest arguments).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
export DOCKER=${DOCKER:-docker}
IMAGE=${IAGEN_DOCKER_IMAGE:-iagen-notebook:cpu}
BASE=${IAGEN_DOCKER_BASE:-iagen-base:bookworm}
CACHE=${IAGEN_DOCKER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iagen-docker-test}
CHP_VERSION=5.3.0
SKIP=77

start=$SECONDS
say() { echo "test-docker: $*" >&2; }
skip() {
	echo "test-docker: SKIPPED: $*"
	exit $SKIP
}

# --- 1. the engine ---------------------------------------------------------------------------
dockerd_pid=""
cleanup() {
	if [[ -n $dockerd_pid ]] && kill -0 "$dockerd_pid" 2>/dev/null; then
		say "stopping the dockerd this test started (pid $dockerd_pid)"
		kill "$dockerd_pid" 2>/dev/null || true
		for _ in $(seq 30); do kill -0 "$dockerd_pid" 2>/dev/null || break; sleep 1; done
	fi
}
trap cleanup EXIT

command -v "$DOCKER" >/dev/null || skip "no docker client ($DOCKER) on PATH (apt-get install docker.io)"
if ! "$DOCKER" info >/dev/null 2>&1; then
	command -v dockerd >/dev/null || skip "no Docker engine runs and dockerd is not installed (apt-get install docker.io)"
	[[ $(id -u) == 0 ]] || skip "no Docker engine runs, and starting dockerd needs root"
	log=$(mktemp /tmp/iagen-dockerd.XXXXXX.log)
	say "no Docker engine answers: starting dockerd (log $log)"
	dockerd >"$log" 2>&1 &
	dockerd_pid=$!
	for _ in $(seq 60); do
		"$DOCKER" info >/dev/null 2>&1 && break
		kill -0 "$dockerd_pid" 2>/dev/null || break
		sleep 1
	done
	if ! "$DOCKER" info >/dev/null 2>&1; then
		reason=$(grep -m1 -iE 'level=(fatal|error)' "$log" | sed 's/.*msg="\([^"]*\)".*/\1/' || true)
		skip "dockerd did not start within 60 s: ${reason:-see $log}"
	fi
	say "dockerd started (pid $dockerd_pid)"
fi
say "engine: Docker $("$DOCKER" version -f '{{.Server.Version}}' 2>/dev/null)"

# --- 2. base and image -----------------------------------------------------------------------
# Every rebuild leaves the previous image untagged; those go at once. The build stage's untagged
# images are the next build's cache: they go only when the engine's disk runs low.
root=$("$DOCKER" info -f '{{.DockerRootDir}}')
free_gb() { df -Pk "$root" | awk 'NR == 2 { printf "%d", $4 / 1048576 }'; }
reclaim() {
	"$DOCKER" image prune -f --filter label=org.opencontainers.image.title=iagen-notebook >/dev/null
	if (($(free_gb) < ${IAGEN_DOCKER_MIN_FREE_GB:-25})); then
		say "$(free_gb) GB free in $root: removing the build stage's cache"
		"$DOCKER" image prune -f --filter label=io.iagen.stage=build >/dev/null
		"$DOCKER" builder prune -f >/dev/null 2>&1 || true
	fi
	say "$(free_gb) GB free in $root"
}
if [[ ${IAGEN_DOCKER_NO_BUILD:-} != 1 ]]; then
	reclaim
	(($(free_gb) >= 8)) || { say "FAILED: $(free_gb) GB free in $root, and a build from scratch takes about 7"; exit 1; }
	t=$SECONDS
	bash docker/make-base.sh "$BASE" >/dev/null
	base_s=$((SECONDS - t))
	t=$SECONDS
	log=$(mktemp /tmp/iagen-docker-build.XXXXXX.log)
	say "building $IMAGE on $BASE (log $log)"
	if ! bash docker/build.sh --base "$BASE" --tag "$IMAGE" --no-commit-tag ${IAGEN_DOCKER_CONTEXT:+--context "$IAGEN_DOCKER_CONTEXT"} >"$log" 2>&1; then
		tail -40 "$log" >&2
		say "FAILED: the image did not build (log $log)"
		exit 1
	fi
	build_s=$((SECONDS - t))
	say "base image: $base_s s (0 when it was already there); image build: $build_s s"
	reclaim
fi
"$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1 || { say "FAILED: no image $IMAGE"; exit 1; }
size=$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")
say "image $IMAGE: $(awk -v s="$size" 'BEGIN { printf "%.2f GB (%.0f bytes)", s / 1e9, s }')"

# --- 3. JupyterHub, DockerSpawner, the proxy -------------------------------------------------
t=$SECONDS
mkdir -p "$CACHE"
REQS=tests/docker/requirements-hub.txt
want="$(sha256sum "$REQS" | cut -d' ' -f1)"
if [[ ! -x $CACHE/hub-venv/bin/jupyterhub || $(cat "$CACHE/hub-venv/.iagen-reqs" 2>/dev/null) != "$want" ]]; then
	rm -rf "$CACHE/hub-venv"
	python3 -m venv "$CACHE/hub-venv"
	"$CACHE/hub-venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
	echo "$want" >"$CACHE/hub-venv/.iagen-reqs"
fi
chp=$CACHE/chp/node_modules/.bin/configurable-http-proxy
if [[ ! -x $chp || $("$chp" --version 2>/dev/null) != "$CHP_VERSION" ]]; then
	command -v npm >/dev/null || { say "FAILED: npm not found (needed for configurable-http-proxy)"; exit 1; }
	mkdir -p "$CACHE/chp"
	npm install --silent --no-audit --no-fund --prefix "$CACHE/chp" "configurable-http-proxy@$CHP_VERSION" >/dev/null
fi
say "hub environment ready in $((SECONDS - t)) s: jupyterhub $("$CACHE/hub-venv/bin/jupyterhub" --version), configurable-http-proxy $("$chp" --version)"

# --- 4. the tests ----------------------------------------------------------------------------
[[ -x .venv/bin/python ]] || { say "FAILED: .venv missing: run make setup first"; exit 1; }
export IAGEN_DOCKER_IMAGE=$IMAGE IAGEN_HUB_VENV=$CACHE/hub-venv IAGEN_CHP_BIN_DIR=$CACHE/chp/node_modules/.bin
set +e
# shellcheck disable=SC2086
.venv/bin/python -m pytest -q -s -p no:cacheprovider --durations=0 tests/docker/test_image.py ${PYTEST_ARGS:-}
rc=$?
set -e
say "total $((SECONDS - start)) s"
exit $rc
