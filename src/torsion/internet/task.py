"""Scheduling utilities: a fake clock, repeating calls, delayed results, cooperative tasks.

- ``Clock``: a deterministic IReactorTime for tests; time moves only by ``advance``/``pump``.
- ``LoopingCall``: calls a function every ``interval`` seconds on a clock. Theory of
  operation: calls are aligned to ``starttime + k * interval``; when a call (or a Deferred it
  returned) takes longer than one interval, the next call is scheduled at the next boundary,
  so missed intervals are skipped rather than run in a burst. ``withCount`` tells the
  function how many intervals elapsed since it last ran (skipped ones included).
- ``deferLater``: a Deferred fired after a delay, cancellable.
- ``Cooperator``: runs many iterators a step at a time, yielding to the scheduler after each
  time slice so long jobs do not starve the reactor.
- ``react``: run a ``main(reactor, *argv)`` until its result fires, then exit the process.

Nothing here imports the global reactor at module level: ``LoopingCall.clock``, the default
Cooperator scheduler and ``react`` look it up only when they first need it.

Errors::

    Exception
     └─ SchedulerError          a Cooperator or CooperativeTask misused or finished
         ├─ SchedulerStopped    the Cooperator was stopped; its tasks end with this
         ├─ TaskFinished        the task has already finished; it cannot be paused or stopped
         │   ├─ TaskDone        ... because its iterator was exhausted
         │   ├─ TaskStopped     ... because stop() was called
         │   └─ TaskFailed      ... because its iterator raised
         └─ NotPaused           resume() on a task that is not paused
"""

from __future__ import annotations

import bisect
import importlib
import sys
import time
from collections.abc import Callable, Coroutine, Generator, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar, cast

from torsion.internet._delayedcall import DelayedCall
from torsion.internet.defer import Deferred, ensureDeferred, fail, succeed
from torsion.python.failure import Failure

if TYPE_CHECKING:
    from torsion.internet.interfaces import IDelayedCall, IReactorTime

__all__ = [
    "Clock",
    "CooperativeTask",
    "Cooperator",
    "LoopingCall",
    "NotPaused",
    "SchedulerError",
    "SchedulerStopped",
    "TaskDone",
    "TaskFailed",
    "TaskFinished",
    "TaskStopped",
    "coiterate",
    "cooperate",
    "deferLater",
    "react",
]

_P = ParamSpec("_P")
_T = TypeVar("_T")
_TaskResultT = TypeVar("_TaskResultT")


def _globalReactor() -> Any:
    """The global reactor, imported (and so installed) only when first needed."""
    return importlib.import_module("torsion.internet.reactor")


# --- Clock ---------------------------------------------------------------------------------------


def _getTime(call: DelayedCall) -> float:
    return call.getTime()


class Clock:
    """A fake IReactorTime whose time moves only when the test says so.

    Calls scheduled with ``callLater`` run, in time order, during ``advance``; an exception
    from one propagates out of ``advance`` so the test sees it. ``calls`` stays sorted:
    ``callLater`` inserts in order and a ``reset``/``delay`` marks it for re-sorting.
    """

    rightNow = 0.0

    def __init__(self) -> None:
        self.calls: list[DelayedCall] = []
        self._unsorted = False

    def _callReset(self, call: DelayedCall) -> None:
        """A call's time changed: the list must be re-sorted before the next due check."""
        self._unsorted = True

    def seconds(self) -> float:
        """The clock's current time (starts at 0.0)."""
        return self.rightNow

    def callLater(self, delay: float, callable: Callable[_P, object], *args: _P.args,
                  **kw: _P.kwargs) -> DelayedCall:
        """Schedule ``callable(*args, **kw)`` to run when the clock reaches now + ``delay``."""
        call = DelayedCall(self.seconds() + delay, callable, args, kw, self.calls.remove,
                           self._callReset, self.seconds)
        bisect.insort_right(self.calls, call, key=_getTime)
        return call

    def getDelayedCalls(self) -> list[DelayedCall]:
        """The calls scheduled and not yet run or cancelled, soonest first."""
        return self.calls

    def advance(self, amount: float) -> None:
        """Move time forward by ``amount`` seconds, running every call that becomes due."""
        self.rightNow += amount
        calls = self.calls
        calls.sort(key=_getTime)
        self._unsorted = False
        while calls and calls[0].getTime() <= self.rightNow:
            call = calls.pop(0)
            call.called = 1
            call.func(*call.args, **call.kw)
            if self._unsorted:
                calls.sort(key=_getTime)
                self._unsorted = False

    def pump(self, timings: Iterable[float]) -> None:
        """Advance by each amount in ``timings`` in turn."""
        for amount in timings:
            self.advance(amount)


