"""Deferred-based synchronisation: DeferredLock, DeferredSemaphore, DeferredQueue.

Theory of operation: each primitive keeps a FIFO of Deferreds handed out by ``acquire()``
(or ``get()``) that could not be satisfied at once; ``release()`` (or ``put()``) fires the
oldest one synchronously.  A waiting Deferred that is cancelled removes itself from the
FIFO (its canceller), so cancellation never leaks a token or an item.  Lock and semaphore
are async context managers (``async with lock:``) in both torsion coroutines and asyncio
tasks, because ``acquire()``'s Deferred is awaitable in both.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, Literal, ParamSpec, TypeVar

from torsion.internet._deferred import Deferred, maybeDeferred, succeed

__all__ = ["DeferredLock", "DeferredSemaphore", "DeferredQueue", "QueueOverflow",
           "QueueUnderflow"]

_T = TypeVar("_T")
_P = ParamSpec("_P")
_Self = TypeVar("_Self", bound="_ConcurrencyPrimitive")


class QueueOverflow(Exception):
    """DeferredQueue.put() on a queue already holding ``size`` items."""


class QueueUnderflow(Exception):
    """DeferredQueue.get() with ``backlog`` gets already waiting."""


class _ConcurrencyPrimitive:
    """What locks and semaphores share: a FIFO of waiters, ``run``, ``async with``."""

    def __init__(self) -> None:
        self.waiting: deque[Deferred[Any]] = deque()

    def acquire(self: _Self) -> Deferred[_Self]:
        """Return a Deferred that fires with this object once it is acquired."""
        raise NotImplementedError

    def release(self) -> None:
        """Release what ``acquire()`` gave (and hand it to the oldest waiter)."""
        raise NotImplementedError

    def _cancelAcquire(self, d: Deferred[Any]) -> None:
        """Canceller of a waiting acquire(): stop waiting (it then fails CancelledError)."""
        self.waiting.remove(d)

    def _releaseAndReturn(self, r: _T) -> _T:
        self.release()
        return r

    def run(self, f: Callable[_P, Any], *args: _P.args, **kwargs: _P.kwargs) -> Deferred[Any]:
        """Acquire, call ``f(*args, **kwargs)``, release when its result is ready.

        Returns a Deferred of ``f``'s result (or failure); release happens either way.
        """

        def execute(ignoredResult: object) -> Deferred[Any]:
            return maybeDeferred(f, *args, **kwargs).addBoth(self._releaseAndReturn)

        return self.acquire().addCallback(execute)

    def __aenter__(self: _Self) -> Deferred[_Self]:
        """``async with``: acquire."""
        return self.acquire()

    def __aexit__(self, exc_type: type[BaseException] | None, exc_val: BaseException | None,
                  exc_tb: TracebackType | None) -> Deferred[Literal[False]]:
        """``async with``: release; exceptions propagate."""
        self.release()
        return succeed(False)


class DeferredLock(_ConcurrencyPrimitive):
    """A lock for code that waits with Deferreds rather than by blocking a thread."""

    def __init__(self) -> None:
        super().__init__()
        self.locked = False

    def acquire(self) -> Deferred[DeferredLock]:
        """Return a Deferred that fires with this lock once it is ours (FIFO order)."""
        d: Deferred[DeferredLock] = Deferred(canceller=self._cancelAcquire)
        if self.locked:
            self.waiting.append(d)
        else:
            self.locked = True
            d.callback(self)
        return d

    def release(self) -> None:
        """Release the lock, handing it to the oldest waiter if any."""
        if not self.locked:
            # AssertionError, as in Twisted: releasing what you do not hold is a bug.
            raise AssertionError("Tried to release an unlocked lock")
        self.locked = False
        if self.waiting:
            self.locked = True
            self.waiting.popleft().callback(self)


class DeferredSemaphore(_ConcurrencyPrimitive):
    """A semaphore of ``tokens`` for code that waits with Deferreds."""

    def __init__(self, tokens: int) -> None:
        if tokens < 1:
            raise ValueError("DeferredSemaphore requires tokens >= 1")
        super().__init__()
        self.tokens = tokens
        self.limit = tokens

    def acquire(self) -> Deferred[DeferredSemaphore]:
        """Return a Deferred that fires with this semaphore once a token is ours."""
        d: Deferred[DeferredSemaphore] = Deferred(canceller=self._cancelAcquire)
        if self.tokens <= 0:
            self.waiting.append(d)
        else:
            self.tokens -= 1
            d.callback(self)
        return d

    def release(self) -> None:
        """Give a token back, handing it to the oldest waiter if any."""
        if self.tokens >= self.limit:
            raise AssertionError("Someone released me too many times: too many tokens!")
        self.tokens += 1
        if self.waiting:
            self.tokens -= 1
            self.waiting.popleft().callback(self)


class DeferredQueue(Generic[_T]):
    """A FIFO queue whose ``get()`` returns a Deferred of the next item.

    ``size`` bounds the items held (put() beyond raises QueueOverflow); ``backlog`` bounds
    the gets waiting (get() beyond raises QueueUnderflow).  None means unbounded.
    """

    def __init__(self, size: int | None = None, backlog: int | None = None) -> None:
        self.waiting: deque[Deferred[_T]] = deque()
        self.pending: deque[_T] = deque()
        self.size = size
        self.backlog = backlog

    def _cancelGet(self, d: Deferred[_T]) -> None:
        """Canceller of a waiting get(): stop waiting, so no item is lost to it."""
        self.waiting.remove(d)

    def put(self, obj: _T) -> None:
        """Give ``obj`` to the oldest waiting get(), else keep it (QueueOverflow if full)."""
        if self.waiting:
            self.waiting.popleft().callback(obj)
        elif self.size is None or len(self.pending) < self.size:
            self.pending.append(obj)
        else:
            raise QueueOverflow()

    def get(self) -> Deferred[_T]:
        """Return a Deferred of the next item (QueueUnderflow if too many are waiting)."""
        if self.pending:
            return succeed(self.pending.popleft())
        if self.backlog is None or len(self.waiting) < self.backlog:
            d: Deferred[_T] = Deferred(canceller=self._cancelGet)
            self.waiting.append(d)
            return d
        raise QueueUnderflow()
