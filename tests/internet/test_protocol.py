"""Tests for torsion.internet.protocol: factories, protocols and their life cycles."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from torsion.internet import error
from torsion.internet.address import IPv4Address
from torsion.internet.defer import CancelledError, Deferred
from torsion.internet.interfaces import IProtocol, IProtocolFactory
from torsion.internet.protocol import (
    ClientCreator,
    ClientFactory,
    ConsumerToProtocolAdapter,
    DatagramProtocol,
    Factory,
    ProcessProtocol,
    Protocol,
    ProtocolToConsumerAdapter,
    ReconnectingClientFactory,
    connectionDone,
)
from torsion.internet.task import Clock
from torsion.internet.testing import MemoryReactorClock, StringTransport
from torsion.logger import LogLevel, capturedLogs, formatEvent, formatEventAsClassicLogText
from torsion.python.failure import Failure

_factory: IProtocolFactory = Factory()
_protocol: IProtocol = Protocol()

ADDR = IPv4Address("TCP", "127.0.0.1", 1234)


def results(d: Deferred[Any]) -> list[Any]:
    """Collect what ``d`` fires with (result or Failure) into a list."""
    out: list[Any] = []
    d.addBoth(out.append)
    return out


class Echo(Protocol):
    """A protocol that writes back what it receives."""

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)


class EchoFactory(Factory):
    """A factory of Echo, to check log lines name the class."""

    protocol = Echo


def test_connectionDoneIsCleanFailure() -> None:
    """connectionDone wraps ConnectionDone and is the default connectionLost reason."""
    assert connectionDone.check(error.ConnectionDone)
    Protocol().connectionLost()


def test_makeConnectionSetsTransportAndCallsConnectionMade() -> None:
    """makeConnection stores the transport, sets connected and calls connectionMade."""
    calls: list[Any] = []

    class P(Protocol):
        def connectionMade(self) -> None:
            calls.append(self.transport)

    p = P()
    t = StringTransport()
    p.makeConnection(t)
    assert p.connected and p.transport is t and calls == [t]


def test_buildProtocolSetsFactory() -> None:
    """buildProtocol builds an instance of ``protocol`` whose factory is the factory."""
    f = EchoFactory()
    p = f.buildProtocol(ADDR)
    assert isinstance(p, Echo) and p.factory is f


def test_buildProtocolWithoutProtocolRaises() -> None:
    """A Factory with no protocol raises a clear TypeError instead of calling None."""
    with pytest.raises(TypeError, match="no protocol"):
        Factory().buildProtocol(ADDR)


def test_forProtocol() -> None:
    """forProtocol creates the factory with the given arguments and sets protocol."""

    class F(ClientFactory):
        def __init__(self, x: int) -> None:
            self.x = x

    f = F.forProtocol(Echo, 5)
    assert isinstance(f, F) and f.protocol is Echo and f.x == 5


def test_logPrefixIsClassName() -> None:
    """Factory and Protocol log prefixes are their class names."""
    assert EchoFactory().logPrefix() == "EchoFactory"
    assert Echo().logPrefix() == "Echo"


def test_doStartLogsAndStartsOnce() -> None:
    """The first doStart logs 'Starting factory <repr>' and calls startFactory once."""
    started: list[int] = []

    class F(EchoFactory):
        def startFactory(self) -> None:
            started.append(1)

    f = F()
    with capturedLogs() as events:
        f.doStart()
        f.doStart()
    assert started == [1] and f.numPorts == 2
    assert [formatEvent(e) for e in events] == [f"Starting factory {f!r}"]
    assert events[0]["log_level"] == LogLevel.info
    assert events[0]["log_source"] is f


def test_doStopLogsAndStopsAfterLast() -> None:
    """Only the last doStop logs 'Stopping factory <repr>' and calls stopFactory."""
    stopped: list[int] = []

    class F(EchoFactory):
        def stopFactory(self) -> None:
            stopped.append(1)

    f = F()
    f.doStart()
    f.doStart()
    with capturedLogs() as events:
        f.doStop()
        assert stopped == [] and events == []
        f.doStop()
    assert stopped == [1] and f.numPorts == 0
    assert [formatEvent(e) for e in events] == [f"Stopping factory {f!r}"]


def test_startStopClassicLogLines() -> None:
    """In the classic text format the lines read exactly like twistd's."""
    f = EchoFactory()
    with capturedLogs() as events:
        f.doStart()
        f.doStop()
    lines = [formatEventAsClassicLogText(e) or "" for e in events]
    assert lines[0].endswith(f"+0000 [-] Starting factory {f!r}\n")
    assert lines[1].endswith(f"+0000 [-] Stopping factory {f!r}\n")