# --- LoopingCall ---------------------------------------------------------------------------------


class LoopingCall:
    """Calls ``f(*a, **kw)`` every ``interval`` seconds once started.

    The Deferred from ``start`` fires with this LoopingCall when ``stop`` is called, or fails
    (and the loop stops) when ``f`` raises or its Deferred fails. When ``f`` returns a
    Deferred, the next call waits for it. ``clock`` defaults to the global reactor, looked up
    on first use; tests assign a Clock.
    """

    call: IDelayedCall | None = None
    running = False
    interval: float | None = None
    starttime: float | None = None
    _deferred: Deferred[LoopingCall] | None = None
    _runAtStart = False

    def __init__(self, f: Callable[..., object], *a: Any, **kw: Any) -> None:
        self.f = f
        self.a = a
        self.kw = kw
        self._clock: IReactorTime | None = None

    @property
    def clock(self) -> IReactorTime:
        """The scheduler: the global reactor unless a clock was assigned."""
        if self._clock is None:
            self._clock = _globalReactor()
        return self._clock

    @clock.setter
    def clock(self, value: IReactorTime) -> None:
        self._clock = value

    @property
    def deferred(self) -> Deferred[LoopingCall] | None:
        """The Deferred returned by ``start``, until it fires."""
        return self._deferred

    @classmethod
    def withCount(cls, countCallable: Callable[[int], object]) -> LoopingCall:
        """A LoopingCall that passes ``countCallable`` the number of intervals elapsed since
        its last call, so a caller can catch up on intervals that were skipped.

        With interval 0 the count is always 1.
        """
        lastTime: list[float | None] = [None]

        def counter() -> object:
            now = self.clock.seconds()
            interval = self.interval
            starttime = self.starttime
            assert interval is not None and starttime is not None
            if interval == 0:
                lastTime[0] = now
                return countCallable(1)
            previous = lastTime[0]
            if previous is None:
                previous = starttime
                if self._runAtStart:
                    previous -= interval
            count = self._intervalOf(now) - self._intervalOf(previous)
            if count > 0:
                lastTime[0] = now
                return countCallable(count)
            return None

        self = cls(counter)
        return self

    def _intervalOf(self, t: float) -> int:
        """The number of the interval (counted from ``starttime``) containing time ``t``."""
        assert self.interval is not None and self.starttime is not None
        return int((t - self.starttime) / self.interval)

    def start(self, interval: float, now: bool = True) -> Deferred[LoopingCall]:
        """Start calling every ``interval`` seconds, the first call at once if ``now``.

        Raises ValueError for a negative interval and AssertionError (as Twisted does) if
        already running.
        """
        if self.running:
            raise AssertionError("Tried to start an already running LoopingCall.")
        if interval < 0:
            raise ValueError("interval must be >= 0")
        self.running = True
        deferred: Deferred[LoopingCall] = Deferred()
        self._deferred = deferred
        self.starttime = self.clock.seconds()
        self.interval = interval
        self._runAtStart = now
        if now:
            self()
        else:
            self._scheduleFrom(self.starttime)
        return deferred

    def stop(self) -> None:
        """Stop calling; the ``start`` Deferred fires with this LoopingCall.

        If a call's Deferred is still pending, the start Deferred fires once it completes.
        Raises AssertionError (as Twisted does) if not running.
        """
        if not self.running:
            raise AssertionError("Tried to stop a LoopingCall that was not running.")
        self.running = False
        if self.call is not None:
            self.call.cancel()
            self.call = None
            self._fire()

    def reset(self) -> None:
        """Restart the interval count from now, postponing the pending call accordingly."""
        if not self.running:
            raise AssertionError("Tried to reset a LoopingCall that was not running.")
        if self.call is not None:
            self.call.cancel()
            self.call = None
            self.starttime = self.clock.seconds()
            self._scheduleFrom(self.starttime)

    def _fire(self) -> None:
        deferred, self._deferred = self._deferred, None
        if deferred is not None:
            deferred.callback(self)

    def _failed(self, failure: Failure) -> None:
        self.running = False
        self.call = None
        deferred, self._deferred = self._deferred, None
        if deferred is not None:
            deferred.errback(failure)

    def _done(self, result: object) -> None:
        if self.running:
            self._scheduleFrom(self.clock.seconds())
        else:
            self._fire()

    def __call__(self) -> None:
        """Run one iteration (the clock calls this)."""
        self.call = None
        try:
            result = self.f(*self.a, **self.kw)
        except BaseException:
            self._failed(Failure())
            return
        if isinstance(result, Deferred):
            result.addCallbacks(self._done, self._failed)
        elif isinstance(result, Coroutine):
            ensureDeferred(result).addCallbacks(self._done, self._failed)
        else:
            self._done(result)

    def _scheduleFrom(self, when: float) -> None:
        """Schedule the next call at the first interval boundary after ``when``."""
        interval = self.interval
        starttime = self.starttime
        assert interval is not None and starttime is not None
        if interval == 0:
            delay = 0.0
        else:
            untilNextInterval = interval - ((when - starttime) % interval)
            # When the clock is so large that adding the remainder does not move it, wait a
            # whole interval rather than spin on a zero delay.
            delay = interval if when == when + untilNextInterval else untilNextInterval
        self.call = self.clock.callLater(delay, self)

    def __repr__(self) -> str:
        func = getattr(self.f, "__qualname__", None) or repr(self.f)
        return (f"LoopingCall<{self.interval!r}>({func}, *{self.a!r}, **{self.kw!r})")


