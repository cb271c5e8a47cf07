"""Threads and the reactor: callInThread, the reactor's pool, torsion.internet.threads."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest

import torsion.internet
from torsion.internet import threads
from torsion.internet._reactor import Reactor
from torsion.internet.defer import Deferred, succeed
from torsion.logger import capturedLogs, globalLogPublisher
from torsion.python.threadpool import ThreadPool


@pytest.fixture
def asGlobal(reactor: Reactor, monkeypatch: pytest.MonkeyPatch) -> Reactor:
    """Make the test's reactor stand in for the global one while the test runs."""
    monkeypatch.setitem(sys.modules, "torsion.internet.reactor", reactor)
    monkeypatch.setattr(torsion.internet, "reactor", reactor, raising=False)
    return reactor


def test_deferToThreadPoolFiresInReactorThread(reactor: Reactor, run: Any) -> None:
    """deferToThreadPool runs f in a worker and fires its Deferred in the reactor thread."""
    pool = ThreadPool(0, 2)
    pool.start()
    try:
        where: list[threading.Thread] = []
        d = threads.deferToThreadPool(reactor, pool, lambda: threading.current_thread())

        def noteThread(worker: threading.Thread) -> threading.Thread:
            where.append(threading.current_thread())
            return worker

        worker = run(d.addCallback(noteThread))
    finally:
        pool.stop()
    assert worker is not threading.current_thread()
    assert where == [threading.current_thread()]


def test_deferToThreadPoolFailure(reactor: Reactor, run: Any) -> None:
    """An exception raised in the thread fails the Deferred with it."""
    pool = ThreadPool(0, 1)
    pool.start()

    def broken() -> None:
        raise ArithmeticError("in thread")

    try:
        with pytest.raises(ArithmeticError, match="in thread"):
            run(threads.deferToThreadPool(reactor, pool, broken))
    finally:
        pool.stop()


def test_deferToThreadUsesGlobalReactorPool(asGlobal: Reactor, run: Any) -> None:
    """deferToThread runs in the global reactor's own pool."""
    d = threads.deferToThread(lambda a, b: a + b, 2, b=3)
    assert run(d) == 5
    assert asGlobal.threadpool is not None


def test_callMultipleInThreadRunsInOrderInOneThread(asGlobal: Reactor, run: Any) -> None:
    """callMultipleInThread runs every call, in order, in one worker thread."""
    seen: list[tuple[int, threading.Thread]] = []
    d: Deferred[None] = Deferred()

    def record(n: int) -> None:
        seen.append((n, threading.current_thread()))

    threads.callMultipleInThread(
        [(record, (1,), {}), (record, (2,), {}),
         (asGlobal.callFromThread, (d.callback, None), {})]
    )
    run(d)
    assert [n for n, _ in seen] == [1, 2]
    assert seen[0][1] is seen[1][1] is not threading.current_thread()


def test_callInThreadExceptionIsLoggedAndPoolGoesOn(reactor: Reactor, run: Any) -> None:
    """An exception in callInThread work is logged; the reactor and pool keep working."""

    def broken() -> None:
        raise LookupError("thread work broke")

    logged: Deferred[None] = Deferred()

    def watch(event: dict[str, Any]) -> None:
        # Called in the worker thread that logs: hand the news to the reactor thread.
        if "thread work broke" in str(event.get("log_failure")):
            reactor.callFromThread(logged.callback, None)

    with capturedLogs() as events:
        globalLogPublisher.addObserver(watch)
        try:
            reactor.callInThread(broken)
            run(logged, timeout=30)
        finally:
            globalLogPublisher.removeObserver(watch)
    assert [e for e in events if "thread work broke" in str(e.get("log_failure"))]
    after: Deferred[str] = Deferred()
    reactor.callInThread(reactor.callFromThread, after.callback, "pool still works")
    assert run(after, timeout=30) == "pool still works"


def test_exceptionInThreadCallbackDoesNotKillReactor(reactor: Reactor, run: Any) -> None:
    """A call sent from a thread that raises is logged and the reactor goes on."""

    def broken() -> None:
        raise OSError("callFromThread target broke")

    d: Deferred[None] = Deferred()

    def inThread() -> None:
        reactor.callFromThread(broken)
        reactor.callFromThread(d.callback, None)

    with capturedLogs() as events:
        reactor.callInThread(inThread)
        run(d)
    assert any("callFromThread target broke" in str(e.get("log_failure")) for e in events)


def test_reactorPoolStopsAtShutdown(reactor: Reactor) -> None:
    """The reactor's pool is stopped (threads joined) during shutdown and then forgotten."""
    pool = reactor.getThreadPool()
    reactor.callInThread(lambda: None)
    reactor.callWhenRunning(reactor.stop)
    reactor.run(installSignalHandlers=False)
    assert pool.joined and pool.workers == 0
    assert reactor.threadpool is None


