"""Benchmark ``istiomigrate check`` against merely loading the same YAML.

    python benchmarks/bench_check.py [--scale N] [--runs 3] [--linearity]

The yardstick is what any tool that reads a manifest tree must at least do:
load every document with PyYAML's C loader. ``check`` is a CI gate run on
every push, so it must cost a fraction of that: on a tree where 1 document in
100 is legacy, at most 0.25x the loader; on a tree where a third is legacy,
at most 1.0x. ``check`` is timed as a subprocess, start-up included, as CI
runs it. Each timing is the best of ``--runs`` runs. ``--linearity`` also
compares the 1-in-100 tree at ten times the size (slow: ~300,000 documents).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import TreeStats, generate_tree

SCENARIOS = (("1 in 100 legacy", 0.01, 0.25), ("one third legacy", 1 / 3, 1.0))


def best_of(runs: int, action: Callable[[], object]) -> float:
    """Best wall time of ``runs`` runs: the least disturbed by the rest of the machine."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return min(times)


def load_everything(root: Path) -> int:
    """The yardstick: read every manifest file and load all its documents with the C loader."""
    count = 0
    for dirpath, _dirnames, filenames in os.walk(root):
        for name in filenames:
            if name.endswith((".yaml", ".yml", ".json")):
                with open(os.path.join(dirpath, name), encoding="utf-8") as handle:
                    text = handle.read()
                for _doc in yaml.load_all(text, Loader=yaml.CSafeLoader):
                    count += 1
    return count


def run_check(root: Path, expect: int) -> None:
    """``istiomigrate check DIR --format json > /dev/null``, as a CI job would run it."""
    done = subprocess.run(
        [sys.executable, "-m", "istiomigrate", "check", str(root), "--format", "json"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
    )
    if done.returncode != expect:
        raise SystemExit(f"check exited {done.returncode}, expected {expect}: {done.stderr!r}")


def scenario(name: str, fraction: float, goal: float, scale: int, runs: int) -> bool:
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        root = Path(tmp)
        stats = generate_tree(root, files=1000 * scale, legacy_fraction=fraction, seed=1)
        loaded = load_everything(root)
        assert loaded == stats.documents, (loaded, stats.documents)
        loader = best_of(runs, lambda: load_everything(root))
        check = best_of(runs, lambda: run_check(root, expect=1 if stats.legacy else 0))
    ratio = check / loader
    verdict = "ok" if ratio <= goal else "MISSED"
    print(f"{name:18} {_describe(stats)}")
    print(f"{'':18} loader {loader:7.3f}s  check {check:7.3f}s  "
          f"ratio {ratio:5.3f} (goal <= {goal}) {verdict}")
    return ratio <= goal


def linearity(runs: int) -> None:
    """check time at 10x the documents should be ~10x, once fixed start-up is set aside."""
    with tempfile.TemporaryDirectory(prefix="bench-check-empty-") as empty:
        startup = best_of(runs, lambda: run_check(Path(empty), expect=0))
    times = {}
    for scale in (1, 10):
        with tempfile.TemporaryDirectory(prefix="bench-check-lin-") as tmp:
            root = Path(tmp)
            stats = generate_tree(root, files=1000 * scale, legacy_fraction=0.01, seed=1)
            times[scale] = best_of(runs, lambda r=root: run_check(r, expect=1))
            print(f"scale {scale:2}: {_describe(stats)}: check {times[scale]:.3f}s")
    raw = times[10] / times[1]
    net = (times[10] - startup) / (times[1] - startup)
    print(f"start-up (empty tree) {startup:.3f}s; time x10 docs: {raw:.2f}x raw, "
          f"{net:.2f}x without start-up (linear: ~10x)")


def _describe(stats: TreeStats) -> str:
    return (f"{stats.documents} docs in {stats.files} files, {stats.legacy} legacy, "
            f"{stats.bytes / 1e6:.1f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1, help="multiply the 1,000 files by N")
    parser.add_argument("--runs", type=int, default=3, help="best of N runs (default 3)")
    parser.add_argument("--linearity", action="store_true",
                        help="also time the 1-in-100 tree at scale 1 and 10 (slow)")
    args = parser.parse_args(argv)
    met = [scenario(n, f, g, args.scale, args.runs) for n, f, g in SCENARIOS]
    if args.linearity:
        linearity(args.runs)
    return 0 if all(met) else 1


if __name__ == "__main__":
    sys.exit(main())
