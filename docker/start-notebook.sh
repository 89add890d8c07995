#!/usr/bin/env bash
# The image's default command. Under JupyterHub (JUPYTERHUB_API_TOKEN set by the spawner) it is
# jupyterhub-singleuser, which takes its address, port and authentication from the hub. On its
# own it is JupyterLab on $JUPYTER_IP:$JUPYTER_PORT (default 127.0.0.1:8888) with token
# authentication: JUPYTER_TOKEN, or a new random token printed in the log. An empty token is
# refused: authentication is never turned off. Extra arguments go to the server.
#
#   docker run --rm --network host iagen-notebook:cpu                    # 127.0.0.1:8888 on the host
#   docker run --rm -p 127.0.0.1:8888:8888 -e JUPYTER_IP=0.0.0.0 iagen-notebook:cpu
set -euo pipefail

if [[ -n ${JUPYTERHUB_API_TOKEN:-} ]]; then
	exec jupyterhub-singleuser "$@"
fi

if [[ -n ${JUPYTER_TOKEN+set} && -z $JUPYTER_TOKEN ]]; then
	echo "start-notebook.sh: JUPYTER_TOKEN is empty: refusing to start a server without authentication" >&2
	exit 1
fi
if [[ -z ${JUPYTER_TOKEN:-} ]]; then
	JUPYTER_TOKEN=$(python -c 'import secrets; print(secrets.token_hex(24))')
	host=$JUPYTER_IP
	[[ $host == 0.0.0.0 ]] && host=127.0.0.1
	echo "start-notebook.sh: open http://$host:$JUPYTER_PORT/lab?token=$JUPYTER_TOKEN" >&2
fi
export JUPYTER_TOKEN # read from the environment, never on the command line

exec jupyter lab --no-browser --ip="$JUPYTER_IP" --port="$JUPYTER_PORT" --ServerApp.port_retries=0 "$@"
