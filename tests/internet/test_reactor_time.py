"""callLater and DelayedCall on the real reactor's loop timers, on both engines."""

from __future__ import annotations

from typing import Any

import pytest

from torsion.internet import error
from torsion.internet._base import DelayedCall
from torsion.internet._reactor import Reactor
from torsion.internet.defer import Deferred
from torsion.internet.interfaces import IDelayedCall, IReactorTime
from torsion.logger import capturedLogs, formatEvent

_: IReactorTime = Reactor.__new__(Reactor)


def _after(reactor: Reactor, delay: float) -> Deferred[None]:
    d: Deferred[None] = Deferred()
    reactor.callLater(delay, d.callback, None)
    return d


def test_callLaterPassesArguments(reactor: Reactor, run: Any) -> None:
    """callLater calls the function with the positional and keyword arguments given."""
    d: Deferred[tuple[Any, ...]] = Deferred()
    reactor.callLater(0, lambda *a, **kw: d.callback((a, kw)), 1, 2, key="v")
    assert run(d) == ((1, 2), {"key": "v"})


def test_callsRunInTimeOrder(reactor: Reactor, run: Any) -> None:
    """Delayed calls run in the order of their times, not of scheduling."""
    order: list[int] = []
    # 0.1 s apart: a pause of the test process between two of these lines (a loaded
    # machine) must not reorder the times themselves.
    reactor.callLater(0.3, order.append, 3)
    reactor.callLater(0.1, order.append, 1)
    reactor.callLater(0.2, order.append, 2)
    run(_after(reactor, 0.35))
    assert order == [1, 2, 3]


def test_callLaterReturnsActiveDelayedCall(reactor: Reactor) -> None:
    """The returned DelayedCall is active and scheduled at seconds() + delay."""
    before = reactor.seconds()
    call = reactor.callLater(5, lambda: None)
    assert isinstance(call, IDelayedCall)
    assert call.active()
    assert before + 5 <= call.getTime() <= reactor.seconds() + 5


@pytest.mark.parametrize("delay", [-1, float("nan")])
def test_invalidDelayIsRejected(reactor: Reactor, delay: float) -> None:
    """A negative or NaN delay is a ValueError, not a silent immediate call."""
    with pytest.raises(ValueError):
        reactor.callLater(delay, lambda: None)


def test_cancelledCallDoesNotRun(reactor: Reactor, run: Any) -> None:
    """A cancelled call never runs and is no longer active."""
    calls: list[int] = []
    call = reactor.callLater(0.01, calls.append, 1)
    call.cancel()
    run(_after(reactor, 0.03))
    assert calls == []
    assert not call.active()
    assert call.cancelled


def test_cancelTwiceRaisesAlreadyCancelled(reactor: Reactor) -> None:
    """Cancelling a cancelled call raises AlreadyCancelled."""
    call = reactor.callLater(1, lambda: None)
    call.cancel()
    with pytest.raises(error.AlreadyCancelled):
        call.cancel()


def test_cancelAfterCallRaisesAlreadyCalled(reactor: Reactor, run: Any) -> None:
    """Cancelling, resetting or delaying a call that ran raises AlreadyCalled."""
    call = reactor.callLater(0, lambda: None)
    run(_after(reactor, 0.01))
    assert call.called
    for operation in (call.cancel, lambda: call.reset(1), lambda: call.delay(1)):
        with pytest.raises(error.AlreadyCalled):
            operation()


def test_resetLaterPostponesTheCall(reactor: Reactor, run: Any) -> None:
    """reset() to a later time makes the call run at the new time, not the old one."""
    ran: list[float] = []
    call = reactor.callLater(0.01, lambda: ran.append(reactor.seconds()))
    call.reset(0.3)  # far enough that a paused test process still looks before it
    newTime = call.getTime()
    run(_after(reactor, 0.03))
    assert ran == []
    run(_after(reactor, 0.3))
    assert len(ran) == 1 and ran[0] >= newTime - 0.002


def test_resetSoonerBringsTheCallForward(reactor: Reactor, run: Any) -> None:
    """reset() to an earlier time makes the call run early."""
    ran: list[int] = []
    call = reactor.callLater(30, ran.append, 1)
    call.reset(0)
    run(_after(reactor, 0.02))
    assert ran == [1]


