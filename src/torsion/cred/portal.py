"""The Portal: the single gate where credentials become an avatar.

`Portal.login(credentials, mind, *interfaces)` finds the checker for the kind of
credentials (by `credentialInterfaces`), asks it for an avatar id, then asks the realm
for an avatar providing one of `interfaces`; the Deferred fires with
(interface, avatar, logout).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from torsion.cred import error
from torsion.cred.checkers import ICredentialsChecker
from torsion.cred.credentials import providedBy
from torsion.internet import defer
from torsion.python.failure import Failure

__all__ = ["IRealm", "Portal"]


class IRealm(Protocol):
    """The realm connects the application's domain objects to the cred system."""

    def requestAvatar(self, avatarId: Any, mind: Any, *interfaces: type) -> Any:
        """Return (interface, avatar, logout), or a Deferred of it.

        `interface` is one of `interfaces`, `avatar` provides it and `logout` is a
        no-argument callable run when the session ends. Raise NotImplementedError if
        none of the interfaces is supported.
        """
        ...


class Portal:
    """A mediator between clients and a realm, through credentials checkers."""

    def __init__(self, realm: IRealm, checkers: Iterable[ICredentialsChecker] = ()) -> None:
        self.realm = realm
        self.checkers: dict[type, ICredentialsChecker] = {}
        for checker in checkers:
            self.registerChecker(checker)

    def listCredentialsInterfaces(self) -> list[type]:
        """Return the credential interfaces some checker handles."""
        return list(self.checkers)

    def registerChecker(self, checker: ICredentialsChecker, *credentialInterfaces: type) -> None:
        """Use `checker` for `credentialInterfaces` (default: its own list)."""
        if not credentialInterfaces:
            credentialInterfaces = checker.credentialInterfaces
        for interface in credentialInterfaces:
            self.checkers[interface] = checker

    def login(self, credentials: Any, mind: Any, *interfaces: type) -> defer.Deferred[Any]:
        """Authenticate `credentials` and return a Deferred of (interface, avatar, logout).

        Fails with UnhandledCredentials if no checker handles them, UnauthorizedLogin
        if they are wrong, or whatever the realm raises.
        """
        for interface, checker in self.checkers.items():
            if providedBy(credentials, interface):
                d = defer.maybeDeferred(checker.requestAvatarId, credentials)
                return d.addCallback(self._requestAvatar, mind, interfaces)
        kinds = ", ".join(i.__name__ for i in type(credentials).__mro__[:-1])
        return defer.fail(Failure(error.UnhandledCredentials(f"No checker for {kinds}")))

    def _requestAvatar(self, avatarId: Any, mind: Any, interfaces: tuple[type, ...]) -> Any:
        return self.realm.requestAvatar(avatarId, mind, *interfaces)
