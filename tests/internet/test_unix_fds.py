"""Passing file descriptors (SCM_RIGHTS) over torsion's UNIX connections, on both engines.

A connection whose protocol has ``fileDescriptorReceived`` runs on torsion's own
descriptor-passing transport; these tests drive it over real UNIX sockets and check the
descriptors, their ordering in the byte stream, and the ordinary transport behaviour
(closing, aborting, half-close, flow control) that the loop's transports would otherwise give.
"""

from __future__ import annotations

import os
import socket
from typing import Any

import pytest
from transporthelpers import Client, Held, RecordingFactory

from torsion.internet import error
from torsion.internet.defer import Deferred
from torsion.internet.interfaces import IUNIXTransport
from torsion.internet.protocol import Protocol
from torsion.logger import capturedLogs, formatEvent


class FDRecorder(Protocol):
    """Records data and descriptors, and how many bytes had arrived when each descriptor did."""

    def __init__(self) -> None:
        self.data = bytearray()
        self.fds: list[int] = []
        self.fdOffsets: list[int] = []
        self.chunks: list[bytes] = []
        self.made: Deferred[FDRecorder] = Deferred()
        self.lost: Deferred[Any] = Deferred()
        self.expected = 0
        self.gotAll: Deferred[bytes] = Deferred()
        self.fdWaiters: list[tuple[int, Deferred[list[int]]]] = []

    def connectionMade(self) -> None:
        self.made.callback(self)

    def fileDescriptorReceived(self, descriptor: int) -> None:
        self.fds.append(descriptor)
        self.fdOffsets.append(len(self.data))
        for count, d in list(self.fdWaiters):
            if len(self.fds) >= count and not d.called:
                d.callback(self.fds)

    def waitForDescriptors(self, count: int) -> Deferred[list[int]]:
        d: Deferred[list[int]] = Deferred()
        self.fdWaiters.append((count, d))
        if len(self.fds) >= count:
            d.callback(self.fds)
        return d

    def dataReceived(self, data: bytes) -> None:
        self.chunks.append(data)
        self.data += data
        if self.expected and len(self.data) >= self.expected and not self.gotAll.called:
            self.gotAll.callback(bytes(self.data))

    def connectionLost(self, reason: Any = None) -> None:
        for fd in self.fds:
            try:
                os.close(fd)
            except OSError:
                pass
        self.lost.callback(Held(reason))


class Plain(Protocol):
    """A protocol that does not receive descriptors (runs on the loop's transport)."""

    def __init__(self) -> None:
        self.made: Deferred[Plain] = Deferred()
        self.lost: Deferred[Any] = Deferred()
        self.data = bytearray()

    def connectionMade(self) -> None:
        self.made.callback(self)

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason: Any = None) -> None:
        self.lost.callback(Held(reason))


def _pair(reactor: Any, run: Any, tmp_path: Any, server: Any = FDRecorder,
          client: Any = FDRecorder) -> tuple[Any, Any]:
    """A connected (server protocol, client protocol) over a UNIX socket in tmp_path."""
    path = str(tmp_path / "fd.sock")
    sf = RecordingFactory(server)
    reactor.listenUNIX(path, sf)
    cf = Client(client)
    reactor.connectUNIX(path, cf)
    c = run(cf.built)
    run(c.made)
    s = run(sf.built)
    run(s.made)
    return s, c


def _pipe() -> tuple[int, int]:
    r, w = os.pipe()
    return r, w


def test_descriptorReachesReceiver(reactor: Any, run: Any, tmp_path: Any) -> None:
    """A descriptor sent with a byte arrives as a working descriptor for the same pipe."""
    server, client = _pair(reactor, run, tmp_path)
    assert isinstance(client.transport, IUNIXTransport)
    r, w = _pipe()
    try:
        client.transport.sendFileDescriptor(w)
        client.transport.write(b"x")
        (received,) = run(server.waitForDescriptors(1))
        assert received not in (r, w)
        os.write(received, b"through the passed descriptor")
        assert os.read(r, 100) == b"through the passed descriptor"
        assert not os.get_inheritable(received)
    finally:
        os.close(r)
        os.close(w)


