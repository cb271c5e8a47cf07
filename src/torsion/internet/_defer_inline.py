"""Driving generators (inlineCallbacks) and coroutines (ensureDeferred) with Deferreds.

Theory of operation: the Deferred returned to the caller is itself the driver (a private
Deferred subclass holding the generator, its contextvars context and what it waits on).
``_step`` sends values into the generator in a loop; a yielded/awaited Deferred that
already has its result is unwrapped on the spot and the loop goes on without any callback,
so a coroutine awaiting ready Deferreds never leaves the loop.  A Deferred without a result
gets ``_gotResult`` as its next callback, which re-enters ``_step`` when it fires.  An
awaited asyncio future (coroutines only) gets ``_futureDone`` as its done-callback instead.

``Deferred.__await__`` on a Deferred without a result yields the Deferred itself to this
driver rather than an asyncio future: it recognises ``_step``'s frame just above the
awaiting coroutines' frames (see ``_deferred._drivenByTorsion``).

Cancelling the returned Deferred cancels what the generator is waiting on, so the
generator sees CancelledError at its ``yield``/``await`` and may handle it; if it lets it
propagate, the returned Deferred fails with CancelledError.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine, Generator
from contextvars import Context, copy_context
from types import CoroutineType, GeneratorType
from typing import Any, NoReturn, ParamSpec, TypeVar, overload

from torsion.internet._deferred import (
    CancelledError,
    Deferred,
    NotACoroutineError,
    _consumeFailure,
    _driverCodes,
    _new,
)
from torsion.python.failure import Failure, _fromCaught

__all__ = ["inlineCallbacks", "returnValue", "ensureDeferred"]

_T = TypeVar("_T")
_P = ParamSpec("_P")


class _DefGen_Return(BaseException):  # noqa: N801 - Twisted's name
    """Carries the value of ``returnValue()`` out of an inlineCallbacks generator."""

    def __init__(self, value: object) -> None:
        BaseException.__init__(self, value)
        self.value = value


def returnValue(val: object) -> NoReturn:
    """Return ``val`` from an inlineCallbacks generator (kept for old code: use ``return``)."""
    raise _DefGen_Return(val)


class _Driven(Deferred[Any]):
    """The Deferred of a running generator/coroutine, and the driver that steps it."""

    __slots__ = ("_gen", "_ctx", "_waitingOn", "_isCoro")

    _gen: Generator[Any, Any, Any] | Coroutine[Any, Any, Any]
    _ctx: Context
    _waitingOn: Any
    _isCoro: bool

    def cancel(self) -> None:
        """Cancel what the generator waits on, so it sees CancelledError where it waits.

        If it waits on nothing (it is running, or done), behave like Deferred.cancel.
        """
        waiting = None if self.called else self._waitingOn
        if waiting is None:
            Deferred.cancel(self)
        elif isinstance(waiting, asyncio.Handle):
            # Waiting for the next loop turn (a bare yield): resume now, cancelled.
            waiting.cancel()
            self._waitingOn = None
            self._step(Failure(CancelledError()), True)
        else:
            waiting.cancel()

    def _gotResult(self, result: Any) -> None:
        """Callback on the awaited Deferred: resume the generator with its result."""
        self._waitingOn = None
        self._step(result, isinstance(result, Failure))

    def _futureDone(self, future: asyncio.Future[Any]) -> None:
        """Done-callback on an awaited asyncio future: resume the coroutine."""
        self._waitingOn = None
        try:
            value = future.result()
        except BaseException as e:
            self._step(Failure(e), True)
        else:
            self._step(value, False)

    def _resumeLater(self) -> None:
        """Resume after a bare ``yield`` (``asyncio.sleep(0)``): next loop turn if any."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self._step(None, False)
        else:
            self._waitingOn = loop.call_soon(self._step, None, False)

    def _step(self, value: Any, isFailure: bool) -> None:
        """Send ``value`` (or throw the Failure) in, until the generator waits or ends."""
        gen = self._gen
        run = self._ctx.run
        isCoro = self._isCoro
        while True:
            try:
                if isFailure:
                    # Not value.throwExceptionIntoGenerator: this frame must be the one
                    # just above the coroutine's (see _deferred._drivenByTorsion).
                    result = run(gen.throw, value.value.with_traceback(value.tb))
                else:
                    result = run(gen.send, value)
            except StopIteration as e:
                result = e.value
                failure = None
            except _DefGen_Return as e:
                result = e.value
                failure = None
            except BaseException as e:
                failure = _fromCaught(e)
                if isinstance(e, asyncio.CancelledError):
                    failure = Failure(CancelledError())
            else:
                failure = _RUNNING
            if failure is not _RUNNING:
                # Fire outside the except blocks, so that errors in the callbacks do not
                # carry the generator's exit as their context.
                if failure is None:
                    self._finish(result)
                else:
                    self.errback(failure)
                return
            if not isCoro and type(result) in _NESTED:
                # inlineCallbacks may yield a coroutine or generator: run it (Twisted).
                result = _startDriving(result, type(result) is CoroutineType)
            if isinstance(result, Deferred):
                if result._ready:
                    value = result.result
                    result.result = None
                    isFailure = False
                    continue
                if result.called and not result.paused and result._ready is not None:
                    value = result.result
                    result.result = None
                    isFailure = isinstance(value, Failure)
                    if isFailure:
                        _consumeFailure(result)
                    continue
                self._waitingOn = result
                result.addBoth(self._gotResult)
                return
            if isCoro:
                if getattr(result, "_asyncio_future_blocking", None) is not None:
                    result._asyncio_future_blocking = False
                    self._waitingOn = result
                    result.add_done_callback(self._futureDone)
                    return
                if result is None:
                    self._resumeLater()
                    return
                value = Failure(RuntimeError(
                    f"coroutine run by ensureDeferred yielded {result!r}: await Deferreds"
                    " or asyncio futures"))
                isFailure = True
                continue
            # inlineCallbacks: a plain yielded value is sent straight back (Twisted).
            value = result
            isFailure = False

    def _finish(self, value: Any) -> None:
        """Fire with the generator's return value (waiting on it if it is a Deferred)."""
        if isinstance(value, Deferred):
            value.addCallbacks(self.callback, self.errback)
        else:
            self.callback(value)


