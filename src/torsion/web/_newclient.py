"""The HTTP/1.1 client connection: write one request, parse its response (httptools).

Theory of operation: `HTTP11ClientProtocol` carries one request at a time (no
pipelining). ``request(req)`` writes the head (and the body, from an IBodyProducer) and
returns a Deferred that fires with a `Response` as soon as the response *head* has been
parsed. The body is handed to whoever calls ``Response.deliverBody(protocol)``; until then
the connection is paused and body bytes already read are buffered, so an unread response
never grows without bound. When the response is complete and both sides agreed to keep the
connection (RFC 9112 §9.3), the protocol goes back to QUIESCENT and reports itself to
``_finishedRequest`` (the pool uses that to cache it).

States (data, not flags)::

    QUIESCENT ──request()──▶ TRANSMITTING ──head parsed──▶ WAITING_BODY ──body done──▶ QUIESCENT
        │                         │                             │
        └─────── connection lost / parse error / abort ─────────┴──▶ CONNECTION_LOST

Response framing (RFC 9112 §6.3) is httptools': Content-Length, chunked, or (neither)
read until the connection closes — such a body ends with `PotentialDataLoss`, because a
close cannot be told apart from a truncation. Responses to HEAD, 1xx, 204 and 304 have no
body; for HEAD the head is cut off by this module (llhttp cannot be told the method).

Errors::

    Exception
     ├─ ResponseDone                 the body was delivered completely (a connectionLost reason)
     ├─ PotentialDataLoss            a close-delimited body ended: it may be truncated
 │                               (torsion.web.http's, as in Twisted)
     ├─ RequestNotSent               the connection was busy or closed; nothing was written
     ├─ ExcessWrite                  an IBodyProducer wrote after it was finished
     ├─ WrongBodyLength              an IBodyProducer wrote more or less than its length
     ├─ ParseError(reason, data)     the response could not be parsed
     │   └─ BadResponseVersion       not HTTP/1.x
     ├─ HeadersTooLarge              the response head passed the size or count limit
     └─ _WrapperException(reasons)   carries the list of Failures that caused it
         ├─ RequestGenerationFailed  the request could not be written (bad header, producer)
         ├─ RequestTransmissionFailed  the connection failed while the request was written
         ├─ ResponseFailed(reasons, response)   the response broke off after its head
         │   └─ ResponseNeverReceived           ... or before any of it arrived
         └─ (torsion.web.client.PartialDownloadError lives with the client helpers)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httptools

from torsion.internet.defer import CancelledError, Deferred, fail, succeed
from torsion.internet.error import ConnectionDone
from torsion.internet.protocol import Protocol
from torsion.logger import Logger
from torsion.python.failure import Failure
from torsion.web.http import PotentialDataLoss
from torsion.web.http_headers import Headers
from torsion.web.iweb import UNKNOWN_LENGTH

__all__ = [
    "BadResponseVersion",
    "ExcessWrite",
    "HeadersTooLarge",
    "HTTP11ClientProtocol",
    "ParseError",
    "PotentialDataLoss",
    "Request",
    "RequestGenerationFailed",
    "RequestNotSent",
    "RequestTransmissionFailed",
    "Response",
    "ResponseDone",
    "ResponseFailed",
    "ResponseNeverReceived",
    "WrongBodyLength",
]

_log = Logger()

MAX_HEADER_BYTES = 65536
"""Default bound on the size of a response head (status line and headers)."""

MAX_HEADER_COUNT = 200
"""Default bound on the number of header fields in a response head."""


# -- errors ----------------------------------------------------------------------------------


class ResponseDone(Exception):
    """The response body was delivered completely (the normal connectionLost reason)."""


class RequestNotSent(Exception):
    """The request was not sent: the connection was busy or already closed."""


class ExcessWrite(Exception):
    """A body producer wrote after its startProducing Deferred had fired."""


class WrongBodyLength(Exception):
    """A body producer wrote a different number of bytes than its declared length."""


class ParseError(Exception):
    """The response could not be parsed; `data` is the offending input."""

    def __init__(self, reason: str, data: bytes = b"") -> None:
        data = data[:256]  # enough to see what went wrong; never a whole body
        super().__init__(reason, data)
        self.reason = reason
        self.data = data


class BadResponseVersion(ParseError):
    """The status line named an HTTP version other than 1.x."""


class HeadersTooLarge(ParseError):
    """The response head passed the size or field-count limit."""


class _WrapperException(Exception):
    """Carries the Failures that caused a request to fail, in `reasons`."""

    def __init__(self, reasons: list[Failure]) -> None:
        super().__init__(reasons)
        self.reasons = reasons

    def __repr__(self) -> str:
        return "<%s: %s>" % (
            type(self).__name__,
            ", ".join(repr(r.value) for r in self.reasons),
        )

    __str__ = __repr__


class RequestGenerationFailed(_WrapperException):
    """The request could not be written (a body producer failed)."""


class RequestTransmissionFailed(_WrapperException):
    """The connection failed while the request was being written."""


class ResponseFailed(_WrapperException):
    """The response could not be received completely; `response` is set if its head was."""

    def __init__(self, reasons: list[Failure], response: Any = None) -> None:
        super().__init__(reasons)
        self.response = response


class ResponseNeverReceived(ResponseFailed):
    """The connection ended before any response arrived."""


# -- request -----------------------------------------------------------------------------------

_CRLF = b"\r\n"
_BODY_METHODS = frozenset((b"POST", b"PUT", b"PATCH"))


def _checkToken(value: bytes, what: str) -> bytes:
    """Reject request-line parts with whitespace or control bytes (RFC 9112 §3)."""
    if not value or any(c <= 0x20 or c == 0x7F for c in value):
        raise ValueError("invalid %s %r" % (what, value))
    return value


class Request:
    """One HTTP request to send: method, target, headers and an optional body producer.

    Why: a value object the pool can re-send on a fresh connection (retry) without
    having touched any transport.
    """

    def __init__(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers,
        bodyProducer: Any,
        persistent: bool = False,
        parsedURI: Any = None,
    ) -> None:
        self.method = _checkToken(method, "method")
        self.uri = _checkToken(uri, "request target")
        self.headers = headers
        self.bodyProducer = bodyProducer
        self.persistent = persistent
        self._parsedURI = parsedURI

    @property
    def absoluteURI(self) -> bytes | None:
        """The full URI this request was made for, if known."""
        return self._parsedURI.toBytes() if self._parsedURI is not None else None

    def _head(self, framing: bytes) -> bytes:
        """Return the request line and header block, with `framing` header lines added."""
        parts = [self.method, b" ", self.uri, b" HTTP/1.1\r\n"]
        for name, values in self.headers.getAllRawHeaders():
            lower = name.lower()
            if lower in (b"content-length", b"transfer-encoding", b"connection"):
                continue  # framing and persistence are ours to decide (RFC 9112 §6)
            for value in values:
                parts += [name, b": ", value, _CRLF]
        parts.append(framing)
        if not self.persistent:
            parts.append(b"Connection: close\r\n")
        parts.append(_CRLF)
        return b"".join(parts)

    def writeTo(self, transport: Any) -> Deferred[None]:
        """Write this request to `transport`; the Deferred fires when the body is sent."""
        producer = self.bodyProducer
        if producer is None:
            framing = b"Content-Length: 0\r\n" if self.method in _BODY_METHODS else b""
            transport.write(self._head(framing))
            return succeed(None)
        length = producer.length
        if length == UNKNOWN_LENGTH:
            transport.write(self._head(b"Transfer-Encoding: chunked\r\n"))
            consumer: _BodyConsumer = _ChunkedConsumer(transport)
        else:
            transport.write(self._head(b"Content-Length: %d\r\n" % (int(length),)))
            consumer = _LengthConsumer(transport, int(length))
        return consumer.run(producer)

    def stopWriting(self) -> None:
        """Stop the body producer (the connection is going away)."""
        producer = self.bodyProducer
        if producer is not None:
            try:
                producer.stopProducing()
            except Exception:
                _log.failure("Error stopping body producer {producer}", producer=producer)


class _BodyConsumer:
    """The IConsumer a body producer writes to; frames the bytes for the wire."""

    def __init__(self, transport: Any) -> None:
        self._transport = transport
        self._finished = False
        self._registered = False
        self._producer: Any = None

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        """Nothing to do: the producer is registered with the transport by `run`."""

    def unregisterProducer(self) -> None:
        """Nothing to do: `run` unregisters when the producer is done."""

    def write(self, data: bytes) -> None:
        if self._finished:
            raise ExcessWrite()
        self._write(data)

    def _write(self, data: bytes) -> None:
        raise NotImplementedError

    def _end(self) -> None:
        """Write the end of the body; raise WrongBodyLength if it is short."""

    def _unregister(self) -> None:
        if self._registered:
            self._registered = False
            self._transport.unregisterProducer()

    def run(self, producer: Any) -> Deferred[None]:
        """Run `producer` into this consumer; fire when it is done and the body is whole."""
        self._producer = producer
        self._transport.registerProducer(producer, True)
        self._registered = True
        try:
            d: Deferred[None] = producer.startProducing(self)
        except Exception:
            self._unregister()
            return fail(RequestGenerationFailed([Failure()]))

        def done(_: object) -> None:
            self._unregister()
            self._finished = True
            self._end()

        def failed(reason: Failure) -> Failure:
            self._finished = True
            self._unregister()
            if reason.check(_WrapperException):
                return reason
            return Failure(RequestGenerationFailed([reason]))

        return d.addCallback(done).addErrback(failed)


class _LengthConsumer(_BodyConsumer):
    """Writes a body of a declared length, refusing to write more (RFC 9112 §6.2)."""

    def __init__(self, transport: Any, length: int) -> None:
        super().__init__(transport)
        self._remaining = length

    def _write(self, data: bytes) -> None:
        self._remaining -= len(data)
        if self._remaining < 0:
            self._finished = True
            if self._producer is not None:
                self._producer.stopProducing()
            raise WrongBodyLength("too many bytes written")
        self._transport.write(data)

    def _end(self) -> None:
        if self._remaining:
            raise WrongBodyLength("%d bytes short" % (self._remaining,))


class _ChunkedConsumer(_BodyConsumer):
    """Writes a body of unknown length as chunks (RFC 9112 §7.1)."""

    def _write(self, data: bytes) -> None:
        if data:
            self._transport.writeSequence([b"%x\r\n" % (len(data),), data, _CRLF])

    def _end(self) -> None:
        self._transport.write(b"0\r\n\r\n")


# -- response ----------------------------------------------------------------------------------


class _ProducerProxy:
    """What a body protocol sees as its transport: pause/resume/stop the connection.

    Why: the protocol can apply backpressure, or stop the download, without being able
    to write to the server or touch the connection after the response is done.
    """

    def __init__(self, transport: Any) -> None:
        self._transport: Any = transport

    def pauseProducing(self) -> None:
        if self._transport is not None:
            self._transport.pauseProducing()

    def resumeProducing(self) -> None:
        if self._transport is not None:
            self._transport.resumeProducing()

    def stopProducing(self) -> None:
        if self._transport is not None:
            self._transport.abortConnection()
            self._transport = None

    def loseConnection(self) -> None:
        self.stopProducing()

    def _release(self) -> None:
        self._transport = None


class Response:
    """An HTTP response as the client sees it (IResponse).

    Why: the head (version, code, phrase, headers, length) is known when this object is
    made; the body arrives later through ``deliverBody`` so that large bodies stream.
    """

    def __init__(
        self,
        version: tuple[bytes, int, int],
        code: int,
        phrase: bytes,
        headers: Headers,
        transport: Any,
        request: Any = None,
        length: int | str = UNKNOWN_LENGTH,
    ) -> None:
        self.version = version
        self.code = code
        self.phrase = phrase
        self.headers = headers
        self.length: int | str = length
        self.request = request
        self.previousResponse: Response | None = None
        self._proxy = _ProducerProxy(transport)
        self._buffer: list[bytes] | None = []
        self._protocol: Any = None
        self._finishedReason: Failure | None = None
        self._delivered = False

    @classmethod
    def _construct(
        cls,
        version: tuple[bytes, int, int],
        code: int,
        phrase: bytes,
        headers: Headers,
        transport: Any,
        request: Any = None,
    ) -> Response:
        """Twisted's alternate constructor (used by tests and wrappers)."""
        return cls(version, code, phrase, headers, transport, request)

    def __repr__(self) -> str:
        return "<Response %d %s>" % (self.code, self.phrase.decode("latin-1"))

    def setPreviousResponse(self, response: Response | None) -> None:
        """Record the response (a redirect) that led to this one."""
        self.previousResponse = response

    def deliverBody(self, protocol: Any) -> None:
        """Deliver the body to `protocol`: makeConnection, dataReceived…, connectionLost.

        connectionLost gets ResponseDone when the body is complete, PotentialDataLoss for
        a close-delimited body, or ResponseFailed if the connection broke.
        """
        if self._delivered:
            raise RuntimeError("Response.deliverBody called twice")
        self._delivered = True
        self._protocol = protocol
        protocol.makeConnection(self._proxy)
        buffered = self._buffer
        self._buffer = None
        if buffered:
            for data in buffered:
                protocol.dataReceived(data)
        if self._finishedReason is not None:
            self._finish(self._finishedReason)
        else:
            self._proxy.resumeProducing()

    def _bodyDataReceived(self, data: bytes) -> None:
        protocol = self._protocol
        if protocol is not None:
            protocol.dataReceived(data)
        elif self._buffer is not None:
            self._buffer.append(data)

    def _bodyDataFinished(self, reason: Failure | None = None) -> None:
        if reason is None:
            reason = Failure(ResponseDone("Response body fully received"))
        self._proxy._release()
        if self._finishedReason is not None:
            return
        self._finishedReason = reason
        if self._protocol is not None:
            self._finish(reason)

    def _finish(self, reason: Failure) -> None:
        protocol = self._protocol
        self._protocol = None
        if protocol is None:
            return
        try:
            protocol.connectionLost(reason)
        except Exception:
            _log.failure("Error in {protocol}.connectionLost", protocol=protocol)