def test_reactorPoolIsRecreatedAfterRestart(reactor: Reactor, run: Any) -> None:
    """After a stop, callInThread works again on a fresh pool."""
    first = reactor.getThreadPool()
    reactor.callWhenRunning(reactor.stop)
    reactor.run(installSignalHandlers=False)
    d: Deferred[int] = Deferred()
    reactor.callInThread(reactor.callFromThread, d.callback, 7)
    assert run(d) == 7
    assert reactor.threadpool is not first


def test_suggestThreadPoolSizeSetsMax(reactor: Reactor) -> None:
    """suggestThreadPoolSize sets the pool's maximum."""
    reactor.suggestThreadPoolSize(3)
    assert reactor.getThreadPool().max == 3


def test_blockingCallFromThreadReturnsResult(reactor: Reactor, run: Any) -> None:
    """blockingCallFromThread runs f in the reactor thread and returns its value."""
    where: list[threading.Thread] = []

    def inReactor(x: int) -> int:
        where.append(threading.current_thread())
        return x + 1

    d = threads.deferToThreadPool(
        reactor, reactor.getThreadPool(), threads.blockingCallFromThread, reactor, inReactor, 1
    )
    assert run(d) == 2
    assert where == [threading.current_thread()]


def test_blockingCallFromThreadWaitsForDeferred(reactor: Reactor, run: Any) -> None:
    """A Deferred returned by f is waited for and its result returned in the thread."""

    def inReactor() -> Deferred[str]:
        d: Deferred[str] = Deferred()
        reactor.callLater(0.01, d.callback, "later")
        return d

    d = threads.deferToThreadPool(
        reactor, reactor.getThreadPool(), threads.blockingCallFromThread, reactor, inReactor
    )
    assert run(d) == "later"


def test_blockingCallFromThreadAwaitsCoroutine(reactor: Reactor, run: Any) -> None:
    """A coroutine function's result is awaited in the reactor thread."""

    async def inReactor() -> str:
        return await succeed("from coroutine")

    d = threads.deferToThreadPool(
        reactor, reactor.getThreadPool(), threads.blockingCallFromThread, reactor, inReactor
    )
    assert run(d) == "from coroutine"


def test_blockingCallFromThreadRaises(reactor: Reactor, run: Any) -> None:
    """The exception f raises in the reactor thread is raised in the calling thread."""

    def inReactor() -> None:
        raise IndexError("raised in reactor")

    d = threads.deferToThreadPool(
        reactor, reactor.getThreadPool(), threads.blockingCallFromThread, reactor, inReactor
    )
    with pytest.raises(IndexError, match="raised in reactor"):
        run(d)


def test_blockingCallFromReactorThreadRaises(reactor: Reactor, run: Any) -> None:
    """blockingCallFromThread in the reactor thread raises instead of deadlocking."""
    d: Deferred[None] = Deferred()

    def inReactor() -> None:
        try:
            threads.blockingCallFromThread(reactor, lambda: None)
        except RuntimeError as e:
            d.callback(None)
            assert "deadlock" in str(e)

    reactor.callLater(0, inReactor)
    run(d)


def test_callFromManyThreadsKeepsEachThreadsOrder(reactor: Reactor, run: Any) -> None:
    """Calls from many threads at once all arrive, each thread's in the order it made them."""
    threadCount, perThread = 8, 500
    seen: dict[int, list[int]] = {t: [] for t in range(threadCount)}
    d: Deferred[None] = Deferred()
    total = [0]

    def record(t: int, i: int) -> None:
        seen[t].append(i)
        total[0] += 1
        if total[0] == threadCount * perThread:
            d.callback(None)

    def sender(t: int) -> None:
        for i in range(perThread):
            reactor.callFromThread(record, t, i)

    workers = [threading.Thread(target=sender, args=(t,)) for t in range(threadCount)]
    for w in workers:
        w.start()
    run(d)
    for w in workers:
        w.join()
    assert all(calls == list(range(perThread)) for calls in seen.values())


def test_workerCanCallIntoReactorDuringShutdown(reactor: Reactor) -> None:
    """A worker still running at shutdown may use blockingCallFromThread: no deadlock."""
    inReactor: list[str] = []
    started = threading.Event()

    def job() -> None:
        started.set()
        inReactor.append(threads.blockingCallFromThread(reactor, lambda: "served"))

    def begin() -> None:
        reactor.callInThread(job)
        assert started.wait(10)
        reactor.stop()  # the job's call into the reactor is still to come

    reactor.callWhenRunning(begin)
    reactor.run(installSignalHandlers=False)
    assert inReactor == ["served"]
