"""Step times of BENCH.md's six configurations in PyTorch, printed like `iagen bench --json`.

    python bench/pytorch/bench.py [families...] --steps N --warmup W --threads T --json --data-dir DIR

For each family it builds the model (models.py), runs W untimed warm-up steps (at least 2, as
`iagen bench`), times N steps one by one and prints one line per family. float32 on the CPU.
"""

import argparse
import json
import math
import os
import resource
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # data.py and models.py, from any directory

# torch warns at import when NumPy is absent; nothing here uses NumPy, so it is not installed.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402

import data  # noqa: E402
from models import FAMILIES  # noqa: E402


def rank_statistic(sorted_ms: list[float], q: float) -> float:
    """The ⌊q·n⌋-th fastest of n step times (1-based, at least the first), without interpolation:
    what go-benchmarks' quantile estimator (streadway/quantile) returns for so few samples, so
    that median_ms and p99_ms mean the same on both sides (BENCH.md, "How the numbers are
    taken"). For n < 100, p99 is then the slowest step but one."""
    return sorted_ms[max(math.floor(q * len(sorted_ms)), 1) - 1]


def summarize(times_ms: list[float]) -> dict:
    s = sorted(times_ms)
    mean = sum(s) / len(s)
    return {"steps": len(s), "median_ms": rank_statistic(s, 0.5), "p99_ms": rank_statistic(s, 0.99),
            "mean_ms": mean, "steps_per_second": 1000 / mean}


def peak_rss_mib() -> float:
    """Peak resident memory of the process (getrusage's ru_maxrss, KiB on Linux), as the Go side."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench(family: str, root: Path, warmup: int, steps: int, seed: int) -> dict:
    torch.manual_seed(seed)
    task = FAMILIES[family](root)

    def timed_step() -> float:
        t0 = time.perf_counter()
        loss = task.step()
        if not math.isfinite(loss):
            raise RuntimeError(f"{family}: the loss is {loss}")
        return (time.perf_counter() - t0) * 1000

    # The first step is PyTorch's closest thing to a compilation (allocator warm-up, oneDNN
    # primitives, lazy initialisation): compile_seconds, as `iagen bench` reports its first step.
    warm = [timed_step() for _ in range(max(warmup, 2))]
    times = [timed_step() for _ in range(steps)]
    return {"family": family, "profile": "bench", "framework": f"pytorch {torch.__version__}",
            "backend": "cpu", "threads": torch.get_num_threads(), **summarize(times),
            "compile_seconds": warm[0] / 1000, "warmup_seconds": sum(warm) / 1000,
            "peak_rss_mib": peak_rss_mib(), "params": task.params}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("families", nargs="*", help=f"default: all of {', '.join(FAMILIES)}")
    p.add_argument("--steps", type=int, default=20, help="timed steps (default 20)")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps first, at least 2 (default 3)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads (default: every CPU)")
    p.add_argument("--json", action="store_true", help="one JSON object per line per family")
    p.add_argument("--data-dir", help="data folder (default $IAGEN_DATA_DIR, else ~/.cache/iagen/data)")
    p.add_argument("--seed", type=int, default=42)
    a = p.parse_args()
    unknown = [f for f in a.families if f not in FAMILIES]
    if unknown or a.steps < 1 or a.threads < 1:
        p.error(f"unknown families {unknown} (known: {', '.join(FAMILIES)})" if unknown else "--steps and --threads must be ≥ 1")

    torch.set_num_threads(a.threads)
    root = data.data_dir(a.data_dir)
    for family in a.families or FAMILIES:
        try:
            r = bench(family, root, a.warmup, a.steps, a.seed)
        except FileNotFoundError as e:
            sys.exit(f"bench.py: {family}: {e.filename} is missing: fetch the data first (bin/iagen data fetch)")
        if a.json:
            print(json.dumps(r, separators=(",", ":")), flush=True)
        else:
            print(f"{family:<10} median {r['median_ms']:8.2f} ms  p99 {r['p99_ms']:8.2f} ms  "
                  f"{r['steps_per_second']:7.2f} steps/s  first step {r['compile_seconds']:.2f} s  "
                  f"peak RSS {r['peak_rss_mib']:.0f} MiB  ({r['steps']} steps, {r['framework']}, {r['threads']} threads)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
