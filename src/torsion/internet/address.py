"""Address objects returned by ``getHost()``/``getPeer()`` and given to factories.

They are frozen dataclasses, so they compare and hash by value and print like Twisted's
attrs classes: ``IPv4Address(type='TCP', host='127.0.0.1', port=8080)``.  ``UNIXAddress``
compares two bound paths as equal when they name the same file, like Twisted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

__all__ = ["HostnameAddress", "IPv4Address", "IPv6Address", "UNIXAddress"]

_TransportType = Literal["TCP", "UDP"]


def _checkType(kind: str) -> None:
    """Reject a transport type other than TCP or UDP, which Twisted also refuses."""
    if kind not in ("TCP", "UDP"):
        raise ValueError(f"type must be 'TCP' or 'UDP', not {kind!r}")


@dataclass(frozen=True, slots=True)
class IPv4Address:
    """An IPv4 socket endpoint: ``type`` is "TCP" or "UDP", ``host`` a dotted quad."""

    type: _TransportType
    host: str
    port: int

    def __post_init__(self) -> None:
        _checkType(self.type)


@dataclass(frozen=True, slots=True)
class IPv6Address:
    """An IPv6 socket endpoint, with the flow information and scope of ``sockaddr_in6``."""

    type: _TransportType
    host: str
    port: int
    flowInfo: int = 0
    scopeID: str | int = 0

    def __post_init__(self) -> None:
        _checkType(self.type)


@dataclass(frozen=True, slots=True)
class HostnameAddress:
    """A host name and port, before resolution: what a hostname endpoint connects to."""

    hostname: bytes
    port: int


def _samePath(a: str | bytes, b: str | bytes) -> bool:
    """Tell whether two socket paths name the same file (falls back to string equality)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, TypeError, ValueError):
        return False


@dataclass(frozen=True, slots=True, eq=False)
class UNIXAddress:
    """A UNIX-domain socket path (``None`` for an unbound, e.g. a client's, socket).

    Two addresses are equal when their names are equal or, as in Twisted, when both
    paths exist and are the same file (a symlink and its target, say). As in Twisted,
    ``name`` is always bytes (a str path is encoded with the file-system encoding), so
    code that compares or joins it sees one type whichever way the address was made.
    """

    name: str | bytes | None

    def __post_init__(self) -> None:
        if isinstance(self.name, str):
            object.__setattr__(self, "name", os.fsencode(self.name))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UNIXAddress):
            return NotImplemented
        if self.name == other.name:
            return True
        if self.name is None or other.name is None:
            return False
        return _samePath(self.name, other.name)

    def __hash__(self) -> int:
        return _unixHash(self.name)

    def __repr__(self) -> str:
        name = self.name
        if isinstance(name, bytes):
            name = os.fsdecode(name)
        return f"UNIXAddress({name!r})"


def _unixHash(name: str | bytes | None) -> int:
    """Hash a UNIX path by the file it names when it exists, so equal addresses hash alike."""
    if name is None:
        return hash((UNIXAddress, None))
    try:
        st = os.stat(name)
    except (OSError, TypeError, ValueError):
        return hash(name)
    return hash((st.st_ino, st.st_dev))
