"""End-to-end test of scripts/lab.sh: the server starts on 127.0.0.1 with the token it is given,
offers the "Go (iagen)" kernel as the default, and a cell run through the server (REST + kernel
websocket, as the browser does) imports this checkout's lib/backend.

    .venv/bin/python -m pytest -q tests/notebooks/test_lab.py
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))
from jupyterclient import api, free_port, read_log, run_cell, stop_group, wait_until_up  # noqa: E402


@pytest.fixture(scope="module")
def lab():
    port, token = free_port(), secrets.token_hex(16)
    env = dict(os.environ, PORT=str(port), JUPYTER_TOKEN=token)
    env.pop("LAB_IP", None)
    log = open(os.path.join(os.environ.get("TMPDIR", "/tmp"), f"iagen-lab-test-{port}.log"), "w+")
    proc = subprocess.Popen([os.path.join(ROOT, "scripts", "lab.sh")], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/"
    try:
        wait_until_up(proc, lambda: api(base, "api/status", token), log, f"lab.sh did not start a server on port {port}", 120)
        yield base, token, log
    finally:
        stop_group(proc, 30)
        log.close()


def test_token_required_and_url_printed(lab):
    base, token, log = lab
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{base}api/kernelspecs", timeout=10)
    assert e.value.code == 403
    assert f"{base}lab?token={token}" in read_log(log)


def test_iagen_kernel_is_default(lab):
    base, token, _ = lab
    specs = api(base, "api/kernelspecs", token)
    assert specs["default"] == "iagen"
    spec = specs["kernelspecs"]["iagen"]["spec"]
    assert spec["display_name"] == "Go (iagen)"
    assert spec["env"]["IAGEN_ROOT"] == ROOT
    assert spec["env"]["GOEXPERIMENT"] == "simd"


def test_cell_through_the_server_imports_the_checkout(lab):
    base, token, _ = lab
    code = ('import "github.com/iagen-course/iagen/lib/backend"\n%%\n'
            'b, err := backend.New("go")\nif err != nil { panic(err) }\nfmt.Print(backend.Describe(b))')
    reply, text = run_cell(base, token, code, timeout=300)
    assert reply["status"] == "ok", (reply, text)
    assert "backend:  Go Backend" in text and "SIMD build: true" in text, text
