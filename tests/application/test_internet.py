"""Tests for torsion.application.internet: port, client, timer and endpoint services."""

from __future__ import annotations

from typing import Any

import pytest

from torsion.application import internet, service
from torsion.internet import defer
from torsion.internet.protocol import ClientFactory, Factory, Protocol
from torsion.internet.task import Clock
from torsion.internet.testing import MemoryReactor, StringTransport
from torsion.logger import capturedLogs
from torsion.python.failure import Failure


def test_tcpServerListensAtPrivilegedStart() -> None:
    """TCPServer calls reactor.listenTCP with its arguments during privilegedStartService."""
    reactor = MemoryReactor()
    factory = Factory()
    svc = internet.TCPServer(8080, factory, interface="127.0.0.1", reactor=reactor)
    svc.privilegedStartService()
    assert reactor.tcpServers == [(8080, factory, 50, "127.0.0.1")]
    svc.startService()
    assert len(reactor.tcpServers) == 1


def test_tcpServerListensAtStartIfNotPrivileged() -> None:
    """Added to a running parent (no privileged phase first), TCPServer listens at start."""
    reactor = MemoryReactor()
    svc = internet.TCPServer(0, Factory(), reactor=reactor)
    svc.startService()
    assert len(reactor.tcpServers) == 1


def test_serverStopStopsListening() -> None:
    """stopService stops the listening port."""
    reactor = MemoryReactor()
    svc = internet.TCPServer(0, Factory(), reactor=reactor)
    svc.startService()
    port = svc._port
    svc.stopService()
    assert port is not None and not port.listening  # type: ignore[attr-defined]
    assert not svc.running


def test_otherServersUseTheirListenMethods() -> None:
    """UDPServer, UNIXServer and SSLServer forward to listenUDP/listenUNIX/listenSSL."""
    reactor = MemoryReactor()
    internet.UDPServer(53, object(), reactor=reactor).startService()
    internet.UNIXServer("/tmp/x.sock", Factory(), reactor=reactor).startService()
    internet.SSLServer(443, Factory(), object(), reactor=reactor).startService()
    assert (len(reactor.udpServers), len(reactor.unixServers), len(reactor.sslServers)) == (
        1, 1, 1)


def test_tcpClientConnectsAndDisconnects() -> None:
    """TCPClient connects when started and disconnects its connector when stopped."""
    reactor = MemoryReactor()
    factory = ClientFactory()
    svc = internet.TCPClient("example.com", 80, factory, reactor=reactor)
    svc.startService()
    assert reactor.tcpClients[0][:3] == ("example.com", 80, factory)
    svc.stopService()
    assert reactor.connectors[0]._disconnected


def test_timerServiceCallsRepeatedly() -> None:
    """TimerService calls at start and then every step seconds."""
    clock = Clock()
    calls: list[int] = []
    svc = internet.TimerService(5, calls.append, 1)
    svc.clock = clock
    svc.startService()
    clock.advance(5)
    clock.advance(5)
    assert calls == [1, 1, 1]


def test_timerServiceStopsCleanly() -> None:
    """After stopService the timer calls no more and its Deferred has fired."""
    clock = Clock()
    calls: list[int] = []
    svc = internet.TimerService(1, calls.append, 1)
    svc.clock = clock
    svc.startService()
    stopped: list[Any] = []
    svc.stopService().addCallback(stopped.append)
    clock.advance(10)
    assert calls == [1] and len(stopped) == 1 and not svc.running
    assert clock.getDelayedCalls() == []


def test_timerServiceFailureIsLoggedAndStops() -> None:
    """A callable that raises is logged and ends the timer."""
    clock = Clock()

    def boom() -> None:
        raise ValueError("bad tick")

    svc = internet.TimerService(1, boom)
    svc.clock = clock
    with capturedLogs() as events:
        svc.startService()
    assert any("log_failure" in e and e["log_failure"].check(ValueError) for e in events)
    assert clock.getDelayedCalls() == []


