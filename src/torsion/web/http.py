"""HTTP/1.1 server: Request, HTTPChannel, HTTPFactory and the protocol's constants.

Theory of operation: this module is the public face Twisted code imports
(``torsion.web.http``); the parts live in a module per idea:

    _http1.py     request parsing and response framing, no I/O (state machine)
    _httputil.py  status codes, dates, query strings, chunk helpers
    _request.py   Request: reading the request, writing the response
    _channel.py   HTTPChannel: one connection, pipelining order, timeouts, upgrades
    http.py       HTTPFactory (limits, timeouts, access log) and the re-exports

Response framing: the first ``write`` sends the status line and headers. With a known
Content-Length the body goes out as is; otherwise HTTP/1.1 responses are chunked and
HTTP/1.0 ones are delimited by closing the connection. A response to a whole body (the
common ``render`` returning bytes) goes out in a single ``transport.write``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from torsion.internet.protocol import ServerFactory
from torsion.logger import Logger
from torsion.web import _http1
from torsion.web._channel import HTTPChannel
from torsion.web._httputil import (
    ACCEPTED,
    BAD_GATEWAY,
    BAD_REQUEST,
    CACHED,
    CONFLICT,
    CREATED,
    EXPECTATION_FAILED,
    FORBIDDEN,
    FOUND,
    GATEWAY_TIMEOUT,
    GONE,
    HTTP_VERSION_NOT_SUPPORTED,
    IM_A_TEAPOT,
    INTERNAL_SERVER_ERROR,
    LENGTH_REQUIRED,
    MOVED_PERMANENTLY,
    MULTI_STATUS,
    MULTIPLE_CHOICE,
    NO_BODY_CODES,
    NO_CONTENT,
    NON_AUTHORITATIVE_INFORMATION,
    NOT_ACCEPTABLE,
    NOT_ALLOWED,
    NOT_FOUND,
    NOT_IMPLEMENTED,
    NOT_MODIFIED,
    OK,
    PARTIAL_CONTENT,
    PAYMENT_REQUIRED,
    PERMANENT_REDIRECT,
    PRECONDITION_FAILED,
    PROXY_AUTH_REQUIRED,
    REQUEST_ENTITY_TOO_LARGE,
    REQUEST_HEADER_FIELDS_TOO_LARGE,
    REQUEST_TIMEOUT,
    REQUEST_URI_TOO_LONG,
    REQUESTED_RANGE_NOT_SATISFIABLE,
    RESET_CONTENT,
    RESPONSES,
    SEE_OTHER,
    SERVICE_UNAVAILABLE,
    SWITCHING,
    TEMPORARY_REDIRECT,
    UNAUTHORIZED,
    UNSUPPORTED_MEDIA_TYPE,
    USE_PROXY,
    PotentialDataLoss,
    datetimeToLogString,
    datetimeToString,
    fromChunk,
    parse_qs,
    parseContentRange,
    stringToDatetime,
    timegm,
    toChunk,
)
from torsion.web._request import Request

__all__ = [
    "Request",
    "HTTPChannel",
    "HTTPFactory",
    "combinedLogFormatter",
    "proxiedLogFormatter",
    "ACCEPTED",
    "BAD_GATEWAY",
    "BAD_REQUEST",
    "CACHED",
    "CONFLICT",
    "CREATED",
    "EXPECTATION_FAILED",
    "FORBIDDEN",
    "FOUND",
    "GATEWAY_TIMEOUT",
    "GONE",
    "HTTP_VERSION_NOT_SUPPORTED",
    "IM_A_TEAPOT",
    "INTERNAL_SERVER_ERROR",
    "LENGTH_REQUIRED",
    "MOVED_PERMANENTLY",
    "MULTIPLE_CHOICE",
    "MULTI_STATUS",
    "NON_AUTHORITATIVE_INFORMATION",
    "NOT_ACCEPTABLE",
    "NOT_ALLOWED",
    "NOT_FOUND",
    "NOT_IMPLEMENTED",
    "NOT_MODIFIED",
    "NO_BODY_CODES",
    "NO_CONTENT",
    "OK",
    "PARTIAL_CONTENT",
    "PAYMENT_REQUIRED",
    "PERMANENT_REDIRECT",
    "PRECONDITION_FAILED",
    "PROXY_AUTH_REQUIRED",
    "PotentialDataLoss",
    "REQUESTED_RANGE_NOT_SATISFIABLE",
    "REQUEST_ENTITY_TOO_LARGE",
    "REQUEST_HEADER_FIELDS_TOO_LARGE",
    "REQUEST_TIMEOUT",
    "REQUEST_URI_TOO_LONG",
    "RESET_CONTENT",
    "RESPONSES",
    "SEE_OTHER",
    "SERVICE_UNAVAILABLE",
    "SWITCHING",
    "TEMPORARY_REDIRECT",
    "UNAUTHORIZED",
    "UNSUPPORTED_MEDIA_TYPE",
    "USE_PROXY",
    "datetimeToLogString",
    "datetimeToString",
    "fromChunk",
    "parseContentRange",
    "parse_qs",
    "stringToDatetime",
    "timegm",
    "toChunk",
]

_log = Logger()


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
