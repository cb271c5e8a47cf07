"""HTTP/1.1 request parsing and response framing, with no I/O.

Theory of operation: `RequestParser` owns one httptools (llhttp) parser per connection
and receives its callbacks directly. It enforces the server's limits, tracks where the
connection is in the message cycle as explicit state (`State`, changed only through
`TRANSITIONS`), and reports each request to three hooks a subclass implements:

    _headReceived()        request line and headers are complete: they are in the
                           parser's attributes (or `currentHead()` as a `RequestHead`)
    _bodyReceived(data)    a piece of the decoded body (chunked framing already removed)
    _messageComplete()     the whole request, body included, has been read

The server's HTTPChannel (torsion.web._channel) is a RequestParser that overrides the
httptools callbacks on_headers_complete and on_message_complete themselves, running the
same checks, to save a Python frame per request on the hot path.

Bad input raises `ParseError(code, reason)` out of `feed()`; the caller answers with that
status and closes, since the framing can no longer be trusted. llhttp itself already
rejects (RFC 9112): duplicate or signed Content-Length (§6.3), Content-Length together with
Transfer-Encoding (§6.1), bad chunk sizes and extensions (§7.1), bare CR or LF and
obs-fold in the header block (§2.2, §5.2), and CR/LF inside the method or target (§3).
On top of that this module bounds the header block (bytes and count), the target length,
the body, and chunk framing between body bytes (size lines, extensions, trailers: at most
maxHeaderBytes, §7.1), and requires exactly one Host header in HTTP/1.1 (RFC 9112 §3.2).

Response framing helpers (`statusLine`, `chunk`, `LAST_CHUNK`) live here too, so the wire
format is in one place; the glue that owns a transport is torsion.web._channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

import httptools

__all__ = [
    "State",
    "Event",
    "TRANSITIONS",
    "ParseError",
    "Limits",
    "RequestHead",
    "RequestParser",
    "statusLine",
    "chunk",
    "LAST_CHUNK",
    "CONTINUE",
]


class State:
    """Where a connection's parser is in the request cycle.

    Plain interned strings rather than an Enum: the table below is consulted three
    times per request, and str hashes are cached where Enum hashes run Python code.
    """

    IDLE = "idle"  # between requests: nothing of the next request seen yet
    HEAD = "head"  # request line started; reading the header block
    BODY = "body"  # header block complete; reading the body (maybe empty)
    CLOSED = "closed"  # an error or an upgrade ended HTTP/1.1 parsing on this connection

    ALL = frozenset((IDLE, HEAD, BODY, CLOSED))


class Event:
    """Things the parser observes that move it between states."""

    BEGIN = "begin"
    HEAD_DONE = "head_done"
    MESSAGE_DONE = "message_done"
    ERROR = "error"


TRANSITIONS: dict[tuple[str, str], str] = {
    (State.IDLE, Event.BEGIN): State.HEAD,
    (State.HEAD, Event.HEAD_DONE): State.BODY,
    (State.BODY, Event.MESSAGE_DONE): State.IDLE,
    (State.IDLE, Event.ERROR): State.CLOSED,
    (State.HEAD, Event.ERROR): State.CLOSED,
    (State.BODY, Event.ERROR): State.CLOSED,
    (State.CLOSED, Event.ERROR): State.CLOSED,
}


class ParseError(Exception):
    """The request cannot be parsed or breaks a limit; answer `code` and close."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason

    def __str__(self) -> str:
        return "%d %s" % (self.code, self.reason)


@dataclass
class Limits:
    """Bounds on what one request may make the server hold (DESIGN §7: bounded everything).

    Why: without them a peer can make the server buffer without end; each defaults to a
    value far above what real clients send.
    """

    maxUriBytes: int = 16 * 1024
    maxHeaderBytes: int = 64 * 1024
    maxHeaderCount: int = 100
    maxBodyBytes: int = 64 * 1024 * 1024


@dataclass(slots=True)
class RequestHead:
    """The request line and header block of one request, as read off the wire."""

    method: bytes
    uri: bytes
    version: bytes  # b"HTTP/1.1" or b"HTTP/1.0"
    headers: list[tuple[bytes, bytes]]
    keepAlive: bool
    contentLength: int | None  # None when chunked or absent
    chunked: bool
    expectContinue: bool


_VERSIONS = {"1.1": b"HTTP/1.1", "1.0": b"HTTP/1.0", "0.9": b"HTTP/0.9"}
_BEGUN = TRANSITIONS[(State.IDLE, Event.BEGIN)]
_HEAD_DONE = TRANSITIONS[(State.HEAD, Event.HEAD_DONE)]
_MESSAGE_DONE = TRANSITIONS[(State.BODY, Event.MESSAGE_DONE)]
_IDLE, _HEAD, _BODY = State.IDLE, State.HEAD, State.BODY  # one global load in the callbacks


