"""Errors of torsion.cred.

    Exception
     ├─ Unauthorized               the caller may not do this
     │   └─ UnauthorizedLogin      wrong credentials (also a LoginFailed)
     └─ LoginFailed                the login did not produce an avatar
         ├─ UnauthorizedLogin      the credentials were checked and refused
         ├─ UnhandledCredentials   no checker accepts this kind of credentials
         └─ LoginDenied            the realm refused an otherwise valid identity
"""

from __future__ import annotations


class Unauthorized(Exception):
    """Someone is not authorised to do something."""


class LoginFailed(Exception):
    """The user's request to log in failed for some reason."""


class UnauthorizedLogin(LoginFailed, Unauthorized):
    """The user was not authorised to log in (wrong name or password)."""


class UnhandledCredentials(LoginFailed):
    """No checker could handle the credentials supplied."""


class LoginDenied(LoginFailed):
    """The realm refused to give an avatar to an authenticated identity."""