def test_descriptorTravelsWithTheNextByteWritten(reactor: Any, run: Any, tmp_path: Any) -> None:
    """Queued behind a full socket, a descriptor still goes with the byte written after it.

    The receiver gets it just before the data chunk that ends with that byte, never later.
    """
    server, client = _pair(reactor, run, tmp_path)
    big = 4 * 1024 * 1024  # more than the socket buffers: most of it waits in the transport
    r, w = _pipe()
    try:
        client.transport.write(b"A" * big)
        assert client.transport._transport.get_write_buffer_size() > 0
        client.transport.sendFileDescriptor(r)
        client.transport.write(b"B" + b"C" * 10)
        client.transport.sendFileDescriptor(w)
        client.transport.write(b"D")
        server.expected = big + 12
        run(server.gotAll)
        assert server.fdOffsets[0] <= big and server.fdOffsets[1] <= big + 11
        assert len(server.fds) == 2
        # The chunk delivered right after each descriptor ends with its byte.
        ends = []
        offset = 0
        for chunk in server.chunks:
            offset += len(chunk)
            ends.append(offset)
        for fdOffset, byteOffset in zip(server.fdOffsets, [big, big + 11], strict=True):
            following = next(end for end in ends if end > fdOffset)
            assert following == byteOffset + 1
    finally:
        os.close(r)
        os.close(w)


def test_senderMayCloseItsCopyAtOnce(reactor: Any, run: Any, tmp_path: Any) -> None:
    """sendFileDescriptor duplicates: closing the original right after does not matter."""
    server, client = _pair(reactor, run, tmp_path)
    r, w = _pipe()
    try:
        client.transport.sendFileDescriptor(w)
        os.close(w)
        client.transport.write(b"x")
        (received,) = run(server.waitForDescriptors(1))
        os.write(received, b"ok")
        assert os.read(r, 10) == b"ok"
    finally:
        os.close(r)


def test_bothDirections(reactor: Any, run: Any, tmp_path: Any) -> None:
    """The server side can send descriptors to the client too."""
    server, client = _pair(reactor, run, tmp_path)
    r, w = _pipe()
    try:
        server.transport.sendFileDescriptor(r)
        server.transport.write(b"y")
        (received,) = run(client.waitForDescriptors(1))
        os.write(w, b"back")
        assert os.read(received, 10) == b"back"
    finally:
        os.close(r)
        os.close(w)


def test_plainProtocolStaysOnLoopTransportAndCannotSend(
    reactor: Any, run: Any, tmp_path: Any
) -> None:
    """Without fileDescriptorReceived the loop's transport is kept; sending says why not."""
    server, client = _pair(reactor, run, tmp_path, server=Plain, client=Plain)
    assert type(client.transport._transport).__module__ != "torsion.internet._unix"
    with pytest.raises(NotImplementedError, match="fileDescriptorReceived"):
        client.transport.sendFileDescriptor(0)


def test_badDescriptorsAreRejected(reactor: Any, run: Any, tmp_path: Any) -> None:
    """A non-int is a TypeError; a closed descriptor is EBADF, raised to the caller."""
    server, client = _pair(reactor, run, tmp_path)
    with pytest.raises(TypeError, match="descriptor must be an int"):
        client.transport.sendFileDescriptor("3")
    r, w = _pipe()
    os.close(r)
    os.close(w)
    with pytest.raises(OSError):
        client.transport.sendFileDescriptor(r)


