"""JupyterLab in a real browser, started the way `make lab` starts it (scripts/lab.sh): it opens
notebooks/00_inicio.ipynb with the "Go (iagen)" kernel, runs every cell (Run → Run All Cells) and
an image output appears; no cell shows a failure.

The notebook is never saved: autosave is off in a throw-away user-settings folder (which also
renders every cell, not only those in view, so that every output is read), the test does
not save, and it checks that the file on disk is byte for byte what it was (restoring it and
failing otherwise). Training goes to a temporary IAGEN_RUNS_DIR. Screenshots go to
tests/site/artifacts/lab/.

    .venv/bin/python -m pytest -q tests/site/test_lab_browser.py
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import tempfile

import pytest

from conftest import ROOT, artifact
from jupyterclient import api, free_port, stop_group, wait_until_up

NOTEBOOK = "notebooks/00_inicio.ipynb"
RUN_TIMEOUT_S = int(os.environ.get("IAGEN_LAB_TEST_TIMEOUT", "1200"))  # all cells, ci profile, a loaded machine
FAILURE = re.compile(r"^(panic: |fatal error: |exit status [1-9]|GoNB Error)", re.M)


@pytest.fixture(scope="module")
def lab():
    port, token = free_port(), secrets.token_hex(16)
    tmp = tempfile.mkdtemp(prefix="iagen-lab-browser-")
    settings = os.path.join(tmp, "user-settings", "@jupyterlab", "docmanager-extension")
    os.makedirs(settings)
    with open(os.path.join(settings, "plugin.jupyterlab-settings"), "w") as f:
        json.dump({"autosave": False}, f)
    # Render every cell (JupyterLab 4 leaves cells out of view out of the DOM by default), so that
    # the test reads every output.
    tracker = os.path.join(tmp, "user-settings", "@jupyterlab", "notebook-extension")
    os.makedirs(tracker)
    with open(os.path.join(tracker, "tracker.jupyterlab-settings"), "w") as f:
        json.dump({"windowingMode": "none"}, f)
    env = dict(os.environ, PORT=str(port), JUPYTER_TOKEN=token, IAGEN_RUNS_DIR=os.path.join(tmp, "runs"))
    env.pop("LAB_IP", None)
    env.setdefault("IAGEN_PROFILE", "ci")
    log = open(os.path.join(tmp, "lab.log"), "w+")
    proc = subprocess.Popen(
        [os.path.join(ROOT, "scripts", "lab.sh"),
         f"--LabApp.user_settings_dir={os.path.join(tmp, 'user-settings')}",
         f"--LabApp.workspaces_dir={os.path.join(tmp, 'workspaces')}"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(proc, lambda: api(base + "/", "api/status", token, timeout=10), log,
                      f"lab.sh did not start a server on port {port}", 180)
        yield base, token
    finally:
        stop_group(proc, 30)
        log.close()


def test_00_inicio_runs_in_jupyterlab(browser, lab):
    base, token = lab
    path = os.path.join(ROOT, NOTEBOOK)
    for stale in ("00_inicio-failure.png", "00_inicio-failure.html"):
        if os.path.exists(artifact("lab", stale)):
            os.remove(artifact("lab", stale))
    with open(path, "rb") as f:
        before = f.read()
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}", wait_until="domcontentloaded")
        panel = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        panel.locator(".jp-Cell").first.wait_for(timeout=120_000)
        # The kernel is the iagen one.
        kernel_name = panel.locator(".jp-KernelName, .jp-Toolbar-kernelName")
        kernel_name.first.wait_for(timeout=60_000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.jp-KernelName, .jp-Toolbar-kernelName')]"
            ".some(e => e.textContent.includes('Go (iagen)'))", timeout=120_000)
        # gonb sends no status at start-up, so JupyterLab shows the kernel as "Unknown" (not "idle")
        # until the first cell runs: wait only until it is no longer starting.
        page.wait_for_function(
            "() => { const e = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) "
            ".jp-Notebook-ExecutionIndicator'); return !e || !['starting', 'restarting', 'initializing', "
            "'autorestarting'].includes(e.getAttribute('data-status')); }",
            timeout=int(os.environ.get("IAGEN_LAB_IDLE_TIMEOUT", "180")) * 1000)
        page.wait_for_timeout(3000)
        no_news = page.locator(".jp-toast-button", has_text=re.compile(r"^No$"))
        if no_news.count():
            no_news.first.click()
        page.screenshot(path=artifact("lab", "00_inicio-opened.png"))

        # Run → Run All Cells, through the menu as a person would.
        page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()

        code_cells = panel.locator(".jp-CodeCell")
        n = code_cells.count()
        assert n >= 5, f"00_inicio shows {n} code cells"
        # Done when every code cell has an execution count ("[7]:"), none pending ("[*]:").
        page.wait_for_function(
            """(n) => {
                const prompts = [...document.querySelectorAll(
                    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')];
                return prompts.length === n && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
            }""", arg=n, timeout=RUN_TIMEOUT_S * 1000, polling=2000)

        outputs = panel.locator(".jp-OutputArea-output")
        text = "\n".join(outputs.all_inner_texts())
        failed = FAILURE.search(text)
        assert not failed, f"a cell failed in the browser: {text[max(0, failed.start() - 300):failed.start() + 600]}"
        # JupyterLab's sanitizer drops the markdown's video iframes; the plain links beside them stay.
        for vid in ("u3FQgoKEnZk", "zX_4JbCsAQg"):
            assert panel.locator(f'a[href="https://www.youtube.com/watch?v={vid}"]').count() >= 1, \
                f"no link to the introductory video {vid} in 00_inicio"
        images = panel.locator(".jp-OutputArea-output img")
        assert images.count() >= 1, "no image output after running every cell"
        assert "Exactitud en imágenes de prueba" in text, "the classifier cell printed no accuracy"
        images.first.scroll_into_view_if_needed()
        page.screenshot(path=artifact("lab", "00_inicio-image.png"))
        page.screenshot(path=artifact("lab", "00_inicio-end.png"), full_page=True)
        assert not errors, "uncaught exceptions in JupyterLab: " + "; ".join(errors)
    except Exception:
        page.screenshot(path=artifact("lab", "00_inicio-failure.png"))
        with open(artifact("lab", "00_inicio-failure.html"), "w", encoding="utf-8") as f:
            f.write(page.content())
        raise
    finally:
        ctx.close()
        with open(path, "rb") as f:
            after = f.read()
        if after != before:
            with open(path, "wb") as f:
                f.write(before)
            pytest.fail(f"{NOTEBOOK} was modified on disk during the test (restored)")
