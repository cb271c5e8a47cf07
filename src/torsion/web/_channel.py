"""The server side of one HTTP/1.1 connection (Twisted's http.HTTPChannel).

Theory of operation: `HTTPChannel` is the connection's protocol *and* its
`_http1.RequestParser`, so httptools calls straight into it. Each request gets a
`Request` when its head is complete; the request joins the channel's `_queue` and is
processed (``Request._serve``: ``requestReceived`` → ``process``, which
torsion.web.server.Request runs in one frame) when its body is complete. Only the request
at the head of the queue writes to the transport; later ones (pipelining, RFC 9112 §9.3.2)
buffer their output and flush it, in order, when every request before them is finished.

Timeouts (one timer per connection, rescheduled only when it fires): `timeOut` seconds
of silence while idle or while reading a body close the connection; a request head that
is not complete `headerTimeout` seconds after it began is answered 408 and closed.

After a request carrying Upgrade, llhttp stops: the bytes that follow are held until the
request is answered (past maxHeaderBytes of them, reading pauses), then either handed to
the protocol it switched to (Request.switchProtocol; the transport itself is handed over
when it has ``setProtocol``) or parsed as HTTP again.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httptools

from torsion.internet.protocol import Protocol
from torsion.logger import Logger
from torsion.python.failure import Failure
from torsion.web import _http1
from torsion.web._http1 import _HEAD_DONE, _MESSAGE_DONE, ParseError, State
from torsion.web._httputil import INTERNAL_SERVER_ERROR
from torsion.web._request import Request, _connectionLostError
from torsion.web.http_headers import Headers

if TYPE_CHECKING:
    from torsion.internet.interfaces import IDelayedCall

__all__ = ["HTTPChannel"]

_log = Logger()

_HEAD, _BODY, _CLOSED = State.HEAD, State.BODY, State.CLOSED

_HELD_CLOSE = 16
"""Bytes held behind an Upgrade request past this many times maxHeaderBytes close the
connection (reading was paused at one time; the peer's transport ignored it)."""


class HTTPChannel(Protocol, _http1.RequestParser):
    """A server-side HTTP/1.1 connection: parses requests, orders responses, times out.

    Why: one object per connection that httptools calls into directly keeps the
    per-request work to a handful of Python frames.
    """

    requestFactory: Callable[..., Request] = Request
    timeOut: float | None = 60.0
    headerTimeout: float | None = 30.0
    maxPipelined = 32
    """Requests queued behind an unfinished one before reading is paused."""
    _rejected = False
    """True once a request was answered with an error status and the connection is ending."""

    def __init__(self) -> None:
        Protocol.__init__(self)
        _http1.RequestParser.__init__(self)
        self._queue: deque[Request] = deque()
        self._current: Request | None = None
        self._timer: IDelayedCall | None = None
        self._lastActivity = 0.0
        self._headStart = 0.0
        self._paused = False
        self._closing = False
        self._closeAfter = False
        self._secure = False
        self._upgradedTo: Any = None
        self._held: list[bytes] | None = None
        self._heldBytes = 0
        self._callLater: Callable[..., IDelayedCall] | None = None
        self._seconds: Callable[[], float] = time.monotonic

    def connectionMade(self) -> None:
        factory = self.factory
        reactor = getattr(factory, "_reactor", None) if factory is not None else None
        if factory is not None:
            limits = getattr(factory, "limits", None)
            if limits is not None:
                self.limits = limits
        if reactor is None:
            from torsion.internet import reactor as globalReactor

            reactor = globalReactor
        self._secure = _transportIsTLS(self.transport)
        self._callLater = reactor.callLater
        loop = getattr(reactor, "_loop", None)
        # A real reactor's seconds() is its loop's clock; asking the loop directly saves
        # two Python frames on every dataReceived.
        self._seconds = loop.time if loop is not None else reactor.seconds
        self._lastActivity = self._headStart = self._seconds()
        self._scheduleTimer()

    # -- timeouts ------------------------------------------------------------------------

    def _scheduleTimer(self) -> None:
        delays = [d for d in (self.timeOut, self.headerTimeout) if d is not None]
        if delays and self._callLater is not None:
            self._timer = self._callLater(min(delays), self._checkTimeouts)

    def _checkTimeouts(self) -> None:
        """Close the connection if it has been idle or slow for too long, else re-arm."""
        self._timer = None
        if self.transport is None or self._closing:
            return
        now = self._seconds()
        state = self.state
        nextCheck: list[float] = []
        if state is State.HEAD and self.headerTimeout is not None:
            left = self._headStart + self.headerTimeout - now
            if left <= 0:
                # RFC 9110 §15.5.9: 408 tells the client the server gave up waiting.
                self._reject(408, "Request Timeout")
                return
            nextCheck.append(left)
        if self.timeOut is not None and (state is not State.IDLE or not self._queue):
            left = self._lastActivity + self.timeOut - now
            if left <= 0:
                self._timedOut()
                return
            nextCheck.append(left)
        if not nextCheck:
            nextCheck.append(self.timeOut or self.headerTimeout or 60.0)
        assert self._callLater is not None
        self._timer = self._callLater(min(nextCheck), self._checkTimeouts)

    def _timedOut(self) -> None:
        """Close an idle connection (Twisted's timeoutConnection)."""
        _log.info("Timing out client: {peer}", peer=self.transport.getPeer())
        self._closing = True
        self.state = State.CLOSED
        self.transport.loseConnection()

    # -- input -----------------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        # RequestParser.feed, inlined: this runs once per read on every connection.
        now = self._seconds()
        self._lastActivity = now
        state = self.state
        chunkedBody = False
        if state is not _BODY:
            if state is _CLOSED:
                self._dataWhileClosed(data)
                return
            if state is not _HEAD:
                self._headStart = now
            self._headSeen += len(data)
        elif self.chunked:
            chunkedBody = True
            self._framing += len(data)
        try:
            self._parser.feed_data(data)
            if self.state is _HEAD and self._headSeen > self.limits.maxHeaderBytes:
                self.state = _CLOSED
                raise ParseError(431, "Request Header Fields Too Large")
            if chunkedBody:
                self._checkFraming()
        except ParseError as e:
            self._reject(e.code, e.reason)
        except httptools.HttpParserUpgrade as e:
            self._upgradeRequested(data, e)
        except httptools.HttpParserError as e:
            # httptools wraps an exception raised in a callback; ours carry the status.
            cause = e.__context__
            if isinstance(cause, ParseError):
                self._reject(cause.code, cause.reason)
            else:
                self._reject(400, "Bad Request: %s" % (e,))

    # -- protocol switching (RFC 9110 §7.8, §15.2.2) ----------------------------------------

    def _dataWhileClosed(self, data: bytes) -> None:
        """Route bytes arriving after HTTP parsing stopped: to the protocol switched to,
        into the buffer held while an Upgrade request is answered, or nowhere."""
        if self._upgradedTo is not None:
            self._upgradedTo.dataReceived(data)
        elif self._held is not None:
            self._held.append(data)
            self._heldBytes += len(data)
            self._boundHeld()

    def _boundHeld(self) -> None:
        """Keep the bytes held behind an Upgrade request bounded.

        Beyond maxHeaderBytes reading is paused until the request is answered; a
        transport that keeps delivering anyway is closed at `_HELD_CLOSE` times that.
        """
        limit = self.limits.maxHeaderBytes
        if self._heldBytes <= limit:
            return
        if self._heldBytes > limit * _HELD_CLOSE:
            self._held = None
            self._closing = True
            self.transport.loseConnection()
            return
        if not self._paused:
            self._paused = True
            self.transport.pauseProducing()

    def _resumeReading(self) -> None:
        """Resume a transport paused for held bytes (or pipelining)."""
        if self._paused:
            self._paused = False
            self.transport.resumeProducing()

    def _upgradeRequested(self, data: bytes, e: httptools.HttpParserUpgrade) -> None:
        """llhttp stopped after a request carrying Upgrade (or a CONNECT).

        The bytes after it belong to whatever protocol the response decides on: if the
        resource already switched (Request.switchProtocol), they go to the new protocol;
        if the request is still being answered, they are held until it is; otherwise the
        upgrade was declined and they are parsed as HTTP again.
        """
        offset = e.args[0] if e.args and isinstance(e.args[0], int) else len(data)
        rest = data[offset:]
        if self._upgradedTo is not None:
            if rest:
                self._upgradedTo.dataReceived(rest)
            return
        queue = self._queue
        self._parser = httptools.HttpRequestParser(self)
        if self.state is State.CLOSED:
            return
        if queue and not queue[-1].finished:
            self.state = State.CLOSED
            self._held = [rest] if rest else []
            self._heldBytes = len(rest)
            self._boundHeld()
            return
        self.state = State.IDLE
        if rest:
            self.dataReceived(rest)

    def _switchTo(self, request: Request, protocol: Any) -> None:
        """Hand the connection to `protocol` after `request`'s 101 response.

        Bytes already received (held or after the request) are delivered first; then,
        if the transport has ``setProtocol`` (torsion's TCP and TLS connections do),
        later reads and the connection's end go to `protocol` directly; otherwise this
        channel forwards them.
        """
        queue = self._queue
        if queue and queue[0] is request:
            queue.popleft()
        for rest in queue:
            rest._disconnected = True
        queue.clear()
        self.state = State.CLOSED
        self._upgradedTo = protocol
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        factory = self.factory
        if factory is not None and factory._accessLog:
            factory.log(request)
        transport = self.transport
        protocol.makeConnection(transport)
        held = self._held
        self._held = None
        if held:
            protocol.dataReceived(b"".join(held))
        setProtocol = getattr(transport, "setProtocol", None)
        if setProtocol is not None:
            # torsion's connections can hand reads (and connectionLost) straight to the
            # new protocol, with no frame of this channel in between.
            setProtocol(protocol)
        self._resumeReading()

    def _resumeAfterUpgradeDeclined(self) -> None:
        """The Upgrade request was answered normally: parse the held bytes as HTTP."""
        held = self._held
        self._held = None
        if self._closing or self._upgradedTo is not None:
            return
        self.state = State.IDLE
        self._resumeReading()
        if held:
            self.dataReceived(b"".join(held))

    def _reject(self, code: int, reason: str) -> None:
        """Answer a request that cannot be handled with `code` and close the connection.

        Earlier pipelined responses still go out first (they are flushed in order).
        """
        if self._closing or self._rejected:
            return
        self._rejected = True
        self.state = State.CLOSED
        current = self._current
        if current is not None and current in self._queue:
            self._queue.remove(current)
        self._current = None
        body = ("<html><head><title>%d %s</title></head><body><h1>%d %s</h1></body></html>"
                % (code, _htmlEscape(reason), code, _htmlEscape(reason))).encode("utf-8")
        response = (
            _http1.statusLine(code)
            + b"Connection: close\r\nContent-Type: text/html; charset=utf-8\r\n"
            + b"Content-Length: %d\r\n\r\n" % (len(body),)
            + body
        )
        if self._queue:
            # Answer after the requests ahead of us: queue a finished stand-in.
            stand = Request(self)
            stand.finished = True
            stand._active = False
            stand._buffer = [response]
            stand._persistent = False
            self._queue.append(stand)
        else:
            self._closing = True
            self.transport.write(response)
            self.transport.loseConnection()

    def _rejectRequest(self, request: Request, code: int, reason: str) -> None:
        """Answer a complete request found malformed (e.g. its form body) and close.

        As Twisted's _respondToBadRequestAndDisconnect: the resource never sees the
        request; earlier pipelined responses still go out first.
        """
        queue = self._queue
        if request in queue:
            queue.remove(request)
        request._disconnected = True
        self._reject(code, reason)

    def on_headers_complete(self) -> None:
        # RequestParser.on_headers_complete and _headReceived in one frame: this runs for
        # every request. The checks are the parser's (see _http1).
        if self.state is not _HEAD:
            self._fail(400, "Bad Request")  # parsing went on after the connection ended
        self.state = _HEAD_DONE
        limits = self.limits
        headers = self.headers
        if len(headers) > limits.maxHeaderCount or self._headSeen > limits.maxHeaderBytes:
            self._checkHeadLimits()
        self._headSeen = 0
        parser = self._parser
        keepAlive = parser.should_keep_alive()
        version = b"HTTP/1.1" if keepAlive and not self._connection else self._version()
        if self._hosts != 1:
            self._checkHost(version)
        if self._closeAfter:
            # RFC 9112 §9.6: nothing after a request that closes the connection is
            # processed; its bytes are read and dropped.
            return
        request = self.requestFactory(self)
        method = request.method = parser.get_method()
        request.uri = self.uri
        request.clientproto = version
        if "requestHeaders" in request.__dict__:  # a subclass made its own in __init__
            request.requestHeaders = Headers._fromWire(headers)
        else:
            request._wireHeaders = headers  # becomes request.requestHeaders on first use
        if not keepAlive or method == b"CONNECT":
            request._persistent = False
            self._closeAfter = True
        if self._framed:
            if self.chunked:
                request.gotLength(None)
            elif self.contentLength:
                request.gotLength(self.contentLength)
        queue = self._queue
        if queue:
            request._active = False
            if len(queue) >= self.maxPipelined and not self._paused:
                self._paused = True
                self.transport.pauseProducing()
        queue.append(request)
        self._current = request
        if self._framed and self.expectContinue and version == b"HTTP/1.1":
            # RFC 9110 §10.1.1: tell the client to send the body (once it is our turn).
            if request._active:
                self.transport.write(_http1.CONTINUE)
            else:
                request._expectContinue = True

    def _bodyReceived(self, data: bytes) -> None:
        current = self._current
        if current is not None:
            current.handleContentChunk(data)

    def on_message_complete(self) -> None:
        # RequestParser.on_message_complete and _messageComplete in one frame.
        if self.state is not _BODY:
            self._fail(400, "Bad Request")
        self.state = _MESSAGE_DONE
        request = self._current
        self._current = None
        if request is None:
            return
        if self._framed:
            request._expectContinue = False
        try:
            request._serve()
        except Exception:
            _log.failure("Unhandled error processing {request}", request=request)
            if not request.finished and not request._disconnected:
                self._failRequest(request)

    def _failRequest(self, request: Request) -> None:
        """Answer 500 for a request whose processing raised before it wrote anything."""
        if request.startedWriting:
            request._persistent = False
            request.finished = True
            self._requestDone(request)
            return
        request.setResponseCode(INTERNAL_SERVER_ERROR)
        request.responseHeaders = Headers()
        request.setHeader(b"content-type", b"text/html")
        request._writeWhole(b"<html><body><h1>500 Internal Server Error</h1></body></html>")

    # -- output ordering -----------------------------------------------------------------

    def _requestDone(self, request: Request) -> None:
        """A request finished: log it, then let the next queued response out."""
        factory = self.factory
        if factory is not None and factory._accessLog:
            factory.log(request)
        queue = self._queue
        if not queue or queue[0] is not request:
            return  # finished early; it waits its turn with its output buffered
        transport = self.transport
        while queue and queue[0].finished:
            done = queue.popleft()
            if not done._active:
                done._active = True
                if done._buffer:
                    transport.writeSequence(done._buffer)
                    done._buffer = None
            if not done._persistent:
                self._closing = True
                self.state = State.CLOSED
                for rest in queue:
                    rest._disconnected = True
                queue.clear()
                transport.loseConnection()
                return
        if queue:
            queue[0]._activate()
        elif self._held is not None:
            self._resumeAfterUpgradeDeclined()
            return
        if self._paused and len(queue) < self.maxPipelined:
            self._paused = False
            transport.resumeProducing()

    def connectionLost(self, reason: Failure | None = None) -> None:
        if reason is None:
            reason = Failure(_connectionLostError())
        if self._upgradedTo is not None:
            self._upgradedTo.connectionLost(reason)
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        self._closing = True
        queue = self._queue
        self._queue = deque()
        for request in queue:
            request.connectionLost(reason)


def _transportIsTLS(transport: Any) -> bool:
    """Return whether `transport` carries TLS.

    torsion's TLS connections (and any transport providing ISSLTransport the torsion way)
    say so with a true ``TLS`` class attribute; plain connections have ``TLS = False``.
    """
    return bool(getattr(transport, "TLS", False))


def _htmlEscape(s: str) -> str:
    import html

    return html.escape(s, quote=True)
