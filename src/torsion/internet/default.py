"""Installing the process-wide reactor: ``install(engine="auto")`` and ``installReactor``.

``install`` builds a :class:`torsion.internet._reactor.Reactor` on a fresh loop of the
chosen engine ("auto": uvloop where it imports, else the stdlib selector loop) and makes it
the global reactor.  A second installation raises ReactorAlreadyInstalledError: code that
has already imported the reactor would otherwise hold a different one.
"""

from __future__ import annotations

import sys
from typing import Any

from torsion.internet.error import ReactorAlreadyInstalledError

__all__ = ["install", "installReactor", "refuseIfInstalled"]

_NAME = "torsion.internet.reactor"


def refuseIfInstalled() -> None:
    """Raise ReactorAlreadyInstalledError if a global reactor is installed already.

    Installers call it before building their reactor, so a refused installation does
    not leave a loop behind.
    """
    if _NAME in sys.modules:
        raise ReactorAlreadyInstalledError("reactor already installed")


def installReactor(reactor: Any) -> None:
    """Make ``reactor`` the global reactor (``from torsion.internet import reactor``).

    Raises ReactorAlreadyInstalledError if a reactor is installed already.
    """
    refuseIfInstalled()
    import torsion.internet

    setattr(torsion.internet, "reactor", reactor)  # noqa: B010 - a module attribute by name
    sys.modules[_NAME] = reactor


def install(engine: str = "auto") -> Any:
    """Build a reactor on a new loop of ``engine``, install it and return it."""
    from torsion.internet._reactor import Reactor

    refuseIfInstalled()
    reactor = Reactor(engine=engine)
    installReactor(reactor)
    return reactor
