"""PB over real TCP sockets on 127.0.0.1: closing behaviour the in-memory pump cannot show."""

from __future__ import annotations

from typing import Any

import pytest

from torsion.internet import defer
from torsion.spread import pb

pytestmark = pytest.mark.integration


class Leaver(pb.Root):
    """Tells the caller something, then closes the transport directly, as Twisted users do."""

    def remote_noteAndClose(self, ref: pb.RemoteReference) -> None:
        for n in range(3):
            ref.callRemote("got", n, pbanswer=False)
        ref.broker.transport.loseConnection()


class Listener(pb.Referenceable):
    """Collects the notes and fires `closed` when the connection ends."""

    def __init__(self) -> None:
        self.got: list[int] = []
        self.closed: defer.Deferred[None] = defer.Deferred()

    def remote_got(self, value: int) -> None:
        self.got.append(value)


def test_messagesBeforeDirectLoseConnectionArriveOverTCP(reactor: Any, run: Any) -> None:
    """Messages a remote method sends before transport.loseConnection() reach the peer."""
    port = reactor.listenTCP(0, pb.PBServerFactory(Leaver()), interface="127.0.0.1")
    client = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port.getHost().port, client)
    listener = Listener()

    async def session() -> None:
        root = await client.getRootObject()
        root.notifyOnDisconnect(lambda ref: listener.closed.callback(None))
        root.callRemote("noteAndClose", listener, pbanswer=False)
        await listener.closed

    try:
        run(session())
    finally:
        port.stopListening()
    assert listener.got == [0, 1, 2]


class Flooder(pb.Root):
    """Echoes, and floods the caller with big calls of its own when asked."""

    def remote_echo(self, value: bytes) -> bytes:
        return value

    def remote_floodBack(self, ref: pb.RemoteReference, count: int, size: int) -> Any:
        return defer.gatherResults(
            [ref.callRemote("echo", b"y" * size) for _ in range(count)]
        ).addCallback(len)


class Echoer(pb.Referenceable):
    """A client-side object that echoes."""

    def remote_echo(self, value: bytes) -> bytes:
        return value


def test_mutualFloodOverTCPCompletes(reactor: Any, run: Any) -> None:
    """Two brokers flooding each other with more than the socket buffers hold both finish."""
    port = reactor.listenTCP(0, pb.PBServerFactory(Flooder()), interface="127.0.0.1")
    client = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port.getHost().port, client)
    count, size = 60, 400_000

    async def session() -> tuple[int, int]:
        root = await client.getRootObject()
        back = root.callRemote("floodBack", Echoer(), count, size)
        sent = [root.callRemote("echo", b"x" * size) for _ in range(count)]
        echoed = await defer.gatherResults(sent)
        answered = await back
        client.disconnect()
        return sum(len(e) for e in echoed), answered

    try:
        total, answered = run(session(), timeout=30)
    finally:
        port.stopListening()
    assert (total, answered) == (count * size, count)