# -- protocol ----------------------------------------------------------------------------------

QUIESCENT = "QUIESCENT"
TRANSMITTING = "TRANSMITTING"
WAITING_BODY = "WAITING_BODY"
CONNECTION_LOST = "CONNECTION_LOST"

_NO_BODY_CODES = frozenset((204, 304))


class HTTP11ClientProtocol(Protocol):
    """One client connection speaking HTTP/1.1, one request at a time.

    Why: the pool hands these out; keeping one request per connection in flight means a
    failed request can never take another request's response.
    """

    maxHeaderBytes = MAX_HEADER_BYTES
    maxHeaderCount = MAX_HEADER_COUNT

    def __init__(self, quiescentCallback: Callable[[HTTP11ClientProtocol], object] | None = None):
        self._quiescentCallback = quiescentCallback
        self.state = QUIESCENT
        self._request: Request | None = None
        self._responseDeferred: Deferred[Response] | None = None
        self._response: Response | None = None
        self._parser: Any = None
        self._bodySent = False
        self._keepAlive = False
        # Head under construction.
        self._phrase = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._headBytes = 0
        self._headDone = False
        self._headBuffer = b""
        self._abortReason: Failure | None = None
        self._generation = 0  # which parser is current (a new one per response)
        self._feeding = 0  # the parser generation the bytes being fed belong to

    # -- requests -------------------------------------------------------------------------

    def request(self, request: Request) -> Deferred[Response]:
        """Send `request`; fire with its Response once the response head is parsed."""
        if self.state != QUIESCENT or self.transport is None:
            return fail(RequestNotSent())
        self.state = TRANSMITTING
        self._request = request
        self._bodySent = False
        self._response = None
        self._resetParser()
        d: Deferred[Response] = Deferred(self._cancel)
        self._responseDeferred = d
        try:
            written = request.writeTo(self.transport)
        except Exception:
            f = Failure()
            self._responseDeferred = None
            self._request = None
            self.state = CONNECTION_LOST
            self.transport.abortConnection()
            return fail(RequestGenerationFailed([f]))
        written.addCallbacks(self._requestWritten, self._requestWriteFailed)
        return d

    def _cancel(self, d: Deferred[Response]) -> None:
        """Cancelling the request before its response head aborts the connection."""
        self._responseDeferred = None
        self._giveUp(Failure(CancelledError()))
        d.errback(Failure(CancelledError()))

    def _requestWritten(self, _: object) -> None:
        self._bodySent = True
        self._maybeDone()

    def _requestWriteFailed(self, reason: Failure) -> None:
        if self.state == CONNECTION_LOST:
            return
        d = self._responseDeferred
        self._responseDeferred = None
        self._giveUp(reason)
        if d is not None:
            d.errback(reason)

    def _giveUp(self, reason: Failure) -> None:
        """Abort the connection because of `reason` (failing whatever is pending)."""
        self._abortReason = reason
        if self._request is not None:
            self._request.stopWriting()
        if self.transport is not None:
            self.transport.abortConnection()

    def abort(self) -> Deferred[None]:
        """Close the connection at once; the Deferred fires when it is closed."""
        if self.state == CONNECTION_LOST:
            return succeed(None)
        done: Deferred[None] = Deferred()
        self._onLost = done
        self.transport.abortConnection()
        return done

    # -- parsing --------------------------------------------------------------------------

    def _resetParser(self) -> None:
        self._generation += 1
        self._parser = httptools.HttpResponseParser(self)
        self._phrase = b""
        self._headers = []
        self._headBytes = 0
        self._headDone = False
        self._headBuffer = b""

    def dataReceived(self, data: bytes) -> None:
        state = self.state
        if state == WAITING_BODY:
            self._feed(data)
            return
        if state != TRANSMITTING:
            if data and state == QUIESCENT:
                # RFC 9112 §9.3: a response nobody asked for: the connection is unusable.
                self._protocolError(ParseError("unexpected data on an idle connection", data))
            return
        request = self._request
        if request is not None and request.method == b"HEAD":
            self._feedHead(data)
            return
        self._headBytes += len(data)
        self._feed(data)
        if not self._headDone and self._headBytes > self.maxHeaderBytes and self.state == state:
            self._protocolError(HeadersTooLarge("response head exceeds %d bytes"
                                                % (self.maxHeaderBytes,)))

    def _feedHead(self, data: bytes) -> None:
        """Feed a HEAD response: only its head, cut off here (RFC 9110 §9.3.2)."""
        buffered = self._headBuffer + data
        while True:
            end = buffered.find(b"\r\n\r\n")
            if end < 0:
                if len(buffered) > self.maxHeaderBytes:
                    self._protocolError(HeadersTooLarge("response head too large"))
                    return
                self._headBuffer = buffered
                return
            head, buffered = buffered[: end + 4], buffered[end + 4:]
            self._headBuffer = b""
            self._feed(head)
            if self.state != TRANSMITTING:
                break
            # A 1xx interim response: go on with the rest.
        if self.state == WAITING_BODY:
            if buffered:
                # Bytes after the head of a HEAD response: nobody asked for them, so
                # the connection cannot be trusted with another request.
                self._keepAlive = False
            self._messageComplete()
            return
        if buffered and self.state != CONNECTION_LOST:
            self.dataReceived(buffered)

    def _feed(self, data: bytes) -> None:
        self._feeding = self._generation
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._protocolError(ParseError("unexpected protocol switch", data))
        except httptools.HttpParserError as e:
            cause = e.__context__
            if isinstance(cause, ParseError):
                self._protocolError(cause)
            else:
                self._protocolError(ParseError(str(e), data))

    def on_message_begin(self) -> None:
        if self.state != TRANSMITTING or self._feeding != self._generation:
            # The second test catches bytes that followed a complete response in the
            # same read: they arrived before any new request was sent.
            # RFC 9112 §9.3: a response nobody asked for: the connection is unusable.
            raise ParseError("unexpected response on an idle connection")
        self._phrase = b""
        self._headers = []

    def on_status(self, status: bytes) -> None:
        self._phrase += status

    def on_header(self, name: bytes, value: bytes) -> None:
        headers = self._headers
        if len(headers) >= self.maxHeaderCount:
            raise HeadersTooLarge("more than %d header fields" % (self.maxHeaderCount,))
        headers.append((name, value))

    def on_headers_complete(self) -> None:
        parser = self._parser
        code = parser.get_status_code()
        version = parser.get_http_version()
        if not version.startswith("1."):
            raise BadResponseVersion("unsupported HTTP version", version.encode("ascii"))
        if 100 <= code < 200:
            # RFC 9110 §15.2: interim responses are skipped; the final one follows.
            self._phrase = b""
            self._headers = []
            return
        self._headDone = True
        request = self._request
        headers = Headers._fromWire(self._headers)
        self._keepAlive = bool(parser.should_keep_alive()) and bool(
            request is not None and request.persistent
        )
        length: int | str = UNKNOWN_LENGTH
        noBody = code in _NO_BODY_CODES or (request is not None and request.method == b"HEAD")
        if noBody:
            length = 0
        else:
            te = headers._getOne(b"transfer-encoding")
            cl = headers._getOne(b"content-length")
            if te is None and cl is not None:
                length = int(cl)
        minor = int(version[2:]) if version[2:].isdigit() else 1
        response = Response(
            (b"HTTP", 1, minor), code, self._phrase, headers, self.transport, request, length
        )
        self._response = response
        self.state = WAITING_BODY
        d = self._responseDeferred
        self._responseDeferred = None
        if not noBody and length != 0:
            # Hold the body until someone asks for it (deliverBody resumes).
            self.transport.pauseProducing()
        if d is not None:
            d.callback(response)

    def on_body(self, body: bytes) -> None:
        response = self._response
        if response is not None:
            response._bodyDataReceived(body)

    def on_message_complete(self) -> None:
        if self.state == WAITING_BODY:
            self._messageComplete()

    def _messageComplete(self) -> None:
        response = self._response
        self._response = None
        if self._keepAlive:
            # Free the connection first, so a request made by whoever reads the end of
            # this body (synchronously) can have it.
            self.state = QUIESCENT
            self._resetParser()
            self._maybeDone()
        else:
            self.state = CONNECTION_LOST
            if self.transport is not None:
                self.transport.resumeProducing()
                self.transport.loseConnection()
        if response is not None:
            response._bodyDataFinished()

    def _maybeDone(self) -> None:
        """Report the connection quiescent once the body is sent and the response read."""
        if self.state != QUIESCENT or not self._bodySent or self._request is None:
            return
        self._request = None
        if self.transport is not None:
            self.transport.resumeProducing()
        callback = self._quiescentCallback
        if callback is not None:
            try:
                callback(self)
            except Exception:
                _log.failure("Error in quiescent callback")

    def _protocolError(self, exc: Exception) -> None:
        """The response is broken: fail it and abort the connection."""
        if self.state == CONNECTION_LOST:
            return
        self._abortReason = Failure(exc)
        if self._request is not None:
            self._request.stopWriting()
        self._fail(self._abortReason)
        self.state = CONNECTION_LOST
        if self.transport is not None:
            self.transport.abortConnection()

    def _fail(self, reason: Failure) -> None:
        """Fail the pending response Deferred or the body being delivered with `reason`."""
        d = self._responseDeferred
        self._responseDeferred = None
        response = self._response
        self._response = None
        if d is not None:
            d.errback(Failure(ResponseNeverReceived([reason])))
        elif response is not None:
            response._bodyDataFinished(Failure(ResponseFailed([reason], response)))

    # -- connection -------------------------------------------------------------------------

    _onLost: Deferred[None] | None = None

    def connectionLost(self, reason: Failure | None = None) -> None:
        if reason is None:
            reason = Failure(ConnectionDone())
        state = self.state
        self.state = CONNECTION_LOST
        if self._abortReason is not None:
            reason = self._abortReason
        if self._request is not None and not self._bodySent:
            self._request.stopWriting()
        if state == WAITING_BODY:
            response = self._response
            te = response.headers._getOne(b"transfer-encoding") if response else None
            if response is not None and response.length == UNKNOWN_LENGTH and te is None \
                    and reason.check(ConnectionDone):
                # RFC 9112 §6.3: a close-delimited body ends with the connection.
                self._response = None
                response._bodyDataFinished(Failure(PotentialDataLoss()))
            else:
                self._fail(reason)
        elif state == TRANSMITTING:
            self._fail(reason)
        onLost = self._onLost
        if onLost is not None:
            self._onLost = None
            onLost.callback(None)