_driverCodes.add(_Driven._step.__code__)
_RUNNING: Any = object()
_NESTED = (CoroutineType, GeneratorType)


def _startDriving(gen: Any, isCoro: bool) -> Deferred[Any]:
    """Make the driver Deferred for ``gen`` and run it until it first waits."""
    d: _Driven = _new(_Driven)
    d._callbacks = []
    d.called = False
    d.paused = 0
    d._ready = False
    d._canceller = None
    d._gen = gen
    d._ctx = copy_context()
    d._waitingOn = None
    d._isCoro = isCoro
    d._step(None, False)
    return d


def _startCoroutine(coro: Coroutine[Any, Any, _T] | Generator[Any, Any, _T]) -> Deferred[_T]:
    """Run a coroutine (or generator-based coroutine) as a Deferred."""
    if type(coro) is CoroutineType or isinstance(coro, Coroutine | GeneratorType):
        return _startDriving(coro, True)
    raise NotACoroutineError(f"{coro!r} is not a coroutine")


@overload
def ensureDeferred(coro: Deferred[_T]) -> Deferred[_T]: ...


@overload
def ensureDeferred(coro: Coroutine[Any, Any, _T]) -> Deferred[_T]: ...


@overload
def ensureDeferred(coro: Generator[Any, Any, _T]) -> Deferred[_T]: ...


@overload
def ensureDeferred(coro: asyncio.Future[_T]) -> Deferred[_T]: ...


def ensureDeferred(coro: Any) -> Deferred[Any]:
    """Return a Deferred for a coroutine (run now), a Deferred (as is) or an asyncio future.

    The coroutine may await Deferreds and asyncio futures or tasks.
    """
    if isinstance(coro, Deferred):
        return coro
    if type(coro) is CoroutineType or isinstance(coro, Coroutine | GeneratorType):
        return _startDriving(coro, True)
    if asyncio.isfuture(coro):
        return Deferred.fromFuture(coro)
    raise NotACoroutineError(f"{coro!r} is not a coroutine or a Deferred")


def inlineCallbacks(
    f: Callable[_P, Generator[Any, Any, _T]],
) -> Callable[_P, Deferred[_T]]:
    """Decorate a generator function so that ``yield d`` waits for Deferred ``d``.

    The decorated function returns a Deferred of the generator's return value.
    """

    @functools.wraps(f)
    def unwindGenerator(*args: _P.args, **kwargs: _P.kwargs) -> Deferred[_T]:
        try:
            gen = f(*args, **kwargs)
        except _DefGen_Return:
            raise TypeError(
                f"inlineCallbacks requires {f!r} to produce a generator; instead caught "
                "returnValue being used in a non-generator") from None
        if not isinstance(gen, GeneratorType):
            raise TypeError(
                f"inlineCallbacks requires {f!r} to produce a generator; instead got {gen!r}")
        return _startDriving(gen, False)

    return unwindGenerator
