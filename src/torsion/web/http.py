"""HTTP/1.1 server glue: Request, HTTPChannel and HTTPFactory over a transport.

Theory of operation: `HTTPChannel` is the connection's protocol *and* its
`_http1.RequestParser`, so httptools calls straight into it. Each request gets a
`Request` when its head is complete; the request joins the channel's `_queue` and is
processed (``requestReceived`` → ``process``) when its body is complete. Only the request
at the head of the queue writes to the transport; later ones (pipelining, RFC 9112 §9.3.2)
buffer their output and flush it, in order, when every request before them is finished.

Response framing: the first ``write`` sends the status line and headers. With a known
Content-Length the body goes out as is; otherwise HTTP/1.1 responses are chunked and
HTTP/1.0 ones are delimited by closing the connection. A response to a whole body (the
common ``render`` returning bytes) goes out in a single ``transport.write``.

Timeouts (one timer per connection, rescheduled only when it fires): `timeOut` seconds
of silence while idle or while reading a body close the connection; a request head that
is not complete `headerTimeout` seconds after it began is answered 408 and closed.
"""

from __future__ import annotations

import calendar
import io
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable
from email.utils import formatdate, mktime_tz, parsedate_tz
from typing import IO, TYPE_CHECKING, Any, cast
from urllib.parse import unquote_to_bytes

import httptools

from torsion.internet import address, interfaces
from torsion.internet.defer import Deferred
from torsion.internet.protocol import Protocol, ServerFactory
from torsion.logger import Logger
from torsion.python.failure import Failure
from torsion.web import _http1
from torsion.web._cookies import formatSetCookie, parseCookieHeader
from torsion.web._http1 import _VERSIONS, TRANSITIONS, Event, ParseError, State
from torsion.web.http_headers import Headers, _encodeName, _encodeValue

if TYPE_CHECKING:
    from torsion.internet.interfaces import IDelayedCall

__all__ = [
    "Request",
    "HTTPChannel",
    "HTTPFactory",
    "RESPONSES",
    "datetimeToString",
    "stringToDatetime",
    "timegm",
    "parse_qs",
    "combinedLogFormatter",
    "proxiedLogFormatter",
    "CACHED",
    "NOT_MODIFIED",
    "PotentialDataLoss",
    "toChunk",
    "fromChunk",
    "parseContentRange",
]

_log = Logger()

# -- status codes (Twisted's module-level constants) ----------------------------------------

_CONTINUE = 100
SWITCHING = 101
OK = 200
CREATED = 201
ACCEPTED = 202
NON_AUTHORITATIVE_INFORMATION = 203
NO_CONTENT = 204
RESET_CONTENT = 205
PARTIAL_CONTENT = 206
MULTI_STATUS = 207
MULTIPLE_CHOICE = 300
MOVED_PERMANENTLY = 301
FOUND = 302
SEE_OTHER = 303
NOT_MODIFIED = 304
USE_PROXY = 305
TEMPORARY_REDIRECT = 307
PERMANENT_REDIRECT = 308
BAD_REQUEST = 400
UNAUTHORIZED = 401
PAYMENT_REQUIRED = 402
FORBIDDEN = 403
NOT_FOUND = 404
NOT_ALLOWED = 405
NOT_ACCEPTABLE = 406
PROXY_AUTH_REQUIRED = 407
REQUEST_TIMEOUT = 408
CONFLICT = 409
GONE = 410
LENGTH_REQUIRED = 411
PRECONDITION_FAILED = 412
REQUEST_ENTITY_TOO_LARGE = 413
REQUEST_URI_TOO_LONG = 414
UNSUPPORTED_MEDIA_TYPE = 415
REQUESTED_RANGE_NOT_SATISFIABLE = 416
EXPECTATION_FAILED = 417
IM_A_TEAPOT = 418
REQUEST_HEADER_FIELDS_TOO_LARGE = 431
INTERNAL_SERVER_ERROR = 500
NOT_IMPLEMENTED = 501
BAD_GATEWAY = 502
SERVICE_UNAVAILABLE = 503
GATEWAY_TIMEOUT = 504
HTTP_VERSION_NOT_SUPPORTED = 505

