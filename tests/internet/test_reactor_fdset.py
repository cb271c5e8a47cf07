"""IReactorFDSet: Twisted-style readers and writers (fileno/doRead/doWrite) on the loop."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from torsion.internet import error
from torsion.internet._reactor import Reactor
from torsion.internet.defer import Deferred
from torsion.logger import capturedLogs


class SocketReader:
    """Reads a socket; EOF is reported as ConnectionDone, the Twisted way."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.data = b""
        self.lost: Deferred[None] = Deferred()
        self.reason: Any = None
        self.writable = 0

    def fileno(self) -> int:
        return self.sock.fileno()

    def doRead(self) -> Any:
        chunk = self.sock.recv(4096)
        if not chunk:
            return error.ConnectionDone()
        self.data += chunk
        return None

    def doWrite(self) -> None:
        self.writable += 1

    def connectionLost(self, reason: Any) -> None:
        self.reason = reason
        self.lost.callback(None)

    def logPrefix(self) -> str:
        return "SocketReader"


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    a.setblocking(False)
    yield a, b
    a.close()
    b.close()


def test_readerGetsDataThenConnectionLost(reactor: Reactor, run: Any, pair: Any) -> None:
    """doRead runs when data arrives; a returned ConnectionDone removes the reader."""
    a, b = pair
    reader = SocketReader(a)
    reactor.addReader(reader)
    assert reactor.getReaders() == [reader]
    b.sendall(b"some data")
    b.shutdown(socket.SHUT_WR)
    run(reader.lost)
    assert reader.reason.check(error.ConnectionDone)
    assert reader.data == b"some data"
    assert reactor.getReaders() == []


def test_doReadExceptionIsLoggedAndDisconnects(reactor: Reactor, run: Any, pair: Any) -> None:
    """A doRead that raises is logged; the descriptor is removed and told why."""
    a, b = pair

    class Broken(SocketReader):
        def doRead(self) -> Any:
            raise ValueError("doRead broke")

    reader = Broken(a)
    reactor.addReader(reader)
    b.sendall(b"x")
    with capturedLogs() as events:
        run(reader.lost)
    assert reader.reason.check(ValueError)
    assert any("doRead broke" in str(e.get("log_failure")) for e in events)


def test_writerIsCalledWhenWritable(reactor: Reactor, run: Any, pair: Any) -> None:
    """addWriter calls doWrite while the descriptor is writable, until removeWriter."""
    a, _ = pair
    writer = SocketReader(a)
    done: Deferred[None] = Deferred()

    def doWrite() -> None:
        writer.writable += 1
        reactor.removeWriter(writer)
        done.callback(None)

    writer.doWrite = doWrite  # type: ignore[method-assign]
    reactor.addWriter(writer)
    run(done)
    assert writer.writable == 1 and reactor.getWriters() == []


def test_removeAllReturnsEachOnce(reactor: Reactor, pair: Any) -> None:
    """removeAll stops watching everything and returns each object once."""
    a, _ = pair
    selectable = SocketReader(a)
    reactor.addReader(selectable)
    reactor.addWriter(selectable)
    assert reactor.removeAll() == [selectable]
    assert reactor.getReaders() == [] == reactor.getWriters()


def test_shutdownDisconnectsDescriptors(reactor: Reactor, pair: Any) -> None:
    """stop() removes watched descriptors and calls connectionLost with ConnectionLost."""
    a, _ = pair
    reader = SocketReader(a)
    reactor.addReader(reader)
    reactor.callWhenRunning(reactor.stop)
    reactor.run(installSignalHandlers=False)
    assert reader.lost.called
    assert reader.reason.check(error.ConnectionLost)
