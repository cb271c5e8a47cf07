"""torsion inside an asyncio program: a reactor on an asyncio loop someone else runs.

``install(loop)`` inside ``asyncio.run(main())`` makes a reactor on the running loop the
global one: it counts as running at once (no ``run()`` needed), Deferreds and asyncio
futures share the loop, and ``reactor.stop()`` fires the shutdown triggers without
stopping a loop it does not own.  Outside a running loop, ``install()`` takes the given
loop (or makes a stdlib one and sets it as asyncio's current loop) and ``reactor.run()``
runs it, as with Twisted's asyncioreactor.

``AsyncioSelectorReactor`` is kept as a name for code that builds the reactor itself.
"""

from __future__ import annotations

import asyncio

from torsion.internet._reactor import Reactor
from torsion.internet.default import installReactor, refuseIfInstalled

__all__ = ["AsyncioSelectorReactor", "install"]


class AsyncioSelectorReactor(Reactor):
    """A reactor on an asyncio event loop (Twisted's class name).

    With no loop, the running loop is used if there is one, else a new stdlib selector
    loop that also becomes asyncio's current loop, so asyncio code finds it.
    """

    def __init__(self, eventloop: asyncio.AbstractEventLoop | None = None) -> None:
        if eventloop is None:
            try:
                eventloop = asyncio.get_running_loop()
            except RuntimeError:
                eventloop = asyncio.SelectorEventLoop()
                asyncio.set_event_loop(eventloop)
        super().__init__(loop=eventloop)


def install(
    eventloop: asyncio.AbstractEventLoop | None = None,
    *,
    loop: asyncio.AbstractEventLoop | None = None,
) -> AsyncioSelectorReactor:
    """Install a reactor on ``eventloop`` (or ``loop``; default: see the class) and return it.

    ReactorAlreadyInstalledError if a global reactor exists already.
    """
    if eventloop is not None and loop is not None and eventloop is not loop:
        raise ValueError("give the loop once, as eventloop or as loop")
    refuseIfInstalled()
    reactor = AsyncioSelectorReactor(eventloop if eventloop is not None else loop)
    installReactor(reactor)
    return reactor
