"""iagen against PyTorch on BENCH.md's configurations, on this machine: a Markdown table of step
times and their ratio.

    python bench/pytorch/compare.py [families...] --steps N --warmup W --threads T [--json]

Each family is timed by `bin/iagen bench <family> --json --no-sample` and by bench.py, one
process at a time and one family at a time, the side that goes first alternating from family to
family so that a machine warming up or slowing down does not favour either. Both sides get the
same steps, warm-up and threads; with T below the number of CPUs both run pinned to the same T
CPUs (sched_setaffinity), which bounds XLA's thread pool as well as PyTorch's.

ratio = PyTorch median ms / iagen median ms: above 1, iagen's step is faster.
"""

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
FAMILIES = ["gan", "vae", "gpt", "lstm", "diffusion", "flow"]  # BENCH.md's order


def run_side(name: str, cmd: list[str], cpus: set[int] | None) -> dict:
    """Runs one benchmark process and returns the JSON object of its last line."""
    print(f"compare.py: {name}: {' '.join(cmd)}", file=sys.stderr, flush=True)
    pin = (lambda: os.sched_setaffinity(0, cpus)) if cpus else None
    p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, preexec_fn=pin)
    lines = [line for line in p.stdout.splitlines() if line.startswith("{")]
    if p.returncode != 0 or not lines:
        why = (p.stderr.strip().splitlines() or [f"exit status {p.returncode}, no JSON line"])[-1]
        sys.exit(f"compare.py: {name} failed: {why}")
    return json.loads(lines[-1])


def markdown(rows: list[dict], a) -> str:
    iagen = rows[0]["iagen"].get("backend", "?")
    torch = rows[0]["pytorch"].get("framework", "?")
    out = [f"Median / p99 ms per training step: {a.steps} timed steps after {a.warmup} warm-up, "
           f"{a.threads} thread{'s' * (a.threads != 1)}; iagen on {iagen}, {torch}. Ratio = PyTorch / iagen (> 1: iagen is faster).",
           "",
           "| family | iagen median / p99 ms | PyTorch median / p99 ms | ratio |",
           "|---|---:|---:|---:|"]
    for r in rows:
        i, t = r["iagen"], r["pytorch"]
        out.append(f"| {r['family']} | {i['median_ms']:.1f} / {i['p99_ms']:.1f} | "
                   f"{t['median_ms']:.1f} / {t['p99_ms']:.1f} | {r['ratio']:.2f} |")
    return "\n".join(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("families", nargs="*", help=f"default: all of {', '.join(FAMILIES)}")
    p.add_argument("--steps", type=int, default=20, help="timed steps per side (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first, at least 2 (default 3)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="threads (CPUs) per side (default: every CPU)")
    p.add_argument("--data-dir", help="data folder for both sides (default: theirs, $IAGEN_DATA_DIR or ~/.cache/iagen/data)")
    p.add_argument("--iagen", default=str(ROOT / "bin" / "iagen"), help="the iagen command (default bin/iagen)")
    p.add_argument("--backend", help="iagen's backend (default: its own, auto), e.g. go for the pure-Go one")
    venv = ROOT / ".venv-torch" / "bin" / "python"  # make bench-pytorch's
    p.add_argument("--python", default=str(venv) if venv.exists() else sys.executable,
                   help="the Python with torch (default: .venv-torch's, else this one)")
    p.add_argument("--json", action="store_true", help="print the table as JSON instead of Markdown")
    a = p.parse_args()
    unknown = [f for f in a.families if f not in FAMILIES]
    if unknown:
        p.error(f"unknown families {unknown} (known: {', '.join(FAMILIES)})")
    if a.steps < 1 or a.threads < 1:
        p.error("--steps and --threads must be ≥ 1")
    if not os.access(a.iagen, os.X_OK):
        sys.exit(f"compare.py: {a.iagen} not found: run make build")

    available = sorted(os.sched_getaffinity(0))
    a.threads = min(a.threads, len(available))
    cpus = set(available[:a.threads]) if a.threads < len(available) else None
    common = ["--steps", str(a.steps), "--warmup", str(a.warmup)] + (["--data-dir", a.data_dir] if a.data_dir else [])
    rows = []
    for k, family in enumerate(a.families or FAMILIES):
        sides = {
            "iagen": [a.iagen, "bench", family, "--json", "--no-sample"] + (["--backend", a.backend] if a.backend else []) + common,
            "pytorch": [a.python, str(HERE / "bench.py"), family, "--json", "--threads", str(a.threads)] + common,
        }
        order = ["iagen", "pytorch"] if k % 2 == 0 else ["pytorch", "iagen"]
        r = {name: run_side(f"{family} ({name})", sides[name], cpus) for name in order}
        rows.append({"family": family, "iagen": r["iagen"], "pytorch": r["pytorch"],
                     "ratio": r["pytorch"]["median_ms"] / r["iagen"]["median_ms"]})

    if a.json:
        print(json.dumps({"steps": a.steps, "warmup": a.warmup, "threads": a.threads, "rows": rows}, indent=1))
    else:
        print(markdown(rows, a))
    return 0


if __name__ == "__main__":
    sys.exit(main())