class FakeEndpoint:
    """A stream endpoint whose listen and connect results the test controls."""

    def __init__(self) -> None:
        self.listening: list[defer.Deferred[Any]] = []
        self.connecting: list[defer.Deferred[Any]] = []
        self.factories: list[Any] = []

    def listen(self, factory: Any) -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        self.listening.append(d)
        self.factories.append(factory)
        return d

    def connect(self, factory: Any) -> defer.Deferred[Any]:
        d: defer.Deferred[Any] = defer.Deferred()
        self.connecting.append(d)
        self.factories.append(factory)
        return d


class FakePort:
    """A port recording stopListening."""

    stopped = False

    def stopListening(self) -> None:
        self.stopped = True


def test_endpointServiceListensAndStops() -> None:
    """StreamServerEndpointService listens at privileged start and stops the port on stop."""
    endpoint, factory, port = FakeEndpoint(), Factory(), FakePort()
    svc = internet.StreamServerEndpointService(endpoint, factory)
    svc.privilegedStartService()
    svc.startService()
    assert endpoint.factories == [factory]
    endpoint.listening[0].callback(port)
    svc.stopService()
    assert port.stopped and not svc.running


def test_endpointServiceRaisesSynchronousFailure() -> None:
    """With _raiseSynchronously, an immediate listen failure raises from privilegedStart."""

    class Failing(FakeEndpoint):
        def listen(self, factory: Any) -> defer.Deferred[Any]:
            return defer.fail(OSError("address in use"))

    svc = internet.StreamServerEndpointService(Failing(), Factory())
    svc._raiseSynchronously = True
    with pytest.raises(OSError, match="address in use"):
        svc.privilegedStartService()


def test_endpointServiceLogsLateFailure() -> None:
    """A listen failure after start-up is logged."""
    endpoint = FakeEndpoint()
    svc = internet.StreamServerEndpointService(endpoint, Factory())
    svc.startService()
    with capturedLogs() as events:
        endpoint.listening[0].errback(OSError("late"))
    assert any("log_failure" in e for e in events)


# --- ClientService -------------------------------------------------------------------------


def _connectedProtocol(endpoint: FakeEndpoint, index: int = -1) -> Protocol:
    """Build a protocol through the factory the service gave the endpoint, and connect it."""
    proto = endpoint.factories[index].buildProtocol(None)
    proto.makeConnection(StringTransport())
    endpoint.connecting[index].callback(proto)
    assert isinstance(proto, Protocol)
    return proto


def _clientService(**kw: Any) -> tuple[internet.ClientService, FakeEndpoint, Clock]:
    endpoint, clock = FakeEndpoint(), Clock()
    factory = Factory.forProtocol(Protocol)
    svc = internet.ClientService(endpoint, factory, clock=clock,
                                 retryPolicy=lambda n: 10.0 * n, **kw)
    return svc, endpoint, clock


def test_clientServiceWhenConnectedFiresWithProtocol() -> None:
    """whenConnected fires with the protocol once the endpoint connects."""
    svc, endpoint, _ = _clientService()
    svc.startService()
    results: list[Any] = []
    svc.whenConnected().addCallback(results.append)
    proto = _connectedProtocol(endpoint)
    assert results == [proto]
    assert svc.whenConnected().result is proto  # type: ignore[attr-defined]


def test_clientServiceRetriesWithPolicyDelay() -> None:
    """A failed attempt is retried after retryPolicy(failures) seconds."""
    svc, endpoint, clock = _clientService()
    svc.startService()
    endpoint.connecting[0].errback(ConnectionRefusedError())
    clock.advance(9.9)
    assert len(endpoint.connecting) == 1
    clock.advance(0.1)
    assert len(endpoint.connecting) == 2
    endpoint.connecting[1].errback(ConnectionRefusedError())
    clock.advance(19.9)
    assert len(endpoint.connecting) == 2


def test_clientServiceReconnectsAfterLoss() -> None:
    """Losing the connection schedules a new attempt."""
    svc, endpoint, clock = _clientService()
    svc.startService()
    proto = _connectedProtocol(endpoint)
    proto.connectionLost(Failure(ConnectionResetError()))
    clock.advance(10)
    assert len(endpoint.connecting) == 2


