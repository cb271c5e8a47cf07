"""Tests for inlineCallbacks, ensureDeferred/fromCoroutine and Deferred <-> asyncio conversion."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from torsion.internet import defer
from torsion.internet.defer import (
    CancelledError,
    Deferred,
    ensureDeferred,
    inlineCallbacks,
    returnValue,
    succeed,
)
from torsion.python.failure import Failure


def _results(d: Deferred[Any]) -> list[Any]:
    out: list[Any] = []
    d.addBoth(out.append)
    return out


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """A private asyncio loop (not running) for one test."""
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.close()


# -- inlineCallbacks --------------------------------------------------------------------


def test_inlineCallbacksPlainReturnGivesResult() -> None:
    """A plain ``return`` in the generator is the Deferred's result."""

    @inlineCallbacks
    def f() -> Generator[Any, Any, int]:
        x = yield succeed(1)
        y = yield succeed(2)
        return x + y

    assert _results(f()) == [3]


def test_inlineCallbacksReturnValueKeptForOldCode() -> None:
    """returnValue(v) still works as a return."""

    @inlineCallbacks
    def f() -> Generator[Any, Any, None]:
        yield succeed(None)
        returnValue("old style")

    assert _results(f()) == ["old style"]


def test_inlineCallbacksWaitsForUnfiredDeferred() -> None:
    """A yielded unfired Deferred suspends the generator until it fires."""
    d: Deferred[str] = Deferred()
    steps: list[str] = []

    @inlineCallbacks
    def f() -> Generator[Any, Any, str]:
        steps.append("before")
        value = yield d
        steps.append("after")
        return value + "!"

    result = f()
    assert steps == ["before"] and not result.called
    d.callback("done")
    assert steps == ["before", "after"]
    assert _results(result) == ["done!"]


def test_inlineCallbacksFailureRaisesAtYield() -> None:
    """A yielded failing Deferred raises its exception at the yield."""

    @inlineCallbacks
    def f() -> Generator[Any, Any, str]:
        try:
            yield defer.fail(KeyError("k"))
        except KeyError:
            return "caught"
        return "not caught"

    assert _results(f()) == ["caught"]


def test_inlineCallbacksExceptionFailsDeferred() -> None:
    """An exception escaping the generator fails its Deferred."""

    @inlineCallbacks
    def f() -> Generator[Any, Any, None]:
        yield succeed(None)
        raise ValueError("v")

    out = _results(f())
    assert isinstance(out[0], Failure) and out[0].type is ValueError


def test_inlineCallbacksPlainValueSentBack() -> None:
    """Yielding a non-Deferred value gives it straight back (as Twisted does)."""

    @inlineCallbacks
    def f() -> Generator[Any, Any, int]:
        x = yield 5
        return x

    assert _results(f()) == [5]


def test_inlineCallbacksRequiresGenerator() -> None:
    """Decorating a plain function raises TypeError when it is called."""

    def notGen() -> int:
        return 1

    with pytest.raises(TypeError):
        inlineCallbacks(notGen)()  # type: ignore[arg-type]


def test_inlineCallbacksCancelThrowsIntoGenerator() -> None:
    """Cancelling the result cancels the awaited Deferred; the generator sees CancelledError."""
    waited: Deferred[int] = Deferred()
    seen: list[type] = []

    @inlineCallbacks
    def f() -> Generator[Any, Any, str]:
        try:
            yield waited
        except CancelledError:
            seen.append(CancelledError)
            raise
        return "no"

    d = f()
    out: list[Any] = []
    d.addErrback(lambda fail: out.append(fail.type))
    d.cancel()
    assert seen == [CancelledError]
    assert out == [CancelledError]


def test_inlineCallbacksCancelCanBeHandled() -> None:
    """A generator that handles the CancelledError decides the result."""
    waited: Deferred[int] = Deferred()

    @inlineCallbacks
    def f() -> Generator[Any, Any, str]:
        try:
            yield waited
        except CancelledError:
            return "cleaned up"
        return "no"

    d = f()
    d.cancel()
    assert _results(d) == ["cleaned up"]


def test_inlineCallbacksLongSynchronousLoop() -> None:
    """Yielding 100,000 fired Deferreds in a loop does not grow the stack."""

    @inlineCallbacks
    def f() -> Generator[Any, Any, int]:
        total = 0
        for i in range(100_000):
            total += yield succeed(i)
        return total

    assert _results(f()) == [sum(range(100_000))]


