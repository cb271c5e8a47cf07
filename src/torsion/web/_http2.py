"""The server side of one HTTP/2 connection (Twisted's twisted.web._http2), built on h2.

Theory of operation: `H2Connection` is the connection's protocol; h2's sans-I/O
``H2Connection`` parses frames and keeps the protocol state, and this module maps its
events onto torsion Requests. Each stream gets an `H2Stream`, which is the Request's
channel *and* its transport, so the Request (and any subclass, resource, producer or
encoder) runs unchanged: it serialises its response head as HTTP/1.x bytes as always,
and the stream turns that head into HEADERS (status and header fields, connection-specific
fields dropped, RFC 9113 §8.2.2) and the body into DATA frames. The Request sees
``clientproto == b"HTTP/2"``, so it never chunks; the end of the body is ``finish``,
which becomes END_STREAM.

Output is batched: writes land in the stream's buffer, and one flush per reactor turn
(or at the end of the ``dataReceived`` that caused them) moves what the peer's flow
control windows allow into h2 and h2's bytes to the transport, so a small response is one
HEADERS and one DATA frame carrying END_STREAM. A stream holding more than `HIGH_WATER`
unsent bytes pauses its Request's producer, as does the transport's own backpressure;
both resume when the peer opens its window (WINDOW_UPDATE) or the transport drains. A
client that does not read therefore makes the server hold at most about a window and a
high-water mark per stream.

Input: request bodies go to ``Request.handleContentChunk`` (spooled to disk past
``maxMemoryBody``, as for HTTP/1.1) and are acknowledged at once, so uploads never stall
on flow control; the Site's ``maxBodyBytes`` answers 413 and resets the stream. Anything h2
calls a protocol violation (bad preface, invalid or oversized header blocks, too many
streams, window overflow) ends the connection with GOAWAY and h2's error code; a stream
the client resets tells its Request ``connectionLost`` (notifyFinish errbacks).

The end: the Site's ``timeOut`` closes a connection that sent nothing for that long
unless a served stream is still being answered (one stuck behind a closed window does
not count, so a client that stops reading is timed out too). Idle timeout,
``loseConnection`` and the reactor's shutdown (one "before shutdown" trigger per reactor)
send GOAWAY NO_ERROR first; a connection that has not closed `abortTimeout` seconds
after GOAWAY is aborted.
"""

from __future__ import annotations

import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
from h2.errors import ErrorCodes

from torsion.internet.protocol import Protocol
from torsion.logger import Logger
from torsion.python.failure import Failure
from torsion.web._http1 import Limits
from torsion.web._request import Request, _connectionLostError
from torsion.web.http_headers import Headers

if TYPE_CHECKING:
    from torsion.internet.interfaces import (
        IDelayedCall,
        IProducer,
        IPullProducer,
        IPushProducer,
    )

__all__ = ["H2Connection", "H2Stream"]

_log = Logger()

HIGH_WATER = 64 * 1024
"""Unsent response bytes a stream holds before it pauses its Request's producer."""

_CONNECTION_HEADERS = frozenset(
    (b"connection", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"upgrade", b"te")
)
"""RFC 9113 §8.2.2: connection-specific fields must not appear in an HTTP/2 message."""

_CLIENTPROTO = b"HTTP/2"


def _streamResetError() -> Exception:
    from torsion.internet.error import ConnectionLost

    return ConnectionLost("HTTP/2 stream reset by the client")