def test_clientServiceFailAfterFailures() -> None:
    """whenConnected(failAfterFailures=2) fails with the second consecutive failure."""
    svc, endpoint, clock = _clientService()
    svc.startService()
    results: list[Any] = []
    svc.whenConnected(failAfterFailures=2).addBoth(results.append)
    endpoint.connecting[0].errback(ConnectionRefusedError("one"))
    assert results == []
    clock.advance(10)
    endpoint.connecting[1].errback(ConnectionRefusedError("two"))
    assert len(results) == 1 and isinstance(results[0], Failure)
    assert results[0].getErrorMessage() == "two"


def test_clientServiceStopDisconnectsAndWaits() -> None:
    """stopService closes the connection and fires once it is lost."""
    svc, endpoint, _ = _clientService()
    svc.startService()
    proto = _connectedProtocol(endpoint)
    stopped: list[Any] = []
    svc.stopService().addCallback(stopped.append)
    assert proto.transport.disconnecting  # type: ignore[union-attr]
    assert stopped == []
    proto.connectionLost(Failure(ConnectionResetError()))
    assert stopped == [None]


def test_clientServiceStopCancelsPendingAttemptAndWaiters() -> None:
    """Stopping while connecting cancels the attempt and fails waiting whenConnected calls."""
    svc, endpoint, clock = _clientService()
    svc.startService()
    results: list[Any] = []
    svc.whenConnected().addErrback(results.append)
    svc.stopService()
    assert results[0].check(defer.CancelledError)
    assert endpoint.connecting[0].called
    clock.advance(100)
    assert len(endpoint.connecting) == 1


def test_clientServiceStopWhileWaitingCancelsTimer() -> None:
    """Stopping during the retry delay cancels the scheduled attempt."""
    svc, endpoint, clock = _clientService()
    svc.startService()
    endpoint.connecting[0].errback(ConnectionRefusedError())
    svc.stopService()
    assert clock.getDelayedCalls() == []


def test_clientServicePrepareConnectionGatesWhenConnected() -> None:
    """whenConnected waits for prepareConnection's Deferred."""
    gate: defer.Deferred[None] = defer.Deferred()
    svc, endpoint, _ = _clientService(prepareConnection=lambda p: gate)
    svc.startService()
    results: list[Any] = []
    svc.whenConnected().addCallback(results.append)
    proto = _connectedProtocol(endpoint)
    assert results == []
    gate.callback(None)
    assert results == [proto]


def test_backoffPolicyGrowsAndCaps() -> None:
    """backoffPolicy multiplies by factor per attempt, caps at maxDelay and adds jitter."""
    policy = internet.backoffPolicy(1.0, 10.0, 2.0, jitter=lambda: 0.5)
    assert [policy(n) for n in (0, 1, 2, 10, 10_000)] == [1.5, 2.5, 4.5, 10.5, 10.5]


def test_servicesFitInTree() -> None:
    """Network services are ordinary services in a MultiService."""
    reactor = MemoryReactor()
    app = service.Application("t")
    internet.TCPServer(0, Factory(), reactor=reactor).setServiceParent(app)
    app.privilegedStartService()
    app.startService()
    assert len(reactor.tcpServers) == 1


def test_clientServicePrepareFailureClosesAndRetries() -> None:
    """A failing prepareConnection closes that connection and schedules a new attempt."""

    def prepare(protocol: Any) -> defer.Deferred[None]:
        return defer.fail(ValueError("handshake refused"))

    svc, endpoint, clock = _clientService(prepareConnection=prepare)
    svc.startService()
    with capturedLogs() as events:
        proto = _connectedProtocol(endpoint)
    assert proto.transport.disconnecting  # type: ignore[union-attr]
    assert any("log_failure" in e for e in events)
    clock.advance(10)
    assert len(endpoint.connecting) == 2


def test_clientServiceLossDuringPrepareRetries() -> None:
    """A connection lost while prepareConnection is pending counts as a failure."""
    gate: defer.Deferred[None] = defer.Deferred()
    svc, endpoint, clock = _clientService(prepareConnection=lambda p: gate)
    svc.startService()
    results: list[Any] = []
    svc.whenConnected().addCallback(results.append)
    proto = _connectedProtocol(endpoint)
    proto.connectionLost(Failure(ConnectionResetError()))
    gate.callback(None)
    assert results == []
    clock.advance(10)
    assert len(endpoint.connecting) == 2
