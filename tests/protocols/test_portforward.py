"""Tests for torsion.protocols.portforward: relaying, closing and flow control."""

from __future__ import annotations

from typing import Any

from torsion.internet import error
from torsion.internet.address import IPv4Address
from torsion.internet.defer import Deferred
from torsion.internet.protocol import ClientFactory, Factory, Protocol
from torsion.internet.testing import MemoryReactor, StringTransport
from torsion.logger import capturedLogs
from torsion.protocols import portforward
from torsion.python.failure import Failure

ADDR = IPv4Address("TCP", "10.0.0.2", 4000)


def acceptedServer() -> tuple[portforward.ProxyServer, StringTransport, MemoryReactor]:
    """A ProxyServer for an accepted connection, its transport and the fake reactor."""
    reactor = MemoryReactor()
    factory = portforward.ProxyFactory("target.example", 7000, reactor=reactor)
    server = factory.buildProtocol(ADDR)
    assert isinstance(server, portforward.ProxyServer)
    transport = StringTransport()
    server.makeConnection(transport)
    return server, transport, reactor


def connectClient(reactor: MemoryReactor) -> tuple[portforward.ProxyClient, StringTransport]:
    """Complete the outgoing connection the server asked the reactor for."""
    clientFactory = reactor.tcpClients[0][2]
    client = clientFactory.buildProtocol(IPv4Address("TCP", "10.0.0.3", 7000))
    transport = StringTransport()
    client.makeConnection(transport)
    return client, transport


def test_serverConnectsToTargetAndPausesReading() -> None:
    """An accepted connection pauses reading and connects to the target host and port."""
    server, transport, reactor = acceptedServer()
    assert transport.producerState == "paused"
    assert [(h, p) for h, p, *_ in reactor.tcpClients] == [("target.example", 7000)]


def test_clientConnectionPairsAndResumes() -> None:
    """Once the target is connected, the accepted side reads again and both are paired."""
    server, serverTransport, reactor = acceptedServer()
    client, clientTransport = connectClient(reactor)
    assert serverTransport.producerState == "producing"
    assert server.peer is client and client.peer is server


def test_flowControlWiredBothWays() -> None:
    """Each transport is the streaming producer of the other."""
    server, serverTransport, reactor = acceptedServer()
    client, clientTransport = connectClient(reactor)
    assert clientTransport.producer is serverTransport and clientTransport.streaming
    assert serverTransport.producer is clientTransport and serverTransport.streaming


def test_dataRelayedBothWays() -> None:
    """Bytes received on one side are written to the other."""
    server, serverTransport, reactor = acceptedServer()
    client, clientTransport = connectClient(reactor)
    server.dataReceived(b"request")
    client.dataReceived(b"response")
    assert clientTransport.value() == b"request"
    assert serverTransport.value() == b"response"


def test_dataAfterPeerGoneDropped() -> None:
    """Data arriving after the other side is gone is dropped, not an error."""
    server, serverTransport, reactor = acceptedServer()
    client, clientTransport = connectClient(reactor)
    client.connectionLost(Failure(error.ConnectionDone()))
    serverTransport.clear()
    client.dataReceived(b"late")
    assert serverTransport.value() == b""


def test_targetClosingClosesAccepted() -> None:
    """When the target's connection is lost, the accepted one is closed."""
    server, serverTransport, reactor = acceptedServer()
    client, clientTransport = connectClient(reactor)
    client.connectionLost(Failure(error.ConnectionDone()))
    assert serverTransport.disconnecting and client.peer is None


def test_acceptedClosingClosesTarget() -> None:
    """When the accepted connection is lost, the target's is closed."""
    server, serverTransport, reactor = acceptedServer()
    client, clientTransport = connectClient(reactor)
    server.connectionLost(Failure(error.ConnectionDone()))
    assert clientTransport.disconnecting and server.peer is None


def test_targetUnreachableClosesAccepted() -> None:
    """A failed outgoing connection closes the accepted one, and logs when it goes."""
    server, serverTransport, reactor = acceptedServer()
    clientFactory = reactor.tcpClients[0][2]
    clientFactory.clientConnectionFailed(
        reactor.connectors[0], Failure(error.ConnectionRefusedError())
    )
    assert serverTransport.disconnecting
    with capturedLogs() as events:
        server.connectionLost(Failure(error.ConnectionDone()))
    assert any("Unable to connect to peer" in e["log_format"] for e in events)


class Echo(Protocol):
    """Echoes."""

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)


class Collect(Protocol):
    """Sends a payload, collects the echo and closes when it has it all."""

    def __init__(self, payload: bytes, done: Deferred[bytes]) -> None:
        self.payload = payload
        self.done = done
        self.received = b""

    def connectionMade(self) -> None:
        self.transport.write(self.payload)

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if len(self.received) >= len(self.payload):
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.done.callback(self.received)


def test_forwardsOverRealSockets(reactor: Any, run: Any) -> None:
    """A client talking to the forwarder reaches an echo server behind it (1 MB each way).

    The client writes in connectionMade, before the target is connected: the forwarder's
    pause must hold (on uvloop too) for those bytes to be relayed, not dropped.
    """
    echoPort = reactor.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
    proxy = portforward.ProxyFactory("127.0.0.1", echoPort.getHost().port, reactor=reactor)
    proxy.noisy = False
    proxyPort = reactor.listenTCP(0, proxy, interface="127.0.0.1")
    done: Deferred[bytes] = Deferred()
    payload = bytes(range(256)) * 4096
    client = ClientFactory()
    client.protocol = lambda: Collect(payload, done)
    reactor.connectTCP("127.0.0.1", proxyPort.getHost().port, client)
    assert run(done, timeout=20) == payload


class Outside(Protocol):
    """The outside client of the forwarder: records what comes back."""

    def __init__(self) -> None:
        self.received = b""

    def dataReceived(self, data: bytes) -> None:
        self.received += data


def test_backpressurePausesReadingFromFastSide() -> None:
    """When the target side's write buffer is full, the accepted side stops being read,
    and nothing is lost once the buffer drains (all in memory)."""
    from torsion.internet.testing import FakeTransport, connect

    reactor = MemoryReactor()
    factory = portforward.ProxyFactory("target", 1, reactor=reactor)
    server = factory.buildProtocol(ADDR)
    assert server is not None
    outside = Outside()
    serverIO = FakeTransport(server, True)
    front = connect(server, serverIO, outside, FakeTransport(outside, False), greet=False)
    proxyClient = reactor.tcpClients[0][2].buildProtocol(ADDR)
    backend = Echo()
    clientIO = FakeTransport(proxyClient, False)
    clientIO.bufferSize = 100
    back = connect(backend, FakeTransport(backend, True), proxyClient, clientIO, greet=False)
    outside.transport.write(b"a" * 300)
    front.pump()
    assert serverIO.readPaused
    outside.transport.write(b"b" * 10)
    front.pump()
    assert sum(map(len, clientIO.stream)) == 300  # held back, not forwarded
    back.flush()
    assert not serverIO.readPaused
    front.flush()
    back.flush()
    front.flush()
    assert outside.received == b"a" * 300 + b"b" * 10
