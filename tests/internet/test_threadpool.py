"""torsion.python.threadpool.ThreadPool: Twisted's pool of worker threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

from torsion.logger import capturedLogs
from torsion.python.failure import Failure
from torsion.python.threadpool import ThreadPool

WAIT = 10


@pytest.fixture
def pool() -> Iterator[ThreadPool]:
    p = ThreadPool(0, 4, "test")
    try:
        yield p
    finally:
        p.stop()


def test_workRunsInAnotherThread(pool: ThreadPool) -> None:
    """callInThread runs the callable in a worker thread, not the caller's."""
    seen: list[threading.Thread] = []
    done = threading.Event()
    pool.start()
    pool.callInThread(lambda: (seen.append(threading.current_thread()), done.set()))
    assert done.wait(WAIT)
    assert seen[0] is not threading.current_thread()
    assert seen[0].name.startswith("PoolThread-test-")


def test_workQueuedBeforeStartRunsOnStart(pool: ThreadPool) -> None:
    """Work queued before start() waits and runs once the pool starts."""
    done = threading.Event()
    pool.callInThread(done.set)
    assert pool.workers == 0
    pool.start()
    assert done.wait(WAIT)


def test_callbackGetsResult(pool: ThreadPool) -> None:
    """callInThreadWithCallback passes (True, result) to the callback."""
    results: list[tuple[bool, Any]] = []
    done = threading.Event()
    pool.start()
    pool.callInThreadWithCallback(
        lambda ok, r: (results.append((ok, r)), done.set()), lambda x: x * 2, 21
    )
    assert done.wait(WAIT)
    assert results == [(True, 42)]


def test_callbackGetsFailure(pool: ThreadPool) -> None:
    """callInThreadWithCallback passes (False, Failure) when the callable raises."""
    results: list[tuple[bool, Any]] = []
    done = threading.Event()

    def broken() -> None:
        raise KeyError("nope")

    pool.start()
    pool.callInThreadWithCallback(lambda ok, r: (results.append((ok, r)), done.set()), broken)
    assert done.wait(WAIT)
    ok, failure = results[0]
    assert not ok and isinstance(failure, Failure) and failure.check(KeyError)


def test_exceptionIsLoggedAndWorkerSurvives(pool: ThreadPool) -> None:
    """An exception in pool work is logged and the pool keeps running later work."""
    done = threading.Event()

    def broken() -> None:
        raise RuntimeError("work broke")

    pool.adjustPoolsize(1, 1)
    pool.start()
    with capturedLogs() as events:
        pool.callInThread(broken)
        pool.callInThread(done.set)
        assert done.wait(WAIT)
    assert any("work broke" in str(e.get("log_failure")) for e in events)
    assert pool.workers == 1


def test_neverMoreThanMaxThreads(pool: ThreadPool) -> None:
    """Blocked work never makes the pool grow past maxthreads."""
    release = threading.Event()
    started = threading.Semaphore(0)

    def block() -> None:
        started.release()
        release.wait(WAIT)

    pool.start()
    for _ in range(10):
        pool.callInThread(block)
    for _ in range(4):
        assert started.acquire(timeout=WAIT)
    assert pool.workers == 4
    release.set()


def test_minThreadsStartWithThePool() -> None:
    """start() starts minthreads workers even without work."""
    p = ThreadPool(2, 5)
    p.start()
    try:
        assert p.workers == 2
    finally:
        p.stop()


def test_stopJoinsWorkers(pool: ThreadPool) -> None:
    """stop() finishes queued work, then every worker exits and is joined."""
    done = threading.Event()
    pool.start()
    pool.callInThread(done.set)
    threads = list(pool.threads)
    pool.stop()
    assert done.is_set()
    assert not any(t.is_alive() for t in threads)
    assert pool.joined and not pool.started


def test_workAfterStopIsDropped(pool: ThreadPool) -> None:
    """Work given to a stopped pool is dropped, as in Twisted."""
    ran: list[int] = []
    pool.start()
    pool.stop()
    pool.callInThread(ran.append, 1)
    assert ran == [] and pool.pending == 0


def test_adjustPoolsizeShrinks() -> None:
    """Lowering maxthreads below the live workers makes the surplus workers exit."""
    import time

    p = ThreadPool(3, 3)
    p.start()
    threads = list(p.threads)
    try:
        p.adjustPoolsize(0, 1)
        deadline = time.monotonic() + WAIT
        while sum(t.is_alive() for t in threads) > 1 and time.monotonic() < deadline:
            for t in threads:
                t.join(0.01)
        assert sum(t.is_alive() for t in threads) == 1
        assert p.workers == 1
    finally:
        p.stop()


def test_invalidSizesAreRejected() -> None:
    """A negative minimum or a maximum below the minimum is a ValueError."""
    with pytest.raises(ValueError):
        ThreadPool(-1, 3)
    with pytest.raises(ValueError):
        ThreadPool(4, 3)


def test_workSeesCallersContextVars(pool: ThreadPool) -> None:
    """Work runs in a copy of the caller's contextvars, as asyncio.to_thread does."""
    import contextvars

    requestID: contextvars.ContextVar[str] = contextvars.ContextVar("requestID")
    requestID.set("req-42")
    seen: list[str] = []
    done = threading.Event()
    pool.start()
    pool.callInThread(lambda: (seen.append(requestID.get("unset")), done.set()))
    assert done.wait(WAIT)
    assert seen == ["req-42"]
