"""The image's HEALTHCHECK: the notebook server answers GET {base}api with its version.

Works for both of the image's servers: JupyterLab on $JUPYTER_IP:$JUPYTER_PORT, and
jupyterhub-singleuser at $JUPYTERHUB_SERVICE_URL (its address, port and /user/<name>/ prefix).
/api needs no token. Exit 0 when healthy, 1 otherwise (with the reason).
"""

import json
import os
import sys
import urllib.parse
import urllib.request


def base_url() -> str:
    url = os.environ.get("JUPYTERHUB_SERVICE_URL")
    if url:
        u = urllib.parse.urlsplit(url)
        host = u.hostname or "127.0.0.1"
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        path = u.path if u.path.endswith("/") else u.path + "/"
        return f"{u.scheme}://{host}:{u.port or 8888}{path}"
    host = os.environ.get("JUPYTER_IP", "127.0.0.1")
    if host in ("0.0.0.0", "::", ""):
        host = "127.0.0.1"
    return f"http://{host}:{os.environ.get('JUPYTER_PORT', '8888')}/"


def main() -> int:
    url = base_url() + "api"
    try:
        with urllib.request.urlopen(url, timeout=4) as r:
            version = json.load(r)["version"]
    except Exception as e:  # noqa: BLE001 - any failure is "unhealthy"
        print(f"healthcheck: {url}: {e}")
        return 1
    print(f"healthcheck: {url}: Jupyter Server {version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
