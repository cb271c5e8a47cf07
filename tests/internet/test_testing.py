"""Tests for torsion.internet.testing: the fakes other tests rely on."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from torsion.internet import error
from torsion.internet.address import IPv4Address, IPv6Address, UNIXAddress
from torsion.internet.interfaces import (
    IConnector,
    IConsumer,
    IListeningPort,
    IPushProducer,
    IReactorTCP,
    IReactorTime,
    IReactorUNIX,
    ITCPTransport,
    ITransport,
)
from torsion.internet.protocol import ClientFactory, Factory, Protocol
from torsion.internet.testing import (
    AccumulatingProtocol,
    EventLoggingObserver,
    FakeTransport,
    MemoryReactor,
    MemoryReactorClock,
    NonStreamingProducer,
    RaisingMemoryReactor,
    StringTransport,
    StringTransportWithDisconnection,
    connectedServerAndClient,
    waitUntilAllDisconnected,
)
from torsion.python.failure import Failure

# Static checks: the fakes provide the interfaces they stand in for.
_t: ITransport = StringTransport()
_tcp: ITCPTransport = StringTransport()
_c: IConsumer = StringTransport()
_pp: IPushProducer = StringTransport()
_ft: ITCPTransport = FakeTransport(Protocol(), isServer=True)
_rt: IReactorTCP = MemoryReactor()
_ru: IReactorUNIX = MemoryReactor()
_rc: IReactorTime = MemoryReactorClock()
_port: IListeningPort = MemoryReactor().listenTCP(0, Factory())
_conn: IConnector = MemoryReactor().connectTCP("h", 1, ClientFactory())


def test_stringTransportRecordsWrites() -> None:
    """write and writeSequence accumulate into value()."""
    t = StringTransport()
    t.write(b"a")
    t.writeSequence([b"b", b"c"])
    assert t.value() == b"abc"


def test_stringTransportRefusesStr() -> None:
    """Writing str raises TypeError, like a real transport."""
    t = StringTransport()
    with pytest.raises(TypeError):
        t.write("text")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        t.writeSequence(["text"])  # type: ignore[list-item]


def test_stringTransportClear() -> None:
    """clear() discards what was written."""
    t = StringTransport()
    t.write(b"abc")
    t.clear()
    assert t.value() == b""


def test_stringTransportLoseConnection() -> None:
    """loseConnection only sets disconnecting; abortConnection also sets aborted."""
    t = StringTransport()
    t.loseConnection()
    assert t.disconnecting and not t.aborted
    t2 = StringTransport()
    t2.abortConnection()
    assert t2.disconnecting and t2.aborted


def test_stringTransportDefaultAddresses() -> None:
    """Default addresses are Twisted's: host 10.0.0.1:12345, peer 192.168.1.1:54321."""
    t = StringTransport()
    assert t.getHost() == IPv4Address("TCP", "10.0.0.1", 12345)
    assert t.getPeer() == IPv4Address("TCP", "192.168.1.1", 54321)


def test_stringTransportGivenAddresses() -> None:
    """Addresses given to the constructor are returned."""
    host, peer = IPv4Address("TCP", "1.1.1.1", 1), IPv4Address("TCP", "2.2.2.2", 2)
    t = StringTransport(hostAddress=host, peerAddress=peer)
    assert (t.getHost(), t.getPeer()) == (host, peer)


def test_stringTransportRegisterProducerTwiceRaises() -> None:
    """Registering a second producer raises RuntimeError."""
    t = StringTransport()
    t.registerProducer(StringTransport(), True)
    assert t.streaming is True
    with pytest.raises(RuntimeError, match="two producers"):
        t.registerProducer(StringTransport(), True)


def test_stringTransportUnregisterWithoutProducerRaises() -> None:
    """Unregistering with no producer registered raises RuntimeError."""
    t = StringTransport()
    with pytest.raises(RuntimeError):
        t.unregisterProducer()
    t.registerProducer(StringTransport(), False)
    t.unregisterProducer()
    assert t.producer is None and t.streaming is None


def test_stringTransportProducerState() -> None:
    """pause/resume/stopProducing are recorded in producerState."""
    t = StringTransport()
    t.pauseProducing()
    assert t.producerState == "paused"
    t.resumeProducing()
    assert t.producerState == "producing"
    t.stopProducing()
    assert t.producerState == "stopped"
    with pytest.raises(RuntimeError):
        t.resumeProducing()


