"""Protocols and factories that record what happens on a real connection, for transport tests.

Shared by the TCP, UNIX, SSL and STARTTLS tests: each exposes Deferreds that fire when the
event under test happens, so a test can `run()` the reactor until it does.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from torsion.internet.defer import Deferred
from torsion.internet.protocol import ClientFactory, Factory, Protocol, ServerFactory


class Held:
    """Carries a Failure through a Deferred's callback chain (a Failure would errback)."""

    def __init__(self, failure: Any) -> None:
        self.failure = failure
        self.value = failure.value

    def check(self, *types: Any) -> Any:
        return self.failure.check(*types)


class Recorder(Protocol):
    """Records what it receives; fires ``made`` and ``lost`` Deferreds.

    With ``expected`` set, ``gotAll`` fires with the data once that many bytes arrived.
    """

    def __init__(self) -> None:
        self.data = bytearray()
        self.made: Deferred[Recorder] = Deferred()
        self.lost: Deferred[Any] = Deferred()
        self.expected = 0
        self.gotAll: Deferred[bytes] = Deferred()

    def connectionMade(self) -> None:
        self.made.callback(self)

    def dataReceived(self, data: bytes) -> None:
        self.data += data
        if self.expected and len(self.data) >= self.expected and not self.gotAll.called:
            self.gotAll.callback(bytes(self.data))

    def connectionLost(self, reason: Any = None) -> None:
        self.lost.callback(Held(reason))


class Echo(Protocol):
    """Writes back everything it receives."""

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)


class RecordingFactory(ServerFactory):
    """Builds ``protocol`` instances and fires ``built`` with the first."""

    def __init__(self, protocol: Any = Recorder) -> None:
        self.protocol = protocol
        self.instances: list[Any] = []
        self.built: Deferred[Any] = Deferred()

    def buildProtocol(self, addr: Any) -> Any:
        p = Factory.buildProtocol(self, addr)
        self.instances.append(p)
        self.addr = addr
        if not self.built.called:
            self.built.callback(p)
        return p


class Client(ClientFactory):
    """A client factory whose ``failed``/``lostConn`` Deferreds fire with the reason."""

    def __init__(self, protocol: Any = Recorder) -> None:
        self.protocol = protocol
        self.failed: Deferred[Any] = Deferred()
        self.lostConn: Deferred[Any] = Deferred()
        self.built: Deferred[Any] = Deferred()
        self.started = 0

    def startedConnecting(self, connector: Any) -> None:
        self.started += 1

    def buildProtocol(self, addr: Any) -> Any:
        p = Factory.buildProtocol(self, addr)
        self.built.callback(p)
        return p

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        self.failed.callback(Held(reason))

    def clientConnectionLost(self, connector: Any, reason: Any) -> None:
        self.lostConn.callback(Held(reason))


def _hasIPv6Loopback(kind: int) -> bool:
    """Whether a socket of `kind` can bind ::1 on this machine."""
    try:
        s = socket.socket(socket.AF_INET6, kind)
        s.bind(("::1", 0))
        s.close()
        return True
    except OSError:
        return False


def needsIPv6Loopback(kind: int = socket.SOCK_STREAM) -> pytest.MarkDecorator:
    """Skip a test on a machine where a socket of `kind` cannot bind ::1."""
    return pytest.mark.skipif(
        not _hasIPv6Loopback(kind), reason="this machine has no IPv6 loopback (::1)"
    )
