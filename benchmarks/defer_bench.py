"""Deferred micro-benchmarks: torsion against Twisted, measured in the same run.

Runs ../shared/bench/defer_bench.py (the shared case definitions: chain, errchain,
inlineCallbacks, coroutine, gatherResults) once for Twisted in the peer environment
(/tmp/peers, a subprocess: torsion never imports Twisted) and once for torsion, alternating
ROUNDS times.  Prints the best ops/s of each, the ratio of the bests, the median and the
range of the per-round ratios (each round runs the two back to back; machines here are
shared and noisy: a single round proves little).
With --cpu the same cases are timed by process CPU time, less disturbed by other load.

usage: python benchmarks/defer_bench.py [--rounds N] [--cpu] [--peer-python PATH]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench", "defer_bench.py"))


# --cpu: the same case definitions (the shared script up to its timing loop), timed with
# the process's CPU time instead of the wall clock, so that other processes competing for
# the CPU (these machines are shared) disturb the figures much less.
CPU_RUNNER = """
import sys, time
path, pkg = sys.argv[1], sys.argv[2]
source = open(path).read()
cut = source.index("for name, fn, n in [")
namespace = {"__name__": "defer_bench_cases"}
sys.argv = [path, pkg]
exec(compile(source[:cut], path, "exec"), namespace)
loop = source[cut:].split(":", 1)[0]
cases = eval(loop[loop.index("["):], namespace)
for name, fn, n in cases:
    best = 0.0
    for _ in range(3):
        t = time.process_time()
        fn(n)
        best = max(best, n / (time.process_time() - t))
    print(f"{name} {best:.0f}")
"""


def measure(python: str, package: str, cpu: bool = False) -> dict[str, float]:
    """Run the shared benchmark cases for one package; return ops/s per case."""
    command = [python, "-c", CPU_RUNNER, SHARED, package] if cpu else [python, SHARED, package]
    out = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    results: dict[str, float] = {}
    for line in out.splitlines():
        name, _, value = line.partition(" ")
        results[name] = float(value)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--peer-python", default="/tmp/peers/bin/python")
    parser.add_argument("--cpu", action="store_true",
                        help="time with process CPU time rather than the wall clock")
    opts = parser.parse_args()
    runs: dict[str, dict[str, list[float]]] = {"twisted": {}, "torsion": {}}
    ratios: dict[str, list[float]] = {}
    for _ in range(opts.rounds):
        peer = measure(opts.peer_python, "twisted", opts.cpu)
        mine = measure(sys.executable, "torsion", opts.cpu)
        for name, value in peer.items():
            runs["twisted"].setdefault(name, []).append(value)
            runs["torsion"].setdefault(name, []).append(mine[name])
            ratios.setdefault(name, []).append(mine[name] / value)
    print(f"{'case':<18}{'twisted ops/s':>15}{'torsion ops/s':>15}{'best':>8}"
          f"{'median':>8}{'per-round range':>20}")
    for name, peerRuns in runs["twisted"].items():
        peerBest, mineBest = max(peerRuns), max(runs["torsion"][name])
        low, high = min(ratios[name]), max(ratios[name])
        print(f"{name:<18}{peerBest:>15,.0f}{mineBest:>15,.0f}{mineBest / peerBest:>7.2f}x"
              f"{statistics.median(ratios[name]):>7.2f}x{low:>12.2f}x..{high:.2f}x")


if __name__ == "__main__":
    main()