# --- deferLater ----------------------------------------------------------------------------------


def deferLater(clock: IReactorTime, delay: float, callable: Callable[..., Any] | None = None,
               *args: Any, **kw: Any) -> Deferred[Any]:
    """A Deferred that fires ``delay`` seconds from now with ``callable(*args, **kw)``.

    With no callable it fires with None. Cancelling it cancels the scheduled call (the
    Deferred fails with CancelledError), so nothing runs late.
    """

    def cancelLater(deferred: Deferred[Any]) -> None:
        delayedCall.cancel()

    def run(ignored: object) -> Any:
        if callable is None:
            return None
        return callable(*args, **kw)

    deferred: Deferred[Any] = Deferred(cancelLater)
    deferred.addCallback(run)
    delayedCall = clock.callLater(delay, deferred.callback, None)
    return deferred


# --- Cooperator ----------------------------------------------------------------------------------


class SchedulerError(Exception):
    """Base of the errors of Cooperator and CooperativeTask."""


class SchedulerStopped(SchedulerError):
    """The Cooperator running the task was stopped."""


class TaskFinished(SchedulerError):
    """The task has finished and can no longer be paused, resumed or stopped."""


class TaskDone(TaskFinished):
    """The task's iterator was exhausted."""


class TaskStopped(TaskFinished):
    """The task was stopped with ``stop()``."""


class TaskFailed(TaskFinished):
    """The task's iterator raised an exception."""


class NotPaused(SchedulerError):
    """``resume()`` was called on a task that is not paused."""


class _Timer:
    """Termination predicate: true once a time slice of ``MAX_SLICE`` seconds is used up."""

    MAX_SLICE = 0.01

    def __init__(self) -> None:
        self.end = time.monotonic() + self.MAX_SLICE

    def __call__(self) -> bool:
        return time.monotonic() >= self.end


_EPSILON = 0.00000001


def _defaultScheduler(callable: Callable[[], None]) -> Any:
    """Schedule ``callable`` on the global reactor, imported only now."""
    return _globalReactor().callLater(_EPSILON, callable)