def test_pendingDescriptorsAreBounded(reactor: Any, run: Any, tmp_path: Any) -> None:
    """Descriptors waiting for their byte are bounded; the next one is a clear error."""
    server, client = _pair(reactor, run, tmp_path)
    r, w = _pipe()
    try:
        limit = client.transport._transport.maxPendingDescriptors
        for _ in range(limit):
            client.transport.sendFileDescriptor(r)
        with pytest.raises(RuntimeError, match="already waiting"):
            client.transport.sendFileDescriptor(r)
        client.transport.write(b"z" * limit)
        run(server.waitForDescriptors(limit))
    finally:
        os.close(r)
        os.close(w)


def test_nonReceiverGetsDescriptorsClosedAndLogged(
    reactor: Any, run: Any, tmp_path: Any
) -> None:
    """After a switch to a protocol that takes no descriptors, they are closed, with a log."""
    server, client = _pair(reactor, run, tmp_path)
    plain = Plain()
    server.transport.setProtocol(plain)
    plain.makeConnection(server.transport)
    r, w = _pipe()
    try:
        with capturedLogs() as events:
            client.transport.sendFileDescriptor(w)
            client.transport.write(b"x")
            client.transport.loseConnection()
            run(plain.lost)
        assert bytes(plain.data) == b"x"
        texts = [formatEvent(e) for e in events]
        assert any("does not receive descriptors; closing 1" in t for t in texts), texts
        os.close(w)
        w = -1
        assert os.read(r, 10) == b""  # no copy of the write end is left open anywhere
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_exceptionInFileDescriptorReceivedIsLoggedAndCloses(
    reactor: Any, run: Any, tmp_path: Any
) -> None:
    """fileDescriptorReceived raising is logged as Unhandled Error; the connection closes."""

    class Boom(FDRecorder):
        def fileDescriptorReceived(self, descriptor: int) -> None:
            os.close(descriptor)
            raise ValueError("boom")

    server, client = _pair(reactor, run, tmp_path, server=Boom)
    r, w = _pipe()
    try:
        with capturedLogs() as events:
            client.transport.sendFileDescriptor(w)
            client.transport.write(b"x")
            reason = run(server.lost)
        assert reason.check(ValueError)
        assert any(formatEvent(e).startswith("Unhandled Error") for e in events)
        assert run(client.lost).check(error.ConnectionDone)
    finally:
        os.close(r)
        os.close(w)


def test_loseConnectionSendsEverythingFirst(reactor: Any, run: Any, tmp_path: Any) -> None:
    """loseConnection after a large write: all bytes arrive, both sides see ConnectionDone."""
    server, client = _pair(reactor, run, tmp_path)
    payload = os.urandom(3 * 1024 * 1024)
    client.transport.write(payload)
    client.transport.loseConnection()
    assert run(server.lost).check(error.ConnectionDone)
    assert bytes(server.data) == payload
    assert run(client.lost).check(error.ConnectionDone)


def test_abortConnection(reactor: Any, run: Any, tmp_path: Any) -> None:
    """abortConnection drops buffered data: ConnectionAborted here, the peer sees the end."""
    server, client = _pair(reactor, run, tmp_path)
    client.transport.write(b"A" * 4 * 1024 * 1024)
    client.transport.abortConnection()
    assert run(client.lost).check(error.ConnectionAborted)
    run(server.lost)


def test_halfClose(reactor: Any, run: Any, tmp_path: Any) -> None:
    """loseWriteConnection sends EOF; a half-closeable peer hears readConnectionLost and
    can still answer."""

    class HalfCloser(FDRecorder):
        def readConnectionLost(self) -> None:
            self.transport.write(b"answer")
            self.transport.loseConnection()

    server, client = _pair(reactor, run, tmp_path, server=HalfCloser)
    client.transport.write(b"question")
    client.transport.loseWriteConnection()
    client.expected = 6
    assert run(client.gotAll) == b"answer"
    assert bytes(server.data) == b"question"
    run(client.lost)


