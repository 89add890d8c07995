#!/usr/bin/env python3
"""Execute notebooks headless with the iagen (gonb) kernel and fail at the first failing cell.

    .venv/bin/python scripts/nbtest.py [options] NOTEBOOK.ipynb|DIR ...

Each notebook runs in a fresh kernel, all code cells in order, in the notebook's own folder. A
notebook stops at its first failing cell; the others still run. Exit status: 0 when every
notebook passed, 1 when any failed, 2 on a usage or set-up error. The last line of the output
is "nbtest: N passed, M failed".

A cell fails when it has an error output (compile errors, gonb errors), or when its stderr shows
that the program or a shell command failed: gonb only prints "exit status N" (and a panic's
trace) on stderr for a panic, a non-zero os.Exit or a failing `!command`, and tells Jupyter the
cell succeeded, so neither nbclient nor `jupyter nbconvert --execute` notice those by
themselves. A timeout and a dead kernel fail too. A cell tagged "raises-exception" may fail.

Kernel environment: this process's environment, plus IAGEN_PROFILE (--profile, default "ci"),
plus any --env NAME=VALUE. With --offline the kernel's Go commands may not use the network
(GOPROXY=off): notebooks must build from what scripts/setup.sh installed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
import warnings
from html import unescape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VENV_PYTHON = os.path.join(ROOT, ".venv", "bin", "python")

try:
    import nbformat
    from nbformat.validator import MissingIDFieldWarning
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
except ImportError:  # Not the checkout's venv: run again with it, if there is one.
    if os.path.exists(VENV_PYTHON) and os.path.realpath(sys.prefix) != os.path.realpath(
            os.path.join(ROOT, ".venv")) and __name__ == "__main__":
        os.execv(VENV_PYTHON, [VENV_PYTHON, os.path.abspath(__file__), *sys.argv[1:]])
    print("nbtest: nbclient is not installed: run scripts/setup.sh, then use .venv/bin/python", file=sys.stderr)
    sys.exit(2)

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TAG_RE = re.compile(r"<[^>]+>")

# What gonb (and the Go runtime) write on stderr when a cell's program or shell command failed.
# gonb writes exec's error text on its own line: "exit status 3", "signal: killed".
RUNTIME_FAILURE = [
    (re.compile(r"^(?:\^C\s*)?exit status (\d+)\s*$", re.M), "non-zero exit status"),
    (re.compile(r"^(?:\^C\s*)?signal: [\w ]+$", re.M), "killed by a signal"),
    (re.compile(r"^panic: ", re.M), "panic"),
    (re.compile(r"^fatal error: ", re.M), "Go runtime fatal error"),
    (re.compile(r"^GoNB Error:", re.M), "gonb error"),
]


def clean(text: str) -> str:
    return ANSI.sub("", text)


def cell_failure(cell) -> str | None:
    """Returns why an executed code cell failed, or None. The first line says what happened; the
    lines after it are the offending text (compiler messages, panic trace, stderr)."""
    stderr, errors, rich = [], [], []
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "error":
            errors.append(out)
        elif kind == "stream" and out.get("name") == "stderr":
            stderr.append(as_text(out.get("text", "")))
        elif kind in ("display_data", "execute_result"):
            text = html_error_text(as_text(out.get("data", {}).get("text/html", "")))
            if text:
                rich.append(text)
    err = clean("".join(stderr))

    # A panic or a fatal runtime error: its message and trace say the most.
    for pattern, _ in RUNTIME_FAILURE[2:4]:
        m = pattern.search(err)
        if m:
            return excerpt(err, m.start())  # starts with "panic: " or "fatal error: "
    # gonb (v0.11.4) also sends an error for a program's non-zero exit: stderr says it better.
    exit_error = any(re.fullmatch(r"(\^C\s*)?(exit status \d+|signal: [\w ]+)", clean(e.get("evalue", "")).strip())
                     for e in errors)
    if errors and not exit_error:
        e = errors[0]
        ename, evalue = e.get("ename", "") or "error", clean(e.get("evalue", "")).strip()
        if rich:  # gonb's HTML error: compiler or `go get` messages, mapped to cell lines.
            what = "compile error" if re.search(r"\bgo (build|test -c)\b", evalue) else f"{ename}: {evalue}"
            return f"{what}: " + "\n".join(rich)
        lines = [excerpt(err, len(err))] if err.strip() else []
        lines += [clean(ln) for ln in e.get("traceback", []) if clean(ln).strip() not in (evalue, "")]
        return f"{ename}: {evalue}" + "".join("\n" + ln for ln in lines)
    for pattern, what in RUNTIME_FAILURE[:2] + RUNTIME_FAILURE[4:]:
        m = pattern.search(err)
        if not m or (m.groups() and int(m.group(1)) == 0):
            continue
        return f"{what}: {excerpt(err, m.start())}"
    if errors:
        e = errors[0]
        return f"{e.get('ename', 'error')}: {clean(e.get('evalue', '')).strip()}"
    return None


def as_text(value) -> str:
    return value if isinstance(value, str) else "".join(value)


def html_error_text(html: str) -> str:
    """The text of gonb's HTML error display (compile errors), without its styling and the
    hover-only copy of the code around each error."""
    if "gonb-err" not in html:
        return ""
    html = re.sub(r"(?is)<(style|script)\b.*?</\1>", "", html)
    html = re.sub(r'(?is)<div class="gonb-err-context">.*?</div>\s*</div>', "</div>", html)
    html = re.sub(r"(?i)</div>|<br\s*/?>", "\n", html)
    text = unescape(TAG_RE.sub("", html))
    lines = [ln.strip() for ln in text.splitlines()]
    return "\n".join(ln for ln in lines if ln and not re.fullmatch(r"# gonb_\w+", ln))


def excerpt(text: str, at: int, max_lines: int = 25) -> str:
    """The failure's text: from the start of the panic (or a few lines before `at`), at most
    max_lines lines."""
    lines = text.splitlines()
    if not lines:
        return ""
    line_no = min(text.count("\n", 0, at), len(lines) - 1)
    start = max(0, line_no - 5)
    for i in range(line_no, max(-1, line_no - max_lines), -1):
        if lines[i].startswith(("panic: ", "fatal error: ")):
            start = i
            break
    chunk = lines[start:start + max_lines]
    if start + max_lines < len(lines):
        chunk.append(f"... ({len(lines) - start - max_lines} more lines)")
    return "\n".join(chunk).strip()


class Result:
    def __init__(self, path: str):
        self.path = path
        self.cell: int | None = None  # index in nb.cells of the failing cell
        self.reason = ""
        self.source = ""
        self.seconds = 0.0
        self.cells_run = 0

    @property
    def ok(self) -> bool:
        return not self.reason


def run_notebook(path: str, args, log) -> Result:
    res = Result(path)
    t0 = time.monotonic()
    with warnings.catch_warnings():  # Cells without ids (older notebooks) are not the runner's business.
        warnings.simplefilter("ignore", MissingIDFieldWarning)
        nb = nbformat.read(path, as_version=4)
    for i, cell in enumerate(nb.cells):
        cell.setdefault("id", f"cell-{i}")
    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout=args.timeout,
        startup_timeout=args.startup_timeout,
        allow_errors=True,  # Failures are judged here, the same way for every kind.
        record_timing=True,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(path))}},
    )
    try:
        with client.setup_kernel(stdout=log, stderr=log):
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code" or not cell.source.strip():
                    continue
                if "skip-execution" in cell.metadata.get("tags", []):
                    continue
                res.cells_run += 1
                if args.verbose:
                    print(f"  cell {index}: {first_line(cell.source)}", flush=True)
                c0 = time.monotonic()
                try:
                    client.execute_cell(cell, index)
                except CellTimeoutError:
                    fail(res, index, cell, f"timeout: the cell ran longer than {args.timeout} s")
                    break
                except DeadKernelError as e:
                    fail(res, index, cell, f"the kernel died: {e}")
                    break
                if args.verbose:
                    print(f"  cell {index}: {time.monotonic() - c0:.1f} s", flush=True)
                if "raises-exception" in cell.metadata.get("tags", []):
                    continue
                why = cell_failure(cell)
                if why:
                    fail(res, index, cell, why)
                    break
    except NoSuchKernel:
        die(f"no kernel named {args.kernel!r}: run scripts/setup.sh")
    except (RuntimeError, TimeoutError) as e:  # kernel did not start
        res.reason = f"the kernel did not start: {e}"
    res.seconds = time.monotonic() - t0
    if args.out:
        os.makedirs(args.out, exist_ok=True)
        nbformat.write(nb, os.path.join(args.out, os.path.basename(path)))
    return res


def die(msg: str) -> None:
    """A usage or set-up error: exit status 2."""
    print(f"nbtest: {msg}", file=sys.stderr)
    sys.exit(2)


def fail(res: Result, index: int, cell, reason: str) -> None:
    res.cell, res.reason, res.source = index, reason, cell.source


def first_line(src: str, width: int = 70) -> str:
    line = next((ln for ln in src.splitlines() if ln.strip()), "")
    return line if len(line) <= width else line[: width - 3] + "..."


def notebooks(paths: list[str]) -> list[str]:
    found = []
    for p in paths:
        if os.path.isdir(p):
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                found += [os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".ipynb")]
        elif os.path.isfile(p) and p.endswith(".ipynb"):
            found.append(p)
        else:
            die(f"{p}: not a notebook or a folder")
    return found


def check_out_dir(out: str) -> str:
    out = os.path.abspath(out)
    inside = os.path.commonpath([out, ROOT]) == ROOT
    if inside:
        r = subprocess.run(["git", "-C", ROOT, "check-ignore", "-q", os.path.relpath(out, ROOT) + "/"],
                           capture_output=True)
        if r.returncode != 0:
            die(f"--out {out} is inside the repository and not ignored by git; "
                             "use a folder outside it (or under runs/)")
    return out


def main() -> int:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        epilog="Failures are reported as NOTEBOOK: cell N: REASON followed by the offending text.")
    p.add_argument("paths", nargs="+", metavar="NOTEBOOK|DIR", help="notebooks, or folders searched for *.ipynb")
    p.add_argument("--kernel", default="iagen", help="kernel name (default: %(default)s)")
    p.add_argument("--timeout", type=int, default=900, help="seconds per cell (default: %(default)s)")
    p.add_argument("--startup-timeout", type=int, default=120, help="seconds for the kernel to start")
    p.add_argument("--profile", default="ci", help="IAGEN_PROFILE for the notebooks (default: %(default)s); '' leaves it unset")
    p.add_argument("--env", action="append", default=[], metavar="NAME=VALUE", help="extra kernel environment")
    p.add_argument("--offline", action="store_true", help="forbid network use by go in the kernel (GOPROXY=off)")
    p.add_argument("--out", help="write executed copies here (not inside the repository)")
    p.add_argument("-v", "--verbose", action="store_true", help="show each cell, and the kernel's log")
    args = p.parse_args()

    paths = notebooks(args.paths)
    if not paths:
        print("nbtest: no notebooks found", file=sys.stderr)
        return 2
    if args.out:
        args.out = check_out_dir(args.out)

    # The kernel inherits this process's environment (plus its spec's env).
    if args.profile:
        os.environ["IAGEN_PROFILE"] = args.profile
    if args.offline:
        os.environ["GOPROXY"] = "off"
    for kv in args.env:
        name, sep, value = kv.partition("=")
        if not sep or not name:
            p.error(f"--env {kv!r}: want NAME=VALUE")
        os.environ[name] = value

    results = []
    for path in paths:
        rel = shown(path)
        print(f"nbtest: {rel} ...", flush=True)
        with tempfile.TemporaryFile(mode="w+") as log:
            res = run_notebook(path, args, None if args.verbose else log)
            if not res.ok and not args.verbose:
                log.seek(0)
                tail = log.read().splitlines()[-15:]
            else:
                tail = []
        results.append(res)
        if res.ok:
            print(f"  ok   {rel} ({res.cells_run} cells, {res.seconds:.1f} s)", flush=True)
        else:
            where = f"cell {res.cell}" if res.cell is not None else "kernel"
            print(f"  FAIL {rel}: {where}: {res.reason.splitlines()[0]}", flush=True)
            if res.source:
                print("  --- cell source ---")
                print(indent(res.source.rstrip()))
            print("  --- offending output ---")
            print(indent(res.reason))
            if tail and res.cell is None:
                print("  --- kernel log (last lines) ---")
                print(indent(clean("\n".join(tail))))
            print(flush=True)

    failed = [r for r in results if not r.ok]
    if failed:
        print("nbtest: failures:")
        for r in failed:
            where = f"cell {r.cell}" if r.cell is not None else "kernel"
            print(f"  {shown(r.path)}: {where}: {r.reason.splitlines()[0]}")
    print(f"nbtest: {len(results) - len(failed)} passed, {len(failed)} failed", flush=True)
    return 1 if failed else 0


def shown(path: str) -> str:
    """A notebook's path as given relative to the working directory when it is below it."""
    rel = os.path.relpath(path)
    return os.path.abspath(path) if rel.startswith("..") else rel


def indent(text: str, prefix: str = "  | ") -> str:
    return "\n".join(prefix + line for line in text.splitlines())


if __name__ == "__main__":
    sys.exit(main())
