"""Twisted's ``twisted.internet.epollreactor``: ``install()`` installs torsion's default reactor.

Programs written for Twisted call ``epollreactor.install()`` before importing the reactor
to choose the epoll() reactor.  torsion has one reactor design; its default engine is
uvloop (libuv, which itself waits with epoll on Linux and kqueue on macOS), or the stdlib
asyncio loop where uvloop is missing, so ``install()`` installs that, under Twisted's
class name ``EPollReactor``.  As in Twisted, it raises ReactorAlreadyInstalledError once a
reactor is installed (for example after ``from torsion.internet import reactor``).
"""

from __future__ import annotations

from torsion.internet._reactor import Reactor
from torsion.internet.default import installReactor, refuseIfInstalled

__all__ = ["EPollReactor", "install"]


class EPollReactor(Reactor):
    """torsion's default reactor (uvloop engine where available) under Twisted's name."""

    def __init__(self) -> None:
        super().__init__(engine="auto")


def install() -> EPollReactor:
    """Install torsion's default reactor as the global one and return it.

    ReactorAlreadyInstalledError if a reactor is installed already; nothing is built then.
    """
    refuseIfInstalled()
    reactor = EPollReactor()
    installReactor(reactor)
    return reactor
