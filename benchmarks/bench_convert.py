"""Benchmark ``istiomigrate convert --output-dir`` against merely loading the same YAML.

    python benchmarks/bench_convert.py [--scale N] [--runs 3] [--linearity]

The yardstick is the floor for any Python tool reading a manifest tree: load
every document with PyYAML's C loader. On a tree of ~30,000 documents in
1,000 files, one third legacy (RouteRules and DestinationPolicies for
thousands of hosts across 20 namespaces), the goal is convert / loader <= 1.5
and a peak memory under 500 MB. ``--linearity`` also converts a tree ten
times larger (goal: at most 11 times longer). Timings are best of ``--runs``,
as subprocesses, start-up included.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_check import best_of, load_everything
from synth import generate_tree

GOAL_RATIO, GOAL_MB, GOAL_LINEAR = 1.5, 500, 11


def run_convert(root: Path, out: Path) -> float:
    """One ``convert --output-dir`` run; returns the child's peak memory in MB."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    done = subprocess.run(
        [sys.executable, "-m", "istiomigrate", "convert", str(root), "--output-dir", str(out),
         "--report-format", "json", "--report-file", str(out.parent / "report.json")],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
    )
    if done.returncode not in (0, 1):
        raise SystemExit(f"convert exited {done.returncode}: {done.stderr.decode()[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(peak, before) / 1024


def measure(scale: int, runs: int) -> tuple[float, float, float, int]:
    with tempfile.TemporaryDirectory(prefix="bench-convert-") as tmp:
        root, out = Path(tmp) / "in", Path(tmp) / "out"
        stats = generate_tree(root, files=1000 * scale, legacy_fraction=1 / 3, seed=1)
        loader = best_of(runs, lambda: load_everything(root))
        peaks: list[float] = []
        convert = best_of(runs, lambda: peaks.append(run_convert(root, out)))
    return loader, convert, max(peaks), stats.documents


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1, help="multiply the 1,000 files by N")
    parser.add_argument("--runs", type=int, default=3, help="best of N runs (default 3)")
    parser.add_argument("--linearity", action="store_true",
                        help="also convert a tree 10 times larger (slow)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    loader, convert, peak, docs = measure(args.scale, args.runs)
    ratio = convert / loader
    print(f"{docs} documents, one third legacy")
    print(f"loader {loader:.3f}s  convert --output-dir {convert:.3f}s  ratio {ratio:.3f} "
          f"(goal <= {GOAL_RATIO})  peak memory {peak:.0f} MB (goal < {GOAL_MB})")
    met = ratio <= GOAL_RATIO and peak < GOAL_MB
    if args.linearity:
        _, big, big_peak, big_docs = measure(args.scale * 10, 1)
        growth = big / convert
        print(f"{big_docs} documents: convert {big:.3f}s, {growth:.2f}x the time for 10x the "
              f"documents (goal <= {GOAL_LINEAR}), peak memory {big_peak:.0f} MB")
        met = met and growth <= GOAL_LINEAR
    print(f"total benchmark time {time.perf_counter() - started:.0f}s")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
