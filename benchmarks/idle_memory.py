"""Memory per idle connection: torsion against Twisted and raw uvloop, measured in the same run.

Each server (a command that takes its port as the last argument, like ../shared/bench/
compare.sh's entries) is started pinned to CPU 0.  Its resident memory (VmRSS) is read
before, then this process (pinned to CPU 1) opens N connections with non-blocking
connects, paced so that no more than a listen backlog's worth are waiting to be accepted
(a burst beyond the backlog only makes the kernel drop SYNs and the client wait seconds
for retransmits, which measures the backlog, not memory), and sends one byte on each
(as compare.sh's idleconns does).  Once the server holds all N (counted in
/proc/PID/fd, 60 s at most) and 1 s has passed, VmRSS is read again:
(after - before) / N is the figure.  Rounds are interleaved (A B C A B C ...); the median
of each server and its ratio to the first (Twisted) are printed.

With --profile, instead, a torsion echo server runs in this process and tracemalloc shows
where the Python-allocated bytes of N connections go (by traceback), with the sizes of
one connection's objects.

usage: python benchmarks/idle_memory.py [--conns N] [--rounds R] [--timeout S] [NAME=COMMAND ...]
       python benchmarks/idle_memory.py --profile [--conns N] [--engine uvloop|asyncio]
"""

from __future__ import annotations

import argparse
import errno
import os
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "bench", "peers"))
PEER_PYTHON = "/tmp/peers/bin/python"

DEFAULT_SERVERS = [
    ("twisted", f"{PEER_PYTHON} {PEERS}/echo_twisted.py"),
    ("uvloop", f"{PEER_PYTHON} {PEERS}/echo_asyncio.py uvloop"),
    ("floor", f"{sys.executable} {HERE}/floor_echo.py"),
    ("torsion", f"{sys.executable} {HERE}/echo_server.py"),
]

#: Connections allowed to wait for accept(): below Twisted's default backlog of 50.
WINDOW = 40


