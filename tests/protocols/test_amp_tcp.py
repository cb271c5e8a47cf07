"""AMP over real TCP on 127.0.0.1: flow control never stalls two peers flooding each other."""

from __future__ import annotations

from typing import Any

from torsion.internet import defer
from torsion.internet.protocol import ClientFactory, Factory
from torsion.protocols import amp


class Echo(amp.Command):
    """Echo a value back."""

    arguments = [(b"value", amp.String())]
    response = [(b"value", amp.String())]


class FloodBack(amp.Command):
    """Ask the peer to flood us with Echo commands of its own."""

    arguments = [(b"count", amp.Integer()), (b"size", amp.Integer())]
    response = [(b"answered", amp.Integer())]


def asked(d: defer.Deferred[Any] | None) -> defer.Deferred[Any]:
    """The Deferred of a command that requires an answer."""
    assert d is not None
    return d


class Peer(amp.AMP):
    """Echoes, and floods the caller with Echo commands when asked."""

    def __init__(self, made: defer.Deferred[Peer] | None = None) -> None:
        super().__init__()
        self.made = made

    def connectionMade(self) -> None:
        if self.made is not None:
            self.made.callback(self)

    @Echo.responder
    def echo(self, value: bytes) -> dict[str, bytes]:
        return {"value": value}

    @FloodBack.responder
    def floodBack(self, count: int, size: int) -> defer.Deferred[dict[str, int]]:
        calls = [asked(self.callRemote(Echo, value=b"y" * size)) for _ in range(count)]
        return defer.gatherResults(calls).addCallback(lambda r: {"answered": len(r)})


def test_mutualFloodOverTCPCompletes(reactor: Any, run: Any) -> None:
    """Two AMP peers flooding each other with more than the socket buffers hold both finish."""
    port = reactor.listenTCP(0, Factory.forProtocol(Peer), interface="127.0.0.1")
    made: defer.Deferred[Peer] = defer.Deferred()
    factory = ClientFactory()
    factory.protocol = lambda: Peer(made)
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
    count, size = 250, 60_000

    async def session() -> tuple[int, int]:
        client = await made
        back = asked(client.callRemote(FloodBack, count=count, size=size))
        sent = [asked(client.callRemote(Echo, value=b"x" * size)) for _ in range(count)]
        echoed = await defer.gatherResults(sent)
        answered = await back
        client.transport.loseConnection()
        return sum(len(e["value"]) for e in echoed), answered["answered"]

    try:
        total, answered = run(session(), timeout=10)
    finally:
        port.stopListening()
    assert (total, answered) == (count * size, count)


class OneWay(amp.Command):
    """A command needing no answer."""

    arguments = [(b"value", amp.String())]
    requiresAnswer = False


class OneWayPeer(amp.AMP):
    """Floods the peer with one-way commands once connected; fires `done` when it has
    received as many."""

    def __init__(self, count: int, size: int, done: defer.Deferred[int]) -> None:
        super().__init__()
        self.count, self.size, self.done = count, size, done
        self.received = 0

    def connectionMade(self) -> None:
        for _ in range(self.count):
            self.callRemote(OneWay, value=b"z" * self.size)

    @OneWay.responder
    def oneWay(self, value: bytes) -> dict[str, Any]:
        self.received += 1
        if self.received == self.count:
            self.done.callback(self.received)
        return {}


def test_mutualOneWayFloodOverTCPCompletes(reactor: Any, run: Any) -> None:
    """Two peers flooding each other with one-way commands (none awaiting answers) both
    get them all."""
    count, size = 250, 60_000
    serverDone: defer.Deferred[int] = defer.Deferred()
    clientDone: defer.Deferred[int] = defer.Deferred()
    port = reactor.listenTCP(
        0, Factory.forProtocol(lambda: OneWayPeer(count, size, serverDone)),
        interface="127.0.0.1",
    )
    factory = ClientFactory()
    factory.protocol = lambda: OneWayPeer(count, size, clientDone)
    connector = reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
    try:
        received = run(defer.gatherResults([serverDone, clientDone]), timeout=10)
    finally:
        connector.disconnect()
        port.stopListening()
    assert received == [count, count]
