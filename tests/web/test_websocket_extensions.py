"""Tests of torsion.web.websocket's permessage-deflate (RFC 7692) and keepalive pings.

Units drive a protocol over a StringTransport with a wsproto peer and a task.Clock;
integration tests run torsion's client against its server over 127.0.0.1 (counting the
bytes that cross), hostile raw-socket peers, and headless Chromium.
"""

from __future__ import annotations

import base64
import hashlib
import re
import tracemalloc
import zlib
from typing import Any

import pytest
from headlesschromium import chromiumCommand, needsChromium
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from webrawclient import rawRequest
from wsproto import ConnectionType, WSConnection
from wsproto.connection import Connection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Request,
    TextMessage,
)
from wsproto.extensions import PerMessageDeflate
from wsrecorder import Recorder

from torsion.internet.defer import Deferred
from torsion.internet.task import Clock
from torsion.internet.testing import StringTransport
from torsion.logger import capturedLogs
from torsion.web import resource, server
from torsion.web.websocket import (
    HandshakeError,
    WebSocketClientFactory,
    WebSocketClientProtocol,
    WebSocketResource,
    WebSocketServerFactory,
    WebSocketServerProtocol,
    _parseExtensions,
    connectWebSocket,
)

BIG = ("All work and no play makes Jack a dull boy. " * 2400)[:100_000]  # 100 KB of text


def _deflatingPeer(connectionType: ConnectionType = ConnectionType.CLIENT) -> Connection:
    """A wsproto endpoint with permessage-deflate on (default parameters)."""
    ext = PerMessageDeflate()
    ext.finalize("permessage-deflate")
    return Connection(connectionType, extensions=[ext])


def _serverWithDeflate(
    offer: bytes = b"permessage-deflate; client_max_window_bits", maxMessageSize: int = 1 << 20,
) -> tuple[Any, StringTransport]:
    """A Recorder server protocol that negotiated deflate from `offer`, on a StringTransport."""
    proto = Recorder()
    proto.maxMessageSize = maxMessageSize
    assert proto._negotiate([offer]) is not None
    transport = StringTransport()
    proto.makeConnection(transport)
    return proto, transport


def _eventsFrom(peer: Any, transport: StringTransport) -> list[Any]:
    peer.receive_data(transport.value())
    transport.clear()
    return list(peer.events())


# -- parsing and negotiation ---------------------------------------------------------------


def test_extensionHeaderIsParsedWithQuotesAndEmptyElements() -> None:
    """Offers split at commas outside quotes; quoted values are unescaped; empty elements skip."""
    value = 'permessage-deflate; Client_Max_Window_Bits="1\\0", , x-webkit ;a=b;c'
    assert _parseExtensions(value) == [
        ("permessage-deflate", [("client_max_window_bits", "10")]),
        ("x-webkit", [("a", "b"), ("c", None)]),
    ]


@pytest.mark.parametrize("value", [
    "permessage-deflate;", "permessage-deflate; =1", ";;;", "a b", 'x; y="open',
    "permessage-deflate; client_max_window_bits=1 5", "\u00e9", "permessage-deflate\n",
])
def test_malformedExtensionHeaderDoesNotParse(value: str) -> None:
    """A header outside RFC 6455 §9.1's grammar raises ValueError rather than half-parsing."""
    with pytest.raises(ValueError):
        _parseExtensions(value)


@pytest.mark.parametrize(("offer", "answer"), [
    (b"permessage-deflate; client_max_window_bits", b"permessage-deflate"),
    (b"permessage-deflate", b"permessage-deflate"),
    (b"permessage-deflate; server_no_context_takeover; server_max_window_bits=10",
     b"permessage-deflate; server_no_context_takeover; server_max_window_bits=10"),
    (b"permessage-deflate; client_no_context_takeover",
     b"permessage-deflate; client_no_context_takeover"),
    (b"x-unknown, permessage-deflate; server_max_window_bits=8, permessage-deflate",
     b"permessage-deflate"),
])
def test_serverAcceptsTheFirstAcceptableOffer(offer: bytes, answer: bytes) -> None:
    """The server answers the first deflate offer it can honour (RFC 7692 §5), in its terms."""
    proto = WebSocketServerProtocol()
    assert proto._negotiate([offer]) == answer
    assert proto._deflate is not None


