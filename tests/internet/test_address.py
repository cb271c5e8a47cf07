"""Tests for torsion.internet.address: value semantics and Twisted's reprs."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from torsion.internet.address import HostnameAddress, IPv4Address, IPv6Address, UNIXAddress


def test_ipv4Repr() -> None:
    """IPv4Address prints like Twisted's attrs class."""
    assert repr(IPv4Address("TCP", "127.0.0.1", 8080)) == (
        "IPv4Address(type='TCP', host='127.0.0.1', port=8080)"
    )


def test_ipv4EqualityAndHash() -> None:
    """Equal IPv4 addresses compare and hash equal; a different field makes them differ."""
    a = IPv4Address("TCP", "127.0.0.1", 80)
    assert a == IPv4Address("TCP", "127.0.0.1", 80)
    assert hash(a) == hash(IPv4Address("TCP", "127.0.0.1", 80))
    assert a != IPv4Address("UDP", "127.0.0.1", 80)
    assert a != IPv4Address("TCP", "127.0.0.1", 81)


def test_ipv4IsFrozen() -> None:
    """Addresses are immutable values."""
    a = IPv4Address("TCP", "127.0.0.1", 80)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.port = 81  # type: ignore[misc]


def test_ipv4RejectsBadType() -> None:
    """A transport type other than TCP/UDP is refused."""
    with pytest.raises(ValueError):
        IPv4Address("SCTP", "127.0.0.1", 80)  # type: ignore[arg-type]


def test_ipv6DefaultsAndRepr() -> None:
    """IPv6Address has flowInfo and scopeID defaulting to 0, shown in its repr."""
    a = IPv6Address("TCP", "::1", 80)
    assert (a.flowInfo, a.scopeID) == (0, 0)
    assert repr(a) == "IPv6Address(type='TCP', host='::1', port=80, flowInfo=0, scopeID=0)"


def test_ipv6NotEqualToIPv4() -> None:
    """Addresses of different families never compare equal."""
    v6: object = IPv6Address("TCP", "127.0.0.1", 80)
    assert v6 != IPv4Address("TCP", "127.0.0.1", 80)


def test_hostnameAddress() -> None:
    """HostnameAddress holds the name (bytes) and port, with an attrs-style repr."""
    a = HostnameAddress(b"example.com", 443)
    assert repr(a) == "HostnameAddress(hostname=b'example.com', port=443)"
    assert a == HostnameAddress(b"example.com", 443)


def test_unixRepr() -> None:
    """UNIXAddress prints its path as a str, even when given bytes."""
    assert repr(UNIXAddress("/tmp/s")) == "UNIXAddress('/tmp/s')"
    assert repr(UNIXAddress(b"/tmp/s")) == "UNIXAddress('/tmp/s')"
    assert repr(UNIXAddress(None)) == "UNIXAddress(None)"


def test_unixEqualByName() -> None:
    """Two UNIX addresses with the same name are equal and hash equal."""
    assert UNIXAddress("/nonexistent/x") == UNIXAddress("/nonexistent/x")
    assert hash(UNIXAddress("/nonexistent/x")) == hash(UNIXAddress("/nonexistent/x"))
    assert UNIXAddress("/nonexistent/x") != UNIXAddress("/nonexistent/y")
    assert UNIXAddress(None) != UNIXAddress("/nonexistent/x")


def test_unixEqualThroughSymlink(tmp_path: Path) -> None:
    """A symlink and its target are the same UNIX address, and hash alike."""
    target = tmp_path / "sock"
    target.write_bytes(b"")
    link = tmp_path / "link"
    os.symlink(target, link)
    assert UNIXAddress(str(link)) == UNIXAddress(str(target))
    assert hash(UNIXAddress(str(link))) == hash(UNIXAddress(str(target)))


def test_unixAddressNameIsBytesAsInTwisted() -> None:
    """A UNIXAddress made from a str path exposes it as file-system-encoded bytes."""
    assert UNIXAddress("/tmp/caf\u00e9").name == "/tmp/caf\u00e9".encode()
    assert UNIXAddress(b"/tmp/s").name == b"/tmp/s" and UNIXAddress(None).name is None
