"""Running a reactor until a test's Deferred or coroutine is done, and cleaning up after.

Theory of operation: `runUntilDone` starts the work *inside* the running reactor (a
coroutine is wrapped with `Deferred.fromCoroutine` from a callWhenRunning hook, so it may
await asyncio futures of the reactor's loop), and the Deferred's first outcome crashes the
reactor, which makes `run()` return without firing "shutdown" — ports and connections the
test opened stay open, so the caller can close them and say what they were (`cleanDirt`,
through the reactor's public `closeAll()`). A timer on the loop crashes the reactor after
`timeout` seconds and cancels the Deferred. The reactor is restartable, so a test can spin it
several times.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from torsion.internet._delayedcall import DelayedCall
from torsion.internet.defer import Deferred, ensureDeferred
from torsion.python.failure import Failure

__all__ = ["TestTimeoutError", "asDeferred", "cleanDirt", "closeReactor", "runUntilDone"]


class TestTimeoutError(Exception):
    """A test's Deferred or coroutine did not finish within its timeout."""

    __test__ = False  # not a test class, whatever pytest thinks of the name


def asDeferred(result: Any) -> Deferred[Any] | None:
    """`result` as a Deferred if it is a Deferred, coroutine or future; else None."""
    if isinstance(result, Deferred):
        return result
    if inspect.iscoroutine(result) or asyncio.isfuture(result):
        return ensureDeferred(result)
    return None


def runUntilDone(reactor: Any, start: Callable[[], Any], timeout: float,
                 what: str = "test") -> Any:
    """Call `start()` inside `reactor` and run it until its result is ready; return it.

    `start` may return a plain value, a Deferred, a coroutine or a future. A failure is
    raised as its exception; no result within `timeout` seconds raises TestTimeoutError
    (after cancelling the Deferred).
    """
    outcome: list[tuple[bool, Any]] = []
    started: list[Deferred[Any]] = []

    def finish(ok: bool, value: Any) -> None:
        if not outcome:
            outcome.append((ok, value))
            if reactor.running:
                reactor.crash()

    def begin() -> None:
        try:
            result = start()
            d = asDeferred(result)
        except BaseException as e:
            finish(False, Failure(e))
            return
        if d is None:
            finish(True, result)
            return
        started.append(d)
        d.addCallbacks(lambda value: finish(True, value), lambda f: finish(False, f))

    timedOut: list[bool] = []

    def onTimeout() -> None:
        timedOut.append(True)
        if reactor.running:
            reactor.crash()

    timer = reactor._loop.call_later(timeout, onTimeout)
    reactor.callWhenRunning(begin)
    try:
        reactor.run(installSignalHandlers=False)
    finally:
        timer.cancel()
    if not outcome:
        if started:
            started[0].addErrback(lambda f: None)
            started[0].cancel()
        if timedOut:
            raise TestTimeoutError(f"{what} timed out after {timeout} seconds")
        raise RuntimeError(f"the reactor stopped before the {what} finished")
    ok, value = outcome[0]
    if ok:
        return value
    failure: Failure = value
    raise failure.value.with_traceback(failure.getTracebackObject())


def cleanDirt(reactor: Any) -> list[str]:
    """Close what the test left on `reactor` and describe it (empty if it left nothing).

    Active delayed calls are reported and cancelled; listening ports, connections and
    watched descriptors are reported and closed; the thread pool and asyncio tasks left on
    the loop are stopped without being reported (Twisted's trial does the same).
    """
    left = reactor.closeAll()
    calls = [thing for thing in left if isinstance(thing, DelayedCall)]
    selectables = [thing for thing in left if not isinstance(thing, DelayedCall)]
    dirt: list[str] = []
    if calls:
        dirt.append("DelayedCalls: (cancel them, or wait for them, before the test ends)")
        dirt.extend(f"  {c!r}" for c in calls)
    if selectables:
        dirt.append("Selectables: (stopListening / loseConnection, and wait for them)")
        dirt.extend(f"  {s!r}" for s in selectables)
    return dirt


def closeReactor(reactor: Any) -> None:
    """Clean `reactor` up and close its loop (for private per-test reactors)."""
    reactor.closeAll(closeLoop=True)