@pytest.mark.parametrize("offer", [
    b"permessage-deflate; server_max_window_bits=abc",
    b"permessage-deflate; server_max_window_bits=16",
    b"permessage-deflate; server_max_window_bits=7",
    b"permessage-deflate; server_max_window_bits=010",
    b"permessage-deflate; server_max_window_bits",
    b"permessage-deflate; client_max_window_bits=99999999999999999999",
    b"permessage-deflate; server_no_context_takeover=1",
    b"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    b"permessage-deflate; foo=bar",
    b"permessage-deflate; client_max_window_bits=\xff",
    b"permessage-deflate;;",
    b'permessage-deflate; client_max_window_bits="1,5"',
    b"Permessage-Deflate",
    b"x-webkit-deflate-frame",
])
def test_badOfferIsDeclined(offer: bytes) -> None:
    """A malformed or unacceptable offer is declined: no extension, no exception."""
    proto = WebSocketServerProtocol()
    assert proto._negotiate([offer]) is None
    assert proto.extensionsInUse == ()


_fuzz = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_headerish = st.lists(st.sampled_from([
    "permessage-deflate", "x-y", ";", ",", "=", " ", '"', "\\", "15", "8", "abc", "\xff",
    "server_max_window_bits", "client_max_window_bits", "server_no_context_takeover",
    "client_no_context_takeover",
]), max_size=20).map("".join)


@_fuzz
@given(_headerish)
def test_anyOfferIsAcceptedOrDeclinedNeverRaises(value: str) -> None:
    """Whatever the Sec-WebSocket-Extensions text, negotiation answers or declines."""
    proto = WebSocketServerProtocol()
    answer = proto._negotiate([value.encode("utf-8")])
    assert answer is None or answer.startswith(b"permessage-deflate")


@_fuzz
@given(_headerish)
def test_anyAnswerOpensOrFailsTheHandshake(value: str) -> None:
    """Whatever extensions the server claims, the client opens or fails with HandshakeError."""
    proto, transport, opened = _clientOnStringTransport()
    proto.dataReceived(_rawAnswer(transport.value(), value.encode("utf-8")))
    outcome: list[Any] = []
    opened.addBoth(outcome.append)
    assert outcome == [proto] or outcome[0].check(HandshakeError)


@_fuzz
@given(st.lists(st.tuples(st.sampled_from([0x00, 0x01, 0x02, 0x40, 0x41, 0x42, 0x80, 0xc1,
                                           0xc2, 0x89, 0x8a, 0xc9]),
                          st.binary(max_size=200)), min_size=1, max_size=6))
def test_deflatingServerSurvivesAnyFrames(frames: list[tuple[int, bytes]]) -> None:
    """A deflate-negotiated server fed frames with random headers and bodies never raises."""
    proto, transport = _serverWithDeflate()
    with capturedLogs():
        for first, body in frames:
            proto.dataReceived(_maskedFrame(first, body))


def test_serverWithDeflateOffDeclines() -> None:
    """A factory built with perMessageDeflate=False gives protocols that decline the offer."""
    proto = WebSocketServerFactory(perMessageDeflate=False).buildProtocol(None)
    assert isinstance(proto, WebSocketServerProtocol)
    assert proto._negotiate([b"permessage-deflate"]) is None


def test_factoryOptionsReachTheProtocols() -> None:
    """Both factories copy their deflate and keepalive options onto what they build."""
    server_ = WebSocketServerFactory(keepaliveInterval=5, keepaliveTimeout=None)
    client = WebSocketClientFactory("ws://h/", perMessageDeflate=False, keepaliveInterval=None)
    builtServer = server_.buildProtocol(None)
    builtClient = client.buildProtocol(None)
    assert isinstance(builtServer, WebSocketServerProtocol)
    assert isinstance(builtClient, WebSocketClientProtocol)
    assert (builtServer.keepaliveInterval, builtServer.keepaliveTimeout) == (5, None)
    assert (builtClient.perMessageDeflate, builtClient.keepaliveInterval) == (False, None)


# -- compressed frames and the zip-bomb bound ------------------------------------------------


def test_compressedMessagesBothWays() -> None:
    """A deflated message is inflated for onMessage, and what the server sends is deflated."""
    proto, transport = _serverWithDeflate()
    peer = _deflatingPeer()
    wire = peer.send(TextMessage(data=BIG))
    assert len(wire) < 5000
    proto.dataReceived(wire)
    assert proto.messages == [(BIG.encode(), False)]
    proto.sendMessage(BIG)
    assert len(transport.value()) < 5000
    events = _eventsFrom(peer, transport)
    assert [e.data for e in events] == [BIG]


