"""``torsion --reload``: restart the server whenever one of its source files changes.

Theory of operation: this process becomes a supervisor that never imports the application.
It runs the real server as a child (``python -m torsion`` with the same arguments), telling
it through the environment (RELOAD_ENV) where to list the source files it has loaded; the
child writes that list once its reactor runs. The supervisor polls those files' mtimes; on a
change it sends the child SIGTERM (SIGKILL after a grace period), waits, and starts a new one.
A child that exits on its own with an error (a syntax error in the file being edited) is
restarted at the next change; a clean exit ends the supervisor. SIGTERM/SIGINT to the
supervisor are passed to the child, and the supervisor exits with the child's status.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from types import FrameType

__all__ = ["RELOAD_ENV", "supervise"]

#: Set in the child's environment: the file in which it lists its loaded source files.
RELOAD_ENV = "TORSION_RELOAD_WATCHLIST"

POLL_INTERVAL = 0.5
STOP_GRACE = 10.0


def _say(message: str) -> None:
    sys.stderr.write(f"torsion --reload: {message}\n")
    sys.stderr.flush()


def _mtime(name: str) -> float:
    try:
        return os.stat(name).st_mtime
    except OSError:
        return -1.0


def _readList(listPath: str) -> list[str]:
    """The files the child listed (empty until it has written the list)."""
    try:
        with open(listPath) as f:
            return [line for line in f.read().splitlines() if line]
    except OSError:
        return []


def _changed(watched: dict[str, float]) -> str | None:
    """The first watched file whose mtime differs from the recorded one, or None."""
    for name, mtime in watched.items():
        if _mtime(name) != mtime:
            return name
    return None


def _stop(child: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    if child.poll() is None:
        child.send_signal(sig)
        try:
            return child.wait(STOP_GRACE)
        except subprocess.TimeoutExpired:
            child.kill()
    return child.wait()


def supervise(argv: list[str], tacFile: str | None = None) -> int:
    """Run ``torsion argv`` in a child, restarting it on source changes; its exit status.

    `tacFile` is watched from the start, so a .tac that fails before the child could list
    its modules is still picked up when fixed.
    """
    stopping: list[int] = []

    def onSignal(number: int, frame: FrameType | None) -> None:
        stopping.append(number)

    signal.signal(signal.SIGTERM, onSignal)
    signal.signal(signal.SIGINT, onSignal)
    with tempfile.TemporaryDirectory(prefix="torsion-reload-") as tmp:
        listPath = os.path.join(tmp, "watched")
        env = dict(os.environ)
        env[RELOAD_ENV] = listPath
        while True:
            if os.path.exists(listPath):
                os.remove(listPath)
            watched = {os.path.abspath(tacFile): _mtime(tacFile)} if tacFile else {}
            listed = False
            child = subprocess.Popen([sys.executable, "-m", "torsion", *argv], env=env)
            reported = False
            while not stopping:
                time.sleep(POLL_INTERVAL)
                if not listed and (names := _readList(listPath)):
                    listed = True
                    for name in names:
                        watched.setdefault(name, _mtime(name))
                status = child.poll()
                if status == 0:
                    return 0
                if status is not None and not reported:
                    reported = True
                    _say(f"server exited with status {status}; waiting for a change")
                changedFile = _changed(watched)
                if changedFile is not None:
                    _say(f"{changedFile} changed; restarting")
                    _stop(child)
                    break
            if stopping:
                return _stop(child, stopping[0])
