"""The shared test fixtures of tests/conftest.py: engine, reactor and run."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest

from torsion.internet._reactor import Reactor
from torsion.internet.defer import Deferred, fail, succeed
from torsion.internet.protocol import Factory, Protocol


def test_runReturnsDeferredResult(reactor: Reactor, run: Any) -> None:
    """run() spins the reactor until the Deferred fires and returns its result."""
    d: Deferred[str] = Deferred()
    reactor.callLater(0.01, d.callback, "result")
    assert run(d) == "result"


def test_runReturnsAlreadyFiredResult(run: Any) -> None:
    """run() of a Deferred that already has its result returns it without spinning."""
    assert run(succeed(5)) == 5


def test_runRaisesTheFailure(run: Any) -> None:
    """run() raises the exception a failed Deferred carries."""
    with pytest.raises(ZeroDivisionError):
        run(fail(ZeroDivisionError("failed")))


def test_runDrivesCoroutines(reactor: Reactor, run: Any) -> None:
    """run() accepts a coroutine, which may await Deferreds and asyncio sleeps."""

    async def work() -> int:
        d: Deferred[int] = Deferred()
        reactor.callLater(0, d.callback, 20)
        value = await d
        await asyncio.sleep(0)
        return value + 1

    assert run(work()) == 21


def test_runAcceptsFutures(reactor: Reactor, run: Any) -> None:
    """run() accepts an asyncio future of the reactor's loop."""
    future: asyncio.Future[str] = reactor._loop.create_future()
    reactor.callLater(0, future.set_result, "done")
    assert run(future) == "done"


def test_runTimesOut(reactor: Reactor, run: Any) -> None:
    """A result not ready within the timeout fails the test (and cancels the Deferred)."""
    cancelled: list[bool] = []
    d: Deferred[None] = Deferred(lambda _d: cancelled.append(True))
    with pytest.raises(pytest.fail.Exception, match="not ready within 0.05 seconds"):
        run(d, timeout=0.05)
    assert cancelled == [True]


def test_runTwiceOnOneReactor(reactor: Reactor, run: Any) -> None:
    """run() can be called several times in one test."""
    assert run(succeed(1)) == 1
    d: Deferred[int] = Deferred()
    reactor.callLater(0, d.callback, 2)
    assert run(d) == 2


def test_reactorMatchesEngine(reactor: Reactor, engine: str) -> None:
    """The reactor fixture is built on the engine the engine fixture names."""
    assert reactor.engine == engine


def test_teardownClosesLeftovers(engine: str) -> None:
    """Closing a fixture reactor stops leftover ports, cancels calls and closes the loop."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "torsion_tests_conftest", Path(__file__).resolve().parents[1] / "conftest.py")
    assert spec is not None and spec.loader is not None
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)

    r = Reactor(engine=engine)
    port = r.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
    number = port.getHost().port
    call = r.callLater(100, lambda: None)
    conftest.closeReactor(r)
    assert r._loop.is_closed()
    assert call.cancelled
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", number), timeout=5).close()


def test_teardownCancelsPendingTasks(engine: str) -> None:
    """Closing a fixture reactor cancels asyncio tasks left pending on its loop."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "torsion_tests_conftest2", Path(__file__).resolve().parents[1] / "conftest.py")
    assert spec is not None and spec.loader is not None
    conftest = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conftest)

    r = Reactor(engine=engine)
    task = r._loop.create_task(asyncio.sleep(3600))
    conftest.closeReactor(r)
    assert task.cancelled()
