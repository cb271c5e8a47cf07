"""Multicast UDP ports on real sockets, on both engines."""

from __future__ import annotations

from typing import Any

import pytest

from torsion.internet import error
from torsion.internet.defer import Deferred
from torsion.internet.protocol import DatagramProtocol

GROUP = "239.255.77.77"


class Collector(DatagramProtocol):
    def __init__(self) -> None:
        self.got: Deferred[tuple[bytes, Any]] = Deferred()

    def datagramReceived(self, data: bytes, addr: Any) -> None:
        if not self.got.called:
            self.got.callback((data, addr))


def test_ttlAndLoopbackSettings(reactor: Any) -> None:
    """setTTL/setLoopbackMode change what getTTL/getLoopbackMode report."""
    port = reactor.listenMulticast(0, Collector(), interface="127.0.0.1")
    port.setTTL(3)
    assert port.getTTL() == 3
    port.setLoopbackMode(False)
    assert port.getLoopbackMode() is False
    port.setLoopbackMode(True)
    assert port.getLoopbackMode() is True


def test_setOutgoingInterface(reactor: Any, run: Any) -> None:
    """setOutgoingInterface returns a Deferred and getOutgoingInterface reports it."""
    port = reactor.listenMulticast(0, Collector())
    run(port.setOutgoingInterface("127.0.0.1"))
    assert port.getOutgoingInterface() == "127.0.0.1"


def test_joinInvalidGroupFails(reactor: Any, run: Any) -> None:
    """Joining a non-multicast address fails the Deferred with MulticastJoinError."""
    port = reactor.listenMulticast(0, Collector())
    with pytest.raises(error.MulticastJoinError):
        run(port.joinGroup("127.0.0.1"))


def test_listenMultipleSharesPort(reactor: Any) -> None:
    """Two ports with listenMultiple=True can bind the same port number."""
    first = reactor.listenMulticast(0, Collector(), listenMultiple=True)
    second = reactor.listenMulticast(first.getHost().port, Collector(), listenMultiple=True)
    assert second.getHost().port == first.getHost().port


def test_groupDatagramReachesMember(reactor: Any, run: Any) -> None:
    """A datagram sent to a joined group on the loopback interface reaches the member."""
    member = Collector()
    port = reactor.listenMulticast(0, member, listenMultiple=True)
    try:
        run(port.joinGroup(GROUP, "127.0.0.1"))
    except error.MulticastJoinError as exc:
        pytest.skip(f"this machine cannot join multicast groups on loopback: {exc}")
    sender = reactor.listenMulticast(0, Collector())
    run(sender.setOutgoingInterface("127.0.0.1"))
    sender.setLoopbackMode(True)
    sender.write(b"to the group", (GROUP, port.getHost().port))
    data, addr = run(member.got, timeout=5)
    assert data == b"to the group"
    run(port.leaveGroup(GROUP, "127.0.0.1"))
