"""End-to-end test of scripts/lab.sh: the server starts on 127.0.0.1 with the token it is given,
offers the "Go (iagen)" kernel as the default, and a cell run through the server (REST + kernel
websocket, as the browser does) imports this checkout's lib/backend.

    .venv/bin/python -m pytest -q tests/notebooks/test_lab.py
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import pytest
import websocket  # websocket-client, a dependency of jupyter_server

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, path: str, token: str, method: str = "GET", body: dict | None = None):
    req = urllib.request.Request(f"{base}{path}", method=method,
                                 data=None if body is None else json.dumps(body).encode(),
                                 headers={"Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read().decode()
        return json.loads(text) if text else None


@pytest.fixture(scope="module")
def lab():
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, PORT=str(port), JUPYTER_TOKEN=token)
    env.pop("LAB_IP", None)
    log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"iagen-lab-test-{port}.log"), "w+")
    proc = subprocess.Popen([os.path.join(ROOT, "scripts", "lab.sh")], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                api(base, "/api/status", token)
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail(f"lab.sh did not start a server on port {port}:\n{log.read()[-3000:]}")
                time.sleep(0.5)
        yield base, token, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_token_required_and_url_printed(lab):
    base, token, log = lab
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{base}/api/kernelspecs", timeout=10)
    assert e.value.code == 403
    log.seek(0)
    assert f"{base}/lab?token={token}" in log.read()


def test_iagen_kernel_is_default(lab):
    base, token, _ = lab
    specs = api(base, "/api/kernelspecs", token)
    assert specs["default"] == "iagen"
    spec = specs["kernelspecs"]["iagen"]["spec"]
    assert spec["display_name"] == "Go (iagen)"
    assert spec["env"]["IAGEN_ROOT"] == ROOT
    assert spec["env"]["GOEXPERIMENT"] == "simd"


def test_cell_through_the_server_imports_the_checkout(lab):
    base, token, _ = lab
    kernel = api(base, "/api/kernels", token, "POST", {"name": "iagen"})
    try:
        ws = websocket.create_connection(
            f"ws://127.0.0.1:{base.rsplit(':', 1)[1]}/api/kernels/{kernel['id']}/channels",
            header=[f"Authorization: token {token}"], timeout=300)
        code = ('import "github.com/iagen-course/iagen/lib/backend"\n%%\n'
                'b, err := backend.New("go")\nif err != nil { panic(err) }\nfmt.Print(backend.Describe(b))')
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex,
                       "msg_type": "execute_request", "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True},
        }))
        out, reply, idle = [], None, False
        deadline = time.monotonic() + 300
        while not (reply and idle) and time.monotonic() < deadline:  # output comes before "idle"
            m = json.loads(ws.recv())
            if m.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if m["msg_type"] == "stream":
                out.append(m["content"]["text"])
            elif m["msg_type"] == "execute_reply":
                reply = m["content"]
            elif m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                idle = True
        ws.close()
        text = "".join(out)
        assert reply is not None and reply["status"] == "ok", (reply, text)
        assert "backend:  Go Backend" in text and "SIMD build: true" in text, text
    finally:
        api(base, f"/api/kernels/{kernel['id']}", token, "DELETE")
