"""Server-side cookie parsing and Set-Cookie formatting (RFC 6265).

Theory of operation: incoming ``Cookie`` headers are split leniently (browsers send what
they were given), while outgoing ``Set-Cookie`` values are validated strictly: a name
must be a token and a value cookie-octets (RFC 6265 §4.1.1), and attribute values may not
contain ``;`` or control characters, so no caller can inject attributes or headers.
"""

from __future__ import annotations

import re
import time
from email.utils import formatdate

__all__ = ["formatSetCookie", "parseCookieHeader"]

# RFC 9110 §5.6.2 token.
_TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# RFC 6265 §4.1.1 cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E.
_COOKIE_VALUE = re.compile(rb'^(?:"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*"|'
                           rb"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*)$")
_ATTR_VALUE = re.compile(rb"^[\x20-\x3a\x3c-\x7e]*$")
_SAME_SITE = {"lax": b"Lax", "strict": b"Strict", "none": b"None"}


def _b(value: bytes | str | int) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, int):
        return b"%d" % (value,)
    return value.encode("utf-8")


def parseCookieHeader(header: bytes) -> dict[bytes, bytes]:
    """Parse one Cookie request header into ``{name: value}`` (RFC 6265 §5.4)."""
    cookies: dict[bytes, bytes] = {}
    for part in header.split(b";"):
        name, sep, value = part.partition(b"=")
        name = name.strip()
        if sep and name:
            cookies[name] = value.strip()
    return cookies


def _attr(name: str, value: bytes | str | int) -> bytes:
    raw = _b(value)
    if not _ATTR_VALUE.match(raw):
        raise ValueError("invalid cookie %s: %r" % (name, value))
    return raw


def formatSetCookie(
    name: bytes | str,
    value: bytes | str,
    expires: bytes | str | None = None,
    domain: bytes | str | None = None,
    path: bytes | str | None = None,
    max_age: bytes | str | int | None = None,
    comment: bytes | str | None = None,
    secure: bool | None = None,
    httpOnly: bool = False,
    sameSite: str | None = None,
) -> bytes:
    """Return a Set-Cookie header value, raising ValueError for anything unsafe.

    RFC 6265 §4.1.1: the name is a token, the value cookie-octets (optionally quoted),
    attribute values exclude ``;`` and CTLs. `sameSite` is "lax", "strict" or "none".
    """
    rawName = _b(name)
    rawValue = _b(value)
    if not _TOKEN.match(rawName):
        raise ValueError("invalid cookie name: %r" % (name,))
    if not _COOKIE_VALUE.match(rawValue):
        raise ValueError("invalid cookie value: %r" % (value,))
    parts = [rawName + b"=" + rawValue]
    if expires is not None:
        parts.append(b"Expires=" + _attr("Expires", expires))
    if max_age is not None:
        age = _b(max_age)
        if not age.lstrip(b"-").isdigit():
            raise ValueError("invalid cookie Max-Age: %r" % (max_age,))
        parts.append(b"Max-Age=" + age)
    if domain is not None:
        parts.append(b"Domain=" + _attr("Domain", domain))
    if path is not None:
        parts.append(b"Path=" + _attr("Path", path))
    if comment is not None:
        parts.append(b"Comment=" + _attr("Comment", comment))
    if secure:
        parts.append(b"Secure")
    if httpOnly:
        parts.append(b"HttpOnly")
    if sameSite is not None:
        key = sameSite.decode("ascii") if isinstance(sameSite, bytes) else sameSite
        canonical = _SAME_SITE.get(key.lower())
        if canonical is None:
            raise ValueError("Invalid value for sameSite: %r" % (sameSite,))
        parts.append(b"SameSite=" + canonical)
    return b"; ".join(parts)


def expiresIn(seconds: float, now: float | None = None) -> bytes:
    """Return an Expires attribute value `seconds` from `now` (default: the wall clock)."""
    base = time.time() if now is None else now
    return formatdate(base + seconds, usegmt=True).encode("ascii")
