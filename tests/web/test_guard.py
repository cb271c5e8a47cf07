"""Tests of web.guard: HTTPAuthSessionWrapper with Basic and Digest (RFC 7616) over cred.

Unit tests drive a Site over a StringTransport (the `connectSite` helper) and compute
Digest responses with hashlib here, independently of the server's code; the integration
tests at the end use curl --basic/--digest against a real Site on 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import subprocess
from typing import Any

import pytest

from torsion.cred import error
from torsion.cred.checkers import (
    ANONYMOUS,
    AllowAnonymousAccess,
    InMemoryUsernamePasswordDatabaseDontUse,
)
from torsion.cred.credentials import IUsernameHashedPassword, providedBy
from torsion.cred.portal import Portal
from torsion.internet.address import IPv4Address
from torsion.internet.defer import Deferred
from torsion.internet.task import Clock
from torsion.internet.threads import deferToThreadPool
from torsion.logger import capturedLogs
from torsion.web import guard, resource, server
from torsion.web._auth_digest import parseAuthParams
from torsion.web.iweb import ICredentialFactory

_basic: ICredentialFactory = guard.BasicCredentialFactory(b"r")
_digest: ICredentialFactory = guard.DigestCredentialFactory(b"md5", b"r")


class Avatar(resource.Resource):
    """An avatar that says who it is and records the path it saw."""

    def __init__(self, avatarId: Any, body: Any = None) -> None:
        super().__init__()
        self.avatarId = avatarId
        self.body = body
        self.seen: list[tuple[list[bytes], list[bytes]]] = []
        self.putChild(b"a", PathLeaf(self.seen))

    def getChild(self, path: bytes, request: Any) -> Any:
        return self if path == b"" else super().getChild(path, request)

    def render_GET(self, request: server.Request) -> Any:
        if self.body is not None:
            return self.body
        return b"hello " + (self.avatarId or b"anonymous")


class PathLeaf(resource.Resource):
    """A leaf that records prepath and postpath when rendered."""

    isLeaf = True

    def __init__(self, seen: list[tuple[list[bytes], list[bytes]]]) -> None:
        super().__init__()
        self.seen = seen

    def render_GET(self, request: server.Request) -> bytes:
        self.seen.append((list(request.prepath), list(request.postpath)))
        return b"leaf"


class Realm:
    """Gives an Avatar per login and counts logouts."""

    def __init__(self, body: Any = None, fail: Exception | None = None) -> None:
        self.body = body
        self.fail = fail
        self.logouts = 0
        self.avatars: list[Avatar] = []

    def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: type) -> Any:
        assert resource.IResource in interfaces and mind is None
        if self.fail is not None:
            raise self.fail
        avatar = Avatar(avatarId, self.body)
        self.avatars.append(avatar)
        return (resource.IResource, avatar, self.logout)

    def logout(self) -> None:
        self.logouts += 1


def makeGuard(
    factories: list[Any] | None = None, realm: Realm | None = None, anonymous: bool = False,
    checker: Any = None,
) -> tuple[resource.Resource, Realm]:
    """A root with the guard at /guarded, users alice/secret and bob/pw."""
    realm = realm or Realm()
    checkers: list[Any] = [checker or InMemoryUsernamePasswordDatabaseDontUse(
        alice=b"secret", bob=b"pw")]
    if anonymous:
        checkers.append(AllowAnonymousAccess())
    portal = Portal(realm, checkers)
    if factories is None:
        factories = [guard.BasicCredentialFactory(b"test realm")]
    root = resource.Resource()
    root.putChild(b"guarded", guard.HTTPAuthSessionWrapper(portal, factories))  # type: ignore[arg-type]
    return root, realm


def request(path: bytes = b"/guarded", authorization: bytes | None = None,
            method: bytes = b"GET") -> bytes:
    auth = b"Authorization: " + authorization + b"\r\n" if authorization is not None else b""
    return method + b" " + path + b" HTTP/1.1\r\nHost: x\r\n" + auth + b"\r\n"


def basic(user: bytes, password: bytes) -> bytes:
    return b"Basic " + base64.b64encode(user + b":" + password)


def challenges(response: Any) -> list[bytes]:
    return [v for k, v in response.headers if k.lower() == b"www-authenticate"]


_PARAM = re.compile(rb'([\w*-]+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))')


def challengeParams(value: bytes) -> dict[bytes, bytes]:
    """Parse a WWW-Authenticate value the way a client would (independent of the server)."""
    scheme, _, rest = value.partition(b" ")
    return {k.lower(): (q or t) for k, q, t in _PARAM.findall(rest)}


_HASHES = {b"md5": hashlib.md5, b"sha-256": hashlib.sha256}


def digestAuthorization(
    challenge: bytes, user: bytes, password: bytes, uri: bytes = b"/guarded",
    method: bytes = b"GET", nc: int = 1, cnonce: bytes = b"0a4f113b",
    override: dict[str, bytes] | None = None,
) -> bytes:
    """Compute a Digest Authorization header for `challenge` as RFC 7616 §3.4.1 says."""
    p = challengeParams(challenge)
    algorithm = p.get(b"algorithm", b"MD5")
    h = _HASHES[algorithm.lower()]

    def hx(data: bytes) -> bytes:
        return h(data).hexdigest().encode()

    ncValue = b"%08x" % (nc,)
    ha1 = hx(user + b":" + p[b"realm"] + b":" + password)
    ha2 = hx(method + b":" + uri)
    response = hx(b":".join([ha1, p[b"nonce"], ncValue, cnonce, b"auth", ha2]))
    fields = {
        b"username": b'"%s"' % user, b"realm": b'"%s"' % p[b"realm"],
        b"nonce": b'"%s"' % p[b"nonce"], b"uri": b'"%s"' % uri, b"algorithm": algorithm,
        b"response": b'"%s"' % response, b"opaque": b'"%s"' % p[b"opaque"], b"qop": b"auth",
        b"nc": ncValue, b"cnonce": b'"%s"' % cnonce,
    }
    for key, value in (override or {}).items():
        if value == b"<drop>":
            fields.pop(key.encode())
        else:
            fields[key.encode()] = value
    return b"Digest " + b", ".join(k + b"=" + v for k, v in fields.items())


def digestChallenge(conn: Any, parse: Any, path: bytes = b"/guarded", index: int = 0) -> bytes:
    """Ask without credentials and return the (index-th) Digest challenge."""
    found = [c for c in challenges(parse(conn.send(request(path)))[0])
             if c.lower().startswith(b"digest")]
    return found[index]


# -- no or unusable credentials: 401 --------------------------------------------------------


def test_noCredentialsGets401WithAChallengePerFactory(connectSite: Any, parse: Any) -> None:
    """Without Authorization the answer is 401 with one WWW-Authenticate per factory."""
    root, _ = makeGuard([guard.BasicCredentialFactory(b"test realm"),
                         guard.DigestCredentialFactory(b"md5", b"test realm")])
    r = parse(connectSite(root).send(request()))[0]
    assert (r.code, r.body) == (401, b"Unauthorized")
    basicChallenge, digest = challenges(r)
    assert basicChallenge == b'basic realm="test realm"'
    params = challengeParams(digest)
    assert (params[b"realm"], params[b"qop"], params[b"algorithm"]) == (
        b"test realm", b"auth", b"MD5")
    assert params[b"nonce"] and params[b"opaque"]
    assert b"algorithm=MD5" in digest  # a token (RFC 7616 §3.3), not a quoted string


def test_eachChallengeHasAFreshNonce(connectSite: Any, parse: Any) -> None:
    """Two challenges never share a nonce."""
    root, _ = makeGuard([guard.DigestCredentialFactory(b"md5", b"r")])
    conn = connectSite(root)
    first = challengeParams(digestChallenge(conn, parse))[b"nonce"]
    assert challengeParams(digestChallenge(conn, parse))[b"nonce"] != first


def test_realmIsQuotedAndEscaped(connectSite: Any, parse: Any) -> None:
    """A realm with a quote or backslash is sent as an escaped quoted string."""
    root, _ = makeGuard([guard.BasicCredentialFactory('say "hi" \\ there')])
    r = parse(connectSite(root).send(request()))[0]
    assert challenges(r) == [b'basic realm="say \\"hi\\" \\\\ there"']


def test_headGets401WithoutBody(connectSite: Any, parse: Any) -> None:
    """HEAD without credentials gets the 401 head and challenge, no body."""
    root, _ = makeGuard()
    r = parse(connectSite(root).send(request(method=b"HEAD")), head=True)[0]
    assert r.code == 401 and challenges(r) and r.body == b""


def test_anonymousLoginWithoutChecker401(connectSite: Any, parse: Any) -> None:
    """No Authorization and no anonymous checker (UnhandledCredentials) is a 401."""
    root, realm = makeGuard()
    assert parse(connectSite(root).send(request()))[0].code == 401
    assert realm.avatars == []


def test_anonymousLoginWhenPortalAllowsIt(connectSite: Any, parse: Any) -> None:
    """No Authorization logs in as Anonymous when the portal has a checker for it."""
    root, realm = makeGuard(anonymous=True)
    r = parse(connectSite(root).send(request()))[0]
    assert (r.code, r.body) == (200, b"hello anonymous")
    assert realm.avatars[0].avatarId == ANONYMOUS


@pytest.mark.parametrize("authorization", [
    b"Basic",
    b"Basic !!!not base64!!!",
    b"Basic " + base64.b64encode(b"no colon here"),
    b"Basic " + base64.b64encode(b"alice:secret") + b"===extra",
    b"Digest",
    b"Digest garbage",
    b'Digest username="unterminated',
    b"Digest username=a, username=b",
    b"Digest " + b"a=b, " * 40,
    b"Negotiate abc",
    b"\xff\xfe\xfd",
    b"Basic \xff\xfe",
])
def test_malformedAuthorizationIs401NeverA500(
    connectSite: Any, parse: Any, authorization: bytes
) -> None:
    """A malformed or unknown Authorization header gets 401 with the challenges."""
    root, _ = makeGuard([guard.BasicCredentialFactory(b"r"),
                         guard.DigestCredentialFactory(b"md5", b"r")])
    r = parse(connectSite(root).send(request(authorization=authorization)))[0]
    assert r.code == 401 and len(challenges(r)) == 2


# -- Basic -------------------------------------------------------------------------------------


def test_basicRightPasswordRendersAvatar(connectSite: Any, parse: Any) -> None:
    """Right Basic credentials: the avatar for that user renders the request."""
    root, realm = makeGuard()
    r = parse(connectSite(root).send(request(authorization=basic(b"alice", b"secret"))))[0]
    assert (r.code, r.body) == (200, b"hello alice")


def test_basicSchemeIsCaseInsensitive(connectSite: Any, parse: Any) -> None:
    """The scheme name matches in any case (RFC 9110 §11.1)."""
    root, _ = makeGuard()
    header = b"bAsIc   " + base64.b64encode(b"bob:pw")
    assert parse(connectSite(root).send(request(authorization=header)))[0].body == b"hello bob"


def test_basicPasswordMayContainColons(connectSite: Any, parse: Any) -> None:
    """Only the first colon separates the user from the password (RFC 7617 §2)."""
    checker = InMemoryUsernamePasswordDatabaseDontUse(carol=b"a:b:c")
    root, _ = makeGuard(checker=checker)
    r = parse(connectSite(root).send(request(authorization=basic(b"carol", b"a:b:c"))))[0]
    assert r.body == b"hello carol"


@pytest.mark.parametrize("user,password", [(b"alice", b"wrong"), (b"nobody", b"secret")])
def test_basicWrongCredentialsGet401(
    connectSite: Any, parse: Any, user: bytes, password: bytes
) -> None:
    """A wrong password or unknown user is refused with 401 and the challenge again."""
    root, realm = makeGuard()
    r = parse(connectSite(root).send(request(authorization=basic(user, password))))[0]
    assert r.code == 401 and challenges(r) == [b'basic realm="test realm"']
    assert realm.avatars == []


class SlowChecker:
    """A checker whose answers are Deferreds the test fires (kept in ``pending``)."""

    credentialInterfaces = InMemoryUsernamePasswordDatabaseDontUse.credentialInterfaces

    def __init__(self) -> None:
        self.pending: list[Deferred[Any]] = []

    def requestAvatarId(self, credentials: Any) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        self.pending.append(d)
        return d


def test_asyncCheckerAnswersWhenLoginFires(connectSite: Any, parse: Any) -> None:
    """A checker returning an unfired Deferred delays the response until it fires."""
    checker = SlowChecker()
    pending = checker.pending
    root, _ = makeGuard(checker=checker)
    conn = connectSite(root)
    assert conn.send(request(authorization=basic(b"alice", b"x"))) == b""
    pending[0].callback(b"alice")
    assert parse(conn.take())[0].body == b"hello alice"


def test_loginFailingLaterGets401(connectSite: Any, parse: Any) -> None:
    """A checker whose Deferred fails with UnauthorizedLogin later gives 401."""
    checker = SlowChecker()
    pending = checker.pending
    root, _ = makeGuard(checker=checker)
    conn = connectSite(root)
    conn.send(request(authorization=basic(b"alice", b"x")))
    pending[0].errback(error.UnauthorizedLogin())
    assert parse(conn.take())[0].code == 401


# -- the avatar, its path and logout -------------------------------------------------------------


def test_avatarSeesThePathTheGuardWasReachedWith(connectSite: Any, parse: Any) -> None:
    """The guard consumes no segment: its avatar traverses the rest of the path."""
    root, realm = makeGuard()
    r = parse(connectSite(root).send(
        request(b"/guarded/a/b/c", authorization=basic(b"alice", b"secret"))))[0]
    assert r.body == b"leaf"
    assert realm.avatars[0].seen == [([b"guarded", b"a"], [b"b", b"c"])]


def test_guardAsSiteRoot(connectSite: Any, parse: Any) -> None:
    """A guard at the root of the site guards every path, slash included."""
    realm = Realm()
    portal = Portal(realm, [InMemoryUsernamePasswordDatabaseDontUse(alice=b"secret")])
    wrapper = guard.HTTPAuthSessionWrapper(portal, [guard.BasicCredentialFactory(b"r")])
    conn = connectSite(wrapper)
    auth = basic(b"alice", b"secret")
    assert parse(conn.send(request(b"/", authorization=auth)))[0].body == b"hello alice"
    assert parse(conn.send(request(b"/a/z", authorization=auth)))[0].body == b"leaf"
    assert realm.avatars[1].seen == [([b"a"], [b"z"])]
    assert parse(conn.send(request(b"/nothing", authorization=auth)))[0].code == 404
    assert parse(conn.send(request(b"/a")))[0].code == 401


def test_logoutRunsOnceWhenTheRequestFinishes(connectSite: Any, parse: Any) -> None:
    """The realm's logout runs after the avatar's response is finished, once."""
    later: list[server.Request] = []

    def delayed(req: server.Request) -> int:
        later.append(req)
        return server.NOT_DONE_YET

    class Later(Avatar):
        def render_GET(self, request: server.Request) -> Any:
            return delayed(request)

    class LaterRealm(Realm):
        def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: type) -> Any:
            return (resource.IResource, Later(avatarId), self.logout)

    realm = LaterRealm()
    root, _ = makeGuard(realm=realm)
    conn = connectSite(root)
    conn.send(request(authorization=basic(b"alice", b"secret")))
    assert realm.logouts == 0
    later[0].write(b"done")
    later[0].finish()
    assert realm.logouts == 1
    assert parse(conn.take())[0].body == b"done"


def test_logoutRunsWhenTheClientLeaves(connectSite: Any) -> None:
    """A client that disconnects mid-response still gets its avatar logged out."""
    from torsion.internet.error import ConnectionDone
    from torsion.python.failure import Failure

    class Never(Avatar):
        def render_GET(self, request: server.Request) -> Any:
            return server.NOT_DONE_YET

    class NeverRealm(Realm):
        def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: type) -> Any:
            return (resource.IResource, Never(avatarId), self.logout)

    realm = NeverRealm()
    root, _ = makeGuard(realm=realm)
    conn = connectSite(root)
    conn.send(request(authorization=basic(b"alice", b"secret")))
    conn.channel.connectionLost(Failure(ConnectionDone()))
    assert realm.logouts == 1


def test_logoutRunsAtOnceIfTheClientLeftDuringLogin(connectSite: Any) -> None:
    """An avatar arriving after the client left is logged out and never rendered."""
    from torsion.internet.error import ConnectionDone
    from torsion.python.failure import Failure

    pending: list[Deferred[Any]] = []

    class SlowChecker:
        credentialInterfaces = InMemoryUsernamePasswordDatabaseDontUse.credentialInterfaces

        def requestAvatarId(self, credentials: Any) -> Deferred[Any]:
            d: Deferred[Any] = Deferred()
            pending.append(d)
            return d

    root, realm = makeGuard(checker=SlowChecker())
    conn = connectSite(root)
    conn.send(request(authorization=basic(b"alice", b"secret")))
    conn.channel.connectionLost(Failure(ConnectionDone()))
    pending[0].callback(b"alice")
    assert realm.logouts == 1 and conn.take() == b""


def test_logoutRunsAfterAnErrorInTheAvatar(connectSite: Any, parse: Any) -> None:
    """An avatar whose render raises gives 500, and logout still runs."""
    class Broken(Avatar):
        def render_GET(self, request: server.Request) -> Any:
            raise ValueError("broken avatar")

    class BrokenRealm(Realm):
        def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: type) -> Any:
            return (resource.IResource, Broken(avatarId), self.logout)

    realm = BrokenRealm()
    root, _ = makeGuard(realm=realm)
    with capturedLogs():
        r = parse(connectSite(root).send(request(authorization=basic(b"alice", b"secret"))))[0]
    assert r.code == 500 and realm.logouts == 1


def test_failingLogoutIsLoggedNotRaised(connectSite: Any, parse: Any) -> None:
    """A logout that raises is logged; the response already sent is unaffected."""
    class BadLogoutRealm(Realm):
        def logout(self) -> None:
            raise RuntimeError("logout bug")

    root, _ = makeGuard(realm=BadLogoutRealm())
    with capturedLogs() as events:
        r = parse(connectSite(root).send(request(authorization=basic(b"alice", b"secret"))))[0]
    assert r.body == b"hello alice"
    assert any("logout bug" in e["log_failure"].getTraceback()
               for e in events if e.get("log_failure") is not None)


def test_unexpectedRealmErrorIs500AndLogged(connectSite: Any, parse: Any) -> None:
    """A realm raising something other than a login error gives 500 and a logged failure."""
    root, _ = makeGuard(realm=Realm(fail=ZeroDivisionError("realm bug")))
    with capturedLogs() as events:
        r = parse(connectSite(root).send(request(authorization=basic(b"alice", b"secret"))))[0]
    assert r.code == 500 and b"realm bug" not in r.body
    assert any(e.get("log_failure") is not None for e in events)


def test_realmLoginDeniedIs401(connectSite: Any, parse: Any) -> None:
    """A realm refusing with LoginDenied gives 401, not 500."""
    root, _ = makeGuard(realm=Realm(fail=error.LoginDenied("no")))
    r = parse(connectSite(root).send(request(authorization=basic(b"alice", b"secret"))))[0]
    assert r.code == 401


def test_factoryBugIs500AndLogged(connectSite: Any, parse: Any) -> None:
    """A factory raising something other than LoginFailed gives 500 and a logged failure."""
    class Buggy:
        scheme = b"buggy"

        def getChallenge(self, request: Any) -> dict[str, Any]:
            return {}

        def decode(self, response: bytes, request: Any) -> Any:
            raise KeyError("factory bug")

    root, _ = makeGuard([Buggy()])
    with capturedLogs() as events:
        r = parse(connectSite(root).send(request(authorization=b"Buggy x")))[0]
    assert r.code == 500
    assert any(e.get("log_failure") is not None for e in events)


def test_putChildIsRefused() -> None:
    """Children belong on the avatar: putChild on the guard raises."""
    wrapper = guard.HTTPAuthSessionWrapper(Portal(Realm()), [])
    with pytest.raises(NotImplementedError):
        wrapper.putChild(b"x", resource.Resource())


# -- Digest ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", [b"md5", b"SHA-256"])
def test_digestRightPasswordRendersAvatar(connectSite: Any, parse: Any, algorithm: bytes) -> None:
    """A correct Digest response (MD5 or SHA-256) logs in through the in-memory checker."""
    root, _ = makeGuard([guard.DigestCredentialFactory(algorithm, b"test realm")])
    conn = connectSite(root)
    auth = digestAuthorization(digestChallenge(conn, parse), b"alice", b"secret")
    r = parse(conn.send(request(authorization=auth)))[0]
    assert (r.code, r.body) == (200, b"hello alice")


def test_digestWithQueryAndSubpath(connectSite: Any, parse: Any) -> None:
    """The uri checked is the whole request target, query included."""
    root, realm = makeGuard([guard.DigestCredentialFactory(b"md5", b"r")])
    conn = connectSite(root)
    uri = b"/guarded/a/x?q=1"
    auth = digestAuthorization(digestChallenge(conn, parse, uri), b"bob", b"pw", uri=uri)
    assert parse(conn.send(request(uri, authorization=auth)))[0].body == b"leaf"


def test_digestWrongPasswordIs401NotStale(connectSite: Any, parse: Any) -> None:
    """A wrong password gets 401 with a fresh challenge that is not marked stale."""
    root, realm = makeGuard([guard.DigestCredentialFactory(b"md5", b"r")])
    conn = connectSite(root)
    auth = digestAuthorization(digestChallenge(conn, parse), b"alice", b"nope")
    r = parse(conn.send(request(authorization=auth)))[0]
    assert r.code == 401 and b"stale" not in challenges(r)[0]
    assert realm.avatars == []


def test_digestReplayIsRefusedAsStale(connectSite: Any, parse: Any) -> None:
    """The same nonce count twice is a replay: 401 stale=true; a higher count is fine."""
    root, _ = makeGuard([guard.DigestCredentialFactory(b"md5", b"r")])
    conn = connectSite(root)
    challenge = digestChallenge(conn, parse)
    first = digestAuthorization(challenge, b"alice", b"secret", nc=1)
    assert parse(conn.send(request(authorization=first)))[0].code == 200
    replay = parse(conn.send(request(authorization=first)))[0]
    assert replay.code == 401 and challengeParams(challenges(replay)[0])[b"stale"] == b"true"
    second = digestAuthorization(challenge, b"alice", b"secret", nc=2)
    assert parse(conn.send(request(authorization=second)))[0].code == 200
    lower = digestAuthorization(challenge, b"alice", b"secret", nc=1, cnonce=b"other")
    assert parse(conn.send(request(authorization=lower)))[0].code == 401


def test_digestExpiredNonceIsStaleOnlyWithTheRightPassword(
    connectSite: Any, parse: Any
) -> None:
    """After CHALLENGE_LIFETIME_SECS a right digest gets stale=true, a wrong one does not."""
    clock = Clock()
    clock.advance(1_000_000)
    factory = guard.DigestCredentialFactory(b"md5", b"r", clock=clock)
    root, _ = makeGuard([factory])
    conn = connectSite(root)
    challenge = digestChallenge(conn, parse)
    clock.advance(factory.CHALLENGE_LIFETIME_SECS + 1)
    right = parse(conn.send(request(authorization=digestAuthorization(
        challenge, b"alice", b"secret"))))[0]
    assert right.code == 401
    assert challengeParams(challenges(right)[0])[b"stale"] == b"true"
    assert b"stale=true" in challenges(right)[0]
    wrong = parse(conn.send(request(authorization=digestAuthorization(
        challenge, b"alice", b"bad"))))[0]
    assert wrong.code == 401 and b"stale" not in challenges(wrong)[0]


def test_digestNonceWithinLifetimeIsAccepted(connectSite: Any, parse: Any) -> None:
    """A nonce just inside its lifetime still works."""
    clock = Clock()
    factory = guard.DigestCredentialFactory(b"md5", b"r", clock=clock)
    root, _ = makeGuard([factory])
    conn = connectSite(root)
    challenge = digestChallenge(conn, parse)
    clock.advance(factory.CHALLENGE_LIFETIME_SECS - 1)
    auth = digestAuthorization(challenge, b"alice", b"secret")
    assert parse(conn.send(request(authorization=auth)))[0].code == 200


@pytest.mark.parametrize("override", [
    {"opaque": b'"0123456789abcdef0123456789abcdef"'},
    {"nonce": b'"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"'},
    {"nonce": b'"not-base64!"'},
    {"uri": b'"/elsewhere"'},
    {"realm": b'"other realm"'},
    {"algorithm": b"SHA-256"},
    {"qop": b"auth-int"},
    {"qop": b"<drop>"},
    {"nc": b"1"},
    {"nc": b"0000000g"},
    {"cnonce": b"<drop>"},
    {"opaque": b"<drop>"},
    {"username": b"<drop>"},
    {"userhash": b"true"},
])
def test_digestBadParametersAre401(
    connectSite: Any, parse: Any, override: dict[str, bytes]
) -> None:
    """A response with a foreign nonce/opaque, wrong uri/realm/algorithm, bad qop or nc is 401."""
    root, realm = makeGuard([guard.DigestCredentialFactory(b"md5", b"r")])
    conn = connectSite(root)
    auth = digestAuthorization(digestChallenge(conn, parse), b"alice", b"secret", override=override)
    r = parse(conn.send(request(authorization=auth)))[0]
    assert r.code == 401 and realm.avatars == []


def test_digestNonceFromAnotherFactoryIsRefused(connectSite: Any, parse: Any) -> None:
    """A nonce issued by another factory (another private key) does not verify."""
    root, _ = makeGuard([guard.DigestCredentialFactory(b"md5", b"r")])
    other, _ = makeGuard([guard.DigestCredentialFactory(b"md5", b"r")])
    challenge = digestChallenge(connectSite(other), parse)
    auth = digestAuthorization(challenge, b"alice", b"secret")
    assert parse(connectSite(root).send(request(authorization=auth)))[0].code == 401


def test_digestNonceIsBoundToTheClientAddress(connectSite: Any, parse: Any) -> None:
    """A nonce issued to one client address is refused from another."""
    root, _ = makeGuard([guard.DigestCredentialFactory(b"md5", b"r")])
    conn = connectSite(root)
    challenge = digestChallenge(conn, parse)
    auth = digestAuthorization(challenge, b"alice", b"secret")
    conn.transport.peerAddr = IPv4Address("TCP", "10.9.9.9", 1234)
    assert parse(conn.send(request(authorization=auth)))[0].code == 401


def test_twoDigestFactoriesOfferBothAlgorithms(connectSite: Any, parse: Any) -> None:
    """MD5 and SHA-256 factories together: two challenges, and a SHA-256 answer works."""
    root, _ = makeGuard([guard.DigestCredentialFactory(b"sha-256", b"r"),
                         guard.DigestCredentialFactory(b"md5", b"r")])
    conn = connectSite(root)
    sha = digestChallenge(conn, parse, index=0)
    md5 = digestChallenge(conn, parse, index=1)
    assert b"algorithm=SHA-256" in sha and b"algorithm=MD5" in md5
    for challenge in (sha, md5):
        auth = digestAuthorization(challenge, b"alice", b"secret")
        assert parse(conn.send(request(authorization=auth)))[0].code == 200


def test_digestUsernameStar(connectSite: Any, parse: Any) -> None:
    """An RFC 8187 ``username*`` (UTF-8, percent-encoded) names the user."""
    user = "j\u00f6rg".encode()
    checker = InMemoryUsernamePasswordDatabaseDontUse()
    checker.addUser(user, b"pw")
    root, _ = makeGuard([guard.DigestCredentialFactory(b"md5", b"r")], checker=checker)
    conn = connectSite(root)
    auth = digestAuthorization(digestChallenge(conn, parse), user, b"pw",
                               override={"username": b"<drop>"})
    auth += b", username*=UTF-8''j%C3%B6rg"
    r = parse(conn.send(request(authorization=auth)))[0]
    assert r.code == 200 and r.body == b"hello " + user


def test_trackedNoncesAreBoundedAndAForgottenNonceIsStale(
    connectSite: Any, parse: Any
) -> None:
    """Beyond maxTrackedNonces the oldest is forgotten, and reusing it is refused as stale."""
    factory = guard.DigestCredentialFactory(b"md5", b"r", clock=Clock())
    factory.maxTrackedNonces = 2
    root, _ = makeGuard([factory])
    conn = connectSite(root)
    found = []
    for _ in range(3):
        challenge = digestChallenge(conn, parse)
        found.append(challenge)
        auth = digestAuthorization(challenge, b"alice", b"secret")
        assert parse(conn.send(request(authorization=auth)))[0].code == 200
    assert len(factory._used) == 2
    again = digestAuthorization(found[0], b"alice", b"secret", nc=5)
    r = parse(conn.send(request(authorization=again)))[0]
    assert r.code == 401 and b"stale=true" in challenges(r)[0]


def test_digestedCredentialsAreHashedPasswordCredentials() -> None:
    """DigestedCredentials provide IUsernameHashedPassword, which cred checkers accept."""
    params = {"response": b"x", "nonce": b"n", "uri": b"/", "qop": b"auth",
              "nc": b"00000001", "cnonce": b"c"}
    creds = guard.DigestedCredentials(b"u", b"GET", b"r", params)
    assert providedBy(creds, IUsernameHashedPassword)
    assert creds.checkPassword(b"anything") is False


def test_checkHashAcceptsTheStoredHA1() -> None:
    """checkHash verifies against a stored H(user:realm:password), RFC 7616 §3.4.2."""
    ha1 = hashlib.md5(b"u:r:pw").hexdigest().encode()
    ha2 = hashlib.md5(b"GET:/").hexdigest().encode()
    response = hashlib.md5(b"%s:n:00000001:c:auth:%s" % (ha1, ha2)).hexdigest().encode()
    params = {"response": response, "nonce": b"n", "uri": b"/", "qop": b"auth",
              "nc": b"00000001", "cnonce": b"c"}
    creds = guard.DigestedCredentials(b"u", b"GET", b"r", params)
    assert creds.checkHash(ha1) and creds.checkPassword(b"pw")
    assert not creds.checkHash(hashlib.md5(b"u:r:other").hexdigest().encode())


@pytest.mark.parametrize("algorithm", [b"sha", b"sha-512", "nonsense"])
def test_unsupportedAlgorithmIsAValueError(algorithm: Any) -> None:
    """An algorithm RFC 7616 does not define (or torsion lacks) is refused at construction."""
    with pytest.raises(ValueError, match="Unsupported Digest algorithm"):
        guard.DigestCredentialFactory(algorithm, b"r")


def test_realmWithControlCharacterIsAValueError() -> None:
    """A realm that could break the header is refused at construction."""
    with pytest.raises(ValueError):
        guard.DigestCredentialFactory(b"md5", b"bad\r\nrealm")


def test_parseAuthParams() -> None:
    """auth-params: tokens, quoted strings with escapes, spaces and empty list elements."""
    assert parseAuthParams(b' a=1 ,, B = "x \\"y\\" \\\\" , c="" ,') == {
        "a": b"1", "b": b'x "y" \\', "c": b""}


@pytest.mark.parametrize("header", [
    b"a", b"a=", b"=1", b'a="x" b=2', b"a=1;b=2", b"a=1, a=2", b'a="x\x01"', b'a="x\\',
])
def test_parseAuthParamsRefusesMalformed(header: bytes) -> None:
    """Anything that is not a clean auth-param list is LoginFailed."""
    with pytest.raises(error.LoginFailed):
        parseAuthParams(header)


# -- integration: curl --------------------------------------------------------------------------

CURL = shutil.which("curl")
needsCurl = pytest.mark.skipif(CURL is None, reason="curl is not installed (.ci/run installs it)")


def listenGuarded(reactor: Any, factories: list[Any]) -> tuple[int, Realm]:
    root, realm = makeGuard(factories)
    port = reactor.listenTCP(0, server.Site(root, reactor=reactor), interface="127.0.0.1")
    return int(port.getHost().port), realm


def curl(reactor: Any, run: Any, *args: str) -> subprocess.CompletedProcess[bytes]:
    """Run curl in the reactor's thread pool while the reactor serves."""
    assert CURL is not None
    d = deferToThreadPool(
        reactor, reactor.getThreadPool(), subprocess.run,
        [CURL, "-sS", "-o", "-", "-w", "\n%{http_code}", *args],
        capture_output=True, timeout=30,
    )
    result: subprocess.CompletedProcess[bytes] = run(d, timeout=30)
    return result


