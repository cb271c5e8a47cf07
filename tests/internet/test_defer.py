"""Tests for torsion.internet.defer.Deferred: firing, chains, chaining, pause, cancel, timeouts,
debugging and unhandled-error logging."""

from __future__ import annotations

import gc
from typing import Any

import pytest

from torsion.internet import defer
from torsion.internet.defer import (
    AlreadyCalledError,
    CancelledError,
    Deferred,
    fail,
    succeed,
)
from torsion.internet.task import Clock
from torsion.logger import globalLogPublisher
from torsion.python.failure import Failure


def _results(d: Deferred[Any]) -> list[Any]:
    out: list[Any] = []
    d.addBoth(out.append)
    return out


# -- firing and the chain -----------------------------------------------------------------


def test_callbackRunsCallbacksInOrder() -> None:
    """Callbacks run in order, each receiving the previous one's result."""
    d: Deferred[int] = Deferred()
    d.addCallback(lambda x: x + 1).addCallback(lambda x: x * 10)
    out = _results(d)
    d.callback(1)
    assert out == [20]


def test_callbacksRunSynchronouslyWhenFired() -> None:
    """Nothing runs before callback(); everything runs during it."""
    d: Deferred[int] = Deferred()
    out = _results(d)
    assert out == []
    d.callback(5)
    assert out == [5]


def test_callbackAddedAfterFiringRunsAtOnce() -> None:
    """A callback added to an already-fired Deferred runs immediately."""
    d = succeed(3)
    out: list[int] = []
    d.addCallback(out.append)
    assert out == [3]


def test_extraArgsAndKwargsPassedToCallback() -> None:
    """addCallback passes extra positional and keyword arguments after the result."""
    d: Deferred[int] = Deferred()
    d.addCallback(lambda x, a, b=0: (x, a, b), 2, b=3)
    out = _results(d)
    d.callback(1)
    assert out == [(1, 2, 3)]


def test_extraArgsAndKwargsPassedToErrback() -> None:
    """addErrback passes extra positional and keyword arguments after the Failure."""
    d: Deferred[int] = Deferred()
    d.addErrback(lambda f, a, b=0: (f.type, a, b), "x", b="y")
    out = _results(d)
    d.errback(ValueError())
    assert out == [(ValueError, "x", "y")]


def test_addCallbacksWithArgsAndKeywords() -> None:
    """addCallbacks passes callbackArgs/Keywords to the callback that runs."""
    d: Deferred[int] = Deferred()
    d.addCallbacks(lambda x, a, k: (x, a, k), lambda f: "wrong",
                   callbackArgs=(1,), callbackKeywords={"k": 2})
    out = _results(d)
    d.callback(0)
    assert out == [(0, 1, 2)]


def test_addCallbacksErrbackArgsAndKeywords() -> None:
    """addCallbacks passes errbackArgs/Keywords to the errback that runs."""
    d: Deferred[int] = Deferred()
    d.addCallbacks(lambda x: "wrong", lambda f, a, k: (f.type, a, k),
                   errbackArgs=(1,), errbackKeywords={"k": 2})
    out = _results(d)
    d.errback(KeyError())
    assert out == [(KeyError, 1, 2)]