def _freePort() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rssKiB(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for {pid}")


def _fdCount(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def _waitListening(port: int, proc: subprocess.Popen[bytes], limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with status {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("server did not start listening")


def openIdle(
    port: int, n: int, accepted: Callable[[int], int], timeout: float
) -> list[socket.socket]:
    """Open ``n`` connections to ``port`` paced by the server's accepts; send a byte on each.

    ``accepted(opened)`` returns how many connections the server holds so far, given how
    many client sockets are open.  The byte goes out as soon as its connection is up, as
    idleconns sends it right after connect.  Raises TimeoutError after ``timeout`` seconds.
    """
    socks: list[socket.socket] = []
    unsent: list[socket.socket] = []
    deadline = time.monotonic() + timeout
    done = 0
    while done < n or unsent:
        if time.monotonic() > deadline:
            raise TimeoutError(f"server took only {done} of {n} connections in {timeout} s")
        while len(socks) < n and len(socks) - done < WINDOW:
            s = socket.socket()
            s.setblocking(False)
            err = s.connect_ex(("127.0.0.1", port))
            if err not in (0, errno.EINPROGRESS):
                s.close()
                raise OSError(err, os.strerror(err))
            socks.append(s)
            unsent.append(s)
        waiting = []
        for s in unsent:
            try:
                s.send(b"x")
            except BlockingIOError:
                waiting.append(s)
            except OSError as exc:
                if exc.errno != errno.ENOTCONN:  # not connected yet: try again next turn
                    raise
                waiting.append(s)
        unsent = waiting
        before = done
        done = accepted(len(socks))
        if done == before:
            time.sleep(0.001)
    return socks


def _closeAll(socks: list[socket.socket]) -> None:
    linger = (1).to_bytes(4, "little") + (0).to_bytes(4, "little")
    for s in socks:
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)  # RST: no TIME_WAIT
        except OSError:
            pass
        s.close()


def measure(command: str, n: int, timeout: float) -> tuple[float, float] | None:
    """Start one server, hold ``n`` idle connections on it; return bytes per connection.

    Two figures: RSS growth over all ``n`` divided by ``n`` (compare.sh's definition), and
    the marginal cost, the growth over the second half divided by ``n / 2``: memory the
    process already held free at start (import-time garbage) is used up by the first
    connections and makes the first figure look smaller for some servers than they cost.
    """
    port = _freePort()
    proc = subprocess.Popen(
        ["taskset", "-c", "0", "bash", "-c", f"exec {command} {port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    socks: list[socket.socket] = []
    try:
        _waitListening(port, proc)
        time.sleep(0.5)  # the probe connection is closed and its fd released
        pid = proc.pid
        f0 = _fdCount(pid)
        before = _rssKiB(pid)
        half = n // 2
        try:
            socks = openIdle(port, half, lambda opened: _fdCount(pid) - f0, timeout)
            time.sleep(1.0)
            middle = _rssKiB(pid)
            socks += openIdle(port, n - half, lambda opened: _fdCount(pid) - f0 - half, timeout)
        except TimeoutError as exc:
            print(f"  {command}: {exc}", file=sys.stderr)
            return None
        time.sleep(1.0)
        after = _rssKiB(pid)
        held = _fdCount(pid) - f0
        if held < n:
            print(f"  {command}: {held} of {n} connections left", file=sys.stderr)
            return None
        return (after - before) * 1024 / held, (after - middle) * 1024 / (held - half)
    finally:
        _closeAll(socks)
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _report(title: str, servers: list[str], results: dict[str, list[float | None]]) -> None:
    """Print one table: median per server, its runs, its ratio to the first server."""
    print(title)
    base: float | None = None
    for name in servers:
        ok = [v for v in results[name] if v is not None]
        median = statistics.median(ok) if ok else None
        if name == servers[0]:
            base = median
        runs = " ".join("fail" if v is None else f"{v:.0f}" for v in results[name])
        ratio = f"{median / base:.2f}" if median and base else "n/a"
        shown = f"{median:.0f}" if median is not None else "n/a"
        print(f"  {name:10} {shown:>6} bytes/conn  (runs: {runs})  ratio to {servers[0]}: {ratio}")


def compare(servers: list[tuple[str, str]], n: int, rounds: int, timeout: float) -> None:
    """Measure every server ``rounds`` times, interleaved; print medians and ratios."""
    try:
        os.sched_setaffinity(0, {1})
    except OSError:
        pass
    names = [name for name, _ in servers]
    growth: dict[str, list[float | None]] = {name: [] for name in names}
    marginal: dict[str, list[float | None]] = {name: [] for name in names}
    for r in range(rounds):
        for name, command in servers:
            value = measure(command, n, timeout)
            growth[name].append(None if value is None else value[0])
            marginal[name].append(None if value is None else value[1])
            shown = "failed" if value is None else f"{value[0]:.0f} (marginal {value[1]:.0f})"
            print(f"round {r + 1} {name}: {shown} B/conn", file=sys.stderr, flush=True)
    _report(f"{n} idle connections, {rounds} rounds: server RSS growth / {n}", names, growth)
    _report(f"marginal: RSS growth over the last {n - n // 2} / {n - n // 2}", names, marginal)


# --- --profile: where torsion's bytes go ---------------------------------------------------


def profile(n: int, engine: str) -> None:
    """Run a torsion echo server in this process; show tracemalloc's diff over n connections."""
    import gc
    import tracemalloc

    from torsion.internet._reactor import Reactor
    from torsion.internet.protocol import Factory, Protocol

    class Echo(Protocol):
        def dataReceived(self, data: bytes) -> None:
            self.transport.write(data)

    reactor = Reactor(engine)
    factory = Factory.forProtocol(Echo)
    factory.noisy = False
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    portNumber = port.getHost().port
    snapshots: list[tracemalloc.Snapshot] = []
    connections: list[object] = []
    pid = os.getpid()

    def client() -> None:
        try:
            socket.create_connection(("127.0.0.1", portNumber)).close()  # warm-up
            time.sleep(0.3)
            f0 = _fdCount(pid)
            gc.collect()
            tracemalloc.start(8)
            snapshots.append(tracemalloc.take_snapshot())
            socks = openIdle(portNumber, n, lambda opened: _fdCount(pid) - f0 - opened, 60)
            time.sleep(1.0)
            gc.collect()
            snapshots.append(tracemalloc.take_snapshot())
            connections.extend(list(reactor._openTransports))
            tracemalloc.stop()
            _closeAll(socks)
        finally:
            reactor.callFromThread(reactor.stop)

    threading.Thread(target=client, daemon=True).start()
    reactor.run(installSignalHandlers=False)
    # Leave out the client's own sockets (allocated in its thread).
    clientSide = [tracemalloc.Filter(False, threading.__file__, all_frames=True)]
    before, after = (snap.filter_traces(clientSide) for snap in snapshots)
    stats = after.compare_to(before, "traceback")
    total = sum(s.size_diff for s in stats)
    print(f"{engine}: {n} connections, Python allocations {total / n:.0f} B/conn (tracemalloc)")
    for stat in stats[:12]:
        if stat.size_diff <= 0:
            continue
        print(f"  {stat.size_diff / n:7.1f} B/conn  {stat.count_diff:+6d} blocks")
        for line in stat.traceback.format()[-6:]:
            print(f"      {line}")
    if connections:
        conn: object = connections[0]
        proto = getattr(conn, "protocol", None)
        loopTransport = getattr(conn, "_transport", None)
        peer = getattr(conn, "_peer", None)
        print("one connection's objects (sys.getsizeof, shallow):")
        for label, obj in [
            ("Connection", conn),
            ("user protocol", proto),
            ("peer address", peer),
            ("loop transport", loopTransport),
        ]:
            if obj is not None:
                print(f"  {label:24} {sys.getsizeof(obj):5d} B  {type(obj).__name__}")
        print(f"  _openTransports set: {sys.getsizeof(reactor._openTransports)} B in all")


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--conns", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--engine", default="uvloop")
    parser.add_argument("servers", nargs="*", metavar="NAME=COMMAND")
    args = parser.parse_args(argv)
    if args.profile:
        profile(args.conns, args.engine)
        return
    servers = [tuple(s.split("=", 1)) for s in args.servers] or DEFAULT_SERVERS
    for name, command in servers:
        if not command or not shlex.split(command):
            parser.error(f"empty command for {name}")
    compare([(n, c) for n, c in servers], args.conns, args.rounds, args.timeout)


if __name__ == "__main__":
    main(sys.argv[1:])