@pytest.mark.integration
@needsCurl
@pytest.mark.parametrize("mode", ["--basic", "--digest"])
def test_curlRightPasswordGetsTheAvatar(reactor: Any, run: Any, mode: str) -> None:
    """curl with the right user and password gets 200 and the avatar's body."""
    port, realm = listenGuarded(reactor, [guard.BasicCredentialFactory(b"test realm"),
                                          guard.DigestCredentialFactory(b"md5", b"test realm")])
    out = curl(reactor, run, mode, "-u", "alice:secret", "http://127.0.0.1:%d/guarded/" % port)
    assert out.stdout == b"hello alice\n200", out.stderr
    run(_logoutsReach(reactor, realm, 1))


@pytest.mark.integration
@needsCurl
@pytest.mark.parametrize("mode", ["--basic", "--digest"])
def test_curlWrongPasswordGets401(reactor: Any, run: Any, mode: str) -> None:
    """curl with a wrong password gets 401."""
    port, realm = listenGuarded(reactor, [guard.BasicCredentialFactory(b"test realm"),
                                          guard.DigestCredentialFactory(b"md5", b"test realm")])
    out = curl(reactor, run, mode, "-u", "alice:wrong", "http://127.0.0.1:%d/guarded" % port)
    assert out.stdout.endswith(b"\n401") and realm.avatars == [], out.stderr


@pytest.mark.integration
@needsCurl
def test_curlDigestSha256(reactor: Any, run: Any) -> None:
    """curl --digest answers a SHA-256 challenge (RFC 7616) and gets in, query and all."""
    port, _ = listenGuarded(reactor, [guard.DigestCredentialFactory(b"SHA-256", b"test realm")])
    out = curl(reactor, run, "--digest", "-u", "bob:pw",
               "http://127.0.0.1:%d/guarded/a/z?x=1&y=2" % port)
    assert out.stdout == b"leaf\n200", out.stderr


async def _logoutsReach(reactor: Any, realm: Realm, count: int) -> None:
    """Logout runs when the request finishes, which may be just after curl has its answer."""
    from torsion.internet import task

    while realm.logouts < count:
        await task.deferLater(reactor, 0.01, lambda: None)
