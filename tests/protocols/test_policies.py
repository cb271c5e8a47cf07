"""Tests for torsion.protocols.policies: wrappers, timeouts, throttling and limits."""

from __future__ import annotations

import io
from typing import Any

from torsion.internet import error
from torsion.internet.address import IPv4Address
from torsion.internet.interfaces import ITransport
from torsion.internet.protocol import Factory, Protocol, ServerFactory
from torsion.internet.task import Clock
from torsion.internet.testing import (
    AccumulatingProtocol,
    StringTransport,
    StringTransportWithDisconnection,
)
from torsion.protocols import policies
from torsion.python.failure import Failure

ADDR = IPv4Address("TCP", "1.2.3.4", 5678)


class Recorder(Protocol):
    """Records data and loss; echoes when asked."""

    def __init__(self) -> None:
        self.data = b""
        self.lost: Failure | None = None

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.lost = reason


def wrapped(factory: policies.WrappingFactory, addr: Any = ADDR) -> tuple[Any, StringTransport]:
    """Build a wrapper from ``factory`` and connect it to a StringTransport."""
    p = factory.buildProtocol(addr)
    t = StringTransportWithDisconnection(peerAddress=addr)
    t.protocol = p
    p.makeConnection(t)
    return p, t


def test_wrapperIsTransportOfWrappedProtocol() -> None:
    """The wrapped protocol's transport is the wrapper; writes reach the real transport."""
    f = policies.WrappingFactory(Factory.forProtocol(Recorder))
    p, t = wrapped(f)
    inner = p.wrappedProtocol
    assert inner.transport is p
    _: ITransport = p
    inner.transport.write(b"a")
    inner.transport.writeSequence([b"b", b"c"])
    assert t.value() == b"abc"
    assert inner.transport.getPeer() == ADDR


def test_wrapperRelaysDataAndLoss() -> None:
    """Received data and the connection loss reach the wrapped protocol; the factory
    forgets the wrapper."""
    f = policies.WrappingFactory(Factory.forProtocol(Recorder))
    p, t = wrapped(f)
    inner = p.wrappedProtocol
    assert p in f.protocols
    p.dataReceived(b"xyz")
    t.loseConnection()
    assert inner.data == b"xyz" and inner.lost is not None
    assert inner.lost.check(error.ConnectionDone)
    assert p not in f.protocols and p.wrappedProtocol is None


def test_wrapperDelegatesOtherTransportMethods() -> None:
    """Transport methods the wrapper doesn't define are the real transport's."""
    f = policies.WrappingFactory(Factory.forProtocol(Recorder))
    p, t = wrapped(f)
    p.wrappedProtocol.transport.setTcpNoDelay(True)
    assert t.getTcpNoDelay()


def test_wrapperLogPrefix() -> None:
    """The wrapper's log prefix names the wrapped protocol and the wrapper class."""
    f = policies.WrappingFactory(Factory.forProtocol(Recorder))
    p, _ = wrapped(f)
    assert p.logPrefix() == "Recorder (ProtocolWrapper)"
    assert f.logPrefix() == "Factory (WrappingFactory)"


def test_wrappingFactoryRelaysStartStop() -> None:
    """doStart/doStop start and stop the wrapped factory too."""
    inner = Factory.forProtocol(Recorder)
    inner.noisy = False
    f = policies.WrappingFactory(inner)
    f.noisy = False
    f.doStart()
    assert inner.numPorts == 1
    f.doStop()
    assert inner.numPorts == 0


def test_wrappingFactoryRefusalStaysNone() -> None:
    """If the wrapped factory refuses (None), so does the wrapping factory."""

    class Refuser(Factory):
        def buildProtocol(self, addr: Any) -> None:
            return None

    assert policies.WrappingFactory(Refuser()).buildProtocol(ADDR) is None


def test_wrappingFactoryRelaysClientEvents() -> None:
    """Client connection notifications go to the wrapped factory."""
    seen: list[str] = []

    class F(Factory):
        def startedConnecting(self, c: Any) -> None:
            seen.append("started")

        def clientConnectionFailed(self, c: Any, r: Any) -> None:
            seen.append("failed")

        def clientConnectionLost(self, c: Any, r: Any) -> None:
            seen.append("lost")

    f = policies.WrappingFactory(F())
    f.startedConnecting(None)  # type: ignore[arg-type]
    f.clientConnectionFailed(None, Failure(error.ConnectError()))  # type: ignore[arg-type]
    f.clientConnectionLost(None, Failure(error.ConnectionLost()))  # type: ignore[arg-type]
    assert seen == ["started", "failed", "lost"]


# --- timeouts ------------------------------------------------------------------------------