def test_stringTransportNoResumeAfterClose() -> None:
    """Resuming after loseConnection is an error unless the transport is lenient."""
    t = StringTransport()
    t.loseConnection()
    with pytest.raises(RuntimeError):
        t.resumeProducing()
    lenient = StringTransport(lenient=True)
    lenient.loseConnection()
    lenient.resumeProducing()


def test_stringTransportSocketOptions() -> None:
    """TCP options set are read back, and half-close is recorded."""
    t = StringTransport()
    t.setTcpNoDelay(True)
    t.setTcpKeepAlive(True)
    t.loseWriteConnection()
    assert t.getTcpNoDelay() and t.getTcpKeepAlive() and t.writeDisconnected


def test_withDisconnectionCallsConnectionLostOnce() -> None:
    """StringTransportWithDisconnection delivers ConnectionDone once on loseConnection."""
    p = AccumulatingProtocol()
    t = StringTransportWithDisconnection()
    t.protocol = p
    p.makeConnection(t)
    t.loseConnection()
    t.loseConnection()
    assert p.closed and p.closedReason is not None
    assert p.closedReason.check(error.ConnectionDone)


def test_withDisconnectionAbort() -> None:
    """abortConnection on StringTransportWithDisconnection delivers ConnectionAborted."""
    p = AccumulatingProtocol()
    t = StringTransportWithDisconnection()
    t.protocol = p
    p.makeConnection(t)
    t.abortConnection()
    assert p.closedReason is not None and p.closedReason.check(error.ConnectionAborted)


def test_accumulatingProtocolFiresDeferreds() -> None:
    """AccumulatingProtocol fires the factory's protocolConnectionMade and closedDeferred."""
    from torsion.internet.defer import Deferred

    made: Deferred[Any] = Deferred()
    closed: Deferred[None] = Deferred()
    f = Factory.forProtocol(AccumulatingProtocol)
    f.protocolConnectionMade = made  # type: ignore[attr-defined]
    p = f.buildProtocol(IPv4Address("TCP", "1.2.3.4", 5))
    assert isinstance(p, AccumulatingProtocol)
    p.closedDeferred = closed
    got: list[Any] = []
    made.addCallback(got.append)
    closed.addCallback(got.append)
    p.makeConnection(StringTransport())
    p.dataReceived(b"x")
    p.connectionLost(Failure(error.ConnectionDone()))
    assert got == [p, None] and p.data == b"x" and p.made and p.closed


def test_nonStreamingProducer() -> None:
    """NonStreamingProducer writes 0..9 then unregisters and fires result."""
    t = StringTransport()
    producer = NonStreamingProducer(t)
    t.registerProducer(producer, False)
    done: list[Any] = []
    producer.result.addCallback(done.append)
    while t.producer is not None:
        producer.resumeProducing()
    assert t.value() == b"0123456789" and done == [None]


def test_memoryReactorListenTCP() -> None:
    """listenTCP is recorded and the port reports the requested port on 0.0.0.0 (or IPv6)."""
    r = MemoryReactor()
    f = Factory()
    port = r.listenTCP(8080, f, backlog=5, interface="127.0.0.1")
    assert r.tcpServers == [(8080, f, 5, "127.0.0.1")]
    assert port.getHost() == IPv4Address("TCP", "0.0.0.0", 8080)
    assert r.listenTCP(1, f, interface="::1").getHost() == IPv6Address("TCP", "::1", 1)


def test_memoryReactorConnectTCPTellsFactory() -> None:
    """connectTCP records the call, tells the factory it started and returns a connector."""
    started: list[Any] = []

    class F(ClientFactory):
        def startedConnecting(self, connector: Any) -> None:
            started.append(connector)

    r = MemoryReactor()
    f = F()
    conn = r.connectTCP("example.com", 80, f, timeout=3)
    assert r.tcpClients == [("example.com", 80, f, 3, None)]
    assert started == [conn] and r.connectors == [conn]
    assert conn.getDestination() == IPv4Address("TCP", "example.com", 80)
    conn.stopConnecting()
    assert conn.stoppedConnecting


def test_memoryReactorOtherTransports() -> None:
    """UNIX, SSL and UDP calls are recorded in their own lists."""
    r = MemoryReactor()
    f = ClientFactory()
    assert r.listenUNIX("/s", f).getHost() == UNIXAddress("/s")
    r.connectUNIX("/s", f)
    r.listenSSL(443, f, "ctx")
    r.connectSSL("h", 443, f, "ctx")
    assert r.listenUDP(53, "proto").getHost() == IPv4Address("UDP", "0.0.0.0", 53)
    assert len(r.unixServers) == len(r.unixClients) == len(r.sslServers) == 1
    assert len(r.sslClients) == len(r.udpServers) == 1


