"""HTTP header storage: case-insensitive, multi-valued, str or bytes in.

Theory of operation: values are kept as bytes in a dict keyed by the lower-cased bytes
name, each mapping to the list of raw values in arrival order. Headers parsed off the wire
are first kept as the parser's list of ``(name, value)`` pairs and only folded into the dict
the first time somebody looks (most requests never read most headers).

Types (Twisted's contract): names and values may be given as ``str`` or ``bytes``; ``str``
names are encoded ISO-8859-1 and ``str`` values UTF-8 (RFC 9110 §5.5 allows only visible
ASCII plus obs-text, so this is lossless for valid headers). ``getRawHeaders(name)``
returns values of the *type of the name you passed*: bytes for a bytes name, str (decoded
UTF-8) for a str name. ``getAllRawHeaders()`` yields canonical-case bytes names.

Safety: a CR, LF or NUL in a name or value set through this class raises ValueError
(RFC 9110 §5.5: they would split the header block and allow response splitting).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import AnyStr, TypeVar, overload

__all__ = ["Headers"]

_T = TypeVar("_T")

_SPECIAL_CAPS = {
    b"content-md5": b"Content-MD5",
    b"dnt": b"DNT",
    b"etag": b"ETag",
    b"p3p": b"P3P",
    b"te": b"TE",
    b"www-authenticate": b"WWW-Authenticate",
    b"x-xss-protection": b"X-XSS-Protection",
}

_canonCache: dict[bytes, bytes] = {}
_BAD = (b"\r", b"\n", b"\x00")


def canonicalName(name: bytes) -> bytes:
    """Return the conventional capitalization of a lower-case header name.

    Why: HTTP names are case-insensitive, but peers and people read ``Content-Type``.
    """
    canon = _canonCache.get(name)
    if canon is None:
        canon = _SPECIAL_CAPS.get(name)
        if canon is None:
            canon = b"-".join(part.capitalize() for part in name.split(b"-"))
        if len(_canonCache) < 512:
            _canonCache[name] = canon
    return canon


def _encodeName(name: str | bytes) -> bytes:
    """Return the lower-cased bytes form of a header name, rejecting CR/LF/NUL and ':'."""
    if isinstance(name, str):
        raw = name.encode("iso-8859-1")
    elif isinstance(name, bytes):
        raw = name
    else:
        raise TypeError("header name must be str or bytes, not %r" % (type(name).__name__,))
    if not raw or b":" in raw or b" " in raw or b"\t" in raw or any(c in raw for c in _BAD):
        raise ValueError("invalid header name %r" % (name,))
    return raw.lower()


def _encodeValue(value: str | bytes | int) -> bytes:
    """Return the bytes form of a header value, rejecting CR, LF and NUL (RFC 9110 §5.5)."""
    if isinstance(value, bytes):
        raw = value
    elif isinstance(value, str):
        raw = value.encode("utf-8")
    elif isinstance(value, int) and not isinstance(value, bool):
        return b"%d" % (value,)
    else:
        raise TypeError("header value must be str or bytes, not %r" % (type(value).__name__,))
    if b"\r" in raw or b"\n" in raw or b"\x00" in raw:
        raise ValueError("header value contains CR, LF or NUL: %r" % (value,))
    return raw


class Headers:
    """A case-insensitive, multi-valued collection of HTTP headers.

    Why: HTTP allows a header to repeat (``Set-Cookie``) and names in any case; this
    keeps every value, in order, and hides the case.
    """

    __slots__ = ("_rawHeaders", "_pending")

    def __init__(
        self,
        rawHeaders: Mapping[str | bytes, Sequence[str | bytes]] | None = None,
    ) -> None:
        self._rawHeaders: dict[bytes, list[bytes]] = {}
        self._pending: list[tuple[bytes, bytes]] | None = None
        if rawHeaders is not None:
            for name, values in rawHeaders.items():
                self.setRawHeaders(name, values)

    @classmethod
    def _fromWire(cls, pairs: list[tuple[bytes, bytes]]) -> Headers:
        """Wrap header pairs already validated by the HTTP parser, folding them lazily."""
        self = cls.__new__(cls)
        self._rawHeaders = {}
        self._pending = pairs
        return self

    def _fold(self) -> dict[bytes, list[bytes]]:
        """Fold pending wire pairs into the dict and return it."""
        pending = self._pending
        raw = self._rawHeaders
        if pending is not None:
            self._pending = None
            for name, value in pending:
                key = name.lower()
                values = raw.get(key)
                if values is None:
                    raw[key] = [value]
                else:
                    values.append(value)
        return raw

    def __repr__(self) -> str:
        return "Headers(%r)" % (self._fold(),)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return self._fold() == other._fold()
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def copy(self) -> Headers:
        """Return an independent copy of these headers."""
        new = Headers()
        for name, values in self._fold().items():
            new._rawHeaders[name] = list(values)
        return new

    def hasHeader(self, name: str | bytes) -> bool:
        """Return whether at least one value is present for `name`."""
        return _encodeName(name) in self._fold()

    def removeHeader(self, name: str | bytes) -> None:
        """Remove every value of `name` (no error if absent)."""
        self._fold().pop(_encodeName(name), None)

    def setRawHeaders(self, name: str | bytes, values: Iterable[str | bytes]) -> None:
        """Replace every value of `name` with `values`."""
        if isinstance(values, (str, bytes)):
            raise TypeError("setRawHeaders expects a sequence of values, not a single value")
        key = _encodeName(name)
        encoded = [_encodeValue(v) for v in values]
        self._fold()[key] = encoded

    def addRawHeader(self, name: str | bytes, value: str | bytes) -> None:
        """Append one value for `name`, keeping those already present."""
        key = _encodeName(name)
        raw = self._fold()
        encoded = _encodeValue(value)
        values = raw.get(key)
        if values is None:
            raw[key] = [encoded]
        else:
            values.append(encoded)

    def _setOne(self, key: bytes, value: bytes) -> None:
        """Set an already-validated lower-case name to one already-validated value."""
        if self._pending is not None:
            self._fold()
        self._rawHeaders[key] = [value]

    def _getOne(self, key: bytes) -> bytes | None:
        """Return the last value of an already lower-cased bytes name, or None."""
        values = self._fold().get(key)
        if values:
            return values[-1]
        return None

    @overload
    def getRawHeaders(self, name: AnyStr) -> list[AnyStr] | None: ...

    @overload
    def getRawHeaders(self, name: AnyStr, default: _T) -> list[AnyStr] | _T: ...

    def getRawHeaders(self, name: str | bytes, default: object = None) -> object:
        """Return every value of `name` as a new list, or `default` if absent.

        Values are bytes for a bytes `name` and str (UTF-8 decoded) for a str `name`.
        """
        values = self._fold().get(_encodeName(name))
        if values is None:
            return default
        if isinstance(name, str):
            return [v.decode("utf-8", "surrogateescape") for v in values]
        return list(values)

    def getAllRawHeaders(self) -> Iterator[tuple[bytes, list[bytes]]]:
        """Yield ``(canonicalName, values)`` for every header, names as bytes."""
        for name, values in list(self._fold().items()):
            yield canonicalName(name), list(values)

    def _serialize(self, parts: list[bytes]) -> None:
        """Append the wire form ``Name: value\\r\\n`` of every header to `parts`."""
        for name, values in self._fold().items():
            canon = _canonCache.get(name) or canonicalName(name)
            for value in values:
                parts.append(canon + b": " + value + b"\r\n")
