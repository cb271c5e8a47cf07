"""PB wire compatibility with Twisted: torsion client <-> Twisted server and the reverse.

Twisted runs as a subprocess ($TORSION_TWISTED_PYTHON); the tests skip without it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pbhelpers import Board, BoardUser
from twistedpeer import TwistedServer, runTwistedClient, twistedPython

from torsion.cred import checkers, credentials, error, portal
from torsion.python.failure import Failure
from torsion.spread import pb

pytestmark = pytest.mark.integration

TWISTED_SERVER = """
import sys
from twisted.python import log
log.startLogging(sys.stderr, setStdout=False)
from zope.interface import implementer
from twisted.internet import reactor, defer
from twisted.spread import pb
from twisted.cred import portal, checkers

class Point(pb.Copyable):
    def __init__(self, x, y):
        self.x, self.y = x, y

class Echo(pb.Referenceable):
    def remote_echo(self, value):
        return value

class Counter(pb.Cacheable):
    def __init__(self):
        self.value = 0
        self.observers = []
    def getStateToCacheAndObserveFor(self, perspective, observer):
        self.observers.append(observer)
        return {"value": self.value}
    def stoppedObserving(self, perspective, observer):
        self.observers.remove(observer)
    def bump(self):
        self.value += 1
        for o in self.observers:
            o.callRemote("setValue", self.value)

counter = Counter()

class Root(pb.Root):
    def remote_add(self, a, b=0):
        return a + b
    def remote_echo(self, value):
        return value
    def remote_boom(self):
        raise ValueError("kaboom")
    def remote_expected(self):
        raise pb.Error("you asked for it")
    def remote_point(self):
        return Point(3, 4)
    def remote_child(self):
        return Echo()
    def remote_later(self, value):
        d = defer.Deferred()
        reactor.callLater(0.01, d.callback, value * 2)
        return d
    def remote_callMe(self, ref, value):
        return ref.callRemote("got", value)
    def remote_counter(self):
        return counter
    def remote_bump(self):
        counter.bump()
        return counter.value

class User(pb.Avatar):
    def __init__(self, name):
        self.name = name
    def perspective_whoami(self):
        return self.name

@implementer(portal.IRealm)
class Realm:
    def requestAvatar(self, avatarId, mind, *interfaces):
        return pb.IPerspective, User(avatarId), lambda: None

db = checkers.InMemoryUsernamePasswordDatabaseDontUse(alice=b"wonderland")
p = portal.Portal(Realm(), [db, checkers.AllowAnonymousAccess()])
a = reactor.listenTCP(0, pb.PBServerFactory(Root()), interface="127.0.0.1")
b = reactor.listenTCP(0, pb.PBServerFactory(p), interface="127.0.0.1")
print(a.getHost().port, b.getHost().port, flush=True)
reactor.run()
"""


class RemotePoint(pb.RemoteCopy):
    """Our copy of the Twisted server's Point."""


pb.setUnjellyableForClass(b"__main__.Point", RemotePoint)


class RemoteCounter(pb.RemoteCache):
    """Our cache of the Twisted server's Counter."""

    def observe_setValue(self, value: int) -> None:
        self.value = value


pb.setUnjellyableForClass(b"__main__.Counter", RemoteCounter)


class Callback(pb.Referenceable):
    def remote_got(self, value: Any) -> Any:
        return ["got", value]


@pytest.fixture(scope="module")
def twistedServer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwistedServer]:
    twistedPython()
    server = TwistedServer(tmp_path_factory.mktemp("pbpeer"), TWISTED_SERVER)
    try:
        yield server
    finally:
        server.stop()


def connect(reactor: Any, port: int) -> pb.PBClientFactory:
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port, factory)
    return factory