def test_streamingProducerIsPausedAndResumed(reactor: Any, run: Any, tmp_path: Any) -> None:
    """A streaming producer is paused when the buffer passes its mark and resumed on drain."""

    class Producer:
        def __init__(self) -> None:
            self.events: list[str] = []
            self.resumed: Deferred[None] = Deferred()

        def pauseProducing(self) -> None:
            self.events.append("pause")

        def resumeProducing(self) -> None:
            self.events.append("resume")
            if not self.resumed.called:
                self.resumed.callback(None)

        def stopProducing(self) -> None:
            self.events.append("stop")

    server, client = _pair(reactor, run, tmp_path)
    producer = Producer()
    client.transport.registerProducer(producer, True)
    client.transport.write(b"A" * 4 * 1024 * 1024)
    assert producer.events == ["pause"]
    run(producer.resumed)
    assert producer.events == ["pause", "resume"]


def test_pauseProducingStopsReading(reactor: Any, run: Any, tmp_path: Any) -> None:
    """pauseProducing stops reading; resumeProducing delivers what waited in the socket."""
    server, client = _pair(reactor, run, tmp_path)
    server.transport.pauseProducing()
    assert not server.transport._transport.is_reading()
    client.transport.write(b"held")
    server.transport.resumeProducing()
    server.expected = 4
    assert run(server.gotAll) == b"held"


def test_peerClosingWithoutFdTransport(reactor: Any, run: Any, tmp_path: Any) -> None:
    """A plain (loop-transport) peer talks to a descriptor-passing one in both directions."""
    server, client = _pair(reactor, run, tmp_path, client=Plain)
    client.transport.write(b"hi")
    server.expected = 2
    assert run(server.gotAll) == b"hi"
    server.transport.write(b"yo")
    server.transport.loseConnection()
    run(server.lost)


def test_socketpairPeer(reactor: Any, run: Any, tmp_path: Any) -> None:
    """A raw socket peer's SCM_RIGHTS message reaches fileDescriptorReceived, then its data."""
    path = str(tmp_path / "raw.sock")
    sf = RecordingFactory(FDRecorder)
    reactor.listenUNIX(path, sf)
    raw = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    r, w = _pipe()
    try:
        raw.connect(path)
        socket.send_fds(raw, [b"with two"], [r, w])
        server = run(sf.built)
        server.expected = 8
        if not server.data:
            assert run(server.gotAll) == b"with two"
        assert bytes(server.data) == b"with two"
        assert server.fdOffsets == [0, 0]
        os.write(server.fds[1], b"!")
        assert os.read(server.fds[0], 1) == b"!"
    finally:
        raw.close()
        os.close(r)
        os.close(w)


def test_endpointsGiveDescriptorPassingConnections(reactor: Any, run: Any, tmp_path: Any) -> None:
    """Through UNIX endpoints (whose connect wrapper hands the connection on), a receiving
    protocol still gets a descriptor-passing connection, both sides."""
    from torsion.internet import endpoints

    path = str(tmp_path / "ep.sock")
    serverFactory = RecordingFactory(FDRecorder)
    run(endpoints.UNIXServerEndpoint(reactor, path).listen(serverFactory))
    client = run(endpoints.connectProtocol(endpoints.UNIXClientEndpoint(reactor, path),
                                           FDRecorder()))
    server = run(serverFactory.built)
    run(server.made)
    r, w = _pipe()
    try:
        client.transport.write(b"greeting")  # bytes before and after the descriptor
        client.transport.sendFileDescriptor(w)
        client.transport.write(b"!")
        (received,) = run(server.waitForDescriptors(1))
        os.write(received, b"via endpoints")
        assert os.read(r, 20) == b"via endpoints"
        server.transport.sendFileDescriptor(r)
        server.transport.write(b"?")
        (back,) = run(client.waitForDescriptors(1))
        os.write(w, b"and back")
        assert os.read(back, 20) == b"and back"
    finally:
        os.close(r)
        os.close(w)


