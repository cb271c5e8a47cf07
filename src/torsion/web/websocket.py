"""WebSocket (RFC 6455) client and server on wsproto.

Theory of operation: a `WebSocketProtocol` owns a wsproto connection object; received
bytes go to ``receive_data`` and each wsproto event is dispatched: message pieces are
accumulated until the message is finished and then given to ``onMessage(payload,
isBinary)`` (text arrives as UTF-8 bytes, as in autobahn); pings are answered; a close
frame is answered and the TCP connection closed, after which ``onClose(wasClean, code,
reason)`` runs exactly once.

- Server side: `WebSocketResource(factory)` is a torsion.web resource. Its render checks
  the upgrade request (RFC 6455 §4.2.1), sets the handshake headers and hands the
  connection to the WebSocket protocol with ``Request.switchProtocol`` (101 Switching
  Protocols), then returns NOT_DONE_YET.
- Client side: ``connectWebSocket(reactor, url)`` connects (TLS for wss: with host name
  verification), runs the opening handshake with wsproto and fires with the protocol
  once it is open.

Limits: a message larger than ``maxMessageSize`` closes the connection with 1009
(RFC 6455 §7.4.1); an unanswered close is cut after ``closeTimeout`` seconds.

Errors::

    Exception
     └─ WebSocketError
         ├─ HandshakeError(status)   the server refused or botched the opening handshake
         └─ ConnectionClosedError    a send on a connection that is closing or closed
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from wsproto import ConnectionType, WSConnection
from wsproto.connection import Connection, ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    TextMessage,
)
from wsproto.events import Request as WSRequest
from wsproto.utilities import ProtocolError, generate_accept_token

from torsion.internet.defer import Deferred, fail
from torsion.internet.error import ConnectionDone
from torsion.internet.protocol import ClientFactory, Factory, Protocol
from torsion.logger import Logger
from torsion.python.failure import Failure
from torsion.web import resource
from torsion.web.server import NOT_DONE_YET

__all__ = [
    "ConnectionClosedError",
    "HandshakeError",
    "WebSocketClientEndpoint",
    "WebSocketClientFactory",
    "WebSocketClientProtocol",
    "WebSocketError",
    "WebSocketProtocol",
    "WebSocketResource",
    "WebSocketServerFactory",
    "WebSocketServerProtocol",
    "connectWebSocket",
]

_log = Logger()

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_NO_STATUS = 1005
CLOSE_ABNORMAL = 1006
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_INTERNAL_ERROR = 1011


class WebSocketError(Exception):
    """Something went wrong with a WebSocket connection."""


class HandshakeError(WebSocketError):
    """The opening handshake failed; `status` is the HTTP status the server gave (or 0)."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message, status)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return "%s (status %d)" % (self.message, self.status)


class ConnectionClosedError(WebSocketError):
    """A message was sent on a connection that is closing or closed."""


