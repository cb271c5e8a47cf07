"""UNIX-domain stream sockets on real sockets, on both engines."""

from __future__ import annotations

import os
import socket
import stat
import sys
from typing import Any

import pytest
from transporthelpers import Client

from torsion.internet import error
from torsion.internet.address import UNIXAddress
from torsion.internet.protocol import Protocol, ServerFactory
from torsion.logger import capturedLogs, formatEvent


class Greeter(Protocol):
    def connectionMade(self) -> None:
        self.transport.write(b"hello")
        self.transport.loseConnection()


def test_roundTripAndAddresses(reactor: Any, run: Any, tmp_path: Any) -> None:
    """A client reads what a UNIX server writes; getHost/getPeer are UNIXAddress."""
    path = str(tmp_path / "s.sock")
    port = reactor.listenUNIX(path, ServerFactory.forProtocol(Greeter))
    assert port.getHost() == UNIXAddress(path)
    cf = Client()
    reactor.connectUNIX(path, cf)
    client = run(cf.built)
    assert run(client.lost).check(error.ConnectionDone)
    assert bytes(client.data) == b"hello"
    assert client.transport.getPeer() == UNIXAddress(path)


def test_modeIsApplied(reactor: Any, tmp_path: Any) -> None:
    """listenUNIX's mode sets the socket file's permissions."""
    path = str(tmp_path / "m.sock")
    reactor.listenUNIX(path, ServerFactory.forProtocol(Greeter), mode=0o600)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_stopListeningRemovesSocketFileAndLogs(reactor: Any, run: Any, tmp_path: Any) -> None:
    """stopListening removes the socket file; start and close are logged as in Twisted."""
    path = str(tmp_path / "r.sock")
    with capturedLogs() as events:
        port = reactor.listenUNIX(path, ServerFactory.forProtocol(Greeter))
        run(port.stopListening())
    assert not os.path.exists(path)
    texts = [formatEvent(e) for e in events]
    assert f"ServerFactory starting on {path!r}" in texts
    assert f"(UNIX Port {path!r} Closed)" in texts


def test_listenOnExistingPathRaises(reactor: Any, tmp_path: Any) -> None:
    """Listening on a path that is in use raises CannotListenError at once."""
    path = str(tmp_path / "busy.sock")
    reactor.listenUNIX(path, ServerFactory.forProtocol(Greeter))
    with pytest.raises(error.CannotListenError):
        reactor.listenUNIX(path, ServerFactory.forProtocol(Greeter))


def test_connectToMissingPathFails(reactor: Any, run: Any, tmp_path: Any) -> None:
    """Connecting to a path with no socket fails with a ConnectError (BadFileError)."""
    cf = Client()
    reactor.connectUNIX(str(tmp_path / "none.sock"), cf)
    assert run(cf.failed).check(error.BadFileError)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="abstract namespace is Linux-only")
def test_abstractNamespace(reactor: Any, run: Any) -> None:
    """A name starting with NUL lives in the abstract namespace: no file, still connectable."""
    name = "\0torsion-test-" + os.urandom(6).hex()
    reactor.listenUNIX(name, ServerFactory.forProtocol(Greeter))
    cf = Client()
    reactor.connectUNIX(name, cf)
    client = run(cf.built)
    run(client.lost)
    assert bytes(client.data) == b"hello"


def test_wantPIDRefusesSecondListener(reactor: Any, tmp_path: Any) -> None:
    """With wantPID a lock file names the listener and a second listener is refused."""
    path = str(tmp_path / "p.sock")
    reactor.listenUNIX(path, ServerFactory.forProtocol(Greeter), wantPID=True)
    assert int(os.readlink(path + ".lock")) == os.getpid()
    with pytest.raises(error.CannotListenError):
        reactor.listenUNIX(path, ServerFactory.forProtocol(Greeter), wantPID=True)


def test_wantPIDReplacesStaleSocket(reactor: Any, run: Any, tmp_path: Any) -> None:
    """With wantPID a socket left behind by a dead process is replaced."""
    path = str(tmp_path / "stale.sock")
    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(path)
    leftover.close()
    os.symlink("999999999", path + ".lock")
    reactor.listenUNIX(path, ServerFactory.forProtocol(Greeter), wantPID=True)
    cf = Client()
    reactor.connectUNIX(path, cf, checkPID=True)
    client = run(cf.built)
    run(client.lost)
    assert bytes(client.data) == b"hello"


def test_checkPIDRefusesWithoutLiveLock(reactor: Any, run: Any, tmp_path: Any) -> None:
    """connectUNIX with checkPID fails when no live process holds the lock."""
    path = str(tmp_path / "nolock.sock")
    reactor.listenUNIX(path, ServerFactory.forProtocol(Greeter))
    cf = Client()
    reactor.connectUNIX(path, cf, checkPID=True)
    assert run(cf.failed).check(error.BadFileError)


def test_adoptStreamPortUNIXKeepsTheSocketFile(reactor: Any, run: Any, tmp_path: Any) -> None:
    """An adopted UNIX listening socket serves the factory; stopping leaves its file alone."""
    path = str(tmp_path / "adopted.sock")
    made = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    made.bind(path)
    made.listen(5)
    factory = ServerFactory.forProtocol(Greeter)
    port = reactor.adoptStreamPort(made.fileno(), socket.AF_UNIX, factory)
    made.close()
    cf = Client()
    reactor.connectUNIX(path, cf)
    client = run(cf.built)
    run(client.lost)
    assert bytes(client.data) == b"hello"
    run(port.stopListening())
    assert os.path.exists(path)


def test_adoptStreamConnectionUNIX(reactor: Any, run: Any) -> None:
    """One end of a socketpair, adopted, talks to a protocol built by the factory."""
    mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    factory = Client()
    reactor.adoptStreamConnection(theirs.fileno(), socket.AF_UNIX, factory)
    theirs.close()
    proto = run(factory.built)
    run(proto.made)
    mine.sendall(b"pair")
    mine.close()
    run(proto.lost)
    assert bytes(proto.data) == b"pair"
    assert isinstance(proto.transport.getPeer(), UNIXAddress)
