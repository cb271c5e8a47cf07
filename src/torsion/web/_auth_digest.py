"""HTTP Digest access authentication, the server side (RFC 7616, RFC 2617's successor).

Theory of operation: a challenge carries a nonce the server can verify without having
stored it::

    nonce  = base64url(issued-ms (8 bytes) || random (16) || tag (16))
    tag    = HMAC-SHA256(privateKey, issued-ms || random || client host)[:16]
    opaque = hex(HMAC-SHA256(privateKey, "opaque:" || nonce)[:16])

so a response naming a nonce this factory never issued, issued to another client
address, or with a foreign opaque, is refused while decoding, with no state at all.
State is kept only for nonces that a *correct* digest has used: the highest
nonce-count (``nc``) seen, in a bounded table, so a replayed request (same or lower
``nc``) is refused. A response whose digest is right but whose nonce is too old
(``CHALLENGE_LIFETIME_SECS``) or replayed is refused with a fresh challenge marked
``stale=true`` (RFC 7616 §3.3), so the client retries with the new nonce without asking
the user again. Only ``qop=auth`` is offered, and RFC 2069 responses (no qop) are refused.

When the table is full the least recently used entry is dropped and the drop raises a
watermark: an untracked nonce issued at or before the watermark counts as used (stale),
so forgetting an entry can never re-open a replay, only ask a client for one more
round trip.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import struct
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote_to_bytes

from torsion.cred import error
from torsion.cred.credentials import IUsernameHashedPassword

__all__ = ["DigestCredentialFactory", "DigestedCredentials", "parseAuthParams"]

_Hash = Callable[[bytes], Any]

_ALGORITHMS: dict[bytes, tuple[bytes, _Hash, bool]] = {
    # lower-case name: (name as sent in challenges, hash, session variant?)
    b"md5": (b"MD5", hashlib.md5, False),
    b"md5-sess": (b"MD5-sess", hashlib.md5, True),
    b"sha-256": (b"SHA-256", hashlib.sha256, False),
    b"sha-256-sess": (b"SHA-256-sess", hashlib.sha256, True),
}
"""RFC 7616 §3.3 algorithms (SHA-512-256 is left out: no client the tests can run sends it)."""

_TOKEN = frozenset(
    b"!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
_WHITESPACE = frozenset(b" \t")
_QUOTE, _BACKSLASH, _EQUALS, _COMMA = ord('"'), ord("\\"), ord("="), ord(",")
_MAX_PARAMS = 32
_NONCE_BYTES = 8 + 16 + 16
_LHEX8 = frozenset(b"0123456789abcdefABCDEF")


def _skip(data: bytes, i: int, chars: frozenset[int]) -> int:
    while i < len(data) and data[i] in chars:
        i += 1
    return i


def parseAuthParams(data: bytes) -> dict[str, bytes]:
    """Parse ``#auth-param`` (RFC 9110 §11.2) into ``{lower-case name: value}``.

    Values may be tokens or quoted strings (quoted pairs unescaped). Any syntax error,
    a control character in a quoted string, a repeated name or more than 32 parameters
    raises LoginFailed: an ambiguous header must not be half-understood.
    """
    params: dict[str, bytes] = {}
    i, n = 0, len(data)
    while True:
        i = _skip(data, i, _WHITESPACE | {_COMMA})  # empty list elements are allowed
        if i >= n:
            return params
        start = i
        i = _skip(data, i, _TOKEN)
        name = data[start:i]
        i = _skip(data, i, _WHITESPACE)
        if not name or i >= n or data[i] != _EQUALS:
            raise error.LoginFailed("Malformed Authorization parameters")
        i = _skip(data, i + 1, _WHITESPACE)
        if i < n and data[i] == _QUOTE:
            value = bytearray()
            i += 1
            while True:
                if i >= n:
                    raise error.LoginFailed("Unterminated quoted string in Authorization")
                c = data[i]
                if c == _QUOTE:
                    i += 1
                    break
                if c == _BACKSLASH:
                    i += 1
                    if i >= n:
                        raise error.LoginFailed("Unterminated quoted string in Authorization")
                    c = data[i]
                if (c < 0x20 and c != 0x09) or c == 0x7F:
                    raise error.LoginFailed("Control character in Authorization")
                value.append(c)
                i += 1
            raw = bytes(value)
        else:
            start = i
            i = _skip(data, i, _TOKEN)
            raw = data[start:i]
            if not raw:
                raise error.LoginFailed("Malformed Authorization parameters")
        i = _skip(data, i, _WHITESPACE)
        if i < n and data[i] != _COMMA:
            raise error.LoginFailed("Malformed Authorization parameters")
        key = name.decode("ascii").lower()
        if key in params:
            raise error.LoginFailed("Repeated Authorization parameter %r" % (key,))
        if len(params) >= _MAX_PARAMS:
            raise error.LoginFailed("Too many Authorization parameters")
        params[key] = raw


def _hex(hash: _Hash, data: bytes) -> bytes:
    return hash(data).hexdigest().encode("ascii")  # type: ignore[no-any-return]


class DigestedCredentials(IUsernameHashedPassword):
    """The credentials of one Digest response: checkable against a stored password.

    Why: the password never crosses the wire, so a checker cannot read it; it hands
    its stored plaintext to `checkPassword` (or a stored H(A1) to `checkHash`), which
    recomputes the response the client must have computed and compares in constant
    time. `stale` becomes true when the digest was right but the nonce had expired or
    was replayed: the guard then re-challenges with ``stale=true``.
    """

    def __init__(
        self,
        username: bytes,
        method: bytes,
        realm: bytes,
        fields: dict[str, bytes],
        *,
        expired: bool = False,
        useNonce: Callable[[], bool] | None = None,
    ) -> None:
        self.username = username
        self.method = method
        self.realm = realm
        self.fields = fields
        self.stale = False
        self._expired = expired
        self._useNonce = useNonce
        algorithm = fields.get("algorithm", b"md5").lower()
        if algorithm not in _ALGORITHMS:
            raise error.LoginFailed("Unsupported Digest algorithm")
        _, self._hash, self._session = _ALGORITHMS[algorithm]

    def __repr__(self) -> str:
        return "<DigestedCredentials %r>" % (self.username,)

    def _field(self, name: str) -> bytes:
        return self.fields.get(name, b"")

    def _matches(self, ha1: bytes) -> bool:
        """Whether the response was computed from `ha1`, then whether the nonce is still good."""
        h, f = self._hash, self._field
        nonce, cnonce = f("nonce"), f("cnonce")
        if self._session:
            ha1 = _hex(h, b"%s:%s:%s" % (ha1, nonce, cnonce))
        ha2 = _hex(h, b"%s:%s" % (self.method, f("uri")))
        expected = _hex(
            h, b":".join([ha1, nonce, f("nc"), cnonce, f("qop").lower(), ha2])
        )
        if not hmac.compare_digest(expected, f("response").lower()):
            return False
        if self._expired or (self._useNonce is not None and not self._useNonce()):
            self.stale = True
            return False
        return True

    def checkPassword(self, password: bytes) -> bool:
        """Return whether the response was computed with `password` (and the nonce is fresh)."""
        a1 = b"%s:%s:%s" % (self.username, self.realm, password)
        return self._matches(_hex(self._hash, a1))

    def checkHash(self, digestHash: bytes) -> bool:
        """Like checkPassword, given a stored H(username:realm:password) in hex."""
        return self._matches(digestHash.lower())


class _Used:
    __slots__ = ("issued", "nc")

    def __init__(self, issued: int, nc: int) -> None:
        self.issued = issued
        self.nc = nc


def _asBytes(value: bytes | str, what: str) -> bytes:
    raw = value.encode("utf-8") if isinstance(value, str) else value
    if not isinstance(raw, bytes):
        raise TypeError("%s must be bytes or str, not %s" % (what, type(value).__name__))
    return raw


class DigestCredentialFactory:
    """Digest authentication for the guard (Twisted's guard.DigestCredentialFactory).

    `algorithm` is one of MD5, SHA-256, MD5-sess, SHA-256-sess (any case); offer two
    algorithms by passing two factories to HTTPAuthSessionWrapper. `clock` (an
    IReactorTime; default the wall clock) dates nonces.
    """

    scheme = b"digest"
    CHALLENGE_LIFETIME_SECS = 15 * 60
    """How long a nonce may be used; after that a correct response gets ``stale=true``."""
    maxTrackedNonces = 10_000
    """How many used nonces are remembered for replay detection (see the module docstring)."""

    def __init__(
        self, algorithm: bytes | str, authenticationRealm: bytes | str, *, clock: Any = None
    ) -> None:
        name = _asBytes(algorithm, "algorithm").lower()
        if name not in _ALGORITHMS:
            raise ValueError(
                "Unsupported Digest algorithm %r; use one of %s"
                % (algorithm, ", ".join(v[0].decode() for v in _ALGORITHMS.values()))
            )
        realm = _asBytes(authenticationRealm, "authenticationRealm")
        if any(c < 0x20 or c == 0x7F for c in realm):
            raise ValueError("authenticationRealm must not contain control characters")
        self.algorithm = _ALGORITHMS[name][0]
        self.authenticationRealm = realm
        self.privateKey = os.urandom(32)
        self._clock = clock
        self._used: OrderedDict[bytes, _Used] = OrderedDict()
        self._watermark = -1
        self._lock = threading.Lock()

    def _now(self) -> float:
        if self._clock is not None:
            return float(self._clock.seconds())
        return time.time()

    @staticmethod
    def _clientHost(request: Any) -> bytes:
        """The client's host, which a nonce is bound to (b"" on a non-IP transport)."""
        peer = request.getClientAddress()
        host = getattr(peer, "host", None) or ""
        return host.encode("utf-8") if isinstance(host, str) else bytes(host)

    def _tag(self, body: bytes, host: bytes) -> bytes:
        return hmac.new(self.privateKey, body + host, hashlib.sha256).digest()[:16]

    def _opaque(self, nonce: bytes) -> bytes:
        digest = hmac.new(self.privateKey, b"opaque:" + nonce, hashlib.sha256).digest()
        return binascii.hexlify(digest[:16])

    def getChallenge(self, request: Any) -> dict[str, bytes]:
        """Return the parameters of a fresh challenge for `request`'s client."""
        body = struct.pack(">Q", int(self._now() * 1000)) + os.urandom(16)
        raw = body + self._tag(body, self._clientHost(request))
        nonce = base64.urlsafe_b64encode(raw).rstrip(b"=")
        return {
            "realm": self.authenticationRealm,
            "qop": b"auth",
            "algorithm": self.algorithm,
            "nonce": nonce,
            "opaque": self._opaque(nonce),
        }

    def _issued(self, nonce: bytes, host: bytes) -> int:
        """Return the issue time (ms) of one of our nonces; LoginFailed for any other."""
        try:
            raw = base64.urlsafe_b64decode(nonce + b"=" * (-len(nonce) % 4))
        except (binascii.Error, ValueError):
            raise error.LoginFailed("Invalid Digest nonce") from None
        if len(raw) != _NONCE_BYTES or base64.urlsafe_b64encode(raw).rstrip(b"=") != nonce:
            raise error.LoginFailed("Invalid Digest nonce")
        body, tag = raw[:24], raw[24:]
        if not hmac.compare_digest(tag, self._tag(body, host)):
            raise error.LoginFailed("Invalid Digest nonce")
        issued: int = struct.unpack(">Q", body[:8])[0]
        return issued

    def decode(self, response: bytes, request: Any) -> DigestedCredentials:
        """Check a Digest response's form and nonce; return credentials for the portal.

        Raises LoginFailed for anything malformed, a missing parameter, another
        algorithm or realm, qop other than auth, a ``uri`` that is not this request's
        target (RFC 7616 §3.4.6), or a nonce/opaque this factory did not issue to this
        client. The digest itself is checked later, by the checker.
        """
        fields = parseAuthParams(response)
        if "username*" in fields:
            if "username" in fields:
                raise error.LoginFailed("Both username and username* given")
            fields["username"] = _extValue(fields.pop("username*"))
        if fields.get("userhash", b"false").lower() != b"false":
            raise error.LoginFailed("userhash was not offered")
        for name in ("username", "realm", "nonce", "uri", "response", "opaque", "qop",
                     "nc", "cnonce"):
            if name not in fields:
                raise error.LoginFailed("Invalid response, no %s given." % (name,))
        if fields.get("algorithm", b"MD5").lower() != self.algorithm.lower():
            raise error.LoginFailed("Digest algorithm does not match the challenge")
        if fields["qop"].lower() != b"auth":
            raise error.LoginFailed("Only qop=auth is supported")
        if not hmac.compare_digest(fields["realm"], self.authenticationRealm):
            raise error.LoginFailed("Digest realm does not match")
        nc = fields["nc"]
        if len(nc) != 8 or not set(nc) <= _LHEX8:
            raise error.LoginFailed("Invalid Digest nonce count")
        if fields["uri"] != request.uri:
            raise error.LoginFailed("Digest uri does not match the request")
        nonce = fields["nonce"]
        issued = self._issued(nonce, self._clientHost(request))
        if not hmac.compare_digest(fields["opaque"], self._opaque(nonce)):
            raise error.LoginFailed("Invalid response, invalid opaque value")
        age = self._now() - issued / 1000.0
        expired = not (-60.0 <= age <= self.CHALLENGE_LIFETIME_SECS)
        count = int(nc, 16)

        def useNonce() -> bool:
            return self._useNonce(nonce, issued, count)

        return DigestedCredentials(
            fields["username"], request.method, self.authenticationRealm, fields,
            expired=expired, useNonce=useNonce,
        )

    def _useNonce(self, nonce: bytes, issued: int, nc: int) -> bool:
        """Record that a correct digest used `nonce` with count `nc`; False if a replay."""
        with self._lock:
            used = self._used.get(nonce)
            if used is not None:
                if nc <= used.nc:
                    return False
                used.nc = nc
                self._used.move_to_end(nonce)
                return True
            if issued <= self._watermark:
                return False
            self._forgetOld()
            while len(self._used) >= max(self.maxTrackedNonces, 1):
                _, dropped = self._used.popitem(last=False)
                self._watermark = max(self._watermark, dropped.issued)
            self._used[nonce] = _Used(issued, nc)
            return True

    def _forgetOld(self) -> None:
        """Drop expired nonces from the front of the table: decode refuses them anyway."""
        limit = (self._now() - self.CHALLENGE_LIFETIME_SECS) * 1000
        while self._used:
            nonce, used = next(iter(self._used.items()))
            if used.issued >= limit:
                return
            del self._used[nonce]


def _extValue(value: bytes) -> bytes:
    """Decode an RFC 8187 ext-value (``UTF-8''percent-encoded``) to UTF-8 bytes."""
    charset, sep, rest = value.partition(b"'")
    _lang, sep2, encoded = rest.partition(b"'")
    if not sep or not sep2 or charset.lower() != b"utf-8":
        raise error.LoginFailed("Invalid username*")
    decoded = unquote_to_bytes(encoded)
    try:
        decoded.decode("utf-8")
    except UnicodeDecodeError:
        raise error.LoginFailed("Invalid username*") from None
    return decoded