def test_inlineCallbacksKeepsContextVars() -> None:
    """A context variable set in the generator stays set across a suspension."""
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    d: Deferred[None] = Deferred()

    @inlineCallbacks
    def f() -> Generator[Any, Any, str]:
        var.set("inside")
        yield d
        return var.get()

    result = f()
    assert var.get() == "unset"
    d.callback(None)
    assert _results(result) == ["inside"]


# -- coroutines run by ensureDeferred ---------------------------------------------------


def test_ensureDeferredAwaitsFiredDeferreds() -> None:
    """A coroutine awaiting fired Deferreds completes at once with its return value."""

    async def f() -> int:
        return await succeed(1) + await succeed(2)

    assert _results(ensureDeferred(f())) == [3]


def test_ensureDeferredResumesWhenDeferredFires() -> None:
    """Awaiting an unfired Deferred suspends the coroutine; firing resumes it synchronously."""
    d: Deferred[int] = Deferred()

    async def f() -> int:
        return await d * 2

    result = ensureDeferred(f())
    assert not result.called
    d.callback(21)
    assert _results(result) == [42]


def test_ensureDeferredAwaitedFailureRaises() -> None:
    """Awaiting a failing Deferred raises its exception in the coroutine."""
    d: Deferred[int] = Deferred()

    async def f() -> str:
        try:
            await d
        except ZeroDivisionError:
            return "caught"
        return "no"

    result = ensureDeferred(f())
    d.errback(ZeroDivisionError())
    assert _results(result) == ["caught"]


def test_ensureDeferredExceptionFailsDeferred() -> None:
    """An exception escaping the coroutine fails its Deferred."""

    async def f() -> None:
        raise KeyError("k")

    assert _results(ensureDeferred(f()))[0].type is KeyError


def test_fromCoroutineIsEnsureDeferred() -> None:
    """Deferred.fromCoroutine runs a coroutine like ensureDeferred."""

    async def f() -> str:
        return await succeed("x")

    assert _results(Deferred.fromCoroutine(f())) == ["x"]


def test_ensureDeferredPassesDeferredThrough() -> None:
    """ensureDeferred(aDeferred) returns it unchanged."""
    d: Deferred[int] = Deferred()
    assert ensureDeferred(d) is d


def test_ensureDeferredRejectsNonCoroutine() -> None:
    """ensureDeferred of something not awaitable raises NotACoroutineError."""
    with pytest.raises(defer.NotACoroutineError):
        ensureDeferred(42)


def test_ensureDeferredCancelCancelsAwaited() -> None:
    """Cancelling the coroutine's Deferred cancels what it awaits; CancelledError results."""
    cancelled: list[Deferred[Any]] = []
    waited: Deferred[int] = Deferred(cancelled.append)

    async def f() -> int:
        return await waited

    d = ensureDeferred(f())
    out: list[Any] = []
    d.addErrback(lambda fail: out.append(fail.type))
    d.cancel()
    assert cancelled == [waited]
    assert out == [CancelledError]


def test_nestedCoroutinesAwaitDeferreds() -> None:
    """A coroutine awaiting another coroutine that awaits a Deferred works end to end."""
    d: Deferred[int] = Deferred()

    async def inner() -> int:
        return await d + 1

    async def outer() -> int:
        return await inner() * 10

    result = ensureDeferred(outer())
    d.callback(1)
    assert _results(result) == [20]


def test_awaitAlreadyAwaitedDeferredSeesNone() -> None:
    """Awaiting consumes the result: the Deferred then holds None (as in Twisted)."""
    d: Deferred[int] = Deferred()

    async def f() -> int:
        return await d

    ensureDeferred(f())
    d.callback(5)
    assert d.result is None


# -- coroutines and asyncio -------------------------------------------------------------


def test_ensureDeferredCoroutineAwaitsAsyncioFuture(loop: asyncio.AbstractEventLoop) -> None:
    """A coroutine run by ensureDeferred may await an asyncio future; it resumes when set."""
    future: asyncio.Future[str] = loop.create_future()

    async def f() -> str:
        return await future + "!"

    result = ensureDeferred(f())
    loop.call_soon(future.set_result, "fut")
    loop.run_until_complete(asyncio.sleep(0.01))
    assert _results(result) == ["fut!"]


