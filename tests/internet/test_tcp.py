"""TCP transports, listening ports and connectors on real sockets, on both engines."""

from __future__ import annotations

import socket
import struct
import time
from typing import Any

import pytest
from transporthelpers import Client, Echo, Recorder, RecordingFactory, needsIPv6Loopback

from torsion.internet import error
from torsion.internet.address import IPv4Address, IPv6Address
from torsion.internet.defer import Deferred
from torsion.internet.protocol import ServerFactory
from torsion.logger import capturedLogs, formatEvent


def connectPair(reactor: Any, run: Any, server: Any = Recorder, client: Any = Recorder) -> Any:
    """Listen, connect, and return (serverProtocol, clientProtocol) once both are connected."""
    sf = RecordingFactory(server)
    port = reactor.listenTCP(0, sf, interface="127.0.0.1")
    cf = Client(client)
    reactor.connectTCP("127.0.0.1", port.getHost().port, cf)
    c = run(cf.built)
    s = run(sf.built)
    if isinstance(c, Recorder):
        run(c.made)
    if isinstance(s, Recorder):
        run(s.made)
    return s, c


def test_listenTCPBindsBeforeRun(reactor: Any) -> None:
    """listenTCP binds at once: getHost() reports the real port before the reactor runs."""
    port = reactor.listenTCP(0, RecordingFactory(), interface="127.0.0.1")
    host = port.getHost()
    assert isinstance(host, IPv4Address)
    assert host.type == "TCP" and host.host == "127.0.0.1" and host.port > 0


def test_listenOnBusyPortRaisesCannotListen(reactor: Any) -> None:
    """Binding a port already in use raises CannotListenError from listenTCP itself."""
    port = reactor.listenTCP(0, RecordingFactory(), interface="127.0.0.1")
    with pytest.raises(error.CannotListenError) as info:
        reactor.listenTCP(port.getHost().port, RecordingFactory(), interface="127.0.0.1")
    assert info.value.port == port.getHost().port


def test_echoRoundTrip(reactor: Any, run: Any) -> None:
    """Bytes written by a client come back from an echo server."""
    server, client = connectPair(reactor, run, server=Echo)
    client.expected = 11
    client.transport.write(b"hello ")
    client.transport.writeSequence([b"wor", b"ld"])
    assert run(client.gotAll) == b"hello world"


def test_writeStrRaisesTypeError(reactor: Any, run: Any) -> None:
    """transport.write refuses str: the wire carries bytes."""
    server, client = connectPair(reactor, run)
    with pytest.raises(TypeError):
        client.transport.write("text")


def test_serverFactoryGetsPeerAddress(reactor: Any, run: Any) -> None:
    """buildProtocol gets the client's address, equal to the client transport's getHost()."""
    sf = RecordingFactory()
    port = reactor.listenTCP(0, sf, interface="127.0.0.1")
    cf = Client()
    reactor.connectTCP("127.0.0.1", port.getHost().port, cf)
    client = run(cf.built)
    server = run(sf.built)
    run(server.made)
    assert sf.addr == client.transport.getHost() == server.transport.getPeer()
    assert server.transport.getHost() == client.transport.getPeer() == port.getHost()


def test_cleanCloseGivesConnectionDone(reactor: Any, run: Any) -> None:
    """loseConnection ends both sides with ConnectionDone, after flushing what was written."""
    server, client = connectPair(reactor, run)
    server.transport.write(b"x" * 300_000)
    server.transport.loseConnection()
    assert server.transport.disconnecting
    reason = run(client.lost)
    assert reason.check(error.ConnectionDone)
    assert len(client.data) == 300_000
    assert run(server.lost).check(error.ConnectionDone)


def test_abortGivesConnectionAborted(reactor: Any, run: Any) -> None:
    """abortConnection ends the local side with ConnectionAborted."""
    server, client = connectPair(reactor, run)
    client.transport.abortConnection()
    assert run(client.lost).check(error.ConnectionAborted)
    assert run(server.lost).check(error.ConnectionClosed)


