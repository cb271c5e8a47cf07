"""A TCP port forwarder: accept connections and relay each to a fixed host and port.

``ProxyFactory(host, port)`` is a server factory.  For each accepted connection its
``ProxyServer`` stops reading (nothing may be read before there is somewhere to send it),
connects a ``ProxyClient`` to ``host``:``port`` and, once connected, pairs the two: each
protocol writes what it receives to the other's transport.

Flow control: each transport is registered as the (streaming) producer of the other, so
when one side's write buffer fills, the transport reading from the other side is paused
until the buffer drains; a fast sender cannot fill the forwarder's memory.  When either
connection closes, the other is closed; if the outgoing connection fails, the accepted
one is closed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from torsion.internet.protocol import ClientFactory, Factory, Protocol
from torsion.logger import Logger

if TYPE_CHECKING:
    from torsion.internet.interfaces import IAddress, IConnector
    from torsion.python.failure import Failure

__all__ = ["Proxy", "ProxyClient", "ProxyClientFactory", "ProxyFactory", "ProxyServer"]

_log = Logger()


class Proxy(Protocol):
    """One side of a forwarded connection: relays what it receives to its ``peer``."""

    noisy: bool = True
    peer: Proxy | None = None

    def setPeer(self, peer: Proxy) -> None:
        """Pair this side with the other."""
        self.peer = peer

    def connectionLost(self, reason: Failure | None = None) -> None:
        """Close the other side too (or log that it never connected)."""
        peer, self.peer = self.peer, None
        if peer is not None:
            peer.transport.loseConnection()
        elif self.noisy:
            _log.info("Unable to connect to peer: {reason}", reason=reason)

    def dataReceived(self, data: bytes) -> None:
        """Relay ``data`` to the other side (dropped once the other side is gone)."""
        peer = self.peer
        if peer is not None:
            peer.transport.write(data)


class ProxyClient(Proxy):
    """The outgoing side: connected to the forwarding target."""

    def connectionMade(self) -> None:
        """Pair with the server side, wire the flow control, and let it read."""
        server = self.peer
        assert isinstance(server, ProxyServer)
        server.setPeer(self)
        # Each transport pauses the other's reading when its own write buffer is full.
        self.transport.registerProducer(server.transport, True)
        server.transport.registerProducer(self.transport, True)
        server.transport.resumeProducing()


class ProxyClientFactory(ClientFactory):
    """Builds the ProxyClient for one accepted connection."""

    protocol = ProxyClient
    server: ProxyServer

    def setServer(self, server: ProxyServer) -> None:
        """Remember the accepted side this client will serve."""
        self.server = server

    def buildProtocol(self, addr: IAddress) -> Protocol | None:
        """Build the client protocol, already paired with the server side."""
        prot = ClientFactory.buildProtocol(self, addr)
        if prot is not None:
            cast(Proxy, prot).setPeer(self.server)
        return prot

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        """The target is unreachable: close the accepted connection."""
        self.server.transport.loseConnection()


class ProxyServer(Proxy):
    """The accepted side: connects to the target on connection."""

    clientProtocolFactory: type[ProxyClientFactory] = ProxyClientFactory
    reactor: Any = None

    def connectionMade(self) -> None:
        """Pause reading and connect to ``factory.host``:``factory.port``.

        Nothing is read before there is somewhere to send it: the pause holds on every
        engine, uvloop included, so no early data needs keeping here.
        """
        self.transport.pauseProducing()
        client = self.clientProtocolFactory()
        client.setServer(self)
        if self.reactor is None:
            self.reactor = getattr(self.factory, "reactor", None)
        if self.reactor is None:
            from torsion.internet import reactor

            self.reactor = reactor
        self.reactor.connectTCP(self.factory.host, self.factory.port, client)


class ProxyFactory(Factory):
    """Forwards every accepted connection to ``host``:``port``.

    ``reactor`` makes the outgoing connections; by default the global reactor.
    """

    protocol = ProxyServer

    def __init__(self, host: str, port: int, reactor: Any = None) -> None:
        self.host = host
        self.port = port
        self.reactor = reactor