class WebSocketProtocol(Protocol):
    """A WebSocket connection: override onOpen, onMessage and onClose.

    Why: one class serves both ends; the subclasses only differ in how the opening
    handshake is done.
    """

    maxMessageSize = 16 * 1024 * 1024
    closeTimeout = 5.0

    subprotocol: str | None = None
    _ws: Any = None
    _open = False
    _closed = False
    _wasClean = False
    _closeCode: int | None = None
    _closeReason: str | None = None
    _closeTimer: Any = None
    _reactor: Any = None

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._size = 0
        self._textMessage = False

    # -- override these ---------------------------------------------------------------

    def onOpen(self) -> None:
        """The connection is open: messages may be sent and will be received."""

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        """A whole message arrived; text messages are given as UTF-8 bytes."""

    def onPong(self, payload: bytes) -> None:
        """A pong (the answer to sendPing) arrived."""

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        """The connection closed; `wasClean` says whether the close handshake completed."""

    # -- sending --------------------------------------------------------------------------

    def _send(self, event: Any) -> None:
        if self._ws is None or self._ws.state is not ConnectionState.OPEN:
            raise ConnectionClosedError("the WebSocket is not open")
        self.transport.write(self._ws.send(event))

    def sendMessage(self, payload: bytes | str, isBinary: bool = False) -> None:
        """Send one message: binary if `isBinary`, else text (bytes must be UTF-8)."""
        if isBinary:
            if not isinstance(payload, (bytes, bytearray)):
                raise TypeError("a binary message must be bytes")
            self._send(BytesMessage(data=bytes(payload)))
        else:
            text = payload.decode("utf-8") if isinstance(payload, (bytes, bytearray)) \
                else payload
            self._send(TextMessage(data=text))

    def sendPing(self, payload: bytes = b"") -> None:
        """Send a ping (at most 125 bytes of payload, RFC 6455 §5.5)."""
        if len(payload) > 125:
            raise ValueError("ping payload longer than 125 bytes")
        self._send(Ping(payload=payload))

    def sendClose(self, code: int | None = CLOSE_NORMAL, reason: str | None = None) -> None:
        """Start the closing handshake (RFC 6455 §7.1.2) with `code` and `reason`."""
        if self._ws is None or self._ws.state is not ConnectionState.OPEN:
            return
        if code is None:
            code = CLOSE_NO_STATUS
        self._closeCode = code
        self._closeReason = reason
        self.transport.write(self._ws.send(CloseConnection(code=code, reason=reason)))
        reactor = self._reactor
        if reactor is not None:
            self._closeTimer = reactor.callLater(self.closeTimeout, self._closeTimedOut)

    def _closeTimedOut(self) -> None:
        self._closeTimer = None
        self.transport.abortConnection()

    # -- receiving ------------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        ws = self._ws
        if ws is None or self._closed:
            return
        try:
            ws.receive_data(data)
            self._dispatch(ws.events())
        except ProtocolError as e:
            _log.info("WebSocket protocol error from {peer}: {error}",
                      peer=self.transport.getPeer(), error=str(e))
            self.transport.abortConnection()

    def _dispatch(self, events: Any) -> None:
        # RFC 6455 §5.5.3: of pings received together only the latest needs a pong, so a
        # peer flooding pings (and maybe not reading) gets one pong per read, not per ping.
        ping: Ping | None = None
        for event in events:
            if isinstance(event, Ping):
                ping = event
                continue
            if ping is not None:
                self._pong(ping)
                ping = None
            if isinstance(event, (TextMessage, BytesMessage)):
                if self._messagePiece(event):
                    return
            elif isinstance(event, Pong):
                self._userCall(self.onPong, bytes(event.payload))
            elif isinstance(event, CloseConnection):
                self._closeReceived(event)
                return
            elif isinstance(event, AcceptConnection):
                self._accepted(event)
            elif isinstance(event, (RejectConnection, RejectData)):
                self._rejected(event)
                return
        if ping is not None:
            self._pong(ping)

    def _pong(self, ping: Ping) -> None:
        """Answer `ping`, unless user code has started closing meanwhile."""
        if self._ws is not None and self._ws.state is ConnectionState.OPEN:
            self.transport.write(self._ws.send(ping.response()))

    def _messagePiece(self, event: TextMessage | BytesMessage) -> bool:
        """Add a piece of a message; deliver it when finished. True if the connection ended."""
        if isinstance(event, TextMessage):
            piece = event.data.encode("utf-8")
            self._textMessage = True
        else:
            piece = bytes(event.data)
            self._textMessage = False
        self._size += len(piece)
        if self._size > self.maxMessageSize:
            # RFC 6455 §7.4.1: 1009, the message is too big to process.
            self._pieces = []
            self.sendClose(CLOSE_MESSAGE_TOO_BIG, "message too big")
            self._closed = True
            self.transport.loseConnection()
            return True
        self._pieces.append(piece)
        if event.message_finished:
            payload = self._pieces[0] if len(self._pieces) == 1 else b"".join(self._pieces)
            self._pieces = []
            self._size = 0
            self._userCall(self.onMessage, payload, not self._textMessage)
        return False

    def _userCall(self, method: Any, *args: Any) -> None:
        """Call user code; an exception is logged and closes only this connection (1011)."""
        try:
            method(*args)
        except Exception:
            _log.failure("Unhandled error in {method} of {protocol}",
                         method=getattr(method, "__name__", method), protocol=self)
            if self._ws is not None and self._ws.state is ConnectionState.OPEN:
                self.sendClose(CLOSE_INTERNAL_ERROR, "internal error")
            self.transport.loseConnection()

    def _closeReceived(self, event: CloseConnection) -> None:
        ws = self._ws
        if ws.state is ConnectionState.REMOTE_CLOSING:
            # The peer started the close: answer it (RFC 6455 §5.5.1).
            self._closeCode = event.code
            self._closeReason = event.reason or None
            self.transport.write(ws.send(event.response()))
        elif self._closeCode is not None and event.code is not None:
            self._closeCode = event.code
        self._wasClean = True
        self._closed = True
        self.transport.loseConnection()

    def _accepted(self, event: AcceptConnection) -> None:
        """Client side: the server accepted the handshake."""

    def _rejected(self, event: Any) -> None:
        """Client side: the server refused the handshake."""

    def _opened(self) -> None:
        self._open = True
        self._userCall(self.onOpen)

    def connectionLost(self, reason: Failure | None = None) -> None:
        timer = self._closeTimer
        if timer is not None and timer.active():
            timer.cancel()
        self._closeTimer = None
        self._closed = True
        if self._open:
            self._open = False
            code = self._closeCode if self._wasClean else CLOSE_ABNORMAL
            self._userCall(self.onClose, self._wasClean, code, self._closeReason)


