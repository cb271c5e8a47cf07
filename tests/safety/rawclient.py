"""Raw-socket client helpers shared by the safety tests: spin, read, record channels, flood.

The tests drive a real reactor from a client socket, so reading (or flooding without reading)
means spinning the reactor in short slices between non-blocking socket calls.
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


def recordChannels(factory: Any) -> list[Any]:
    """Wrap `factory.buildProtocol` so every protocol it builds is appended to the returned list."""
    channels: list[Any] = []
    build = factory.buildProtocol

    def record(addr: Any) -> Any:
        channel = build(addr)
        channels.append(channel)
        return channel

    factory.buildProtocol = record
    return channels


def heldForNonReader(
    reactor: Any, run: Any, portno: int, channels: list[Any], request: bytes
) -> int:
    """Send `request` from a client with a small receive buffer that never reads.

    Returns how many bytes the first recorded channel's transport still buffers after 1 s.
    """
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)
    sock.connect(("127.0.0.1", portno))
    sock.sendall(request)
    sleep(reactor, run, 1.0)
    try:
        held: int = channels[0].transport._transport.get_write_buffer_size()
    finally:
        sock.close()
    return held


def floodWithoutReading(
    reactor: Any,
    run: Any,
    sock: socket.socket,
    chunk: bytes,
    *,
    total: int,
    sendsPerTick: int = 20,
    greeting: bytes = b"",
    startDelay: float = 0.0,
) -> int:
    """Send `chunk` on non-blocking `sock` from the reactor until `total` bytes, 8 s or a stall.

    A stall is 0.3 s and 30 tries in which the kernel took nothing (the server stopped
    reading): counting tries too means a process descheduled for 0.3 s on a loaded machine
    is not mistaken for a server that stopped. `greeting` is sent once before the first
    chunk. Returns how many chunk bytes the kernel accepted.
    """
    state = {"sent": 0, "first": True, "stalledSince": time.monotonic(), "idle": 0}
    deadline = time.monotonic() + 8
    done: Deferred[None] = Deferred()

    def pump() -> None:
        before = state["sent"]
        try:
            if state["first"] and greeting:
                sock.send(greeting)
            state["first"] = False
            for _ in range(sendsPerTick):
                state["sent"] += sock.send(chunk)
        except BlockingIOError:
            pass
        now = time.monotonic()
        if state["sent"] != before:
            state["stalledSince"] = now
            state["idle"] = 0
        else:
            state["idle"] += 1
        stalled = now - state["stalledSince"] >= 0.3 and state["idle"] >= 30
        if state["sent"] < total and now < deadline and not stalled:
            reactor.callLater(0.001, pump)
        else:
            done.callback(None)

    reactor.callLater(startDelay, pump)
    run(done, timeout=15)
    return state["sent"]