def test_peerResetGivesConnectionLost(reactor: Any, run: Any) -> None:
    """A peer that resets the connection ends it with ConnectionLost."""
    sf = RecordingFactory()
    port = reactor.listenTCP(0, sf, interface="127.0.0.1")
    raw = socket.create_connection(("127.0.0.1", port.getHost().port))
    server = run(sf.built)
    run(server.made)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    raw.close()
    reason = run(server.lost)
    assert reason.check(error.ConnectionLost) and not reason.check(error.ConnectionAborted)


def test_writesAfterCloseAreDropped(reactor: Any, run: Any) -> None:
    """Writing to a closed connection is silently ignored, as in Twisted."""
    server, client = connectPair(reactor, run)
    client.transport.loseConnection()
    run(client.lost)
    client.transport.write(b"late")
    assert not client.transport.connected


class HalfCloser(Recorder):
    """A half-closeable protocol: answers after the peer's EOF."""

    readLost: Deferred[None]

    def connectionMade(self) -> None:
        self.readLost = Deferred()
        super().connectionMade()

    def readConnectionLost(self) -> None:
        self.transport.write(b"got " + bytes(self.data))
        self.transport.loseConnection()
        self.readLost.callback(None)


def test_halfCloseableProtocolKeepsWriting(reactor: Any, run: Any) -> None:
    """After the peer's EOF a half-closeable protocol gets readConnectionLost and can reply."""
    server, client = connectPair(reactor, run, server=HalfCloser)
    client.transport.write(b"question")
    client.transport.loseWriteConnection()
    run(server.readLost)
    assert run(client.lost).check(error.ConnectionDone)
    assert bytes(client.data) == b"got question"


def test_eofClosesOrdinaryProtocol(reactor: Any, run: Any) -> None:
    """The peer's EOF ends a protocol that is not half-closeable with ConnectionDone."""
    server, client = connectPair(reactor, run)
    client.transport.loseWriteConnection()
    assert run(server.lost).check(error.ConnectionDone)


class Exploding(Recorder):
    def dataReceived(self, data: bytes) -> None:
        raise ZeroDivisionError("boom in dataReceived")


def test_dataReceivedExceptionClosesAndLogs(reactor: Any, run: Any) -> None:
    """An exception in dataReceived closes that connection, is logged, and is the reason."""
    with capturedLogs() as events:
        server, client = connectPair(reactor, run, server=Exploding)
        client.transport.write(b"trigger")
        reason = run(server.lost)
        assert reason.check(ZeroDivisionError)
        run(client.lost)
    assert any(e.get("log_failure") is not None or "boom" in str(formatEvent(e)) for e in events)


class RefusingFactory(ServerFactory):
    def buildProtocol(self, addr: Any) -> Any:
        return None


def test_buildProtocolNoneClosesConnection(reactor: Any, run: Any) -> None:
    """A server factory returning None from buildProtocol refuses (closes) the connection."""
    port = reactor.listenTCP(0, RefusingFactory(), interface="127.0.0.1")
    cf = Client()
    reactor.connectTCP("127.0.0.1", port.getHost().port, cf)
    client = run(cf.built)
    assert run(client.lost).check(error.ConnectionDone)


def test_connectionRefused(reactor: Any, run: Any) -> None:
    """Connecting to a closed port fails with ConnectionRefusedError, then stops the factory."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    portno = sock.getsockname()[1]
    sock.close()
    cf = Client()
    connector = reactor.connectTCP("127.0.0.1", portno, cf)
    assert connector.state == "connecting" and cf.started == 1
    reason = run(cf.failed)
    assert reason.check(error.ConnectionRefusedError)
    assert connector.state == "disconnected" and cf.numPorts == 0


def test_connectTimeout(reactor: Any, run: Any) -> None:
    """A connection attempt that does not complete within ``timeout`` fails with TimeoutError."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(4):  # fill the accept queue so further SYNs go unanswered
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(listener.getsockname())
        except BlockingIOError:
            pass
        fillers.append(s)
    try:
        cf = Client()
        reactor.connectTCP("127.0.0.1", listener.getsockname()[1], cf, timeout=0.3)
        assert run(cf.failed).check(error.TimeoutError)
    finally:
        for s in fillers:
            s.close()
        listener.close()