def test_exceptionInCallbackSwitchesToErrbacks() -> None:
    """An exception raised in a callback becomes a Failure passed to the next errback."""
    d: Deferred[int] = Deferred()
    skipped: list[int] = []
    d.addCallback(lambda x: 1 // 0)
    d.addCallback(skipped.append)
    out: list[Failure] = []
    d.addErrback(out.append)
    d.callback(1)
    assert skipped == []
    assert out[0].type is ZeroDivisionError


def test_errbackReturningValueSwitchesBackToCallbacks() -> None:
    """An errback that returns a value hands it to the next callback."""
    d: Deferred[int] = Deferred()
    d.addErrback(lambda f: "recovered")
    out = _results(d)
    d.errback(ValueError())
    assert out == ["recovered"]


def test_callbackReturningFailureSwitchesToErrbacks() -> None:
    """A callback returning a Failure (rather than raising) also switches to errbacks."""
    d: Deferred[int] = Deferred()
    d.addCallback(lambda x: Failure(KeyError("k")))
    out: list[Any] = []
    d.addErrback(lambda f: out.append(f.type))
    d.callback(1)
    assert out == [KeyError]


def test_errbackSkippedOnSuccess() -> None:
    """Errbacks are skipped while the result is a value."""
    d: Deferred[int] = Deferred()
    called: list[Any] = []
    d.addErrback(called.append)
    out = _results(d)
    d.callback(4)
    assert called == [] and out == [4]


def test_addBothGetsValuesAndFailures() -> None:
    """addBoth's function is called with a value or with a Failure."""
    ok: Deferred[int] = Deferred()
    bad: Deferred[int] = Deferred()
    seen: list[Any] = []
    ok.addBoth(seen.append)
    bad.addBoth(lambda f: seen.append(f.type))
    ok.callback(1)
    bad.errback(KeyError())
    assert seen == [1, KeyError]


def test_errbackWithExceptionInstance() -> None:
    """errback(exception) wraps it in a Failure."""
    d: Deferred[int] = Deferred()
    out = _results(d)
    exc = RuntimeError("r")
    d.errback(exc)
    assert isinstance(out[0], Failure) and out[0].value is exc


def test_errbackWithoutArgumentUsesCurrentException() -> None:
    """errback() inside ``except`` uses the exception being handled."""
    d: Deferred[int] = Deferred()
    out = _results(d)
    try:
        raise OSError("io")
    except OSError:
        d.errback()
    assert out[0].type is OSError


def test_callbackAddedInsideCallbackRunsAfterCurrentOne() -> None:
    """A callback added from inside a running callback runs after the others, in order."""
    d: Deferred[int] = Deferred()
    order: list[str] = []

    def first(x: int) -> int:
        d.addCallback(lambda y: order.append("added") or y)
        order.append("first")
        return x

    d.addCallback(first)
    d.addCallback(lambda y: order.append("second") or y)
    d.callback(0)
    assert order == ["first", "second", "added"]


def test_calledFlagAndResult() -> None:
    """``called`` is False until fired; ``result`` then holds the current result."""
    d: Deferred[int] = Deferred()
    assert d.called is False
    assert not hasattr(d, "result")
    d.callback(9)
    assert d.called is True
    assert d.result == 9


def test_resultReflectsCallbackChain() -> None:
    """After callbacks ran, ``result`` is the last callback's return value."""
    d = succeed(2)
    d.addCallback(lambda x: x * 21)
    assert d.result == 42


# -- one-shot firing --------------------------------------------------------------------


def test_secondCallbackRaises() -> None:
    """Firing twice raises AlreadyCalledError."""
    d: Deferred[int] = Deferred()
    d.callback(1)
    with pytest.raises(AlreadyCalledError):
        d.callback(2)


def test_errbackAfterCallbackRaises() -> None:
    """errback after callback raises AlreadyCalledError."""
    d: Deferred[int] = Deferred()
    d.callback(1)
    with pytest.raises(AlreadyCalledError):
        d.errback(ValueError())


def test_callbackWithDeferredIsRejected() -> None:
    """callback() with a Deferred as the result is a programming error."""
    with pytest.raises(AssertionError):
        Deferred().callback(Deferred())


# -- chaining ---------------------------------------------------------------------------


def test_callbackReturningUnfiredDeferredWaits() -> None:
    """A callback returning an unfired Deferred pauses the outer chain until it fires."""
    inner: Deferred[str] = Deferred()
    outer: Deferred[int] = Deferred()
    outer.addCallback(lambda _: inner)
    out = _results(outer)
    outer.callback(1)
    assert out == []
    inner.callback("inner result")
    assert out == ["inner result"]


def test_callbackReturningFiredDeferredContinuesAtOnce() -> None:
    """A callback returning an already-fired Deferred continues with its result."""
    outer: Deferred[int] = Deferred()
    outer.addCallback(lambda x: succeed(x + 1))
    out = _results(outer)
    outer.callback(1)
    assert out == [2]


def test_chainedFailurePropagates() -> None:
    """A failure of the inner Deferred goes down the outer errbacks."""
    inner: Deferred[int] = Deferred()
    outer: Deferred[int] = Deferred()
    outer.addCallback(lambda _: inner)
    out: list[Any] = []
    outer.addErrback(lambda f: out.append(f.type))
    outer.callback(None)
    inner.errback(KeyError())
    assert out == [KeyError]


def test_innerResultBecomesNoneAfterChaining() -> None:
    """The inner Deferred's result is handed over; its own later callbacks see None."""
    inner: Deferred[int] = Deferred()
    outer: Deferred[int] = Deferred()
    outer.addCallback(lambda _: inner)
    outer.callback(None)
    inner.callback(3)
    assert _results(inner) == [None]


def test_chainedToShownInRepr() -> None:
    """A Deferred waiting on another says so in its repr."""
    inner: Deferred[int] = Deferred()
    outer: Deferred[int] = Deferred()
    outer.addCallback(lambda _: inner)
    outer.callback(None)
    assert "waiting on Deferred" in repr(outer)


def test_deepChainDoesNotRecurse() -> None:
    """100,000 Deferreds each waiting on the next fire without hitting the recursion limit."""
    ds: list[Deferred[int]] = [Deferred() for _ in range(100_000)]
    for a, b in zip(ds, ds[1:], strict=False):
        a.addCallback(lambda _, b=b: b)
    for a in ds[:-1]:
        a.callback(0)
    out = _results(ds[0])
    ds[-1].callback(7)
    assert out == [7]


def test_deepChainPropagatesFailure() -> None:
    """A failure at the end of a 100,000-long waiting chain reaches the first Deferred."""
    ds: list[Deferred[int]] = [Deferred() for _ in range(100_000)]
    for a, b in zip(ds, ds[1:], strict=False):
        a.addCallback(lambda _, b=b: b)
    for a in ds[:-1]:
        a.callback(0)
    out: list[Any] = []
    ds[0].addErrback(lambda f: out.append(f.type))
    ds[-1].errback(KeyError())
    assert out == [KeyError]


def test_longCallbackListDoesNotRecurse() -> None:
    """A Deferred with 100,000 callbacks runs them all."""
    d: Deferred[int] = Deferred()
    for _ in range(100_000):
        d.addCallback(lambda x: x + 1)
    d.callback(0)
    assert d.result == 100_000


def test_chainDeferredForwardsResult() -> None:
    """chainDeferred fires the other Deferred with this one's result."""
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    a.chainDeferred(b)
    out = _results(b)
    a.callback(6)
    assert out == [6]


def test_callbackReturningItsOwnDeferredFails() -> None:
    """A callback returning the Deferred it is attached to turns into a TypeError failure."""
    d: Deferred[Any] = Deferred()
    d.addCallback(lambda _: d)
    out: list[Any] = []
    d.addErrback(lambda f: out.append(f.type))
    d.callback(1)
    assert out == [TypeError]


# -- pause / unpause --------------------------------------------------------------------


def test_pausedDeferredDoesNotRunCallbacks() -> None:
    """Callbacks do not run while the Deferred is paused."""
    d: Deferred[int] = Deferred()
    d.pause()
    out = _results(d)
    d.callback(1)
    assert out == []


def test_unpauseResumesInOrder() -> None:
    """After unpause, pending callbacks run in the order they were added."""
    d: Deferred[int] = Deferred()
    d.pause()
    order: list[int] = []
    d.addCallback(lambda x: order.append(1) or x)
    d.callback(0)
    d.addCallback(lambda x: order.append(2) or x)
    d.unpause()
    assert order == [1, 2]


def test_nestedPauseNeedsMatchingUnpauses() -> None:
    """Two pauses need two unpauses before callbacks run."""
    d = succeed(1)
    d.pause()
    d.pause()
    out = _results(d)
    d.unpause()
    assert out == []
    d.unpause()
    assert out == [1]


# -- cancellation -----------------------------------------------------------------------


def test_cancelWithoutCancellerErrbacksCancelledError() -> None:
    """cancel() without a canceller fails the Deferred with CancelledError."""
    d: Deferred[int] = Deferred()
    out: list[Any] = []
    d.addErrback(lambda f: out.append(f.type))
    d.cancel()
    assert out == [CancelledError]


def test_cancelIgnoresLaterCallback() -> None:
    """After cancel() with no canceller, a later callback() is silently ignored once."""
    d: Deferred[int] = Deferred()
    d.addErrback(lambda f: None)
    d.cancel()
    d.callback(1)
    with pytest.raises(AlreadyCalledError):
        d.callback(2)


def test_cancellerIsCalled() -> None:
    """cancel() calls the canceller with the Deferred."""
    seen: list[Deferred[int]] = []
    d: Deferred[int] = Deferred(seen.append)
    d.addErrback(lambda f: None)
    d.cancel()
    assert seen == [d]


def test_cancellerThatFiresWins() -> None:
    """A canceller that fires the Deferred decides its result."""
    d: Deferred[str] = Deferred(lambda d: d.callback("cancelled nicely"))
    out = _results(d)
    d.cancel()
    assert out == ["cancelled nicely"]


def test_cancelAfterFiringDoesNothing() -> None:
    """cancel() on a fired Deferred changes nothing."""
    d = succeed(1)
    d.cancel()
    assert d.result == 1


def test_cancelChainedCancelsInner() -> None:
    """Cancelling a Deferred waiting on another cancels the inner one."""
    cancelled: list[Deferred[Any]] = []
    inner: Deferred[int] = Deferred(cancelled.append)
    outer: Deferred[int] = Deferred()
    outer.addCallback(lambda _: inner)
    out: list[Any] = []
    outer.addErrback(lambda f: out.append(f.type))
    outer.callback(None)
    outer.cancel()
    assert cancelled == [inner]
    assert out == [CancelledError]


def test_cancelDeepChainDoesNotRecurse() -> None:
    """Cancelling the head of a 100,000-long waiting chain cancels the innermost."""
    ds: list[Deferred[int]] = [Deferred() for _ in range(100_000)]
    for a, b in zip(ds, ds[1:], strict=False):
        a.addCallback(lambda _, b=b: b)
    for a in ds[:-1]:
        a.callback(0)
    out: list[Any] = []
    ds[0].addErrback(lambda f: out.append(f.type))
    ds[0].cancel()
    assert out == [CancelledError]


# -- timeouts ---------------------------------------------------------------------------


def test_addTimeoutTimesOut() -> None:
    """Without a result in time, the Deferred fails with TimeoutError."""
    clock = Clock()
    d: Deferred[int] = Deferred()
    d.addTimeout(5, clock)
    out: list[Any] = []
    d.addErrback(lambda f: out.append(f.type))
    clock.advance(4.9)
    assert out == []
    clock.advance(0.1)
    assert out == [defer.TimeoutError]


def test_addTimeoutResultInTimeCancelsTimer() -> None:
    """A result before the timeout passes through and cancels the delayed call."""
    clock = Clock()
    d: Deferred[int] = Deferred()
    d.addTimeout(5, clock)
    out = _results(d)
    d.callback(1)
    assert out == [1]
    assert clock.getDelayedCalls() == []


def test_addTimeoutCustomOnTimeoutCancel() -> None:
    """onTimeoutCancel(result, timeout) replaces the CancelledError on timeout."""
    clock = Clock()
    d: Deferred[Any] = Deferred()
    d.addTimeout(2, clock, onTimeoutCancel=lambda result, t: ("timed out", t))
    out = _results(d)
    clock.advance(2)
    assert out == [("timed out", 2)]


def test_addTimeoutUsesCanceller() -> None:
    """A timeout runs the canceller, whose own result passes through unchanged."""
    clock = Clock()
    d: Deferred[str] = Deferred(lambda d: d.callback("canceller result"))
    d.addTimeout(1, clock)
    out = _results(d)
    clock.advance(1)
    assert out == ["canceller result"]


# -- succeed / fail / maybeDeferred / execute -------------------------------------------


def test_succeed() -> None:
    """succeed() gives a fired Deferred with the value."""
    d = succeed("v")
    assert d.called and _results(d) == ["v"]


def test_failWithException() -> None:
    """fail(exc) gives a Deferred failed with that exception."""
    d = fail(KeyError("k"))
    out = _results(d)
    assert out[0].type is KeyError


def test_failWithoutArgumentUsesCurrentException() -> None:
    """fail() inside ``except`` uses the exception being handled."""
    try:
        raise OSError("x")
    except OSError:
        d = fail()
    assert _results(d)[0].type is OSError


def test_maybeDeferredValue() -> None:
    """maybeDeferred wraps a plain return value."""
    assert _results(defer.maybeDeferred(lambda a, b: a + b, 1, b=2)) == [3]


def test_maybeDeferredException() -> None:
    """maybeDeferred turns an exception into a failed Deferred."""
    out = _results(defer.maybeDeferred(lambda: 1 // 0))
    assert out[0].type is ZeroDivisionError


def test_maybeDeferredReturnsSameDeferred() -> None:
    """maybeDeferred returns a Deferred result as is."""
    d: Deferred[int] = Deferred()
    assert defer.maybeDeferred(lambda: d) is d


def test_maybeDeferredFailure() -> None:
    """maybeDeferred turns a returned Failure into a failed Deferred."""
    out = _results(defer.maybeDeferred(lambda: Failure(KeyError())))
    assert out[0].type is KeyError


def test_maybeDeferredCoroutine() -> None:
    """maybeDeferred runs a returned coroutine."""

    async def coro() -> int:
        return 4

    assert _results(defer.maybeDeferred(coro)) == [4]


def test_execute() -> None:
    """execute calls the function now and wraps its result or exception."""
    assert _results(defer.execute(lambda x: x * 2, 4)) == [8]
    assert _results(defer.execute(lambda: {}["x"]))[0].type is KeyError


# -- debugging and unhandled errors -----------------------------------------------------


@pytest.fixture
def debugging() -> Any:
    """Turn Deferred debugging on for one test."""
    defer.setDebugging(True)
    try:
        yield
    finally:
        defer.setDebugging(False)


def test_getDebuggingReflectsSetDebugging(debugging: None) -> None:
    """getDebugging tells whether setDebugging turned it on."""
    assert defer.getDebugging() is True
    defer.setDebugging(False)
    assert defer.getDebugging() is False


def test_alreadyCalledMessageShowsCreatorAndInvoker(debugging: None) -> None:
    """With debugging on, AlreadyCalledError shows where it was created and first fired."""

    def creatorFunction() -> Deferred[int]:
        return Deferred()

    def invokerFunction(d: Deferred[int]) -> None:
        d.callback(1)

    d = creatorFunction()
    invokerFunction(d)
    with pytest.raises(AlreadyCalledError) as info:
        d.callback(2)
    message = str(info.value)
    assert "C: Deferred was created:" in message and "creatorFunction" in message
    assert "I: First Invoker was:" in message and "invokerFunction" in message


def test_alreadyCalledMessageWithoutDebuggingHasNoStacks() -> None:
    """Without debugging, AlreadyCalledError carries no stacks."""
    d = succeed(1)
    with pytest.raises(AlreadyCalledError) as info:
        d.callback(2)
    assert "Deferred was created" not in str(info.value)


@pytest.fixture
def logged() -> Any:
    """Collect the events sent to the global log publisher during one test."""
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        yield events
    finally:
        globalLogPublisher.removeObserver(events.append)


def _raiseInCallback(x: object) -> None:
    raise ValueError("nobody handles me")


def test_unhandledErrorLoggedOnGarbageCollection(logged: list[dict[str, Any]]) -> None:
    """A Deferred left holding a Failure logs it, with its traceback, when collected."""
    d: Deferred[int] = Deferred()
    d.addCallback(_raiseInCallback)
    d.callback(1)
    del d
    gc.collect()
    failures = [e for e in logged if "Unhandled error in Deferred" in e.get("log_format", "")]
    assert len(failures) == 1
    failure = failures[0]["log_failure"]
    assert failure.type is ValueError
    assert "_raiseInCallback" in failure.getTraceback()


def test_handledErrorNotLogged(logged: list[dict[str, Any]]) -> None:
    """A Failure that an errback handled is not logged on collection."""
    d: Deferred[int] = Deferred()
    d.addCallback(_raiseInCallback)
    d.addErrback(lambda f: None)
    d.callback(1)
    del d
    gc.collect()
    assert not [e for e in logged if "Unhandled error" in e.get("log_format", "")]


def test_errorPassedOnToChainIsNotLoggedTwice(logged: list[dict[str, Any]]) -> None:
    """A failure handed to an outer Deferred via chaining is the outer one's to report."""

    def chainAndFail() -> None:
        inner: Deferred[int] = Deferred()
        outer: Deferred[int] = Deferred()
        outer.addCallback(lambda _: inner)
        outer.addErrback(lambda f: None)
        outer.callback(None)
        inner.errback(KeyError())

    chainAndFail()
    gc.collect()
    assert not [e for e in logged if "Unhandled error" in e.get("log_format", "")]


def test_debugInfoInUnhandledLog(logged: list[dict[str, Any]], debugging: None) -> None:
    """With debugging on, the unhandled-error log carries creator and invoker stacks."""
    d: Deferred[int] = Deferred()
    d.errback(KeyError())
    del d
    gc.collect()
    events = [e for e in logged if "Unhandled error" in e.get("log_format", "")]
    assert "Deferred was created" in events[0]["debugInfo"]


def test_logErrorLogsAndPassesFailureOn(logged: list[dict[str, Any]]) -> None:
    """logError logs the Failure with its traceback and returns it unchanged."""
    failure = Failure(KeyError("k"))
    assert defer.logError(failure) is failure
    assert [e["log_failure"] for e in logged if "log_failure" in e] == [failure]


def test_timeoutHelperErrbacks() -> None:
    """defer.timeout(d) errbacks d with TimeoutError."""
    d: Deferred[int] = Deferred()
    defer.timeout(d)
    assert _results(d)[0].type is defer.TimeoutError


def test_userPausedOuterWaitsAfterInnerFires() -> None:
    """An outer Deferred paused by its user stays paused when the inner one it waits on fires."""
    inner: Deferred[int] = Deferred()
    outer: Deferred[int] = Deferred()
    outer.addCallback(lambda _: inner)
    out = _results(outer)
    outer.callback(None)
    outer.pause()
    inner.callback(4)
    assert out == []
    outer.unpause()
    assert out == [4]


def test_returningPausedFiredDeferredWaitsForUnpause() -> None:
    """A callback returning a fired but paused Deferred waits until it is unpaused."""
    inner = succeed(3)
    inner.pause()
    outer: Deferred[int] = Deferred()
    outer.addCallback(lambda _: inner)
    out = _results(outer)
    outer.callback(None)
    assert out == []
    inner.unpause()
    assert out == [3]


def test_unpauseFiredDeferredWithoutCallbacks() -> None:
    """Pausing and unpausing a fired Deferred with no callbacks keeps its result."""
    d = succeed(1)
    d.pause()
    d.unpause()
    assert _results(d) == [1]


def test_succeedRecordsCreatorWhenDebugging(debugging: None) -> None:
    """With debugging on, succeed()'s Deferreds also carry their creation stack."""
    d = succeed(1)
    with pytest.raises(AlreadyCalledError) as info:
        d.callback(2)
    assert "Deferred was created" in str(info.value)


def test_errbackWithoutArgumentWhenDebuggingCapturesVars(debugging: None) -> None:
    """With debugging on, errback() captures the frames' locals for verbose tracebacks."""
    d: Deferred[int] = Deferred()
    out = _results(d)
    try:
        marker = "visible-local"  # noqa: F841 - shown in the traceback
        raise OSError("x")
    except OSError:
        d.errback()
    assert "visible-local" in out[0].getTraceback(detail="verbose")


def test_deferredAcceptsExtraAttributes() -> None:
    """Code may attach its own attributes to a Deferred, as it can in Twisted."""
    d: Deferred[int] = Deferred()
    d.request = "r"  # type: ignore[attr-defined]
    assert d.request == "r"  # type: ignore[attr-defined]


def test_resultInsideCallbackIsTheValuePassed() -> None:
    """While a callback runs, ``d.result`` is the value it was given (as in Twisted)."""
    d: Deferred[int] = Deferred()
    seen: list[int] = []
    d.addCallback(lambda x: x + 1)
    d.addCallback(lambda x: seen.append(d.result) or x)
    d.callback(1)
    assert seen == [2]


# -- callback()'s own loop and its hand-over to the general loop ---------------------------


class _Traceable(Exception):
    """An exception that can be weakly referenced, to see when it is freed."""


def _raiseTraceable(_: object) -> None:
    raise _Traceable()


def _freedAtOnce(scenario: Any) -> bool:
    """Run ``scenario(handle)`` with the collector off; tell whether the exception that
    ``handle`` (an errback) received was freed as soon as the scenario was over."""
    import weakref

    refs: list[weakref.ref[BaseException]] = []

    def handle(f: Failure) -> None:
        refs.append(weakref.ref(f.value))

    gc.disable()
    try:
        scenario(handle)
        assert len(refs) == 1
        return refs[0]() is None
    finally:
        gc.enable()


def test_errorHandledInSameChainFreedAtOnce() -> None:
    """A callback's exception handled further down the chain is freed at once (no cycle)."""

    def scenario(handle: Any) -> None:
        d: Deferred[int] = Deferred()
        d.addCallback(_raiseTraceable)
        d.addErrback(handle)
        d.callback(1)

    assert _freedAtOnce(scenario)


def test_errorHandledAfterFiringFreedAtOnce() -> None:
    """A Failure left by callback() and handled by a later errback is freed at once."""

    def scenario(handle: Any) -> None:
        d: Deferred[int] = Deferred()
        d.addCallback(_raiseTraceable)
        d.callback(1)
        d.addErrback(handle)

    assert _freedAtOnce(scenario)


def test_errorPassedToWaitingDeferredFreedAtOnce() -> None:
    """A Failure that callback() hands to a Deferred waiting on it is freed once handled."""

    def scenario(handle: Any) -> None:
        inner: Deferred[int] = Deferred()
        inner.addCallback(_raiseTraceable)
        outer: Deferred[int] = Deferred()
        outer.addCallback(lambda _: inner)
        outer.addErrback(handle)
        outer.callback(0)
        inner.callback(1)

    assert _freedAtOnce(scenario)


def test_innerCallbacksRunBeforeOuterGetsResult() -> None:
    """Callbacks added to an inner Deferred before it was chained run before the outer
    gets the result; those added after it get None (as in Twisted)."""
    inner: Deferred[int] = Deferred()
    inner.addCallback(lambda x: x * 10)
    outer: Deferred[int] = Deferred()
    outer.addCallback(lambda _: inner)
    out = _results(outer)
    outer.callback(0)
    late = _results(inner)
    inner.callback(4)
    assert out == [40]
    assert late == [None]


def test_callbackReturningDeferredSubclassChains() -> None:
    """A callback returning an instance of a Deferred subclass chains onto it."""

    class MyDeferred(Deferred[int]):
        pass

    inner = MyDeferred()
    outer: Deferred[int] = Deferred()
    outer.addCallback(lambda _: inner)
    out = _results(outer)
    outer.callback(0)
    assert out == []
    inner.callback(7)
    assert out == [7]



class _UnhashableMeta(type):
    """A metaclass whose classes are unhashable (it defines __eq__ without __hash__)."""

    def __eq__(cls, other: object) -> bool:
        return cls is other

    __hash__ = None  # type: ignore[assignment]


class _OddValue(metaclass=_UnhashableMeta):
    """A value of a class that cannot be hashed."""


def test_valueOfUnhashableClassPassesThroughCallbacks() -> None:
    """A value whose class cannot be hashed is an ordinary result, fired or returned."""
    first, second = _OddValue(), _OddValue()
    d: Deferred[Any] = Deferred()
    seen: list[Any] = []
    d.addCallback(lambda v: seen.append(v) or second)
    out = _results(d)
    d.callback(first)
    assert seen == [first]
    assert out == [second]


def test_valueOfUnhashableClassPassesThroughChainedDeferred() -> None:
    """The general loop (a Deferred waiting on another) also takes such a value as is."""
    value = _OddValue()
    inner: Deferred[Any] = Deferred()
    outer: Deferred[Any] = Deferred()
    outer.addCallback(lambda _: inner)
    outer.addCallback(lambda v: v)
    out = _results(outer)
    outer.callback(None)
    inner.callback(value)
    assert out == [value]