def test_doStopUnbalancedIgnored() -> None:
    """A doStop with no matching doStart does nothing (as in Twisted)."""
    f = EchoFactory()
    f.doStop()
    assert f.numPorts == 0


def test_quietFactoryDoesNotLog() -> None:
    """A factory with noisy = False starts and stops silently."""
    f = EchoFactory()
    f.noisy = False
    with capturedLogs() as events:
        f.doStart()
        f.doStop()
    assert events == []


def test_reconnectingRetriesWithBackoff() -> None:
    """After a failure the factory reconnects after initialDelay * factor, on its clock."""
    clock = Clock()
    f = ReconnectingClientFactory()
    f.clock = clock
    f.jitter = 0
    f.noisy = False
    connector = FakeConnector()
    f.clientConnectionFailed(connector, Failure(error.ConnectionRefusedError()))
    assert f.delay == pytest.approx(f.initialDelay * f.factor)
    clock.advance(f.delay - 0.01)
    assert connector.connects == 0
    clock.advance(0.01)
    assert connector.connects == 1


def test_reconnectingDelayCapped() -> None:
    """The delay never exceeds maxDelay (without jitter)."""
    f = ReconnectingClientFactory()
    f.clock = Clock()
    f.jitter = 0
    f.maxDelay = 5
    f.noisy = False
    connector = FakeConnector()
    for _ in range(10):
        f.clientConnectionLost(connector, Failure(error.ConnectionLost()))
    assert f.delay == 5


def test_reconnectingMaxRetries() -> None:
    """After maxRetries attempts the factory gives up and logs it."""
    clock = Clock()
    f = ReconnectingClientFactory()
    f.clock = clock
    f.maxRetries = 2
    connector = FakeConnector()
    with capturedLogs() as events:
        for _ in range(3):
            f.clientConnectionFailed(connector, Failure(error.ConnectionRefusedError()))
            clock.advance(1000)
    assert connector.connects == 2
    assert any("after 3 retries" in formatEvent(e) for e in events)


def test_reconnectingStopTrying() -> None:
    """stopTrying cancels the scheduled retry and stops the connector."""
    clock = Clock()
    f = ReconnectingClientFactory()
    f.clock = clock
    f.noisy = False
    connector = FakeConnector()
    f.clientConnectionLost(connector, Failure(error.ConnectionLost()))
    f.stopTrying()
    clock.advance(10000)
    assert connector.connects == 0 and connector.stopped == 1
    assert clock.getDelayedCalls() == []
    f.clientConnectionLost(connector, Failure(error.ConnectionLost()))
    assert clock.getDelayedCalls() == []


def test_reconnectingStopTryingIgnoresNotConnecting() -> None:
    """stopTrying swallows NotConnectingError from an idle connector."""
    f = ReconnectingClientFactory()
    connector = FakeConnector(raiseOnStop=True)
    f.connector = connector
    f.stopTrying()
    assert not f.continueTrying


def test_reconnectingResetDelay() -> None:
    """resetDelay restores initialDelay and the retry count."""
    f = ReconnectingClientFactory()
    f.clock = Clock()
    f.noisy = False
    f.clientConnectionLost(FakeConnector(), Failure(error.ConnectionLost()))
    f.resetDelay()
    assert (f.delay, f.retries, f.continueTrying) == (f.initialDelay, 0, True)


