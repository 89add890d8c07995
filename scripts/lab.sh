#!/usr/bin/env bash
# Starts JupyterLab on this checkout with the "Go (iagen)" kernel as the default kernel.
# Runs scripts/setup.sh first when the environment or the kernel is missing (or belongs to
# another checkout).
#
#   scripts/lab.sh                       http://127.0.0.1:8888/lab?token=...
#   PORT=9000 JUPYTER_TOKEN=secret scripts/lab.sh
#
# Environment:
#   PORT           port to listen on (default 8888; fails if it is taken, rather than pick another)
#   JUPYTER_TOKEN  the access token (default: a new random one, printed with the URL)
#   LAB_IP         address to bind (default 127.0.0.1; a container that publishes the port
#                  needs 0.0.0.0)
#   GOMLX_BACKEND  passed on to the notebooks (default: "auto", XLA on CPU when its plugin is installed, else pure Go)
# Extra arguments are passed to `jupyter lab`.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
VENV=$ROOT/.venv

if [[ ! -x $VENV/bin/jupyter ]] || ! "$VENV/bin/python" kernels/install.py --check --root "$ROOT" 2>/dev/null; then
  echo "lab.sh: the notebook environment is missing or incomplete: running scripts/setup.sh" >&2
  "$ROOT/scripts/setup.sh"
fi

PORT=${PORT:-8888}
IP=${LAB_IP:-127.0.0.1}
if [[ -z ${JUPYTER_TOKEN:-} ]]; then
  JUPYTER_TOKEN=$("$VENV/bin/python" -c 'import secrets; print(secrets.token_hex(24))')
fi
export JUPYTER_TOKEN # read by Jupyter from the environment: never on the command line (ps)

args=(
  --no-browser
  --ip="$IP"
  --port="$PORT"
  --ServerApp.port_retries=0
  --ServerApp.root_dir="$ROOT"
  --MultiKernelManager.default_kernel_name=iagen
  # Nothing is fetched at run time: no update check, no news feed, no extension catalogue.
  --LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate
  --LabApp.news_url=None
  --LabApp.extension_manager=readonly
)
if [[ $(id -u) == 0 ]]; then
  args+=(--allow-root)
fi

host=$IP
[[ $host == 0.0.0.0 ]] && host=127.0.0.1
cat <<EOF

  JupyterLab for $ROOT
  Open:  http://$host:$PORT/lab?token=$JUPYTER_TOKEN
  Stop:  Ctrl-C

EOF
exec "$VENV/bin/jupyter" lab "${args[@]}" "$@"