class RequestParser:
    """Feed bytes in, get request heads, body pieces and completions out.

    Why: keeping HTTP framing free of sockets lets it be tested byte by byte and lets
    the glue layer stay thin on the hot path. When `_headReceived` runs, the head is
    available as attributes (`method`, `uri`, `version`, `headers`, `keepAlive`,
    `contentLength`, `chunked`, `expectContinue`) or as a `RequestHead` from
    `currentHead()`; the attributes avoid building an object per request.
    """

    limits: Limits = Limits()
    method = b""
    uri = b""
    version = b"HTTP/1.1"
    keepAlive = True
    upgradeData: bytes | None = None

    def __init__(self, limits: Limits | None = None) -> None:
        if limits is not None:
            self.limits = limits
        self._parser = httptools.HttpRequestParser(self)
        self.state: str = State.IDLE
        self.headers: list[tuple[bytes, bytes]] = []
        self._trailerBytes = 0
        self._bodyBytes = 0
        self.contentLength: int | None = None
        self.chunked = False
        self.expectContinue = False
        self._hosts = 0
        self._headSeen = 0
        self._framed = False
        self._connection = False
        self._framing = 0

    def currentHead(self) -> RequestHead:
        """Return the head of the request being read, as one object."""
        return RequestHead(self.method, self.uri, self.version, self.headers, self.keepAlive,
                           self.contentLength, self.chunked, self.expectContinue)

    # -- hooks for subclasses ------------------------------------------------------------

    def _headReceived(self) -> None:
        """Handle a complete request head, found in the attributes (override)."""
        raise NotImplementedError

    def _bodyReceived(self, data: bytes) -> None:
        """Handle a piece of request body (override)."""
        raise NotImplementedError

    def _messageComplete(self) -> None:
        """Handle the end of a request (override)."""
        raise NotImplementedError

    # -- input ----------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Parse `data`, calling the hooks; raise ParseError on bad input."""
        state = self.state
        if state is State.CLOSED:
            return
        chunkedBody = False
        if state is not State.BODY:
            # Bytes seen since the last complete head: an upper bound on the size of the
            # head being read, which llhttp buffers internally until a field is complete.
            self._headSeen += len(data)
        elif self.chunked:
            chunkedBody = True
            self._framing += len(data)
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade as e:
            self._upgrade(data, e)
        except httptools.HttpParserError as e:
            self.state = State.CLOSED
            # httptools wraps an exception raised in a callback; ours carry the status.
            if isinstance(e.__context__, ParseError):
                raise e.__context__ from None
            raise ParseError(400, "Bad Request: %s" % (e,)) from None
        if self._headSeen > self.limits.maxHeaderBytes and self.state is State.HEAD:
            self.state = State.CLOSED
            raise ParseError(431, "Request Header Fields Too Large")
        if chunkedBody:
            self._checkFraming()

    def _checkFraming(self) -> None:
        """Refuse a chunked body whose framing has grown past maxHeaderBytes.

        RFC 9112 §7.1: chunk-size lines, extensions and trailers are framing, not data;
        llhttp does not hold them, but a peer can send them (e.g. endless leading zeros
        or an endless extension) forever without a byte of body. `_framing` counts the
        bytes of reads that began inside a chunked body since body bytes last came, so
        a long line is caught within one read of the bound and an upload of many small
        chunks never is.
        """
        if self._framing > self.limits.maxHeaderBytes and self.state is State.BODY:
            self._fail(400, "Bad Request: chunk framing too long")

    def _upgrade(self, data: bytes, e: httptools.HttpParserUpgrade) -> None:
        """Handle llhttp stopping at an Upgrade or CONNECT request.

        The request itself has been reported; the bytes after it are kept in
        `upgradeData` for whoever accepts the upgrade. A server that does not accept it
        answers normally, so parsing continues on a fresh parser (RFC 9110 §7.8: a
        server may ignore Upgrade).
        """
        offset = e.args[0] if e.args and isinstance(e.args[0], int) else len(data)
        rest = data[offset:]
        self._parser = httptools.HttpRequestParser(self)
        self.state = State.IDLE
        if rest:
            self.upgradeData = rest
            self.feed(rest)

    def _fail(self, code: int, reason: str) -> None:
        """Raise ParseError from inside a callback (httptools re-raises it from feed)."""
        self.state = State.CLOSED
        raise ParseError(code, reason)

    # -- httptools callbacks -------------------------------------------------------------
    # There is no on_message_begin: llhttp reports every request target through on_url,
    # so the first on_url of a request is its beginning (one Python call fewer).

    def on_url(self, url: bytes) -> None:
        if self.state is _IDLE:
            self.state = _BEGUN
            self.uri = url
            self.headers = []
            self._hosts = 0
            if self._framed:
                # The previous request had framing or connection fields: forget them.
                self._framed = False
                self.contentLength = None
                self.chunked = False
                self.expectContinue = False
                self._connection = False
                self._trailerBytes = 0
                self._bodyBytes = 0
                self._framing = 0
            if len(url) > self.limits.maxUriBytes:
                self._fail(414, "URI Too Long")
            return
        uri = self.uri + url
        if len(uri) > self.limits.maxUriBytes:
            self._fail(414, "URI Too Long")
        self.uri = uri

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.state is _BODY:
            # Trailer fields (RFC 9112 §7.1.2): bounded, then discarded.
            self._trailerBytes += len(name) + len(value)
            if self._trailerBytes > self.limits.maxHeaderBytes:
                self._fail(431, "Request Header Fields Too Large")
            return
        self.headers.append((name, value))
        n = len(name)
        if n == 4:
            if name.lower() == b"host":
                self._hosts += 1
            return
        if n == 10:
            if name.lower() == b"connection":
                self._framed = self._connection = True
        elif n == 14:
            if name.lower() == b"content-length":
                self._framed = True
                # llhttp has already checked 1*DIGIT and rejected a second one.
                self.contentLength = int(value)
                if self.contentLength > self.limits.maxBodyBytes:
                    self._fail(413, "Content Too Large")
        elif n == 17:
            if name.lower() == b"transfer-encoding":
                self._framed = self.chunked = True
        elif n == 6:
            if name.lower() == b"expect":
                self._framed = True
                if value.lower() == b"100-continue":
                    self.expectContinue = True
                else:
                    # RFC 9110 §10.1.1: an unknown expectation may be answered with 417.
                    self._fail(417, "Expectation Failed")

    def _checkHeadLimits(self) -> None:
        """Enforce maxHeaderCount and maxHeaderBytes on the complete head (431 beyond).

        Called only when a cheap bound (field count, bytes seen) is exceeded, so the
        exact size is measured only then.
        """
        limits = self.limits
        headers = self.headers
        if len(headers) > limits.maxHeaderCount:
            self._fail(431, "Too Many Request Header Fields")
        size = len(self.uri) + sum(len(n) + len(v) + 4 for n, v in headers)
        if size > limits.maxHeaderBytes:
            self._fail(431, "Request Header Fields Too Large")

    def _version(self) -> bytes:
        """Return the request's HTTP version, asking llhttp.

        Why a method: httptools formats the version as text (a few hundred ns), so the
        common case skips it. llhttp accepts only 0.9, 1.0, 1.1 and 2.0, and reports
        keep-alive without a ``Connection: keep-alive`` field only for 1.1; so a
        keep-alive request with no Connection field is HTTP/1.1 without asking.
        """
        return _VERSIONS.get(self._parser.get_http_version(), b"HTTP/1.1")

    def _checkHost(self, version: bytes) -> None:
        """RFC 9112 §3.2: answer 400 to a 1.1 request lacking Host, or any with two."""
        if self._hosts != 1 and (self._hosts > 1 or version == b"HTTP/1.1"):
            self._fail(400, "Bad Request: exactly one Host header is required")

    def on_headers_complete(self) -> None:
        if self.state is not _HEAD:
            self._fail(400, "Bad Request")  # parsing went on after the connection ended
        self.state = _HEAD_DONE
        limits = self.limits
        if len(self.headers) > limits.maxHeaderCount or self._headSeen > limits.maxHeaderBytes:
            self._checkHeadLimits()
        self._headSeen = 0
        parser = self._parser
        keepAlive = parser.should_keep_alive()
        version = b"HTTP/1.1" if keepAlive and not self._connection else self._version()
        if self._hosts != 1:
            self._checkHost(version)
        method = self.method = parser.get_method()
        self.version = version
        self.keepAlive = keepAlive and method != b"CONNECT"
        if self.chunked:
            self.contentLength = None
        if self.expectContinue and version != b"HTTP/1.1":
            self.expectContinue = False
        self._headReceived()

    def on_body(self, body: bytes) -> None:
        if self.chunked:
            self._bodyBytes += len(body)
            if self._bodyBytes > self.limits.maxBodyBytes:
                self._fail(413, "Content Too Large")
            self._framing = 0
        self._bodyReceived(body)

    def on_message_complete(self) -> None:
        if self.state is not _BODY:
            self._fail(400, "Bad Request")
        self.state = _MESSAGE_DONE
        self._messageComplete()


# -- response framing ---------------------------------------------------------------------

_STATUS_LINES: dict[int, bytes] = {
    s.value: b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode("ascii")) for s in HTTPStatus
}

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
LAST_CHUNK = b"0\r\n\r\n"


def reasonPhrase(code: int) -> bytes:
    """Return the standard reason phrase for `code`, or b"Unknown Status"."""
    try:
        return HTTPStatus(code).phrase.encode("ascii")
    except ValueError:
        return b"Unknown Status"


def statusLine(code: int, message: bytes | None = None) -> bytes:
    """Return the HTTP/1.1 status line for `code` (prebuilt for standard codes).

    RFC 9112 §4: the reason phrase may not contain CR or LF; one that does is refused.
    """
    if message is None:
        line = _STATUS_LINES.get(code)
        if line is not None:
            return line
        message = reasonPhrase(code)
    if b"\r" in message or b"\n" in message:
        raise ValueError("status message contains CR or LF: %r" % (message,))
    return b"HTTP/1.1 %d %s\r\n" % (code, message)


def chunk(data: bytes) -> bytes:
    """Frame `data` as one chunk (RFC 9112 §7.1); empty data must not be framed."""
    return b"%x\r\n%s\r\n" % (len(data), data)
