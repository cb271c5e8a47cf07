"""HTTP authentication in front of a resource tree, through cred (Twisted's web.guard).

Theory of operation: `HTTPAuthSessionWrapper(portal, credentialFactories)` sits in the
resource tree. When traversal reaches it, it puts the path segment it was reached with
back on ``postpath`` (it is transparent: the avatar sees the same path the wrapper
did) and answers with a leaf that, when rendered:

1. reads ``Authorization``: none at all logs in with Anonymous credentials; otherwise
   the factories whose ``scheme`` matches decode the rest into credentials (Basic:
   UsernamePassword; Digest: DigestedCredentials), the first to succeed wins;
2. ``portal.login(credentials, None, IResource)``; the avatar, an IResource, is
   traversed with the rest of ``postpath`` and renders the request, and the realm's
   ``logout`` runs once when the request finishes (or the client leaves);
3. a header no factory understands, a malformed one, or a login refused
   (Unauthorized/LoginFailed, including "no checker for Anonymous") renders 401 with one
   ``WWW-Authenticate`` challenge per factory. Only an unexpected exception from a
   factory or the portal renders 500, logged; a malformed header never does.

Challenge parameters are sent as quoted strings (RFC 9110 §11.2), except ``algorithm``
and ``stale``, which RFC 7616 defines as tokens.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from typing import Any

from torsion.cred import error
from torsion.cred.credentials import Anonymous, UsernamePassword
from torsion.internet import defer
from torsion.logger import Logger
from torsion.python.failure import Failure
from torsion.web import resource
from torsion.web._auth_digest import DigestCredentialFactory, DigestedCredentials
from torsion.web.iweb import ICredentialFactory

__all__ = [
    "BasicCredentialFactory",
    "DigestCredentialFactory",
    "DigestedCredentials",
    "HTTPAuthSessionWrapper",
    "UnauthorizedResource",
]

_log = Logger()

_TOKEN_PARAMS = frozenset({b"algorithm", b"stale"})


class BasicCredentialFactory:
    """Basic authentication (RFC 7617): ``base64(user ":" password)`` → UsernamePassword."""

    scheme = b"basic"

    def __init__(self, authenticationRealm: bytes | str) -> None:
        self.authenticationRealm = authenticationRealm

    def getChallenge(self, request: Any) -> dict[str, Any]:
        """Return the challenge parameters: just the realm."""
        return {"realm": self.authenticationRealm}

    def decode(self, response: bytes, request: Any) -> UsernamePassword:
        """Decode the token68; LoginFailed unless it is base64 of ``user:password``."""
        token = response.strip()
        try:
            decoded = base64.b64decode(token + b"=" * (-len(token) % 4), validate=True)
        except (binascii.Error, ValueError):
            raise error.LoginFailed("Invalid credentials") from None
        username, sep, password = decoded.partition(b":")
        if not sep:
            raise error.LoginFailed("Invalid credentials")
        return UsernamePassword(username, password)


def _asBytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8")


def _quote(value: bytes) -> bytes:
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def _formatChallenge(scheme: bytes, challenge: dict[Any, Any]) -> bytes:
    """Build one WWW-Authenticate value: ``scheme name="value", ...``."""
    params = []
    for key, value in challenge.items():
        name = _asBytes(key)
        raw = _asBytes(value)
        params.append(name + b"=" + (raw if name.lower() in _TOKEN_PARAMS else _quote(raw)))
    return scheme + b" " + b", ".join(params) if params else scheme


class UnauthorizedResource(resource.Resource):
    """401 with a challenge from each factory; every child is itself.

    `staleFactory`, if given, is the factory whose nonce was stale: its challenge says
    ``stale=true`` so the client retries without asking the user again.
    """

    isLeaf = True

    def __init__(
        self, factories: Sequence[ICredentialFactory], staleFactory: Any = None
    ) -> None:
        super().__init__()
        self._credentialFactories = factories
        self._staleFactory = staleFactory

    def render(self, request: Any) -> bytes:
        request.setResponseCode(401)
        for factory in self._credentialFactories:
            challenge = dict(factory.getChallenge(request))
            if factory is self._staleFactory:
                challenge["stale"] = b"true"
            request.responseHeaders.addRawHeader(
                b"www-authenticate", _formatChallenge(factory.scheme, challenge)
            )
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        if request.method == b"HEAD":
            return b""
        return b"Unauthorized"

    def getChildWithDefault(self, path: bytes, request: Any) -> Any:
        return self


def _internalError() -> resource.ErrorPage:
    return resource.ErrorPage(500, "Internal Error", "")


class _Avatar:
    """A successful login: the avatar resource and the realm's logout."""

    def __init__(self, avatar: Any, logout: Any) -> None:
        self.avatar = avatar
        self._logout = logout

    def logout(self, result: object = None) -> None:
        logout, self._logout = self._logout, None
        if logout is None:
            return
        try:
            logout()
        except Exception:
            _log.failure("Error in the logout of {avatar}", avatar=self.avatar)


