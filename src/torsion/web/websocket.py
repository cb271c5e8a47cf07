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

Extensions: permessage-deflate (RFC 7692) is offered by the client and accepted by the
server unless ``perMessageDeflate=False``; the codec is wsproto's, wrapped by
`_BoundedDeflate` so that inflating stops at ``maxMessageSize`` (wsproto alone inflates a
whole received chunk at once: 64 KB of a zip bomb becomes 64 MB before anyone can look).
Negotiation parameters are parsed strictly (RFC 6455 §9.1, RFC 7692 §7) and only a
canonical form is handed to wsproto, whose own parser trusts its input; both pieces live in
the private module `torsion.web._websocket_deflate`.

Keepalive: ``keepaliveInterval`` seconds after opening (and after each answer) a ping with
a random payload is sent; if nothing at all arrives within ``keepaliveTimeout`` the peer is
taken for dead: a 1011 close is written and the connection aborted.

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
import os
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
from torsion.web._websocket_deflate import DEFLATE, _BoundedDeflate, _parseExtensions
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


KEEPALIVE_INTERVAL = 20.0
KEEPALIVE_TIMEOUT = 20.0


class WebSocketProtocol(Protocol):
    """A WebSocket connection: override onOpen, onMessage and onClose.

    Why: one class serves both ends; the subclasses only differ in how the opening
    handshake is done.
    """

    maxMessageSize = 16 * 1024 * 1024
    closeTimeout = 5.0
    # Options the factories set from their keywords; these are the defaults.
    perMessageDeflate = True
    keepaliveInterval: float | None = KEEPALIVE_INTERVAL
    keepaliveTimeout: float | None = KEEPALIVE_TIMEOUT

    subprotocol: str | None = None
    _ws: Any = None
    _open = False
    _closed = False
    _wasClean = False
    _closeCode: int | None = None
    _closeReason: str | None = None
    _closeTimer: Any = None
    _reactor: Any = None
    _deflate: _BoundedDeflate | None = None
    _keepaliveTimer: Any = None
    _keepalivePayload: bytes | None = None  # the ping awaiting its answer
    _lastKeepalivePayload: bytes | None = None  # its pong is ours, not the user's
    _heardSincePing = False

    def __init__(self) -> None:
        self._pieces: list[bytes] = []
        self._size = 0
        self._textMessage = False

    @property
    def extensionsInUse(self) -> tuple[str, ...]:
        """Names of the extensions negotiated for this connection, e.g. permessage-deflate."""
        deflate = self._deflate
        return (DEFLATE,) if deflate is not None and deflate.enabled() else ()

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
        self._stopKeepalive()
        self.transport.write(self._ws.send(CloseConnection(code=code, reason=reason)))
        reactor = self._reactor
        if reactor is not None:
            self._closeTimer = reactor.callLater(self.closeTimeout, self._closeTimedOut)

    def _closeTimedOut(self) -> None:
        self._closeTimer = None
        self.transport.abortConnection()

    def _failConnection(self, code: int, reason: str, abort: bool = False) -> None:
        """Fail the WebSocket connection (RFC 6455 §7.1.7): say why, then drop TCP.

        The close frame tells a live peer the reason; there is no waiting for its answer,
        and `abort` also discards unsent data (for a peer that stopped reading).
        """
        ws = self._ws
        self._stopKeepalive()
        self._closeCode = code
        self._closeReason = reason
        if ws is not None and ws.state is ConnectionState.OPEN:
            self.transport.write(ws.send(CloseConnection(code=code, reason=reason)))
        self._closed = True
        if abort:
            self.transport.abortConnection()
            return
        self.transport.loseConnection()
        if self._reactor is not None and self._closeTimer is None:
            # A peer that does not read would hold the connection open while unsent
            # data waits; cut it like an unanswered close.
            self._closeTimer = self._reactor.callLater(self.closeTimeout, self._closeTimedOut)

    # -- keepalive ------------------------------------------------------------------------

    def _startKeepalive(self) -> None:
        """Schedule the next keepalive ping, if keepalive is on and there is a clock."""
        self._stopKeepalive()
        if self._reactor is not None and self.keepaliveInterval:
            self._keepaliveTimer = self._reactor.callLater(
                self.keepaliveInterval, self._keepalivePing)

    def _stopKeepalive(self) -> None:
        timer = self._keepaliveTimer
        self._keepaliveTimer = None
        self._keepalivePayload = None
        if timer is not None and timer.active():
            timer.cancel()

    def _keepalivePing(self) -> None:
        """Ping the peer; without a timeout this is a plain heartbeat."""
        self._keepaliveTimer = None
        ws = self._ws
        if ws is None or ws.state is not ConnectionState.OPEN:
            return
        payload = self._keepalivePayload = self._lastKeepalivePayload = os.urandom(4)
        self._heardSincePing = False
        self.transport.write(ws.send(Ping(payload=payload)))
        if self.keepaliveTimeout:
            self._keepaliveTimer = self._reactor.callLater(
                self.keepaliveTimeout, self._keepaliveExpired)
        else:
            self._startKeepalive()

    def _keepaliveExpired(self) -> None:
        """No pong in time: dead, unless other bytes arrived (a pong queued behind them)."""
        self._keepaliveTimer = None
        if self._heardSincePing:
            # A pong cannot overtake a long message the peer is still sending; bytes
            # arriving show it is alive, so wait another period rather than cut it off.
            self._heardSincePing = False
            self._keepaliveTimer = self._reactor.callLater(
                self.keepaliveTimeout, self._keepaliveExpired)
            return
        _log.info("WebSocket peer {peer} did not answer a keepalive ping in {timeout}s",
                  peer=self.transport.getPeer(), timeout=self.keepaliveTimeout)
        self._failConnection(CLOSE_INTERNAL_ERROR, "keepalive ping timeout", abort=True)

    def _pongReceived(self, payload: bytes) -> None:
        """Any pong answers the keepalive (RFC 6455 §5.5.3: only the latest ping need be);
        the keepalive's own pongs are not shown to onPong."""
        if self._keepalivePayload is not None:
            self._startKeepalive()
        if payload != self._lastKeepalivePayload:
            self._userCall(self.onPong, payload)

    # -- receiving ------------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        ws = self._ws
        if ws is None or self._closed:
            return
        self._heardSincePing = True
        if self._deflate is not None:
            self._deflate.maxSize = self.maxMessageSize
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
                self._pongReceived(bytes(event.payload))
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
            self._failConnection(CLOSE_MESSAGE_TOO_BIG, "message too big")
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
        self._stopKeepalive()
        if ws.state is ConnectionState.OPEN:
            # Not a close frame: wsproto found the peer's frames broken (bad framing, bad
            # UTF-8, a message inflating past maxMessageSize) and names the code to send.
            code = int(event.code)
            reason = "message too big" if code == CLOSE_MESSAGE_TOO_BIG else (
                event.reason or "protocol error")
            _log.info("WebSocket protocol error from {peer}: {error} ({code})",
                      peer=self.transport.getPeer(), error=reason, code=code)
            self._failConnection(code, reason)
            return
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
        self._startKeepalive()
        self._userCall(self.onOpen)

    def connectionLost(self, reason: Failure | None = None) -> None:
        timer = self._closeTimer
        if timer is not None and timer.active():
            timer.cancel()
        self._closeTimer = None
        self._stopKeepalive()
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
        deflate = self._deflate
        self._ws = Connection(ConnectionType.SERVER,
                              extensions=[deflate] if deflate is not None else None)
        self._opened()

    def _negotiate(self, offers: list[bytes]) -> bytes | None:
        """Pick the first acceptable permessage-deflate offer; the response header or None.

        RFC 7692 §5: offers are in the client's order of preference and one the server
        cannot accept is declined, not fatal; a header that does not parse is declined
        as a whole, so a malformed offer costs the client compression, not the connection.
        """
        if not self.perMessageDeflate or not offers:
            return None
        try:
            parsed = _parseExtensions(b", ".join(offers).decode("ascii"))
        except ValueError:  # includes UnicodeDecodeError
            _log.info("Ignoring a malformed Sec-WebSocket-Extensions header: {value!r}",
                      value=b", ".join(offers)[:200])
            return None
        for name, params in parsed:
            if name != DEFLATE:
                continue
            deflate = _BoundedDeflate(self.maxMessageSize)
            reply = deflate.acceptOffer(params)
            if reply is not None:
                self._deflate = deflate
                return (DEFLATE + ("; " + reply if reply else "")).encode("ascii")
        return None


