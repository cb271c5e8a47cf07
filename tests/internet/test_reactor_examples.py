"""examples/thread_offload.py: slow work in the thread pool while other clients are served."""

from __future__ import annotations

import importlib.util
import re
import socket
import subprocess
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import Any

from torsion.internet._reactor import Reactor
from torsion.internet.defer import Deferred
from torsion.internet.protocol import ClientFactory
from torsion.protocols.basic import LineReceiver

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "thread_offload.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("example_thread_offload", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


example = _load()


class LineClient(LineReceiver):
    """Sends one line on connect and fires ``answer`` with the first line back."""

    delimiter = b"\n"

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.answer: Deferred[bytes] = Deferred()

    def connectionMade(self) -> None:
        self.sendLine(self.request)

    def lineReceived(self, line: bytes) -> None:
        if not self.answer.called:
            self.answer.callback(line)
            self.transport.loseConnection()


class OneClient(ClientFactory):
    def __init__(self, protocol: LineClient) -> None:
        self.client = protocol

    def buildProtocol(self, addr: Any) -> LineClient:
        self.client.factory = self
        return self.client


def _ask(reactor: Reactor, port: int, request: bytes) -> Deferred[bytes]:
    client = LineClient(request)
    reactor.connectTCP("127.0.0.1", port, OneClient(client))
    return client.answer


def test_countPrimes() -> None:
    """countPrimes counts the primes below N."""
    assert [example.countPrimes(n) for n in (0, 2, 3, 10, 100, 1000)] == [0, 0, 1, 4, 25, 168]


def test_slowRequestDoesNotBlockOtherClients(reactor: Reactor, run: Any) -> None:
    """While one client's request is busy in a thread, another client's ping is answered."""
    release = threading.Event()
    order: list[bytes] = []

    def blockedUntilReleased(n: int) -> int:
        assert release.wait(10), "never released"
        return n * 2

    port = reactor.listenTCP(0, example.OffloadFactory(reactor, blockedUntilReleased),
                             interface="127.0.0.1")
    number = port.getHost().port
    slow = _ask(reactor, number, b"primes 21")
    slow.addCallback(lambda line: order.append(line))
    pong = run(_ask(reactor, number, b"ping"))
    order.append(pong)
    release.set()
    run(slow)
    assert order == [b"pong", b"primes 21 = 42"]


def test_countIsAnsweredFromThePool(reactor: Reactor, run: Any) -> None:
    """A real count runs in the reactor's pool and its answer reaches the client."""
    port = reactor.listenTCP(0, example.OffloadFactory(reactor), interface="127.0.0.1")
    assert run(_ask(reactor, port.getHost().port, b"primes 1000")) == b"primes 1000 = 168"
    assert reactor.threadpool is not None


def test_badRequestsGetAnError(reactor: Reactor, run: Any) -> None:
    """Unknown commands and too-large counts are refused with an error line."""
    port = reactor.listenTCP(0, example.OffloadFactory(reactor), interface="127.0.0.1")
    number = port.getHost().port
    assert run(_ask(reactor, number, b"primes 99999999999")).startswith(b"error: N is at most")
    assert run(_ask(reactor, number, b"hello")).startswith(b"error:")


def test_exampleRunsAsAProgram(tmp_path: Path) -> None:
    """``python examples/thread_offload.py 0`` serves counts and pings until SIGTERM."""
    server = subprocess.Popen(
        [sys.executable, str(EXAMPLE), "0"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    try:
        assert server.stdout is not None
        port = 0
        for line in server.stdout:
            match = re.search(r"OffloadFactory starting on (\d+)", line)
            if match:
                port = int(match.group(1))
                break
        assert port, "the server never said which port it listens on"
        with socket.create_connection(("127.0.0.1", port), timeout=30) as slow, \
                socket.create_connection(("127.0.0.1", port), timeout=30) as fast:
            slow.sendall(b"primes 300000\n")
            fast.sendall(b"ping\n")
            assert fast.makefile("rb").readline() == b"pong\n"
            assert slow.makefile("rb").readline() == b"primes 300000 = 25997\n"
        server.terminate()
        out, _ = server.communicate(timeout=30)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
    assert server.returncode == 0
    assert "Main loop terminated." in out
