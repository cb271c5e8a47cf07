"""Tests for torsion.internet.task: Clock, LoopingCall, deferLater, Cooperator and react."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from torsion.internet import error, task
from torsion.internet.defer import CancelledError, Deferred, succeed
from torsion.internet.interfaces import IReactorTime
from torsion.internet.task import Clock, LoopingCall
from torsion.python import log
from torsion.python.failure import Failure

_: IReactorTime = Clock()


def _result(d: Deferred[Any]) -> list[Any]:
    results: list[Any] = []
    d.addBoth(results.append)
    return results


# --- Clock ---------------------------------------------------------------------------------------


def test_clockStartsAtZero() -> None:
    """A new Clock reads 0.0."""
    assert Clock().seconds() == 0.0


def test_clockAdvanceMovesTime() -> None:
    """advance adds its amount to the clock's time."""
    clock = Clock()
    clock.advance(2.5)
    clock.advance(1)
    assert clock.seconds() == 3.5


def test_callLaterRunsWhenDue() -> None:
    """A call runs once the clock reaches its time, not before."""
    clock = Clock()
    calls: list[tuple[Any, ...]] = []
    clock.callLater(3, lambda *a, **kw: calls.append((a, kw)), 1, k=2)
    clock.advance(2.9)
    assert calls == []
    clock.advance(0.1)
    assert calls == [((1,), {"k": 2})]


def test_callsRunInTimeOrder() -> None:
    """Calls scheduled out of order run in order of their times."""
    clock = Clock()
    order: list[int] = []
    clock.callLater(2, order.append, 2)
    clock.callLater(1, order.append, 1)
    clock.callLater(3, order.append, 3)
    clock.advance(5)
    assert order == [1, 2, 3]


def test_callScheduledDuringAdvanceRunsIfDue() -> None:
    """A call scheduled by a running call runs in the same advance if it is already due."""
    clock = Clock()
    order: list[str] = []
    clock.callLater(1, lambda: clock.callLater(0, order.append, "inner"))
    clock.advance(1)
    assert order == ["inner"]


def test_delayedCallCancel() -> None:
    """A cancelled call never runs, is inactive, and is gone from getDelayedCalls."""
    clock = Clock()
    calls: list[int] = []
    call = clock.callLater(1, calls.append, 1)
    call.cancel()
    clock.advance(2)
    assert calls == []
    assert not call.active()
    assert call.cancelled
    assert clock.getDelayedCalls() == []


def test_cancelTwiceRaisesAlreadyCancelled() -> None:
    """Cancelling a cancelled call raises AlreadyCancelled."""
    call = Clock().callLater(1, lambda: None)
    call.cancel()
    with pytest.raises(error.AlreadyCancelled):
        call.cancel()


def test_cancelAfterCallRaisesAlreadyCalled() -> None:
    """Cancelling a call that ran raises AlreadyCalled; it is marked called."""
    clock = Clock()
    call = clock.callLater(1, lambda: None)
    clock.advance(1)
    assert call.called
    with pytest.raises(error.AlreadyCalled):
        call.cancel()


def test_resetAfterCallRaisesAlreadyCalled() -> None:
    """Resetting a call that ran raises AlreadyCalled."""
    clock = Clock()
    call = clock.callLater(1, lambda: None)
    clock.advance(1)
    with pytest.raises(error.AlreadyCalled):
        call.reset(1)


def test_resetReschedulesFromNow() -> None:
    """reset(n) moves the call to n seconds after the current time."""
    clock = Clock()
    calls: list[int] = []
    call = clock.callLater(2, calls.append, 1)
    clock.advance(1)
    call.reset(3)
    assert call.getTime() == 4
    clock.advance(2.5)
    assert calls == []
    clock.advance(0.5)
    assert calls == [1]


def test_delayPushesCallBack() -> None:
    """delay(n) adds n seconds to the call's time."""
    clock = Clock()
    call = clock.callLater(2, lambda: None)
    call.delay(3)
    assert call.getTime() == 5
    clock.advance(4)
    assert call.active()


def test_getDelayedCallsListsPendingCalls() -> None:
    """getDelayedCalls lists the calls not yet run, soonest first."""
    clock = Clock()
    late = clock.callLater(5, lambda: None)
    soon = clock.callLater(1, lambda: None)
    assert clock.getDelayedCalls() == [soon, late]
    clock.advance(1)
    assert clock.getDelayedCalls() == [late]


