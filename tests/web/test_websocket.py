"""Tests of torsion.web.websocket: framing units over StringTransport, echo over real sockets."""

from __future__ import annotations

from typing import Any

import pytest
from headlesschromium import chromiumCommand, needsChromium
from wsproto import ConnectionType
from wsproto.connection import Connection
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage
from wsrecorder import Recorder

from torsion.internet.defer import Deferred
from torsion.internet.ssl import selfSignedPair
from torsion.internet.testing import StringTransport
from torsion.logger import capturedLogs
from torsion.python.failure import Failure
from torsion.web import resource, server
from torsion.web.client import Agent, BrowserLikePolicyForHTTPS, readBody
from torsion.web.websocket import (
    HandshakeError,
    WebSocketClientFactory,
    WebSocketClientProtocol,
    WebSocketResource,
    WebSocketServerFactory,
    WebSocketServerProtocol,
    connectWebSocket,
)


class Echo(WebSocketServerProtocol):
    """Sends every message back; 'boom' raises."""

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if payload == b"boom":
            raise RuntimeError("boom")
        self.sendMessage(payload, isBinary)


# -- units: a server protocol on a StringTransport, a wsproto client as the peer ----------


def _serverPair(cls: type[WebSocketServerProtocol] = Recorder) -> tuple[Any, StringTransport,
                                                                        Connection]:
    proto = cls()
    transport = StringTransport()
    proto.makeConnection(transport)
    return proto, transport, Connection(ConnectionType.CLIENT)


def _eventsFrom(peer: Connection, transport: StringTransport) -> list[Any]:
    peer.receive_data(transport.value())
    transport.clear()
    return list(peer.events())


def test_fragmentedMessageIsReassembled() -> None:
    """A message sent in three fragments is delivered once, whole."""
    proto, _, peer = _serverPair()
    data = peer.send(BytesMessage(data=b"ab", message_finished=False))
    data += peer.send(BytesMessage(data=b"cd", message_finished=False))
    data += peer.send(BytesMessage(data=b"ef", message_finished=True))
    proto.dataReceived(data)
    assert proto.messages == [(b"abcdef", True)]


def test_messageFedByteByByte() -> None:
    """A text message fed one byte at a time arrives once, as UTF-8 bytes."""
    proto, _, peer = _serverPair()
    data = peer.send(TextMessage(data="héllo"))
    for i in range(len(data)):
        proto.dataReceived(data[i:i + 1])
    assert proto.messages == [("héllo".encode(), False)]


def test_twoMessagesInOneChunk() -> None:
    """Two messages in one read are delivered in order."""
    proto, _, peer = _serverPair()
    proto.dataReceived(peer.send(TextMessage(data="a")) + peer.send(BytesMessage(data=b"b")))
    assert proto.messages == [(b"a", False), (b"b", True)]


def test_pingIsAnsweredWithPong() -> None:
    """A ping gets a pong with the same payload (RFC 6455 §5.5.3)."""
    proto, transport, peer = _serverPair()
    proto.dataReceived(peer.send(Ping(payload=b"are you there")))
    events = _eventsFrom(peer, transport)
    assert [(type(e), bytes(e.payload)) for e in events] == [(Pong, b"are you there")]


def test_pongReachesOnPong() -> None:
    """A pong from the peer is given to onPong."""
    proto, _, peer = _serverPair()
    proto.dataReceived(peer.send(Pong(payload=b"x")))
    assert proto.pongs == [b"x"]


def test_oversizedMessageClosesWith1009() -> None:
    """A message over maxMessageSize closes the connection with 1009 and is not delivered."""
    proto, transport, peer = _serverPair()
    proto.maxMessageSize = 10
    proto.dataReceived(peer.send(BytesMessage(data=b"x" * 11)))
    events = _eventsFrom(peer, transport)
    assert proto.messages == []
    assert isinstance(events[0], CloseConnection) and events[0].code == 1009
    assert transport.disconnecting