def _waitUntil(reactor: Any, run: Any, condition: Any) -> None:
    """Wait (polling the reactor, no fixed sleep) until ``condition()`` is true."""
    done: Deferred[None] = Deferred()

    def check() -> None:
        if condition():
            done.callback(None)
        else:
            reactor.callLater(0.002, check)

    check()
    run(done)


def _waitForBytes(reactor: Any, run: Any, proto: FDRecorder, count: int) -> bytes:
    _waitUntil(reactor, run, lambda: len(proto.data) >= count)
    return bytes(proto.data)


def _pending(conn: Any) -> bool:
    """Whether the peer's bytes wait unread in ``conn``'s socket."""
    try:
        return bool(conn.getHandle().recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT))
    except BlockingIOError:
        return False


@pytest.mark.parametrize("normal", [True, False])
def test_startTLSSendsEarlierBytesAndDescriptorsFirst(
    reactor: Any, run: Any, tmp_path: Any, serverCert: Any, normal: bool
) -> None:
    """startTLS on descriptor-passing connections: what was written before it (several
    socket buffers' worth, and a descriptor) arrives in the clear and in order, what is
    written after it arrives encrypted, both ways; normal=False swaps the TLS roles.

    The TLS server side starts first: the TLS client sends its ClientHello at once, which
    the other side must not be reading as cleartext any more.
    """
    from torsion.internet.interfaces import ISSLTransport
    from torsion.internet.ssl import optionsForClientTLS

    server, client = _pair(reactor, run, tmp_path)
    # normal: the accepting side is the TLS server; swapped, the connecting side is.
    tlsServer, tlsClient = (server, client) if normal else (client, server)
    big = b"c" * (3 * 1024 * 1024)
    r, w = _pipe()
    try:
        tlsServer.transport.write(big)
        tlsServer.transport.sendFileDescriptor(w)
        tlsServer.transport.write(b"!")
        tlsServer.transport.startTLS(serverCert.options(), normal)
        tlsServer.transport.write(b"after, ")
        tlsServer.transport.writeSequence([b"encrypted"])
        assert tlsServer.transport.TLS and isinstance(tlsServer.transport, ISSLTransport)
        assert _waitForBytes(reactor, run, tlsClient, len(big) + 1) == big + b"!"
        (received,) = run(tlsClient.waitForDescriptors(1))
        # It came with the chunk that ends with its byte, "!": before the TLS bytes.
        (fdOffset,) = tlsClient.fdOffsets
        chunks = tlsClient.chunks
        ends = [sum(len(c) for c in chunks[:i + 1]) for i in range(len(chunks))]
        assert next(end for end in ends if end > fdOffset) == len(big) + 1
        os.write(received, b"passed before TLS")
        assert os.read(r, 100) == b"passed before TLS"
        tlsClient.transport.startTLS(optionsForClientTLS("localhost", serverCert), normal)
        tlsClient.transport.write(b"from the client, encrypted")
        assert _waitForBytes(reactor, run, tlsServer, 26) == b"from the client, encrypted"
        assert _waitForBytes(reactor, run, tlsClient, len(big) + 17)[len(big):] == (
            b"!after, encrypted")
        assert tlsClient.transport.getPeerCertificate() == serverCert
        assert tlsServer.transport.getPeerCertificate() is None
        client.transport.loseConnection()
        assert run(server.lost).check(error.ConnectionDone)
    finally:
        os.close(r)
        os.close(w)


def test_startTLSReadsPeerBytesWaitingInTheSocket(
    reactor: Any, run: Any, tmp_path: Any, serverCert: Any
) -> None:
    """A peer's ClientHello already waiting in the socket when startTLS is called (unread,
    because reading stopped) is read by the TLS layer, not lost."""
    from torsion.internet.ssl import optionsForClientTLS

    server, client = _pair(reactor, run, tmp_path)
    server.transport.pauseProducing()
    client.transport.startTLS(optionsForClientTLS("localhost", serverCert))
    client.transport.write(b"hello over TLS")
    _waitUntil(reactor, run, lambda: _pending(server.transport))
    assert server.data == b""
    server.transport.startTLS(serverCert.options())
    server.transport.write(b"welcome")
    assert _waitForBytes(reactor, run, server, 14) == b"hello over TLS"
    assert _waitForBytes(reactor, run, client, 7) == b"welcome"


