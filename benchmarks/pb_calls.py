"""Perspective Broker remote calls per second: torsion and Twisted side by side, one run.

    python benchmarks/pb_calls.py [--seconds 3] [--rounds 3] [--twisted /tmp/peers/bin/python]

Each measurement is a fresh process running the same program on one implementation: a PB
server (a Root with remote_add) and a PB client in the same process, connected over TCP
on 127.0.0.1; the client keeps WINDOW calls outstanding and counts answers for SECONDS
after a warm-up. Both sides of the connection run in the process, so the figure is the
whole cost of a call (jelly + banana + dispatch, twice). Rounds alternate Twisted and
torsion (pinned to CPU 0 when taskset exists) and the medians and their ratio are printed.
Logging is off in both.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

PROGRAM = """
import sys, time
{prelude}
from {pkg}.spread import pb

class Root(pb.Root):
    def remote_add(self, a, b):
        return a + b

seconds, window = float(sys.argv[1]), int(sys.argv[2])
server = reactor.listenTCP(0, pb.PBServerFactory(Root()), interface="127.0.0.1")
client = pb.PBClientFactory()
reactor.connectTCP("127.0.0.1", server.getHost().port, client)
state = {{"count": 0, "measuring": False, "deadline": 0.0, "running": window}}

def finish():
    state["running"] -= 1
    if state["running"] == 0:
        reactor.stop()

def loop(root):
    def again(result):
        if state["measuring"]:
            state["count"] += 1
        if time.perf_counter() >= state["deadline"]:
            finish()
            return
        root.callRemote("add", result, 1).addCallback(again)
    again(0)

def start(root):
    now = time.perf_counter()
    state["deadline"] = now + 0.5 + seconds
    def begin():
        state["measuring"] = True
        state["started"] = time.perf_counter()
    reactor.callLater(0.5, begin)
    for _ in range(window):
        loop(root)

client.getRootObject().addCallback(start)
reactor.run()
elapsed = time.perf_counter() - state["started"]
print(int(state["count"] / elapsed))
"""

PRELUDES = {
    "twisted": "from twisted.internet import reactor",
    "torsion": "from torsion.internet._reactor import Reactor\nreactor = Reactor()",
}


def measure(python: str, pkg: str, seconds: float, window: int, directory: str) -> int:
    """Run the program once on `pkg` with `python`; return calls per second."""
    path = os.path.join(directory, f"pb_calls_{pkg}.py")
    with open(path, "w") as f:
        f.write(PROGRAM.format(prelude=PRELUDES[pkg], pkg=pkg))
    command = [python, path, str(seconds), str(window)]
    if shutil.which("taskset"):
        command = ["taskset", "-c", "0", *command]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds * 10 + 30,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{pkg} run failed:\n{done.stderr}")
    return int(done.stdout.split()[-1])


def main(argv: list[str]) -> None:
    """Measure both implementations in alternating rounds and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--windows", default="1,50", help="outstanding calls, comma-separated")
    parser.add_argument("--twisted", default=os.environ.get("TORSION_TWISTED_PYTHON",
                                                            "/tmp/peers/bin/python"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        for window in [int(w) for w in args.windows.split(",")]:
            results: dict[str, list[int]] = {"twisted": [], "torsion": []}
            for _ in range(args.rounds):
                results["twisted"].append(
                    measure(args.twisted, "twisted", args.seconds, window, directory))
                results["torsion"].append(
                    measure(sys.executable, "torsion", args.seconds, window, directory))
            twisted = statistics.median(results["twisted"])
            torsion = statistics.median(results["torsion"])
            print(f"window {window:3d}: twisted {twisted:8.0f} calls/s  "
                  f"torsion {torsion:8.0f} calls/s  ratio torsion/twisted {torsion / twisted:.2f}"
                  f"  (rounds: twisted {results['twisted']}, torsion {results['torsion']})")


if __name__ == "__main__":
    main(sys.argv[1:])