def test_memoryReactorAdopt() -> None:
    """Adopted ports are recorded; an unknown address family is refused."""
    r = MemoryReactor()
    port = r.adoptStreamPort(3, socket.AF_INET, Factory())
    assert port.getHost() == IPv4Address("TCP", "0.0.0.0", 1234)
    with pytest.raises(error.UnsupportedAddressFamily):
        r.adoptStreamPort(3, socket.AF_UNIX, Factory())
    assert len(r.adoptedPorts) == 1


def test_memoryReactorRunCallsHooks() -> None:
    """run() calls the callWhenRunning hooks and stops; later hooks run at once."""
    r = MemoryReactor()
    calls: list[int] = []
    r.callWhenRunning(calls.append, 1)
    assert calls == []
    r.run()
    assert calls == [1] and r.hasRun and r.hasStopped and not r.running
    r.callWhenRunning(calls.append, 2)
    assert calls == [1, 2]


def test_memoryReactorSystemEventTriggers() -> None:
    """Triggers are recorded by phase and event; fireSystemEvent runs them in order."""
    r = MemoryReactor()
    calls: list[str] = []
    r.addSystemEventTrigger("after", "shutdown", calls.append, "after")
    r.addSystemEventTrigger("before", "shutdown", calls.append, "before")
    tid = r.addSystemEventTrigger("during", "shutdown", calls.append, "during")
    r.removeSystemEventTrigger(tid)
    assert len(r.triggers["before"]["shutdown"]) == 1
    r.fireSystemEvent("shutdown")
    assert calls == ["before", "after"]


def test_memoryReactorClockSchedules() -> None:
    """MemoryReactorClock runs delayed calls when advanced."""
    r = MemoryReactorClock()
    calls: list[int] = []
    r.callLater(2, calls.append, 1)
    r.advance(1)
    assert calls == []
    r.advance(1)
    assert calls == [1]


def test_memoryReactorNameResolver() -> None:
    """The default resolver resolves every name to 127.0.0.1 synchronously."""
    r = MemoryReactor()
    got: list[Any] = []

    class Receiver:
        def resolutionBegan(self, resolution: Any) -> None:
            got.append(resolution.name)

        def addressResolved(self, address: Any) -> None:
            got.append(address)

        def resolutionComplete(self) -> None:
            got.append("done")

    r.nameResolver.resolveHostName(Receiver(), "example.com", 80)
    assert got == ["example.com", IPv4Address("TCP", "127.0.0.1", 80), "done"]


def test_raisingMemoryReactor() -> None:
    """RaisingMemoryReactor raises the given exceptions from listen and connect calls."""
    r = RaisingMemoryReactor(ValueError("listen"), KeyError("connect"))
    with pytest.raises(ValueError):
        r.listenTCP(0, Factory())
    with pytest.raises(KeyError):
        r.connectTCP("h", 1, ClientFactory())
    with pytest.raises(error.CannotListenError):
        RaisingMemoryReactor().listenUNIX("/x", Factory())


class Greeter(Protocol):
    """Sends a greeting on connection and records what it receives."""

    def connectionMade(self) -> None:
        self.received = b""
        self.reason: Failure | None = None
        self.transport.write(b"hello")

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.reason = reason


def test_connectedServerAndClientGreets() -> None:
    """connectedServerAndClient returns (client, server, pump) with greetings delivered."""
    client, server, pump = connectedServerAndClient(Greeter, AccumulatingProtocol)
    assert isinstance(client, AccumulatingProtocol) and isinstance(server, Greeter)
    assert client.data == b"hello"


def test_pumpMovesDataOnlyWhenPumped() -> None:
    """Writes stay queued until pump() moves them."""
    client, server, pump = connectedServerAndClient(Greeter, Greeter)
    client.transport.write(b"x")
    assert server.received == b"hello"
    assert pump.pump() is True
    assert server.received == b"hellox"
    assert pump.pump() is False


def test_loseConnectionReachesBothSidesAfterData() -> None:
    """loseConnection delivers pending data, then ConnectionDone to both protocols."""
    client, server, pump = connectedServerAndClient(Greeter, Greeter)
    server.transport.write(b"bye")
    server.transport.loseConnection()
    pump.flush()
    assert client.received == b"hellobye"
    assert client.reason is not None and client.reason.check(error.ConnectionDone)
    assert server.reason is not None and server.reason.check(error.ConnectionDone)