RESPONSES: dict[int, bytes] = {
    code: _http1.reasonPhrase(code)
    for code in (
        100, 101, 200, 201, 202, 203, 204, 205, 206, 207, 300, 301, 302, 303, 304, 305, 307,
        308, 400, 401, 402, 403, 404, 405, 406, 407, 408, 409, 410, 411, 412, 413, 414, 415,
        416, 417, 418, 431, 500, 501, 502, 503, 504, 505,
    )
}

_OK_MESSAGE = RESPONSES[OK]

CACHED = object()
"""Returned by setLastModified/setETag when the client's copy is current (send 304)."""

NO_BODY_CODES = frozenset((204, 304))

_SERVER_VERSION = b"TorsionWeb/0.1"
_SERVER_LINE = b"Server: " + _SERVER_VERSION + b"\r\n"

_MONTHS = [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun",
           b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"]


def datetimeToString(msSinceEpoch: float | None = None) -> bytes:
    """Return an RFC 9110 §5.6.7 IMF-fixdate for `msSinceEpoch` seconds (default now)."""
    if msSinceEpoch is None:
        msSinceEpoch = time.time()
    return formatdate(msSinceEpoch, usegmt=True).encode("ascii")


def datetimeToLogString(msSinceEpoch: float | None = None) -> str:
    """Return a Common Log Format timestamp such as ``[21/Nov/2026:10:00:00 +0000]``."""
    if msSinceEpoch is None:
        msSinceEpoch = time.time()
    t = time.gmtime(msSinceEpoch)
    return "[%02d/%s/%4d:%02d:%02d:%02d +0000]" % (
        t.tm_mday, _MONTHS[t.tm_mon - 1].decode(), t.tm_year, t.tm_hour, t.tm_min, t.tm_sec,
    )


def timegm(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int:
    """Return seconds since the epoch for a UTC date and time."""
    return calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))


def stringToDatetime(dateString: bytes | str) -> int:
    """Parse an HTTP date (IMF-fixdate, RFC 850 or asctime) into seconds since the epoch.

    Raises ValueError for anything else (RFC 9110 §5.6.7 lists the three forms).
    """
    if isinstance(dateString, bytes):
        dateString = dateString.decode("latin-1")
    parsed = parsedate_tz(dateString)
    if parsed is None:
        raise ValueError("not an HTTP date: %r" % (dateString,))
    return int(mktime_tz(parsed))


class _DateCache:
    """The current Date header value, recomputed at most once a second.

    Why: formatting a date per response costs more than the rest of a small response.
    """

    __slots__ = ("second", "value")

    def __init__(self) -> None:
        self.second = -1
        self.value = b""

    def get(self) -> bytes:
        now = int(time.time())
        if now != self.second:
            self.second = now
            self.value = b"Date: " + formatdate(now, usegmt=True).encode("ascii") + b"\r\n"
        return self.value


_dateCache = _DateCache()
_time = time.time


def parse_qs(
    qs: bytes, keep_blank_values: bool = False, strict_parsing: bool = False
) -> dict[bytes, list[bytes]]:
    """Parse a query string into ``{name: [values]}`` with bytes keys and values."""
    result: dict[bytes, list[bytes]] = {}
    for part in qs.replace(b";", b"&").split(b"&"):
        if not part:
            continue
        name, sep, value = part.partition(b"=")
        if not sep and strict_parsing:
            raise ValueError("bad query field: %r" % (part,))
        if not value and not keep_blank_values:
            continue
        name = unquote_to_bytes(name.replace(b"+", b" "))
        value = unquote_to_bytes(value.replace(b"+", b" "))
        result.setdefault(name, []).append(value)
    return result