# -- server -------------------------------------------------------------------------------------


class WebSocketServerProtocol(WebSocketProtocol):
    """The server end of a WebSocket; built by WebSocketResource's factory."""

    request: Any = None

    def connectionMade(self) -> None:
        """The handshake has been answered: frames flow from now on."""
        self._ws = Connection(ConnectionType.SERVER)
        self._opened()


class WebSocketServerFactory(Factory):
    """Builds server protocols; `subprotocols` lists the ones offered, best first."""

    protocol = WebSocketServerProtocol

    def __init__(self, subprotocols: Sequence[str] = (), reactor: Any = None) -> None:
        self.subprotocols = list(subprotocols)
        self.reactor = reactor


def _tokens(value: bytes | None) -> list[bytes]:
    """Split a comma-separated header value into lower-cased tokens."""
    if not value:
        return []
    return [t.strip().lower() for t in value.split(b",") if t.strip()]


class WebSocketResource(resource.Resource):
    """A resource that upgrades requests to WebSocket connections built by `factory`.

    Why: WebSocket endpoints live in the same resource tree as pages (same port, same
    TLS, same URL space), as browsers expect.
    """

    isLeaf = True

    def __init__(self, factory: Any) -> None:
        super().__init__()
        self._factory = factory

    def _refuse(self, request: Any, code: int, message: bytes) -> bytes:
        request.setResponseCode(code)
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return message

    def render(self, request: Any) -> Any:
        """Check the upgrade request, answer 101 and hand the connection over."""
        # RFC 6455 §4.2.1: the opening handshake is a GET with these headers.
        if request.method != b"GET":
            request.setHeader(b"allow", b"GET")
            return self._refuse(request, 405, b"WebSocket handshakes use GET\n")
        if b"websocket" not in _tokens(request.getHeader(b"upgrade")) or b"upgrade" not in \
                _tokens(request.getHeader(b"connection")):
            request.setHeader(b"upgrade", b"websocket")
            request.setHeader(b"connection", b"Upgrade")
            return self._refuse(request, 426, b"This resource speaks WebSocket only\n")
        if request.getHeader(b"sec-websocket-version") != b"13":
            # RFC 6455 §4.4: say which version we speak.
            request.setHeader(b"sec-websocket-version", b"13")
            return self._refuse(request, 426, b"Unsupported WebSocket version\n")
        key = request.getHeader(b"sec-websocket-key") or b""
        try:
            if len(base64.b64decode(key, validate=True)) != 16:
                raise ValueError(key)
        except (ValueError, binascii.Error):
            return self._refuse(request, 400, b"Bad Sec-WebSocket-Key\n")
        protocol: Any
        if isinstance(self._factory, Factory):
            protocol = self._factory.buildProtocol(request.getClientAddress())
        else:
            # Twisted's interface: buildProtocol(request) gives a WebSocketProtocol of
            # Twisted's shape (negotiationStarted, textMessageReceived, ...).
            wrapped = self._factory.buildProtocol(request)
            protocol = None if wrapped is None else _TwistedStyleServer(wrapped)
        if protocol is None:
            return self._refuse(request, 403, b"Connection refused\n")
        protocol.factory = self._factory
        if protocol._reactor is None:
            protocol._reactor = getattr(self._factory, "reactor", None) or getattr(
                getattr(request, "site", None), "_reactor", None
            )
        request.setHeader(b"upgrade", b"websocket")
        request.setHeader(b"connection", b"Upgrade")
        request.setHeader(b"sec-websocket-accept", generate_accept_token(key))
        offered = [t.decode("ascii", "replace") for t in _tokens(
            b",".join(request.requestHeaders.getRawHeaders(b"sec-websocket-protocol", [])))]
        for name in getattr(self._factory, "subprotocols", []):
            if name.lower() in offered:
                request.setHeader(b"sec-websocket-protocol", name.encode("ascii"))
                protocol.subprotocol = name
                break
        protocol.request = request
        # 101, then every later byte (and any sent early) goes to the WebSocket protocol.
        request.switchProtocol(protocol)
        return NOT_DONE_YET


# -- client --------------------------------------------------------------------------------------


