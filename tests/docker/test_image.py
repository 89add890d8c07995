"""The notebook image tested with a real Docker engine (run by tests/docker/run.sh, `make test-docker`).

    IAGEN_DOCKER_IMAGE=iagen-notebook:cpu IAGEN_HUB_VENV=... IAGEN_CHP_BIN_DIR=... \
        .venv/bin/python -m pytest -q tests/docker/test_image.py

1. The image alone on the host network, bound to 127.0.0.1: healthy, token required, the iagen
   kernel installed outside the home folder, nothing running as root, and a cell that imports
   the library and trains the `ci` classifier through the REST and kernel WebSocket APIs.
2. An empty volume over /home/jovyan: the same cell; a notebook saved there survives a new
   container; started as root over a root-owned volume, the start script gives home to jovyan
   and drops root; a home it cannot write is refused in one line.
3. JupyterHub (the hub venv) with docker/jupyterhub_config.py's DockerSpawner and a shared-password
   authenticator: three users log in at once, their servers start from the image, and a cell runs
   in each through the hub's proxy.

Every container, volume and process the tests start is stopped and removed by its id.
"""

from __future__ import annotations

import concurrent.futures
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import sys
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from jupyterclient import api, free_port, read_log, run_cell, stop_group, wait_until_up  # noqa: E402
DOCKER = os.environ.get("DOCKER", "docker")
IMAGE = os.environ.get("IAGEN_DOCKER_IMAGE", "iagen-notebook:cpu")
RUN = uuid.uuid4().hex[:8]  # names everything this run creates
LABEL = f"iagen-test={RUN}"
JOVYAN = 1000

# The cell of the issue: imports the library, trains the ci classifier, prints its accuracy.
CELL = """import (
	"fmt"

	"github.com/iagen-course/iagen/lib/backend"
	nb "github.com/iagen-course/iagen/lib/notebook"
)

%%
fmt.Println("backend-config:", backend.Config(nb.Backend()))
r := nb.Train("classifier")
acc, _ := r.Result.Eval.Get("test_accuracy")
fmt.Printf("test_accuracy=%.4f\\n", acc)
"""

_containers: list[str] = []
_volumes: list[str] = []
_dirs: list[str] = []


