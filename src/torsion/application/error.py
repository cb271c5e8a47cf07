"""Errors of the application layer (service tree, runner, plugins).

    Exception
     └─ ApplicationError          something about the application stops it from starting
         ├─ PIDFileError          the pid file names a live process, or is unreadable
         ├─ ApplicationLoadError  the .tac file or plugin could not produce an application
         └─ PrivilegeError        --uid/--gid/--chroot could not be applied

Usage mistakes on the command line are torsion.python.usage.UsageError instead.
"""

from __future__ import annotations

__all__ = ["ApplicationError", "ApplicationLoadError", "PIDFileError", "PrivilegeError"]


class ApplicationError(Exception):
    """The application cannot start; the message says why."""


class PIDFileError(ApplicationError):
    """The pid file shows another live server, or cannot be understood."""


class ApplicationLoadError(ApplicationError):
    """The .tac file or plugin failed to produce an application."""


class PrivilegeError(ApplicationError):
    """Switching to the requested user or group, or the chroot, failed."""
