#!/usr/bin/env bash
# Builds the notebook image with this machine's ways of reaching the package registries: the Go
# module proxy and checksum database of `go env`, pip's and npm's registries (PIP_INDEX_URL,
# NPM_CONFIG_REGISTRY, when set), and the CA
# certificates added to this machine (/usr/local/share/ca-certificates), which are used in the
# build stage only and never reach the final image. Builds and runs with the host network.
#
#   docker/build.sh [--variant cpu|gpu] [--base IMAGE] [--tag TAG] [--context DIR] [--no-commit-tag]
#                   [-- extra docker build args]
#
# Default tag: iagen-notebook:VARIANT, and iagen-notebook:VARIANT-COMMIT when the checkout has no
# uncommitted changes to tracked files (--no-commit-tag leaves it out: a test build that would
# otherwise keep one multi-GB image per commit). Default base: the Dockerfile's pinned one.
# Environment: DOCKER (default docker), GOPROXY/GOSUMDB (default: `go env`'s, else Go's public
# defaults are needed and must be given), PIP_INDEX_URL.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOCKER=${DOCKER:-docker}
variant=cpu base="" tag="" context=$ROOT commit_tag=1
while (($#)); do
	case $1 in
	--variant) variant=$2; shift 2 ;;
	--base) base=$2; shift 2 ;;
	--tag) tag=$2; shift 2 ;;
	--context) context=$2; shift 2 ;;
	--no-commit-tag) commit_tag=0; shift ;;
	--) shift; break ;;
	*) echo "build.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
tag=${tag:-iagen-notebook:$variant}
# A second, immutable tag for deployments (docker/values.yaml): the commit the image is built from.
commit=$(git -C "$ROOT" rev-parse --short=12 HEAD 2>/dev/null || true)
[[ $commit_tag == 1 && -n $commit && -z $(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null) ]] || commit=""

goproxy=${GOPROXY:-$(go env GOPROXY 2>/dev/null || true)}
gosumdb=${GOSUMDB:-$(go env GOSUMDB 2>/dev/null || true)}
[[ -n $goproxy ]] || { echo "build.sh: no GOPROXY (set it, or install go so that 'go env GOPROXY' gives it)" >&2; exit 1; }
cas=""
for f in /usr/local/share/ca-certificates/*.crt /usr/local/share/ca-certificates/*/*.crt; do
	[[ -f $f ]] && cas+="$(cat "$f")"$'\n'
done

args=(--network host --tag "$tag" --build-arg "VARIANT=$variant" --build-arg "GOPROXY=$goproxy")
[[ -n $commit ]] && args+=(--tag "${tag%%:*}:$variant-$commit")
[[ -n $gosumdb ]] && args+=(--build-arg "GOSUMDB=$gosumdb")
[[ -n ${PIP_INDEX_URL:-} ]] && args+=(--build-arg "PIP_INDEX_URL=$PIP_INDEX_URL")
[[ -n ${NPM_CONFIG_REGISTRY:-} ]] && args+=(--build-arg "NPM_CONFIG_REGISTRY=$NPM_CONFIG_REGISTRY")
[[ -n $cas ]] && args+=(--build-arg "EXTRA_CA_CERTS=$cas")
[[ -n $base ]] && args+=(--build-arg "BASE_IMAGE=$base")

# BuildKit where the buildx plugin is there, else the classic builder (both build this file).
if ! "$DOCKER" buildx version >/dev/null 2>&1; then
	export DOCKER_BUILDKIT=0
	args+=(--force-rm) # no stopped container left behind by a failed step
fi
start=$SECONDS
"$DOCKER" build "${args[@]}" "$@" "$context"
echo "build.sh: built $tag${commit:+ and ${tag%%:*}:$variant-$commit} in $((SECONDS - start)) s, $("$DOCKER" image inspect -f '{{.Size}}' "$tag" | awk '{printf "%.2f GB", $1/1e9}')" >&2
