"""Install (or check) the "iagen" Jupyter kernel: gonb with this checkout's environment.

Run with the notebook environment's Python (scripts/setup.sh does):

    .venv/bin/python kernels/install.py --root ROOT --gonb ROOT/.tools/bin/gonb --goroot GOROOT
    .venv/bin/python kernels/install.py --check --root ROOT

The spec is rendered from kernels/iagen/kernel.json.in (absolute paths filled in) and installed
into the Python environment running this script (sys.prefix/share/jupyter/kernels/iagen), so it
belongs to the checkout's .venv and to nothing else on the machine. Installing is skipped when
the installed spec is already identical. --check exits 0 when an installed spec points at ROOT
and its programs exist, 1 otherwise (scripts/lab.sh uses it to decide whether to run setup).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import shutil
import sys
import tempfile

KERNEL_NAME = "iagen"
HERE = os.path.dirname(os.path.abspath(__file__))
TEMPLATE = os.path.join(HERE, KERNEL_NAME, "kernel.json.in")


def installed_dir() -> str:
    return os.path.join(sys.prefix, "share", "jupyter", "kernels", KERNEL_NAME)


def render(root: str, gonb: str, goroot: str) -> dict:
    with open(TEMPLATE, encoding="utf-8") as f:
        text = f.read()
    for key, value in {"@ROOT@": root, "@GONB@": gonb, "@GOROOT@": goroot}.items():
        # Values go inside JSON strings: escape them as JSON would.
        text = text.replace(key, json.dumps(value)[1:-1])
    left = re.search(r"@[A-Z_]+@", text)
    if left:
        raise SystemExit(f"install.py: placeholder {left.group()} of {TEMPLATE} has no value")
    return json.loads(text)


def check(root: str) -> list[str]:
    """Returns what is wrong with the installed kernel (empty when it is usable)."""
    path = os.path.join(installed_dir(), "kernel.json")
    try:
        with open(path, encoding="utf-8") as f:
            spec = json.load(f)
    except (OSError, ValueError) as e:
        return [f"no usable kernel spec at {path} ({e})"]
    problems = []
    env = spec.get("env", {})
    if os.path.realpath(env.get("IAGEN_ROOT", "")) != os.path.realpath(root):
        problems.append(f"kernel spec points at checkout {env.get('IAGEN_ROOT')!r}, not {root!r}")
    for what, prog in (("gonb", spec.get("argv", [""])[0]), ("go", env.get("IAGEN_GO", ""))):
        if not (os.path.isfile(prog) and os.access(prog, os.X_OK)):
            problems.append(f"{what} program {prog!r} named by the kernel spec is missing")
    tools = os.path.join(root, ".tools", "bin")
    for tool in ("goimports", "gopls"):
        if not os.access(os.path.join(tools, tool), os.X_OK):
            problems.append(f"{tool} missing from {tools}")
    return problems


def install(root: str, gonb: str, goroot: str) -> None:
    for what, prog in (("gonb", gonb), ("go", os.path.join(goroot, "bin", "go"))):
        if not (os.path.isfile(prog) and os.access(prog, os.X_OK)):
            raise SystemExit(f"install.py: {what} not found at {prog}")
    spec = render(root, gonb, goroot)
    dest = installed_dir()
    current = None
    try:
        with open(os.path.join(dest, "kernel.json"), encoding="utf-8") as f:
            current = json.load(f)
    except (OSError, ValueError):
        pass
    if current == spec:
        print(f"kernel {KERNEL_NAME!r} up to date in {dest}")
        return

    from jupyter_client.kernelspec import KernelSpecManager

    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, KERNEL_NAME)
        os.mkdir(src)
        with open(os.path.join(src, "kernel.json"), "w", encoding="utf-8") as f:
            json.dump(spec, f, indent=2)
            f.write("\n")
        # The gopher logo that gonb itself installs with its kernel (CC BY 3.0, Renée French),
        # taken from gonb's module in the Go module cache when it is there.
        modcache = os.environ.get("GOMODCACHE", "")
        for logo in sorted(glob.glob(os.path.join(modcache, "github.com", "janpfeifer", "gonb@*",
                                                  "internal", "kernel", "Go_gopher_favicon.svg")))[-1:]:
            shutil.copyfile(logo, os.path.join(src, "logo-svg.svg"))
        where = KernelSpecManager().install_kernel_spec(src, kernel_name=KERNEL_NAME, prefix=sys.prefix)
    print(f"kernel {KERNEL_NAME!r} installed in {where}")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--root", required=True, help="absolute path of the checkout")
    p.add_argument("--gonb", help="absolute path of the gonb binary")
    p.add_argument("--goroot", help="GOROOT of the Go toolchain the kernel uses")
    p.add_argument("--check", action="store_true", help="only check the installed kernel")
    a = p.parse_args()
    root = os.path.abspath(a.root)
    if a.check:
        problems = check(root)
        for msg in problems:
            print(f"kernel {KERNEL_NAME!r}: {msg}", file=sys.stderr)
        return 1 if problems else 0
    if not (a.gonb and a.goroot):
        p.error("--gonb and --goroot are required to install")
    install(root, os.path.abspath(a.gonb), os.path.abspath(a.goroot))
    return 0


if __name__ == "__main__":
    sys.exit(main())
