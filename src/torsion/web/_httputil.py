"""HTTP constants and small pure helpers: status codes, dates, query strings, chunks.

Theory of operation: nothing here touches a transport or a request; torsion.web.http
re-exports every public name (Twisted keeps them all in twisted.web.http).
"""

from __future__ import annotations

import calendar
import time
from email.utils import formatdate, mktime_tz, parsedate_tz
from urllib.parse import unquote_to_bytes

from torsion.web import _http1

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

    __slots__ = ("second", "since", "until", "value")

    def __init__(self) -> None:
        self.second = -1
        self.since = self.until = 0.0  # value is current while since <= time.time() < until
        self.value = b""

    def get(self) -> bytes:
        now = int(time.time())
        if now != self.second:
            self.second = now
            self.since = float(now)
            self.until = float(now + 1)
            self.value = b"Date: " + formatdate(now, usegmt=True).encode("ascii") + b"\r\n"
        return self.value


_dateCache = _DateCache()
_time = time.time


def parse_qs(
    qs: bytes, keep_blank_values: bool = False, strict_parsing: bool = False
) -> dict[bytes, list[bytes]]:
    """Parse a query string into ``{name: [values]}`` with bytes keys and values.

    Why: Twisted's parse_qs, used for query strings and urlencoded bodies alike: a field
    without ``=`` is dropped (ValueError with `strict_parsing`), an empty value is kept
    only with `keep_blank_values`.
    """
    result: dict[bytes, list[bytes]] = {}
    for part in qs.replace(b";", b"&").split(b"&"):
        name, sep, value = part.partition(b"=")
        if not sep:
            if strict_parsing:
                raise ValueError("bad query field: %r" % (part,))
            continue
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
