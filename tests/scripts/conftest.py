"""Helpers for the runner's subprocess tests, reached through the `cli` fixture.

`cli.torsion(*args, cwd=...)` starts ``python -m torsion``; `cli.waitFor(log, pattern)` polls
its log file; `cli.exchange(port, data)` talks to it; `cli.stop(process)` sends SIGTERM and
returns the exit status.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest

STARTED = re.compile(r"(\w+) starting on (\d+)")


def env(**extra: str) -> dict[str, str]:
    """The test process's environment plus `extra`."""
    result = dict(os.environ)
    result.pop("COLUMNS", None)
    result.update(extra)
    return result


def torsion(*args: str, cwd: Path, environ: dict[str, str] | None = None
            ) -> subprocess.Popen[bytes]:
    """Start ``python -m torsion *args`` in `cwd`, with pipes for its output."""
    return subprocess.Popen([sys.executable, "-m", "torsion", *args], cwd=cwd,
                            env=environ or env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


def waitFor(path: Path, pattern: re.Pattern[str], timeout: float = 30.0,
            process: subprocess.Popen[bytes] | None = None) -> re.Match[str]:
    """Poll the log file until `pattern` appears (the process runs independently).

    The default timeout is generous: on a loaded two-core machine a fresh interpreter can
    take seconds just to import torsion; a healthy run returns as soon as the line appears.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = path.read_text() if path.exists() else ""
        match = pattern.search(text)
        if match:
            return match
        if process is not None and process.poll() is not None:
            break
        time.sleep(0.02)
    detail = process.communicate()[1].decode() if process is not None else ""
    raise AssertionError(f"{pattern.pattern!r} not in log:\n{text}\n{detail}")


def exchange(port: int, data: bytes) -> bytes:
    """Send `data` to 127.0.0.1:`port` and return the first reply."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(data)
        return s.recv(1024)


def stop(process: subprocess.Popen[bytes]) -> int:
    """SIGTERM the process; its exit status (killed if it does not stop in 30 s)."""
    process.send_signal(signal.SIGTERM)
    try:
        return process.wait(30)
    finally:
        if process.poll() is None:
            process.kill()


@pytest.fixture
def cli() -> ModuleType:
    """This module: the runner test helpers."""
    return sys.modules[__name__]
