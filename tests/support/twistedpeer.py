"""Run Twisted as a wire peer in a subprocess ($TORSION_TWISTED_PYTHON).

torsion never imports Twisted; interop tests write a small Twisted script to a temporary
directory and run it with the peer interpreter. Tests skip when the variable is unset.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from torsion.internet import defer
from torsion.internet.threads import deferToThreadPool

VARIABLE = "TORSION_TWISTED_PYTHON"


def twistedPython() -> str:
    """The peer interpreter, or skip the test with the reason."""
    python = os.environ.get(VARIABLE)
    if not python:
        pytest.skip(f"${VARIABLE} is not set: no Twisted peer to test interoperability with")
    return python


def writeScript(directory: Path, name: str, source: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(source))
    return path


class TwistedServer:
    """A Twisted server script that prints its listening ports as its first line."""

    def __init__(self, directory: Path, source: str, *args: str) -> None:
        script = writeScript(directory, "twisted_server.py", source)
        self.logPath = directory / "twisted_server.log"
        with open(self.logPath, "w") as log:
            self.process = subprocess.Popen(
                [twistedPython(), str(script), *args],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
            )
        assert self.process.stdout is not None
        ready, _, _ = select.select([self.process.stdout], [], [], 30)
        line = self.process.stdout.readline() if ready else ""
        if not line:
            raise RuntimeError(f"Twisted server did not start:\n{self.log()}")
        self.ports = [int(p) for p in line.split()]

    def log(self) -> str:
        """What the server wrote to stderr (its log) so far."""
        return self.logPath.read_text()

    def stop(self) -> None:
        self.process.kill()
        self.process.communicate(timeout=10)


def runTwistedClient(reactor: Any, directory: Path, source: str, *args: str,
                     timeout: float = 20) -> defer.Deferred[str]:
    """Run a Twisted client script while `reactor` keeps serving; fire with its stdout."""
    script = writeScript(directory, "twisted_client.py", source)

    def run() -> str:
        done = subprocess.run(
            [twistedPython(), str(script), *args],
            capture_output=True, text=True, timeout=timeout, check=False,
        )
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            raise RuntimeError(f"Twisted client failed ({done.returncode}):\n{done.stderr}")
        return done.stdout

    return deferToThreadPool(reactor, reactor.getThreadPool(), run)