class FakeNameResolver:
    """An IHostnameResolver that knows no names."""

    def resolveHostName(self, receiver: Any, hostName: str, portNumber: int = 0,
                        addressTypes: Any = None, transportSemantics: str = "TCP") -> Any:
        receiver.resolutionBegan(None)
        receiver.resolutionComplete()
        return receiver


def test_unknownHostFailsWithDNSLookupError(reactor: Any, run: Any) -> None:
    """A host name the reactor's resolver cannot find fails with DNSLookupError."""
    reactor.installNameResolver(FakeNameResolver())
    cf = Client()
    reactor.connectTCP("no-such-host.invalid", 80, cf)
    assert run(cf.failed).check(error.DNSLookupError)


def test_stopConnectingGivesUserError(reactor: Any, run: Any) -> None:
    """stopConnecting abandons the attempt; the factory sees UserError."""
    cf = Client()
    connector = reactor.connectTCP("127.0.0.1", 9, cf)
    connector.stopConnecting()
    assert run(cf.failed).check(error.UserError)
    with pytest.raises(error.NotConnectingError):
        connector.stopConnecting()


def test_connectorLifecycle(reactor: Any, run: Any) -> None:
    """A connector is connecting, then connected, then disconnected with the reason."""
    sf = RecordingFactory()
    port = reactor.listenTCP(0, sf, interface="127.0.0.1")
    cf = Client()
    connector = reactor.connectTCP("127.0.0.1", port.getHost().port, cf)
    assert connector.getDestination() == IPv4Address("TCP", "127.0.0.1", port.getHost().port)
    client = run(cf.built)
    run(client.made)
    assert connector.state == "connected" and client.transport.connector is connector
    connector.disconnect()
    assert run(cf.lostConn).check(error.ConnectionDone)
    assert connector.state == "disconnected"


def test_bindAddress(reactor: Any, run: Any) -> None:
    """connectTCP's bindAddress sets the client's local address."""
    sf = RecordingFactory()
    port = reactor.listenTCP(0, sf, interface="127.0.0.1")
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    local = probe.getsockname()
    probe.close()
    cf = Client()
    reactor.connectTCP("127.0.0.1", port.getHost().port, cf, bindAddress=local)
    server = run(sf.built)
    run(server.made)
    assert server.transport.getPeer().port == local[1]


def test_socketOptions(reactor: Any, run: Any) -> None:
    """setTcpNoDelay and setTcpKeepAlive change what the getters report."""
    server, client = connectPair(reactor, run)
    t = client.transport
    t.setTcpNoDelay(False)
    assert t.getTcpNoDelay() is False
    t.setTcpNoDelay(True)
    assert t.getTcpNoDelay() is True
    t.setTcpKeepAlive(True)
    assert t.getTcpKeepAlive() is True
    t.setTcpKeepAlive(False)
    assert t.getTcpKeepAlive() is False


def test_startAndStopLogLinesAndFactoryCalls(reactor: Any, run: Any) -> None:
    """A port logs Twisted's start and close lines and calls doStart/doStop on its factory."""

    class EchoFactory(ServerFactory):
        protocol = Echo

    factory = EchoFactory()
    with capturedLogs() as events:
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        number = port.getHost().port
        assert factory.numPorts == 1
        run(port.stopListening())
    texts = [formatEvent(e) for e in events]
    assert f"EchoFactory starting on {number}" in texts
    assert f"(TCP Port {number} Closed)" in texts
    assert factory.numPorts == 0


def test_stopListeningFreesThePort(reactor: Any, run: Any) -> None:
    """Once stopListening's Deferred fires, the port can be bound again and refuses connects."""
    port = reactor.listenTCP(0, RecordingFactory(), interface="127.0.0.1")
    run(Deferred.fromCoroutine(_sleep(reactor, 0.01)))
    number = port.getHost().port
    run(port.stopListening())
    again = reactor.listenTCP(number, RecordingFactory(), interface="127.0.0.1")
    assert again.getHost().port == number