def test_peerCloseIsAnsweredAndReported() -> None:
    """A close from the peer is echoed, the connection closed, and onClose told it was clean."""
    proto, transport, peer = _serverPair()
    proto.dataReceived(peer.send(CloseConnection(code=1000, reason="bye")))
    events = _eventsFrom(peer, transport)
    assert isinstance(events[0], CloseConnection) and events[0].code == 1000
    assert transport.disconnecting
    proto.connectionLost(Failure(Exception("closed")))
    assert proto.closed == [(True, 1000, "bye")]


def test_abruptEndIsNotClean() -> None:
    """A connection lost without a close handshake is reported as 1006, not clean."""
    proto, _, _ = _serverPair()
    proto.connectionLost(Failure(Exception("gone")))
    assert proto.closed == [(False, 1006, None)]


def test_unmaskedClientFrameIsProtocolError() -> None:
    """An unmasked frame from a client (RFC 6455 §5.1) closes the connection."""
    proto, transport, _ = _serverPair()
    proto.dataReceived(b"\x81\x02hi")  # FIN text frame, no mask bit
    assert transport.disconnecting
    assert proto.messages == []


def test_exceptionInOnMessageClosesWith1011() -> None:
    """An exception in onMessage is logged and closes that connection with 1011."""
    proto, transport, peer = _serverPair(Echo)
    with capturedLogs() as events:
        proto.dataReceived(peer.send(TextMessage(data="boom")))
    closes = [e for e in _eventsFrom(peer, transport) if isinstance(e, CloseConnection)]
    assert closes and closes[0].code == 1011
    assert any(e.get("log_failure") is not None for e in events)


def test_sendAfterCloseRaises() -> None:
    """sendMessage on a closing connection raises ConnectionClosedError."""
    from torsion.web.websocket import ConnectionClosedError

    proto, _, _ = _serverPair()
    proto.sendClose()
    with pytest.raises(ConnectionClosedError):
        proto.sendMessage(b"late")


# -- integration: client <-> resource over 127.0.0.1 ------------------------------------------


class Client(WebSocketClientProtocol):
    """Collects messages; `waitFor(n)` fires when n have arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[tuple[bytes, bool]] = []
        self.closed: Deferred[tuple[bool, int | None, str | None]] = Deferred()
        self._waiting: list[tuple[int, Deferred[list[tuple[bytes, bool]]]]] = []

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.messages.append((payload, isBinary))
        for n, d in list(self._waiting):
            if len(self.messages) >= n:
                self._waiting.remove((n, d))
                d.callback(self.messages)

    def waitFor(self, n: int) -> Deferred[list[tuple[bytes, bool]]]:
        d: Deferred[list[tuple[bytes, bool]]] = Deferred()
        self._waiting.append((n, d))
        return d

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        self.closed.callback((wasClean, code, reason))


def _listen(reactor: Any, cls: type[WebSocketServerProtocol] = Echo,
            contextFactory: Any = None) -> int:
    root = resource.Resource()
    factory = WebSocketServerFactory(reactor=reactor)
    factory.protocol = cls
    root.putChild(b"ws", WebSocketResource(factory))
    site = server.Site(root, reactor=reactor)
    if contextFactory is not None:
        return int(reactor.listenSSL(0, site, contextFactory, interface="127.0.0.1")
                   .getHost().port)
    return int(reactor.listenTCP(0, site, interface="127.0.0.1").getHost().port)


def _clientFactory(url: str, reactor: Any) -> WebSocketClientFactory:
    factory = WebSocketClientFactory(url, reactor=reactor)
    factory.protocol = Client
    return factory


def test_echoOverRealSocket(reactor: Any, run: Any) -> None:
    """Text and binary messages go to the resource's protocol and come back; close is clean."""
    port = _listen(reactor)
    url = "ws://127.0.0.1:%d/ws" % (port,)

    async def go() -> Any:
        client = await connectWebSocket(reactor, url, _clientFactory(url, reactor))
        client.sendMessage("hello")
        client.sendMessage(b"\x00\x01" * 40000, isBinary=True)
        messages = await client.waitFor(2)
        client.sendClose(1000, "done")
        return messages, await client.closed

    messages, closed = run(go())
    assert messages == [(b"hello", False), (b"\x00\x01" * 40000, True)]
    assert closed == (True, 1000, "done")