class CooperativeTask:
    """An iterator being run a step at a time by a Cooperator.

    ``whenDone()`` Deferreds fire with the iterator when it is exhausted, or fail with
    TaskStopped, SchedulerStopped, or the iterator's exception. A step that yields a
    Deferred pauses the task until that Deferred fires.
    """

    def __init__(self, iterator: Iterator[Any], cooperator: Cooperator) -> None:
        self._iterator = iterator
        self._cooperator = cooperator
        self._deferreds: list[Deferred[Any]] = []
        self._pauseCount = 0
        self._completionState: SchedulerError | None = None
        self._completionResult: Any = None
        cooperator._addTask(self)

    def whenDone(self) -> Deferred[Any]:
        """A new Deferred that fires when the task finishes, however it finishes."""
        deferred: Deferred[Any] = Deferred()
        if self._completionState is None:
            self._deferreds.append(deferred)
        else:
            _fireWith(deferred, self._completionResult)
        return deferred

    def pause(self) -> None:
        """Stop running steps until a matching ``resume()``; pauses nest.

        Raises the TaskFinished subclass describing how the task ended, if it has.
        """
        self._checkFinish()
        self._pauseCount += 1
        if self._pauseCount == 1:
            self._cooperator._removeTask(self)

    def resume(self) -> None:
        """Undo one ``pause()``; raises NotPaused if the task is not paused."""
        if self._pauseCount == 0:
            raise NotPaused()
        self._pauseCount -= 1
        if self._pauseCount == 0 and self._completionState is None:
            self._cooperator._addTask(self)

    def stop(self) -> None:
        """End the task now; ``whenDone`` Deferreds fail with TaskStopped."""
        self._checkFinish()
        self._completeWith(TaskStopped(), Failure(TaskStopped()))

    def _checkFinish(self) -> None:
        if self._completionState is not None:
            raise self._completionState

    def _completeWith(self, completionState: SchedulerError, result: Any) -> None:
        self._completionState = completionState
        self._completionResult = result
        if not self._pauseCount:
            self._cooperator._removeTask(self)
        deferreds, self._deferreds = self._deferreds, []
        for deferred in deferreds:
            _fireWith(deferred, result)

    def _oneWorkUnit(self) -> None:
        """Run one step of the iterator."""
        try:
            result = next(self._iterator)
        except StopIteration:
            self._completeWith(TaskDone(), self._iterator)
        except BaseException:
            self._completeWith(TaskFailed(), Failure())
        else:
            if isinstance(result, Deferred):
                self.pause()

                def failLater(failure: Failure) -> None:
                    if self._completionState is None:
                        self._completeWith(TaskFailed(), failure)

                def resumeLater(ignored: object) -> None:
                    if self._pauseCount:
                        self.resume()

                result.addCallbacks(resumeLater, failLater)


def _fireWith(deferred: Deferred[Any], result: Any) -> None:
    if isinstance(result, Failure):
        deferred.errback(result)
    else:
        deferred.callback(result)


class Cooperator:
    """Runs iterators cooperatively: one step of each in turn until the time slice is used.

    ``scheduler(f)`` schedules ``f`` to run soon (default: the global reactor's callLater
    with a tiny delay); tests pass ``lambda f: clock.callLater(0, f)`` to drive it with a
    Clock. ``terminationPredicateFactory()`` makes a predicate telling when a slice is over.
    """

    def __init__(self, terminationPredicateFactory: Callable[[], Callable[[], bool]] = _Timer,
                 scheduler: Callable[[Callable[[], None]], Any] = _defaultScheduler,
                 started: bool = True) -> None:
        self._tasks: list[CooperativeTask] = []
        self._metarator: Iterator[CooperativeTask] = iter(())
        self._terminationPredicateFactory = terminationPredicateFactory
        self._scheduler = scheduler
        self._delayedCall: Any = None
        self._stopped = False
        self._started = started
        self._mustScheduleOnStart = False

    def coiterate(self, iterator: Iterator[_T], doneDeferred: Deferred[Iterator[_T]] | None = None
                  ) -> Deferred[Iterator[_T]]:
        """Run ``iterator`` to the end; the Deferred fires with it, or fails."""
        if doneDeferred is None:
            doneDeferred = Deferred()
        CooperativeTask(iterator, self).whenDone().chainDeferred(doneDeferred)
        return doneDeferred

    def cooperate(self, iterator: Iterator[Any]) -> CooperativeTask:
        """Start running ``iterator``; the returned task can be paused, resumed or stopped."""
        return CooperativeTask(iterator, self)

    def _addTask(self, task: CooperativeTask) -> None:
        self._tasks.append(task)
        if self._stopped:
            task._completeWith(SchedulerStopped(), Failure(SchedulerStopped()))
        else:
            self._reschedule()

    def _removeTask(self, task: CooperativeTask) -> None:
        if task in self._tasks:
            self._tasks.remove(task)
        if not self._tasks and self._delayedCall is not None:
            self._delayedCall.cancel()
            self._delayedCall = None

    def _tasksWhileNotStopped(self) -> Generator[CooperativeTask, None, None]:
        terminator = self._terminationPredicateFactory()
        while self._tasks:
            for task in self._metarator:
                if task._pauseCount or task._completionState is not None:
                    # Paused or finished by an earlier step of this round.
                    continue
                yield task
                if terminator():
                    return
            self._metarator = iter(list(self._tasks))

    def _tick(self) -> None:
        self._delayedCall = None
        for task in self._tasksWhileNotStopped():
            task._oneWorkUnit()
        self._reschedule()

    def _reschedule(self) -> None:
        if not self._started:
            self._mustScheduleOnStart = True
            return
        if self._delayedCall is None and self._tasks:
            self._delayedCall = self._scheduler(self._tick)

    def start(self) -> None:
        """Begin running tasks (for a Cooperator made with ``started=False``)."""
        self._stopped = False
        self._started = True
        if self._mustScheduleOnStart:
            self._mustScheduleOnStart = False
            self._reschedule()

    def stop(self) -> None:
        """End every task with SchedulerStopped; tasks added later end at once the same way."""
        self._stopped = True
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task._completeWith(SchedulerStopped(), Failure(SchedulerStopped()))
        if self._delayedCall is not None:
            self._delayedCall.cancel()
            self._delayedCall = None

    @property
    def running(self) -> bool:
        """Whether the cooperator is started and not stopped."""
        return self._started and not self._stopped


