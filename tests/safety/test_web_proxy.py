"""ReverseProxyResource against a hostile upstream and a client that never reads.

Real sockets on 127.0.0.1: a raw upstream server, the proxy Site, a raw client.
"""

from __future__ import annotations

import socket
from typing import Any

from rawclient import heldForNonReader, recordChannels
from rawclient import readAll as _readAll

from torsion.internet.protocol import Factory, Protocol
from torsion.web import proxy, server


class _Upstream(Protocol):
    """Answers the first request head with the factory's `answer(transport)`."""

    def connectionMade(self) -> None:
        self.buffer = b""

    def dataReceived(self, data: bytes) -> None:
        self.buffer += data
        if b"\r\n\r\n" in self.buffer:
            self.buffer = b""
            self.factory.answer(self.transport)


def _proxySite(reactor: Any, answer: Any) -> tuple[int, list[Any]]:
    """Start an upstream answering with `answer` and a proxy Site in front of it."""
    upstream = Factory.forProtocol(_Upstream)
    upstream.answer = answer  # type: ignore[attr-defined]
    upPort = reactor.listenTCP(0, upstream, interface="127.0.0.1")
    site = server.Site(proxy.ReverseProxyResource("127.0.0.1", upPort.getHost().port, b"",
                                                  reactor=reactor), reactor=reactor)
    channels = recordChannels(site)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    return port.getHost().port, channels



def test_garbageUpstreamIs502(reactor: Any, run: Any) -> None:
    """An upstream answering garbage gives the client 502 Bad Gateway."""

    def answer(transport: Any) -> None:
        transport.write(b"SSH-2.0-x\r\n\r\n")
        transport.loseConnection()

    portno, _ = _proxySite(reactor, answer)
    sock = socket.create_connection(("127.0.0.1", portno))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got = _readAll(reactor, run, sock, 5)
    sock.close()
    assert got.startswith(b"HTTP/1.1 502 ")


def test_endlessUpstreamHeadIsCut(reactor: Any, run: Any) -> None:
    """An upstream sending an endless header block is cut (502) before the proxy holds 1 MiB."""
    sent: dict[str, int] = {"n": 0}

    def answer(transport: Any) -> None:
        transport.write(b"HTTP/1.1 200 OK\r\n")

        def more() -> None:
            if sent["n"] < 4 * 1024 * 1024 and transport.connected:
                transport.write(b"X-%d: %s\r\n" % (sent["n"], b"a" * 1000))
                sent["n"] += 1010
                reactor.callLater(0, more)

        more()

    portno, _ = _proxySite(reactor, answer)
    sock = socket.create_connection(("127.0.0.1", portno))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got = _readAll(reactor, run, sock, 2)
    sock.close()
    assert got.startswith(b"HTTP/1.1 502 ")
    assert sent["n"] < 1024 * 1024


def test_clientThatNeverReadsBoundsProxyBuffer(reactor: Any, run: Any) -> None:
    """A 64 MiB upstream body for a client that never reads is not all buffered in the proxy."""
    size = 64 * 1024 * 1024

    def answer(transport: Any) -> None:
        transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (size,))
        transport.write(b"\x00" * size)

    portno, channels = _proxySite(reactor, answer)
    held = heldForNonReader(reactor, run, portno, channels, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert held < 8 * 1024 * 1024, f"the proxy holds {held} bytes for a client that never reads"