def test_abortConnectionDropsDataAndAborts() -> None:
    """abortConnection drops queued data: ConnectionAborted here, ConnectionLost there."""
    client, server, pump = connectedServerAndClient(Greeter, Greeter)
    client.transport.write(b"lost")
    client.transport.abortConnection()
    pump.flush()
    assert server.received == b"hello"
    assert client.reason is not None and client.reason.check(error.ConnectionAborted)
    assert server.reason is not None and server.reason.check(error.ConnectionLost)
    assert not server.reason.check(error.ConnectionAborted)


def test_pumpResumesPullProducer() -> None:
    """A pull producer registered on a fake transport produces once per pump."""
    client, server, pump = connectedServerAndClient(Greeter, Greeter)
    producer = NonStreamingProducer(server.transport)
    server.transport.registerProducer(producer, False)
    pump.flush()
    assert client.received == b"hello0123456789"


def test_fakeTransportReadPause() -> None:
    """Data for a protocol that paused reading waits until it resumes."""
    client, server, pump = connectedServerAndClient(Greeter, Greeter)
    server.transport.pauseProducing()
    client.transport.write(b"later")
    pump.flush()
    assert server.received == b"hello"
    server.transport.resumeProducing()
    assert server.received == b"hellolater"


def test_fakeTransportStopsProducerOnClose() -> None:
    """A producer registered when the connection closes is told to stop."""
    client, server, pump = connectedServerAndClient(Greeter, Greeter)
    producer = StringTransport()
    server.transport.registerProducer(producer, True)
    client.transport.loseConnection()
    pump.flush()
    assert producer.producerState == "stopped"


def test_fakeTransportRefusesStr() -> None:
    """FakeTransport.write refuses str like a real transport."""
    t = FakeTransport(Protocol(), isServer=False)
    with pytest.raises(TypeError):
        t.write("x")  # type: ignore[arg-type]


def test_flushDetectsEndlessTalk() -> None:
    """flush() raises instead of looping forever on two protocols that never stop."""

    class PingPong(Protocol):
        def connectionMade(self) -> None:
            self.transport.write(b".")

        def dataReceived(self, data: bytes) -> None:
            self.transport.write(data)

    with pytest.raises(RuntimeError, match="1000"):
        connectedServerAndClient(PingPong, PingPong)


def test_pumpRunsDueCalls() -> None:
    """Each pump runs the clock's calls that are due (callLater(0, ...))."""
    r = MemoryReactorClock()
    client, server, pump = connectedServerAndClient(Greeter, Greeter, clock=r)
    r.callLater(0, client.transport.write, b"!")
    pump.flush()
    assert server.received == b"hello!"


def test_waitUntilAllDisconnected() -> None:
    """The Deferred fires once every protocol's transport is disconnected."""
    clock = MemoryReactorClock()
    p = Protocol()
    t = StringTransport()
    p.makeConnection(t)
    got: list[Any] = []
    waitUntilAllDisconnected(clock, [p]).addCallback(got.append)
    clock.advance(1)
    assert got == []
    t.connected = False
    clock.advance(1)
    assert got == [None]


def test_eventLoggingObserverCollectsAndCleansUp() -> None:
    """EventLoggingObserver records events until the test's cleanup removes it."""
    from torsion.logger import Logger, LogPublisher

    cleanups: list[Any] = []

    class FakeTest:
        def addCleanup(self, f: Any, *args: Any) -> None:
            cleanups.append((f, args))

    publisher = LogPublisher()
    observer = EventLoggingObserver.createWithCleanup(FakeTest(), publisher)
    log = Logger(observer=publisher)
    log.info("one {x}", x=1)
    assert len(observer) == 1 and observer[0]["x"] == 1
    for f, args in cleanups:
        f(*args)
    log.info("two")
    assert len(observer) == 1 and list(observer)[0]["log_format"] == "one {x}"


def test_fakeTransportPausesStreamingProducerWhenBufferFull() -> None:
    """With bufferSize set, a push producer is paused past it and resumed once pumped."""
    client, server, pump = connectedServerAndClient(Greeter, Greeter)
    server.transport.bufferSize = 10
    producer = StringTransport()
    server.transport.registerProducer(producer, True)
    server.transport.write(b"x" * 5)
    assert producer.producerState == "producing"
    server.transport.write(b"x" * 6)
    assert producer.producerState == "paused"
    pump.pump()
    assert producer.producerState == "producing"
    assert client.received == b"hello" + b"x" * 11