_theCooperator = Cooperator()


def coiterate(iterator: Iterator[_T]) -> Deferred[Iterator[_T]]:
    """Run ``iterator`` on the global Cooperator (driven by the global reactor)."""
    return _theCooperator.coiterate(iterator)


def cooperate(iterator: Iterator[Any]) -> CooperativeTask:
    """Start ``iterator`` as a task on the global Cooperator (driven by the global reactor)."""
    return _theCooperator.cooperate(iterator)


# --- react ---------------------------------------------------------------------------------------


def _callMain(main: Callable[..., Any], reactor: Any, argv: Sequence[Any]) -> Deferred[Any]:
    """Call ``main(reactor, *argv)`` and turn whatever it gives into a Deferred."""
    try:
        result = main(reactor, *argv)
    except BaseException:
        return fail(Failure())
    if isinstance(result, Deferred):
        return result
    if isinstance(result, Coroutine | Generator):
        return ensureDeferred(result)
    return succeed(result)


def react(main: Callable[..., Any], argv: Sequence[Any] = (), _reactor: Any = None) -> NoReturn:
    """Run ``main(reactor, *argv)`` on the reactor until its result fires, then exit.

    ``main`` is called once the reactor is running (Twisted calls it just before), so a
    coroutine ``main`` can await asyncio libraries from its first line.

    ``main`` may return a Deferred or be a coroutine function. The process exits with
    status 0 on success, the code of a SystemExit it raised, or 1 after logging any other
    failure; the reactor is stopped first.
    """
    if _reactor is None:
        _reactor = _globalReactor()
    from torsion.internet.error import ReactorNotRunning
    from torsion.python import log

    code: Any = 0
    stopping = False

    def onShutdown() -> None:
        nonlocal stopping
        stopping = True

    _reactor.addSystemEventTrigger("before", "shutdown", onShutdown)

    def stop(result: object, stopReactor: bool) -> None:
        nonlocal code
        if stopReactor:
            try:
                _reactor.stop()
            except ReactorNotRunning:
                pass
        if isinstance(result, Failure):
            if result.check(SystemExit) is not None:
                code = cast(SystemExit, result.value).code
            else:
                log.err(result, "main function encountered error")
                code = 1

    def finish(result: object) -> None:
        if stopping:
            stop(result, False)
        else:
            _reactor.callWhenRunning(stop, result, True)

    def start() -> None:
        # main runs once the loop is running, so a coroutine main may use asyncio
        # (asyncio.sleep, get_running_loop) from its first line.
        _callMain(main, _reactor, argv).addBoth(finish)

    _reactor.callWhenRunning(start)
    _reactor.run()
    sys.exit(code)