def test_ensureDeferredCoroutineAwaitsAsyncioTask(loop: asyncio.AbstractEventLoop) -> None:
    """A coroutine run by ensureDeferred may await an asyncio task."""

    async def work() -> int:
        await asyncio.sleep(0)
        return 7

    async def f() -> int:
        return await loop.create_task(work())

    async def main() -> list[Any]:
        d = ensureDeferred(f())
        for _ in range(10):
            await asyncio.sleep(0)
        return _results(d)

    assert loop.run_until_complete(main()) == [7]


def test_ensureDeferredCoroutineAsyncioSleepZero(loop: asyncio.AbstractEventLoop) -> None:
    """``await asyncio.sleep(0)`` inside ensureDeferred yields to the loop and resumes."""

    async def f() -> str:
        await asyncio.sleep(0)
        return "slept"

    async def main() -> list[Any]:
        d = ensureDeferred(f())
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return _results(d)

    assert loop.run_until_complete(main()) == ["slept"]


def test_cancelWhileAwaitingFutureCancelsFuture(loop: asyncio.AbstractEventLoop) -> None:
    """Cancelling the Deferred of a coroutine awaiting a future cancels the future."""
    future: asyncio.Future[str] = loop.create_future()

    async def f() -> str:
        return await future

    d = ensureDeferred(f())
    out: list[Any] = []
    d.addErrback(lambda fail: out.append(fail.type))
    d.cancel()
    loop.run_until_complete(asyncio.sleep(0.01))
    assert future.cancelled()
    assert out == [CancelledError]


def test_asyncioTaskAwaitsUnfiredDeferred(loop: asyncio.AbstractEventLoop) -> None:
    """Plain asyncio code can ``await d``: the task resumes when the Deferred fires."""
    d: Deferred[str] = Deferred()

    async def main() -> str:
        loop.call_soon(d.callback, "from deferred")
        return await d

    assert loop.run_until_complete(main()) == "from deferred"


def test_asyncioTaskAwaitsFiredDeferred(loop: asyncio.AbstractEventLoop) -> None:
    """Plain asyncio code awaiting a fired Deferred gets its result at once."""

    async def main() -> int:
        return await succeed(3)

    assert loop.run_until_complete(main()) == 3


def test_asyncioTaskAwaitsFailingDeferred(loop: asyncio.AbstractEventLoop) -> None:
    """Plain asyncio code awaiting a failing Deferred gets its exception raised."""
    d: Deferred[str] = Deferred()

    async def main() -> str:
        loop.call_soon(d.errback, KeyError("k"))
        return await d

    with pytest.raises(KeyError):
        loop.run_until_complete(main())


def test_asyncioTaskCancelCancelsDeferred(loop: asyncio.AbstractEventLoop) -> None:
    """Cancelling an asyncio task awaiting a Deferred cancels the Deferred."""
    cancelled: list[Deferred[Any]] = []
    d: Deferred[str] = Deferred(cancelled.append)

    async def waiter() -> str:
        return await d

    async def main() -> None:
        task = loop.create_task(waiter())
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    loop.run_until_complete(main())
    assert cancelled == [d]


def test_asFutureSuccess(loop: asyncio.AbstractEventLoop) -> None:
    """asFuture gives a future that gets the Deferred's result."""
    d: Deferred[int] = Deferred()
    future = d.asFuture(loop)
    d.callback(4)
    assert loop.run_until_complete(future) == 4


def test_asFutureFailure(loop: asyncio.AbstractEventLoop) -> None:
    """asFuture gives a future that gets the Deferred's exception."""
    d: Deferred[int] = Deferred()
    future = d.asFuture(loop)
    d.errback(KeyError("k"))
    with pytest.raises(KeyError):
        loop.run_until_complete(future)


def test_asFutureCancelCancelsDeferred(loop: asyncio.AbstractEventLoop) -> None:
    """Cancelling the future cancels the Deferred."""
    cancelled: list[Deferred[Any]] = []
    d: Deferred[int] = Deferred(cancelled.append)
    future = d.asFuture(loop)
    future.cancel()
    loop.run_until_complete(asyncio.sleep(0))
    assert cancelled == [d]


def test_fromFutureSuccess(loop: asyncio.AbstractEventLoop) -> None:
    """fromFuture gives a Deferred that fires with the future's result."""
    future: asyncio.Future[int] = loop.create_future()
    d = Deferred.fromFuture(future)
    future.set_result(8)
    loop.run_until_complete(asyncio.sleep(0))
    assert _results(d) == [8]


