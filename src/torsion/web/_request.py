"""The server-side HTTP request: what resources read and write (Twisted's http.Request).

Theory of operation: a Request is created by the channel when a request head is
complete, receives its body through ``handleContentChunk``, and is processed once the
body is complete. Writes go to the transport only when the request is at the head of the
channel's queue (``_active``); otherwise they are buffered, so pipelined responses leave
in request order. Attributes most requests never touch (args, content,
received_cookies, the header collections) are created on first access by __getattr__.
"""

from __future__ import annotations

import io
import tempfile
import warnings
from collections.abc import Iterable
from typing import IO, TYPE_CHECKING, Any, cast

from torsion.internet import address, interfaces
from torsion.internet.defer import Deferred
from torsion.logger import Logger
from torsion.python.failure import Failure
from torsion.web import _http1
from torsion.web._cookies import formatSetCookie, parseCookieHeader
from torsion.web._httputil import (
    _CONTINUE,
    _OK_MESSAGE,
    _SERVER_LINE,
    CACHED,
    FOUND,
    NO_BODY_CODES,
    NOT_IMPLEMENTED,
    NOT_MODIFIED,
    OK,
    PRECONDITION_FAILED,
    RESPONSES,
    _dateCache,
    _time,
    datetimeToString,
    parse_qs,
    stringToDatetime,
)
from torsion.web._multipart import FormError, parseMultipart
from torsion.web.http_headers import Headers, _encodeName, _encodeValue

__all__ = ["Request"]

_log = Logger()

_FORM_METHODS = frozenset((b"POST", b"PUT", b"PATCH"))
"""Methods whose body may carry form arguments (merged into request.args)."""


class _NoChannel:
    """Stand-in channel for a Request built without one (tests, stand-alone use)."""

    transport: Any = None
    factory: Any = None
    site: Any = None

    def _requestDone(self, request: Request) -> None:
        pass

    def _switchTo(self, request: Request, protocol: Any) -> None:
        raise RuntimeError("this request has no connection to hand over")


