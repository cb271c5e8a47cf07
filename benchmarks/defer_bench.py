"""Deferred micro-benchmarks: torsion against Twisted, measured in the same run.

Runs ../shared/bench/defer_bench.py (the shared case definitions) once for Twisted in the
peer environment (/tmp/peers, a subprocess: torsion never imports Twisted) and once for
torsion, alternating ROUNDS times, and prints the best ops/s of each and their ratio.

usage: python benchmarks/defer_bench.py [--rounds N] [--peer-python PATH]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench", "defer_bench.py"))


def measure(python: str, package: str) -> dict[str, float]:
    """Run the shared benchmark script for one package; return ops/s per case."""
    out = subprocess.run([python, SHARED, package], check=True, capture_output=True,
                         text=True).stdout
    results: dict[str, float] = {}
    for line in out.splitlines():
        name, _, value = line.partition(" ")
        results[name] = float(value)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peer-python", default="/tmp/peers/bin/python")
    opts = parser.parse_args()
    best: dict[str, dict[str, float]] = {"twisted": {}, "torsion": {}}
    for _ in range(opts.rounds):
        for package, python in (("twisted", opts.peer_python), ("torsion", sys.executable)):
            for name, value in measure(python, package).items():
                best[package][name] = max(best[package].get(name, 0.0), value)
    print(f"{'case':<18}{'twisted ops/s':>16}{'torsion ops/s':>16}{'ratio':>8}")
    for name, peer in best["twisted"].items():
        mine = best["torsion"].get(name, 0.0)
        print(f"{name:<18}{peer:>16,.0f}{mine:>16,.0f}{mine / peer:>7.2f}x")


if __name__ == "__main__":
    main()
