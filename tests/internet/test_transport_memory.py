"""What each idle connection keeps alive: peer addresses share their host strings."""

from __future__ import annotations

from torsion.internet._transport import inetAddress
from torsion.internet.address import IPv4Address, IPv6Address


def _fresh(text: str) -> str:
    """Return a new str object equal to ``text``, as the loop makes one per getpeername."""
    return "".join(list(text))


def test_ipv4PeersFromOneHostShareTheHostString() -> None:
    """Two IPv4 addresses converted from equal but distinct host strings hold one string."""
    first = inetAddress("TCP", (_fresh("127.0.0.1"), 40001))
    second = inetAddress("TCP", (_fresh("127.0.0.1"), 40002))
    assert first == IPv4Address("TCP", "127.0.0.1", 40001)
    assert first.host is second.host


def test_ipv6PeersFromOneHostShareTheHostString() -> None:
    """Two IPv6 addresses converted from equal but distinct host strings hold one string."""
    first = inetAddress("TCP", (_fresh("::1"), 40001, 0, 0))
    second = inetAddress("TCP", (_fresh("::1"), 40002, 0, 0))
    assert first == IPv6Address("TCP", "::1", 40001, 0, 0)
    assert first.host is second.host