def test_retryWithoutConnectorRaises() -> None:
    """retry() with no known connector raises ValueError."""
    f = ReconnectingClientFactory()
    with pytest.raises(ValueError):
        f.retry()


def test_reconnectingPicklesWithoutConnector() -> None:
    """The pickled state drops the connector and the scheduled call."""
    f = ReconnectingClientFactory()
    f.connector = FakeConnector()
    state = f.__getstate__()
    assert "connector" not in state and "_callID" not in state


class FakeConnector:
    """A connector counting connect() and stopConnecting() calls."""

    def __init__(self, raiseOnStop: bool = False) -> None:
        self.connects = 0
        self.stopped = 0
        self.raiseOnStop = raiseOnStop

    def connect(self) -> None:
        self.connects += 1

    def stopConnecting(self) -> None:
        if self.raiseOnStop:
            raise error.NotConnectingError()
        self.stopped += 1

    def disconnect(self) -> None:
        pass

    def getDestination(self) -> IPv4Address:
        return ADDR


def test_clientCreatorConnectTCP() -> None:
    """connectTCP passes its arguments to the reactor and fires with the built protocol."""
    reactor = MemoryReactorClock()
    d = ClientCreator(reactor, Echo).connectTCP("example.com", 80, timeout=7)
    host, port, factory, timeout, bindAddress = reactor.tcpClients[0]
    assert (host, port, timeout, bindAddress) == ("example.com", 80, 7, None)
    got = results(d)
    proto = factory.buildProtocol(ADDR)
    assert got == []
    reactor.advance(0)
    assert got == [proto] and isinstance(proto, Echo)


def test_clientCreatorPassesArguments() -> None:
    """The protocol class is called with ClientCreator's extra arguments."""

    class P(Protocol):
        def __init__(self, a: int, b: int = 0) -> None:
            self.a, self.b = a, b

    reactor = MemoryReactorClock()
    ClientCreator(reactor, P, 1, b=2).connectUNIX("/tmp/sock")
    factory = reactor.unixClients[0][1]
    p = factory.buildProtocol(ADDR)
    assert (p.a, p.b) == (1, 2)


class ContextFactory:
    """A TLS context factory for the fake reactor (never asked for its context)."""

    def getContext(self) -> ssl.SSLContext:
        raise AssertionError("not used")


def test_clientCreatorConnectionFailed() -> None:
    """A failed connection fails the Deferred with the reason."""
    reactor = MemoryReactorClock()
    d = ClientCreator(reactor, Echo).connectSSL("h", 443, ContextFactory())
    factory = reactor.sslClients[0][2]
    got = results(d)
    factory.clientConnectionFailed(reactor.connectors[0], Failure(error.ConnectionRefusedError()))
    reactor.advance(0)
    assert got[0].check(error.ConnectionRefusedError)


def test_clientCreatorCancelBeforeConnect() -> None:
    """Cancelling before the connection is made disconnects the connector."""
    reactor = MemoryReactorClock()
    d = ClientCreator(reactor, Echo).connectTCP("h", 1)
    got = results(d)
    d.cancel()
    assert reactor.connectors[0]._disconnected
    assert got[0].check(CancelledError)


def test_clientCreatorCancelAfterConnect() -> None:
    """Cancelling between connection and delivery cancels the pending delivery."""
    reactor = MemoryReactorClock()
    d = ClientCreator(reactor, Echo).connectTCP("h", 1)
    got = results(d)
    reactor.tcpClients[0][2].buildProtocol(ADDR)
    d.cancel()
    reactor.advance(0)
    assert len(got) == 1 and got[0].check(CancelledError)
    assert reactor.getDelayedCalls() == []