def test_timeoutFactoryClosesIdleConnection() -> None:
    """A connection idle for timeoutPeriod is closed."""
    clock = Clock()
    f = policies.TimeoutFactory(Factory.forProtocol(Recorder), timeoutPeriod=5, reactor=clock)
    p, t = wrapped(f)
    clock.advance(4.9)
    assert not t.disconnecting
    clock.advance(0.1)
    assert t.disconnecting and p.wrappedProtocol is None


def test_timeoutFactoryTrafficResetsTimer() -> None:
    """Data in either direction restarts the countdown."""
    clock = Clock()
    f = policies.TimeoutFactory(Factory.forProtocol(Recorder), timeoutPeriod=5, reactor=clock)
    p, t = wrapped(f)
    clock.advance(4)
    p.dataReceived(b"x")
    clock.advance(4)
    p.write(b"y")
    clock.advance(4)
    assert not t.disconnecting
    clock.advance(1)
    assert t.disconnecting


def test_timeoutProtocolCancelledOnLoss() -> None:
    """Losing the connection cancels the timeout call."""
    clock = Clock()
    f = policies.TimeoutFactory(Factory.forProtocol(Recorder), timeoutPeriod=5, reactor=clock)
    p, t = wrapped(f)
    t.loseConnection()
    assert clock.getDelayedCalls() == []


def test_timeoutProtocolSetTimeoutNone() -> None:
    """setTimeout(None) disables the timeout."""
    clock = Clock()
    f = policies.TimeoutFactory(Factory.forProtocol(Recorder), timeoutPeriod=5, reactor=clock)
    p, t = wrapped(f)
    p.setTimeout(None)
    clock.advance(100)
    assert not t.disconnecting


class TimingOut(Protocol, policies.TimeoutMixin):
    """A protocol using TimeoutMixin."""

    timedOut = False

    def connectionMade(self) -> None:
        self.setTimeout(10)

    def dataReceived(self, data: bytes) -> None:
        self.resetTimeout()

    def timeoutConnection(self) -> None:
        self.timedOut = True
        policies.TimeoutMixin.timeoutConnection(self)


def timingOut(clock: Clock) -> tuple[TimingOut, StringTransport]:
    """A connected TimingOut using ``clock``."""
    p = TimingOut()
    p.callLater = clock.callLater  # type: ignore[assignment]
    t = StringTransport()
    p.makeConnection(t)
    return p, t


def test_timeoutMixinTimesOut() -> None:
    """After timeOut idle seconds timeoutConnection runs and closes the transport."""
    clock = Clock()
    p, t = timingOut(clock)
    clock.advance(9)
    assert not p.timedOut
    clock.advance(1)
    assert p.timedOut and t.disconnecting


def test_timeoutMixinReset() -> None:
    """resetTimeout postpones the timeout."""
    clock = Clock()
    p, t = timingOut(clock)
    clock.advance(9)
    p.dataReceived(b"x")
    clock.advance(9)
    assert not p.timedOut


def test_timeoutMixinDisable() -> None:
    """setTimeout(None) cancels and returns the previous period."""
    clock = Clock()
    p, t = timingOut(clock)
    assert p.setTimeout(None) == 10
    clock.advance(100)
    assert not p.timedOut and clock.getDelayedCalls() == []


def test_timeoutMixinChangePeriod() -> None:
    """setTimeout with a new period reschedules from now."""
    clock = Clock()
    p, t = timingOut(clock)
    clock.advance(5)
    p.setTimeout(2)
    clock.advance(1.9)
    assert not p.timedOut
    clock.advance(0.1)
    assert p.timedOut


# --- throttling ----------------------------------------------------------------------------


def test_throttlingConnectionLimit() -> None:
    """Past maxConnectionCount connections are refused; a closed one frees a slot."""
    clock = Clock()
    f = policies.ThrottlingFactory(
        Factory.forProtocol(Recorder), maxConnectionCount=2, reactor=clock
    )
    p1, t1 = wrapped(f)
    wrapped(f)
    assert f.buildProtocol(ADDR) is None
    t1.loseConnection()
    assert f.buildProtocol(ADDR) is not None


def test_throttlingReads() -> None:
    """Reading over readLimit in a second pauses reading for the excess time."""
    clock = Clock()
    f = policies.ThrottlingFactory(Factory.forProtocol(Recorder), readLimit=10, reactor=clock)
    p, t = wrapped(f)
    p.dataReceived(b"x" * 30)
    clock.advance(1)
    assert t.producerState == "paused"
    clock.advance(2)
    assert t.producerState == "producing"
    assert p.wrappedProtocol.data == b"x" * 30


def test_throttlingWrites() -> None:
    """Writing over writeLimit in a second pauses the registered producer."""
    clock = Clock()
    f = policies.ThrottlingFactory(Factory.forProtocol(Recorder), writeLimit=10, reactor=clock)
    p, t = wrapped(f)
    producer = StringTransport()
    p.registerProducer(producer, True)
    p.write(b"x" * 25)
    clock.advance(1)
    assert producer.producerState == "paused"
    clock.advance(1.5)
    assert producer.producerState == "producing"


