"""One SIGTERM stops a ``torsion`` runner promptly, whatever moment it arrives at.

The runner (``torsion web`` plain, ``--https``, ``--workers 2``, and ``-y app.tac``, on
both engines) is started as a subprocess and sent one SIGTERM at a chosen moment: as
soon as the pid exists, as soon as the port accepts, while a client sits in the middle
of a TLS handshake, while an HTTP request is half sent.  It must exit within
``DEADLINE`` seconds with status 0 (or, for a signal that lands before Python has run
any torsion code, be killed by it: nothing can catch a signal that early).

What this found (each has a deterministic test below or in
tests/internet/test_reactor_signals.py): on the stdlib loop a SIGTERM was lost when
``call_soon_threadsafe`` had filled the loop's wakeup socket; a SIGTERM during a startup
that was still waiting was held until startup ended; a shutdown waiting on a Deferred
that never fired waited for a second signal; and under TLS load on the stdlib loop about
one exit in ten crashed with SIGSEGV (pending handshake tasks destroyed by the
interpreter's final garbage collection).

Run as a script for a long local hunt, optionally under CPU load::

    python tests/scripts/test_shutdown_stress.py --trials 200 --hogs 4
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

if __name__ == "__main__":  # run as a script: find tests/support as tests/conftest.py does
    sys.path.append(str(Path(__file__).resolve().parents[1] / "support"))

from localports import freePort

#: Seconds a runner may take to exit after one SIGTERM (it normally takes ~0.1 s; the
#: bugs this hunts hang for ever or for the 10 s default shutdown timeout, and a loaded
#: two-core machine can stretch a clean exit to seconds).
DEADLINE = 15.0
STARTED = re.compile(r"starting on (\d+)")
MODES = ("web", "https", "workers", "tac")
MOMENTS = ("pid", "early", "accepts", "handshake", "request", "busy")

TAC = """\
from torsion.application import internet, service
from torsion.internet import protocol

class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)

application = service.Application("echo")
factory = protocol.ServerFactory.forProtocol(Echo)
internet.TCPServer({port}, factory, interface="127.0.0.1").setServiceParent(application)
"""


def _selfSigned(directory: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate and key; return their paths."""
    from torsion.internet.ssl import selfSignedPair

    cert = selfSignedPair("127.0.0.1", str(directory))
    return Path(cert.certPath), Path(cert.keyPath)


def _command(mode: str, engine: str, port: int, directory: Path) -> list[str]:
    base = [sys.executable, "-m", "torsion", "--reactor", engine,
            "--logfile", str(directory / "torsion.log")]
    if mode == "tac":
        tac = directory / "app.tac"
        tac.write_text(TAC.format(port=port))
        return [*base, "-y", str(tac)]
    site = directory / "site"
    site.mkdir(exist_ok=True)
    (site / "hello.txt").write_text("hello\n")
    if mode == "https":
        if not (directory / "cert.pem").exists():
            _selfSigned(directory)
        return [*base, "web", "--path", str(site), "--https", str(port),
                "--certificate", str(directory / "cert.pem"),
                "--privkey", str(directory / "key.pem")]
    web = [*base, "web", "--path", str(site), "--listen", f"tcp:{port}:interface=127.0.0.1"]
    if mode == "workers":
        web += ["--workers", "2"]
    return web


