"""Tests for torsion.cred: portal, checkers, credentials and scrypt password entries."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from torsion.cred import checkers, credentials, error, portal
from torsion.internet import defer
from torsion.python.failure import Failure


class Realm:
    """A realm handing out the avatar id as the avatar, recording logouts."""

    def __init__(self) -> None:
        self.loggedOut: list[Any] = []

    def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: type) -> Any:
        if IThing not in interfaces:
            raise NotImplementedError("no supported interface")
        return IThing, ("avatar", avatarId, mind), lambda: self.loggedOut.append(avatarId)


class IThing:
    """The avatar interface the realm supports."""


def result(d: defer.Deferred[Any]) -> Any:
    """The result of an already-fired Deferred (a Failure if it failed)."""
    out: list[Any] = []
    d.addBoth(out.append)
    assert out, "Deferred has not fired"
    return out[0]


def failureOf(d: defer.Deferred[Any], *errors: type[BaseException]) -> Failure:
    value = result(d)
    assert isinstance(value, Failure), value
    assert value.check(*errors), value
    return value


def makePortal(*chks: Any) -> portal.Portal:
    return portal.Portal(Realm(), chks)


def test_loginReturnsInterfaceAvatarLogout() -> None:
    """A successful login fires with (interface, avatar, logout)."""
    db = checkers.InMemoryUsernamePasswordDatabaseDontUse(alice=b"secret")
    p = makePortal(db)
    iface, avatar, logout = result(
        p.login(credentials.UsernamePassword(b"alice", b"secret"), "mind", IThing)
    )
    assert (iface, avatar) == (IThing, ("avatar", b"alice", "mind"))
    logout()
    assert p.realm.loggedOut == [b"alice"]  # type: ignore[attr-defined]


def test_wrongPasswordFailsUnauthorized() -> None:
    """A wrong password fails with UnauthorizedLogin."""
    p = makePortal(checkers.InMemoryUsernamePasswordDatabase(alice=b"secret"))
    failureOf(p.login(credentials.UsernamePassword(b"alice", b"nope"), None, IThing),
              error.UnauthorizedLogin)


def test_unknownUserFailsUnauthorized() -> None:
    """An unknown user fails with UnauthorizedLogin."""
    p = makePortal(checkers.InMemoryUsernamePasswordDatabase(alice=b"secret"))
    failureOf(p.login(credentials.UsernamePassword(b"bob", b"secret"), None, IThing),
              error.UnauthorizedLogin)


def test_unhandledCredentials() -> None:
    """Credentials no checker handles fail with UnhandledCredentials."""
    p = makePortal(checkers.InMemoryUsernamePasswordDatabase(alice=b"secret"))
    failureOf(p.login(credentials.Anonymous(), None, IThing), error.UnhandledCredentials)


def test_anonymousAccess() -> None:
    """AllowAnonymousAccess logs Anonymous credentials in as ANONYMOUS."""
    p = makePortal(checkers.AllowAnonymousAccess())
    _, avatar, _ = result(p.login(credentials.Anonymous(), None, IThing))
    assert avatar[1] == checkers.ANONYMOUS


def test_realmErrorPropagates() -> None:
    """An interface the realm does not support fails the login."""
    p = makePortal(checkers.AllowAnonymousAccess())
    failureOf(p.login(credentials.Anonymous(), None, str), NotImplementedError)


def test_hashedCredentialsCheckedAgainstPlaintext() -> None:
    """UsernameHashedPassword credentials are accepted by the in-memory checker."""
    p = makePortal(checkers.InMemoryUsernamePasswordDatabase(alice=b"secret"))
    _, avatar, _ = result(
        p.login(credentials.UsernameHashedPassword(b"alice", b"secret"), None, IThing)
    )
    assert avatar[1] == b"alice"


def test_providedByIsNominal() -> None:
    """Credentials provide exactly the interfaces their class inherits."""
    assert credentials.providedBy(credentials.Anonymous(), credentials.IAnonymous)
    assert not credentials.providedBy(object(), credentials.IAnonymous)
    assert not credentials.providedBy(
        credentials.Anonymous(), credentials.IUsernamePassword
    )


# -- scrypt entries -----------------------------------------------------------------------

FAST = {"n": 2**4, "r": 1, "p": 1}


def test_scryptEntryVerifies() -> None:
    """A hashPassword entry verifies the right password and refuses a wrong one."""
    entry = checkers.hashPassword(b"pw", **FAST)
    assert entry.startswith(b"scrypt$")
    assert checkers.verifyPassword(entry, b"pw")
    assert not checkers.verifyPassword(entry, b"pW")


def test_scryptEntriesAreSalted() -> None:
    """Two entries for the same password differ."""
    assert checkers.hashPassword(b"pw", **FAST) != checkers.hashPassword(b"pw", **FAST)


@pytest.mark.parametrize(
    "entry",
    [b"scrypt$", b"scrypt$x$1$1$AA==$AA==", b"scrypt$16$1$1$!!$AA==", b"scrypt$3$1$1$AA==$",
     b"scrypt$" + str(2**30).encode() + b"$8$1$AA==$AA=="],
)
def test_malformedScryptEntryNeverMatches(entry: bytes) -> None:
    """A malformed or absurd entry never matches (and does not raise)."""
    assert not checkers.verifyPassword(entry, b"")


def test_scryptEntryInMemoryDatabase() -> None:
    """The in-memory checker accepts scrypt entries for plaintext credentials."""
    p = makePortal(checkers.InMemoryUsernamePasswordDatabase(
        alice=checkers.hashPassword(b"secret", **FAST)))
    _, avatar, _ = result(p.login(credentials.UsernamePassword(b"alice", b"secret"), None, IThing))
    assert avatar[1] == b"alice"
    failureOf(p.login(credentials.UsernamePassword(b"alice", b"wrong"), None, IThing),
              error.UnauthorizedLogin)


def test_scryptEntryRefusesHashedCredentials() -> None:
    """A scrypt entry cannot check challenge-response credentials: refused, not crashed."""
    p = makePortal(checkers.InMemoryUsernamePasswordDatabase(
        alice=checkers.hashPassword(b"secret", **FAST)))
    failureOf(p.login(credentials.UsernameHashedPassword(b"alice", b"secret"), None, IThing),
              error.UnauthorizedLogin)


# -- FilePasswordDB -------------------------------------------------------------------------


def writeDB(path: Path, text: bytes) -> Path:
    path.write_bytes(text)
    return path


def test_filePasswordDB(tmp_path: Path) -> None:
    """FilePasswordDB reads name:password lines."""
    db = checkers.FilePasswordDB(writeDB(tmp_path / "pw", b"alice:secret\nbob:hunter2\n"))
    p = makePortal(db)
    _, avatar, _ = result(p.login(credentials.UsernamePassword(b"bob", b"hunter2"), None, IThing))
    assert avatar[1] == b"bob"
    failureOf(p.login(credentials.UsernamePassword(b"bob", b"x"), None, IThing),
              error.UnauthorizedLogin)


def test_filePasswordDBFieldsAndDelimiter(tmp_path: Path) -> None:
    """Custom delimiter and field positions are honoured; short lines skipped."""
    db = checkers.FilePasswordDB(
        writeDB(tmp_path / "pw", b"short\nx,secret,alice\n"), delim=b",",
        usernameField=2, passwordField=1)
    assert db.getUser(b"alice") == (b"alice", b"secret")


def test_filePasswordDBCaseInsensitive(tmp_path: Path) -> None:
    """With caseSensitive=False user names match regardless of case."""
    db = checkers.FilePasswordDB(writeDB(tmp_path / "pw", b"Alice:secret\n"),
                                 caseSensitive=False)
    _, avatar, _ = result(makePortal(db).login(
        credentials.UsernamePassword(b"ALICE", b"secret"), None, IThing))
    assert avatar[1] == b"alice"


def test_filePasswordDBHashFunction(tmp_path: Path) -> None:
    """A hash function is applied to the presented password before comparing."""

    def rev(username: bytes, password: bytes, stored: bytes) -> bytes:
        return password[::-1]

    db = checkers.FilePasswordDB(writeDB(tmp_path / "pw", b"alice:terces\n"), hash=rev)
    assert db.credentialInterfaces == (credentials.IUsernamePassword,)
    p = makePortal(db)
    _, avatar, _ = result(p.login(credentials.UsernamePassword(b"alice", b"secret"), None, IThing))
    assert avatar[1] == b"alice"
    failureOf(p.login(credentials.UsernamePassword(b"alice", b"terces"), None, IThing),
              error.UnauthorizedLogin)


def test_filePasswordDBScryptEntries(tmp_path: Path) -> None:
    """Scrypt entries in the file are verified."""
    entry = checkers.hashPassword(b"secret", **FAST)
    db = checkers.FilePasswordDB(writeDB(tmp_path / "pw", b"alice:" + entry + b"\n"))
    _, avatar, _ = result(makePortal(db).login(
        credentials.UsernamePassword(b"alice", b"secret"), None, IThing))
    assert avatar[1] == b"alice"


def test_filePasswordDBMissingFileRefuses(tmp_path: Path) -> None:
    """A missing password file refuses logins instead of crashing."""
    db = checkers.FilePasswordDB(tmp_path / "missing")
    failureOf(makePortal(db).login(credentials.UsernamePassword(b"a", b"b"), None, IThing),
              error.UnauthorizedLogin)


def test_filePasswordDBCacheReloadsOnMtimeChange(tmp_path: Path) -> None:
    """With cache=True the file is re-read when its mtime changes, not otherwise."""
    path = writeDB(tmp_path / "pw", b"alice:one\n")
    os.utime(path, (1000, 1000))
    db = checkers.FilePasswordDB(path, cache=True)
    assert db.getUser(b"alice") == (b"alice", b"one")
    path.write_bytes(b"alice:two\n")
    os.utime(path, (1000, 1000))
    assert db.getUser(b"alice") == (b"alice", b"one")
    os.utime(path, (2000, 2000))
    assert db.getUser(b"alice") == (b"alice", b"two")
