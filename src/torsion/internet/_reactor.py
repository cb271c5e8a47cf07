"""The Reactor class: ReactorBase plus the transport mixins, on one asyncio loop.

Every reactor instance is private (tests make their own); the process-wide one is
installed by ``torsion.internet.default.install()`` or ``asyncioreactor.install(loop)`` and
imported as ``from torsion.internet import reactor``.
"""

from __future__ import annotations

import asyncio

from torsion.internet._base import ReactorBase
from torsion.internet._ssl import SSLMixin
from torsion.internet._tcp import TCPMixin
from torsion.internet._udp import UDPMixin
from torsion.internet._unix import UNIXMixin

__all__ = ["Reactor"]


class Reactor(ReactorBase, TCPMixin, UNIXMixin, UDPMixin, SSLMixin):
    """torsion's reactor: Twisted's reactor interfaces on a uvloop or asyncio loop.

    ``Reactor(engine="auto" | "uvloop" | "asyncio", loop=None)``.  Given a loop that is
    already running (inside ``asyncio.run``), the reactor is started at once and never
    stops that loop; otherwise ``run()`` runs it.
    """

    def __init__(self, engine: str = "auto", loop: asyncio.AbstractEventLoop | None = None) -> None:
        ReactorBase.__init__(self, engine, loop)
        if loop is not None and loop.is_running():
            self.startRunning(installSignalHandlers=False)