def test_throttlingChecksStopWithLastConnection() -> None:
    """When the last connection closes no periodic check stays scheduled."""
    clock = Clock()
    f = policies.ThrottlingFactory(
        Factory.forProtocol(Recorder), readLimit=10, writeLimit=10, reactor=clock
    )
    p, t = wrapped(f)
    assert clock.getDelayedCalls()
    t.loseConnection()
    assert clock.getDelayedCalls() == []


# --- connection limits ---------------------------------------------------------------------


def test_limitConnectionsByPeer() -> None:
    """A peer host is refused past maxConnectionsPerPeer; other hosts are not affected."""
    f = policies.LimitConnectionsByPeer(Factory.forProtocol(Recorder))
    f.maxConnectionsPerPeer = 2
    other = IPv4Address("TCP", "9.9.9.9", 1)
    p1, t1 = wrapped(f)
    wrapped(f, IPv4Address("TCP", "1.2.3.4", 9999))
    assert f.buildProtocol(ADDR) is None
    assert f.buildProtocol(other) is not None
    t1.loseConnection()
    assert f.peerConnections["1.2.3.4"] == 1
    assert f.buildProtocol(ADDR) is not None


def test_limitTotalConnections() -> None:
    """Past connectionLimit the overflow protocol is built, or None without one."""

    class F(policies.LimitTotalConnectionsFactory):
        protocol = Recorder
        connectionLimit = 1

    f = F()
    p = f.buildProtocol(ADDR)
    assert isinstance(p, policies.ProtocolWrapper) and f.connectionCount == 1
    assert f.buildProtocol(ADDR) is None
    f.overflowProtocol = AccumulatingProtocol
    overflow = f.buildProtocol(ADDR)
    assert isinstance(overflow, policies.ProtocolWrapper)
    assert isinstance(overflow.wrappedProtocol, AccumulatingProtocol)
    t = StringTransportWithDisconnection()
    t.protocol = p
    p.makeConnection(t)
    t.loseConnection()
    assert f.connectionCount == 1


def test_limitTotalIsServerFactory() -> None:
    """LimitTotalConnectionsFactory is a ServerFactory, as in Twisted."""
    assert issubclass(policies.LimitTotalConnectionsFactory, ServerFactory)


# --- traffic logging -----------------------------------------------------------------------


def test_trafficLogging() -> None:
    """Each event of a connection is written to its numbered log file."""
    files: dict[str, io.StringIO] = {}

    class F(policies.TrafficLoggingFactory):
        def open(self, name: str) -> io.StringIO:
            files[name] = io.StringIO()
            return files[name]

    f = F(Factory.forProtocol(Recorder), "traffic")
    p, t = wrapped(f)
    p.dataReceived(b"in")
    p.write(b"out")
    p.loseConnection()
    log = files["traffic-1"].getvalue().splitlines()
    assert log[:4] == ["*", "C 1: b'in'", "S 1: b'out'", "S 1: *"]


def test_spewingLogs() -> None:
    """SpewingFactory's protocols log received and sent data."""
    from torsion.logger import capturedLogs, formatEvent

    f = policies.SpewingFactory(Factory.forProtocol(Recorder))
    with capturedLogs() as events:
        p, t = wrapped(f)
        p.dataReceived(b"in")
        p.write(b"out")
    texts = [formatEvent(e) for e in events]
    assert "Received: b'in'" in texts and "Sending: b'out'" in texts


def test_timeoutFactoryOnRealSockets(reactor: Any, run: Any) -> None:
    """Over real TCP, a wrapped echo server echoes, then closes the idle connection."""
    from torsion.internet.defer import Deferred
    from torsion.internet.protocol import ClientFactory
    from torsion.protocols.wire import Echo

    # 1 s, not less: the timeout starts at accept, and a loaded machine may pause this
    # process between the accept and the read of "ping" (the timer would then win).
    factory = policies.TimeoutFactory(Factory.forProtocol(Echo), timeoutPeriod=1.0, reactor=reactor)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    done: Deferred[tuple[bytes, Failure | None]] = Deferred()

    class Client(Recorder):
        def connectionMade(self) -> None:
            self.transport.write(b"ping")

        def connectionLost(self, reason: Failure | None = None) -> None:
            done.callback((self.data, reason))

    client = ClientFactory()
    client.protocol = Client
    started = reactor.seconds()
    reactor.connectTCP("127.0.0.1", port.getHost().port, client)
    data, reason = run(done, timeout=10)
    assert data == b"ping"
    assert reason is not None and reason.check(error.ConnectionDone)
    # uvloop's clock has millisecond resolution: a 0.2 s timer may fire at 0.199 s.
    assert reactor.seconds() - started >= 1.0 - 0.002