def docker(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    p = subprocess.run([DOCKER, *args], capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise AssertionError(f"docker {' '.join(args)} failed ({p.returncode}): {p.stderr.strip()[-2000:]}")
    return p


@pytest.fixture(scope="session", autouse=True)
def _cleanup():
    docker("image", "inspect", IMAGE)
    yield
    for cid in reversed(_containers):
        docker("rm", "-f", cid, check=False)
    # Containers a spawner started for this run (labelled by name prefix) would show up here.
    left = docker("ps", "-aq", "--filter", f"name=iagen-test-{RUN}", check=False).stdout.split()
    for cid in left:
        docker("rm", "-f", cid, check=False)
    for v in _volumes:
        docker("volume", "rm", "-f", v, check=False)
    for d in _dirs:
        shutil.rmtree(d, ignore_errors=True)
    assert not left, f"containers left running by the hub: {left}"


def tmpdir(owner: int | None = None) -> str:
    d = tempfile.mkdtemp(prefix=f"iagen-test-{RUN}-")
    _dirs.append(d)
    os.chmod(d, 0o755)
    if owner is not None:
        os.chown(d, owner, 100)
    return d


def run_container(*args: str, env: dict | None = None) -> str:
    cmd = ["run", "-d", "--network", "host", "--label", LABEL]
    for k, v in (env or {}).items():
        cmd += ["-e", f"{k}={v}"]
    cid = docker(*cmd, *args).stdout.strip()
    _containers.append(cid)
    return cid


def remove(cid: str) -> None:
    docker("rm", "-f", cid, check=False)


def wait_healthy(cid: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while True:
        state = json.loads(docker("inspect", "-f", "{{json .State}}", cid).stdout)
        health = (state.get("Health") or {}).get("Status")
        if health == "healthy":
            return
        if not state.get("Running") or time.monotonic() > deadline:
            logs = docker("logs", "--tail", "60", cid, check=False)
            raise AssertionError(f"container {cid[:12]} not healthy (running={state.get('Running')}, health={health}):\n"
                                 f"{logs.stdout[-3000:]}{logs.stderr[-3000:]}")
        time.sleep(1)


def process_uids(cid: str) -> dict[int, str]:
    """uid -> command of every process in the container (docker top, seen from the host)."""
    out = docker("top", cid, "-eo", "pid,uid,args").stdout.splitlines()[1:]
    return {int(line.split(None, 2)[1]): line.split(None, 2)[2] for line in out if line.strip()}


def listen_addresses(port: int) -> set[str]:
    """The local addresses listening on TCP port (the host's network, where the containers are)."""
    found = set()
    for path, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            lines = open(path).read().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            addr, p = f[1].split(":")
            if f[3] == "0A" and int(p, 16) == port:
                found.add(addr if len(addr) == width else addr)
    return found


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}


def check_cell(reply: dict, text: str) -> float:
    assert reply.get("status") == "ok", (reply, text[-3000:])
    # XLA on CPU, by name or by the CPU plugin's path (what backend.Config reports for "auto"/"xla:cpu").
    assert re.search(r"^backend-config: xla:(cpu|/\S*pjrt_c_api_cpu_plugin\.so)$", text, re.M), text[-3000:]
    acc = float(text.split("test_accuracy=")[1].split()[0])
    assert acc >= 0.85, text[-3000:]
    return acc


def report(what: str, t0: float) -> None:
    print(f"\n[test-docker] {what}: {time.monotonic() - t0:.1f} s", flush=True)


# ---------------------------------------------------------------------------------------------
# The image itself: configuration, backend choice, refusals. No server needed.


def test_image_config():
    cfg = json.loads(docker("image", "inspect", "-f", "{{json .Config}}", IMAGE).stdout)
    assert cfg["User"] == "1000:100"
    assert cfg["WorkingDir"] == "/home/jovyan"
    assert "8888/tcp" in cfg["ExposedPorts"]
    assert cfg["Healthcheck"]["Test"][0] == "CMD"
    assert cfg["Entrypoint"] == ["/usr/local/bin/start.sh"] and cfg["Cmd"] == ["start-notebook.sh"]
    env = dict(e.split("=", 1) for e in cfg["Env"])
    assert env["JUPYTER_IP"] == "127.0.0.1" and env["GOPROXY"] == "off"
    for key in ("GOMODCACHE", "GOCACHE", "GOPATH", "IAGEN_DATA_DIR", "IAGEN_ROOT"):
        assert not env[key].startswith("/home/"), (key, env[key])
    assert not [k for k in env if "TOKEN" in k or "SECRET" in k or "PASSWORD" in k], env
    history = docker("history", "--no-trunc", IMAGE).stdout
    assert "EXTRA_CA_CERTS" not in history and "BEGIN CERTIFICATE" not in history


def test_checkout_holds_tracked_sources_only():
    """/opt/iagen is the checkout's tracked files plus what setup makes there (.venv, .tools): no local
    environment of the build machine's (a PyTorch venv is several GB) slips through .dockerignore."""
    tracked = subprocess.run(["git", "ls-files"], capture_output=True, text=True, check=True, cwd=ROOT).stdout
    allowed = {path.split("/")[0] for path in tracked.splitlines()} | {".venv", ".tools"}
    p = docker("run", "--rm", "--network", "none", "--label", LABEL, "--entrypoint", "ls", IMAGE, "-A", "/opt/iagen")
    assert set(p.stdout.split()) <= allowed, sorted(set(p.stdout.split()) - allowed)


def test_no_world_writable_paths():
    p = docker("run", "--rm", "--network", "none", "--label", LABEL, "--user", "root", "--entrypoint", "find", IMAGE,
               "/opt", "/usr/local", "/etc", "/home/jovyan", "-xdev", "-perm", "-o+w", "!", "-type", "l",
               "-print")
    assert p.stdout.strip() == "", p.stdout[:2000]


def test_backend_selection_without_gpu():
    p = docker("run", "--rm", "--network", "none", "--entrypoint", "select-backend.sh", IMAGE)
    assert p.stdout.strip() == "xla:cpu", (p.stdout, p.stderr)


def _fake_gpu_dir(with_plugin: bool) -> str:
    d = tmpdir()
    smi = os.path.join(d, "nvidia-smi")
    with open(smi, "w") as f:
        f.write("#!/bin/sh\necho 'GPU 0: Fake GPU (UUID: GPU-00000000-0000-0000-0000-000000000000)'\n")
    os.chmod(smi, 0o755)
    if with_plugin:
        plugin = os.path.join(d, "venv", "lib", "python3.11", "site-packages", "jax_plugins", "xla_cuda13")
        os.makedirs(plugin)
        open(os.path.join(plugin, "xla_cuda_plugin.so"), "w").close()
        open(os.path.join(d, "venv", ".iagen-xla-cpu"), "w").write("x /some/plugin.so\n")
        for root, dirs, _ in os.walk(d):
            for x in dirs:
                os.chmod(os.path.join(root, x), 0o755)
    return d


def test_backend_selection_gpu_visible_without_cuda_plugin():
    d = _fake_gpu_dir(with_plugin=False)
    p = docker("run", "--rm", "--network", "none", "-v", f"{d}:/fake:ro", "-e", "IAGEN_NVIDIA_SMI=/fake/nvidia-smi",
               "--entrypoint", "select-backend.sh", IMAGE)
    assert p.stdout.strip() == "xla:cpu", (p.stdout, p.stderr)
    assert "no CUDA PJRT plugin" in p.stderr


def test_backend_selection_gpu_visible_with_cuda_plugin():
    d = _fake_gpu_dir(with_plugin=True)
    args = ["run", "--rm", "--network", "none", "-v", f"{d}:/fake:ro", "-e", "IAGEN_NVIDIA_SMI=/fake/nvidia-smi",
            "-e", "IAGEN_VENV=/fake/venv", "--entrypoint", "select-backend.sh"]
    assert docker(*args, IMAGE).stdout.strip() == "xla:cuda"
    # GOMLX_BACKEND set by the user wins; NVIDIA_VISIBLE_DEVICES=void hides the GPU.
    assert docker(*args[:-2], "-e", "GOMLX_BACKEND=go", *args[-2:], IMAGE).stdout.strip() == "go"
    assert docker(*args[:-2], "-e", "NVIDIA_VISIBLE_DEVICES=void", *args[-2:], IMAGE).stdout.strip() == "xla:cpu"


def test_empty_token_refused():
    p = docker("run", "--rm", "--network", "none", "-e", "JUPYTER_TOKEN=", IMAGE, check=False)
    assert p.returncode == 1, (p.returncode, p.stdout, p.stderr)
    assert "refusing to start a server without authentication" in p.stderr


# ---------------------------------------------------------------------------------------------
# 1. The image alone, on the host network, bound to 127.0.0.1.


@pytest.fixture(scope="module")
def server():
    port, token = free_port(), secrets.token_hex(16)
    t0 = time.monotonic()
    cid = run_container(IMAGE, env={"JUPYTER_PORT": port, "JUPYTER_TOKEN": token})
    wait_healthy(cid)
    report("phase 1: container healthy", t0)
    yield cid, f"http://127.0.0.1:{port}/", token, port
    remove(cid)


def test_server_requires_token(server):
    _, base, token, _ = server
    with pytest.raises(urllib.error.HTTPError) as e:
        api(base, "api/kernelspecs", None)
    assert e.value.code == 403
    with pytest.raises(urllib.error.HTTPError) as e:
        api(base, "api/kernelspecs", "wrong-" + token)
    assert e.value.code == 403


def test_server_listens_on_loopback_only(server):
    *_, port = server
    addrs = listen_addresses(port)
    assert addrs and addrs <= LOOPBACK, addrs


def test_kernel_is_installed_outside_home(server):
    cid, base, token, _ = server
    specs = api(base, "api/kernelspecs", token)
    assert specs["default"] == "iagen"
    spec = specs["kernelspecs"]["iagen"]
    assert spec["spec"]["display_name"] == "Go (iagen)"
    assert spec["spec"]["env"]["IAGEN_ROOT"] == "/opt/iagen"
    listed = json.loads(docker("exec", cid, "jupyter", "kernelspec", "list", "--json").stdout)
    where = listed["kernelspecs"]["iagen"]["resource_dir"]
    assert where == "/opt/iagen/.venv/share/jupyter/kernels/iagen", where


def test_cell_trains_ci_classifier(server):
    cid, base, token, _ = server
    t0 = time.monotonic()
    acc = check_cell(*run_cell(base, token, CELL))
    report(f"phase 1: cell (import, train ci classifier, accuracy {acc:.3f})", t0)
    uids = process_uids(cid)  # the kernel and the server, after the cell
    assert set(uids) == {JOVYAN}, uids


# ---------------------------------------------------------------------------------------------
# 2. An empty volume over /home/jovyan.


def test_empty_home_volume_runs_cell_and_keeps_notebooks():
    home = tmpdir(owner=JOVYAN)  # empty, as a fresh volume given to the user
    port, token = free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}/"
    env = {"JUPYTER_PORT": port, "JUPYTER_TOKEN": token}
    t0 = time.monotonic()
    cid = run_container("-v", f"{home}:/home/jovyan", IMAGE, env=env)
    wait_healthy(cid)
    specs = api(base, "api/kernelspecs", token)
    assert "iagen" in specs["kernelspecs"], specs
    acc = check_cell(*run_cell(base, token, CELL))
    nb = {"type": "notebook", "format": "json", "content": {
        "cells": [{"cell_type": "markdown", "metadata": {}, "source": f"mine {RUN}"}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}}
    api(base, "api/contents/mine.ipynb", token, "PUT", nb)
    assert os.path.isdir(os.path.join(home, "notebooks")), os.listdir(home)  # the course's, copied on first start
    remove(cid)
    report(f"phase 2: empty home volume, cell (accuracy {acc:.3f})", t0)

    # A new container with the same home: the user's notebook is still there.
    t0 = time.monotonic()
    cid = run_container("-v", f"{home}:/home/jovyan", IMAGE, env=env)
    wait_healthy(cid)
    got = api(base, "api/contents/mine.ipynb", token)
    assert got["content"]["cells"][0]["source"] == f"mine {RUN}"
    remove(cid)
    report("phase 2: restart with the same home, notebook kept", t0)


def test_started_as_root_over_root_owned_volume_drops_root():
    vol = f"iagen-test-{RUN}-rootvol"
    docker("volume", "create", "--label", LABEL, vol)
    _volumes.append(vol)
    port, token = free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}/"
    t0 = time.monotonic()
    cid = run_container("--user", "root", "--mount", f"type=volume,src={vol},dst=/home/jovyan,volume-nocopy",
                        IMAGE, env={"JUPYTER_PORT": port, "JUPYTER_TOKEN": token})
    wait_healthy(cid)
    assert "iagen" in api(base, "api/kernelspecs", token)["kernelspecs"]
    uids = process_uids(cid)
    assert set(uids) == {JOVYAN}, uids  # nothing runs as root after start-up, PID 1 included
    logs = docker("logs", cid).stderr
    assert "giving it to jovyan" in logs, logs[-2000:]
    remove(cid)
    report("phase 2: started as root over a root-owned volume", t0)


def test_home_not_writable_is_refused():
    home = tmpdir()  # root's, mode 755
    p = docker("run", "--rm", "--network", "none", "--label", LABEL, "-v", f"{home}:/home/jovyan", IMAGE, check=False)
    assert p.returncode == 1, (p.returncode, p.stderr)
    assert "/home/jovyan is not writable" in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


# ---------------------------------------------------------------------------------------------
# 3. JupyterHub with DockerSpawner: three users at once.

USERS = ("ada", "blas", "carmen")


@pytest.fixture(scope="module")
def hub():
    venv = os.environ.get("IAGEN_HUB_VENV")
    chp = os.environ.get("IAGEN_CHP_BIN_DIR")
    if not (venv and os.path.exists(os.path.join(venv, "bin", "jupyterhub")) and chp):
        pytest.fail("IAGEN_HUB_VENV and IAGEN_CHP_BIN_DIR must name the hub's venv and the proxy (tests/docker/run.sh sets them)")
    work = tmpdir()
    port, api_port, hub_port = free_port(), free_port(), free_port()
    admin_token, password = secrets.token_hex(24), secrets.token_hex(12)
    env = dict(os.environ, PATH=f"{chp}:{venv}/bin:{os.environ['PATH']}",
               IAGEN_HUB_IMAGES=IMAGE, IAGEN_HUB_PREFIX=f"iagen-test-{RUN}",
               IAGEN_HUB_BIND_URL=f"http://127.0.0.1:{port}", IAGEN_TEST_HUB_PORT=str(hub_port),
               IAGEN_TEST_PROXY_API_PORT=str(api_port), IAGEN_TEST_ADMIN_TOKEN=admin_token,
               IAGEN_TEST_PASSWORD=password, IAGEN_HUB_MEM_LIMIT="3G",
               IAGEN_HUB_CONFIG=os.path.join(ROOT, "docker", "jupyterhub_config.py"))
    env.pop("JUPYTERHUB_API_TOKEN", None)
    log = open(os.path.join(work, "hub.log"), "w+")
    t0 = time.monotonic()
    proc = subprocess.Popen([os.path.join(venv, "bin", "jupyterhub"), "-f", os.path.join(HERE, "jupyterhub_test_config.py")],
                            cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(proc, lambda: api(base, "hub/api/", None), log, f"JupyterHub did not start on port {port}", 90, tail=4000)
        report("phase 3: hub up", t0)
        yield base, admin_token, password, log
    finally:
        # The hub stops (and DockerSpawner removes) the users' containers on its way out
        # (cleanup_servers); the proxy it started is stopped through its pid file.
        stop_group(proc, 120)
        pidfile = os.path.join(work, "jupyterhub-proxy.pid")
        if os.path.exists(pidfile):
            try:
                os.kill(int(open(pidfile).read().strip()), signal.SIGTERM)
            except (ProcessLookupError, ValueError):
                pass
        for u in USERS:
            name = f"iagen-test-{RUN}-home-{u}"
            if docker("volume", "inspect", name, check=False).returncode == 0:
                _volumes.append(name)
        text = read_log(log)
        log.close()
        print(f"\n[test-docker] hub log: {len(text.splitlines())} lines in {work}/hub.log", flush=True)


def login(base: str, user: str, password: str) -> http.cookiejar.CookieJar:
    """Logs in through the hub's login form, as a browser does; returns the session's cookies."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    with opener.open(base + "hub/login", timeout=30) as r:
        r.read()
    xsrf = next(c.value for c in jar if c.name == "_xsrf")
    data = urllib.parse.urlencode({"username": user, "password": password, "_xsrf": xsrf}).encode()
    with opener.open(base + "hub/login?next=%2Fhub%2Fhome", data=data, timeout=60) as r:
        r.read()
    assert any(c.name == "jupyterhub-hub-login" for c in jar), [c.name for c in jar]
    return jar


def test_hub_refuses_wrong_password(hub):
    base, _, password, _ = hub
    with pytest.raises((AssertionError, urllib.error.HTTPError)):
        login(base, "mallory", "not-" + password)


def one_user(base: str, admin: str, password: str, user: str) -> dict:
    t0 = time.monotonic()
    login(base, user, password)
    token = api(base, f"hub/api/users/{user}/tokens", admin, "POST", {"note": "iagen test", "expires_in": 3600})["token"]
    try:
        api(base, f"hub/api/users/{user}/server", token, "POST", {})  # the user's own token starts it
    except urllib.error.HTTPError as e:
        if e.code != 400:  # 400: already running
            raise
    deadline = time.monotonic() + 300
    while True:
        model = api(base, f"hub/api/users/{user}", admin)
        srv = model.get("servers", {}).get("")
        if srv and srv.get("ready"):
            break
        assert time.monotonic() < deadline, f"{user}: server not ready in 300 s: {model}"
        time.sleep(1)
    ready = time.monotonic() - t0
    reply, text = run_cell(base + f"user/{user}/", token, CELL)
    return {"user": user, "reply": reply, "text": text, "ready_s": ready, "total_s": time.monotonic() - t0}


def test_hub_three_users_at_once(hub):
    base, admin, password, log = hub
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(len(USERS)) as ex:
        results = list(ex.map(lambda u: one_user(base, admin, password, u), USERS))
    for r in results:
        acc = check_cell(r["reply"], r["text"])
        print(f"\n[test-docker] phase 3: {r['user']}: server ready in {r['ready_s']:.1f} s, cell done at "
              f"{r['total_s']:.1f} s, accuracy {acc:.3f}", flush=True)
    report("phase 3: three users logged in, servers started, cells run", t0)

    for u in USERS:
        cid = docker("ps", "-q", "--filter", f"name=^iagen-test-{RUN}-{u}$").stdout.strip()
        assert cid, f"no container for {u}"
        _containers.append(cid)
        uids = process_uids(cid)
        assert set(uids) == {JOVYAN}, (u, uids)
        env = dict(e.split("=", 1) for e in json.loads(docker("inspect", "-f", "{{json .Config.Env}}", cid).stdout))
        url = urllib.parse.urlsplit(env["JUPYTERHUB_SERVICE_URL"])
        assert url.hostname == "127.0.0.1", env["JUPYTERHUB_SERVICE_URL"]
        addrs = listen_addresses(url.port)
        assert addrs and addrs <= LOOPBACK, (u, addrs)
        # Hub authentication: the server refuses a request without a token.
        with pytest.raises(urllib.error.HTTPError) as e:
            api(f"http://127.0.0.1:{url.port}/user/{u}/", "api/kernels", None)
        assert e.value.code in (302, 401, 403), e.value.code

    # Stopping a server removes its container; the home volume stays.
    api(base, f"hub/api/users/{USERS[0]}/server", admin, "DELETE")
    deadline = time.monotonic() + 60
    while docker("ps", "-aq", "--filter", f"name=^iagen-test-{RUN}-{USERS[0]}$").stdout.strip():
        assert time.monotonic() < deadline, "container not removed after its server stopped"
        time.sleep(1)
    assert docker("volume", "inspect", f"iagen-test-{RUN}-home-{USERS[0]}", check=False).returncode == 0


def test_zero_to_jupyterhub_values():
    import yaml  # PyYAML, a dependency of Jupyter's

    with open(os.path.join(ROOT, "docker", "values.yaml")) as f:
        values = yaml.safe_load(f)
    single = values["singleuser"]
    assert single["image"]["tag"] and single["image"]["tag"] != "latest", single["image"]
    assert single["cmd"] is None  # the image's own command
    assert (single["uid"], single["fsGid"], single["storage"]["homeMountPath"]) == (1000, 100, "/home/jovyan")
    assert single["allowPrivilegeEscalation"] is False
    assert values["hub"]["config"]["JupyterHub"]["authenticator_class"] not in ("dummy", "null")
