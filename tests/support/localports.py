"""Ports on 127.0.0.1 for tests that start servers in subprocesses: a free one, and waiting for it.

A subprocess must be told its port before it starts, so tests pick one that was free a
moment ago and poll until the server accepts on it.  The port is picked below the kernel's
ephemeral range (``ip_local_port_range``), at random: a port from ``bind(0)`` lies inside
that range, where any outgoing connection on the machine (another test's client) may take
it as its source port before the server binds it, and where polling it while nothing
listens can connect the polling socket to itself (a TCP self-connection), which looks like
a server that accepted.  Below the range, only another test picking the same random port
can interfere.
"""

from __future__ import annotations

import random
import socket
import subprocess
import time

_FIRST = 20000


def _ephemeralStart() -> int:
    """The first port of the kernel's ephemeral range (32768 when it cannot be read)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def freePort(kind: int = socket.SOCK_STREAM) -> int:
    """A port number on 127.0.0.1 that was free a moment ago (for TCP and UDP alike)."""
    last = _ephemeralStart() - 1
    if last > _FIRST:
        for _ in range(200):
            port = random.randint(_FIRST, last)
            if _bindable(port, socket.SOCK_STREAM) and _bindable(port, socket.SOCK_DGRAM):
                return port
    with socket.socket(socket.AF_INET, kind) as s:  # an odd kernel setup: as before
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bindable(port: int, kind: int) -> bool:
    with socket.socket(socket.AF_INET, kind) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def waitForTCP(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """Return once something accepts connections on ``port``; fail if ``proc`` dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"server exited {proc.returncode}: {out!r} {err!r}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as probe:
                if probe.getsockname() != probe.getpeername():  # not a self-connection
                    return
        except OSError:
            pass
        time.sleep(0.03)
    raise AssertionError(f"nothing listened on {port} within {timeout}s")