def _waitAccepts(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as c:
                # Not a TCP self-connection (source port == the port being polled).
                if c.getsockname() != c.getpeername():
                    return
        except OSError:
            pass
        time.sleep(0.005)
    raise AssertionError("the runner never accepted a connection")


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def trial(mode: str, engine: str, moment: str, directory: Path,
          rng: random.Random) -> tuple[bool, str]:
    """Start a runner, SIGTERM it at ``moment``; (passed, what happened)."""
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "torsion.log"
    if log.exists():
        log.unlink()
    port = freePort()
    process = subprocess.Popen(_command(mode, engine, port, directory), cwd=directory,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    clients: list[socket.socket | _Stopper] = []
    grandchildren: list[int] = []
    try:
        if moment == "early":
            time.sleep(rng.uniform(0.0, 0.6))
        elif moment != "pid":
            _waitAccepts(port, process)
            if moment == "accepts" and rng.random() < 0.5:
                time.sleep(rng.uniform(0.0, 0.05))
            elif moment == "handshake":
                # A TCP connection that starts (or never starts) its TLS/HTTP talk.
                for _ in range(3):
                    c = socket.create_connection(("127.0.0.1", port), timeout=2)
                    c.send(b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03" if mode == "https"
                           else b"")
                    clients.append(c)
            elif moment == "request":
                for _ in range(3):
                    c = socket.create_connection(("127.0.0.1", port), timeout=2)
                    c.send(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n")
                    clients.append(c)
            elif moment == "busy":
                hammer = threading.Event()
                for _ in range(8):
                    threading.Thread(target=_hammer, args=(port, mode == "https", hammer),
                                     daemon=True).start()
                clients.append(_Stopper(hammer))
                time.sleep(rng.uniform(0.1, 1.0))
        grandchildren = _children(process.pid)
        sent = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            status = process.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            status = None
        took = time.monotonic() - sent
        stderr = ""
        if status is None:
            process.kill()
            status_text = "HUNG"
        else:
            status_text = str(status)
        _, errBytes = process.communicate()
        stderr = errBytes.decode(errors="replace")
        # A signal before Python runs torsion code kills the process (-SIGTERM): only
        # acceptable while the runner has not started logging yet.
        ok = status == 0 or (moment in ("pid", "early") and status == -signal.SIGTERM
                             and not log.exists())
        # Worker children must be gone too.
        time.sleep(0.0)
        for child in grandchildren:
            if Path(f"/proc/{child}").exists():
                state = Path(f"/proc/{child}/stat").read_text().split()[2]
                if state != "Z":
                    ok = False
                    status_text += f" (worker {child} still running)"
                    os.kill(child, signal.SIGKILL)
        detail = f"{mode}/{engine}/{moment}: status {status_text} in {took:.2f}s"
        if not ok:
            text = log.read_text() if log.exists() else ""
            detail += f"\n--- log ---\n{text[-3000:]}\n--- stderr ---\n{stderr[-3000:]}"
        return ok, detail
    finally:
        for c in clients:
            c.close()
        if process.poll() is None:
            process.kill()
            process.wait()


def _hammer(port: int, tls: bool, stop: threading.Event) -> None:
    """Make requests (over TLS for ``tls``) as fast as possible until ``stop``."""
    import ssl

    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    while not stop.is_set():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
                conn = context.wrap_socket(raw) if tls else raw
                conn.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                while conn.recv(65536):
                    pass
        except OSError:
            time.sleep(0.01)


class _Stopper:
    """Looks like a socket to the clean-up code: closing it stops the hammer threads."""

    def __init__(self, event: threading.Event) -> None:
        self.event = event

    def close(self) -> None:
        self.event.set()


def _hog(stop: multiprocessing.synchronize.Event) -> None:
    while not stop.is_set():
        for _ in range(100000):
            pass


# --- the committed tests: one trial per mode/engine/moment sample (fast) ---------------

_CASES = [
    ("web", "uvloop", "request"),
    ("web", "asyncio", "early"),
    ("https", "uvloop", "handshake"),
    ("https", "asyncio", "handshake"),
    ("https", "asyncio", "busy"),
    ("workers", "uvloop", "accepts"),
    ("workers", "asyncio", "early"),
    ("tac", "uvloop", "early"),
    ("tac", "asyncio", "accepts"),
]


@pytest.fixture
def rng() -> Iterator[random.Random]:
    """A seeded random source, so a failing moment can be replayed."""
    yield random.Random(int(os.environ.get("TORSION_STRESS_SEED", "17")))


@pytest.mark.integration
@pytest.mark.parametrize(("mode", "engine", "moment"), _CASES)
def test_oneSigtermStopsTheRunner(mode: str, engine: str, moment: str, tmp_path: Path,
                                  rng: random.Random) -> None:
    """One SIGTERM at this moment makes the runner exit with status 0 within DEADLINE."""
    ok, detail = trial(mode, engine, moment, tmp_path, rng)
    assert ok, detail


STUCK_STARTUP_TAC = TAC + """
from torsion.internet import defer, reactor
reactor.addSystemEventTrigger("before", "startup", defer.Deferred)
"""

STUCK_STOP_TAC = TAC + """
from torsion.internet import defer

class NeverStops(service.Service):
    def stopService(self):
        service.Service.stopService(self)
        return defer.Deferred()

NeverStops().setServiceParent(application)
"""


def _sigterm(process: subprocess.Popen[bytes]) -> tuple[int, float]:
    """Send SIGTERM and wait up to DEADLINE; return the exit status and the seconds it took.

    A process still there after that (the wait timed out) is killed.
    """
    try:
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        status = process.wait(DEADLINE)
        return status, time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _runTac(tmp_path: Path, text: str, *options: str) -> tuple[subprocess.Popen[bytes], Path]:
    port = freePort()
    tac = tmp_path / "app.tac"
    tac.write_text(text.format(port=port))
    log = tmp_path / "torsion.log"
    process = subprocess.Popen([sys.executable, "-m", "torsion", "--logfile", str(log),
                                *options, "-y", str(tac)], cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _waitAccepts(port, process)
    return process, log


@pytest.mark.integration
def test_sigtermWhileStartupWaitsStopsTheRunner(tmp_path: Path) -> None:
    """SIGTERM while a startup trigger's Deferred is still pending (the reactor's own
    handlers not installed yet) stops the runner instead of being held for ever."""
    process, log = _runTac(tmp_path, STUCK_STARTUP_TAC)
    status, _ = _sigterm(process)
    assert status == 0
    assert "Received SIGTERM, shutting down." in log.read_text()


SIGNAL_BEFORE_RUN_TAC = STUCK_STARTUP_TAC + """
import os, signal
os.kill(os.getpid(), signal.SIGTERM)  # held by the runner: the reactor is not running yet
"""


@pytest.mark.integration
def test_sigtermHeldBeforeRunStopsDespiteStuckStartup(tmp_path: Path) -> None:
    """A SIGTERM that arrives before the reactor runs stops the runner even when a startup
    trigger never fires (it used to wait for startup to finish, for ever)."""
    port = freePort()
    tac = tmp_path / "app.tac"
    tac.write_text(SIGNAL_BEFORE_RUN_TAC.format(port=port))
    log = tmp_path / "torsion.log"
    process = subprocess.Popen([sys.executable, "-m", "torsion", "--logfile", str(log),
                                "-y", str(tac)], cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        status = process.wait(DEADLINE)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert status == 0
    assert "Received SIGTERM, shutting down." in log.read_text()


@pytest.mark.integration
def test_stuckStopServiceIsCutShortByTheShutdownTimeout(tmp_path: Path) -> None:
    """A service whose stopService never finishes delays exit by --shutdown-timeout at
    most, and the log names the trigger still pending."""
    process, log = _runTac(tmp_path, STUCK_STOP_TAC, "--shutdown-timeout", "0.5")
    status, took = _sigterm(process)
    assert status == 0
    assert took < 8  # not the default 10 s timeout, and not for ever (the log says 0.5)
    text = log.read_text()
    assert "Shutdown did not finish in 0.5 seconds" in text
    assert "stopService" in text


BLOCKED_TAC = TAC + """
import time
from torsion.internet import reactor
reactor.addSystemEventTrigger("before", "shutdown", time.sleep, 60)
"""

NON_DAEMON_TAC = TAC + """
import threading, time
threading.Thread(target=time.sleep, args=(60,), daemon=False).start()
"""


@pytest.mark.integration
@pytest.mark.parametrize("text", [BLOCKED_TAC, NON_DAEMON_TAC], ids=["blocked", "thread"])
def test_hungExitIsEndedByTheExitWatchdog(text: str, tmp_path: Path) -> None:
    """A reactor thread blocked during shutdown, or a non-daemon thread holding up the
    interpreter's exit, ends the process (status 1) 2 * timeout + 1 seconds after the
    signal, with the main thread's stack in the log."""
    process, log = _runTac(tmp_path, text, "--shutdown-timeout", "0.25")
    status, took = _sigterm(process)
    assert status == 1
    assert took < 8  # the watchdog's 1.5 s, not the 60 s the thread sleeps
    text = log.read_text()
    assert "Still running 1.5 seconds after shutdown began; exiting now." in text
    assert "sleep" in text or "_shutdown" in text, text[-2000:]


PENDING_TASK_TAC = TAC + """
import asyncio
from torsion.internet import reactor

reactor.callWhenRunning(lambda: asyncio.ensure_future(asyncio.sleep(3600)))
"""


@pytest.mark.integration
def test_tasksStillPendingAtStopAreCancelledBeforeExit(tmp_path: Path) -> None:
    """asyncio tasks still pending when the reactor stops (e.g. TLS handshakes the loop
    alone knows about) are cancelled by the runner, not destroyed by the interpreter's
    final garbage collection (which crashed CPython 3.11 with SIGSEGV)."""
    process, log = _runTac(tmp_path, PENDING_TASK_TAC, "--reactor", "asyncio")
    status, _ = _sigterm(process)
    assert status == 0
    stderr = process.communicate()[1].decode()
    assert "Task was destroyed but it is pending" not in log.read_text() + stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--hogs", type=int, default=0)
    parser.add_argument("--modes", default=",".join(MODES))
    parser.add_argument("--engines", default="uvloop,asyncio")
    parser.add_argument("--moments", default=",".join(MOMENTS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", default="/tmp/torsion-shutdown-stress")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    stop = multiprocessing.Event()
    hogs = [multiprocessing.Process(target=_hog, args=(stop,), daemon=True)
            for _ in range(args.hogs)]
    for hog in hogs:
        hog.start()
    failures = 0
    try:
        for n in range(args.trials):
            mode = rng.choice(args.modes.split(","))
            engine = rng.choice(args.engines.split(","))
            moment = rng.choice(args.moments.split(","))
            ok, detail = trial(mode, engine, moment, Path(args.dir) / mode, rng)
            print(f"{n:4d} {'ok  ' if ok else 'FAIL'} {detail}", flush=True)
            failures += not ok
    finally:
        stop.set()
        for hog in hogs:
            hog.join(2)
    print(f"{failures} failures in {args.trials} trials (hogs={args.hogs})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
