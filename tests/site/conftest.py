"""Shared fixtures of the real-browser tests: Debian's Chromium driven by Playwright.

The browser is /usr/bin/chromium (override with $IAGEN_CHROMIUM); Playwright's own browsers are
never downloaded. Without it every test here fails with one line that says how to install it: a
CI that runs `make test-browser` has asked for these tests, so a missing browser is a broken CI
set-up, not a reason to pass. Screenshots go to tests/site/artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.dirname(HERE))  # tests/jupyterclient.py
ARTIFACTS = os.path.join(HERE, "artifacts")
CHROMIUM = os.environ.get("IAGEN_CHROMIUM", "/usr/bin/chromium")


def artifact(*parts: str) -> str:
    path = os.path.join(ARTIFACTS, *parts)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {CHROMIUM}: install it (Debian: apt-get install -y chromium) "
                    "or set IAGEN_CHROMIUM to its path", pytrace=False)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed in .venv: run make test-browser, which installs "
                    "tests/site/requirements-browser.txt", pytrace=False)
    with sync_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--no-sandbox", "--disable-dev-shm-usage"])
        try:
            yield b
        finally:
            b.close()
