"""Integration tests: Deferreds and coroutines on a real reactor (both engines)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from torsion.internet import defer
from torsion.internet._reactor import Reactor
from torsion.internet.defer import Deferred, ensureDeferred


def test_addTimeoutWithRealReactor(reactor: Reactor, run: Any) -> None:
    """addTimeout accepts a real reactor as its clock and times out on its loop."""
    d: Deferred[int] = Deferred()
    d.addTimeout(0.01, reactor)
    with pytest.raises(defer.TimeoutError):
        run(d)


def test_coroutineAwaitsDeferredFiredByCallLater(reactor: Reactor, run: Any) -> None:
    """A coroutine run on the reactor resumes when callLater fires the awaited Deferred."""
    d: Deferred[str] = Deferred()
    reactor.callLater(0, d.callback, "fired")

    async def main() -> str:
        return await d + "!"

    assert run(main()) == "fired!"


def test_coroutineMixesDeferredsAndAsyncioOnReactorLoop(reactor: Reactor, run: Any) -> None:
    """A coroutine awaits a Deferred, an asyncio sleep and an asyncio task on the reactor."""
    d: Deferred[int] = Deferred()
    reactor.callLater(0, d.callback, 1)

    async def work() -> int:
        await asyncio.sleep(0)
        return 2

    async def main() -> int:
        a = await d
        await asyncio.sleep(0.001)
        b = await asyncio.get_running_loop().create_task(work())
        return a + b

    assert run(ensureDeferred(main())) == 3


def test_asyncioTaskOnReactorLoopAwaitsDeferred(reactor: Reactor, run: Any) -> None:
    """An asyncio task on the reactor's loop awaits a Deferred fired by the reactor."""
    d: Deferred[str] = Deferred()

    async def asyncioSide() -> str:
        reactor.callLater(0, d.callback, "from reactor")
        return await d

    future = asyncio.ensure_future(asyncioSide(), loop=reactor._loop)
    assert run(future) == "from reactor"
