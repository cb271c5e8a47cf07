"""Address-syntax checks from Twisted's ``twisted.internet.abstract``.

``isIPAddress(addr)`` and ``isIPv6Address(addr)`` tell a literal address from a host
name, e.g. to skip name resolution.  Twisted's ``FileDescriptor`` base class is not here:
torsion's transports are the event loop's own, not objects the reactor polls.
"""

from __future__ import annotations

import socket

__all__ = ["isIPAddress", "isIPv6Address"]


def isIPAddress(addr: str | bytes, family: int = socket.AF_INET) -> bool:
    """Whether ``addr`` is a literal address of ``family`` (IPv4 by default).

    IPv4 needs all four dotted parts (``"127.1"`` is not an address here, though
    ``inet_aton`` takes it); an IPv6 zone (``"fe80::1%eth0"``) is allowed.  Bytes are
    read as ASCII.  ValueError for a family other than AF_INET and AF_INET6.
    """
    if isinstance(addr, bytes):
        try:
            addr = addr.decode("ascii")
        except UnicodeDecodeError:
            return False
    if family == socket.AF_INET6:
        addr = addr.split("%", 1)[0]
    elif family == socket.AF_INET:
        if addr.count(".") != 3:
            return False
    else:
        raise ValueError(f"unknown address family {family!r}")
    try:
        socket.inet_pton(family, addr)
    except (OSError, ValueError):
        return False
    return True


def isIPv6Address(addr: str | bytes) -> bool:
    """Whether ``addr`` is a literal IPv6 address (a ``%zone`` suffix allowed)."""
    return isIPAddress(addr, socket.AF_INET6)
