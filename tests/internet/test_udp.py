"""UDP ports on real sockets, on both engines."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from transporthelpers import needsIPv6Loopback

from torsion.internet import error
from torsion.internet.address import IPv4Address, IPv6Address
from torsion.internet.defer import Deferred
from torsion.internet.protocol import DatagramProtocol
from torsion.logger import capturedLogs, formatEvent


class Collector(DatagramProtocol):
    """Collects datagrams; ``got`` fires with the first (data, addr)."""

    def __init__(self) -> None:
        self.datagrams: list[tuple[bytes, Any]] = []
        self.got: Deferred[tuple[bytes, Any]] = Deferred()
        self.refused: Deferred[None] = Deferred()
        self.started = 0
        self.stopped = 0

    def startProtocol(self) -> None:
        self.started += 1

    def stopProtocol(self) -> None:
        self.stopped += 1

    def datagramReceived(self, data: bytes, addr: Any) -> None:
        self.datagrams.append((data, addr))
        if not self.got.called:
            self.got.callback((data, addr))

    def connectionRefused(self) -> None:
        if not self.refused.called:
            self.refused.callback(None)


class Echo(DatagramProtocol):
    def datagramReceived(self, data: bytes, addr: Any) -> None:
        self.transport.write(data, addr)


def test_bindsBeforeRunAndStartsProtocol(reactor: Any) -> None:
    """listenUDP binds at once and calls startProtocol; getHost is a UDP IPv4Address."""
    proto = Collector()
    port = reactor.listenUDP(0, proto, interface="127.0.0.1")
    host = port.getHost()
    assert isinstance(host, IPv4Address) and host.type == "UDP" and host.port > 0
    assert proto.started == 1 and proto.transport is port


def test_busyPortRaisesCannotListen(reactor: Any) -> None:
    """Binding a UDP port in use raises CannotListenError."""
    port = reactor.listenUDP(0, Collector(), interface="127.0.0.1")
    with pytest.raises(error.CannotListenError):
        reactor.listenUDP(port.getHost().port, Collector(), interface="127.0.0.1")


def test_echoRoundTrip(reactor: Any, run: Any) -> None:
    """A datagram sent to an echo port comes back with the echo port's address."""
    server = reactor.listenUDP(0, Echo(), interface="127.0.0.1")
    client = Collector()
    reactor.listenUDP(0, client, interface="127.0.0.1")
    client.transport.write(b"ping", ("127.0.0.1", server.getHost().port))
    data, addr = run(client.got)
    assert data == b"ping" and addr == ("127.0.0.1", server.getHost().port)


def test_connectedWriteNeedsNoAddress(reactor: Any, run: Any) -> None:
    """After connect(host, port), write(data) goes to that peer."""
    server = Collector()
    sport = reactor.listenUDP(0, server, interface="127.0.0.1")
    client = Collector()
    cport = reactor.listenUDP(0, client, interface="127.0.0.1")
    cport.connect("127.0.0.1", sport.getHost().port)
    cport.write(b"hi")
    data, addr = run(server.got)
    assert data == b"hi" and addr[1] == cport.getHost().port


def test_connectRequiresIPAddress(reactor: Any) -> None:
    """connect() takes IP addresses only, as Twisted's does."""
    port = reactor.listenUDP(0, Collector(), interface="127.0.0.1")
    with pytest.raises(error.InvalidAddressError):
        port.connect("localhost", 9)


def test_connectedPortHearsRefusal(reactor: Any, run: Any) -> None:
    """A connected port whose peer has nothing listening gets connectionRefused."""
    dead = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dead.bind(("127.0.0.1", 0))
    deadPort = dead.getsockname()[1]
    dead.close()
    client = Collector()
    port = reactor.listenUDP(0, client, interface="127.0.0.1")
    port.connect("127.0.0.1", deadPort)

    def send() -> None:
        port.write(b"anyone?")

    for i in range(5):
        reactor.callLater(0.02 * i, send)
    run(client.refused)


def test_tooLongDatagramRaises(reactor: Any) -> None:
    """A datagram larger than UDP can carry raises MessageLengthError."""
    port = reactor.listenUDP(0, Collector(), interface="127.0.0.1")
    with pytest.raises(error.MessageLengthError):
        port.write(b"x" * 70000, ("127.0.0.1", 9))