def test_delayPushesTheCallBack(reactor: Reactor, run: Any) -> None:
    """delay() adds to the scheduled time."""
    ran: list[int] = []
    call = reactor.callLater(0.01, ran.append, 1)
    old = call.getTime()
    call.delay(10)
    assert call.getTime() == pytest.approx(old + 10)
    run(_after(reactor, 0.03))
    assert ran == [] and call.active()


def test_getDelayedCallsListsPendingCalls(reactor: Reactor, run: Any) -> None:
    """getDelayedCalls lists scheduled calls, and forgets them once run or cancelled."""
    ran = reactor.callLater(0, lambda: None)
    cancelled = reactor.callLater(10, lambda: None)
    pending = reactor.callLater(10, lambda: None)
    cancelled.cancel()
    run(_after(reactor, 0.01))
    assert set(reactor.getDelayedCalls()) == {pending}
    assert ran.called


def test_exceptionInDelayedCallIsLoggedAndReactorGoesOn(reactor: Reactor, run: Any) -> None:
    """An exception in a delayed call is logged with its traceback; later calls still run."""

    def broken() -> None:
        raise ValueError("delayed call broke")

    reactor.callLater(0, broken)
    with capturedLogs() as events:
        run(_after(reactor, 0.01))
    failures = [e["log_failure"] for e in events if "log_failure" in e]
    assert [f.getErrorMessage() for f in failures] == ["delayed call broke"]
    assert "broken" in failures[0].getTraceback()


def test_secondsIsTheLoopClock(reactor: Reactor) -> None:
    """seconds() is the loop's monotonic clock, the clock callLater schedules on."""
    before = reactor._loop.time()
    seconds = reactor.seconds()
    assert before <= seconds <= reactor._loop.time()


def test_delayedCallReprNamesTheFunction() -> None:
    """A DelayedCall's repr names the function and its arguments."""

    def target(x: int) -> None:
        pass

    call = DelayedCall(10.0, target, (1,), {}, lambda c: None, lambda c: None, lambda: 0.0)
    assert "target(1)" in repr(call)
    assert "called=0 cancelled=0" in repr(call)


def test_plainDelayedCallUsesItsCallbacks() -> None:
    """A DelayedCall built by hand (as task.Clock does) reports cancel and reset."""
    cancelled: list[DelayedCall] = []
    resets: list[float] = []
    now = [100.0]
    call = DelayedCall(
        105.0, lambda: None, (), {}, cancelled.append, lambda c: resets.append(c.time),
        lambda: now[0],
    )
    call.reset(2)
    call.delay(1)
    call.cancel()
    assert resets == [102.0, 103.0]
    assert cancelled == [call]


def test_cancelReleasesTheCallable(reactor: Reactor) -> None:
    """A cancelled call drops its function and arguments, as in Twisted."""
    import gc
    import weakref

    class Target:
        def method(self) -> None:
            pass

    target = Target()
    ref = weakref.ref(target)
    call = reactor.callLater(10, target.method)
    call.cancel()
    del target
    gc.collect()
    assert ref() is None
    assert "cancelled=1" in repr(call)


def test_exceptionInDelayedCallLoggedInTwistedsWords(reactor: Reactor, run: Any) -> None:
    """The failure of a delayed call is logged as "while handling timed call", as Twisted does."""
    reactor.callLater(0, lambda: 1 / 0)
    with capturedLogs() as events:
        run(_after(reactor, 0.01))
    assert [formatEvent(e) for e in events if "log_failure" in e] == ["while handling timed call"]


def test_loopExceptionReadsWellInClassicLogObservers(reactor: Reactor) -> None:
    """A failure the loop reports (a protocol callback's exception) reaches a classic
    torsion.python.log observer as its message followed by the traceback."""
    from torsion.python import log

    texts: list[str | None] = []

    def observer(event: dict[str, Any]) -> None:
        texts.append(log.textFromEventDict(event))

    log.addObserver(observer)
    try:
        try:
            1 / 0
        except ZeroDivisionError as e:
            reactor._handleLoopException(reactor._loop, {"message": "Fatal error on transport",
                                                         "exception": e})
    finally:
        log.removeObserver(observer)
    assert len(texts) == 1 and texts[0] is not None
    assert texts[0].startswith("Fatal error on transport\nTraceback")
    assert "ZeroDivisionError" in texts[0]
