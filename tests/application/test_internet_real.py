"""Application services on a real reactor and real sockets on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from torsion.application import internet, strports
from torsion.internet import defer, endpoints
from torsion.internet._reactor import Reactor
from torsion.internet.protocol import Factory, Protocol
from torsion.protocols import wire

pytestmark = pytest.mark.integration


class Collect(Protocol):
    """A client protocol that keeps what it receives and reports its loss."""

    def __init__(self) -> None:
        self.received = b""
        self.lost: defer.Deferred[None] = defer.Deferred()

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Any = None) -> None:
        self.lost.callback(None)


def _later(reactor: Reactor, seconds: float) -> defer.Deferred[None]:
    d: defer.Deferred[None] = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


def test_strportsServiceServesDescription(reactor: Reactor,
                                          run: Callable[..., Any]) -> None:
    """strports.service listens on the endpoint description and serves the factory."""
    svc = strports.service("tcp:0:interface=127.0.0.1", Factory.forProtocol(wire.Echo),
                           reactor=reactor)
    svc.privilegedStartService()
    svc.startService()
    assert svc._waitingForPort is not None
    port = run(svc._waitingForPort)
    client = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    proto = run(endpoints.connectProtocol(client, Collect()))
    proto.transport.write(b"strports")

    async def echoed() -> bytes:
        while proto.received != b"strports":
            await _later(reactor, 0.005)
        return proto.received

    assert run(echoed()) == b"strports"
    proto.transport.loseConnection()
    run(proto.lost)
    run(svc.stopService())


def test_strportsRaisesListenErrorAtPrivilegedStart(reactor: Reactor) -> None:
    """A description that cannot be listened on raises at privileged start."""
    first = reactor.listenTCP(0, Factory(), interface="127.0.0.1")
    svc = strports.service(f"tcp:{first.getHost().port}:interface=127.0.0.1", Factory(),
                           reactor=reactor)
    with pytest.raises(Exception, match="(?i)in use"):
        svc.privilegedStartService()


def test_clientServiceReconnectsToRealServer(reactor: Reactor,
                                            run: Callable[..., Any]) -> None:
    """ClientService reconnects after the server drops it, then stops cleanly."""
    serverProtocols: list[Protocol] = []

    class Server(Protocol):
        def connectionMade(self) -> None:
            serverProtocols.append(self)

    port = reactor.listenTCP(0, Factory.forProtocol(Server), interface="127.0.0.1")
    endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    svc = internet.ClientService(endpoint, Factory.forProtocol(Collect), clock=reactor,
                                 retryPolicy=lambda attempt: 0.01)
    svc.startService()
    first = run(svc.whenConnected())
    serverProtocols[0].transport.loseConnection()  # type: ignore[union-attr]
    run(first.lost)

    async def nextConnection() -> Any:
        while True:
            proto = await svc.whenConnected()
            if proto is not first:
                return proto
            await _later(reactor, 0.005)

    second = run(nextConnection())
    assert second is not first and len(serverProtocols) == 2
    run(svc.stopService())
    run(second.lost)
    run(port.stopListening())