class _LoginResource(resource.Resource):
    """The leaf traversal stops at: renders the avatar (or a 401/500) once login ends."""

    isLeaf = True

    def __init__(self, login: defer.Deferred[Any]) -> None:
        super().__init__()
        self._login = login

    def getChildWithDefault(self, path: bytes, request: Any) -> Any:
        return self

    def render(self, request: Any) -> int:
        from torsion.web import server

        finished: defer.Deferred[None] = request.notifyFinish()
        finished.addErrback(lambda reason: None)  # the client left: nothing to report
        self._login.addCallback(self._loggedIn, request, finished)
        self._login.addErrback(self._failed, request)
        return server.NOT_DONE_YET

    def _loggedIn(self, result: Any, request: Any, finished: defer.Deferred[None]) -> None:
        if isinstance(result, _Avatar):
            if finished.called:
                result.logout()  # the client left while the login was under way
                return
            finished.addBoth(result.logout)
            target = resource.getChildForRequest(result.avatar, request)
        else:
            if finished.called:
                return
            target = result
        # server.Request renders through _renderResource so that an avatar wrapped in
        # an EncodingResourceWrapper still gets its encoder.
        render = getattr(request, "_renderResource", None) or request.render
        render(target)

    def _failed(self, reason: Failure, request: Any) -> None:
        request.processingFailed(reason)


class HTTPAuthSessionWrapper:
    """Guard a portal's IResource avatars with HTTP authentication (see the module docstring).

    `credentialFactories` decode ``Authorization`` headers and make the challenges, in
    order: list the one clients should prefer first.
    """

    isLeaf = False

    def __init__(self, portal: Any, credentialFactories: Iterable[ICredentialFactory]) -> None:
        self._portal = portal
        self._credentialFactories = list(credentialFactories)

    def _authorizedResource(self, request: Any) -> Any:
        """Return the resource this request gets: the avatar's login, or a 401/500 page."""
        header = request.getHeader(b"authorization")
        if not header:
            return _LoginResource(self._doLogin(Anonymous(), None))
        parts = header.split(None, 1)
        scheme = parts[0].lower() if parts else b""
        rest = parts[1] if len(parts) > 1 else b""
        for factory in self._credentialFactories:
            if factory.scheme.lower() != scheme:
                continue
            try:
                credentials = factory.decode(rest, request)
            except error.LoginFailed:
                continue
            except Exception:
                _log.failure("Unexpected failure from credentials factory {factory}",
                             factory=factory)
                return _internalError()
            return _LoginResource(self._doLogin(credentials, factory))
        return UnauthorizedResource(self._credentialFactories)

    def _doLogin(self, credentials: Any, factory: Any) -> defer.Deferred[Any]:
        """Log in; the Deferred fires with an _Avatar or a resource to render instead."""
        d = defer.maybeDeferred(self._portal.login, credentials, None, resource.IResource)
        return d.addCallbacks(self._loginSucceeded, self._loginFailed,
                              errbackArgs=(credentials, factory))

    def _loginSucceeded(self, args: tuple[Any, Any, Any]) -> _Avatar:
        _interface, avatar, logout = args
        return _Avatar(avatar, logout)

    def _loginFailed(self, reason: Failure, credentials: Any, factory: Any) -> Any:
        if reason.check(error.Unauthorized, error.LoginFailed):
            stale = factory if getattr(credentials, "stale", False) else None
            return UnauthorizedResource(self._credentialFactories, stale)
        _log.failure("HTTPAuthSessionWrapper: unexpected error during login", failure=reason)
        return _internalError()

    def render(self, request: Any) -> Any:
        """Render the avatar for the request's credentials, or a 401/500 page."""
        return self._authorizedResource(request).render(request)

    def getChildWithDefault(self, path: bytes, request: Any) -> Any:
        """Stay transparent: give the segment back, then authenticate."""
        request.postpath.insert(0, request.prepath.pop())
        return self._authorizedResource(request)

    def putChild(self, path: bytes, child: Any) -> None:
        """Children belong to the avatars, not to the guard."""
        raise NotImplementedError("put children on the avatar, not on HTTPAuthSessionWrapper")
