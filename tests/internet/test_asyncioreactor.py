"""torsion inside asyncio programs: a reactor on a loop that asyncio runs."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import pytest

from torsion.internet._base import newLoop
from torsion.internet.asyncioreactor import AsyncioSelectorReactor
from torsion.internet.defer import Deferred

ENGINES = ["uvloop", "asyncio"]


def _inLoop(engine: str, main: object) -> None:
    _, loop = newLoop(engine)
    try:
        loop.run_until_complete(main)  # type: ignore[arg-type]
    finally:
        loop.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_reactorOnRunningLoopIsRunning(engine: str) -> None:
    """A reactor made on a running loop is running at once and fires callWhenRunning."""
    seen: list[object] = []

    async def main() -> None:
        reactor = AsyncioSelectorReactor()
        seen.append(reactor.running)
        reactor.callWhenRunning(seen.append, "called")
        seen.append(reactor.engine)
        reactor.stop()

    _inLoop(engine, main())
    assert seen == [True, "called", engine]


@pytest.mark.parametrize("engine", ENGINES)
def test_deferredsAndAsyncioShareTheLoop(engine: str) -> None:
    """A coroutine awaits a Deferred fired by callLater next to asyncio.sleep."""
    results: list[object] = []

    async def main() -> None:
        reactor = AsyncioSelectorReactor(asyncio.get_running_loop())
        d: Deferred[str] = Deferred()
        reactor.callLater(0.01, d.callback, "fired by the reactor")
        await asyncio.sleep(0)
        results.append(await d.asFuture(asyncio.get_running_loop()))
        reactor.stop()

    _inLoop(engine, main())
    assert results == ["fired by the reactor"]


@pytest.mark.parametrize("engine", ENGINES)
def test_stopFiresShutdownButLeavesTheLoop(engine: str) -> None:
    """stop() on an adopted loop fires shutdown triggers; the asyncio program goes on."""
    order: list[str] = []

    async def main() -> None:
        reactor = AsyncioSelectorReactor()
        done: Deferred[None] = Deferred()
        reactor.addSystemEventTrigger("before", "shutdown", order.append, "before")
        reactor.addSystemEventTrigger("after", "shutdown", done.callback, None)
        reactor.stop()
        await done.asFuture(asyncio.get_running_loop())
        await asyncio.sleep(0)
        order.append(f"loop running: {asyncio.get_running_loop().is_running()}")
        order.append(f"reactor running: {reactor.running}")

    _inLoop(engine, main())
    assert order == ["before", "loop running: True", "reactor running: False"]


def test_installInsideAsyncioRun() -> None:
    """install(asyncio.get_running_loop()) makes the global reactor live on asyncio's loop."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent("""
            import asyncio

            async def main():
                from torsion.internet import asyncioreactor
                asyncioreactor.install(asyncio.get_running_loop())
                from torsion.internet import reactor
                from torsion.internet.task import deferLater
                assert reactor.running
                value = await deferLater(reactor, 0.01, lambda: "later")
                reactor.stop()
                return value, reactor._loop is asyncio.get_running_loop()

            print(asyncio.run(main()))
        """)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "('later', True)"


def test_installWithoutLoopThenRun() -> None:
    """install() outside asyncio makes an asyncio loop that reactor.run() runs."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent("""
            import asyncio
            from torsion.internet import asyncioreactor
            asyncioreactor.install()
            from torsion.internet import reactor
            reactor.callWhenRunning(lambda: print("engine", reactor.engine))
            reactor.callLater(0, reactor.stop)
            reactor.run()
        """)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "engine asyncio"
