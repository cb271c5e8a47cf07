"""PB's login side: avatars (perspectives) and the Portal-backed challenge-response login.

Part of torsion.spread.pb, which re-exports every public name here (IPerspective, Avatar,
AsReferenceable, IUsernameMD5Password, respond, challenge); import them from there.

Login (Twisted's challenge-response, wire-compatible): the root of a Portal-backed server
is a _PortalWrapper; the client calls login(username), receives (challenge, challenger)
and answers challenger.respond(md5(md5(password) + challenge), mind). The password never
travels; the comparison is constant-time. The avatar comes back as a reference whose
calls reach perspective_* methods, and is logged out when the connection ends or the
client drops its last reference to it.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from hashlib import md5
from typing import TYPE_CHECKING, Any, Protocol

from torsion.cred.credentials import Anonymous, ICredentials, IUsernameHashedPassword
from torsion.cred.portal import Portal
from torsion.internet import defer
from torsion.spread.error import Error, NoSuchMethod, ProtocolError
from torsion.spread.flavors import Referenceable
from torsion.spread.jelly import Jellyable

if TYPE_CHECKING:
    from torsion.spread.pb import Broker


class IPerspective(Protocol):
    """A PB-published view of an avatar: the business logic for one user."""

    def perspectiveMessageReceived(
        self, broker: Broker, message: bytes | str, args: Any, kw: Any
    ) -> Any:
        """Handle a remote call on this perspective and return the jellied result."""
        ...


class Avatar:
    """A default IPerspective: remote calls reach `perspective_<name>` methods."""

    def perspectiveMessageReceived(
        self, broker: Broker, message: bytes | str, args: Any, kw: Any
    ) -> Any:
        """Dispatch to `perspective_<message>(*args, **kw)` and serialise the result."""
        args = broker.unserialize(args, self)
        kw = broker.unserialize(kw, self)
        name = message.decode("utf-8") if isinstance(message, bytes) else message
        method = getattr(self, "perspective_" + name, None)
        if method is None:
            raise NoSuchMethod(f"No such method: perspective_{name}")
        state = method(*args, **_keywordArgs(kw))
        return broker.serialize(state, self, method, args, kw)


def _keywordArgs(kw: Any) -> dict[str, Any]:
    if type(kw) is not dict or any(type(k) is not str for k in kw):
        raise ProtocolError("keyword arguments must be a dictionary with string keys")
    return kw


class AsReferenceable(Referenceable):
    """A reference whose calls go to another object's `<messageType>MessageReceived`."""

    def __init__(self, object: Any, messageType: str = "remote") -> None:
        self.object = object
        self.remoteMessageReceived = getattr(  # type: ignore[method-assign]
            object, messageType + "MessageReceived"
        )


def respond(challenge: bytes, password: bytes) -> bytes:
    """Answer a login challenge: md5(md5(password) + challenge), as Twisted does."""
    hashedPassword = md5(password, usedforsecurity=False).digest()
    return md5(hashedPassword + challenge, usedforsecurity=False).digest()


def challenge() -> bytes:
    """Return 16 random bytes to challenge a login with."""
    return md5(os.urandom(24), usedforsecurity=False).digest()


class _PortalRoot:
    """The root factory of a Portal-backed server: one _PortalWrapper per broker."""

    def __init__(self, portal: Portal) -> None:
        self.portal = portal

    def rootObject(self, broker: Broker) -> _PortalWrapper:
        return _PortalWrapper(self.portal, broker)


class _JellyableAvatarMixin:
    """Publish an avatar and arrange for its logout on disconnect or last decref."""

    broker: Broker

    def _cbLogin(self, result: tuple[Any, Any, Callable[[], object]]) -> Any:
        interface, avatar, logout = result
        if not isinstance(avatar, Jellyable):
            avatar = AsReferenceable(avatar, "perspective")
        puid = avatar.processUniqueID()
        pending = [logout]

        def maybeLogout() -> None:
            if pending:
                pending.pop()()

        self.broker._localCleanup[puid] = maybeLogout
        self.broker.notifyOnDisconnect(maybeLogout)
        return avatar


class _PortalWrapper(Referenceable, _JellyableAvatarMixin):
    """The root object of a Portal-backed server: starts logins."""

    def __init__(self, portal: Portal, broker: Broker) -> None:
        self.portal = portal
        self.broker = broker

    def remote_login(self, username: bytes | str) -> tuple[bytes, _PortalAuthChallenger]:
        """Start a username/password login: return (challenge, challenger)."""
        if isinstance(username, str):
            username = username.encode("utf-8")
        if not isinstance(username, bytes):
            raise Error("username must be bytes")
        c = challenge()
        return c, _PortalAuthChallenger(self.portal, self.broker, username, c)

    def remote_loginAnonymous(self, mind: Any) -> defer.Deferred[Any]:
        """Log in anonymously."""
        d = self.portal.login(Anonymous(), mind, IPerspective)
        return d.addCallback(self._cbLogin)


class IUsernameMD5Password(ICredentials, Protocol):
    """A user name whose password the checker verifies from its plaintext or MD5 digest."""

    username: bytes

    def checkPassword(self, password: bytes) -> Any:
        """Check against the plaintext password."""
        ...

    def checkMD5Password(self, password: bytes) -> Any:
        """Check against the MD5 digest of the password."""
        ...


class _PortalAuthChallenger(Referenceable, _JellyableAvatarMixin,
                            IUsernameHashedPassword, IUsernameMD5Password):
    """The second step of a login: checks the response to the challenge."""

    def __init__(self, portal: Portal, broker: Broker, username: bytes, challenge: bytes):
        self.portal = portal
        self.broker = broker
        self.username = username
        self.challenge = challenge
        self.response = b""

    def remote_respond(self, response: bytes, mind: Any) -> defer.Deferred[Any]:
        """Log in with the response to the challenge."""
        if not isinstance(response, bytes):
            raise Error("response must be bytes")
        self.response = response
        d = self.portal.login(self, mind, IPerspective)
        return d.addCallback(self._cbLogin)

    def checkPassword(self, password: bytes) -> bool:
        """Check the response against the plaintext stored password."""
        return self.checkMD5Password(md5(password, usedforsecurity=False).digest())

    def checkMD5Password(self, md5Password: bytes) -> bool:
        """Check the response against the MD5 digest of the stored password."""
        correct = md5(md5Password + self.challenge, usedforsecurity=False).digest()
        return hmac.compare_digest(self.response, correct)