class PotentialDataLoss(Exception):
    """A body ended with the connection, so it may be incomplete (no length was given).

    Why: an HTTP/1.0-style response delimited by close cannot prove it arrived whole.
    """


def toChunk(data: bytes) -> tuple[bytes, ...]:
    """Return the chunked-encoding framing of `data` (RFC 9112 §7.1) as a tuple."""
    return (b"%x\r\n" % (len(data),), data, b"\r\n")


def fromChunk(data: bytes) -> tuple[bytes, bytes]:
    """Split one chunk off chunked-encoded `data`: return (chunk, rest).

    Raises ValueError on a malformed chunk size or missing CRLF (the size must be
    hexadecimal digits only, RFC 9112 §7.1).
    """
    prefix, sep, rest = data.partition(b"\r\n")
    size = prefix.split(b";", 1)[0].strip()
    if not sep or not size or any(c not in b"0123456789abcdefABCDEF" for c in size):
        raise ValueError("invalid chunk size: %r" % (prefix,))
    length = int(size, 16)
    if rest[length : length + 2] != b"\r\n":
        raise ValueError("chunk must end with CRLF")
    return rest[:length], rest[length + 2 :]


def parseContentRange(header: bytes) -> tuple[int, int, int | None]:
    """Parse ``bytes START-END/TOTAL`` into (start, end, total or None for ``*``).

    RFC 9110 §14.4; raises ValueError for any other unit or form.
    """
    kind, _, other = header.strip().partition(b" ")
    if kind.strip().lower() != b"bytes":
        raise ValueError("a range of type %r is not supported" % (kind,))
    startend, _, realLength = other.partition(b"/")
    start, _, end = startend.partition(b"-")
    if not (start.strip().isdigit() and end.strip().isdigit()):
        raise ValueError("invalid content range: %r" % (header,))
    total = None if realLength.strip() == b"*" else int(realLength)
    return int(start), int(end), total


def _escape(s: bytes | str) -> str:
    """Escape a value for a double-quoted access-log field."""
    if isinstance(s, bytes):
        s = s.decode("ascii", "backslashreplace")
    return s.encode("unicode_escape").decode("ascii").replace('"', '\\"')


def combinedLogFormatter(timestamp: str, request: Request) -> str:
    """Format one access-log line in the NCSA combined log format (Twisted's layout)."""
    referrer = _escape(request.getHeader(b"referer") or b"-")
    agent = _escape(request.getHeader(b"user-agent") or b"-")
    return '"%s" - - %s "%s %s %s" %d %s "%s" "%s"' % (
        _escape(request.getClientAddressHost()),
        timestamp,
        _escape(request.method),
        _escape(request.uri),
        _escape(request.clientproto),
        request.code,
        request.sentLength or "-",
        referrer,
        agent,
    )


def proxiedLogFormatter(timestamp: str, request: Request) -> str:
    """Like combinedLogFormatter, with the client IP from X-Forwarded-For."""
    forwarded = request.requestHeaders._getOne(b"x-forwarded-for")
    line = combinedLogFormatter(timestamp, request)
    if forwarded:
        ip = forwarded.split(b",")[-1].strip()
        line = '"%s"%s' % (_escape(ip), line[line.index('"', 1) + 1 :])
    return line


