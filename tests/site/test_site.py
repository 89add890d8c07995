"""The built course site (tutorials/_build/site, `make site` or `make test-site`) in a real
browser: the home page and every notebook (family) page render with no console error and no
uncaught exception, formulas are typeset by the site's own MathJax, and the two introductory
videos are embedded (the iframes exist, with a plain link beside each).

The browser reaches nothing outside the test's own server: requests to the video hosts are
answered here with an empty page (no network to YouTube is expected), and any other outside
request fails the test, so the site is checked to be self-contained. Screenshots are kept in
tests/site/artifacts/site/.

    .venv/bin/python -m pytest -q tests/site/test_site.py
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from urllib.parse import urlparse

import pytest

from conftest import ROOT, artifact
from jupyterclient import free_port

SITE = os.path.join(ROOT, "tutorials", "_build", "site")
NOTEBOOKS = sorted(f[:-6] for f in os.listdir(os.path.join(ROOT, "notebooks")) if f.endswith(".ipynb"))
VIDEOS = ["u3FQgoKEnZk", "zX_4JbCsAQg"]
# Hosts the site may embed without the test reaching them: answered with an empty page.
EMBED_HOSTS = {"www.youtube-nocookie.com", "www.youtube.com"}
OTHER_PAGES = ["glosario/", "comparacion/", "auditorias/", "resultados/", "resultados/gan/", "bench/"]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    if not os.path.exists(os.path.join(SITE, "index.html")):
        pytest.fail(f"no built site in {os.path.relpath(SITE, ROOT)}: run make test-site (or make site) first",
                    pytrace=False)
    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(QuietHandler, directory=SITE))
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.shutdown()
        server.server_close()


def visit(browser, base: str, path: str, shot: str):
    """Loads base+path and returns (page, problems): console errors, uncaught exceptions, failed
    requests and requests outside the test server."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="es-ES")
    page = ctx.new_page()
    problems: list[str] = []
    embedded: list[str] = []

    def route(r):
        host = urlparse(r.request.url).hostname
        if host == "127.0.0.1":
            r.continue_()
        elif host in EMBED_HOSTS:
            embedded.append(r.request.url)
            r.fulfill(status=200, content_type="text/html", body="<!doctype html><title>vídeo</title>")
        else:
            problems.append(f"request outside the site: {r.request.url}")
            r.abort()

    ctx.route("**/*", route)
    page.on("console", lambda m: m.type == "error" and problems.append(f"console error: {m.text}"))
    page.on("pageerror", lambda e: problems.append(f"uncaught exception: {e}"))
    page.on("requestfailed", lambda r: urlparse(r.url).hostname == "127.0.0.1"
            and problems.append(f"failed request: {r.url} ({r.failure})"))
    page.on("response", lambda r: r.status >= 400 and problems.append(f"HTTP {r.status}: {r.url}"))
    page.goto(base + path, wait_until="load")
    # MathJax typesets after load: wait until its queue is empty (or it is absent).
    page.wait_for_function("() => !window.MathJax || !window.MathJax.Hub || "
                           "(window.MathJax.Hub.queue.pending === 0 && window.MathJax.Hub.queue.running === 0)",
                           timeout=60_000)
    page.screenshot(path=artifact("site", shot + ".png"))
    return ctx, page, problems, embedded


def test_home_page(browser, site):
    ctx, page, problems, embedded = visit(browser, site, "", "home")
    try:
        assert not problems, "\n".join(problems)
        assert "curso" in page.title().lower() or "ia generativa" in page.title().lower(), page.title()
        for vid in VIDEOS:
            frame = page.locator(f'iframe[src*="youtube-nocookie.com/embed/{vid}"]')
            assert frame.count() == 1, f"no iframe embedding the video {vid} on the home page"
            assert page.locator(f'a[href="https://www.youtube.com/watch?v={vid}"]').count() >= 1, \
                f"no plain link to the video {vid} beside its embed"
        # Every notebook is in the navigation.
        for nb in NOTEBOOKS:
            assert page.locator(f'nav a[href$="{nb}/"]').count() >= 1, f"{nb} missing from the navigation"
        page.locator("iframe").first.scroll_into_view_if_needed()
        page.screenshot(path=artifact("site", "home-videos.png"))
    finally:
        ctx.close()


@pytest.mark.parametrize("nb", NOTEBOOKS)
def test_notebook_page(browser, site, nb):
    ctx, page, problems, _ = visit(browser, site, f"{nb}/", nb)
    try:
        assert not problems, "\n".join(problems)
        content = page.locator("article")
        assert content.locator("h1").count() >= 1, "the notebook page has no title"
        # Formulas were typeset (MathJax 2 leaves .MathJax / .MathJax_CHTML / .MathJax_SVG elements).
        if "$" in open(os.path.join(ROOT, "notebooks", nb + ".ipynb"), encoding="utf-8").read():
            assert page.locator(".MathJax, .MathJax_CHTML, .MathJax_Display, .mjx-chtml").count() > 0, \
                "no typeset formula: is the site's MathJax loaded?"
        executed = page.locator(".iagen-note").count() == 0
        if executed:
            # An executed notebook shows its outputs: at least one image (a grid, a curve, a chart).
            images = content.locator(".jp-OutputArea-output img, .jp-OutputArea-output svg")
            assert images.count() > 0, "executed notebook page without any image output"
            images.first.scroll_into_view_if_needed()
            page.screenshot(path=artifact("site", nb + "-output.png"))
        if nb.startswith("00_"):
            for vid in VIDEOS:
                assert page.locator(f'iframe[src*="youtube-nocookie.com/embed/{vid}"]').count() == 1, \
                    f"no iframe embedding the video {vid} in 00_inicio"
    finally:
        ctx.close()


@pytest.mark.parametrize("path", OTHER_PAGES)
def test_other_pages(browser, site, path):
    ctx, page, problems, _ = visit(browser, site, path, path.strip("/").replace("/", "-"))
    try:
        assert not problems, "\n".join(problems)
        assert page.locator("article h1").count() >= 1
    finally:
        ctx.close()