def test_startTLSHandshakeFailureEndsConnection(
    reactor: Any, run: Any, tmp_path: Any, serverCert: Any
) -> None:
    """A failed handshake after the hand-over ends the connection with the TLS error."""
    import ssl

    from torsion.internet.ssl import optionsForClientTLS, selfSignedPair

    server, client = _pair(reactor, run, tmp_path)
    server.transport.write(b"plain")
    server.transport.startTLS(serverCert.options())
    assert _waitForBytes(reactor, run, client, 5) == b"plain"
    client.transport.startTLS(optionsForClientTLS("localhost", selfSignedPair("localhost")))
    client.transport.write(b"never sent")
    reason = run(client.lost)
    assert reason.check(ssl.SSLError)
    assert run(server.lost).check(ssl.SSLError, error.ConnectionClosed)
    assert server.data == b""


def test_abortDuringStartTLSHandshake(
    reactor: Any, run: Any, tmp_path: Any, serverCert: Any
) -> None:
    """abortConnection while the handed-over socket is handshaking ends it, aborted."""
    server, client = _pair(reactor, run, tmp_path)
    server.transport.startTLS(serverCert.options())
    _waitUntil(reactor, run, lambda: server.transport._transport._handedOver)
    server.transport.abortConnection()
    assert run(server.lost).check(error.ConnectionAborted)
    assert run(client.lost).check(error.ConnectionDone, error.ConnectionLost)


def test_descriptorsAfterStartTLS(
    reactor: Any, run: Any, tmp_path: Any, serverCert: Any
) -> None:
    """After startTLS, sendFileDescriptor is a clear error; a descriptor queued with no
    byte written after it is closed at the hand-over, with a warning."""
    server, client = _pair(reactor, run, tmp_path)
    r, w = _pipe()
    try:
        with capturedLogs() as events:
            server.transport.sendFileDescriptor(w)
            server.transport.startTLS(serverCert.options())
            with pytest.raises(NotImplementedError, match="runs TLS"):
                server.transport.sendFileDescriptor(w)
            os.close(w)
            w = -1
            _waitUntil(reactor, run, lambda: server.transport._transport._handedOver)
        assert os.read(r, 10) == b""  # the queued duplicate was closed: no writer left
        assert any("before startTLS" in formatEvent(e) for e in events)
        assert client.fds == []
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_startTLSOnAPlainUNIXConnection(
    reactor: Any, run: Any, tmp_path: Any, serverCert: Any
) -> None:
    """A UNIX connection on the loop's transport keeps the loop's startTLS; afterwards it
    refuses descriptors with the same clear error."""
    from torsion.internet.ssl import optionsForClientTLS

    server, client = _pair(reactor, run, tmp_path, server=Plain, client=Plain)
    server.transport.write(b"plain")
    server.transport.startTLS(serverCert.options())
    _waitUntil(reactor, run, lambda: client.data == b"plain")
    client.transport.startTLS(optionsForClientTLS("localhost", serverCert))
    client.transport.write(b"secret")
    _waitUntil(reactor, run, lambda: server.data == b"secret")
    with pytest.raises(NotImplementedError, match="runs TLS"):
        server.transport.sendFileDescriptor(0)


def test_descriptorReceiverInterfaceIsStructural() -> None:
    """IFileDescriptorReceiver (Twisted's name) matches a protocol with the method (AMP has
    it), not one without."""
    from torsion.internet.interfaces import IFileDescriptorReceiver
    from torsion.internet.protocol import Protocol
    from torsion.protocols.amp import AMP

    assert isinstance(AMP(), IFileDescriptorReceiver)
    assert not isinstance(Protocol(), IFileDescriptorReceiver)
