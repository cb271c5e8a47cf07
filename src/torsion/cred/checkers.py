"""Credentials checkers: turn credentials into an avatar id, or refuse them.

A checker lists the credential interfaces it understands in `credentialInterfaces`
and implements `requestAvatarId(credentials)`, returning the avatar id (or a Deferred
of it) or failing with UnauthorizedLogin.

Stored passwords may be scrypt hashes (`hashPassword` makes them, "scrypt$..."); they
are verified in constant time. Such entries can only check plaintext credentials
(IUsernamePassword): challenge-response logins (PB) need the plaintext on the server.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from torsion.cred import error
from torsion.cred.credentials import (
    IAnonymous,
    IUsernameHashedPassword,
    IUsernamePassword,
    providedBy,
)
from torsion.internet import defer
from torsion.logger import Logger

__all__ = [
    "ANONYMOUS",
    "AllowAnonymousAccess",
    "FilePasswordDB",
    "ICredentialsChecker",
    "InMemoryUsernamePasswordDatabase",
    "InMemoryUsernamePasswordDatabaseDontUse",
    "hashPassword",
    "verifyPassword",
]

_log = Logger()

ANONYMOUS: tuple[()] = ()
"""The avatar id of an anonymous user."""

_SCRYPT_PREFIX = b"scrypt$"
_SCRYPT_MAXMEM = 64 * 1024 * 1024


class ICredentialsChecker(Protocol):
    """Something that checks one or more kinds of credentials."""

    credentialInterfaces: tuple[type, ...]

    def requestAvatarId(self, credentials: Any) -> Any:
        """Return the avatar id (or a Deferred of it) for valid credentials.

        Fails with UnauthorizedLogin if they are not valid.
        """
        ...


def hashPassword(
    password: bytes, salt: bytes | None = None, n: int = 2**14, r: int = 8, p: int = 1
) -> bytes:
    """Return a "scrypt$n$r$p$salt$hash" entry for storing `password`.

    scrypt (RFC 7914) is memory-hard, so a stolen password file is expensive to
    attack; the parameters travel in the entry so they can be raised later.
    """
    if salt is None:
        salt = os.urandom(16)
    digest = hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=32)
    return b"$".join(
        [
            b"scrypt",
            str(n).encode(),
            str(r).encode(),
            str(p).encode(),
            base64.b64encode(salt),
            base64.b64encode(digest),
        ]
    )


def isHashedEntry(entry: bytes) -> bool:
    """Whether a stored password is a `hashPassword` entry."""
    return entry.startswith(_SCRYPT_PREFIX)


def verifyPassword(entry: bytes, password: bytes) -> bool:
    """Check `password` against a `hashPassword` entry, in constant time.

    A malformed entry (or one with absurd parameters) never matches.
    """
    parts = entry.split(b"$")
    if len(parts) != 6 or parts[0] != b"scrypt":
        return False
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt = base64.b64decode(parts[4], validate=True)
        expected = base64.b64decode(parts[5], validate=True)
    except ValueError:
        return False
    if not (1 < n <= 2**20 and 0 < r <= 32 and 0 < p <= 16) or not expected:
        return False
    try:
        digest = hashlib.scrypt(
            password, salt=salt, n=n, r=r, p=p, maxmem=_SCRYPT_MAXMEM, dklen=len(expected)
        )
    except ValueError:
        return False
    return hmac.compare_digest(digest, expected)


def _checkStored(credentials: Any, stored: bytes) -> Any:
    """Check credentials against one stored password (plaintext or scrypt entry)."""
    if isHashedEntry(stored):
        if not providedBy(credentials, IUsernamePassword):
            return False
        return verifyPassword(stored, credentials.password)
    return credentials.checkPassword(stored)


def _matched(matched: Any, username: bytes) -> Any:
    if matched:
        return username
    raise error.UnauthorizedLogin("Invalid username or password")


class InMemoryUsernamePasswordDatabaseDontUse:
    """Users and passwords in a dictionary: for tests and examples.

    Passwords may be plaintext or `hashPassword` entries.
    """

    credentialInterfaces: tuple[type, ...] = (IUsernamePassword, IUsernameHashedPassword)

    def __init__(self, **users: bytes) -> None:
        self.users: dict[bytes, bytes] = {k.encode("utf-8"): v for k, v in users.items()}

    def addUser(self, username: bytes, password: bytes) -> None:
        """Add (or replace) a user."""
        self.users[username] = password

    def requestAvatarId(self, credentials: Any) -> defer.Deferred[Any]:
        """Return the user name if the password matches, else fail UnauthorizedLogin."""
        stored = self.users.get(credentials.username)
        if stored is None:
            return defer.fail(error.UnauthorizedLogin("Invalid username or password"))
        d = defer.maybeDeferred(_checkStored, credentials, stored)
        return d.addCallback(_matched, credentials.username)


InMemoryUsernamePasswordDatabase = InMemoryUsernamePasswordDatabaseDontUse
"""The same checker under a name that does not shout."""


class AllowAnonymousAccess:
    """Let anyone presenting Anonymous credentials in, as ANONYMOUS."""

    credentialInterfaces: tuple[type, ...] = (IAnonymous,)

    def requestAvatarId(self, credentials: Any) -> defer.Deferred[Any]:
        """Return ANONYMOUS."""
        return defer.succeed(ANONYMOUS)


class FilePasswordDB:
    """Users and passwords in a delimited text file (like /etc/passwd).

    With `cache=True` the file is read once and read again whenever its mtime
    changes; otherwise it is read on every login. `hash(username, password, stored)`,
    if given, hashes the presented plaintext password for comparison with the stored
    one (so only IUsernamePassword is accepted). Entries made by `hashPassword` are
    recognised without a `hash` function.
    """

    _credCache: dict[bytes, bytes] | None = None
    _cacheTimestamp: float = 0.0

    def __init__(
        self,
        filename: str | os.PathLike[str],
        delim: bytes = b":",
        usernameField: int = 0,
        passwordField: int = 1,
        caseSensitive: bool = True,
        hash: Callable[[bytes, bytes, bytes], bytes] | None = None,
        cache: bool = False,
    ) -> None:
        self.filename = os.fspath(filename)
        self.delim = delim
        self.ufield = usernameField
        self.pfield = passwordField
        self.caseSensitive = caseSensitive
        self.hash = hash
        self.cache = cache
        if hash is None:
            self.credentialInterfaces: tuple[type, ...] = (
                IUsernamePassword,
                IUsernameHashedPassword,
            )
        else:
            self.credentialInterfaces = (IUsernamePassword,)

    def _cbPasswordMatch(self, matched: bool, username: bytes) -> bytes:
        if matched:
            return username
        raise error.UnauthorizedLogin()

    def _loadCredentials(self) -> Iterator[tuple[bytes, bytes]]:
        """Yield (username, password) pairs from the file.

        Raises UnauthorizedLogin if the file cannot be read: a missing database must
        refuse logins, not crash the server.
        """
        try:
            with open(self.filename, "rb") as f:
                lines = f.read().splitlines()
        except OSError as e:
            _log.error("Unable to load credentials db: {error}", error=str(e))
            raise error.UnauthorizedLogin() from e
        for line in lines:
            line = line.rstrip()
            parts = line.split(self.delim)
            if self.ufield >= len(parts) or self.pfield >= len(parts):
                continue
            username = parts[self.ufield]
            if not self.caseSensitive:
                username = username.lower()
            yield username, parts[self.pfield]

    def getUser(self, username: bytes) -> tuple[bytes, bytes]:
        """Return (username, stored password), raising KeyError if unknown."""
        if not self.caseSensitive:
            username = username.lower()
        if self.cache:
            try:
                mtime = os.path.getmtime(self.filename)
            except OSError:
                mtime = -1.0
            if self._credCache is None or mtime != self._cacheTimestamp:
                self._cacheTimestamp = mtime
                self._credCache = dict(self._loadCredentials())
            return username, self._credCache[username]
        for user, password in self._loadCredentials():
            if user == username:
                return user, password
        raise KeyError(username)

    def requestAvatarId(self, credentials: Any) -> defer.Deferred[Any]:
        """Return the user name if the password matches, else fail UnauthorizedLogin."""
        try:
            user, stored = self.getUser(credentials.username)
        except KeyError:
            return defer.fail(error.UnauthorizedLogin())
        except error.UnauthorizedLogin as e:
            return defer.fail(e)
        if self.hash is None:
            d = defer.maybeDeferred(_checkStored, credentials, stored)
            return d.addCallback(self._cbPasswordMatch, user)
        if not providedBy(credentials, IUsernamePassword):
            return defer.fail(error.UnauthorizedLogin())
        hashed = self.hash(credentials.username, credentials.password, stored)
        return defer.succeed(self._cbPasswordMatch(hmac.compare_digest(hashed, stored), user))