def test_stopListeningStopsProtocolAndLogs(reactor: Any, run: Any) -> None:
    """stopListening fires once closed, calls stopProtocol and logs Twisted's line."""
    proto = Collector()
    with capturedLogs() as events:
        port = reactor.listenUDP(0, proto, interface="127.0.0.1")
        number = port.getHost().port
        run(port.stopListening())
    assert proto.stopped == 1
    texts = [formatEvent(e) for e in events]
    assert f"Collector starting on {number}" in texts
    assert f"(UDP Port {number} Closed)" in texts


def test_broadcastFlag(reactor: Any) -> None:
    """setBroadcastAllowed changes what getBroadcastAllowed reports."""
    port = reactor.listenUDP(0, Collector(), interface="127.0.0.1")
    port.setBroadcastAllowed(True)
    assert port.getBroadcastAllowed()
    port.setBroadcastAllowed(False)
    assert not port.getBroadcastAllowed()


@needsIPv6Loopback(socket.SOCK_DGRAM)
def test_ipv6Datagrams(reactor: Any, run: Any) -> None:
    """On ::1 datagrams arrive with a (host, port) address, as in Twisted."""
    server = Collector()
    sport = reactor.listenUDP(0, server, interface="::1")
    assert isinstance(sport.getHost(), IPv6Address)
    client = reactor.listenUDP(0, Collector(), interface="::1")
    client.write(b"six", ("::1", sport.getHost().port))
    data, addr = run(server.got)
    assert data == b"six" and addr == ("::1", client.getHost().port)


def test_adoptDatagramPortReceives(reactor: Any, run: Any) -> None:
    """A bound UDP socket made by the caller delivers datagrams to the protocol once adopted."""
    made = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    made.bind(("127.0.0.1", 0))
    proto = Collector()
    port = reactor.adoptDatagramPort(made.fileno(), socket.AF_INET, proto)
    number = made.getsockname()[1]
    made.close()
    assert proto.started == 1 and port.getHost().port == number
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.sendto(b"adopted", ("127.0.0.1", number))
    data, addr = run(proto.got)
    assert data == b"adopted" and addr == ("127.0.0.1", sender.getsockname()[1])
    sender.close()


def test_adoptDatagramPortRefusesUNIX(reactor: Any) -> None:
    """UNIX datagram sockets cannot be adopted (as in Twisted)."""
    with pytest.raises(error.UnsupportedAddressFamily):
        reactor.adoptDatagramPort(0, socket.AF_UNIX, Collector())


def test_longerDatagramTruncatedToMaxPacketSize(reactor: Any, run: Any) -> None:
    """A datagram longer than maxPacketSize arrives cut to maxPacketSize bytes, as in Twisted."""
    proto = Collector()
    port = reactor.listenUDP(0, proto, interface="127.0.0.1", maxPacketSize=16)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.sendto(bytes(range(100)), ("127.0.0.1", port.getHost().port))
    data, _ = run(proto.got)
    sender.close()
    assert data == bytes(range(16))


def test_defaultMaxPacketSizeIs8192(reactor: Any, run: Any) -> None:
    """Under Twisted's default maxPacketSize a 10000-byte datagram arrives as its first 8192."""
    proto = Collector()
    port = reactor.listenUDP(0, proto, interface="127.0.0.1")
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.sendto(b"x" * 8192 + b"y" * 1808, ("127.0.0.1", port.getHost().port))
    data, _ = run(proto.got)
    sender.close()
    assert data == b"x" * 8192


def test_multicastPortTruncatesToMaxPacketSize(reactor: Any, run: Any) -> None:
    """listenMulticast's maxPacketSize truncates a longer datagram the same way."""
    proto = Collector()
    port = reactor.listenMulticast(0, proto, interface="127.0.0.1", maxPacketSize=5)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.sendto(b"truncated", ("127.0.0.1", port.getHost().port))
    data, _ = run(proto.got)
    sender.close()
    assert data == b"trunc"


def test_largestMaxPacketSizeDeliversWholeDatagramDirectly(reactor: Any, run: Any) -> None:
    """With maxPacketSize 65507 the loop calls datagramReceived itself and a 60000-byte datagram
    arrives whole."""
    proto = Collector()
    port = reactor.listenUDP(0, proto, interface="127.0.0.1", maxPacketSize=65507)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.sendto(b"z" * 60000, ("127.0.0.1", port.getHost().port))
    data, _ = run(proto.got)
    sender.close()
    assert data == b"z" * 60000
    assert port._loopTransport.get_protocol().datagram_received == proto.datagramReceived
