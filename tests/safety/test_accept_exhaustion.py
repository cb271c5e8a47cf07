"""Running out of descriptors at accept: no crash, no spin, no log flood, serving resumes.

The server runs in a child process limited to 64 descriptors; its log goes to a file (a
pipe nobody reads would fill and block the server, which is not what is under test).
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from typing import Any

import pytest

from torsion.logger import capturedLogs

_SERVER = r"""
import resource, sys
from torsion.internet._reactor import Reactor
from torsion.internet.protocol import Factory, Protocol

class Echo(Protocol):
    def dataReceived(self, data):
        self.transport.write(data)

resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
reactor = Reactor(engine=sys.argv[1])
port = reactor.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
print(port.getHost().port, flush=True)
reactor.run(installSignalHandlers=False)
"""


def _cpuSeconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _echoes(portno: int, deadline: float) -> bool:
    """Return whether the server echoes a fresh connection before `deadline`.

    Until the server has seen the old clients go and freed their descriptors, libuv may
    still accept-and-close (reset) new connections to drain its backlog: retry.
    """
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", portno), timeout=2) as conn:
                conn.settimeout(2)
                conn.sendall(b"alive")
                if conn.recv(10) == b"alive":
                    return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


@pytest.mark.parametrize("engine", ["uvloop", "asyncio"])
def test_exhaustedAcceptNeitherSpinsNorFloodsAndRecovers(engine: str, tmp_path: Any) -> None:
    """70 connections against 64 descriptors for 2.5 s: little CPU, a few log lines, then served."""
    script = tmp_path / "server.py"
    script.write_text(_SERVER)
    log = open(tmp_path / "stderr.txt", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, str(script), engine], stdout=subprocess.PIPE, stderr=log
    )
    clients = []
    try:
        assert proc.stdout is not None
        portno = int(proc.stdout.readline())
        exhausted = time.monotonic()
        for _ in range(70):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", portno))
            clients.append(s)
        time.sleep(0.5)
        before = _cpuSeconds(proc.pid)
        time.sleep(2.0)
        used = _cpuSeconds(proc.pid) - before
        assert proc.poll() is None
        assert used < 0.5, f"{used} s of CPU in 2 s"
        for s in clients:
            s.close()
        clients = []
        assert _echoes(portno, deadline=time.monotonic() + 10)
        exhausted = time.monotonic() - exhausted
    finally:
        for s in clients:
            s.close()
        proc.kill()
        proc.wait()
        log.close()
    reports = (tmp_path / "stderr.txt").read_bytes().count(b"out of system resource")
    # One a second at most (a flood is tens a second); a loaded machine takes longer than
    # the nominal 2.5 s to close the clients and see the server recover.
    assert reports <= 2 + exhausted, f"{reports} reports of one exhaustion in {exhausted:.1f} s"


def test_acceptExhaustionReportedOncePerSecond(reactor: Any) -> None:
    """The loop's accept-exhaustion report is logged at most once a second."""
    context = {"message": "socket.accept() out of system resource",
               "exception": OSError(24, "Too many open files")}
    loop: asyncio.AbstractEventLoop = reactor._loop
    with capturedLogs() as events:
        for _ in range(50):
            reactor._handleLoopException(loop, dict(context))
    assert len(events) == 1
    assert events[0]["log_failure"].check(OSError)


def test_otherLoopErrorsAreAllLogged(reactor: Any) -> None:
    """Other loop errors are not rate-limited."""
    loop: asyncio.AbstractEventLoop = reactor._loop
    with capturedLogs() as events:
        for _ in range(5):
            reactor._handleLoopException(loop, {"message": "something else",
                                                 "exception": ValueError("x")})
    assert len(events) == 5