def test_reusePortLetsTwoPortsShareAnAddress(reactor: Any, run: Any) -> None:
    """listenTCP(reusePort=True) twice on one port succeeds and both ports accept."""
    first = RecordingFactory(Echo)
    port = reactor.listenTCP(0, first, interface="127.0.0.1", reusePort=True)
    number = port.getHost().port
    second = RecordingFactory(Echo)
    reactor.listenTCP(number, second, interface="127.0.0.1", reusePort=True)
    for _ in range(40):
        reactor.connectTCP("127.0.0.1", number, Client())
        if first.built.called and second.built.called:
            break
        run(Deferred.fromCoroutine(_sleep(reactor, 0.01)))
    assert first.built.called and second.built.called


def test_reusePortNeedsEverySharerToAsk(reactor: Any) -> None:
    """A port listening without reusePort cannot be shared by one that asks for it."""
    port = reactor.listenTCP(0, RecordingFactory(), interface="127.0.0.1")
    with pytest.raises(error.CannotListenError):
        reactor.listenTCP(
            port.getHost().port, RecordingFactory(), interface="127.0.0.1", reusePort=True
        )


async def _sleep(reactor: Any, seconds: float) -> None:
    d: Deferred[None] = Deferred()
    reactor.callLater(seconds, d.callback, None)
    await d


def test_stopListeningKeepsConnections(reactor: Any, run: Any) -> None:
    """Connections accepted before stopListening stay open."""
    sf = RecordingFactory(Echo)
    port = reactor.listenTCP(0, sf, interface="127.0.0.1")
    cf = Client()
    reactor.connectTCP("127.0.0.1", port.getHost().port, cf)
    client = run(cf.built)
    run(client.made)
    run(port.stopListening())
    client.expected = 4
    client.transport.write(b"ping")
    assert run(client.gotAll) == b"ping"


def test_pauseProducingStopsReading(reactor: Any, run: Any) -> None:
    """A paused transport delivers nothing until resumeProducing."""
    server, client = connectPair(reactor, run)
    server.transport.pauseProducing()
    client.transport.write(b"held")
    run(Deferred.fromCoroutine(_sleep(reactor, 0.05)))
    assert bytes(server.data) == b""
    server.expected = 4
    server.transport.resumeProducing()
    assert run(server.gotAll) == b"held"


class PausedAtStart(Recorder):
    """Pauses its transport in connectionMade, before anything could be read."""

    def connectionMade(self) -> None:
        self.transport.pauseProducing()
        super().connectionMade()


def _rawClientSending(port: Any, data: bytes, shutdown: bool = False) -> socket.socket:
    """Connect a plain socket that sends ``data`` at once (optionally followed by EOF)."""
    raw = socket.create_connection(("127.0.0.1", port.getHost().port))
    raw.sendall(data)
    if shutdown:
        raw.shutdown(socket.SHUT_WR)
    return raw


def test_pauseInConnectionMadeHolds(reactor: Any, run: Any) -> None:
    """A protocol that pauses in connectionMade receives nothing until it resumes."""
    sf = RecordingFactory(PausedAtStart)
    port = reactor.listenTCP(0, sf, interface="127.0.0.1")
    raw = _rawClientSending(port, b"early bytes")
    server = run(sf.built)
    run(server.made)
    run(Deferred.fromCoroutine(_sleep(reactor, 0.05)))
    assert bytes(server.data) == b""
    assert not server.transport._transport.is_reading()
    server.expected = 11
    server.transport.resumeProducing()
    assert run(server.gotAll) == b"early bytes"
    raw.close()


