"""Ports on 127.0.0.1 for tests that start servers in subprocesses: a free one, and waiting for it.

A subprocess must be told its port before it starts, so tests pick one that was free a
moment ago (a race every such test accepts) and poll until the server accepts on it.
"""

from __future__ import annotations

import socket
import subprocess
import time


def freePort(kind: int = socket.SOCK_STREAM) -> int:
    """A port number on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def waitForTCP(port: int, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    """Return once something accepts connections on ``port``; fail if ``proc`` dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError(f"server exited {proc.returncode}: {out!r} {err!r}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.03)
    raise AssertionError(f"nothing listened on {port} within {timeout}s")
