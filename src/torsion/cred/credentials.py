"""Credentials: what a user presents to log in.

"Interfaces" are typing.Protocol classes used nominally: a credentials class names the
interfaces it provides by inheriting them, and a checker lists the interfaces it can
check in `credentialInterfaces`. `providedBy(obj, iface)` is the membership test the
Portal uses (it replaces zope.interface's `IFoo.providedBy(obj)`).
"""

from __future__ import annotations

import hmac
from typing import Any, Protocol

__all__ = [
    "Anonymous",
    "IAnonymous",
    "ICredentials",
    "IUsernameHashedPassword",
    "IUsernamePassword",
    "UsernameHashedPassword",
    "UsernamePassword",
    "providedBy",
]


def providedBy(obj: object, interface: type) -> bool:
    """Whether `obj` declares `interface`, i.e. its class inherits it."""
    return interface in type(obj).__mro__


class ICredentials(Protocol):
    """Any credentials; specific kinds inherit this."""


class IUsernameHashedPassword(ICredentials, Protocol):
    """A user name and a password the checker cannot read, only verify.

    Checkers that handle these must be able to give the plaintext stored password to
    `checkPassword` (which hashes it the way the client did).
    """

    username: bytes

    def checkPassword(self, password: bytes) -> Any:
        """Return True (or a Deferred of True) if `password` is the stored password."""
        ...


class IUsernamePassword(ICredentials, Protocol):
    """A user name and a plaintext password."""

    username: bytes
    password: bytes

    def checkPassword(self, password: bytes) -> Any:
        """Return True if `password` equals the password presented."""
        ...


class IAnonymous(ICredentials, Protocol):
    """The user presents no identity at all."""


class UsernamePassword(IUsernamePassword, IUsernameHashedPassword):
    """A user name and plaintext password, checked in constant time."""

    def __init__(self, username: bytes, password: bytes) -> None:
        self.username = username
        self.password = password

    def checkPassword(self, password: bytes) -> bool:
        """Compare with `password` in constant time."""
        return hmac.compare_digest(password, self.password)

    def __repr__(self) -> str:
        return f"<UsernamePassword {self.username!r}>"


class UsernameHashedPassword(IUsernameHashedPassword):
    """A user name and password that need only be checked, never read."""

    def __init__(self, username: bytes, hashed: bytes) -> None:
        self.username = username
        self.hashed = hashed

    def checkPassword(self, password: bytes) -> bool:
        """Compare with `password` in constant time."""
        return hmac.compare_digest(password, self.hashed)


class Anonymous(IAnonymous):
    """Anonymous credentials."""


def __getattr__(name: str) -> Any:
    """``DigestedCredentials`` lives with HTTP Digest in torsion.web.guard; Twisted code
    imports it from here, so it is found here too (imported on first use: cred does not
    load the web package otherwise)."""
    if name == "DigestedCredentials":
        from torsion.web._auth_digest import DigestedCredentials

        return DigestedCredentials
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
