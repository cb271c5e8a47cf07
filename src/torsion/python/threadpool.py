"""ThreadPool: Twisted's thread pool (min/max threads, a work queue, stop and join).

Theory of operation: work items go into one ``queue.SimpleQueue``; worker threads take
them in order.  A new worker is started when work is queued and no worker is idle, as
long as there are fewer than ``max`` workers; ``min`` workers are kept alive from start().
A worker exits when it takes the ``_STOP`` sentinel: stop() queues one per worker and
joins them all, and adjustPoolsize() queues the surplus when ``max`` shrinks.  Work queued
before start() waits in the queue and runs once the pool starts.

Workers are daemon threads, so a pool nobody stopped cannot keep the interpreter alive;
the reactor stops its own pool during shutdown, as Twisted's does.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any, ParamSpec

from torsion.logger import Logger

__all__ = ["ThreadPool", "WorkerStop"]

_P = ParamSpec("_P")
_log = Logger(namespace="torsion.python.threadpool")


class _WorkerStop:
    """The sentinel that tells one worker to exit."""

    def __repr__(self) -> str:
        return "WorkerStop"


WorkerStop = _STOP = _WorkerStop()

_OnResult = Callable[[bool, Any], object]
_Work = tuple[
    contextvars.Context, _OnResult | None, Callable[..., object], tuple[Any, ...], dict[str, Any]
]


class ThreadPool:
    """A pool of worker threads running callables queued with callInThread.

    ``minthreads`` workers are kept from start() on, up to ``maxthreads`` are started when
    work is waiting; ``name`` prefixes the threads' names.
    """

    started = False
    joined = False
    name: str | None = None

    def __init__(self, minthreads: int = 5, maxthreads: int = 20, name: str | None = None) -> None:
        _checkSizes(minthreads, maxthreads)
        self.min = minthreads
        self.max = maxthreads
        self.name = name
        self.threads: list[threading.Thread] = []
        self._queue: queue.SimpleQueue[_Work | _WorkerStop] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._working = 0
        self._pending = 0
        self._serial = 0
        self._starting = 0

    # --- Twisted's read-only statistics -------------------------------------------------------

    @property
    def workers(self) -> int:
        """The number of worker threads alive (idle or busy)."""
        return len(self.threads)

    @property
    def working(self) -> int:
        """The number of workers running a callable right now."""
        return self._working

    @property
    def waiters(self) -> int:
        """The number of idle workers waiting for work."""
        return self._idle

    @property
    def pending(self) -> int:
        """The number of work items queued and not yet taken by a worker."""
        return self._pending

    def dumpStats(self) -> None:
        """Log the queue length and worker counts."""
        _log.info(
            "queue: {pending} workers: {workers} working: {working} idle: {idle}",
            pending=self._pending,
            workers=self.workers,
            working=self._working,
            idle=self._idle,
        )

    # --- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Start ``min`` workers, plus as many as the queued work needs (up to ``max``)."""
        with self._lock:
            self.joined = False
            self.started = True
            self._spawnNeeded()

    def stop(self) -> None:
        """Stop every worker once the work queued before this call is done; join them."""
        with self._lock:
            self.joined = True
            self.started = False
            threads = list(self.threads)
            for _ in threads:
                self._queue.put(_STOP)
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join()

    def adjustPoolsize(self, minthreads: int | None = None, maxthreads: int | None = None) -> None:
        """Change the limits; extra workers exit, missing ones start if the pool runs."""
        newMin = self.min if minthreads is None else minthreads
        newMax = self.max if maxthreads is None else maxthreads
        _checkSizes(newMin, newMax)
        with self._lock:
            self.min, self.max = newMin, newMax
            if not self.started:
                return
            surplus = len(self.threads) - self.max
            for _ in range(max(surplus, 0)):
                self._queue.put(_STOP)
            self._spawnNeeded()

    # --- work ------------------------------------------------------------------------------

    def callInThread(
        self, func: Callable[_P, object], *args: _P.args, **kwargs: _P.kwargs
    ) -> None:
        """Run ``func(*args, **kwargs)`` in a worker; an exception it raises is logged."""
        self.callInThreadWithCallback(None, func, *args, **kwargs)

    def callInThreadWithCallback(
        self,
        onResult: _OnResult | None,
        func: Callable[_P, object],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> None:
        """Run ``func`` in a worker, then ``onResult(True, result)`` or ``(False, Failure)``.

        ``func`` runs in a copy of the caller's contextvars context (as with
        ``asyncio.to_thread``); ``onResult`` runs in the worker thread too.  After stop()
        new work is dropped, as in Twisted.
        """
        if self.joined:
            return
        with self._lock:
            self._pending += 1
            self._queue.put((contextvars.copy_context(), onResult, func, args, kwargs))
            if self.started and self._idle < self._pending:
                self._spawnNeeded()

    # --- workers ---------------------------------------------------------------------------

    def _spawnNeeded(self) -> None:
        """Start workers up to min, and for waiting work up to max (lock held)."""
        while len(self.threads) < self.max and (
            len(self.threads) < self.min or self._idle + self._starting < self._pending
        ):
            self._spawn()

    def _spawn(self) -> None:
        self._serial += 1
        self._starting += 1
        name = f"PoolThread-{self.name or id(self)}-{self._serial}"
        thread = threading.Thread(target=self._worker, name=name, daemon=True)
        self.threads.append(thread)
        thread.start()

    def _worker(self) -> None:
        current = threading.current_thread()
        get = self._queue.get
        lock = self._lock
        with lock:
            self._starting -= 1
            self._idle += 1
        while True:
            item = get()
            if isinstance(item, _WorkerStop):
                break
            with lock:
                self._idle -= 1
                self._pending -= 1
                self._working += 1
            try:
                self._runOne(item)
            finally:
                with lock:
                    self._working -= 1
                    self._idle += 1
            del item
        with lock:
            self._idle -= 1
            if current in self.threads:
                self.threads.remove(current)

    @staticmethod
    def _runOne(item: _Work) -> None:
        context, onResult, func, args, kwargs = item
        outcome: object
        try:
            result = context.run(func, *args, **kwargs)
        except BaseException:
            if onResult is None:
                _log.failure("Unhandled error in thread pool call {func}", func=func)
                return
            from torsion.python.failure import Failure

            ok, outcome = False, Failure()
        else:
            if onResult is None:
                return
            ok, outcome = True, result
        try:
            onResult(ok, outcome)
        except BaseException:
            _log.failure("Unhandled error in thread pool result callback {cb}", cb=onResult)

    def __repr__(self) -> str:
        return (
            f"<ThreadPool {self.name!r} min={self.min} max={self.max} "
            f"workers={self.workers} started={self.started}>"
        )


def _checkSizes(minthreads: int, maxthreads: int) -> None:
    """Reject limits Twisted asserts on: negative, or a max below the min."""
    if minthreads < 0:
        raise ValueError(f"minimum is negative: {minthreads}")
    if maxthreads < minthreads:
        raise ValueError(f"maximum ({maxthreads}) is less than minimum ({minthreads})")