def test_echoOverTLS(reactor: Any, run: Any) -> None:
    """wss:// verifies the server certificate and carries messages."""
    cert = selfSignedPair("localhost")
    port = _listen(reactor, contextFactory=cert.options())
    url = "wss://localhost:%d/ws" % (port,)

    async def go() -> Any:
        client = await connectWebSocket(reactor, url, _clientFactory(url, reactor),
                                        contextFactory=BrowserLikePolicyForHTTPS(cert))
        client.sendMessage("secure")
        return await client.waitFor(1)

    assert run(go()) == [(b"secure", False)]


def test_serverErrorClosesOnlyThatConnection(reactor: Any, run: Any) -> None:
    """An exception in the server's onMessage closes that connection with 1011; others go on."""
    port = _listen(reactor)
    url = "ws://127.0.0.1:%d/ws" % (port,)

    async def go() -> Any:
        one = await connectWebSocket(reactor, url, _clientFactory(url, reactor))
        two = await connectWebSocket(reactor, url, _clientFactory(url, reactor))
        one.sendMessage("boom")
        closed = await one.closed
        two.sendMessage("still here")
        return closed, await two.waitFor(1)

    with capturedLogs():
        closed, messages = run(go())
    assert closed[1] == 1011
    assert messages == [(b"still here", False)]


def test_plainGetIsAnswered426(reactor: Any, run: Any) -> None:
    """A plain HTTP GET of the WebSocket resource is answered 426 Upgrade Required."""
    port = _listen(reactor)

    async def go() -> Any:
        response = await Agent(reactor).request(b"GET", b"http://127.0.0.1:%d/ws" % (port,))
        await readBody(response)
        return response

    response = run(go())
    assert response.code == 426
    assert response.headers.getRawHeaders(b"upgrade") == [b"websocket"]


def test_handshakeRefusedFails(reactor: Any, run: Any) -> None:
    """Connecting to a URL that is not a WebSocket fails with HandshakeError and the status."""
    port = _listen(reactor)
    url = "ws://127.0.0.1:%d/nothing" % (port,)
    with pytest.raises(HandshakeError) as info:
        run(connectWebSocket(reactor, url, _clientFactory(url, reactor)))
    assert info.value.status == 404


def test_badURLIsRefused(reactor: Any, run: Any) -> None:
    """A URL that is not ws:// or wss:// fails at once."""
    with pytest.raises(ValueError):
        run(connectWebSocket(reactor, "http://127.0.0.1:1/"))


# -- Twisted's API (twisted.web.websocket) --------------------------------------------------


class TwistedStyleEcho:
    """A server protocol written against Twisted's WebSocketProtocol interface."""

    def negotiationStarted(self, transport: Any) -> None:
        self.transport = transport

    def negotiationFinished(self) -> None:
        pass

    def textMessageReceived(self, message: str) -> None:
        self.transport.sendTextMessage(message[::-1])

    def bytesMessageReceived(self, data: bytes) -> None:
        self.transport.sendBytesMessage(data * 2)

    def pongReceived(self, payload: bytes) -> None:
        pass

    def connectionLost(self, reason: Failure) -> None:
        pass


