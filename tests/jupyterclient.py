"""What the end-to-end tests share to drive a Jupyter server as a browser does: a free port, the REST
API, one cell run through a kernel's WebSocket, and starting and stopping a server process.

The test folders import it after putting tests/ on sys.path (each has a pytest.ini of its own).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from typing import Callable, IO

import pytest
import websocket  # websocket-client, a dependency of jupyter_server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(base: str, path: str, token: str | None, method: str = "GET", body: dict | None = None, timeout: float = 30):
    """One REST call to base + path (token auth when token is given); the decoded JSON, or None."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"token {token}"
    req = urllib.request.Request(base + path, method=method, headers=headers,
                                 data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(req, timeout=timeout) as r:
        text = r.read().decode()
        return json.loads(text) if text else None


def run_cell(base: str, token: str, code: str, timeout: float = 900) -> tuple[dict, str]:
    """Starts an iagen kernel through the server at base (http://host:port/prefix/, ending in /),
    runs code over the kernel's WebSocket, returns (execute_reply content, output text: streams and
    tracebacks) and deletes the kernel. The reply is {"status": "timeout"} when none came in time."""
    kernel = api(base, "api/kernels", token, "POST", {"name": "iagen"})
    try:
        ws_url = "ws" + base[len("http"):] + f"api/kernels/{kernel['id']}/channels"
        ws = websocket.create_connection(ws_url, header=[f"Authorization: token {token}"], timeout=timeout)
        msg_id = uuid.uuid4().hex
        ws.send(json.dumps({
            "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex,
                       "msg_type": "execute_request", "version": "5.3", "date": ""},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True},
        }))
        out, reply, idle = [], None, False
        deadline = time.monotonic() + timeout
        while not (reply and idle) and time.monotonic() < deadline:  # output comes before "idle"
            m = json.loads(ws.recv())
            if m.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            t = m["msg_type"]
            if t == "stream":
                out.append(m["content"]["text"])
            elif t == "error":
                out.append("\n".join(m["content"].get("traceback", [])) or m["content"].get("evalue", ""))
            elif t == "execute_reply":
                reply = m["content"]
            elif t == "status" and m["content"]["execution_state"] == "idle":
                idle = True
        ws.close()
        return reply or {"status": "timeout"}, "".join(out)
    finally:
        try:
            api(base, f"api/kernels/{kernel['id']}", token, "DELETE")
        except urllib.error.URLError:
            pass


def wait_until_up(proc: subprocess.Popen, probe: Callable[[], object], log: IO[str], what: str, timeout: float,
                  tail: int = 3000) -> None:
    """Calls probe until it stops failing to connect; fails the test with what and the end of the
    server's log when proc exits first or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            probe()
            return
        except (urllib.error.URLError, ConnectionError):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"{what}:\n{read_log(log)[-tail:]}")
            time.sleep(0.5)


def read_log(log: IO[str]) -> str:
    """The whole of a log file that a child process writes through a copy of log's descriptor,
    read through a descriptor of its own: seeking log itself would move the child's write
    position too (the two share one file offset), and a line the server writes meanwhile
    would land at the start, over what is there."""
    with open(log.name, encoding=log.encoding) as f:
        return f.read()


def stop_group(proc: subprocess.Popen, timeout: float) -> None:
    """Stops proc's process group (started with start_new_session=True): SIGTERM, then SIGKILL."""
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