def test_torsionClientCallsTwistedServer(reactor: Any, run: Any,
                                         twistedServer: TwistedServer) -> None:
    """Calls, rich values, references, copies and Deferred results work against Twisted."""
    factory = connect(reactor, twistedServer.ports[0])

    async def session() -> None:
        root = await factory.getRootObject()
        assert await root.callRemote("add", 2, b=40) == 42
        value = {"text": "h\u00e9", "bytes": b"\x00\xff", "n": [1, 2.5, None, True, 2**70],
                 "t": (1, (2,)), "s": {1, 2}}
        assert await root.callRemote("echo", value) == value
        point = await root.callRemote("point")
        assert isinstance(point, RemotePoint) and (point.x, point.y) == (3, 4)
        child = await root.callRemote("child")
        assert await child.callRemote("echo", "hi") == "hi"
        assert await root.callRemote("later", 21) == 42
        assert await root.callRemote("callMe", Callback(), 7) == ["got", 7]
        cache = await root.callRemote("counter")
        assert isinstance(cache, RemoteCounter)
        start = cache.value
        assert await root.callRemote("bump") == start + 1
        assert cache.value == start + 1
        factory.disconnect()

    run(session())


def test_twistedErrorsArriveAsCopiedFailures(reactor: Any, run: Any,
                                             twistedServer: TwistedServer) -> None:
    """Twisted's CopyableFailure becomes our CopiedFailure; pb.Error matches across."""
    factory = connect(reactor, twistedServer.ports[0])

    async def session() -> list[Any]:
        root = await factory.getRootObject()
        results = []
        for name in ("boom", "expected"):
            try:
                await root.callRemote(name)
            except pb.RemoteError as e:
                results.append(e)
        factory.disconnect()
        return results

    boom, expected = run(session())
    assert boom.remoteType == b"builtins.ValueError" and str(boom) == "kaboom"
    assert expected.remoteType == b"twisted.spread.pb.Error"


def test_torsionClientLogsInToTwistedPortal(reactor: Any, run: Any,
                                            twistedServer: TwistedServer) -> None:
    """Challenge-response login against Twisted: right password works, wrong one fails."""
    good = connect(reactor, twistedServer.ports[1])
    bad = connect(reactor, twistedServer.ports[1])

    async def session() -> Any:
        avatar = await good.login(credentials.UsernamePassword(b"alice", b"wonderland"))
        name = await avatar.callRemote("whoami")
        failures: list[Failure] = []
        await bad.login(credentials.UsernamePassword(b"alice", b"nope")).addErrback(
            failures.append
        )
        failure = failures[0] if failures else None
        good.disconnect()
        bad.disconnect()
        return name, failure

    try:
        name, failure = run(session())
    except Exception:
        print(twistedServer.log())
        raise
    assert name == b"alice"
    assert isinstance(failure, Failure) and failure.check(error.UnauthorizedLogin)


TWISTED_CLIENT = """
import json, sys
from twisted.internet import reactor, defer
from twisted.spread import pb
from twisted.cred import credentials, error

class Callback(pb.Referenceable):
    def remote_got(self, value):
        return value + 1

class CounterCache(pb.RemoteCache):
    def observe_setValue(self, value):
        self.value = value

pb.setUnjellyableForClass("interop.Counter", CounterCache)

out = []

@defer.inlineCallbacks
def main():
    port, portalPort = int(sys.argv[1]), int(sys.argv[2])
    f = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port, f)
    root = yield f.getRootObject()
    out.append(("add", (yield root.callRemote("add", 1, b=2))))
    out.append(("echo", repr((yield root.callRemote("echo", {"a": [1, 2.5, None, "x", b"y"]})))))
    child = yield root.callRemote("child")
    out.append(("child", (yield child.callRemote("name"))))
    out.append(("callback", (yield root.callRemote("callMe", Callback(), 41))))
    try:
        yield root.callRemote("boom")
    except Exception as e:
        out.append(("boom", type(e).__name__, str(e)))
    failures = []
    yield root.callRemote("expected").addErrback(failures.append)
    out.append(("expected", bool(failures[0].check(pb.Error)), failures[0].getErrorMessage()))
    f.disconnect()
    g = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", portalPort, g)
    avatar = yield g.login(credentials.UsernamePassword(b"alice", b"wonderland"))
    out.append(("whoami", (yield avatar.callRemote("whoami")).decode()))
    board = yield avatar.callRemote("board")
    out.append(("view", (yield board.callRemote("whoCalls")).decode()))
    cache = yield avatar.callRemote("counter")
    before = cache.value
    yield avatar.callRemote("bump")
    out.append(("cache", before, cache.value))
    g.disconnect()
    h = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", portalPort, h)
    failures = []
    yield h.login(credentials.UsernamePassword(b"alice", b"wrong")).addErrback(failures.append)
    out.append(("badlogin", bool(failures and failures[0].check(error.UnauthorizedLogin))))
    h.disconnect()

def done(result):
    if isinstance(result, Exception) or hasattr(result, "getTraceback"):
        sys.stderr.write(result.getTraceback())
    print(json.dumps(out), flush=True)
    reactor.stop()

main().addBoth(done)
reactor.run()
"""


