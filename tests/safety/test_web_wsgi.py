"""WSGI applications that raise, and a client that never reads a large WSGI response.

Real sockets on 127.0.0.1; the application runs in the reactor's thread pool.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

from rawclient import heldForNonReader, recordChannels
from rawclient import readAll as _readAll

from torsion.web import server, wsgi


def _serve(reactor: Any, app: Any) -> tuple[int, list[Any]]:
    site = server.Site(wsgi.WSGIResource(reactor, reactor.getThreadPool(), app), reactor=reactor)
    channels = recordChannels(site)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    return port.getHost().port, channels


def test_applicationErrorIs500AndServingGoesOn(reactor: Any, run: Any) -> None:
    """An application raising before start_response gets 500; the next request is served."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("boom")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"fine"]

    portno, _ = _serve(reactor, app)
    for path, expected in ((b"/boom", b"HTTP/1.1 500 "), (b"/ok", b"HTTP/1.1 200 ")):
        sock = socket.create_connection(("127.0.0.1", portno))
        sock.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        got = _readAll(reactor, run, sock, 5)
        sock.close()
        assert got.startswith(expected), got[:100]


def test_headerInjectionFromApplicationIsRefused(reactor: Any, run: Any) -> None:
    """A CR/LF header value from the application is refused with a 500, never sent or hidden."""

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("X-A", "v\r\nSet-Cookie: evil=1")])
        return [b"body"]

    portno, _ = _serve(reactor, app)
    sock = socket.create_connection(("127.0.0.1", portno))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    got = _readAll(reactor, run, sock, 5)
    sock.close()
    assert b"evil" not in got
    assert got.startswith(b"HTTP/1.1 500 ")


def test_clientThatNeverReadsBoundsWsgiOutput(reactor: Any, run: Any) -> None:
    """An application yielding 64 MiB to a client that never reads is held back, not buffered."""

    def app(environ: dict[str, Any], start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "application/octet-stream")])
        chunk = b"\x00" * (1024 * 1024)
        for _ in range(64):
            yield chunk

    portno, channels = _serve(reactor, app)
    held = heldForNonReader(reactor, run, portno, channels, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert held < 8 * 1024 * 1024, f"the server holds {held} bytes for a client that never reads"
