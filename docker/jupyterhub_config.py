"""JupyterHub for a class on one Docker host: DockerSpawner starts one iagen-notebook container per
user, from the images in `allowed_images` only.

    pip install -r tests/docker/requirements-hub.txt      # jupyterhub, dockerspawner (pinned)
    npm install -g configurable-http-proxy@5.3.0
    jupyterhub -f docker/jupyterhub_config.py               # http://127.0.0.1:8000

The hub runs on the host (from pip) and every container uses the host's network: each user's
server listens on 127.0.0.1 at a port of its own, reachable through the hub's proxy only, and
asks for the hub's OAuth login (or a token with access to it) on every request. Each user's
home (/home/jovyan) is a named volume, `iagen-home-{username}`, so their notebooks survive the
container, which is removed when the server stops. Containers start as jovyan with no Linux
capabilities and no-new-privileges.

Settings (environment):
  IAGEN_HUB_IMAGES     comma-separated images users may run (default iagen-notebook:cpu); with
                       more than one, the spawn page offers a choice
  IAGEN_HUB_BIND_URL   the proxy's public URL (default http://127.0.0.1:8000; a class needs an
                       address that the students reach, behind TLS)
  IAGEN_HUB_MEM_LIMIT  memory per user (default 4G); IAGEN_HUB_CPU_LIMIT: cores per user (default 2)
  IAGEN_HUB_GPUS       "all" gives every container the host's GPUs (NVIDIA container toolkit)
  IAGEN_HUB_PREFIX     prefix of container and volume names (default iagen)

Authentication is JupyterHub's default (PAM: the host's accounts) unless set below; for a class,
set an OAuth authenticator (e.g. oauthenticator's GitHubOAuthenticator or GenericOAuthenticator)
and its allowed users or groups.
"""

import os

from dockerspawner import DockerSpawner
from jupyterhub.utils import random_port
from traitlets import default

c = get_config()  # noqa: F821


class HostNetworkDockerSpawner(DockerSpawner):
    """DockerSpawner for containers on the host's network: the server in each container listens
    on 127.0.0.1 at a free port chosen at each start (published ports mean nothing there)."""

    @default("ip")
    def _ip_default(self):
        return "127.0.0.1"

    @default("network_name")
    def _network_name_default(self):
        return "host"

    @default("use_internal_ip")
    def _use_internal_ip_default(self):
        return True  # no port bindings: the address is the one the server listens on

    async def start(self):
        self.port = random_port()
        return await super().start()

    async def get_ip_and_port(self):
        return self.ip, self.port


prefix = os.environ.get("IAGEN_HUB_PREFIX", "iagen")
images = [i.strip() for i in os.environ.get("IAGEN_HUB_IMAGES", "iagen-notebook:cpu").split(",") if i.strip()]

c.JupyterHub.bind_url = os.environ.get("IAGEN_HUB_BIND_URL", "http://127.0.0.1:8000")
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.spawner_class = HostNetworkDockerSpawner
c.JupyterHub.cleanup_servers = True  # stopping the hub stops (and removes) the users' containers

c.DockerSpawner.image = images[0]
c.DockerSpawner.allowed_images = images
c.DockerSpawner.cmd = None  # the image's own command: start-notebook.sh -> jupyterhub-singleuser
c.DockerSpawner.name_template = prefix + "-{username}"
c.DockerSpawner.volumes = {prefix + "-home-{username}": "/home/jovyan"}
c.DockerSpawner.notebook_dir = "/home/jovyan"
c.DockerSpawner.remove = True
c.DockerSpawner.pull_policy = "never"  # the images are built on this host (make docker)
c.DockerSpawner.mem_limit = os.environ.get("IAGEN_HUB_MEM_LIMIT", "4G")
c.DockerSpawner.cpu_limit = float(os.environ.get("IAGEN_HUB_CPU_LIMIT", "2"))
c.DockerSpawner.extra_host_config = {"cap_drop": ["ALL"], "security_opt": ["no-new-privileges"], "pids_limit": 1024}
if os.environ.get("IAGEN_HUB_GPUS") == "all":
    import docker.types

    c.DockerSpawner.extra_host_config["device_requests"] = [docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])]
c.Spawner.default_url = "/lab"
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 120