class Child(pb.Referenceable):
    def remote_name(self) -> str:
        return "torsion-child"


class Root(pb.Root):
    def remote_add(self, a: int, b: int = 0) -> int:
        return a + b

    def remote_echo(self, value: Any) -> Any:
        return value

    def remote_child(self) -> Child:
        return Child()

    def remote_boom(self) -> None:
        raise ValueError("kaboom")

    def remote_expected(self) -> None:
        raise pb.Error("you asked for it")

    def remote_callMe(self, ref: pb.RemoteReference, value: int) -> Any:
        return ref.callRemote("got", value)


class Counter(pb.Cacheable):
    def __init__(self) -> None:
        self.value = 10
        self.observers: list[Any] = []

    def getTypeToCopy(self) -> bytes:
        return b"interop.Counter"

    def getStateToCacheAndObserveFor(self, perspective: Any, observer: Any) -> Any:
        self.observers.append(observer)
        return {"value": self.value}

    def stoppedObserving(self, perspective: Any, observer: Any) -> None:
        self.observers.remove(observer)

    def bump(self) -> None:
        self.value += 1
        for observer in self.observers:
            observer.callRemote("setValue", self.value)


class User(BoardUser):
    def perspective_bump(self) -> None:
        self.realm.counter.bump()


class Realm:
    def __init__(self) -> None:
        self.board = Board()
        self.counter = Counter()

    def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: type) -> Any:
        return pb.IPerspective, User(avatarId, self), lambda: None


def test_twistedClientCallsTorsionServer(reactor: Any, run: Any, tmp_path: Path) -> None:
    """A Twisted PB client calls, gets errors, logs in, uses a Viewable and observes a
    Cacheable against a torsion server."""
    twistedPython()
    passwords = tmp_path / "passwd"
    passwords.write_bytes(b"alice:wonderland\n")
    p = portal.Portal(Realm(), [checkers.FilePasswordDB(passwords)])
    plain = reactor.listenTCP(0, pb.PBServerFactory(Root()), interface="127.0.0.1")
    withPortal = reactor.listenTCP(0, pb.PBServerFactory(p), interface="127.0.0.1")
    output = run(runTwistedClient(reactor, tmp_path, TWISTED_CLIENT,
                                  str(plain.getHost().port), str(withPortal.getHost().port)),
                 timeout=30)
    results = {item[0]: item[1:] for item in json.loads(output)}
    assert results["add"] == [3]
    assert results["echo"] == ["{'a': [1, 2.5, None, 'x', b'y']}"]
    assert results["child"] == ["torsion-child"]
    assert results["callback"] == [42]
    assert results["boom"][1] == "kaboom"
    assert results["expected"] == [True, "you asked for it"]
    assert results["whoami"] == ["alice"]
    assert results["view"] == ["alice"]
    assert results["cache"] == [10, 11]
    assert results["badlogin"] == [True]