# -- Request -----------------------------------------------------------------------------

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

    if TYPE_CHECKING:
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
        if name == "responseHeaders" or name == "requestHeaders":
            headers = Headers()
            setattr(self, name, headers)
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
        self.process()

    def _parseArgs(self) -> dict[bytes, list[bytes]]:
        """Parse query-string arguments and, for form bodies, body arguments.

        RFC 7578 multipart/form-data and application/x-www-form-urlencoded bodies are
        merged into the query arguments, as Twisted does.
        """
        _, sep, query = self.uri.partition(b"?")
        args = parse_qs(query, True) if sep else {}
        if "content" not in self.__dict__ or self.method not in (b"POST", b"PUT", b"PATCH"):
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
            for name, values in parse_qs(body, True).items():
                args.setdefault(name, []).extend(values)
        elif key == b"multipart/form-data":
            from torsion.web._multipart import parseMultipart

            boundary = params.get(b"boundary")
            if boundary:
                content.seek(0)
                try:
                    fields = parseMultipart(content, boundary)
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
            if int(_time()) != dateCache.second:
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
            if int(_time()) != dateCache.second:
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
            notifications = self._notifications
            self._notifications = None
            for d in notifications:
                d.callback(None)
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
        """End the response; the connection moves on to the next request."""
        if self._disconnected:
            return
        if self.finished:
            raise RuntimeError("Request.finish called on a request after its connection was "
                               "lost or finish was already called.")
        if not self.startedWriting:
            self.write(b"")
        if self.chunked:
            self._send(_http1.LAST_CHUNK)
        self.finished = True
        if self._notifications:
            for d in self._notifications:
                d.callback(None)
            self._notifications = None
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
            notifications = self._notifications
            self._notifications = None
            for d in notifications:
                d.errback(reason)

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
            notifications = self._notifications
            self._notifications = None
            for d in notifications:
                d.callback(None)
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