def test_pauseInConnectionMadeKeepsEOFForResume(reactor: Any, run: Any) -> None:
    """Data then EOF sent before a connectionMade pause is lifted arrive, in order, on resume."""
    sf = RecordingFactory(PausedAtStart)
    port = reactor.listenTCP(0, sf, interface="127.0.0.1")
    raw = _rawClientSending(port, b"all of it", shutdown=True)
    server = run(sf.built)
    run(server.made)
    run(Deferred.fromCoroutine(_sleep(reactor, 0.05)))
    assert bytes(server.data) == b"" and not server.lost.called
    server.transport.resumeProducing()
    reason = run(server.lost)
    assert bytes(server.data) == b"all of it"
    assert reason.check(error.ConnectionDone)
    raw.close()


def test_pauseInConnectionMadeThenSetProtocol(reactor: Any, run: Any) -> None:
    """Data held by a connectionMade pause goes to the protocol set before resuming."""
    sf = RecordingFactory(PausedAtStart)
    port = reactor.listenTCP(0, sf, interface="127.0.0.1")
    raw = _rawClientSending(port, b"upgrade")
    server = run(sf.built)
    run(server.made)
    run(Deferred.fromCoroutine(_sleep(reactor, 0.05)))
    successor = Recorder()
    successor.expected = 7
    server.transport.setProtocol(successor)
    server.transport.resumeProducing()
    assert run(successor.gotAll) == b"upgrade"
    assert bytes(server.data) == b""
    raw.close()


class StreamingSource:
    """A push producer writing 64 KiB chunks while not paused; tracks the largest buffer."""

    def __init__(self, reactor: Any, transport: Any, total: int) -> None:
        self.reactor = reactor
        self.transport = transport
        self.paused = False
        self.pauses = 0
        self.left = total
        self.maxBuffered = 0
        self.stopped = False

    def pump(self) -> None:
        if self.paused or self.stopped:
            return
        if self.left <= 0:
            self.transport.unregisterProducer()
            self.transport.loseConnection()
            return
        self.transport.write(b"z" * 65536)
        self.left -= 65536
        buffered = self.transport._transport.get_write_buffer_size()
        self.maxBuffered = max(self.maxBuffered, buffered)
        self.reactor.callLater(0, self.pump)

    def pauseProducing(self) -> None:
        self.paused = True
        self.pauses += 1

    def resumeProducing(self) -> None:
        self.paused = False
        self.pump()

    def stopProducing(self) -> None:
        self.stopped = True


def test_streamingProducerIsPausedByBackpressure(reactor: Any, run: Any) -> None:
    """A peer that stops reading pauses a streaming producer: the buffer stays bounded."""
    server, client = connectPair(reactor, run)
    client.transport.pauseProducing()
    source = StreamingSource(reactor, server.transport, 64 * 1024 * 1024)
    server.transport.registerProducer(source, True)
    source.pump()
    # Until paused (or half the data is out, or 10 s): a loaded machine fills the socket
    # buffers slower than a fixed wait assumes.
    deadline = time.monotonic() + 10
    while not source.paused and source.left > 32 * 1024 * 1024 and time.monotonic() < deadline:
        run(Deferred.fromCoroutine(_sleep(reactor, 0.02)))
    assert source.paused and source.pauses >= 1
    assert source.maxBuffered <= 2 * 65536 + 65536
    assert source.left > 32 * 1024 * 1024
    source.left = 65536 * 4
    client.transport.resumeProducing()
    assert run(client.lost).check(error.ConnectionDone)


class PullSource:
    """A pull producer writing one chunk per resumeProducing, then unregistering."""

    def __init__(self, transport: Any, chunks: int) -> None:
        self.transport = transport
        self.left = chunks
        self.calls = 0

    def resumeProducing(self) -> None:
        self.calls += 1
        if self.left == 0:
            self.transport.unregisterProducer()
            self.transport.loseConnection()
            return
        self.left -= 1
        self.transport.write(b"p" * 100_000)

    def stopProducing(self) -> None:
        pass


def test_pullProducerIsAskedUntilDone(reactor: Any, run: Any) -> None:
    """A pull producer is asked for data each time the buffer drains, until it unregisters."""
    server, client = connectPair(reactor, run)
    source = PullSource(server.transport, 30)
    server.transport.registerProducer(source, False)
    assert run(client.lost).check(error.ConnectionDone)
    assert len(client.data) == 3_000_000 and source.calls == 31