def test_zipBombIsCutAt1009WithoutInflatingIt() -> None:
    """64 MiB deflated into one 64 KB frame closes with 1009; memory stays near the limit."""
    proto, transport = _serverWithDeflate(maxMessageSize=1 << 20)
    bomb = _deflatingPeer().send(BytesMessage(data=bytes(64 << 20)))
    assert len(bomb) < 100_000
    tracemalloc.start()
    try:
        with capturedLogs():
            proto.dataReceived(bytes(bomb))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    peer = Connection(ConnectionType.CLIENT)
    closes = [e for e in _eventsFrom(peer, transport) if isinstance(e, CloseConnection)]
    assert [c.code for c in closes] == [1009]
    assert proto.messages == []
    assert transport.disconnecting
    assert peak < 8 << 20, peak


def _maskedFrame(first: int, payload: bytes) -> bytes:
    """A client frame: `first` is FIN/RSV/opcode; the zero mask leaves `payload` as is."""
    n = len(payload)
    length = bytes([0x80 | n]) if n < 126 else (
        b"\xfe" + n.to_bytes(2, "big") if n < 65536 else b"\xff" + n.to_bytes(8, "big"))
    return bytes([first]) + length + b"\x00\x00\x00\x00" + payload


def test_zipBombAcrossFragmentsIsCut() -> None:
    """The bound is per message: many small deflated fragments cannot add up past it."""
    proto, transport = _serverWithDeflate(maxMessageSize=1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    with capturedLogs():
        for i in range(40):
            if transport.disconnecting:
                break
            piece = compressor.compress(bytes(64 << 10)) + compressor.flush(zlib.Z_SYNC_FLUSH)
            # The first frame is binary with RSV1 (compressed); the rest continue it.
            proto.dataReceived(_maskedFrame(0x42 if i == 0 else 0x00, piece))
    assert i == 17  # the 17th fragment (17 x 64 KiB > 1 MiB) was the last taken
    closes = [e for e in _eventsFrom(Connection(ConnectionType.CLIENT), transport)
              if isinstance(e, CloseConnection)]
    assert [c.code for c in closes] == [1009]
    assert proto.messages == []


def test_messageOfExactlyTheLimitInflates() -> None:
    """A deflated message of exactly maxMessageSize is delivered; one byte more is not."""
    proto, _ = _serverWithDeflate(maxMessageSize=100_000)
    peer = _deflatingPeer()
    proto.dataReceived(peer.send(BytesMessage(data=b"a" * 100_000)))
    assert proto.messages == [(b"a" * 100_000, True)]
    with capturedLogs():
        proto.dataReceived(peer.send(BytesMessage(data=b"a" * 100_001)))
    assert len(proto.messages) == 1


def test_corruptDeflateDataClosesWith1007() -> None:
    """A compressed frame that is not deflate data fails the connection with 1007."""
    proto, transport = _serverWithDeflate()
    # FIN + RSV1 + binary, masked, 4 bytes of payload under a zero mask.
    with capturedLogs():
        proto.dataReceived(b"\xc2\x84\x00\x00\x00\x00\xff\xff\xff\xff")
    closes = [e for e in _eventsFrom(Connection(ConnectionType.CLIENT), transport)
              if isinstance(e, CloseConnection)]
    assert [c.code for c in closes] == [1007]
    assert transport.disconnecting


def test_compressedFrameWithoutNegotiationIsProtocolError() -> None:
    """RSV1 without negotiated deflate is a protocol error (RFC 6455 §5.2): 1002."""
    proto = Recorder()
    transport = StringTransport()
    proto.makeConnection(transport)
    with capturedLogs():
        proto.dataReceived(bytes(_deflatingPeer().send(TextMessage(data="hi"))))
    closes = [e for e in _eventsFrom(Connection(ConnectionType.CLIENT), transport)
              if isinstance(e, CloseConnection)]
    assert [c.code for c in closes] == [1002]
    assert proto.messages == []


# -- the client's side of the negotiation ------------------------------------------------------


def _clientOnStringTransport(**options: Any) -> tuple[WebSocketClientProtocol,
                                                      StringTransport, Deferred[Any]]:
    factory = WebSocketClientFactory("ws://example.com/chat", reactor=Clock(), **options)
    opened: Deferred[Any] = Deferred()
    factory._opened = opened
    proto = factory.buildProtocol(None)
    assert isinstance(proto, WebSocketClientProtocol)
    transport = StringTransport()
    proto.makeConnection(transport)
    return proto, transport, opened


def _rawAnswer(request: bytes, extensions: bytes | None) -> bytes:
    """A 101 answer to `request` (a client handshake) with `extensions` as the header."""
    match = re.search(rb"Sec-WebSocket-Key: (\S+)", request)
    assert match is not None
    accept = base64.b64encode(hashlib.sha1(
        match.group(1) + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    answer = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n")
    if extensions is not None:
        answer += b"Sec-WebSocket-Extensions: " + extensions + b"\r\n"
    return answer + b"\r\n"


def test_clientOffersDeflateAndUsesWhatTheServerAccepts() -> None:
    """The client offers deflate like a browser and compresses once a wsproto server accepts."""
    proto, transport, opened = _clientOnStringTransport()
    assert b"Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n" \
        in transport.value()
    peer = WSConnection(ConnectionType.SERVER)
    peer.receive_data(transport.value())
    transport.clear()
    request = next(e for e in peer.events() if isinstance(e, Request))
    proto.dataReceived(peer.send(AcceptConnection(extensions=[PerMessageDeflate()])))
    assert request.extensions == ["permessage-deflate; client_max_window_bits"]
    assert opened.called and proto.extensionsInUse == ("permessage-deflate",)
    proto.sendMessage(BIG)
    assert len(transport.value()) < 5000
    assert [e.data for e in _eventsFrom(peer, transport)] == [BIG]


def test_clientWithDeflateOffDoesNotOffer() -> None:
    """perMessageDeflate=False sends no Sec-WebSocket-Extensions header."""
    _, transport, _ = _clientOnStringTransport(perMessageDeflate=False)
    assert b"sec-websocket-extensions" not in transport.value().lower()


@pytest.mark.parametrize("answer", [
    b"permessage-deflate; client_max_window_bits",
    b"permessage-deflate; server_max_window_bits=abc",
    b"permessage-deflate; server_max_window_bits",
    b"permessage-deflate; client_max_window_bits=8",
    b"permessage-deflate; mystery",
    b"permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    b"permessage-deflate, permessage-deflate",
    b"permessage-deflate;",
    b"x-unknown",
    b"permessage-deflate; client_max_window_bits=\xff",
])
def test_badServerAnswerFailsTheHandshakeCleanly(answer: bytes) -> None:
    """An answer RFC 7692 §5.1 says to fail on gives HandshakeError and drops the connection."""
    proto, transport, opened = _clientOnStringTransport()
    proto.dataReceived(_rawAnswer(transport.value(), answer))
    assert transport.disconnecting
    failures: list[Any] = []
    opened.addErrback(failures.append)
    assert failures and failures[0].check(HandshakeError)


def test_deflateAcceptedThoughNotOfferedFails() -> None:
    """A server that turns on deflate when the client did not offer it fails the handshake."""
    proto, transport, opened = _clientOnStringTransport(perMessageDeflate=False)
    proto.dataReceived(_rawAnswer(transport.value(), b"permessage-deflate"))
    failures: list[Any] = []
    opened.addErrback(failures.append)
    assert failures and failures[0].check(HandshakeError)


# -- keepalive ----------------------------------------------------------------------------------


def _serverOnClock(**options: Any) -> tuple[Recorder, StringTransport, Clock]:
    clock = Clock()
    proto = Recorder()
    for name, value in options.items():
        setattr(proto, name, value)
    proto._reactor = clock
    transport = StringTransport()
    proto.makeConnection(transport)
    return proto, transport, clock


def _pings(peer: Any, transport: StringTransport) -> list[Ping]:
    return [e for e in _eventsFrom(peer, transport) if isinstance(e, Ping)]


def test_keepalivePingIsSentAtTheInterval() -> None:
    """No ping before keepaliveInterval (20 s by default); one when it has passed."""
    _, transport, clock = _serverOnClock()
    peer = Connection(ConnectionType.CLIENT)
    clock.advance(19.9)
    assert transport.value() == b""
    clock.advance(0.1)
    pings = _pings(peer, transport)
    assert len(pings) == 1 and len(pings[0].payload) == 4


def test_pongKeepsTheConnectionAlive() -> None:
    """Answered pings keep the connection open and recur; their pongs are not shown to onPong."""
    proto, transport, clock = _serverOnClock()
    peer = Connection(ConnectionType.CLIENT)
    for _ in range(3):
        clock.advance(20)
        (ping,) = _pings(peer, transport)
        clock.advance(19)
        proto.dataReceived(peer.send(ping.response()))
    clock.advance(19.9)
    assert not transport.disconnecting
    assert proto.pongs == []
    assert proto.closed == []


def test_missingPongClosesWith1011AndAborts() -> None:
    """With no answer within keepaliveTimeout a 1011 close is written and TCP is aborted."""
    proto, transport, clock = _serverOnClock(keepaliveTimeout=5.0)
    peer = Connection(ConnectionType.CLIENT)
    clock.advance(20)
    assert _pings(peer, transport)
    with capturedLogs():
        clock.advance(4.9)
        assert not transport.disconnecting
        clock.advance(0.1)
    closes = [e for e in _eventsFrom(peer, transport) if isinstance(e, CloseConnection)]
    assert [c.code for c in closes] == [1011]
    assert transport.aborted
    proto.connectionLost(None)
    assert proto.closed == [(False, 1006, "keepalive ping timeout")]
    assert clock.getDelayedCalls() == []


def test_otherTrafficPostponesTheVerdict() -> None:
    """Bytes arriving after the ping (a long message ahead of the pong) buy another period."""
    proto, transport, clock = _serverOnClock()
    peer = Connection(ConnectionType.CLIENT)
    clock.advance(20)
    assert _pings(peer, transport)
    clock.advance(10)
    proto.dataReceived(peer.send(BytesMessage(data=b"part", message_finished=False)))
    clock.advance(10)
    assert not transport.disconnecting
    with capturedLogs():
        clock.advance(20)
    assert transport.aborted


def test_userPongsStillReachOnPong() -> None:
    """A pong answering the user's own sendPing is given to onPong and also answers keepalive."""
    proto, transport, clock = _serverOnClock()
    peer = Connection(ConnectionType.CLIENT)
    clock.advance(20)
    _pings(peer, transport)
    proto.sendPing(b"mine")
    (ping,) = _pings(peer, transport)
    proto.dataReceived(peer.send(ping.response()))
    clock.advance(19.9)
    assert proto.pongs == [b"mine"]
    assert not transport.disconnecting


def test_keepaliveOff() -> None:
    """keepaliveInterval=None sends no pings at all."""
    _, transport, clock = _serverOnClock(keepaliveInterval=None)
    clock.advance(1000)
    assert transport.value() == b""
    assert clock.getDelayedCalls() == []


def test_keepaliveWithoutTimeoutIsAHeartbeat() -> None:
    """keepaliveTimeout=None pings every interval and never closes for want of a pong."""
    _, transport, clock = _serverOnClock(keepaliveTimeout=None)
    peer = Connection(ConnectionType.CLIENT)
    for _ in range(3):
        clock.advance(20)
        assert len(_pings(peer, transport)) == 1
    assert not transport.disconnecting


def test_closingStopsKeepalive() -> None:
    """Once the closing handshake starts, keepalive stops: closeTimeout governs from then on."""
    proto, transport, clock = _serverOnClock()
    proto.sendClose()
    assert [c.func for c in clock.getDelayedCalls()] == [proto._closeTimedOut]


def test_clientKeepaliveTimesOut() -> None:
    """The client pings too (masked) and aborts a server that never answers."""
    proto, transport, _ = _clientOnStringTransport()
    clock = proto._reactor
    peer = WSConnection(ConnectionType.SERVER)
    peer.receive_data(transport.value())
    transport.clear()
    list(peer.events())
    proto.dataReceived(peer.send(AcceptConnection()))
    clock.advance(20)
    assert _pings(peer, transport)
    with capturedLogs():
        clock.advance(20)
    assert transport.aborted


# -- over real sockets ---------------------------------------------------------------------------


class CountingEcho(WebSocketServerProtocol):
    """Echoes every message and counts the bytes that arrive on the transport."""

    received = 0

    def dataReceived(self, data: bytes) -> None:
        self.received += len(data)
        super().dataReceived(data)

    def onOpen(self) -> None:
        self.factory.built.append(self)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.sendMessage(payload, isBinary)


class CountingClient(WebSocketClientProtocol):
    """Counts bytes received; `nextMessage` and `closed` fire as they come."""

    received = 0

    def __init__(self) -> None:
        super().__init__()
        self.waiting: list[Deferred[bytes]] = []
        self.messages: list[bytes] = []
        self.closed: Deferred[tuple[bool, int | None, str | None]] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        if self._open:
            self.received += len(data)
        WebSocketClientProtocol.dataReceived(self, data)

    def nextMessage(self) -> Deferred[bytes]:
        d: Deferred[bytes] = Deferred()
        self.waiting.append(d)
        return d

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.messages.append(payload)
        if self.waiting:
            self.waiting.pop(0).callback(payload)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self.closed.callback((wasClean, code, reason))


def _listen(reactor: Any, **options: Any) -> tuple[int, WebSocketServerFactory]:
    factory = WebSocketServerFactory(reactor=reactor, **options)
    factory.protocol = CountingEcho
    factory.built = []  # type: ignore[attr-defined]
    root = resource.Resource()
    root.putChild(b"ws", WebSocketResource(factory))
    port = reactor.listenTCP(0, server.Site(root, reactor=reactor), interface="127.0.0.1")
    return int(port.getHost().port), factory


def _connect(reactor: Any, port: int, **options: Any) -> Deferred[Any]:
    url = "ws://127.0.0.1:%d/ws" % (port,)
    factory = WebSocketClientFactory(url, reactor=reactor, **options)
    factory.protocol = CountingClient
    return connectWebSocket(reactor, url, factory)


def test_deflateCompressesTheWireBothWays(reactor: Any, run: Any) -> None:
    """100 KB of text crosses compressed each way between torsion's client and server."""
    port, factory = _listen(reactor)

    async def go() -> Any:
        client = await _connect(reactor, port)
        client.sendMessage(BIG)
        echoed = await client.nextMessage()
        client.sendClose()
        await client.closed
        return client, echoed

    client, echoed = run(go())
    (served,) = factory.built  # type: ignore[attr-defined]
    assert echoed == BIG.encode()
    assert client.extensionsInUse == served.extensionsInUse == ("permessage-deflate",)
    assert served.received < 5000
    assert client.received < 5000


@pytest.mark.parametrize("side", ["client", "server"])
def test_deflateOffOnEitherSideSendsPlainFrames(reactor: Any, run: Any, side: str) -> None:
    """With deflate off on one side nothing is negotiated and the message crosses whole."""
    port, factory = _listen(reactor, perMessageDeflate=side != "server")

    async def go() -> Any:
        client = await _connect(reactor, port, perMessageDeflate=side != "client")
        client.sendMessage(BIG)
        echoed = await client.nextMessage()
        client.sendClose()
        await client.closed
        return client, echoed

    client, echoed = run(go())
    (served,) = factory.built  # type: ignore[attr-defined]
    assert echoed == BIG.encode()
    assert client.extensionsInUse == served.extensionsInUse == ()
    assert served.received > 100_000
    assert client.received > 100_000


class SmallEcho(CountingEcho):
    """A CountingEcho that takes messages up to 1 MiB and reports how it closed."""

    maxMessageSize = 1 << 20

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self.factory.closed.callback((wasClean, code, reason))


def test_zipBombFromARealPeerIsRefused(reactor: Any, run: Any) -> None:
    """A client that sends a deflate bomb over TCP is cut with 1009; nothing is delivered."""
    port, factory = _listen(reactor)
    factory.protocol = SmallEcho
    serverClosed: Deferred[tuple[bool, int | None, str | None]] = Deferred()
    factory.closed = serverClosed  # type: ignore[attr-defined]
    # Deflated by a fresh compressor, as the server's fresh inflater expects a first message.
    bomb = bytes(_deflatingPeer().send(BytesMessage(data=bytes(64 << 20))))

    async def go() -> Any:
        client = await _connect(reactor, port)
        client.transport.write(bomb)
        await client.closed
        return client, await serverClosed

    with capturedLogs():
        client, closed = run(go())
    assert closed == (False, 1006, "message too big")
    assert client.messages == []


def test_keepaliveOverRealSockets(reactor: Any, run: Any) -> None:
    """Short keepalive periods on both ends keep an idle connection open and count no pongs."""
    port, factory = _listen(reactor, keepaliveInterval=0.05, keepaliveTimeout=5)

    async def go() -> Any:
        client = await _connect(reactor, port, keepaliveInterval=0.05, keepaliveTimeout=5)
        (served,) = factory.built  # type: ignore[attr-defined]
        pongsSeen: Deferred[None] = Deferred()
        count = [0]
        original = served._pongReceived

        def counting(payload: bytes) -> None:
            original(payload)
            count[0] += 1
            if count[0] == 3 and not pongsSeen.called:
                pongsSeen.callback(None)

        served._pongReceived = counting
        await pongsSeen
        client.sendMessage("still open")
        echoed = await client.nextMessage()
        client.sendClose()
        return echoed, await client.closed

    echoed, closed = run(go())
    assert echoed == b"still open"
    assert closed == (True, 1000, None)


def _closeFrame() -> bytes:
    """A masked close frame (code 1000) as a client sends it."""
    return bytes(Connection(ConnectionType.CLIENT).send(CloseConnection(code=1000)))


@pytest.mark.parametrize("extensions", [
    b"permessage-deflate; server_max_window_bits=zzz",
    b"permessage-deflate; client_max_window_bits=\xff\xfe",
    b";;,,\"\\",
    b"permessage-deflate; " + b"x" * 4000,
])
def test_hostileOfferOverRawSocketIsDeclined(reactor: Any, run: Any, extensions: bytes) -> None:
    """A raw client's malformed offer still gets 101, without extensions, and a clean close."""
    port, factory = _listen(reactor)
    handshake = (b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                 b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                 b"Sec-WebSocket-Extensions: " + extensions + b"\r\n\r\n")
    with capturedLogs():
        out = rawRequest(reactor, run, port, handshake, until=b"\r\n\r\n", then=_closeFrame())
    head, _, frames = out.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101")
    assert b"sec-websocket-extensions" not in head.lower()
    assert frames == b"\x88\x02\x03\xe8"  # the close answered, uncompressed


# -- a browser as the client -----------------------------------------------------------------------


class _DeflatePage(resource.Resource):
    """A page that sends 100 KB of text, checks the echo, and reports ws.extensions."""

    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        return b"""<!DOCTYPE html><html><head><title>ws</title></head><body><script>
const big = "All work and no play makes Jack a dull boy. ".repeat(2400).slice(0, 100000);
const ws = new WebSocket("ws://" + location.host + "/ws");
ws.onopen = () => ws.send(big);
ws.onmessage = (e) => {
  if (e.data.startsWith("report")) return;
  ws.send("report " + ws.extensions + " echo-ok=" + (e.data === big));
};
</script></body></html>"""


class BrowserDeflateEcho(CountingEcho):
    """Echoes; fires the factory's `reported` with the page's report and its byte count."""

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if payload.startswith(b"report "):
            self.factory.reported.callback((payload, self.received))
        else:
            self.sendMessage(payload, isBinary)


@needsChromium
def test_chromiumNegotiatesDeflate(reactor: Any, run: Any) -> None:
    """Chromium's permessage-deflate offer is accepted: it sees the extension, data is deflated."""
    import os
    import signal
    import subprocess
    import tempfile

    factory = WebSocketServerFactory(reactor=reactor)
    factory.protocol = BrowserDeflateEcho
    factory.built = []  # type: ignore[attr-defined]
    reported: Deferred[tuple[bytes, int]] = Deferred()
    factory.reported = reported  # type: ignore[attr-defined]
    root = resource.Resource()
    root.putChild(b"ws", WebSocketResource(factory))
    root.putChild(b"page", _DeflatePage())
    port = reactor.listenTCP(0, server.Site(root, reactor=reactor), interface="127.0.0.1")
    url = "http://127.0.0.1:%d/page" % (port.getHost().port,)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            chromiumCommand(profile, "--remote-debugging-port=0", url),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            report, received = run(reported, timeout=60)
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the browser and its helper processes
            proc.wait()
    (served,) = factory.built  # type: ignore[attr-defined]
    assert report.startswith(b"report permessage-deflate") and report.endswith(b"echo-ok=true")
    assert served.extensionsInUse == ("permessage-deflate",)
    assert received < 10_000  # 100 KB of text (and the report) arrived deflated
