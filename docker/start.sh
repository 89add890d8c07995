#!/usr/bin/env bash
# The image's ENTRYPOINT (docker-stacks conventions): prepares the user's home, picks the GoMLX
# backend, then runs the command (by default start-notebook.sh) under tini as PID 1.
#
# Started as jovyan (the image's default user): runs the command as jovyan.
# Started as root (`docker run --user root`, or a spawner that does): makes $HOME belong to jovyan
# when it does not (an empty volume mounted over /home/jovyan), then drops to jovyan (uid NB_UID,
# gid NB_GID) with no capabilities left, so that nothing runs as root after start-up.
#
# Environment: GOMLX_BACKEND (kept when set; else docker/select-backend.sh chooses xla:cuda when
# a GPU is visible and the image has the CUDA plugin, the CPU backends otherwise),
# IAGEN_COPY_NOTEBOOKS=0 (do not copy the course notebooks into ~/notebooks on first start).
set -euo pipefail

NB_UID=${NB_UID:-1000}
NB_GID=${NB_GID:-100}
NB_USER=${NB_USER:-jovyan}
export HOME=/home/$NB_USER

die() {
	echo "start.sh: $*" >&2
	exit 1
}

if [[ $(id -u) == 0 ]]; then
	[[ $NB_UID != 0 ]] || die "NB_UID=0: the notebook server never runs as root"
	if [[ $(stat -c %u "$HOME") != "$NB_UID" ]]; then
		echo "start.sh: $HOME belongs to uid $(stat -c %u "$HOME"): giving it to $NB_USER ($NB_UID:$NB_GID)" >&2
		chown "$NB_UID:$NB_GID" "$HOME"
		chmod 0755 "$HOME"
	fi
	exec setpriv --reuid="$NB_UID" --regid="$NB_GID" --init-groups --inh-caps=-all --bounding-set=-all \
		--no-new-privs env USER="$NB_USER" LOGNAME="$NB_USER" HOME="$HOME" "$0" "$@"
fi

[[ -d $HOME && -w $HOME ]] ||
	die "$HOME is not writable by uid $(id -u): give the volume mounted there to $NB_UID:$NB_GID (or start the container as root once, which does)"

# First start with this home: the course notebooks, the user's own copy (never overwritten).
if [[ ${IAGEN_COPY_NOTEBOOKS:-1} == 1 && ! -e $HOME/notebooks && -d /opt/iagen/notebooks ]]; then
	cp -r /opt/iagen/notebooks "$HOME/notebooks"
fi

if [[ -z ${GOMLX_BACKEND:-} ]]; then
	GOMLX_BACKEND=$(select-backend.sh)
	export GOMLX_BACKEND
fi
echo "start.sh: GOMLX_BACKEND=$GOMLX_BACKEND" >&2

if [[ $$ == 1 ]]; then
	exec tini -g -- "$@"
fi
exec "$@"