def test_loseConnectionWaitsForPullProducer(reactor: Any, run: Any) -> None:
    """loseConnection with a pull producer registered closes only after it unregisters."""
    server, client = connectPair(reactor, run)
    source = PullSource(server.transport, 5)
    server.transport.registerProducer(source, False)
    server.transport.loseConnection()
    assert run(client.lost).check(error.ConnectionDone)
    assert len(client.data) == 500_000


def test_producerStoppedWhenConnectionLost(reactor: Any, run: Any) -> None:
    """A registered producer gets stopProducing when the connection goes away."""
    server, client = connectPair(reactor, run)
    source = StreamingSource(reactor, server.transport, 0)
    server.transport.registerProducer(source, True)
    client.transport.loseConnection()
    run(server.lost)
    assert source.stopped


@needsIPv6Loopback()
def test_ipv6RoundTrip(reactor: Any, run: Any) -> None:
    """listenTCP on ::1 and connectTCP to it work, with IPv6Address on both ends."""
    sf = RecordingFactory(Echo)
    port = reactor.listenTCP(0, sf, interface="::1")
    assert isinstance(port.getHost(), IPv6Address)
    cf = Client()
    reactor.connectTCP("::1", port.getHost().port, cf)
    client = run(cf.built)
    run(client.made)
    assert isinstance(client.transport.getPeer(), IPv6Address)
    client.expected = 2
    client.transport.write(b"v6")
    assert run(client.gotAll) == b"v6"


def test_connectTCPBeforeRunConnectsWhenRunning(reactor: Any, run: Any) -> None:
    """connectTCP may be called before run(); the attempt proceeds once the reactor runs."""
    sf = RecordingFactory(Echo)
    port = reactor.listenTCP(0, sf, interface="127.0.0.1")
    cf = Client()
    connector = reactor.connectTCP("localhost", port.getHost().port, cf)
    assert connector.state == "connecting"
    client = run(cf.built)
    assert isinstance(client, Recorder)


# Running out of descriptors at accept (EMFILE) is covered, on both engines, by
# tests/safety/test_accept_exhaustion.py.


def test_connectionMadeExceptionClosesConnection(reactor: Any, run: Any) -> None:
    """An exception in connectionMade is logged and closes that connection only."""

    class BadStart(Recorder):
        def connectionMade(self) -> None:
            raise ValueError("bad start")

    sf = RecordingFactory(BadStart)
    port = reactor.listenTCP(0, sf, interface="127.0.0.1")
    cf = Client()
    reactor.connectTCP("127.0.0.1", port.getHost().port, cf)
    client = run(cf.built)
    assert run(client.lost).check(error.ConnectionClosed)
    server = sf.instances[0]
    assert run(server.lost).check(error.ConnectionAborted)



class IdlePull:
    """A pull producer that writes nothing: it must not be asked again and again."""

    def __init__(self) -> None:
        self.calls = 0

    def resumeProducing(self) -> None:
        self.calls += 1

    def stopProducing(self) -> None:
        pass


def test_idlePullProducerIsNotPolled(reactor: Any, run: Any) -> None:
    """A pull producer that produced nothing is not called again (no busy loop)."""
    server, client = connectPair(reactor, run)
    source = IdlePull()
    server.transport.registerProducer(source, False)
    run(Deferred.fromCoroutine(_sleep(reactor, 0.05)))
    assert source.calls == 1


def test_secondProducerIsRefused(reactor: Any, run: Any) -> None:
    """Registering a producer while another is registered raises RuntimeError."""
    server, client = connectPair(reactor, run)
    server.transport.registerProducer(IdlePull(), True)
    with pytest.raises(RuntimeError):
        server.transport.registerProducer(IdlePull(), True)


def test_producerOnClosedConnectionIsStopped(reactor: Any, run: Any) -> None:
    """Registering a producer on a closed connection stops the producer at once."""
    server, client = connectPair(reactor, run)
    client.transport.loseConnection()
    run(server.lost)
    source = StreamingSource(reactor, server.transport, 0)
    server.transport.registerProducer(source, True)
    assert source.stopped


