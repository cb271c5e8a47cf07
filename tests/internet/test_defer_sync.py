"""Tests for DeferredLock, DeferredSemaphore and DeferredQueue."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from torsion.internet.defer import (
    CancelledError,
    Deferred,
    DeferredLock,
    DeferredQueue,
    DeferredSemaphore,
    QueueOverflow,
    QueueUnderflow,
    ensureDeferred,
)


def _results(d: Deferred[Any]) -> list[Any]:
    out: list[Any] = []
    d.addBoth(out.append)
    return out


def test_lockAcquireFiresWithLock() -> None:
    """acquire() on a free lock fires at once with the lock, which is then locked."""
    lock = DeferredLock()
    assert _results(lock.acquire()) == [lock]
    assert lock.locked


def test_lockWaitersServedInOrder() -> None:
    """Waiters get the lock one at a time, in FIFO order, on each release."""
    lock = DeferredLock()
    lock.acquire()
    first = _results(lock.acquire())
    second = _results(lock.acquire())
    assert first == [] and second == []
    lock.release()
    assert first == [lock] and second == []
    lock.release()
    assert second == [lock]


def test_lockReleaseUnlocked() -> None:
    """Releasing an unlocked lock is an error (AssertionError, as in Twisted)."""
    with pytest.raises(AssertionError):
        DeferredLock().release()


def test_lockCancelWaitingAcquire() -> None:
    """Cancelling a waiting acquire removes it; the lock goes to the next waiter."""
    lock = DeferredLock()
    lock.acquire()
    waiting = lock.acquire()
    out: list[Any] = []
    waiting.addErrback(lambda f: out.append(f.type))
    waiting.cancel()
    assert out == [CancelledError]
    lock.release()
    assert not lock.locked


def test_lockRunReleasesAfterResult() -> None:
    """run() holds the lock while f's Deferred is pending and releases it afterwards."""
    lock = DeferredLock()
    pending: Deferred[str] = Deferred()
    out = _results(lock.run(lambda x: pending, 1))
    assert lock.locked and out == []
    pending.callback("done")
    assert out == ["done"] and not lock.locked


def test_lockRunReleasesAfterException() -> None:
    """run() releases the lock when f raises, and fails with its exception."""
    lock = DeferredLock()
    out = _results(lock.run(lambda: 1 // 0))
    assert out[0].type is ZeroDivisionError and not lock.locked


def test_lockAsyncWithInCoroutine() -> None:
    """``async with lock`` acquires and releases in a coroutine run by ensureDeferred."""
    lock = DeferredLock()
    seen: list[bool] = []

    async def f() -> None:
        async with lock:
            seen.append(lock.locked)

    ensureDeferred(f())
    assert seen == [True] and not lock.locked


def test_lockAsyncWithInAsyncioTask() -> None:
    """``async with lock`` works in plain asyncio code, waiting its turn."""
    lock = DeferredLock()
    order: list[str] = []

    async def user(name: str) -> None:
        async with lock:
            order.append(name + " in")
            await asyncio.sleep(0)
            order.append(name + " out")

    async def main() -> None:
        await asyncio.gather(user("a"), user("b"))

    asyncio.run(main())
    assert order == ["a in", "a out", "b in", "b out"]


def test_semaphoreAllowsTokensHolders() -> None:
    """A semaphore of 2 lets two acquire at once; the third waits for a release."""
    sem = DeferredSemaphore(2)
    a = _results(sem.acquire())
    b = _results(sem.acquire())
    c = _results(sem.acquire())
    assert a == [sem] and b == [sem] and c == []
    sem.release()
    assert c == [sem]


def test_semaphoreRejectsNoTokens() -> None:
    """A semaphore needs at least one token."""
    with pytest.raises(ValueError):
        DeferredSemaphore(0)


def test_semaphoreOverRelease() -> None:
    """Releasing more than acquired is an error (AssertionError, as in Twisted)."""
    with pytest.raises(AssertionError):
        DeferredSemaphore(1).release()


def test_semaphoreRunLimitsConcurrency() -> None:
    """run() never has more than ``tokens`` calls in flight."""
    sem = DeferredSemaphore(2)
    pendings: list[Deferred[None]] = [Deferred() for _ in range(4)]
    started: list[int] = []

    def work(i: int) -> Deferred[None]:
        started.append(i)
        return pendings[i]

    for i in range(4):
        sem.run(work, i)
    assert started == [0, 1]
    pendings[0].callback(None)
    assert started == [0, 1, 2]


def test_semaphoreAsyncWith() -> None:
    """``async with sem`` takes and gives back a token."""
    sem = DeferredSemaphore(1)

    async def f() -> int:
        async with sem:
            return sem.tokens

    assert _results(ensureDeferred(f())) == [0]
    assert sem.tokens == 1


def test_queuePutThenGet() -> None:
    """A put item is returned by a later get, FIFO."""
    q: DeferredQueue[int] = DeferredQueue()
    q.put(1)
    q.put(2)
    assert _results(q.get()) == [1]
    assert _results(q.get()) == [2]


def test_queueGetThenPut() -> None:
    """A waiting get fires when an item is put."""
    q: DeferredQueue[str] = DeferredQueue()
    out = _results(q.get())
    assert out == []
    q.put("x")
    assert out == ["x"]


def test_queueOverflow() -> None:
    """put() beyond ``size`` raises QueueOverflow."""
    q: DeferredQueue[int] = DeferredQueue(size=1)
    q.put(1)
    with pytest.raises(QueueOverflow):
        q.put(2)


def test_queueUnderflow() -> None:
    """get() beyond ``backlog`` waiting gets raises QueueUnderflow."""
    q: DeferredQueue[int] = DeferredQueue(backlog=1)
    q.get()
    with pytest.raises(QueueUnderflow):
        q.get()


def test_queueCancelledGetLosesNoItem() -> None:
    """A cancelled get stops waiting, so the next put goes to the next get."""
    q: DeferredQueue[int] = DeferredQueue()
    first = q.get()
    first.addErrback(lambda f: None)
    first.cancel()
    q.put(5)
    assert _results(q.get()) == [5]