def _parseHead(head: bytes) -> list[tuple[bytes, bytes]]:
    """Turn an HTTP/1.x response head the Request serialised into HTTP/2 header fields.

    The status line gives ``:status`` (RFC 9113 §8.3.2: HTTP/2 has no reason phrase);
    names are lower-cased (§8.2) and connection-specific fields dropped (§8.2.2). What
    h2's outbound validation would check again (no CR, LF or NUL, names without ':' or
    white space) torsion's Headers already enforce, so it is off: it costs about 8% of
    a small request. Raise ValueError for a head that is not well formed.
    """
    lines = head.split(b"\r\n")
    status = lines[0].split(b" ", 2)
    if len(status) < 2 or len(status[1]) != 3 or not status[1].isdigit():
        raise ValueError("bad status line %r" % (lines[0],))
    headers = [(b":status", status[1])]
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(b":")
        name = name.strip().lower()
        if not colon or not name or b"\n" in line or b"\r" in line or b"\x00" in line:
            # torsion's Headers refuse these; only raw bytes written around them get here.
            raise ValueError("malformed response header line %r" % (line,))
        if name in _CONNECTION_HEADERS:
            continue
        headers.append((name, value.strip()))
    return headers


class H2Stream:
    """One HTTP/2 stream: the channel and the transport of one torsion Request.

    Why: the Request writes HTTP/1.x-shaped bytes and calls ``_requestDone``; playing both
    of its peers lets every Request feature (producers, encoders, NOT_DONE_YET,
    notifyFinish) work over HTTP/2 with no HTTP/2 code in the Request.
    """

    def __init__(self, streamID: int, connection: H2Connection) -> None:
        self.streamID = streamID
        self.TLS = connection._secure
        self._connection = connection
        self.factory: Any = connection.factory
        self.site: Any = connection.site
        self._secure: bool = connection._secure
        self.transport: H2Stream = self
        self.request: Request | None = None
        self._head: bytes | None = b""
        """Response head bytes gathered so far; None once HEADERS went out."""
        self._out: deque[bytes] = deque()
        self._offset = 0
        """How much of ``_out[0]`` is already sent."""
        self._outBytes = 0
        self._finished = False
        """The Request finished: END_STREAM goes out once the buffer is sent."""
        self._ended = False
        """END_STREAM (or RST_STREAM) went out: nothing more is sent."""
        self._gone = False
        """The stream is closed (reset either way, or the connection ended)."""
        self._reset = False
        """The Request asked to lose the connection: reset the stream instead of ending it."""
        self._bodyBytes = 0
        self._rejected = False
        self._served = False
        self.producer: IProducer | None = None
        self._streaming = False
        self._producerPaused = False
        self._pullScheduled = False

    # -- the transport side, as the Request sees it -------------------------------------

    def write(self, data: bytes) -> None:
        """Queue response bytes: the head (until its blank line), then body."""
        if self._gone or self._ended or self._reset or not data:
            return
        head = self._head
        if head is not None:
            head += data
            end = head.find(b"\r\n\r\n")
            if end < 0:
                self._head = head
                return
            self._sendHead(head[: end + 4])
            data = head[end + 4 :]
            if self._head is not None:
                # An informational (1xx) head went out: a final head follows.
                self._head = b""
                self.write(data)
                return
            if not data:
                return
        self._out.append(data)
        self._outBytes += len(data)
        self._connection._dirty(self)
        if self._outBytes >= HIGH_WATER:
            self._updateProducer()

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Queue several pieces of response bytes."""
        for piece in data:
            self.write(piece)

    def _sendHead(self, head: bytes) -> None:
        try:
            headers = _parseHead(head)
        except ValueError as e:
            _log.error("Invalid response head on HTTP/2 stream {id}: {e}", id=self.streamID, e=e)
            self._head = None
            self.loseConnection()
            return
        informational = headers[0][1][:1] == b"1"
        if not informational:
            self._head = None
        elif headers[0][1] == b"101":
            # RFC 9113 §8.6: HTTP/2 has no protocol switching.
            self.loseConnection()
            return
        try:
            self._connection._h2.send_headers(self.streamID, headers)
        except (h2.exceptions.ProtocolError, ValueError, TypeError) as e:
            _log.error("Invalid response headers on HTTP/2 stream {id}: {e}",
                       id=self.streamID, e=e)
            self.loseConnection()
            return
        self._connection._dirty(self)

    def loseConnection(self) -> None:
        """End this stream abruptly (RST_STREAM): the connection carries other streams.

        Why: a Request closes "its connection" after a failure part way through a response
        so the client sees it truncated; over HTTP/2 that is resetting the one stream.
        """
        if self._gone or self._ended:
            return
        self._reset = True
        self._out.clear()
        self._offset = self._outBytes = 0
        self._connection._dirty(self)

    abortConnection = loseConnection

    def getPeer(self) -> Any:
        """Return the client's address (the connection's)."""
        return self._connection.transport.getPeer()

    def getHost(self) -> Any:
        """Return the local address (the connection's)."""
        return self._connection.transport.getHost()

    def getPeerCertificate(self) -> Any:
        """Return the client's TLS certificate, if the connection has one."""
        get = getattr(self._connection.transport, "getPeerCertificate", None)
        return get() if get is not None else None

    @property
    def negotiatedProtocol(self) -> bytes:
        """The ALPN protocol of the connection: always h2 here."""
        return b"h2"

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """Pace the response by `producer`: paused while this stream cannot send."""
        if self.producer is not None:
            raise RuntimeError("a producer is already registered with this stream")
        if self._gone:
            producer.stopProducing()
            return
        self.producer = producer
        self._streaming = streaming
        self._producerPaused = False
        if not streaming:
            self._schedulePull()
        else:
            self._updateProducer()

    def unregisterProducer(self) -> None:
        """Stop pacing the response by the registered producer."""
        self.producer = None
        self._producerPaused = False

    def _wantsPause(self) -> bool:
        return self._outBytes >= HIGH_WATER or self._connection._writePaused

    def _updateProducer(self) -> None:
        """Pause or resume the producer as the buffer and the transport allow."""
        producer = self.producer
        if producer is None or self._gone:
            return
        if not self._streaming:
            if not self._wantsPause():
                self._schedulePull()
            return
        pause = self._wantsPause()
        if pause and not self._producerPaused:
            self._producerPaused = True
            cast("IPushProducer", producer).pauseProducing()
        elif not pause and self._producerPaused:
            self._producerPaused = False
            cast("IPushProducer", producer).resumeProducing()

    def _schedulePull(self) -> None:
        if not self._pullScheduled:
            self._pullScheduled = True
            self._connection._callLater(0, self._pull)

    def _pull(self) -> None:
        """Ask a pull producer for more, once per reactor turn while the stream has room."""
        self._pullScheduled = False
        producer = self.producer
        if producer is None or self._streaming or self._gone or self._wantsPause():
            return
        try:
            cast("IPullProducer", producer).resumeProducing()
        except Exception:
            _log.failure("Producer failed on HTTP/2 stream {id}", id=self.streamID)
            self.loseConnection()
            return
        if self.producer is producer and not self._wantsPause():
            self._schedulePull()

    # -- the channel side, as the Request sees it ---------------------------------------

    def _requestDone(self, request: Request) -> None:
        """The Request finished its response: END_STREAM once the buffer is sent."""
        factory = self.factory
        if factory is not None and getattr(factory, "_accessLog", False):
            factory.log(request)
        self._finished = True
        self._connection._dirty(self)

    def _rejectRequest(self, request: Request, code: int, reason: str) -> None:
        """Answer a complete request found malformed (e.g. its form body)."""
        request._disconnected = True
        self._reject(code, reason)

    def _switchTo(self, request: Request, protocol: Any) -> None:
        raise RuntimeError("HTTP/2 streams cannot switch protocols (RFC 9113 §8.6)")

    # -- driven by the connection --------------------------------------------------------

    def _reject(self, code: int, reason: str) -> None:
        """Answer `code` on this stream before the Request is served, and stop reading it.

        RFC 9113 §8.1: a server may answer before the request is complete and then
        reset the stream with NO_ERROR so the client stops sending.
        """
        if self._rejected or self._gone:
            return
        self._rejected = True
        body = ("<html><head><title>%d %s</title></head><body><h1>%d %s</h1></body></html>"
                % (code, reason, code, reason)).encode("utf-8")
        request = self.request
        if request is not None:
            request._disconnected = True
        conn = self._connection
        try:
            conn._h2.send_headers(self.streamID, [
                (b":status", b"%d" % (code,)),
                (b"content-type", b"text/html; charset=utf-8"),
                (b"content-length", b"%d" % (len(body),)),
            ])
            conn._h2.send_data(self.streamID, body, end_stream=True)
        except h2.exceptions.ProtocolError:
            pass
        self._head = None
        self._ended = True
        if not self._closedByPeer():
            try:
                conn._h2.reset_stream(self.streamID, ErrorCodes.NO_ERROR)
            except h2.exceptions.ProtocolError:
                pass
        conn._forget(self)
        conn._scheduleFlush()

    def _closedByPeer(self) -> bool:
        stream = self._connection._h2.streams.get(self.streamID)
        return stream is None or stream.closed

    def _dataReceived(self, data: bytes, flowLength: int) -> None:
        """A piece of the request body arrived: keep it (bounded), acknowledge it."""
        conn = self._connection
        try:
            conn._h2.acknowledge_received_data(flowLength, self.streamID)
        except h2.exceptions.ProtocolError:
            pass
        if self._rejected or self._gone:
            return
        self._bodyBytes += len(data)
        if self._bodyBytes > conn.limits.maxBodyBytes:
            self._reject(413, "Content Too Large")
            return
        request = self.request
        if request is not None and data:
            request.handleContentChunk(data)

    def _requestComplete(self) -> None:
        """The client ended its side: process the Request (as HTTPChannel does)."""
        request = self.request
        if request is None or self._rejected or self._gone:
            return
        self._served = True
        try:
            request._serve()
        except Exception:
            _log.failure("Unhandled error processing {request}", request=request)
            if not request.finished and not request._disconnected:
                if request.startedWriting:
                    request.finished = True
                    self.loseConnection()
                else:
                    request.setResponseCode(500)
                    request.responseHeaders = Headers()
                    request.setHeader(b"content-type", b"text/html")
                    request._writeWhole(
                        b"<html><body><h1>500 Internal Server Error</h1></body></html>")

    def _send(self) -> int:
        """Move what the flow-control windows allow from the buffer into h2.

        Return how many body bytes were moved.
        """
        if self._gone:
            return 0
        conn = self._connection
        h2conn = conn._h2
        sid = self.streamID
        if self._reset:
            self._ended = True
            try:
                h2conn.reset_stream(sid, ErrorCodes.INTERNAL_ERROR)
            except h2.exceptions.ProtocolError:
                pass
            self._lost(Failure(_connectionLostError()))
            return 0
        if self._ended:
            return 0
        out = self._out
        sentEnd = False
        moved = self._outBytes
        try:
            # While the transport's buffer is full, bytes stay here (not in h2 or the
            # transport), where they count against the producer's high-water mark.
            while out and not conn._writePaused:
                window = min(h2conn.local_flow_control_window(sid),
                             h2conn.max_outbound_frame_size)
                if window <= 0:
                    break
                first = out[0]
                offset = self._offset
                if len(first) - offset > window:
                    # Cut a frame's worth from a large write without copying the rest.
                    chunk = first[offset : offset + window]
                    self._offset = offset + window
                else:
                    chunk = first[offset:] if offset else first
                    out.popleft()
                    self._offset = 0
                self._outBytes -= len(chunk)
                sentEnd = self._finished and not out
                h2conn.send_data(sid, chunk, end_stream=sentEnd)
            if self._finished and not out:
                self._ended = True
                if self._head is not None:
                    # Finished without a complete head (a Request subclass that wrote
                    # none): nothing valid can be sent.
                    h2conn.reset_stream(sid, ErrorCodes.INTERNAL_ERROR)
                elif not sentEnd:
                    h2conn.end_stream(sid)
                conn._forget(self)
                return moved
        except h2.exceptions.ProtocolError as e:
            _log.info("HTTP/2 stream {id} ended: {e}", id=sid, e=e)
            self._lost(Failure(_connectionLostError()))
            return 0
        moved -= self._outBytes
        if self.producer is not None:
            self._updateProducer()
        return moved

    def _stalled(self) -> bool:
        """Whether response bytes wait on the client (its window, or the transport)."""
        if not self._out:
            return False
        return (self._connection._writePaused
                or self._connection._h2.local_flow_control_window(self.streamID) <= 0)

    def _lost(self, reason: Failure) -> None:
        """The stream is gone before the response ended: tell the Request."""
        if self._gone:
            return
        self._gone = True
        self._ended = True
        self._out.clear()
        self._offset = self._outBytes = 0
        self._connection._forget(self)
        producer = self.producer
        request = self.request
        if request is not None:
            request.connectionLost(reason)
        elif producer is not None:
            producer.stopProducing()
        self.producer = None


_liveByReactor: weakref.WeakKeyDictionary[Any, set[H2Connection]] = (
    weakref.WeakKeyDictionary()
)
"""The open HTTP/2 connections of each reactor, told GOAWAY when it shuts down."""


def _goAwayAll(live: set[H2Connection]) -> None:
    """The reactor is shutting down: every open HTTP/2 connection says GOAWAY and closes.

    Why: RFC 9113 §6.8: GOAWAY (NO_ERROR, with the last stream processed) tells clients
    the close is deliberate and which requests they may safely retry elsewhere.
    """
    for connection in list(live):
        connection.loseConnection()


def _track(reactor: Any, connection: H2Connection) -> set[H2Connection] | None:
    """Register `connection` for GOAWAY at `reactor`'s shutdown (one trigger per reactor)."""
    try:
        live = _liveByReactor.get(reactor)
    except TypeError:  # a reactor that cannot be weakly referenced: not tracked
        return None
    if live is None:
        add = getattr(reactor, "addSystemEventTrigger", None)
        if add is None:
            return None
        live = _liveByReactor[reactor] = set()
        add("before", "shutdown", _goAwayAll, live)
    live.add(connection)
    return live


class H2Connection(Protocol):
    """A server-side HTTP/2 connection serving a Site's resources (Twisted's H2Connection).

    Why: the same Site, Requests and resources answer HTTP/1.1 and HTTP/2; this protocol
    replaces HTTPChannel on a connection whose TLS handshake chose ``h2`` by ALPN.
    """

    requestFactory: Callable[..., Request] = Request
    timeOut: float | None = 60.0
    maxConcurrentStreams = 100
    """SETTINGS_MAX_CONCURRENT_STREAMS: streams a client may have open at once."""
    resetBurst = 1000
    resetRate = 33.0
    """Stream resets by the client are paid from a bucket of `resetBurst` tokens refilled
    at `resetRate` a second; an empty bucket sends the client away (ENHANCE_YOUR_CALM).

    Why: the "rapid reset" attack (CVE-2023-44487) opens and cancels streams at once,
    each costing the server a request started for nothing, yet never exceeding the
    concurrent-stream limit; browsers cancelling now and then never run the bucket dry."""
    abortTimeout: float | None = 15.0
    """Seconds a connection closing after GOAWAY may take to drain before it is aborted
    (a client that stops reading would otherwise hold it open forever)."""

    def __init__(self, site: Any = None, reactor: Any = None) -> None:
        Protocol.__init__(self)
        self.site = site
        self.factory: Any = site
        self._reactor = reactor
        self.limits = Limits()
        config = h2.config.H2Configuration(
            client_side=False, header_encoding=None,
            validate_inbound_headers=True, normalize_inbound_headers=True,
            validate_outbound_headers=False, normalize_outbound_headers=False,
        )
        self._h2 = h2.connection.H2Connection(config=config)
        self._streams: dict[int, H2Stream] = {}
        self._dirtyStreams: dict[int, H2Stream] = {}
        self._inReceive = False
        self._flushCall: IDelayedCall | None = None
        self._timer: IDelayedCall | None = None
        self._writePaused = False
        self._closing = False
        self._secure = False
        self._resetTokens = float(self.resetBurst)
        self._resetClock = 0.0
        self._abortCall: IDelayedCall | None = None
        self._live: set[H2Connection] | None = None
        self._lastActivity = 0.0
        self._seconds: Callable[[], float] = time.monotonic
        self._callLaterImpl: Callable[..., IDelayedCall] | None = None
        if site is not None:
            self.requestFactory = getattr(site, "requestFactory", Request)
            self.timeOut = getattr(site, "timeOut", self.timeOut)
            self.limits = getattr(site, "limits", self.limits)

    def _callLater(self, delay: float, f: Callable[..., object], *args: Any) -> IDelayedCall:
        assert self._callLaterImpl is not None
        return self._callLaterImpl(delay, f, *args)

    def connectionMade(self) -> None:
        reactor = self._reactor
        if reactor is None and self.factory is not None:
            reactor = getattr(self.factory, "_reactor", None)
        if reactor is None:
            from torsion.internet import reactor as globalReactor

            reactor = globalReactor
        self._callLaterImpl = reactor.callLater
        self._seconds = reactor.seconds
        self._live = _track(reactor, self)
        self._lastActivity = self._resetClock = self._seconds()
        self._resetTokens = float(self.resetBurst)
        self._secure = bool(getattr(self.transport, "TLS", False))
        conn = self._h2
        # Our limits, in force from the first frame (not only once the client ACKs them).
        conn.local_settings = h2.settings.Settings(client=False, initial_values={
            h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: self.maxConcurrentStreams,
            h2.settings.SettingCodes.MAX_HEADER_LIST_SIZE: self.limits.maxHeaderBytes,
            h2.settings.SettingCodes.ENABLE_PUSH: 0,
        })
        conn.decoder.max_header_list_size = self.limits.maxHeaderBytes
        conn.initiate_connection()
        self.transport.registerProducer(self, True)
        self._flush()
        if self.timeOut is not None:
            self._timer = self._callLater(self.timeOut, self._checkTimeout)

    # -- input -----------------------------------------------------------------------------

    def dataReceived(self, data: bytes) -> None:
        if self._closing:
            return
        self._lastActivity = self._seconds()
        self._inReceive = True
        try:
            try:
                events = self._h2.receive_data(data)
            except h2.exceptions.ProtocolError as e:
                self._protocolError(e)
                return
            for event in events:
                self._handle(event)
                if self._closing:
                    return
        finally:
            self._inReceive = False
            if not self._closing:
                self._flush()

    def _protocolError(self, e: h2.exceptions.ProtocolError) -> None:
        """The client broke the protocol: GOAWAY with h2's error code, then close."""
        code = getattr(e, "error_code", None) or ErrorCodes.PROTOCOL_ERROR
        _log.info("HTTP/2 protocol error from {peer}: {e}", peer=self.transport.getPeer(), e=e)
        self._goAway(code)

    def _goAway(self, code: int) -> None:
        if self._closing:
            return
        self._closing = True
        try:
            self._h2.close_connection(error_code=code)
        except h2.exceptions.ProtocolError:
            pass
        self._writeOut()
        self.transport.loseConnection()
        if self.abortTimeout is not None:
            self._abortCall = self._callLater(self.abortTimeout, self._abort)

    def _abort(self) -> None:
        """The connection did not close within abortTimeout of GOAWAY: drop it."""
        self._abortCall = None
        if self.transport is not None:
            _log.info("Aborting HTTP/2 connection that did not close: {peer}",
                      peer=self.transport.getPeer())
            self.transport.abortConnection()

    def _handle(self, event: h2.events.Event) -> None:
        if isinstance(event, h2.events.RequestReceived):
            self._requestReceived(event)
        elif isinstance(event, h2.events.DataReceived):
            stream = self._streams.get(event.stream_id)
            if stream is not None:
                stream._dataReceived(event.data,
                                     event.flow_controlled_length)
            elif event.flow_controlled_length:
                # A stream already answered (413) or reset: keep the connection window open.
                try:
                    self._h2.acknowledge_received_data(
                        event.flow_controlled_length, event.stream_id)
                except h2.exceptions.ProtocolError:
                    pass
        elif isinstance(event, h2.events.StreamEnded):
            stream = self._streams.get(event.stream_id)
            if stream is not None:
                stream._requestComplete()
        elif isinstance(event, h2.events.StreamReset):
            stream = self._streams.get(event.stream_id)
            if event.remote_reset and not self._payForReset():
                self._goAway(ErrorCodes.ENHANCE_YOUR_CALM)
            if stream is not None:
                stream._lost(Failure(_streamResetError()))
        elif isinstance(event, (h2.events.WindowUpdated, h2.events.RemoteSettingsChanged)):
            # More room to send: every stream with something buffered may go on.
            for stream in self._streams.values():
                if stream._out or stream._finished:
                    self._dirtyStreams[stream.streamID] = stream
        elif isinstance(event, h2.events.ConnectionTerminated):
            # GOAWAY from the client (RFC 9113 §6.8). h2 sends nothing more after it, so
            # streams still open cannot be answered: close, and their Requests hear so.
            self._closing = True
            self._writeOut()
            self.transport.loseConnection()

    def _payForReset(self) -> bool:
        """Take a token for a stream the client reset; False when the bucket is empty."""
        now = self._seconds()
        tokens = min(float(self.resetBurst),
                     self._resetTokens + (now - self._resetClock) * self.resetRate)
        self._resetClock = now
        if tokens < 1:
            self._resetTokens = tokens
            return False
        self._resetTokens = tokens - 1
        return True

    def _requestReceived(self, event: h2.events.RequestReceived) -> None:
        """A request's header block arrived: build its Request (RFC 9113 §8.3.1)."""
        sid = event.stream_id
        stream = H2Stream(sid, self)
        self._streams[sid] = stream
        pseudo: dict[bytes, bytes] = {}
        wire: list[tuple[bytes, bytes]] = []
        contentLength: int | None = None
        expectContinue = False
        for name, value in event.headers:
            if name[:1] == b":":
                pseudo[name] = value
                continue
            if name == b"content-length":
                try:
                    contentLength = int(value)
                except ValueError:
                    contentLength = None
            elif name == b"expect" and value.lower() == b"100-continue":
                expectContinue = True
            wire.append((name, value))
        method = pseudo.get(b":method", b"")
        path = pseudo.get(b":path", b"")
        if len(wire) > self.limits.maxHeaderCount:
            stream._reject(431, "Request Header Fields Too Large")
            return
        if method == b"CONNECT" or not (path.startswith(b"/") or path == b"*"):
            # No tunnels here (RFC 9113 §8.5); origin-form or * only otherwise (§8.3.1).
            stream._reject(400 if method != b"CONNECT" else 501,
                           "Bad Request" if method != b"CONNECT" else "Not Implemented")
            return
        if len(path) > self.limits.maxUriBytes:
            stream._reject(414, "URI Too Long")
            return
        if contentLength is not None and contentLength > self.limits.maxBodyBytes:
            stream._reject(413, "Content Too Large")
            return
        authority = pseudo.get(b":authority")
        if authority is not None and not any(n == b"host" for n, _ in wire):
            # RFC 9113 §8.3.1: :authority stands in for Host; resources read Host.
            wire.append((b"host", authority))
        request = self.requestFactory(stream)
        stream.request = request
        request.method = method
        request.uri = path
        request.clientproto = _CLIENTPROTO
        if "requestHeaders" in request.__dict__:
            request.requestHeaders = Headers._fromWire(wire)
        else:
            request._wireHeaders = wire
        if not event.stream_ended:
            request.gotLength(contentLength)
            if expectContinue:
                # RFC 9110 §10.1.1: invite the body now; the final response follows.
                try:
                    self._h2.send_headers(sid, [(b":status", b"100")])
                except h2.exceptions.ProtocolError:
                    pass
        # The request is served on h2's StreamEnded event, which follows (also when
        # the header block itself carried END_STREAM).

    # -- output ----------------------------------------------------------------------------

    def _dirty(self, stream: H2Stream) -> None:
        self._dirtyStreams[stream.streamID] = stream
        self._scheduleFlush()

    def _scheduleFlush(self) -> None:
        if self._inReceive or self._flushCall is not None or self._closing:
            return
        if self._callLaterImpl is None:
            return
        self._flushCall = self._callLater(0, self._flush)

    def _flush(self) -> None:
        """Send what the streams have buffered (as far as windows allow), then h2's bytes."""
        self._flushCall = None
        while self._dirtyStreams:
            dirty = self._dirtyStreams
            self._dirtyStreams = {}
            moved = 0
            for stream in dirty.values():
                moved += stream._send()
                if moved >= HIGH_WATER:
                    # Out now, so the transport's backpressure (pauseProducing) can stop
                    # the next stream, or this one's producer, in time.
                    self._writeOut()
                    moved = 0
        self._writeOut()

    def _writeOut(self) -> None:
        data = self._h2.data_to_send()
        if data and self.transport is not None:
            self.transport.write(data)

    def _forget(self, stream: H2Stream) -> None:
        """A stream is over (ended, rejected or reset): drop it."""
        if self._streams.get(stream.streamID) is stream:
            del self._streams[stream.streamID]

    # -- backpressure from the transport -------------------------------------------------

    def pauseProducing(self) -> None:
        """The transport's write buffer is full: pause every stream's producer, and reading.

        Reading pauses too so a client that sends (PINGs, requests) without reading the
        answers cannot make the server buffer without bound.
        """
        if self._writePaused:
            return
        self._writePaused = True
        for stream in list(self._streams.values()):
            stream._updateProducer()
        self.transport.pauseProducing()

    def resumeProducing(self) -> None:
        """The transport drained: resume reading and the streams' producers."""
        if not self._writePaused:
            return
        self._writePaused = False
        self.transport.resumeProducing()
        for stream in list(self._streams.values()):
            if stream._out or stream._finished:
                self._dirtyStreams[stream.streamID] = stream
            stream._updateProducer()
        self._scheduleFlush()

    def stopProducing(self) -> None:
        """The transport is going away (connectionLost follows)."""

    # -- the end ---------------------------------------------------------------------------

    def _checkTimeout(self) -> None:
        """Close a connection that sent nothing for timeOut seconds, unless it waits on us.

        It waits on us while a served stream is being answered; a stream whose answer is
        stuck behind a closed flow-control window (or a full transport) does not count:
        a client that stops reading is thereby timed out like an idle one.
        """
        self._timer = None
        if self._closing or self.transport is None or self.timeOut is None:
            return
        left = self._lastActivity + self.timeOut - self._seconds()
        busy = any(s._served and not s._stalled() for s in self._streams.values())
        if left <= 0 and not busy:
            _log.info("Timing out HTTP/2 client: {peer}", peer=self.transport.getPeer())
            self.loseConnection()
            return
        self._timer = self._callLater(left if left > 0 else self.timeOut, self._checkTimeout)

    def loseConnection(self) -> None:
        """Close gracefully: GOAWAY (NO_ERROR) tells the client which streams were seen.

        RFC 9113 §6.8: the client may retry streams above the last stream id elsewhere.
        """
        self._goAway(ErrorCodes.NO_ERROR)

    def connectionLost(self, reason: Failure | None = None) -> None:
        if reason is None:
            reason = Failure(_connectionLostError())
        self._closing = True
        if self._live is not None:
            self._live.discard(self)
            self._live = None
        if self._timer is not None and self._timer.active():
            self._timer.cancel()
        self._timer = None
        if self._flushCall is not None and self._flushCall.active():
            self._flushCall.cancel()
        self._flushCall = None
        if self._abortCall is not None and self._abortCall.active():
            self._abortCall.cancel()
        self._abortCall = None
        streams = list(self._streams.values())
        self._streams.clear()
        self._dirtyStreams.clear()
        for stream in streams:
            stream._lost(reason)