class WebSocketClientProtocol(WebSocketProtocol):
    """The client end of a WebSocket; sends the opening handshake when connected."""

    def connectionMade(self) -> None:
        factory = self.factory
        self._reactor = getattr(factory, "reactor", None)
        ws = self._ws = WSConnection(ConnectionType.CLIENT)
        extra = [(k.encode("latin-1") if isinstance(k, str) else k,
                  v.encode("latin-1") if isinstance(v, str) else v)
                 for k, v in (factory.headers or {}).items()]
        self.transport.write(ws.send(WSRequest(
            host=factory.hostHeader, target=factory.target,
            subprotocols=list(factory.subprotocols), extra_headers=extra,
        )))
        timeout = getattr(factory, "handshakeTimeout", None)
        if self._reactor is not None and timeout is not None:
            self._handshakeTimer = self._reactor.callLater(timeout, self._handshakeTimedOut)

    _handshakeTimer: Any = None

    def _handshakeTimedOut(self) -> None:
        """The server accepted the connection but never answered the handshake."""
        self._handshakeTimer = None
        self._fail(HandshakeError("no answer to the WebSocket handshake in time"))
        self._closed = True
        self.transport.abortConnection()

    def _stopHandshakeTimer(self) -> None:
        timer = self._handshakeTimer
        self._handshakeTimer = None
        if timer is not None and timer.active():
            timer.cancel()

    def _accepted(self, event: AcceptConnection) -> None:
        self._stopHandshakeTimer()
        self.subprotocol = event.subprotocol
        self._opened()
        d = self.factory._opened
        if d is not None and not d.called:
            d.callback(self)

    def _rejected(self, event: Any) -> None:
        status = getattr(event, "status_code", 0)
        self._fail(HandshakeError("the server refused the WebSocket handshake", status))
        self._closed = True
        self.transport.loseConnection()

    def _fail(self, exc: Exception) -> None:
        d = self.factory._opened
        if d is not None and not d.called:
            d.errback(Failure(exc))

    def dataReceived(self, data: bytes) -> None:
        ws = self._ws
        if ws is not None and not self._open and not self._closed:
            try:
                ws.receive_data(data)
                self._dispatch(ws.events())
            except ProtocolError as e:
                self._fail(HandshakeError("bad handshake answer: %s" % (e,)))
                self._closed = True
                self.transport.abortConnection()
            return
        WebSocketProtocol.dataReceived(self, data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self._stopHandshakeTimer()
        if not self._open:
            # Say why (a refused certificate, a reset...): "closed" alone hides the cause.
            why = reason.getErrorMessage() if reason is not None else "unknown reason"
            self._fail(HandshakeError("connection closed during the handshake: %s" % (why,)))
        WebSocketProtocol.connectionLost(self, reason)


class WebSocketClientFactory(ClientFactory):
    """Builds the client protocol for one WebSocket URL (ws:// or wss://)."""

    protocol = WebSocketClientProtocol

    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        subprotocols: Sequence[str] = (),
        reactor: Any = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss"):
            raise ValueError("not a WebSocket URL: %r" % (url,))
        self.url = url
        self.isSecure = parts.scheme == "wss"
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if self.isSecure else 80)
        default = 443 if self.isSecure else 80
        self.hostHeader = parts.netloc if self.port != default else self.host
        self.target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
        self.headers = headers
        self.subprotocols = list(subprotocols)
        self.reactor = reactor
        self.handshakeTimeout: float | None = None  # None: connectWebSocket's timeout
        self._opened: Deferred[Any] | None = None


def connectWebSocket(
    reactor: Any,
    url: str,
    factory: WebSocketClientFactory | None = None,
    contextFactory: Any = None,
    timeout: float = 30,
) -> Deferred[Any]:
    """Connect to `url` and fire with the protocol once the handshake is done.

    `factory` (default: a WebSocketClientFactory for `url`) chooses the protocol class;
    for wss the server's certificate and host name are verified with `contextFactory`
    (default BrowserLikePolicyForHTTPS). `timeout` bounds the connection attempt and,
    unless the factory sets its own ``handshakeTimeout``, the opening handshake.
    """
    from torsion.internet.endpoints import HostnameEndpoint, wrapClientTLS

    try:
        if factory is None:
            factory = WebSocketClientFactory(url, reactor=reactor)
        if factory.reactor is None:
            factory.reactor = reactor
        if factory.handshakeTimeout is None:
            factory.handshakeTimeout = timeout
    except ValueError:
        return fail()
    endpoint: Any = HostnameEndpoint(reactor, factory.host, factory.port, timeout=timeout)
    if factory.isSecure:
        if contextFactory is None:
            from torsion.web.client import BrowserLikePolicyForHTTPS

            contextFactory = BrowserLikePolicyForHTTPS()
        creator = contextFactory.creatorForNetloc(factory.host.encode("idna"), factory.port)
        endpoint = wrapClientTLS(creator, endpoint)
    opened: Deferred[Any] = Deferred()
    factory._opened = opened
    connecting = endpoint.connect(factory)

    def connectFailed(reason: Failure) -> None:
        if not opened.called:
            opened.errback(reason)

    connecting.addErrback(connectFailed)
    return opened