class Request:
    """One HTTP request and the response being written for it (Twisted's http.Request).

    Why: the object resources receive; it reads the request (method, uri, args,
    headers, content) and writes the response (setResponseCode, setHeader, write, finish).
    Attributes that most requests never touch (args, content, received_cookies) are
    computed on first access.
    """

    producer: interfaces.IProducer | None = None
    finished = False
    code = OK
    code_message = _OK_MESSAGE
    method = b"(no method yet)"
    clientproto = b"(no clientproto yet)"
    uri = b""
    path = b""
    startedWriting = False
    chunked = False
    sentLength = 0
    etag: bytes | None = None
    host: Any = None
    lastModified: float | None = None
    _forceSSL = False
    _disconnected = False
    _active = True
    _persistent = True
    _closeDelimited = False
    _noBody = False
    _buffer: list[bytes] | None = None
    _pendingProducer: tuple[interfaces.IProducer, bool] | None = None
    _notifications: list[Deferred[None]] | None = None
    _cookies: list[bytes] | None = None
    _bodyFile: IO[bytes] | None = None
    _expectContinue = False
    defaultContentType: bytes | None = b"text/html"
    maxMemoryBody = 1024 * 1024
    """Bodies larger than this many bytes are spooled to a temporary file."""
    maxFormFields = 1000
    """Form bodies with more fields (or multipart parts) than this are answered 400.

    Why: parsing costs about a microsecond and 70 bytes per field, so an unbounded count
    would let one request hold the reactor (the multipart limit is Twisted's)."""

    if TYPE_CHECKING:
        _wireHeaders: list[tuple[bytes, bytes]]
        requestHeaders: Headers
        responseHeaders: Headers
        args: dict[bytes, list[bytes]]
        content: IO[bytes]
        received_cookies: dict[bytes, bytes]

    _plainFinish = True
    """False for subclasses that override finish(), which then always get it called."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "finish" in cls.__dict__ and cls.__module__ != "torsion.web.server":
            cls._plainFinish = False

    def __init__(self, channel: Any = None, queued: object = None) -> None:
        if channel is None:
            channel = _NoChannel()
        self.channel = channel
        self.transport = channel.transport

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes not yet set: compute the lazy ones.
        if name == "requestHeaders":
            # The channel leaves the parsed pairs in _wireHeaders; fold them on demand.
            wire = self.__dict__.pop("_wireHeaders", None)
            headers = Headers._fromWire(wire) if wire is not None else Headers()
            self.requestHeaders = headers
            return headers
        if name == "responseHeaders":
            headers = Headers()
            self.responseHeaders = headers
            return headers
        if name == "content":
            content: IO[bytes] = io.BytesIO()
            self.content = content
            return content
        if name == "args":
            args = self._parseArgs()
            self.args = args
            return args
        if name == "received_cookies":
            cookies: dict[bytes, bytes] = {}
            for header in self.requestHeaders.getRawHeaders(b"cookie", []):
                cookies.update(parseCookieHeader(header))
            self.received_cookies = cookies
            return cookies
        raise AttributeError(
            "%r object has no attribute %r" % (type(self).__name__, name)
        )

    @property
    def cookies(self) -> list[bytes]:
        """The Set-Cookie header values queued for the response."""
        if self._cookies is None:
            self._cookies = []
        return self._cookies

    @property
    def notifications(self) -> list[Deferred[None]]:
        """Deferreds from notifyFinish, fired when the response ends or the client leaves."""
        if self._notifications is None:
            self._notifications = []
        return self._notifications

    def _fireNotifications(self, reason: Failure | None) -> None:
        """Fire the notifyFinish Deferreds: with None once the response ended, else errback.

        Callers test ``self._notifications`` first, so a request nobody waits on pays no call.
        """
        notifications, self._notifications = self._notifications, None
        for d in notifications or ():
            if reason is None:
                d.callback(None)
            else:
                d.errback(reason)

    def __repr__(self) -> str:
        return "<%s at 0x%x method=%s uri=%s clientproto=%s>" % (
            type(self).__name__, id(self),
            self.method.decode("ascii", "replace"),
            self.uri.decode("ascii", "replace"),
            self.clientproto.decode("ascii", "replace"),
        )

    # -- reading the request ---------------------------------------------------------------

    def gotLength(self, length: int | None) -> None:
        """Prepare `content` for a body of `length` bytes (None: unknown, e.g. chunked).

        Small bodies stay in memory; large or unknown ones are spooled to disk so a big
        upload does not live in RAM (tempfile.SpooledTemporaryFile).
        """
        if length is not None and length <= self.maxMemoryBody:
            self.content = io.BytesIO()
        else:
            self.content = cast(
                IO[bytes], tempfile.SpooledTemporaryFile(max_size=self.maxMemoryBody)
            )

    def handleContentChunk(self, data: bytes) -> None:
        """Append a piece of the request body to `content`."""
        self.content.write(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        """Record the request line once the whole request is read, then process it."""
        self.method = command
        self.uri = path
        self.clientproto = version
        self.path = path.split(b"?", 1)[0]
        if "content" in self.__dict__:
            self.content.seek(0, 0)
            if command in _FORM_METHODS and not self._parseForm():
                return
        self.process()

    def _parseForm(self) -> bool:
        """Parse the arguments of a request with a body now, as Twisted does.

        A malformed or oversized form body (FormError) is a client error: the request
        is answered 400 and the connection closed before any resource sees it; return
        False then.
        """
        try:
            self.args = self._parseArgs()
        except FormError as e:
            _log.info("Bad form body in {request}: {reason}", request=self, reason=str(e))
            self.channel._rejectRequest(self, 400, "Bad Request: %s" % (e,))
            return False
        return True

    def _serve(self) -> None:
        """Process the request now that it is complete (the channel's entry point).

        torsion.web.server.Request replaces this with the same steps in one frame.
        """
        self.requestReceived(self.method, self.uri, self.clientproto)

    def _parseArgs(self) -> dict[bytes, list[bytes]]:
        """Parse query-string arguments and, for form bodies, body arguments.

        RFC 7578 multipart/form-data and application/x-www-form-urlencoded bodies are
        merged into the query arguments, as Twisted does.
        """
        _, sep, query = self.uri.partition(b"?")
        args = parse_qs(query, True) if sep else {}
        if "content" not in self.__dict__ or self.method not in _FORM_METHODS:
            return args
        ctype = self.requestHeaders._getOne(b"content-type")
        if not ctype:
            return args
        key, params = _parseContentType(ctype)
        content = self.content
        if key == b"application/x-www-form-urlencoded":
            content.seek(0)
            body = content.read()
            content.seek(0)
            if body.count(b"&") + body.count(b";") >= self.maxFormFields:
                raise FormError("more than %d form fields" % (self.maxFormFields,))
            for name, values in parse_qs(body, True).items():
                args.setdefault(name, []).extend(values)
        elif key == b"multipart/form-data":
            boundary = params.get(b"boundary")
            if not boundary:
                raise FormError("multipart/form-data without a boundary")
            content.seek(0)
            try:
                fields = parseMultipart(content, boundary, self.maxFormFields)
            finally:
                content.seek(0)
            for name, values in fields.items():
                args.setdefault(name, []).extend(values)
        return args

    def getHeader(self, key: bytes | str) -> bytes | str | None:
        """Return the last value of request header `key` (type follows `key`), or None."""
        value = self.requestHeaders.getRawHeaders(key)
        if value:
            return value[-1]
        return None

    def getAllHeaders(self) -> dict[bytes, bytes]:
        """Return request headers as ``{lower-case name: last value}``."""
        return {name: values[-1] for name, values in self.requestHeaders._fold().items()}

    def getCookie(self, key: bytes) -> bytes | None:
        """Return the value of request cookie `key`, or None."""
        return self.received_cookies.get(key)

    def getRequestHostname(self) -> bytes:
        """Return the host name the client asked for (Host header, port removed)."""
        host = self.requestHeaders._getOne(b"host")
        if host:
            if host.startswith(b"["):
                return host.split(b"]", 1)[0] + b"]"
            return host.rsplit(b":", 1)[0] if host.count(b":") == 1 else host
        h = self.getHost()
        return getattr(h, "host", "").encode("ascii")

    def getHost(self) -> Any:
        """Return the local address the request arrived on (or the one setHost gave)."""
        if self.host is not None:
            return self.host
        return self.transport.getHost() if self.transport is not None else None

    def setHost(self, host: bytes, port: int, ssl: bool = False) -> None:
        """Pretend the request came to `host`:`port` (for proxies and vhost monsters)."""
        self._forceSSL = ssl
        if (ssl and port == 443) or (not ssl and port == 80):
            self.requestHeaders.setRawHeaders(b"host", [host])
        else:
            self.requestHeaders.setRawHeaders(b"host", [host + b":%d" % (port,)])
        self.host = address.IPv4Address("TCP", host.decode("ascii"), port)

    def getClientAddress(self) -> Any:
        """Return the peer's address (an IAddress)."""
        return self.transport.getPeer() if self.transport is not None else None

    def getClientAddressHost(self) -> str:
        """Return the peer's host as text, or "-" when it has none."""
        peer = self.getClientAddress()
        return str(getattr(peer, "host", None) or "-")

    def getClientIP(self) -> str | None:
        """Return the peer's IP address, or None for non-IP transports."""
        peer = self.getClientAddress()
        return getattr(peer, "host", None)

    def isSecure(self) -> bool:
        """Return whether the request came over TLS (or setHost said so)."""
        if self._forceSSL:
            return True
        return bool(getattr(self.channel, "_secure", False))

    def getUser(self) -> bytes:
        """Return the user name from HTTP Basic credentials, or b""."""
        return self._basicAuth()[0]

    def getPassword(self) -> bytes:
        """Return the password from HTTP Basic credentials, or b""."""
        return self._basicAuth()[1]

    def _basicAuth(self) -> tuple[bytes, bytes]:
        import base64
        import binascii

        header = self.requestHeaders._getOne(b"authorization")
        if not header:
            return b"", b""
        scheme, _, rest = header.partition(b" ")
        if scheme.lower() != b"basic":
            return b"", b""
        try:
            decoded = base64.b64decode(rest.strip(), validate=True)
        except (binascii.Error, ValueError):
            return b"", b""
        user, _, password = decoded.partition(b":")
        return user, password

    # -- writing the response ------------------------------------------------------------------

    def setResponseCode(self, code: int, message: bytes | None = None) -> None:
        """Set the response status; `message` defaults to the standard reason phrase."""
        if not isinstance(code, int):
            raise TypeError("HTTP response code must be int, not %r" % (code,))
        if message is not None:
            if not isinstance(message, bytes):
                raise TypeError("HTTP response message must be bytes")
            if b"\r" in message or b"\n" in message:
                raise ValueError("response message contains CR or LF")
        self.code = code
        self.code_message = message if message is not None else RESPONSES.get(
            code, b"Unknown Status"
        )

    def setHeader(self, name: bytes | str, value: bytes | str | int) -> None:
        """Set response header `name` to the single `value` (ValueError on CR/LF)."""
        self.responseHeaders._setOne(_encodeName(name), _encodeValue(value))

    def addHeader(self, name: bytes | str, value: bytes | str) -> None:
        """Add one more value for response header `name`."""
        self.responseHeaders.addRawHeader(name, value)

    def setLastModified(self, when: float) -> object:
        """Set Last-Modified; return CACHED (and set 304) if the client's copy is current.

        RFC 9110 §13.1.3: If-Modified-Since applies to GET and HEAD only, and is ignored
        when If-None-Match is present.
        """
        when = int(when)
        if not self.lastModified or self.lastModified < when:
            self.lastModified = when
        ims = self.requestHeaders._getOne(b"if-modified-since")
        if (
            ims
            and self.method in (b"GET", b"HEAD")
            and not self.requestHeaders._getOne(b"if-none-match")
        ):
            try:
                since = stringToDatetime(ims.split(b";")[0])
            except ValueError:
                return None
            if since >= when:
                self.setResponseCode(NOT_MODIFIED)
                return CACHED
        return None

    def setETag(self, etag: bytes) -> object:
        """Set ETag; return CACHED (304, or 412 for unsafe methods) on an If-None-Match hit.

        RFC 9110 §13.1.2: weak comparison, ``*`` matches any current representation.
        """
        if etag:
            self.etag = etag
        tags = self.requestHeaders._getOne(b"if-none-match")
        if tags:
            candidates = [t.strip() for t in tags.split(b",")]
            plain = etag[2:] if etag.startswith(b"W/") else etag
            matches = [c[2:] if c.startswith(b"W/") else c for c in candidates]
            if b"*" in candidates or plain in matches:
                if self.method in (b"GET", b"HEAD"):
                    self.setResponseCode(NOT_MODIFIED)
                else:
                    self.setResponseCode(PRECONDITION_FAILED)
                return CACHED
        return None

    def addCookie(
        self,
        k: bytes | str,
        v: bytes | str,
        expires: bytes | str | None = None,
        domain: bytes | str | None = None,
        path: bytes | str | None = None,
        max_age: bytes | str | int | None = None,
        comment: bytes | str | None = None,
        secure: bool | None = None,
        httpOnly: bool = False,
        sameSite: str | None = None,
    ) -> None:
        """Queue a Set-Cookie header (RFC 6265 §4.1); invalid names/values raise ValueError."""
        self.cookies.append(
            formatSetCookie(
                k, v, expires=expires, domain=domain, path=path, max_age=max_age,
                comment=comment, secure=secure, httpOnly=httpOnly, sameSite=sameSite,
            )
        )

    def redirect(self, url: bytes | str) -> None:
        """Answer 302 Found pointing at `url` (the caller still finishes the request)."""
        self.setResponseCode(FOUND)
        self.setHeader(b"location", url)

    def _headBytes(self, contentLength: int | None) -> bytes:
        """Build the status line and header block; decide framing and persistence.

        `contentLength` is the length of a body known in full (it then becomes the
        Content-Length header unless the application set one).
        """
        code = self.code
        message = self.code_message
        line = _http1._STATUS_LINES.get(code)
        if line is None or (message is not RESPONSES.get(code)
                            and message != RESPONSES.get(code)):
            line = _http1.statusLine(code, message)
        headers: Headers | None = self.__dict__.get("responseHeaders")
        if headers is None:
            raw: dict[bytes, list[bytes]] = {}
        elif headers._pending is not None:
            raw = headers._fold()
        else:
            raw = headers._rawHeaders
        noBody = code in NO_BODY_CODES or code < 200
        if (
            not raw
            and contentLength is not None
            and not noBody
            and self._persistent
            and self.clientproto == b"HTTP/1.1"
            and self._cookies is None
            and self.lastModified is None
            and self.etag is None
        ):
            # The common case: nothing but a complete body. One format, no scanning.
            if self.method == b"HEAD":
                self._noBody = True
            ctype = self.defaultContentType
            dateCache = _dateCache
            if not dateCache.since <= _time() < dateCache.until:
                dateCache.get()
            return b"%sContent-Length: %d\r\n%s%s%s\r\n" % (
                line, contentLength, _SERVER_LINE, dateCache.value,
                b"Content-Type: " + ctype + b"\r\n" if ctype is not None else b"",
            )
        parts = [line]
        if b"content-length" in raw:
            pass
        elif noBody:
            contentLength = None
        elif contentLength is not None:
            parts.append(b"Content-Length: %d\r\n" % (contentLength,))
        elif self.clientproto == b"HTTP/1.1":
            if self.method != b"HEAD":
                self.chunked = True
                parts.append(b"Transfer-Encoding: chunked\r\n")
        else:
            # RFC 9112 §6.3: without a length, the body ends when the connection closes.
            self._closeDelimited = True
            self._persistent = False
        if self.method == b"HEAD" or noBody:
            self._noBody = True
        if b"server" not in raw:
            parts.append(_SERVER_LINE)
        if b"date" not in raw:
            parts.append(_dateCache.get())
        if (
            b"content-type" not in raw
            and self.defaultContentType is not None
            and not noBody
        ):
            parts.append(b"Content-Type: " + self.defaultContentType + b"\r\n")
        if self.lastModified is not None and b"last-modified" not in raw:
            parts.append(b"Last-Modified: " + datetimeToString(self.lastModified) + b"\r\n")
        if self.etag is not None and b"etag" not in raw:
            parts.append(b"ETag: " + self.etag + b"\r\n")
        if raw and headers is not None:
            headers._serialize(parts)
        if self._cookies:
            for cookie in self._cookies:
                parts.append(b"Set-Cookie: " + cookie + b"\r\n")
        if not self._persistent:
            parts.append(b"Connection: close\r\n")
        elif self.clientproto == b"HTTP/1.0":
            parts.append(b"Connection: keep-alive\r\n")
        parts.append(b"\r\n")
        return b"".join(parts)

    def write(self, data: bytes) -> None:
        """Write some of the response body, sending the headers first if not yet sent."""
        if self.finished:
            raise RuntimeError(
                "Request.write called on a request after Request.finish was called."
            )
        if not isinstance(data, bytes):
            raise TypeError("Request.write takes bytes, not %r" % (type(data).__name__,))
        if self._disconnected:
            return
        if not self.startedWriting:
            self.startedWriting = True
            head = self._headBytes(None)
            if self._noBody or not data:
                self._send(head)
                return
            self.sentLength = len(data)
            if self.chunked:
                self._send(head + _http1.chunk(data))
            else:
                self._send(head + data)
            return
        if not data or self._noBody:
            return
        self.sentLength += len(data)
        if self.chunked:
            self._send(_http1.chunk(data))
        else:
            self._send(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Write several pieces of the response body."""
        for piece in data:
            self.write(piece)

    def _writeWhole(self, body: bytes) -> None:
        """Send a complete response with body `body` and finish, in one transport write.

        Why: the common case (render returned bytes) then costs one syscall.
        """
        if self.startedWriting or self._disconnected or not self._plainFinish:
            if not self.startedWriting and not self._disconnected:
                self.responseHeaders._setOne(b"content-length", b"%d" % (len(body),))
            if body:
                self.write(body)
            self.finish()
            return
        self.startedWriting = True
        if (
            self.code == 200
            and self.code_message is _OK_MESSAGE
            and "responseHeaders" not in self.__dict__
            and self._persistent
            and self._cookies is None
            and self.lastModified is None
            and self.etag is None
            and self.method != b"HEAD"
            and self.clientproto == b"HTTP/1.1"
            and self.defaultContentType is not None
        ):
            # _headBytes's common case, inlined: 200, no headers set, keep-alive.
            dateCache = _dateCache
            if not dateCache.since <= _time() < dateCache.until:
                dateCache.get()
            self.sentLength = len(body)
            head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n%s%sContent-Type: %s\r\n\r\n%s" % (
                len(body), _SERVER_LINE, dateCache.value, self.defaultContentType, body)
        else:
            head = self._headBytes(len(body))
            if body and not self._noBody:
                self.sentLength = len(body)
                head += body
        if self._active:
            transport = self.transport
            if transport is not None:
                transport.write(head)
        else:
            self._buffer = [head]
        self.finished = True
        if self._notifications:
            self._fireNotifications(None)
        self.channel._requestDone(self)

    def _send(self, data: bytes) -> None:
        """Hand bytes to the transport if this request's turn has come, else buffer."""
        if self._active:
            transport = self.transport
            if transport is not None:
                transport.write(data)
        else:
            if self._buffer is None:
                self._buffer = []
            self._buffer.append(data)

    def finish(self) -> None:
        """End the response; the connection moves on to the next request.

        After the client went away this does nothing (Twisted raises RuntimeError; use
        notifyFinish to learn about it). A second call warns and does nothing, as in
        Twisted.
        """
        if self._disconnected:
            return
        if self.finished:
            warnings.warn("Warning! request.finish called twice.", stacklevel=2)
            return
        if not self.startedWriting:
            self.write(b"")
        if self.chunked:
            self._send(_http1.LAST_CHUNK)
        self.finished = True
        if self._notifications:
            self._fireNotifications(None)
        self.channel._requestDone(self)

    def notifyFinish(self) -> Deferred[None]:
        """Return a Deferred fired when the response ends; errback if the client left first."""
        d: Deferred[None] = Deferred()
        if self.finished:
            d.callback(None)
        elif self._disconnected:
            d.errback(Failure(_connectionLostError()))
        else:
            self.notifications.append(d)
        return d

    def connectionLost(self, reason: Failure) -> None:
        """The client went away before the response was finished."""
        if self.finished or self._disconnected:
            return
        self._disconnected = True
        producer = self.producer
        if producer is not None:
            try:
                producer.stopProducing()
            except Exception:
                _log.failure("Error stopping the producer of {request}", request=self)
        if self._notifications:
            self._fireNotifications(reason)

    def loseConnection(self) -> None:
        """Close the connection this request came on."""
        if self.transport is not None:
            self.transport.loseConnection()

    def registerProducer(self, producer: interfaces.IProducer, streaming: bool) -> None:
        """Register a producer for the response body, paced by the transport's buffer."""
        if self.producer is not None:
            raise ValueError("registering producer %r before previous one (%r) was "
                             "unregistered" % (producer, self.producer))
        self.producer = producer
        if self._active and self.transport is not None:
            self.transport.registerProducer(producer, streaming)
        else:
            self._pendingProducer = (producer, streaming)
            if streaming:
                cast(interfaces.IPushProducer, producer).pauseProducing()

    def unregisterProducer(self) -> None:
        """Stop pacing the response by the registered producer."""
        if self._pendingProducer is not None:
            self._pendingProducer = None
        elif self.producer is not None and self.transport is not None:
            self.transport.unregisterProducer()
        self.producer = None

    def _activate(self) -> None:
        """This request's turn to write has come: flush its buffered output."""
        self._active = True
        if self._expectContinue and not self.startedWriting:
            self._expectContinue = False
            self.transport.write(_http1.CONTINUE)
        buffered = self._buffer
        if buffered:
            self._buffer = None
            self.transport.writeSequence(buffered)
        pending = self._pendingProducer
        if pending is not None:
            self._pendingProducer = None
            self.transport.registerProducer(pending[0], pending[1])
            if pending[1]:
                cast(interfaces.IPushProducer, pending[0]).resumeProducing()

    def switchProtocol(self, protocol: Any) -> None:
        """Answer 101 Switching Protocols and hand the connection to `protocol`.

        A torsion addition (Twisted has no equivalent), for WebSocket and similar
        upgrades. Set the Upgrade/Connection (and any handshake) headers first; then
        `protocol.makeConnection(transport)` is called and every later byte, including
        any that arrived right after the request, goes to `protocol.dataReceived`.
        RFC 9110 §7.8: only a protocol the client offered in Upgrade may be switched to,
        so a request without an Upgrade header raises RuntimeError, as does a request
        whose response has started or that is not the connection's current one.
        """
        if self.startedWriting or self.finished or self._disconnected:
            raise RuntimeError("switchProtocol after the response started or finished")
        if not self._active:
            raise RuntimeError("switchProtocol while earlier responses are pending")
        if not self.requestHeaders.hasHeader(b"upgrade"):
            raise RuntimeError("switchProtocol for a request that offered no Upgrade")
        self.setResponseCode(_CONTINUE + 1)
        self.startedWriting = True
        head = self._headBytes(None)
        if self.transport is not None:
            self.transport.write(head)
        self.finished = True
        if self._notifications:
            self._fireNotifications(None)
        self.channel._switchTo(self, protocol)

    def process(self) -> None:
        """Handle the request (overridden by torsion.web.server.Request)."""
        self.setResponseCode(NOT_IMPLEMENTED)
        self.finish()

    def getAllResponseHeaders(self) -> Headers:
        """Return the response headers (for tests and loggers)."""
        return self.responseHeaders


def _connectionLostError() -> Exception:
    from torsion.internet.error import ConnectionLost

    return ConnectionLost("Connection lost before the response was finished")


def _parseContentType(value: bytes) -> tuple[bytes, dict[bytes, bytes]]:
    """Split a Content-Type value into its lower-cased media type and parameters."""
    parts = value.split(b";")
    key = parts[0].strip().lower()
    params: dict[bytes, bytes] = {}
    for p in parts[1:]:
        name, _, val = p.partition(b"=")
        val = val.strip()
        if len(val) >= 2 and val[:1] == b'"' and val[-1:] == b'"':
            val = val[1:-1]
        params[name.strip().lower()] = val
    return key, params
