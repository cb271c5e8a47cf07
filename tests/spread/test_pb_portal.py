"""Tests for PB login through a Portal, Viewables and Cacheables (in memory)."""

from __future__ import annotations

import gc
from pathlib import Path
from typing import Any

import pytest
from pbhelpers import Board, BoardUser, Connection, assertFailure

from torsion.cred import checkers, credentials, error, portal
from torsion.spread import pb


class User(BoardUser):
    """An avatar: one per logged-in user."""

    def perspective_badge(self) -> Badge:
        return Badge()


class Counter(pb.Cacheable):
    """A shared value cached by observers that get every change."""

    def __init__(self) -> None:
        self.value = 0
        self.observers: list[pb.RemoteCacheObserver] = []
        self.stopped: list[pb.RemoteCacheObserver] = []

    def getStateToCacheAndObserveFor(self, perspective: Any, observer: Any) -> dict[str, int]:
        self.observers.append(observer)
        return {"value": self.value}

    def stoppedObserving(self, perspective: Any, observer: Any) -> None:
        self.observers.remove(observer)
        self.stopped.append(observer)

    def increment(self) -> None:
        self.value += 1
        for observer in self.observers:
            observer.callRemote("setValue", self.value)


class CounterCache(pb.RemoteCache):
    """The client's cache of a Counter."""

    def observe_setValue(self, value: int) -> None:
        self.value = value


pb.setUnjellyableForClass(Counter, CounterCache)


class Realm:
    """Hands out User avatars and records logouts."""

    def __init__(self) -> None:
        self.board = Board()
        self.counter = Counter()
        self.loggedOut: list[bytes] = []

    def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: type) -> Any:
        assert pb.IPerspective in interfaces
        name = b"anonymous" if avatarId == checkers.ANONYMOUS else avatarId
        return pb.IPerspective, User(name, self), lambda: self.loggedOut.append(name)


@pytest.fixture
def realm() -> Realm:
    return Realm()


@pytest.fixture
def conn(realm: Realm, tmp_path: Path) -> Connection:
    passwords = tmp_path / "passwd"
    passwords.write_bytes(b"alice:wonderland\nbob:builder\n")
    p = portal.Portal(realm, [checkers.FilePasswordDB(passwords),
                              checkers.AllowAnonymousAccess()])
    return Connection(p)


def login(conn: Connection, name: bytes, password: bytes) -> Any:
    return conn.wait(conn.clientFactory.login(credentials.UsernamePassword(name, password)))


def test_loginGivesPerspective(conn: Connection) -> None:
    """The right password gives a reference to the user's avatar."""
    avatar = login(conn, b"alice", b"wonderland")
    assert conn.call(avatar, "whoami") == b"alice"


def test_wrongPasswordFails(conn: Connection) -> None:
    """A wrong password fails the login with UnauthorizedLogin."""
    assertFailure(login(conn, b"alice", b"looking-glass"), error.UnauthorizedLogin)


def test_unknownUserFails(conn: Connection) -> None:
    """An unknown user fails the login with UnauthorizedLogin."""
    assertFailure(login(conn, b"carol", b"x"), error.UnauthorizedLogin)


def test_anonymousLogin(conn: Connection) -> None:
    """Anonymous credentials log in through AllowAnonymousAccess."""
    avatar = conn.wait(conn.clientFactory.login(credentials.Anonymous()))
    assert conn.call(avatar, "whoami") == b"anonymous"


def test_logoutOnDisconnect(conn: Connection, realm: Realm) -> None:
    """The realm's logout runs when the connection drops."""
    login(conn, b"bob", b"builder")
    conn.disconnect()
    assert realm.loggedOut == [b"bob"]


def test_logoutWhenAvatarReleased(conn: Connection, realm: Realm) -> None:
    """The realm's logout runs once when the client drops the avatar reference."""
    avatar = login(conn, b"bob", b"builder")
    del avatar
    gc.collect()
    conn.pump.flush()
    assert realm.loggedOut == [b"bob"]
    conn.disconnect()
    assert realm.loggedOut == [b"bob"]


def test_viewableSeesCallersPerspective(realm: Realm, tmp_path: Path) -> None:
    """Two users calling one Viewable are each seen as themselves."""
    passwords = tmp_path / "passwd"
    passwords.write_bytes(b"alice:a\nbob:b\n")
    p = portal.Portal(realm, [checkers.FilePasswordDB(passwords)])
    names = []
    for user, password in [(b"alice", b"a"), (b"bob", b"b")]:
        conn = Connection(p)
        avatar = login(conn, user, password)
        board = conn.call(avatar, "board")
        names.append(conn.call(board, "whoCalls"))
    assert names == [b"alice", b"bob"]


def test_cacheableObserversGetUpdates(conn: Connection, realm: Realm) -> None:
    """A RemoteCache receives the Cacheable's updates."""
    avatar = login(conn, b"alice", b"wonderland")
    cache = conn.call(avatar, "counter")
    assert isinstance(cache, CounterCache) and cache.value == 0
    realm.counter.increment()
    realm.counter.increment()
    conn.pump.flush()
    assert cache.value == 2


def test_cacheSentTwiceIsSameCache(conn: Connection) -> None:
    """A Cacheable sent twice arrives as views of one cache."""
    avatar = login(conn, b"alice", b"wonderland")
    first = conn.call(avatar, "counter")
    second = conn.call(avatar, "counter")
    assert first == second and first.__dict__ is second.__dict__


def test_stoppedObservingWhenCacheDropped(conn: Connection, realm: Realm) -> None:
    """Dropping every reference to the cache stops the server observing."""
    avatar = login(conn, b"alice", b"wonderland")
    cache = conn.call(avatar, "counter")
    assert len(realm.counter.observers) == 1
    del cache
    gc.collect()
    conn.pump.flush()
    assert realm.counter.observers == [] and len(realm.counter.stopped) == 1


def test_stoppedObservingOnDisconnect(conn: Connection, realm: Realm) -> None:
    """Disconnecting stops the observation too."""
    avatar = login(conn, b"alice", b"wonderland")
    cache = conn.call(avatar, "counter")
    conn.disconnect()
    assert realm.counter.observers == [] and cache.value == 0


class Badge(pb.Copyable):
    """A copyable whose state depends on who receives it."""

    def getStateToCopyFor(self, perspective: Any) -> dict[str, Any]:
        return {"holder": perspective.name}


class RemoteBadge(pb.RemoteCopy):
    """The local copy of a Badge."""


pb.setUnjellyableForClass(Badge, RemoteBadge)


def test_copyStateDependsOnPerspective(conn: Connection) -> None:
    """getStateToCopyFor is given the receiving perspective."""
    avatar = login(conn, b"bob", b"builder")
    badge = conn.call(avatar, "badge")
    assert isinstance(badge, RemoteBadge) and badge.holder == b"bob"