def test_fromFutureException(loop: asyncio.AbstractEventLoop) -> None:
    """fromFuture gives a Deferred that fails with the future's exception."""
    future: asyncio.Future[int] = loop.create_future()
    d = Deferred.fromFuture(future)
    future.set_exception(KeyError("k"))
    loop.run_until_complete(asyncio.sleep(0))
    assert _results(d)[0].type is KeyError


def test_fromFutureCancelCancelsFuture(loop: asyncio.AbstractEventLoop) -> None:
    """Cancelling the Deferred cancels the future, and the Deferred fails CancelledError."""
    future: asyncio.Future[int] = loop.create_future()
    d = Deferred.fromFuture(future)
    out: list[Any] = []
    d.addErrback(lambda fail: out.append(fail.type))
    d.cancel()
    loop.run_until_complete(asyncio.sleep(0))
    assert future.cancelled()
    assert out == [CancelledError]


def test_fromFutureCancelledFuture(loop: asyncio.AbstractEventLoop) -> None:
    """A future cancelled on the asyncio side fails the Deferred with CancelledError."""
    future: asyncio.Future[int] = loop.create_future()
    d = Deferred.fromFuture(future)
    future.cancel()
    loop.run_until_complete(asyncio.sleep(0))
    assert _results(d)[0].type is CancelledError


def test_ensureDeferredOfFuture(loop: asyncio.AbstractEventLoop) -> None:
    """ensureDeferred accepts an asyncio future too."""
    future: asyncio.Future[int] = loop.create_future()
    d = ensureDeferred(future)
    future.set_result(1)
    loop.run_until_complete(asyncio.sleep(0))
    assert _results(d) == [1]


def test_cancelDuringSleepZeroResumesCancelled(loop: asyncio.AbstractEventLoop) -> None:
    """Cancelling a coroutine waiting for the next loop turn throws CancelledError into it."""
    seen: list[str] = []

    async def f() -> str:
        try:
            await asyncio.sleep(0)
        except CancelledError:
            seen.append("cancelled")
            raise
        return "no"

    async def main() -> list[Any]:
        d = ensureDeferred(f())
        d.cancel()
        await asyncio.sleep(0)
        return _results(d)

    out = loop.run_until_complete(main())
    assert seen == ["cancelled"]
    assert out[0].type is CancelledError


def test_reprOfCoroutineAndSucceedDeferreds() -> None:
    """Deferreds made by succeed() and ensureDeferred() present themselves as Deferred."""

    async def f() -> int:
        return 1

    assert repr(succeed(1)).startswith("<Deferred at 0x")
    assert repr(ensureDeferred(f())).startswith("<Deferred at 0x")


def test_ensureDeferredInsideRunningLoopResumesSynchronously(
        loop: asyncio.AbstractEventLoop) -> None:
    """Inside a running loop, a torsion-driven coroutine still resumes when d fires, not later."""
    d: Deferred[int] = Deferred()

    async def f() -> int:
        return await d

    async def main() -> list[Any]:
        result = ensureDeferred(f())
        d.callback(3)
        return _results(result)

    assert loop.run_until_complete(main()) == [3]


def test_asyncioGatherOfDeferreds(loop: asyncio.AbstractEventLoop) -> None:
    """asyncio.gather accepts Deferreds as awaitables."""
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()

    async def main() -> list[int]:
        loop.call_soon(a.callback, 1)
        loop.call_soon(b.callback, 2)
        return await asyncio.gather(a, b)

    assert loop.run_until_complete(main()) == [1, 2]


def test_awaitAfterCaughtFailureStillDrivenByTorsion(loop: asyncio.AbstractEventLoop) -> None:
    """After an awaited failure is caught, the next unfired await still resumes synchronously."""
    first: Deferred[int] = Deferred()
    second: Deferred[int] = Deferred()

    async def f() -> int:
        try:
            await first
        except KeyError:
            pass
        return await second

    async def main() -> list[Any]:
        result = ensureDeferred(f())
        first.errback(KeyError())
        second.callback(2)
        return _results(result)

    assert loop.run_until_complete(main()) == [2]


def test_asyncioRunInsideTorsionCoroutineAwaitsDeferred() -> None:
    """An asyncio loop run from inside a torsion-driven coroutine awaits Deferreds its own way."""
    inner: Deferred[str] = Deferred()

    async def asyncioSide() -> str:
        asyncio.get_running_loop().call_soon(inner.callback, "via asyncio")
        return await inner

    async def torsionSide() -> str:
        return asyncio.run(asyncioSide())

    assert _results(ensureDeferred(torsionSide())) == ["via asyncio"]