def test_pumpAdvancesByEachAmount() -> None:
    """pump advances by each amount, running calls due at each step."""
    clock = Clock()
    seen: list[float] = []
    for t in (1, 2, 3):
        clock.callLater(t, lambda: seen.append(clock.seconds()))
    clock.pump([1, 1, 1])
    assert seen == [1, 2, 3]


def test_exceptionFromCallPropagatesOutOfAdvance() -> None:
    """An exception raised by a call comes out of advance so the test sees it."""
    clock = Clock()
    clock.callLater(1, lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        clock.advance(1)


def test_rightNowIsTheTime() -> None:
    """rightNow holds the clock's time."""
    clock = Clock()
    clock.advance(7)
    assert clock.rightNow == 7


# --- LoopingCall ---------------------------------------------------------------------------------


def _looping(f: Callable[..., object], *a: Any, **kw: Any) -> tuple[LoopingCall, Clock]:
    clock = Clock()
    lc = LoopingCall(f, *a, **kw)
    lc.clock = clock
    return lc, clock


def test_loopingCallRunsAtStartAndEveryInterval() -> None:
    """With now=True the function runs at once and then every interval."""
    times: list[float] = []
    lc, clock = _looping(lambda: times.append(clock.seconds()))
    lc.start(1.0)
    clock.pump([1, 1, 1])
    assert times == [0, 1, 2, 3]


def test_loopingCallNowFalseWaitsOneInterval() -> None:
    """With now=False the first call happens one interval after start."""
    times: list[float] = []
    lc, clock = _looping(lambda: times.append(clock.seconds()))
    lc.start(2.0, now=False)
    assert times == []
    clock.advance(2)
    assert times == [2]


def test_loopingCallPassesArguments() -> None:
    """The function receives the positional and keyword arguments given to LoopingCall."""
    calls: list[tuple[Any, ...]] = []
    lc, clock = _looping(lambda *a, **kw: calls.append((a, kw)), 1, x=2)
    lc.start(1)
    assert calls == [((1,), {"x": 2})]


def test_stopFiresStartDeferredWithLoopingCall() -> None:
    """stop() fires the start Deferred with the LoopingCall and no more calls happen."""
    count: list[int] = []
    lc, clock = _looping(lambda: count.append(1))
    results = _result(lc.start(1))
    clock.advance(1)
    lc.stop()
    clock.advance(5)
    assert results == [lc]
    assert len(count) == 2
    assert not lc.running
    assert clock.getDelayedCalls() == []


def test_runningAttributeTracksState() -> None:
    """running is True between start and stop."""
    lc, clock = _looping(lambda: None)
    assert not lc.running
    lc.start(1)
    assert lc.running
    lc.stop()
    assert not lc.running


def test_startTwiceRaises() -> None:
    """Starting a running LoopingCall raises AssertionError, as in Twisted."""
    lc, clock = _looping(lambda: None)
    lc.start(1)
    with pytest.raises(AssertionError):
        lc.start(1)


def test_stopWhenNotRunningRaises() -> None:
    """Stopping a LoopingCall that is not running raises AssertionError, as in Twisted."""
    lc, clock = _looping(lambda: None)
    with pytest.raises(AssertionError):
        lc.stop()


def test_negativeIntervalRejected() -> None:
    """A negative interval raises ValueError."""
    lc, clock = _looping(lambda: None)
    with pytest.raises(ValueError):
        lc.start(-1)


def test_failingCallErrbacksAndStops() -> None:
    """An exception from the function fails the start Deferred and stops the loop."""
    calls: list[int] = []

    def f() -> None:
        calls.append(1)
        if len(calls) == 2:
            raise ValueError("bad")

    lc, clock = _looping(f)
    results = _result(lc.start(1))
    clock.advance(1)
    clock.advance(5)
    assert len(calls) == 2
    assert isinstance(results[0], Failure) and results[0].check(ValueError)
    assert not lc.running
    assert clock.getDelayedCalls() == []


def test_deferredResultDelaysNextCall() -> None:
    """A Deferred returned by the function delays the next call until it fires."""
    pending: list[Deferred[None]] = []
    times: list[float] = []

    def f() -> Deferred[None]:
        times.append(clock.seconds())
        d: Deferred[None] = Deferred()
        pending.append(d)
        return d

    lc, clock = _looping(f)
    lc.start(1)
    clock.advance(3)
    assert times == [0]
    pending[0].callback(None)
    clock.advance(1)
    assert times == [0, 4]


def test_failedDeferredResultErrbacks() -> None:
    """A Deferred returned by the function that fails fails the start Deferred."""
    d: Deferred[None] = Deferred()
    lc, clock = _looping(lambda: d)
    results = _result(lc.start(1))
    d.errback(KeyError("k"))
    assert results[0].check(KeyError)
    assert not lc.running


def test_stopWhileDeferredPendingFiresAfterIt() -> None:
    """stop() during a pending Deferred fires the start Deferred once it completes."""
    d: Deferred[None] = Deferred()
    lc, clock = _looping(lambda: d)
    results = _result(lc.start(1))
    lc.stop()
    assert results == []
    d.callback(None)
    assert results == [lc]


def test_coroutineFunctionIsAwaited() -> None:
    """A coroutine function's result is awaited before the next call is scheduled."""
    gate: Deferred[None] = Deferred()
    times: list[float] = []

    async def f() -> None:
        times.append(clock.seconds())
        await gate

    lc, clock = _looping(f)
    lc.start(1)
    clock.advance(2)
    assert times == [0]
    gate.callback(None)
    assert clock.getDelayedCalls()[0].getTime() == 3


def test_slowCallSkipsMissedIntervals() -> None:
    """A call that ends after several intervals resumes at the next boundary, skipping the
    missed ones instead of running them in a burst."""
    times: list[float] = []
    pending: list[Deferred[None]] = []

    def f() -> Deferred[None] | None:
        times.append(clock.seconds())
        if len(times) == 1:
            d: Deferred[None] = Deferred()
            pending.append(d)
            return d
        return None

    lc, clock = _looping(f)
    lc.start(1)
    clock.advance(3.5)
    pending[0].callback(None)
    clock.advance(0.5)
    assert times == [0, 4]
    clock.advance(1)
    assert times == [0, 4, 5]


def test_clockJumpRunsOnceAndRealigns() -> None:
    """Advancing the clock by several intervals at once runs the call once, then keeps to
    the original schedule."""
    times: list[float] = []
    lc, clock = _looping(lambda: times.append(clock.seconds()))
    lc.start(1)
    clock.advance(3.5)
    assert times == [0, 3.5]
    clock.advance(0.5)
    assert times == [0, 3.5, 4]


def test_withCountCountsOneIntervalNormally() -> None:
    """withCount passes 1 to each call when no interval was missed."""
    counts: list[int] = []
    clock = Clock()
    lc = LoopingCall.withCount(counts.append)
    lc.clock = clock
    lc.start(1)
    clock.pump([1, 1])
    assert counts == [1, 1, 1]


def test_withCountIncludesSkippedIntervals() -> None:
    """withCount passes the number of intervals elapsed, including skipped ones."""
    counts: list[int] = []
    clock = Clock()
    lc = LoopingCall.withCount(counts.append)
    lc.clock = clock
    lc.start(1)
    clock.advance(3.5)
    clock.advance(0.5)
    assert counts == [1, 3, 1]


def test_withCountNowFalse() -> None:
    """withCount with now=False counts the first interval as 1."""
    counts: list[int] = []
    clock = Clock()
    lc = LoopingCall.withCount(counts.append)
    lc.clock = clock
    lc.start(2, now=False)
    clock.advance(2)
    clock.advance(6)
    assert counts == [1, 3]


def test_withCountZeroIntervalAlwaysOne() -> None:
    """withCount with interval 0 always passes 1."""
    counts: list[int] = []
    clock = Clock()
    lc = LoopingCall.withCount(lambda n: counts.append(n) if len(counts) < 3 else lc.stop())
    lc.clock = clock
    lc.start(0)
    clock.pump([0, 0, 0, 0])
    assert counts == [1, 1, 1]


def test_resetRestartsInterval() -> None:
    """reset() makes the next call one full interval from now."""
    times: list[float] = []
    lc, clock = _looping(lambda: times.append(clock.seconds()))
    lc.start(2)
    clock.advance(1)
    lc.reset()
    clock.advance(1.5)
    assert times == [0]
    clock.advance(0.5)
    assert times == [0, 3]


def test_deferredAttributeIsStartDeferred() -> None:
    """The deferred attribute is the Deferred that start returned, until it fires."""
    lc, clock = _looping(lambda: None)
    d = lc.start(1)
    assert lc.deferred is d
    lc.stop()
    assert lc.deferred is None


def test_clockDefaultsToNothingUntilUsed() -> None:
    """Making a LoopingCall and assigning a clock does not touch the global reactor."""
    import sys

    before = "torsion.internet.reactor" in sys.modules
    lc = LoopingCall(lambda: None)
    lc.clock = Clock()
    lc.start(1)
    lc.stop()
    assert ("torsion.internet.reactor" in sys.modules) == before


def test_reprNamesFunction() -> None:
    """repr shows the interval and the function."""

    def tick() -> None:
        pass

    lc, clock = _looping(tick)
    lc.start(1)
    assert "tick" in repr(lc) and "1" in repr(lc)


# --- deferLater ----------------------------------------------------------------------------------


def test_deferLaterFiresWithCallableResult() -> None:
    """deferLater fires after the delay with the callable's result."""
    clock = Clock()
    results = _result(task.deferLater(clock, 2, lambda a, b: a + b, 1, b=2))
    clock.advance(1.9)
    assert results == []
    clock.advance(0.1)
    assert results == [3]


def test_deferLaterWithoutCallableFiresNone() -> None:
    """deferLater with no callable fires with None."""
    clock = Clock()
    results = _result(task.deferLater(clock, 1))
    clock.advance(1)
    assert results == [None]


def test_deferLaterFailsWhenCallableRaises() -> None:
    """deferLater fails with the callable's exception."""
    clock = Clock()
    results = _result(task.deferLater(clock, 1, lambda: 1 / 0))
    clock.advance(1)
    assert results[0].check(ZeroDivisionError)


def test_deferLaterCancelUnschedules() -> None:
    """Cancelling deferLater's Deferred removes the call and fails with CancelledError."""
    clock = Clock()
    called: list[int] = []
    d = task.deferLater(clock, 1, called.append, 1)
    results = _result(d)
    d.cancel()
    assert clock.getDelayedCalls() == []
    clock.advance(2)
    assert called == []
    assert results[0].check(CancelledError)


# --- Cooperator ----------------------------------------------------------------------------------


def _cooperator(clock: Clock, steps: int | None = None) -> task.Cooperator:
    """A Cooperator driven by ``clock`` (one slice per second), each slice running ``steps``
    steps (default 1)."""

    def terminator() -> Callable[[], bool]:
        left = [steps or 1]

        def done() -> bool:
            left[0] -= 1
            return left[0] <= 0

        return done

    return task.Cooperator(terminationPredicateFactory=terminator,
                           scheduler=lambda f: clock.callLater(1, f))


def _counting(out: list[int], n: int) -> Iterator[None]:
    for i in range(n):
        out.append(i)
        yield None


def test_coiterateRunsIteratorToEnd() -> None:
    """coiterate runs every step and fires with the iterator."""
    clock = Clock()
    out: list[int] = []
    iterator = _counting(out, 3)
    results = _result(_cooperator(clock).coiterate(iterator))
    clock.pump([1] * 5)
    assert out == [0, 1, 2]
    assert results == [iterator]


def test_tasksInterleave() -> None:
    """Two tasks take turns, one step each per slice."""
    clock = Clock()
    out: list[str] = []

    def gen(tag: str) -> Iterator[None]:
        for i in range(2):
            out.append(f"{tag}{i}")
            yield None

    coop = _cooperator(clock)
    coop.cooperate(gen("a"))
    coop.cooperate(gen("b"))
    clock.pump([1] * 6)
    assert out == ["a0", "b0", "a1", "b1"]


def test_sliceEndsAtTerminationPredicate() -> None:
    """A slice runs steps until the termination predicate says stop, then reschedules."""
    clock = Clock()
    out: list[int] = []
    coop = _cooperator(clock, steps=2)
    coop.cooperate(_counting(out, 5))
    clock.advance(1)
    assert out == [0, 1]
    clock.advance(1)
    assert out == [0, 1, 2, 3]


def test_pauseAndResume() -> None:
    """A paused task runs no steps until resumed."""
    clock = Clock()
    out: list[int] = []
    t = _cooperator(clock).cooperate(_counting(out, 5))
    clock.advance(1)
    t.pause()
    clock.pump([1, 1])
    assert out == [0]
    t.resume()
    clock.advance(1)
    assert out == [0, 1]


def test_resumeUnpausedRaisesNotPaused() -> None:
    """Resuming a task that is not paused raises NotPaused."""
    t = _cooperator(Clock()).cooperate(iter([]))
    with pytest.raises(task.NotPaused):
        t.resume()


def test_stopFailsWhenDoneWithTaskStopped() -> None:
    """Stopping a task fails its whenDone Deferreds with TaskStopped."""
    clock = Clock()
    out: list[int] = []
    t = _cooperator(clock).cooperate(_counting(out, 5))
    results = _result(t.whenDone())
    t.stop()
    clock.pump([1, 1])
    assert out == []
    assert results[0].check(task.TaskStopped)


def test_pauseAfterDoneRaisesTaskDone() -> None:
    """Pausing a finished task raises TaskDone."""
    clock = Clock()
    t = _cooperator(clock).cooperate(iter([1]))
    clock.pump([1, 1])
    with pytest.raises(task.TaskDone):
        t.pause()


def test_stopAfterStopRaisesTaskStopped() -> None:
    """Stopping a stopped task raises TaskStopped."""
    t = _cooperator(Clock()).cooperate(iter([1]))
    t.stop()
    with pytest.raises(task.TaskStopped):
        t.stop()


def test_failingIteratorFailsTask() -> None:
    """An iterator that raises fails whenDone with its error; pause then raises TaskFailed."""
    clock = Clock()

    def bad() -> Iterator[None]:
        yield None
        raise ValueError("x")

    t = _cooperator(clock).cooperate(bad())
    results = _result(t.whenDone())
    clock.pump([1, 1, 1])
    assert results[0].check(ValueError)
    with pytest.raises(task.TaskFailed):
        t.pause()


def test_yieldedDeferredPausesTask() -> None:
    """A step yielding a Deferred pauses the task until the Deferred fires."""
    clock = Clock()
    gate: Deferred[None] = Deferred()
    out: list[int] = []

    def gen() -> Iterator[Any]:
        out.append(1)
        yield gate
        out.append(2)

    results = _result(_cooperator(clock).coiterate(gen()))
    clock.pump([1, 1, 1])
    assert out == [1]
    gate.callback(None)
    clock.pump([1, 1])
    assert out == [1, 2]
    assert len(results) == 1 and not isinstance(results[0], Failure)


def test_yieldedDeferredFailureFailsTask() -> None:
    """A yielded Deferred that fails fails the task with its failure."""
    clock = Clock()
    gate: Deferred[None] = Deferred()
    results = _result(_cooperator(clock).coiterate(iter([gate])))
    clock.advance(1)
    gate.errback(KeyError("k"))
    assert results[0].check(KeyError)


def test_cooperatorStopFailsTasksWithSchedulerStopped() -> None:
    """Stopping the Cooperator fails all tasks with SchedulerStopped, and new ones at once."""
    clock = Clock()
    coop = _cooperator(clock)
    first = _result(coop.coiterate(_counting([], 5)))
    coop.stop()
    later = _result(coop.coiterate(_counting([], 5)))
    assert first[0].check(task.SchedulerStopped)
    assert later[0].check(task.SchedulerStopped)
    assert not coop.running
    assert clock.getDelayedCalls() == []


def test_cooperatorNotStartedWaitsForStart() -> None:
    """A Cooperator made with started=False runs nothing until start()."""
    clock = Clock()
    out: list[int] = []
    coop = task.Cooperator(scheduler=lambda f: clock.callLater(0, f), started=False)
    coop.cooperate(_counting(out, 2))
    clock.pump([1, 1])
    assert out == []
    coop.start()
    clock.pump([1, 1, 1])
    assert out == [0, 1]


def test_whenDoneAfterFinishFiresAtOnce() -> None:
    """whenDone on a finished task fires immediately with the result."""
    clock = Clock()
    iterator = iter([1])
    t = _cooperator(clock).cooperate(iterator)
    clock.pump([1, 1])
    assert _result(t.whenDone()) == [iterator]


def test_timerTerminatesAfterSlice() -> None:
    """The default termination predicate reports the slice over only after MAX_SLICE."""
    timer = task._Timer()
    assert timer() is False
    timer.end = 0
    assert timer() is True


# --- react ---------------------------------------------------------------------------------------


class _FakeReactor:
    """Just enough reactor for react: run() runs the when-running calls, stop() records."""

    def __init__(self) -> None:
        self.whenRunning: list[tuple[Callable[..., object], tuple[Any, ...]]] = []
        self.triggers: list[Callable[[], object]] = []
        self.stopped = False
        self.running = False

    def addSystemEventTrigger(self, phase: str, event: str, f: Callable[[], object]) -> None:
        self.triggers.append(f)

    def callWhenRunning(self, f: Callable[..., object], *a: Any) -> None:
        if self.running:
            f(*a)
        else:
            self.whenRunning.append((f, a))

    def run(self) -> None:
        self.running = True
        for f, a in self.whenRunning:
            f(*a)
        self.running = False

    def stop(self) -> None:
        if self.stopped:
            raise error.ReactorNotRunning()
        self.stopped = True
        for f in self.triggers:
            f()


def test_reactExitsZeroOnSuccess() -> None:
    """react stops the reactor and exits 0 when main's Deferred succeeds."""
    reactor = _FakeReactor()
    seen: list[Any] = []

    def main(r: Any, *argv: Any) -> Deferred[None]:
        seen.append((r, argv))
        return succeed(None)

    with pytest.raises(SystemExit) as exc:
        task.react(main, ("a",), _reactor=reactor)
    assert exc.value.code == 0
    assert seen == [(reactor, ("a",))]
    assert reactor.stopped


def test_reactExitsOneAndLogsOnFailure() -> None:
    """react logs main's failure and exits with status 1."""
    reactor = _FakeReactor()
    events: list[dict[str, Any]] = []
    log.addObserver(events.append)
    try:
        with pytest.raises(SystemExit) as exc:
            task.react(lambda r: 1 / 0, _reactor=reactor)
    finally:
        log.removeObserver(events.append)
    assert exc.value.code == 1
    assert any(e.get("why") == "main function encountered error" for e in events)
    assert events[-1]["failure"].check(ZeroDivisionError)


def test_reactUsesSystemExitCode() -> None:
    """A SystemExit raised by main sets the exit status without logging an error."""
    reactor = _FakeReactor()

    def main(r: Any) -> None:
        raise SystemExit(7)

    with pytest.raises(SystemExit) as exc:
        task.react(main, _reactor=reactor)
    assert exc.value.code == 7


def test_reactRunsCoroutineFunction() -> None:
    """A coroutine function main is run to completion before exiting."""
    reactor = _FakeReactor()
    done: list[int] = []

    async def main(r: Any) -> None:
        await succeed(None)
        done.append(1)

    with pytest.raises(SystemExit) as exc:
        task.react(main, _reactor=reactor)
    assert exc.value.code == 0
    assert done == [1]


def test_reactWaitsForLaterResult() -> None:
    """react keeps running until a Deferred fired later (while running) fires."""
    reactor = _FakeReactor()
    d: Deferred[None] = Deferred()
    reactor.callWhenRunning(d.callback, None)
    with pytest.raises(SystemExit) as exc:
        task.react(lambda r: d, _reactor=reactor)
    assert exc.value.code == 0
    assert reactor.stopped


def test_reactDoesNotStopStoppingReactor() -> None:
    """When the reactor is already shutting down react does not stop it again."""
    reactor = _FakeReactor()
    d: Deferred[None] = Deferred()

    def main(r: Any) -> Deferred[None]:
        return d

    def shutdown() -> None:
        reactor.stop()
        d.errback(Failure(ValueError("late")))

    reactor.callWhenRunning(shutdown)
    with pytest.raises(SystemExit) as exc:
        task.react(main, _reactor=reactor)
    assert exc.value.code == 1


# --- on a real reactor ---------------------------------------------------------------------------


@pytest.mark.integration
def test_reactOnRealReactor(reactor: Any) -> None:
    """react runs main on a real reactor, stops it when main's Deferred fires, exits 0."""
    seen: list[str] = []

    def main(r: Any) -> Deferred[None]:
        return task.deferLater(r, 0.01, seen.append, "ran")

    with pytest.raises(SystemExit) as exc:
        task.react(main, _reactor=reactor)
    assert exc.value.code == 0
    assert seen == ["ran"]
    assert not reactor.running


def test_reactMainMayAwaitAsyncioFirst(reactor: Any) -> None:
    """A coroutine main may await asyncio from its first line: it runs on a running loop."""
    import asyncio

    seen: list[str] = []

    async def main(r: Any) -> None:
        asyncio.get_running_loop()
        await asyncio.sleep(0.001)
        seen.append("awaited")

    with pytest.raises(SystemExit) as exc:
        task.react(main, _reactor=reactor)
    assert exc.value.code == 0
    assert seen == ["awaited"]


@pytest.mark.integration
def test_reactCoroutineFailureOnRealReactor(reactor: Any, classic: list[dict[str, Any]]
                                            ) -> None:
    """A failing coroutine main exits with status 1 after its error is logged."""

    async def main(r: Any) -> None:
        await task.deferLater(r, 0)
        raise KeyError("late")

    with pytest.raises(SystemExit) as exc:
        task.react(main, _reactor=reactor)
    assert exc.value.code == 1
    errors = [e for e in classic if e.get("why") == "main function encountered error"]
    assert errors[0]["failure"].check(KeyError)


@pytest.mark.integration
def test_loopingCallOnRealReactor(reactor: Any, run: Any) -> None:
    """A LoopingCall on a real reactor runs repeatedly until stopped."""
    count: list[int] = []
    lc = LoopingCall(lambda: count.append(1) if len(count) < 3 else lc.stop())
    lc.clock = reactor
    assert run(lc.start(0.001)) is lc
    assert len(count) == 3


@pytest.mark.integration
def test_cooperatorOnRealReactor(reactor: Any, run: Any) -> None:
    """A Cooperator scheduled with the reactor's callLater runs an iterator to completion."""
    out: list[int] = []
    coop = task.Cooperator(scheduler=lambda f: reactor.callLater(0, f))
    iterator = iter(out.append(i) for i in range(100))
    assert run(coop.coiterate(iterator)) is iterator
    assert out == list(range(100))


def test_resetWhenNotRunningRaises() -> None:
    """Resetting a LoopingCall that is not running raises AssertionError, as in Twisted."""
    lc, clock = _looping(lambda: None)
    with pytest.raises(AssertionError):
        lc.reset()


def test_taskPausedByAnotherStepDoesNotRun() -> None:
    """A task paused (or stopped) by another task's step in the same round runs no step."""
    clock = Clock()
    out: list[str] = []
    coop = _cooperator(clock, steps=10)
    tasks: list[task.CooperativeTask] = []

    def first() -> Iterator[None]:
        out.append("a")
        tasks[1].pause()
        tasks[2].stop()
        yield None

    def other(tag: str) -> Iterator[None]:
        out.append(tag)
        yield None

    tasks.append(coop.cooperate(first()))
    tasks.append(coop.cooperate(other("b")))
    tasks.append(coop.cooperate(other("c")))
    clock.advance(1)
    assert out == ["a"]


def test_resetDuringAdvanceReordersCalls() -> None:
    """A call reset by another call during advance runs at its new time, in order."""
    clock = Clock()
    order: list[str] = []
    late = clock.callLater(5, order.append, "late")
    clock.callLater(1, lambda: late.delay(-4))
    clock.callLater(2, order.append, "two")
    clock.advance(3)
    assert order == ["late", "two"]


@pytest.mark.integration
def test_reactAndCoiterateWithGlobalReactor() -> None:
    """In a fresh process, react and coiterate find the global reactor themselves; the exit
    status is main's outcome."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent("""
        import sys
        from torsion.internet import task
        assert "torsion.internet.reactor" not in sys.modules
        out = []

        def main(reactor):
            return task.coiterate(out.append(i) for i in range(3))

        try:
            task.react(main)
        finally:
            print(out)
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[0, 1, 2]"
