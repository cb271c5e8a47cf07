"""Raw-socket helpers shared by the HTTP safety tests: spin the reactor, read, record channels.

The tests drive a real reactor from a blocking client socket, so reading means spinning the
reactor in short slices between non-blocking recv calls.
"""

from __future__ import annotations

import socket
import time
from typing import Any

from torsion.internet.defer import Deferred


def sleep(reactor: Any, run: Any, seconds: float) -> None:
    """Spin `reactor` for `seconds` (through `run`), so the server side makes progress."""
    d: Deferred[None] = Deferred()
    reactor.callLater(seconds, d.callback, None)
    run(d)


def readAll(reactor: Any, run: Any, sock: socket.socket, seconds: float) -> bytes:
    """Spin the reactor while reading `sock` until it closes or `seconds` pass."""
    sock.setblocking(False)
    got = b""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sleep(reactor, run, 0.02)
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            continue
        if not data:
            break
        got += data
    return got


def recordChannels(site: Any) -> list[Any]:
    """Wrap `site.buildProtocol` so every channel it builds is appended to the returned list."""
    channels: list[Any] = []
    build = site.buildProtocol

    def record(addr: Any) -> Any:
        channel = build(addr)
        channels.append(channel)
        return channel

    site.buildProtocol = record
    return channels
