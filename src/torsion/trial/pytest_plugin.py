"""torsion's pytest plugin: tests that return a Deferred or are coroutines, on a real reactor.

Registered through the ``pytest11`` entry point, so it is active wherever torsion is
installed. Theory of operation: `pytest_pyfunc_call` calls every plain test function itself;
a coroutine function is started inside a running reactor, and a function that returns an
unfired Deferred (or a coroutine / future) has it awaited on a reactor, with a per-test
timeout. The reactor is the test's ``reactor`` fixture value when it asked for one (this
plugin's fixture gives a fresh private Reactor; a project conftest may override it with its
own — any torsion Reactor works); else the global reactor if the process has installed it
(code under test that uses ``from torsion.internet import reactor`` needs that one to run);
else a fresh private Reactor made for that test and closed after it. (A test that installs
the global reactor only while it runs should ask for it explicitly: its first use would
otherwise happen while a private reactor is spinning.) A test that returns an already-fired
Deferred (Clock-based tests) needs no reactor at all: its result is taken at once.

Timeout: ``@pytest.mark.torsion_timeout(seconds)``, else pytest-timeout's
``@pytest.mark.timeout(seconds)`` if present, else the ``torsion_timeout`` ini option
(default 120 s).

Fixtures: ``reactor`` (fresh private Reactor, cleaned up and closed after the test) and
``clock`` (a torsion.internet.task.Clock).

This module imports nothing from torsion at import time: a plugin that fails to import
would break pytest for every project that has torsion installed.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["clock", "reactor"]

DEFAULT_TIMEOUT = 120.0

#: Markers by which a test says another plugin runs it.
_OTHER_ASYNC_MARKERS = ("asyncio", "anyio", "trio")


def pytest_addoption(parser: pytest.Parser) -> None:
    """Declare the torsion_timeout ini option."""
    parser.addini("torsion_timeout",
                  "seconds a Deferred-returning or async test may run (default 120)",
                  default=str(DEFAULT_TIMEOUT))


def pytest_configure(config: pytest.Config) -> None:
    """Register the torsion_timeout marker."""
    config.addinivalue_line(
        "markers", "torsion_timeout(seconds): time limit for an async or Deferred test")


def _timeoutFor(item: pytest.Function) -> float:
    for name in ("torsion_timeout", "timeout"):
        marker = item.get_closest_marker(name)
        if marker is not None and marker.args:
            return float(marker.args[0])
    return float(item.config.getini("torsion_timeout") or DEFAULT_TIMEOUT)


def _isTorsionReactor(value: Any) -> bool:
    from torsion.internet._reactor import Reactor

    return isinstance(value, Reactor)


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """Run the test, waiting on a reactor for a coroutine or an unfired Deferred."""
    function = pyfuncitem.obj
    if inspect.isasyncgenfunction(function):
        return None  # not ours: let pytest report what it does with these
    if any(pyfuncitem.get_closest_marker(name) for name in _OTHER_ASYNC_MARKERS):
        return None  # the test asked another async plugin (pytest-asyncio, anyio) to run it
    names = pyfuncitem._fixtureinfo.argnames
    kwargs = {name: pyfuncitem.funcargs[name] for name in names}
    if inspect.iscoroutinefunction(function):
        _runOnReactor(pyfuncitem, lambda: function(**kwargs))
        return True
    result = function(**kwargs)
    if result is None:
        return True
    from torsion.internet.defer import Deferred
    from torsion.trial._spin import asDeferred

    if isinstance(result, Deferred) and result.called:
        _takeFiredResult(result)
        return True
    if asDeferred(result) is None:
        return True  # some other value: pytest ignores return values of tests too
    _runOnReactor(pyfuncitem, lambda: result)
    return True


def _takeFiredResult(d: Any) -> None:
    from torsion.python.failure import Failure

    results: list[Any] = []
    d.addBoth(results.append)
    if isinstance(results[0], Failure):
        failure = results[0]
        raise failure.value.with_traceback(failure.getTracebackObject())


def _runOnReactor(item: pytest.Function, start: Any) -> None:
    from torsion.trial._spin import closeReactor, runUntilDone

    given = item.funcargs.get("reactor")
    if given is None or not _isTorsionReactor(given):
        given = sys.modules.get("torsion.internet.reactor")
    if given is not None:
        runUntilDone(given, start, _timeoutFor(item))
        return
    from torsion.internet._reactor import Reactor

    private = Reactor()
    try:
        runUntilDone(private, start, _timeoutFor(item))
    finally:
        closeReactor(private)


@pytest.fixture
def reactor() -> Iterator[Any]:
    """A fresh private torsion Reactor (uvloop where available), closed after the test."""
    from torsion.internet._reactor import Reactor
    from torsion.trial._spin import closeReactor

    r = Reactor()
    try:
        yield r
    finally:
        closeReactor(r)


@pytest.fixture
def clock() -> Any:
    """A torsion.internet.task.Clock: deterministic time for callLater-based code."""
    from torsion.internet.task import Clock

    return Clock()
