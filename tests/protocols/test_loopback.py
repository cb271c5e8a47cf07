"""Tests for torsion.protocols.loopback: in-memory connections between two protocols."""

from __future__ import annotations

from typing import Any

from torsion.internet import error
from torsion.internet.protocol import Protocol
from torsion.internet.task import Clock
from torsion.internet.testing import NonStreamingProducer
from torsion.protocols import loopback
from torsion.protocols.basic import LineReceiver
from torsion.python.failure import Failure


class Server(LineReceiver):
    """Answers each line upper-cased; 'quit' closes."""

    def connectionMade(self) -> None:
        self.reason: Failure | None = None
        self.sendLine(b"hello")

    def lineReceived(self, line: bytes) -> None:
        if line == b"quit":
            self.sendLine(b"bye")
            self.transport.loseConnection()
        else:
            self.sendLine(line.upper())

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.reason = reason


class Client(LineReceiver):
    """Sends two lines then 'quit'; records what it receives."""

    def connectionMade(self) -> None:
        self.lines: list[bytes] = []
        self.reason: Failure | None = None
        self.sendLine(b"one")
        self.sendLine(b"two")
        self.sendLine(b"quit")

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.reason = reason


def test_conversationRunsToClose() -> None:
    """Both sides talk until one closes; the Deferred fires and both get ConnectionDone."""
    clock = Clock()
    server, client = Server(), Client()
    done: list[Any] = []
    loopback.loopbackAsync(server, client, clock=clock).addCallback(done.append)
    assert client.lines == []
    clock.advance(0)
    assert client.lines == [b"hello", b"ONE", b"TWO", b"bye"]
    assert done == [None]
    assert client.reason is not None and client.reason.check(error.ConnectionDone)
    assert server.reason is not None and server.reason.check(error.ConnectionDone)


def test_writeDoesNotReenterPeer() -> None:
    """write never delivers to the peer synchronously: delivery waits for the clock."""
    clock = Clock()
    server, client = Server(), Client()
    loopback.loopbackAsync(server, client, clock=clock)
    assert not hasattr(server, "_buffer") or server._buffer == b""
    assert client.lines == []


def test_collapsingPumpPolicy() -> None:
    """collapsingPumpPolicy delivers everything queued in one dataReceived call."""
    chunks: list[bytes] = []

    class Writer(Protocol):
        def connectionMade(self) -> None:
            self.transport.write(b"a")
            self.transport.write(b"b")
            self.transport.loseConnection()

    class Reader(Protocol):
        def dataReceived(self, data: bytes) -> None:
            chunks.append(data)

    clock = Clock()
    loopback.loopbackAsync(Writer(), Reader(), loopback.collapsingPumpPolicy, clock=clock)
    clock.advance(0)
    assert chunks == [b"ab"]


def test_identityPumpPolicyKeepsWrites() -> None:
    """identityPumpPolicy delivers one dataReceived per write."""
    chunks: list[bytes] = []

    class Writer(Protocol):
        def connectionMade(self) -> None:
            self.transport.writeSequence([b"a", b"b"])
            self.transport.write(b"c")
            self.transport.loseConnection()

    class Reader(Protocol):
        def dataReceived(self, data: bytes) -> None:
            chunks.append(data)

    clock = Clock()
    loopback.loopbackAsync(Writer(), Reader(), clock=clock)
    clock.advance(0)
    assert chunks == [b"ab", b"c"]


def test_abortConnection() -> None:
    """abortConnection drops queued data; aborter gets ConnectionAborted, peer ConnectionLost."""
    reasons: dict[str, Failure] = {}
    received: list[bytes] = []

    class Aborter(Protocol):
        def connectionMade(self) -> None:
            self.transport.write(b"dropped")
            self.transport.abortConnection()

        def connectionLost(self, reason: Failure | None = None) -> None:
            assert reason is not None
            reasons["aborter"] = reason

    class Peer(Protocol):
        def dataReceived(self, data: bytes) -> None:
            received.append(data)

        def connectionLost(self, reason: Failure | None = None) -> None:
            assert reason is not None
            reasons["peer"] = reason

    clock = Clock()
    loopback.loopbackAsync(Aborter(), Peer(), clock=clock)
    clock.advance(0)
    assert received == []
    assert reasons["aborter"].check(error.ConnectionAborted)
    assert reasons["peer"].check(error.ConnectionLost)
    assert not reasons["peer"].check(error.ConnectionAborted)


def test_pullProducerDrainsIntoPeer() -> None:
    """A pull producer on a loopback transport produces until done."""
    received: list[bytes] = []

    class Producing(Protocol):
        def connectionMade(self) -> None:
            self.producer = NonStreamingProducer(self.transport)
            self.producer.result.addCallback(lambda _: self.transport.loseConnection())
            self.transport.registerProducer(self.producer, False)

    class Reader(Protocol):
        def dataReceived(self, data: bytes) -> None:
            received.append(data)

    clock = Clock()
    done: list[Any] = []
    loopback.loopbackAsync(Producing(), Reader(), clock=clock).addCallback(done.append)
    clock.advance(0)
    assert b"".join(received) == b"0123456789" and done == [None]


def test_writeStrRaises() -> None:
    """A loopback transport refuses str."""
    import pytest

    class P(Protocol):
        pass

    p = P()
    loopback.loopbackAsync(p, Protocol(), clock=Clock())
    with pytest.raises(TypeError):
        p.transport.write("text")


def test_loopbackOnRealReactor(reactor: Any, run: Any) -> None:
    """loopbackAsync also runs on a real reactor's callLater."""
    server, client = Server(), Client()
    run(loopback.loopbackAsync(server, client, clock=reactor))
    assert client.lines == [b"hello", b"ONE", b"TWO", b"bye"]


def test_loopbackTCP(reactor: Any, run: Any) -> None:
    """loopbackTCP runs the conversation over a real TCP connection and fires at the end."""
    server, client = Server(), Client()
    run(loopback.loopbackTCP(server, client, noisy=False, reactor=reactor))
    assert client.lines == [b"hello", b"ONE", b"TWO", b"bye"]
    assert client.transport.getPeer().host == "127.0.0.1"
    assert server.reason is not None and server.reason.check(error.ConnectionDone)


def test_loopbackUNIX(reactor: Any, run: Any) -> None:
    """loopbackUNIX runs the conversation over a UNIX socket and removes its directory."""
    import os

    server, client = Server(), Client()
    run(loopback.loopbackUNIX(server, client, noisy=False, reactor=reactor))
    assert client.lines == [b"hello", b"ONE", b"TWO", b"bye"]
    path = client.transport.getPeer().name
    assert not os.path.exists(os.path.dirname(path))


def test_loopbackTCPConnectionFailure(reactor: Any, run: Any) -> None:
    """A client that cannot connect fails the Deferred."""
    import pytest

    factory = loopback.LoopbackClientFactory(Client())
    reactor.connectTCP("127.0.0.1", 1, factory)
    with pytest.raises(error.ConnectionRefusedError):
        run(factory.deferred)
