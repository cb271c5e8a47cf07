"""Fixtures shared by the whole suite: a private real reactor per test, on each engine.

- ``engine``: "uvloop" or "asyncio"; tests using ``reactor`` run once per engine.
- ``reactor``: a fresh ``torsion.internet._reactor.Reactor`` on a loop of its own; at teardown
  whatever the test left is closed (listening ports, connections, delayed calls, the thread
  pool, asyncio tasks) and the loop is closed, by ``Reactor.closeAll(closeLoop=True)``.
  The global reactor is never installed by these fixtures.
- ``run``: ``run(deferredOrCoroutineOrFuture, timeout=30)`` runs that reactor until the result
  is ready and returns it (or raises its exception); a result not ready within ``timeout``
  seconds fails the test (generous: a loaded two-core machine can take seconds to start a
  child process; a ready result returns at once).
- ``classic``: the list of classic (``torsion.python.log``) events published on the global
  publisher during the test.

Hypothesis runs under the "torsion" profile loaded here: no per-example deadline.
tests/support (helpers shared across test directories, e.g. twistedpeer for Twisted wire
peers) is put on sys.path here: --import-mode=importlib does not put test directories there.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from torsion.internet._reactor import Reactor

_support = str(Path(__file__).parent / "support")
if _support not in sys.path:
    sys.path.append(_support)

ENGINES = ["uvloop", "asyncio"]

# Property tests check what happens, not how fast: on a shared, loaded CI machine a single
# example can take longer than Hypothesis's default 200 ms deadline without anything being
# wrong, so the suite runs with no per-example deadline.
settings.register_profile(
    "torsion", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("torsion")

RunFixture = Callable[..., Any]


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The name of the loop engine under test."""
    return str(request.param)


@pytest.fixture
def reactor(engine: str) -> Iterator[Reactor]:
    """A private reactor on a fresh loop of ``engine``, cleaned up and closed afterwards."""
    r = Reactor(engine=engine)
    try:
        yield r
    finally:
        closeReactor(r)


def closeReactor(r: Reactor) -> None:
    """Close everything a test left on reactor ``r`` and then its loop."""
    r.closeAll(closeLoop=True)


@pytest.fixture
def run(reactor: Reactor) -> RunFixture:
    """Return ``run(awaitable, timeout=30)``: spin ``reactor`` until ``awaitable`` is done."""

    def run(awaitable: Any, timeout: float = 30.0) -> Any:
        if inspect.iscoroutine(awaitable):
            from torsion.internet.defer import Deferred

            awaitable = Deferred.fromCoroutine(awaitable)
        outcome: list[tuple[bool, Any]] = []

        def done(ok: bool, value: Any) -> None:
            if not outcome:
                outcome.append((ok, value))
                if reactor._started:
                    reactor.crash()

        if asyncio.isfuture(awaitable):
            future = awaitable

            def futureDone(f: asyncio.Future[Any]) -> None:
                if f.cancelled():
                    done(False, asyncio.CancelledError())
                elif f.exception() is not None:
                    done(False, f.exception())
                else:
                    done(True, f.result())

            future.add_done_callback(futureDone)
        elif hasattr(awaitable, "addCallbacks"):

            def onResult(value: Any) -> None:
                done(True, value)

            def onFailure(failure: Any) -> None:
                done(False, failure)

            awaitable.addCallbacks(onResult, onFailure)
        else:
            raise TypeError(f"run() wants a Deferred, coroutine or future, not {awaitable!r}")

        if not outcome:
            timedOut: list[bool] = []

            def onTimeout() -> None:
                timedOut.append(True)
                if reactor._started:
                    reactor.crash()

            timer = reactor._loop.call_later(timeout, onTimeout)
            try:
                reactor.run(installSignalHandlers=False)
            finally:
                timer.cancel()
            if not outcome:
                if timedOut:
                    if hasattr(awaitable, "cancel"):
                        awaitable.cancel()
                    pytest.fail(f"result not ready within {timeout} seconds: {awaitable!r}")
                pytest.fail(f"the reactor stopped before the result was ready: {awaitable!r}")
        ok, value = outcome[0]
        if ok:
            return value
        raiseException = getattr(value, "raiseException", None)
        if raiseException is not None:
            raiseException()
        raise value

    return run


@pytest.fixture
def classic() -> Iterator[list[dict[str, Any]]]:
    """Classic events published on the global publisher during the test."""
    from torsion.python import log

    events: list[dict[str, Any]] = []
    log.addObserver(events.append)
    yield events
    log.removeObserver(events.append)