# -- HTTPChannel ----------------------------------------------------------------------------

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
        now = self._lastActivity = self._headStart = self._seconds()
        del now
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
        if state is not State.BODY:
            if state is State.CLOSED:
                self._dataWhileClosed(data)
                return
            if state is not State.HEAD:
                self._headStart = now
            self._headSeen += len(data)
        try:
            self._parser.feed_data(data)
            if self._headSeen > self.limits.maxHeaderBytes and self.state is State.HEAD:
                self.state = State.CLOSED
                raise ParseError(431, "Request Header Fields Too Large")
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
            return
        self.state = State.IDLE
        if rest:
            self.dataReceived(rest)

    def _switchTo(self, request: Request, protocol: Any) -> None:
        """Hand the connection to `protocol` after `request`'s 101 response."""
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
        protocol.makeConnection(self.transport)
        held = self._held
        self._held = None
        if held:
            protocol.dataReceived(b"".join(held))

    def _resumeAfterUpgradeDeclined(self) -> None:
        """The Upgrade request was answered normally: parse the held bytes as HTTP."""
        held = self._held
        self._held = None
        if self._closing or self._upgradedTo is not None:
            return
        self.state = State.IDLE
        if held:
            self.dataReceived(b"".join(held))

    def _reject(self, code: int, reason: str) -> None:
        """Answer a request that cannot be handled with `code` and close the connection.

        Earlier pipelined responses still go out first (they are flushed in order).
        """
        if self._closing:
            return
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

    def on_headers_complete(self) -> None:
        # RequestParser.on_headers_complete and _headReceived in one frame: this runs for
        # every request. The checks are the parser's (see _http1).
        self.state = TRANSITIONS[(self.state, Event.HEAD_DONE)]
        limits = self.limits
        headers = self.headers
        if len(headers) > limits.maxHeaderCount or self._headSeen > limits.maxHeaderBytes:
            self._checkHeadLimits()
        self._headSeen = 0
        parser = self._parser
        version = _VERSIONS.get(parser.get_http_version(), b"HTTP/1.1")
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
        request.requestHeaders = Headers._fromWire(headers)
        if not parser.should_keep_alive() or method == b"CONNECT":
            request._persistent = False
            self._closeAfter = True
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
        if self.expectContinue and version == b"HTTP/1.1":
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
        self.state = TRANSITIONS[(self.state, Event.MESSAGE_DONE)]
        request = self._current
        self._current = None
        if request is None:
            return
        request._expectContinue = False
        try:
            request.requestReceived(request.method, request.uri, request.clientproto)
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

    A transport may say so with a ``TLS`` attribute; torsion's own connections are asked
    for the loop transport's ``ssl_object`` (every connection class has
    getPeerCertificate, so its presence proves nothing).
    """
    flag = getattr(transport, "TLS", None)
    if flag is not None:
        return bool(flag)
    inner = getattr(transport, "_transport", None)
    getExtra = getattr(inner, "get_extra_info", None)
    if getExtra is None:
        return False
    return getExtra("ssl_object") is not None


def _htmlEscape(s: str) -> str:
    import html

    return html.escape(s, quote=True)


# -- HTTPFactory ----------------------------------------------------------------------------

class HTTPFactory(ServerFactory):
    """Builds HTTPChannels and keeps the access log (Twisted's http.HTTPFactory).

    Why: limits and timeouts are set once here and applied to every connection. The
    access log is written only when asked for (`logPath` or `logFormatter`): formatting
    a line per request would otherwise cost as much as answering it.
    """

    protocol: Any = HTTPChannel
    logPath: str | None = None
    timeOut: float | None = 60.0
    headerTimeout: float | None = 30.0
    maxPipelined = 32

    def __init__(
        self,
        logPath: str | None = None,
        timeout: float | None = 60.0,
        logFormatter: Callable[[str, Request], str] | None = None,
        reactor: Any = None,
    ) -> None:
        self.logPath = logPath
        self.timeOut = timeout
        self._reactor = reactor
        self._logFormatter = logFormatter or combinedLogFormatter
        self._accessLog = logPath is not None or logFormatter is not None
        self._logFile: IO[str] | None = None
        self.limits = _http1.Limits()

    # Limits as plain attributes, for Twisted-style configuration.
    @property
    def maxHeaderBytes(self) -> int:
        """Bound on the request line plus header block, in bytes (431 beyond)."""
        return self.limits.maxHeaderBytes

    @maxHeaderBytes.setter
    def maxHeaderBytes(self, value: int) -> None:
        self.limits = _replace(self.limits, maxHeaderBytes=value)

    @property
    def maxHeaderCount(self) -> int:
        """Bound on the number of request header fields (431 beyond)."""
        return self.limits.maxHeaderCount

    @maxHeaderCount.setter
    def maxHeaderCount(self, value: int) -> None:
        self.limits = _replace(self.limits, maxHeaderCount=value)

    @property
    def maxBodyBytes(self) -> int:
        """Bound on a request body, in bytes (413 beyond)."""
        return self.limits.maxBodyBytes

    @maxBodyBytes.setter
    def maxBodyBytes(self, value: int) -> None:
        self.limits = _replace(self.limits, maxBodyBytes=value)

    @property
    def maxUriBytes(self) -> int:
        """Bound on the request target, in bytes (414 beyond)."""
        return self.limits.maxUriBytes

    @maxUriBytes.setter
    def maxUriBytes(self, value: int) -> None:
        self.limits = _replace(self.limits, maxUriBytes=value)

    def buildProtocol(self, addr: Any) -> HTTPChannel:
        channel: HTTPChannel = self.protocol()
        channel.factory = self
        channel.timeOut = self.timeOut
        channel.headerTimeout = self.headerTimeout
        channel.maxPipelined = self.maxPipelined
        channel.limits = self.limits
        requestFactory = getattr(self, "requestFactory", None)
        if requestFactory is not None:
            channel.requestFactory = requestFactory
        return channel

    def startFactory(self) -> None:
        if self.logPath is not None and self._logFile is None:
            self._logFile = open(self.logPath, "a", encoding="utf-8")  # noqa: SIM115

    def stopFactory(self) -> None:
        if self._logFile is not None:
            self._logFile.close()
            self._logFile = None

    def log(self, request: Request) -> None:
        """Write one access-log line for `request`."""
        try:
            line = self._logFormatter(datetimeToLogString(), request)
        except Exception:
            _log.failure("Access log formatter failed")
            return
        if self._logFile is not None:
            self._logFile.write(line + "\n")
            self._logFile.flush()
        elif self.logPath is None:
            _log.info("{line}", line=line)


def _replace(limits: _http1.Limits, **changes: int) -> _http1.Limits:
    import dataclasses

    return dataclasses.replace(limits, **changes)