def _configure(protocol: Any, factory: Any) -> None:
    """Give a built protocol its factory's extension and keepalive options."""
    if isinstance(protocol, WebSocketProtocol):
        protocol.perMessageDeflate = factory.perMessageDeflate
        protocol.keepaliveInterval = factory.keepaliveInterval
        protocol.keepaliveTimeout = factory.keepaliveTimeout


class WebSocketServerFactory(Factory):
    """Builds server protocols; `subprotocols` lists the ones offered, best first.

    `perMessageDeflate` accepts a client's compression offer (RFC 7692);
    `keepaliveInterval` (seconds, None for off) paces pings and `keepaliveTimeout`
    (None: never close) bounds the wait for the answer.
    """

    protocol = WebSocketServerProtocol

    def __init__(
        self,
        subprotocols: Sequence[str] = (),
        reactor: Any = None,
        *,
        perMessageDeflate: bool = True,
        keepaliveInterval: float | None = KEEPALIVE_INTERVAL,
        keepaliveTimeout: float | None = KEEPALIVE_TIMEOUT,
    ) -> None:
        self.subprotocols = list(subprotocols)
        self.reactor = reactor
        self.perMessageDeflate = perMessageDeflate
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveTimeout = keepaliveTimeout

    def buildProtocol(self, addr: Any) -> Protocol | None:
        """Build the protocol and give it this factory's options."""
        protocol = super().buildProtocol(addr)
        _configure(protocol, self)
        return protocol


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
        extensions = protocol._negotiate(
            request.requestHeaders.getRawHeaders(b"sec-websocket-extensions", []))
        if extensions is not None:
            request.setHeader(b"sec-websocket-extensions", extensions)
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
        if self.perMessageDeflate:
            self._deflate = _BoundedDeflate(self.maxMessageSize)
        extra = [(k.encode("latin-1") if isinstance(k, str) else k,
                  v.encode("latin-1") if isinstance(v, str) else v)
                 for k, v in (factory.headers or {}).items()]
        self.transport.write(ws.send(WSRequest(
            host=factory.hostHeader, target=factory.target,
            subprotocols=list(factory.subprotocols), extra_headers=extra,
            extensions=[self._deflate] if self._deflate is not None else [],
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
            except (ProtocolError, ValueError) as e:
                # ValueError: wsproto decodes the answer's headers as ASCII.
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
    """Builds the client protocol for one WebSocket URL (ws:// or wss://).

    The options are WebSocketServerFactory's; `perMessageDeflate` offers compression.
    """

    protocol = WebSocketClientProtocol

    def __init__(
        self,
        url: str,
        headers: dict[str, str] | None = None,
        subprotocols: Sequence[str] = (),
        reactor: Any = None,
        *,
        perMessageDeflate: bool = True,
        keepaliveInterval: float | None = KEEPALIVE_INTERVAL,
        keepaliveTimeout: float | None = KEEPALIVE_TIMEOUT,
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
        self.perMessageDeflate = perMessageDeflate
        self.keepaliveInterval = keepaliveInterval
        self.keepaliveTimeout = keepaliveTimeout
        self._opened: Deferred[Any] | None = None

    def buildProtocol(self, addr: Any) -> Protocol | None:
        """Build the protocol and give it this factory's options."""
        protocol = super().buildProtocol(addr)
        _configure(protocol, self)
        return protocol


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
