"""Tests of the notebook runner (scripts/nbtest.py) and of the iagen kernel it drives.

    .venv/bin/python -m pytest -q tests/notebooks

Needs scripts/setup.sh to have run (venv, gonb, the "iagen" kernel): the kernel tests fail, and
do not skip, when it has not. The fixtures under fixtures/ are: ok.ipynb (imports this
checkout's lib/backend through the kernel; must pass), displays.ipynb (forty quick cells that
each display once through lib/viz; must keep every display) and one notebook per kind of failure in
its cell 2 — a compile error, a panic, os.Exit(3) and a failing `!false` shell command. gonb
reports the last one only as "exit status 1" on stderr, which nbclient alone does not notice.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import nbformat
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
RUNNER = os.path.join(ROOT, "scripts", "nbtest.py")
FIXTURES = os.path.join(HERE, "fixtures")

spec = importlib.util.spec_from_file_location("nbtest", RUNNER)
nbtest = importlib.util.module_from_spec(spec)
spec.loader.exec_module(nbtest)


def run(*args: str, cwd: str = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, RUNNER, "--offline", *args], cwd=cwd, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)


def code_cells(path: str) -> dict[int, nbformat.NotebookNode]:
    nb = nbformat.read(path, as_version=4)
    return {i: c for i, c in enumerate(nb.cells) if c.cell_type == "code"}


def stdout_of(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream"
                   and o.get("name") == "stdout")


# --- The failure detection alone, on outputs as gonb produces them (no kernel). ---

def cell(*outputs, tags=()):
    c = nbformat.v4.new_code_cell("x")
    c.outputs = [nbformat.NotebookNode(o) for o in outputs]
    c.metadata["tags"] = list(tags)
    return c


def stream(name, text):
    return {"output_type": "stream", "name": name, "text": text}


@pytest.mark.parametrize("outputs, expect", [
    ([], None),
    ([stream("stdout", "exit status 3\npanic: printed on stdout is fine\n")], None),
    ([stream("stderr", "a warning\nexit status 0\n")], None),
    ([stream("stderr", "exit status 1\n")], "non-zero exit status: exit status 1"),
    ([stream("stderr", "^C\nsignal: killed\n")], "killed by a signal"),
    ([stream("stderr", "panic: "), stream("stderr", "boom\n\ngoroutine 1 [running]:\n"),
      stream("stderr", "exit status 2\n")], "panic: boom"),
    ([stream("stderr", "fatal error: all goroutines are asleep - deadlock!\n")], "fatal error: all goroutines"),
    ([{"output_type": "error", "ename": "ERROR", "evalue": "something broke", "traceback": ["something broke"]}],
     "ERROR: something broke"),
    ([stream("stderr", "exit status 3\n"),
      {"output_type": "error", "ename": "ERROR", "evalue": "exit status 3", "traceback": []}],
     "non-zero exit status: exit status 3"),
])
def test_cell_failure(outputs, expect):
    why = nbtest.cell_failure(cell(*outputs))
    if expect is None:
        assert why is None
    else:
        assert why is not None and why.splitlines()[0].startswith(expect), why


def test_compile_error_text_from_gonb_html():
    html = ('<style>.gonb-err-location {}</style><div><div> # gonb_1234abcd</div><div>'
            '<span class="gonb-err-hover-area"><span class="gonb-cell-line-info">Cell[2]: Line 2</span> '
            '<span class="gonb-err-location">./main.go:11:13: </span></span>undefined: x<div class="gonb-err-context">\n'
            'func main() {\n<div class="gonb-err-line">fmt.Println(x)\n</div>\n}\n</div></div></div>')
    why = nbtest.cell_failure(cell(
        {"output_type": "display_data", "data": {"text/html": html}, "metadata": {}},
        {"output_type": "error", "ename": "ERROR", "traceback": [],
         "evalue": 'failed to run "/x/go build -o /tmp/gonb_1234abcd/gonb_1234abcd": exit status 1'}))
    assert why == "compile error: Cell[2]: Line 2 ./main.go:11:13: undefined: x"


# --- The runner with the real kernel. ---

def test_ok_fixture_passes(tmp_path):
    r = run("--out", str(tmp_path), os.path.join(FIXTURES, "ok.ipynb"))
    assert r.returncode == 0, r.stdout
    assert r.stdout.splitlines()[-1] == "nbtest: 1 passed, 0 failed"
    cells = code_cells(str(tmp_path / "ok.ipynb"))
    out = stdout_of(cells[1])
    assert "backend:" in out and "SIMD build: true" in out, out  # lib/backend from this checkout
    assert "profile: ci" in out, out  # the runner's IAGEN_PROFILE reaches the kernel
    assert stdout_of(cells[2]).split() == ["simd", "-buildvcs=false"]  # the kernel spec's env


def test_quick_cells_keep_their_displays(tmp_path):
    # A quick cell's program exits right after it displays; gonb reads displays from a pipe on
    # its own, so lib/viz waits until it has each one (gonbui.Sync): else some are lost.
    r = run("--out", str(tmp_path), os.path.join(FIXTURES, "displays.ipynb"))
    assert r.returncode == 0, r.stdout
    cells = [c for _, c in sorted(code_cells(str(tmp_path / "displays.ipynb")).items())][1:]
    assert [len(c.outputs) for c in cells] == [1] * 40
    for k, c in enumerate(cells):
        data = c.outputs[0].get("data", {})
        assert f"display {k}" in (data.get("text/html") or data.get("text/markdown") or ""), c.outputs


@pytest.mark.parametrize("name, expect", [
    ("fail_compile", "compile error: Cell[2]: Line 2 ./main.go:11:13: undefined: notDeclaredAnywhere"),
    ("fail_panic", "panic: boom from the fixture"),
    ("fail_exit", "non-zero exit status: exit status 3"),
    ("fail_shell", "non-zero exit status: exit status 1"),
])
def test_failing_fixture_is_caught(tmp_path, name, expect):
    r = run("--out", str(tmp_path), os.path.join(FIXTURES, name + ".ipynb"))
    assert r.returncode == 1, r.stdout
    assert f"{name}.ipynb: cell 2: {expect}" in r.stdout, r.stdout
    assert r.stdout.splitlines()[-1] == "nbtest: 0 passed, 1 failed"
    cells = code_cells(str(tmp_path / f"{name}.ipynb"))
    assert stdout_of(cells[1]) == "before\n"  # the cells before it ran,
    assert cells[3].execution_count is None and not cells[3].outputs  # and none after it.


def test_folder_runs_every_notebook_and_counts(tmp_path):
    r = run(FIXTURES)
    assert r.returncode == 1, r.stdout
    assert r.stdout.splitlines()[-1] == "nbtest: 2 passed, 4 failed", r.stdout
    for name in ("fail_compile", "fail_panic", "fail_exit", "fail_shell"):
        assert f"{name}.ipynb: cell 2: " in r.stdout


def test_raises_exception_tag_allows_a_failing_cell(tmp_path):
    nb = nbformat.read(os.path.join(FIXTURES, "fail_exit.ipynb"), as_version=4)
    nb.cells[2].metadata["tags"] = ["raises-exception"]
    path = tmp_path / "tagged.ipynb"
    nbformat.write(nb, str(path))
    r = run("--out", str(tmp_path / "out"), str(path), cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout
    assert stdout_of(code_cells(str(tmp_path / "out" / "tagged.ipynb"))[3]).startswith("after")


def test_usage_errors_exit_2(tmp_path):
    assert run(str(tmp_path / "missing.ipynb")).returncode == 2
    assert run("--kernel", "no-such-kernel", os.path.join(FIXTURES, "ok.ipynb")).returncode == 2
    r = run("--out", os.path.join(ROOT, "tests", "nbtest-out"), os.path.join(FIXTURES, "ok.ipynb"))
    assert r.returncode == 2 and "inside the repository" in r.stdout


def test_checkout_import_survives_reset_go_mod(tmp_path):
    # `%reset go.mod` makes gonb run `go mod init` again: the kernel's go shim must re-add the
    # checkout (replace + require), or the import below would go to the module proxy.
    nb = nbformat.v4.new_notebook(metadata=nbformat.read(os.path.join(FIXTURES, "ok.ipynb"), 4).metadata)
    nb.cells = [nbformat.v4.new_code_cell("%reset go.mod"),
                nbformat.v4.new_code_cell('import "github.com/iagen-course/iagen/lib/backend"\n%%\n'
                                          'fmt.Println("seed", backend.Seed())')]
    path = tmp_path / "reset.ipynb"
    nbformat.write(nb, str(path))
    r = run("--env", "IAGEN_SEED=7", "--out", str(tmp_path / "out"), str(path), cwd=str(tmp_path))
    assert r.returncode == 0, r.stdout
    assert stdout_of(code_cells(str(tmp_path / "out" / "reset.ipynb"))[1]) == "seed 7\n"