class TwistedStyleClient:
    """A client protocol written against Twisted's interface."""

    def __init__(self) -> None:
        self.received: list[Any] = []
        self.done: Deferred[list[Any]] = Deferred()
        self.lost: Deferred[list[Failure]] = Deferred()

    def negotiationStarted(self, transport: Any) -> None:
        self.transport = transport

    def negotiationFinished(self) -> None:
        self.transport.sendTextMessage("abc")
        self.transport.sendBytesMessage(b"xy")

    def textMessageReceived(self, message: str) -> None:
        self.received.append(message)

    def bytesMessageReceived(self, data: bytes) -> None:
        self.received.append(data)
        self.done.callback(self.received)

    def pongReceived(self, payload: bytes) -> None:
        pass

    def connectionLost(self, reason: Failure) -> None:
        self.lost.callback([reason])


def test_twistedStyleProtocolsInteroperate(reactor: Any, run: Any) -> None:
    """Protocols written for Twisted's WebSocket API work on both ends."""
    from torsion.internet.error import ConnectionDone
    from torsion.web.websocket import WebSocketClientEndpoint

    class ServerFactory:
        def buildProtocol(self, request: Any) -> TwistedStyleEcho:
            return TwistedStyleEcho()

    class ClientFactory:
        def buildProtocol(self, url: str) -> TwistedStyleClient:
            return TwistedStyleClient()

    root = resource.Resource()
    root.putChild(b"ws", WebSocketResource(ServerFactory()))
    port = reactor.listenTCP(0, server.Site(root, reactor=reactor), interface="127.0.0.1")
    url = "ws://127.0.0.1:%d/ws" % (port.getHost().port,)

    async def go() -> Any:
        client = await WebSocketClientEndpoint.new(reactor, url).connect(ClientFactory())
        received = await client.done
        client.transport.loseConnection()
        return received, await client.lost

    received, lost = run(go())
    assert received == ["cba", b"xyxy"]
    assert lost[0].check(ConnectionDone)


# -- a browser as the client -------------------------------------------------------------------


class _BrowserPage(resource.Resource):
    """A page whose script opens a WebSocket, sends a message and reports the echo back."""

    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        return b"""<!DOCTYPE html><html><head><title>ws</title></head><body><script>
const ws = new WebSocket("ws://" + location.host + "/ws");
ws.onopen = () => ws.send("from the browser");
ws.onmessage = (e) => ws.send("got:" + e.data);
</script></body></html>"""


class BrowserEcho(WebSocketServerProtocol):
    """Echoes; fires `reported` with the browser's report of what it received."""

    reported: Deferred[bytes]

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if payload.startswith(b"got:"):
            self.factory.reported.callback(payload)
        else:
            self.sendMessage(payload, isBinary)


@needsChromium
def test_chromiumWebSocketEcho(reactor: Any, run: Any) -> None:
    """Headless Chromium's WebSocket talks to WebSocketResource: echo and report back."""
    import os
    import signal
    import subprocess
    import tempfile

    root = resource.Resource()
    factory = WebSocketServerFactory(reactor=reactor)
    factory.protocol = BrowserEcho
    reported: Deferred[bytes] = Deferred()
    factory.reported = reported  # type: ignore[attr-defined]
    root.putChild(b"ws", WebSocketResource(factory))
    root.putChild(b"page", _BrowserPage())
    port = reactor.listenTCP(0, server.Site(root, reactor=reactor), interface="127.0.0.1")
    url = "http://127.0.0.1:%d/page" % (port.getHost().port,)
    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as profile:
        proc = subprocess.Popen(
            chromiumCommand(profile, "--remote-debugging-port=0", url),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            assert run(reported, timeout=60) == b"got:from the browser"
        finally:
            os.killpg(proc.pid, signal.SIGKILL)  # the browser and its helper processes
            proc.wait()


def test_silentServerFailsHandshakeAfterTimeout(reactor: Any, run: Any) -> None:
    """A server that accepts the connection but never answers fails the handshake in time."""
    from torsion.internet.protocol import Factory, Protocol

    port = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
    url = "ws://127.0.0.1:%d/" % (port.getHost().port,)
    with pytest.raises(HandshakeError):
        run(connectWebSocket(reactor, url, _clientFactory(url, reactor), timeout=0.2))
