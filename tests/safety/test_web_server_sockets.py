"""The HTTP server's limits seen from a raw client on a real socket on 127.0.0.1.

413 before the body is sent, the header timeout against a trickling client, and a
client that never reads a large file: the server's buffered output stays bounded.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from rawclient import heldForNonReader, recordChannels
from rawclient import readAll as _readAll
from rawclient import sleep as _sleep

from torsion.web import resource, server, static


class _Hello(resource.Resource):
    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.rendered = 0

    def render(self, request: Any) -> bytes:
        self.rendered += 1
        return b"hello"



def test_oversizedContentLengthAnswered413BeforeBodyIsSent(reactor: Any, run: Any) -> None:
    """A 10 GB Content-Length is answered 413 and closed while the client has sent only the head."""
    site = server.Site(_Hello(), reactor=reactor)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    sock = socket.create_connection(("127.0.0.1", port.getHost().port))
    sock.sendall(b"PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n")
    got = _readAll(reactor, run, sock, 5)
    sock.close()
    assert got.startswith(b"HTTP/1.1 413 ")
    assert site.resource.rendered == 0


def test_trickledHeadIsCutAtHeaderTimeout(reactor: Any, run: Any) -> None:
    """A client sending one header byte every 0.1 s is answered 408 at a 0.5 s headerTimeout."""
    site = server.Site(_Hello(), reactor=reactor)
    site.headerTimeout = 0.5
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    sock = socket.create_connection(("127.0.0.1", port.getHost().port))
    sock.setblocking(False)
    sock.send(b"GET / HTTP/1.1\r\nHost: x\r\n")
    got = b""
    start = time.monotonic()
    closed = False
    while time.monotonic() - start < 10 and not closed:
        _sleep(reactor, run, 0.1)
        try:
            sock.send(b"X")
        except OSError:
            pass
        try:
            data = sock.recv(65536)
            got += data
            closed = not data
        except BlockingIOError:
            pass
        except OSError:
            closed = True
    elapsed = time.monotonic() - start
    sock.close()
    assert got.startswith(b"HTTP/1.1 408 ")
    # Cut at the 0.5 s timeout, not kept alive by the trickle for the whole 10 s (slack
    # for a loaded machine).
    assert elapsed < 6


def test_clientThatNeverReadsBoundsServerBuffer(reactor: Any, run: Any, tmp_path: Any) -> None:
    """A client asking for a 64 MiB file and never reading leaves the server holding little."""
    (tmp_path / "big.bin").write_bytes(b"\x00" * (64 * 1024 * 1024))
    site = server.Site(static.File(str(tmp_path)), reactor=reactor)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    channels = recordChannels(site)
    held = heldForNonReader(reactor, run, port.getHost().port, channels,
                            b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    assert held < 4 * 1024 * 1024, f"server buffers {held} bytes for a client that never reads"


def test_pipelinedFloodIsServedInOrderAndBounded(reactor: Any, run: Any) -> None:
    """2000 pipelined requests in one burst are all answered, in order, on one connection."""
    res = _Hello()
    site = server.Site(res, reactor=reactor)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    sock = socket.create_connection(("127.0.0.1", port.getHost().port))
    burst = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 1999
    burst += b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    sock.sendall(burst)
    got = _readAll(reactor, run, sock, 10)
    sock.close()
    assert got.count(b"HTTP/1.1 200 ") == 2000
    assert res.rendered == 2000