def test_datagramProtocolStartStop() -> None:
    """makeConnection starts the protocol once; the last doStop stops it and drops the
    transport."""
    events: list[str] = []

    class D(DatagramProtocol):
        noisy = False

        def startProtocol(self) -> None:
            events.append("start")

        def stopProtocol(self) -> None:
            events.append("stop")

    d = D()
    transport = object()
    d.makeConnection(transport)
    assert d.transport is transport and events == ["start"]
    d.doStop()
    assert d.transport is None and events == ["start", "stop"]


def test_datagramProtocolRefusesSecondTransport() -> None:
    """A datagram protocol already attached to a transport refuses another."""
    d = DatagramProtocol()
    d.noisy = False
    d.makeConnection(object())
    with pytest.raises(RuntimeError):
        d.makeConnection(object())


def test_datagramProtocolLogsStartAndStop() -> None:
    """A noisy datagram protocol logs 'Starting protocol' and 'Stopping protocol'."""
    d = DatagramProtocol()
    with capturedLogs() as events:
        d.makeConnection(object())
        d.doStop()
    assert [formatEvent(e) for e in events] == [f"Starting protocol {d}", f"Stopping protocol {d}"]


def test_processProtocolDispatch() -> None:
    """childDataReceived and childConnectionLost dispatch by descriptor number."""
    seen: list[Any] = []

    class P(ProcessProtocol):
        def outReceived(self, data: bytes) -> None:
            seen.append(("out", data))

        def errReceived(self, data: bytes) -> None:
            seen.append(("err", data))

        def inConnectionLost(self) -> None:
            seen.append("in-lost")

        def outConnectionLost(self) -> None:
            seen.append("out-lost")

        def errConnectionLost(self) -> None:
            seen.append("err-lost")

    p = P()
    p.childDataReceived(1, b"a")
    p.childDataReceived(2, b"b")
    p.childDataReceived(3, b"ignored")
    for fd in (0, 1, 2, 3):
        p.childConnectionLost(fd)
    assert seen == [("out", b"a"), ("err", b"b"), "in-lost", "out-lost", "err-lost"]


def test_protocolToConsumerAdapter() -> None:
    """Writing to the adapter delivers to the protocol's dataReceived."""
    p = Echo()
    t = StringTransport()
    p.makeConnection(t)
    ProtocolToConsumerAdapter(p).write(b"hi")
    assert t.value() == b"hi"


def test_consumerToProtocolAdapter() -> None:
    """Data received by the adapter is written to the consumer."""
    t = StringTransport()
    a = ConsumerToProtocolAdapter(t)
    a.makeConnection(None)
    a.dataReceived(b"hi")
    a.connectionLost()
    assert t.value() == b"hi"


def test_clientCreatorOnRealReactor(reactor: Any, run: Any) -> None:
    """ClientCreator connects over real TCP and fires with the connected protocol."""
    port = reactor.listenTCP(0, EchoFactory(), interface="127.0.0.1")
    proto = run(ClientCreator(reactor, Echo).connectTCP("127.0.0.1", port.getHost().port))
    assert isinstance(proto, Echo) and proto.connected
    assert proto.transport.getPeer().port == port.getHost().port
    proto.transport.loseConnection()


def test_clientCreatorRefusedOnRealReactor(reactor: Any, run: Any) -> None:
    """A refused connection fails ClientCreator's Deferred with ConnectionRefusedError."""
    import socket

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    portNumber = s.getsockname()[1]
    s.close()
    with pytest.raises(error.ConnectionRefusedError):
        run(ClientCreator(reactor, Echo).connectTCP("127.0.0.1", portNumber))


def test_reconnectingContinueTryingIsTwistedsOneOrZero() -> None:
    """continueTrying reads 1, then 0 after stopTrying and 1 after resetDelay (Twisted's ints)."""
    f = ReconnectingClientFactory()
    before = repr(f.continueTrying)
    f.stopTrying()
    stopped = repr(f.continueTrying)
    f.resetDelay()
    assert (before, stopped, repr(f.continueTrying)) == ("1", "0", "1")