def test_awaitAlreadyFailedDeferredRaises() -> None:
    """Awaiting a Deferred that already failed raises at once, and consumes the error."""

    async def f() -> str:
        try:
            await defer.fail(KeyError("k"))
        except KeyError:
            return "caught"
        return "no"

    assert _results(ensureDeferred(f())) == ["caught"]


def test_coroutineReturningDeferredWaitsForIt() -> None:
    """A coroutine returning a Deferred gives that Deferred's result."""
    d: Deferred[int] = Deferred()

    async def f() -> Deferred[int]:
        return d

    result = ensureDeferred(f())
    assert not result.called
    d.callback(6)
    assert _results(result) == [6]


def test_cancelFromInsideRunningCoroutine() -> None:
    """Cancelling a coroutine's Deferred while it runs fails it; its later result is dropped."""
    box: list[Deferred[Any]] = []
    gate: Deferred[None] = Deferred()

    async def f() -> str:
        await gate
        box[0].cancel()
        return "finished anyway"

    d = ensureDeferred(f())
    box.append(d)
    gate.callback(None)
    assert _results(d)[0].type is CancelledError


def test_manualSendYieldsTheDeferred() -> None:
    """Driven by hand (no loop, no torsion driver), ``await d`` yields d itself."""
    d: Deferred[int] = Deferred()

    async def f() -> int:
        return await d

    coro = f()
    assert coro.send(None) is d
    with pytest.raises(StopIteration) as info:
        coro.send(5)
    assert info.value.value == 5


def test_bareYieldWithoutLoopResumesAtOnce() -> None:
    """A bare yield (asyncio.sleep(0)) with no running loop resumes immediately."""

    async def f() -> str:
        await asyncio.sleep(0)
        return "resumed"

    assert _results(ensureDeferred(f())) == ["resumed"]


def test_coroutineYieldingJunkGetsRuntimeError() -> None:
    """A coroutine that yields something not awaitable by torsion gets a RuntimeError."""
    import types

    @types.coroutine
    def junk() -> Generator[Any, Any, None]:
        yield "junk"

    async def f() -> str:
        try:
            await junk()
        except RuntimeError:
            return "told"
        return "no"

    assert _results(ensureDeferred(f())) == ["told"]


def test_inlineCallbacksYieldingCoroutineRunsIt() -> None:
    """inlineCallbacks may yield a coroutine; it is run and its result sent back."""
    d: Deferred[int] = Deferred()

    async def coro() -> int:
        return await d + 1

    @inlineCallbacks
    def f() -> Generator[Any, Any, int]:
        x = yield coro()
        return x * 10

    result = f()
    d.callback(1)
    assert _results(result) == [20]


def test_inlineCallbacksYieldingGeneratorRunsIt() -> None:
    """inlineCallbacks may yield a generator; it is run as a nested inlineCallbacks."""

    def inner() -> Generator[Any, Any, int]:
        x = yield succeed(2)
        return x + 1

    @inlineCallbacks
    def f() -> Generator[Any, Any, int]:
        return (yield inner())

    assert _results(f()) == [3]


def test_errorInCallbackAfterCoroutineHasNoStopIterationContext() -> None:
    """A callback failing after a coroutine returns is not chained to StopIteration."""

    gate: Deferred[None] = Deferred()

    async def f() -> int:
        await gate
        return 1

    out: list[Any] = []
    d = ensureDeferred(f())
    d.addCallback(lambda _: 1 // 0)
    d.addErrback(out.append)
    gate.callback(None)
    assert out[0].value.__context__ is None


def test_cancelOuterWaitingOnCoroutineCancelsWhatItAwaits() -> None:
    """Cancelling a Deferred waiting on a coroutine's Deferred cancels what the coroutine awaits."""
    cancelled: list[Deferred[Any]] = []
    awaited: Deferred[int] = Deferred(cancelled.append)

    async def f() -> int:
        return await awaited

    outer: Deferred[Any] = Deferred()
    outer.addCallback(lambda _: ensureDeferred(f()))
    out = _results(outer)
    outer.callback(None)
    outer.cancel()
    assert cancelled == [awaited]
    assert out[0].type is CancelledError