def test_factoryRetryFromClientConnectionFailed(reactor: Any, run: Any) -> None:
    """A factory calling connector.connect() from clientConnectionFailed retries; no doStop."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    portno = sock.getsockname()[1]
    sock.close()
    stops: list[int] = []

    class Retrying(Client):
        def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
            reactor.listenTCP(portno, RecordingFactory(Echo), interface="127.0.0.1")
            connector.connect()

        def stopFactory(self) -> None:
            stops.append(1)

    cf = Retrying()
    connector = reactor.connectTCP("127.0.0.1", portno, cf)
    client = run(cf.built)
    run(client.made)
    assert connector.state == "connected" and cf.started == 2 and cf.numPorts == 1
    assert stops == []


def test_stopListeningBeforeRunFiresAtOnce(reactor: Any) -> None:
    """stopListening on a port whose reactor never ran closes it and fires synchronously."""
    factory = RecordingFactory()
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    fired: list[object] = []
    port.stopListening().addCallback(fired.append)
    assert fired == [None] and factory.numPorts == 0


# -- IReactorSocket: adopting sockets made elsewhere --------------------------------------------


def test_adoptStreamPortServesAListeningSocket(reactor: Any, run: Any) -> None:
    """A listening socket made by the caller serves the factory once adopted."""
    made = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    made.bind(("127.0.0.1", 0))
    made.listen(5)
    port = reactor.adoptStreamPort(made.fileno(), socket.AF_INET, RecordingFactory(Echo))
    number = made.getsockname()[1]
    made.close()
    assert port.getHost() == IPv4Address("TCP", "127.0.0.1", number)
    cf = Client()
    reactor.connectTCP("127.0.0.1", number, cf)
    client = run(cf.built)
    run(client.made)
    client.expected = 7
    client.transport.write(b"adopted")
    assert run(client.gotAll) == b"adopted"


def test_adoptStreamPortLeavesTheCallersDescriptorOpen(reactor: Any, run: Any) -> None:
    """The adopted descriptor is a duplicate: stopping the port leaves the original open."""
    made = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    made.bind(("127.0.0.1", 0))
    made.listen(5)
    port = reactor.adoptStreamPort(made.fileno(), socket.AF_INET, RecordingFactory())
    run(port.stopListening())
    assert made.getsockname()[1] > 0
    assert made.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN) == 1
    made.close()


def test_adoptStreamConnectionTakesOverAConnectedSocket(reactor: Any, run: Any) -> None:
    """A connected socket, once adopted, gets a protocol from the factory with its peer."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    outside = socket.create_connection(listener.getsockname())
    accepted, _ = listener.accept()
    listener.close()
    sf = RecordingFactory(Echo)
    assert reactor.adoptStreamConnection(accepted.fileno(), socket.AF_INET, sf) is None
    accepted.close()
    run(sf.built)
    assert sf.addr == IPv4Address("TCP", "127.0.0.1", outside.getsockname()[1])
    outside.sendall(b"over")
    outside.settimeout(5)
    got = b""
    while len(got) < 4:
        run(Deferred.fromCoroutine(_sleep(reactor, 0.01)))
        try:
            got += outside.recv(16, socket.MSG_DONTWAIT)
        except BlockingIOError:
            pass
    assert got == b"over"
    outside.close()


def test_adoptUnsupportedFamilyRaises(reactor: Any) -> None:
    """Adopting a stream socket of a family other than IPv4/IPv6/UNIX is refused."""
    with pytest.raises(error.UnsupportedAddressFamily):
        reactor.adoptStreamPort(0, socket.AF_PACKET, RecordingFactory())


def test_adoptNonSocketIsAnError(reactor: Any, tmp_path: Any) -> None:
    """A descriptor that is not a stream socket is refused with an error, not adopted."""
    with open(tmp_path / "f", "wb") as f, pytest.raises((OSError, ValueError)):
        reactor.adoptStreamConnection(f.fileno(), socket.AF_INET, RecordingFactory())