# -- Twisted's WebSocket API (twisted.web.websocket, Twisted 25.5+) -----------------------------


class _TwistedStyle:  # mixed into WebSocketServerProtocol / WebSocketClientProtocol
    """Presents a torsion WebSocket connection to a protocol written for Twisted's API.

    Why: code ported from Twisted implements ``negotiationStarted(transport)``,
    ``textMessageReceived``, ``bytesMessageReceived``, ``pongReceived`` and
    ``connectionLost``, and sends through a WebSocketTransport (``sendTextMessage``,
    ``sendBytesMessage``, ``ping``, ``loseConnection(code)``); this object is both the
    torsion protocol and that transport.
    """

    _wrapped: Any

    def sendTextMessage(self, text: str) -> None:
        """Send a text message."""
        self.sendMessage(text)  # type: ignore[attr-defined]

    def sendBytesMessage(self, data: bytes) -> None:
        """Send a binary message."""
        self.sendMessage(bytes(data), isBinary=True)  # type: ignore[attr-defined]

    def ping(self, payload: bytes = b"") -> None:
        """Send a ping."""
        self.sendPing(payload)  # type: ignore[attr-defined]

    def loseConnection(self, code: int = CLOSE_NORMAL, reason: str = "") -> None:
        """Close the WebSocket with `code` (the closing handshake)."""
        self.sendClose(code, reason or None)  # type: ignore[attr-defined]

    def attachProducer(self, producer: Any) -> None:
        """Pace `producer` by the connection's write buffer."""
        self.transport.registerProducer(producer, True)  # type: ignore[attr-defined]

    def detachProducer(self) -> None:
        """Stop pacing the attached producer."""
        self.transport.unregisterProducer()  # type: ignore[attr-defined]

    def onOpen(self) -> None:
        self._wrapped.negotiationStarted(self)
        self._wrapped.negotiationFinished()

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        if isBinary:
            self._wrapped.bytesMessageReceived(payload)
        else:
            self._wrapped.textMessageReceived(payload.decode("utf-8"))

    def onPong(self, payload: bytes) -> None:
        self._wrapped.pongReceived(payload)

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:
        from torsion.internet.error import ConnectionLost

        exc = ConnectionDone() if wasClean else ConnectionLost()
        self._wrapped.connectionLost(Failure(exc))


class _TwistedStyleServer(_TwistedStyle, WebSocketServerProtocol):
    def __init__(self, wrapped: Any) -> None:
        WebSocketServerProtocol.__init__(self)
        self._wrapped = wrapped


class _TwistedStyleClient(_TwistedStyle, WebSocketClientProtocol):
    def __init__(self, wrapped: Any) -> None:
        WebSocketClientProtocol.__init__(self)
        self._wrapped = wrapped


class WebSocketClientEndpoint:
    """Twisted's client entry point: ``await WebSocketClientEndpoint.new(reactor, url)
    .connect(factory)`` where ``factory.buildProtocol(url)`` makes a Twisted-style protocol.
    """

    def __init__(self, reactor: Any, url: str, contextFactory: Any = None) -> None:
        self._reactor = reactor
        self._url = url
        self._contextFactory = contextFactory

    @classmethod
    def new(cls, reactor: Any, url: str, contextFactory: Any = None) -> WebSocketClientEndpoint:
        """Make an endpoint for `url` (ws:// or wss://, verified with `contextFactory`)."""
        return cls(reactor, url, contextFactory)

    def connect(self, protocolFactory: Any) -> Deferred[Any]:
        """Connect and fire with the factory's protocol once the handshake is done."""
        try:
            factory = WebSocketClientFactory(self._url, reactor=self._reactor)
        except ValueError:
            return fail()
        url = self._url

        class _Built(_TwistedStyleClient):
            def __init__(self) -> None:
                super().__init__(protocolFactory.buildProtocol(url))

        factory.protocol = _Built
        d = connectWebSocket(self._reactor, url, factory, self._contextFactory)
        return d.addCallback(lambda adapter: adapter._wrapped)
