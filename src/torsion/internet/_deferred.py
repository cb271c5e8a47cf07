"""The Deferred: a result that is not available yet, with a chain of callbacks to run on it.

Theory of operation
-------------------
A Deferred holds a list of callback entries.  Each entry is ONE flat tuple
``(callback, args, errback, args)`` (``None`` for no extra arguments, ``_passthru`` for
the missing half; keyword arguments, rare, are bound beforehand with functools.partial),
so adding a callback allocates nothing but that tuple.  When the Deferred is fired,
``_runCallbacks`` walks the entries in order, calling the callback half while the result
is a value and the errback half while it is a ``Failure``; an exception raised by either
becomes the new result as a Failure, an errback returning a value switches back to the
callback side.  Entries whose half is ``_passthru`` are skipped without a call.  The
``_ready`` slot caches "fired, not paused, not a Failure" for the await/yield fast
paths, which then cost one attribute read; while the loop runs it holds None, which is
also the re-entrancy guard.  ``callback()`` runs the entries in a copy of that loop without
the chaining machinery (the common case); at the first entry it cannot handle (a callback
returned a Deferred that has no result yet, or a chain continuation) it hands the rest of
the entries to the general loop, ``_runLoop``.  Values of exact built-in types skip the
``isinstance(value, (Deferred, Failure))`` test, whose negative answer is the slow one.

Chaining: when a callback returns a Deferred that has no result yet, the outer Deferred
pauses and a *continuation* entry ``_CONTINUE`` is appended to the inner one.  When the
inner Deferred reaches that entry, it hands its result to the outer Deferred and the same
loop carries on with the outer one, keeping the inner one on an explicit stack so that its
remaining entries run afterwards.  No call recurses: 100,000 nested Deferreds fire in one
frame (Twisted's chain-continuation technique).  ``cancel()`` walks the chain the same way.

Unhandled errors: a Deferred whose last result is a Failure gets a small ``DebugInfo``
object holding it; ``DebugInfo.__del__`` logs the Failure when the Deferred is garbage
collected without anyone having consumed the error.  Only failing Deferreds pay for it.

Coroutines: ``__await__`` returns the result at once when there is one.  Otherwise it
yields: the Deferred itself when the coroutine is driven by torsion's own driver
(``ensureDeferred``; recognised by its frame just above the awaiting coroutines' frames),
or an asyncio future on the running loop when the coroutine is an asyncio task.
"""

from __future__ import annotations

import asyncio
import inspect
import sys
import traceback
from collections.abc import Callable, Coroutine, Generator
from functools import partial
from types import CodeType, CoroutineType, FrameType
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Concatenate,
    Generic,
    ParamSpec,
    Protocol,
    TypeVar,
    overload,
)

from torsion.python.failure import Failure, _fromCaught

__all__ = [
    "AlreadyCalledError",
    "CancelledError",
    "TimeoutError",
    "NotACoroutineError",
    "DebugInfo",
    "Deferred",
    "succeed",
    "fail",
    "execute",
    "maybeDeferred",
    "passthru",
    "setDebugging",
    "getDebugging",
    "logError",
    "timeout",
]

_T = TypeVar("_T")
_U = TypeVar("_U")
_P = ParamSpec("_P")


class AlreadyCalledError(Exception):
    """A Deferred was fired (``callback``/``errback``) a second time.

    Firing is one-shot: a second result would be silently lost, so it is an error.  In
    debug mode (``setDebugging(True)``) the message shows where the Deferred was created
    and where it was first fired.
    """


class CancelledError(Exception):
    """The Deferred was cancelled (``cancel()``) before it had a result."""


class TimeoutError(Exception):  # noqa: A001 - Twisted's public name
    """A Deferred with ``addTimeout`` did not fire in time."""


class NotACoroutineError(TypeError):
    """``ensureDeferred`` was given something that is neither a coroutine nor a Deferred."""


class _IDelayedCall(Protocol):
    """What ``addTimeout`` needs from the delayed call a clock returns."""

    def active(self) -> bool: ...

    def cancel(self) -> None: ...


class _IReactorTime(Protocol):
    """What ``addTimeout`` needs from a clock: Twisted's IReactorTime.callLater.

    Declared here (structurally) so that this core module imports no interfaces module.
    """

    def callLater(self, delay: float, callable: Callable[..., Any], *args: Any,
                  **kw: Any) -> _IDelayedCall: ...


def passthru(arg: _T) -> _T:
    """Return the argument unchanged: the missing half of a callback/errback pair."""
    return arg


_passthru = passthru


def _CONTINUE(result: object, waiting: Deferred[Any]) -> None:  # pragma: no cover - marker
    """Marker entry: hand the result to ``waiting`` (never actually called)."""
    raise AssertionError("chain continuation marker called")


_new = object.__new__


def _logUnhandled(failure: Failure, debugText: str = "",
                  message: str = "Unhandled error in Deferred:") -> None:
    """Log a Failure, with its traceback, through torsion.logger.

    Imported lazily so that this core module does not depend on the logging system; the
    debug text goes in a field, never into the format string (it may contain braces).
    """
    try:
        from torsion.logger import Logger
    except ImportError:  # pragma: no cover - a broken install: still say something
        sys.stderr.write(message + "\n" + debugText + failure.getTraceback() + "\n")
        return
    Logger(namespace="torsion.internet.defer").failure(
        message.replace("{", "{{").replace("}", "}}") + "{debugInfo}", failure,
        debugInfo=debugText)


class DebugInfo:
    """Where a Deferred was created and fired, and the Failure it may be left holding.

    Separate from the Deferred so that only failing (or debugged) Deferreds pay for a
    finalizer: ``__del__`` logs a Failure nobody consumed.
    """

    __slots__ = ("failResult", "creator", "invoker")

    def __init__(self) -> None:
        self.failResult: Failure | None = None
        self.creator: list[str] | None = None
        self.invoker: list[str] | None = None

    def _getDebugTracebacks(self) -> str:
        """Format the creator and invoker stacks (empty unless debugging was on)."""
        info = ""
        if self.creator is not None:
            info += " C: Deferred was created:\n C:" + "".join(self.creator).rstrip().replace(
                "\n", "\n C:") + "\n"
        if self.invoker is not None:
            info += " I: First Invoker was:\n I:" + "".join(self.invoker).rstrip().replace(
                "\n", "\n I:") + "\n"
        return info

    def __del__(self) -> None:
        failResult = self.failResult
        if failResult is not None:
            try:
                debug = self._getDebugTracebacks()
                _logUnhandled(failResult, "\n(debug: " + debug + ")" if debug else "")
            except Exception:  # pragma: no cover - e.g. logging torn down at exit
                pass


def _cancelledToTimedOutError(value: _T, timeout: float) -> _T:
    """Turn a CancelledError Failure into a TimeoutError (``addTimeout``'s default)."""
    if isinstance(value, Failure):
        value.trap(CancelledError)
        raise TimeoutError(timeout, "Deferred")
    return value


# Code objects of the functions that step coroutines for torsion (registered by
# _defer_inline).  ``__await__`` looks for one of them just above the coroutine frames that
# are awaiting, to tell torsion's driver from an asyncio task (or anything else).
_driverCodes: set[CodeType] = set()
_GENERATOR_FLAGS = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ITERABLE_COROUTINE


def _drivenByTorsion(frame: FrameType | None) -> bool:
    """Tell whether the coroutine running ``frame`` is being stepped by torsion's driver.

    Walks up through the frames of the coroutines awaiting one another to the first
    ordinary frame: the one that called ``send``.  Only on the slow path of ``await``.
    """
    while frame is not None:
        code = frame.f_code
        if code in _driverCodes:
            return True
        if not code.co_flags & _GENERATOR_FLAGS:
            return False
        frame = frame.f_back
    return False


def _dropThrough(callbacks: list[Any], item: object) -> None:
    """Delete the entries of ``callbacks`` up to and including ``item`` (by identity)."""
    for index, other in enumerate(callbacks):
        if other is item:
            del callbacks[:index + 1]
            return


def _dropBefore(callbacks: list[Any], item: object) -> None:
    """Delete the entries of ``callbacks`` before ``item`` (found by identity)."""
    for index, other in enumerate(callbacks):
        if other is item:
            del callbacks[:index]
            return


def _returnArg(ignored: object, value: _T) -> _T:
    """Return the second argument: an entry replaying what a callback returned."""
    return value


def _consumeFailure(d: Deferred[Any]) -> None:
    """Note that ``d``'s Failure result was taken by someone: no unhandled-error log."""
    info: DebugInfo | None = getattr(d, "_debugInfo", None)
    if info is not None:
        info.failResult = None


class Deferred(Generic[_T]):
    """A result that is not available yet, and the callbacks that will process it.

    Twisted's Deferred: callbacks run synchronously when the Deferred is fired, in order,
    each receiving the previous one's result; see the module docstring for how.

    A callback added from inside a running callback is run by the loop already running,
    and awaiting a Deferred from inside its own callbacks waits for the end of the chain.
    """

    # Unset slots are meaningful and cheap: ``result`` exists once fired (Twisted raises
    # AttributeError before too); ``_callbacks`` is unset on succeed()'s Deferreds until a
    # callback is added; ``_debugInfo`` exists only on failed or debugged Deferreds.
    # ``_ready`` is a hint for the fast paths: True only while fired, not paused and the
    # result is not a Failure (False means "look closer", never "not ready"); None while
    # the callbacks run.
    # ``__dict__`` stays available (created only when used): Twisted code attaches its own
    # attributes to Deferreds.
    __slots__ = ("_callbacks", "called", "paused", "result", "_ready", "_canceller",
                 "_chainedTo", "_suppressAlreadyCalled", "_debugInfo", "__weakref__",
                 "__dict__")

    if TYPE_CHECKING:
        called: bool
        paused: int
        result: Any
        _ready: bool | None
        _callbacks: list[tuple[Any, Any, Any, Any]]
        _canceller: Callable[[Deferred[Any]], None] | None
        _chainedTo: Deferred[Any] | None
        _suppressAlreadyCalled: bool
        _debugInfo: DebugInfo

    #: Twisted's class-level debug switch; use setDebugging() to change it.
    debug: ClassVar[bool] = False

    def __init__(self, canceller: Callable[[Deferred[Any]], None] | None = None) -> None:
        """Create an unfired Deferred; ``canceller(d)`` is called by ``cancel()``.

        If the canceller does not fire the Deferred (or there is none), ``cancel()``
        errbacks it with CancelledError and a later callback/errback is ignored.
        """
        self._callbacks = []
        self.called = False
        self.paused = 0
        self._ready = False
        self._canceller = canceller

    # -- adding callbacks ----------------------------------------------------------------
    # Entries are (callback, args or None, errback, args or None); keyword arguments, rare,
    # are bound with functools.partial so that the loop never handles them.

    def _addEntry(self, entry: tuple[Any, Any, Any, Any]) -> None:
        """Append one entry (creating the list if needed) and run it if already fired."""
        try:
            self._callbacks.append(entry)
        except AttributeError:
            self._callbacks = [entry]
        if self.called:
            self._runCallbacks()

    def addCallbacks(
        self,
        callback: Callable[..., Any],
        errback: Callable[..., Any] | None = None,
        callbackArgs: tuple[Any, ...] | None = (),
        callbackKeywords: dict[str, Any] | None = None,
        errbackArgs: tuple[Any, ...] | None = (),
        errbackKeywords: dict[str, Any] | None = None,
    ) -> Deferred[Any]:
        """Add a callback and an errback as one step of the chain; return ``self``.

        Exactly one of the two runs for this step, depending on whether the result
        reaching it is a value or a Failure.
        """
        if callbackKeywords:
            callback = partial(callback, **callbackKeywords)
        if errback is None:
            errback = _passthru
        elif errbackKeywords:
            errback = partial(errback, **errbackKeywords)
        self._addEntry((callback, callbackArgs or None, errback, errbackArgs or None))
        return self

    @overload
    def addCallback(
        self,
        callback: Callable[Concatenate[_T, _P], Deferred[_U]],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_U]: ...

    @overload
    def addCallback(
        self,
        callback: Callable[Concatenate[_T, _P], Failure],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[Any]: ...

    @overload
    def addCallback(
        self,
        callback: Callable[Concatenate[_T, _P], _U],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_U]: ...

    def addCallback(
        self,
        callback: Callable[Concatenate[_T, _P], Any],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[Any]:
        """Add ``callback(result, *args, **kwargs)`` for the success path; return ``self``."""
        entry = (partial(callback, **kwargs) if kwargs else callback, args or None,
                 _passthru, None)
        try:
            self._callbacks.append(entry)
        except AttributeError:
            self._callbacks = [entry]
        if self.called:
            self._runCallbacks()
        return self

    @overload
    def addErrback(
        self,
        errback: Callable[Concatenate[Failure, _P], Deferred[_U]],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_T | _U]: ...

    @overload
    def addErrback(
        self,
        errback: Callable[Concatenate[Failure, _P], Failure],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_T]: ...

    @overload
    def addErrback(
        self,
        errback: Callable[Concatenate[Failure, _P], _U],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_T | _U]: ...

    def addErrback(
        self,
        errback: Callable[Concatenate[Failure, _P], Any],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[Any]:
        """Add ``errback(failure, *args, **kwargs)`` for the error path; return ``self``."""
        entry = (_passthru, None, partial(errback, **kwargs) if kwargs else errback,
                 args or None)
        try:
            self._callbacks.append(entry)
        except AttributeError:
            self._callbacks = [entry]
        if self.called:
            self._runCallbacks()
        return self

    @overload
    def addBoth(
        self,
        callback: Callable[Concatenate[Any, _P], Deferred[_U]],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_U]: ...

    @overload
    def addBoth(
        self,
        callback: Callable[Concatenate[Any, _P], Failure],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[Any]: ...

    @overload
    def addBoth(
        self,
        callback: Callable[Concatenate[Any, _P], _U],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[_U]: ...

    def addBoth(
        self,
        callback: Callable[Concatenate[Any, _P], Any],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Deferred[Any]:
        """Add one function for both paths (it receives a value or a Failure)."""
        if kwargs:
            callback = partial(callback, **kwargs)
        a = args or None
        self._addEntry((callback, a, callback, a))
        return self

    def addTimeout(
        self,
        timeout: float,
        clock: _IReactorTime,
        onTimeoutCancel: Callable[[Any, float], Any] | None = None,
    ) -> Deferred[_T]:
        """Cancel this Deferred if it has no result after ``timeout`` seconds of ``clock``.

        The resulting CancelledError is turned into TimeoutError, or passed to
        ``onTimeoutCancel(result, timeout)`` whose return value becomes the result.
        """
        timedOut = False

        def timeItOut() -> None:
            nonlocal timedOut
            timedOut = True
            self.cancel()

        delayedCall = clock.callLater(timeout, timeItOut)

        def convertCancelled(result: Any) -> Any:
            if timedOut:
                return (onTimeoutCancel or _cancelledToTimedOutError)(result, timeout)
            return result

        def cancelTimeout(result: Any) -> Any:
            if delayedCall.active():
                delayedCall.cancel()
            return result

        self.addBoth(convertCancelled)
        return self.addBoth(cancelTimeout)

    def chainDeferred(self, d: Deferred[Any]) -> Deferred[None]:
        """Fire ``d`` with this Deferred's result (which becomes None here)."""
        d._chainedTo = self
        return self.addCallbacks(d.callback, d.errback)

    # -- firing ----------------------------------------------------------------------------

    def callback(self, result: _T | Failure) -> None:
        """Fire with a value: run the callback chain now.  Only once (AlreadyCalledError).

        The callbacks run in a loop of its own here, which handles values and Failures
        but not chaining: at the first unfired Deferred returned by a callback, or a chain
        continuation entry, it hands the rest to ``_runLoop``, the general loop.
        """
        if self.called:
            self._alreadyCalled()
            return
        try:
            special = type(result) not in _PLAIN_TYPES and isinstance(result, _SPECIAL)
        except TypeError:  # an unhashable class (its metaclass says so)
            special = isinstance(result, _SPECIAL)
        if special:
            if isinstance(result, Deferred):
                raise AssertionError("callback() with a Deferred result: return it from a "
                                     "callback to chain instead")
            self.called = True
            self.result = result
            self._runCallbacks()
            return
        self.called = True
        if self.paused:
            self.result = result
            return
        callbacks = self._callbacks
        value: Any = result
        self._ready = None  # running: the re-entrancy guard
        failed = False
        for item in callbacks:
            if failed:
                fn = item[2]
                if fn is _passthru:
                    continue
                args = item[3]
            else:
                fn = item[0]
                if fn is _passthru:
                    continue
                args = item[1]
            if fn is _CONTINUE:
                # Chained: the general loop hands our value on; this entry stays first.
                _dropBefore(callbacks, item)
                break
            self.result = value  # what Twisted code sees while fn runs
            try:
                if args is None:
                    value = fn(value)
                else:
                    value = fn(value, *args)
            except BaseException as e:
                value = _fromCaught(e)
                failed = True
                continue
            try:
                if type(value) in _PLAIN_TYPES or not isinstance(value, _SPECIAL):
                    failed = False
                    continue
            except TypeError:  # an unhashable class (its metaclass says so)
                if not isinstance(value, _SPECIAL):
                    failed = False
                    continue
            if isinstance(value, Failure):
                failed = True
                continue
            if value._ready:
                # A Deferred that already has its (successful) result: take it, go on.
                inner = value
                value = inner.result
                inner.result = None
                failed = False
                continue
            _dropThrough(callbacks, item)
            if value is self:
                value = Failure(TypeError(
                    f"callback {fn!r} returned the Deferred it was attached to"))
                failed = True
            else:
                # The general loop chains onto it as if a callback had just returned it.
                callbacks.insert(0, (_returnArg, (value,), _passthru, None))
                failed = False
            break
        else:
            callbacks.clear()
            self.result = value
            if failed:
                self._ready = False
                # Recorded for logging if nobody handles it (see DebugInfo).
                try:
                    info = self._debugInfo
                except AttributeError:
                    info = self._debugInfo = DebugInfo()
                info.failResult = value
                # Drop our reference: the traceback leads back to this frame (a cycle).
                value = None
            else:
                self._ready = not self.paused
            return
        self.result = value
        value = None
        self._ready = False
        self._runLoop(True)

    def errback(self, fail: Failure | BaseException | None = None) -> None:
        """Fire with an error: a Failure, an exception, or (inside ``except``) the current one.

        Only once (AlreadyCalledError).
        """
        if self.called:
            self._alreadyCalled()
            return
        if fail is None:
            fail = Failure(captureVars=self.debug)
        elif not isinstance(fail, Failure):
            fail = Failure(fail)
        self.called = True
        self.result = fail
        self._runCallbacks()

    def _alreadyCalled(self) -> None:
        """Ignore a late result after a cancel() with no canceller, else raise."""
        if getattr(self, "_suppressAlreadyCalled", False):
            self._suppressAlreadyCalled = False
            return
        info: DebugInfo | None = getattr(self, "_debugInfo", None)
        extra = ""
        if info is not None and (info.creator is not None or info.invoker is not None):
            extra = "\n" + info._getDebugTracebacks()
        raise AlreadyCalledError(extra)

    def pause(self) -> None:
        """Stop running callbacks until a matching ``unpause()``."""
        self.paused += 1
        self._ready = False

    def unpause(self) -> None:
        """Undo one ``pause()``; when none are left, run the pending callbacks."""
        self.paused -= 1
        if self.paused:
            return
        if self.called:
            if not hasattr(self, "_callbacks"):
                self._callbacks = []
            self._runCallbacks()

    def cancel(self) -> None:
        """Cancel the operation: call the canceller, else errback with CancelledError.

        If this Deferred is waiting on another one (a callback returned it), the
        innermost Deferred of that chain is cancelled instead.
        """
        d: Deferred[Any] = self
        while d.called:
            inner = d.result if d.paused else None
            if not isinstance(inner, Deferred):
                return
            if type(inner).cancel is not Deferred.cancel:
                # A Deferred with its own way of cancelling (DeferredList, a coroutine's).
                inner.cancel()
                return
            d = inner
        canceller = d._canceller
        if canceller is not None:
            canceller(d)
        else:
            d._suppressAlreadyCalled = True
        if not d.called:
            d.errback(Failure(CancelledError()))

    # -- the loop --------------------------------------------------------------------------

    def _runCallbacks(self) -> None:
        """Run pending callbacks, following chained Deferreds iteratively (see module doc)."""
        if self.paused or self._ready is None:
            # Paused, waiting on another Deferred, or already running its callbacks (then
            # the running loop will get to a callback just added).
            return
        self._runLoop()

    def _runLoop(self, fresh: bool = False) -> None:
        """The general callback loop (``_runCallbacks`` without its guard).

        ``fresh``: this Deferred was fired just now by ``callback`` (whose fast loop hands
        over here), so no earlier unhandled Failure of it can be recorded.
        """
        stack: list[Deferred[Any]] | None = None
        current: Deferred[Any] = self
        while True:
            callbacks = current._callbacks
            result = current.result
            failed = startFailed = isinstance(result, Failure)
            if fresh:
                startFailed = fresh = False
            nxt: Deferred[Any] | None = None
            if callbacks:
                current._ready = None  # running: the re-entrancy guard
                for item in callbacks:
                    if failed:
                        fn = item[2]
                        if fn is _passthru:
                            continue
                        args = item[3]
                    else:
                        fn = item[0]
                        if fn is _passthru:
                            continue
                        args = item[1]
                    if fn is _CONTINUE:
                        # The waiting Deferred takes our result and runs next; we resume
                        # our own remaining callbacks (with None) after it is done.
                        nxt = args
                        nxt.result = result
                        nxt._chainedTo = None
                        nxt.paused -= 1
                        result = None
                        failed = False
                        _dropThrough(callbacks, item)
                        break
                    current.result = result  # what Twisted code sees while fn runs
                    try:
                        if args is None:
                            result = fn(result)
                        else:
                            result = fn(result, *args)
                    except BaseException as e:
                        result = _fromCaught(e)
                        failed = True
                        continue
                    try:
                        special = (type(result) not in _PLAIN_TYPES
                                   and isinstance(result, _SPECIAL))
                    except TypeError:  # an unhashable class (its metaclass says so)
                        special = isinstance(result, _SPECIAL)
                    if special:
                        if isinstance(result, Failure):
                            failed = True
                            continue
                        inner: Deferred[Any] = result
                        if inner._ready:
                            # Already has its (successful) result: take it and go on.
                            result = inner.result
                            inner.result = None
                            failed = False
                        elif inner is current:
                            result = Failure(TypeError(
                                f"callback {fn!r} returned the Deferred it was attached to"))
                            failed = True
                        elif inner.called and not inner.paused and inner._ready is not None:
                            # Already failed: take the failure and go on.
                            result = inner.result
                            inner.result = None
                            failed = isinstance(result, Failure)
                            inner._ready = not failed
                            if failed:
                                _consumeFailure(inner)
                        else:
                            current.paused += 1
                            current._chainedTo = inner
                            entry = (_CONTINUE, current, _CONTINUE, current)
                            try:
                                inner._callbacks.append(entry)
                            except AttributeError:
                                inner._callbacks = [entry]
                            failed = False
                            _dropThrough(callbacks, item)
                            break
                    else:
                        failed = False
                else:
                    callbacks.clear()
                current.result = result
                current._ready = not (failed or current.paused)
            elif not current.paused:
                current._ready = not failed
            # Record (or clear) an error nobody has handled yet, for logging on GC.
            if failed:
                try:
                    info = current._debugInfo
                except AttributeError:
                    info = current._debugInfo = DebugInfo()
                info.failResult = result
            elif startFailed:
                _consumeFailure(current)
            if nxt is not None:
                if stack is None:
                    stack = [current]
                else:
                    stack.append(current)
                current = nxt
            elif stack:
                current = stack.pop()
            else:
                return
            if current.paused:
                return

    # -- introspection ---------------------------------------------------------------------

    def __str__(self) -> str:
        cls = self.__class__
        cname = "Deferred" if cls.__name__.startswith("_") else cls.__name__
        result = getattr(self, "result", _NO_RESULT)
        myID = id(self)
        chained = getattr(self, "_chainedTo", None)
        if chained is not None and (not self.called or self.paused):
            return f"<{cname} at 0x{myID:x} waiting on Deferred at 0x{id(chained):x}>"
        if result is _NO_RESULT:
            return f"<{cname} at 0x{myID:x}>"
        return f"<{cname} at 0x{myID:x} current result: {result!r}>"

    __repr__ = __str__

    # -- coroutines and asyncio ------------------------------------------------------------

    def __await__(self) -> Generator[Any, Any, _T]:
        """Wait for the result in a coroutine: return it, or raise its exception.

        With a result already there this returns without yielding.  Otherwise it yields
        this Deferred to torsion's coroutine driver (which sends the result back in, or
        throws the error), or an asyncio future to an asyncio task (see module docstring).
        """
        if self._ready:
            return self.result  # type: ignore[no-any-return]
        return (yield from self._awaitSlowly())

    def _awaitSlowly(self) -> Generator[Any, Any, _T]:
        """The rest of ``__await__``, kept out of it so that its fast path stays small."""
        if self.called and not self.paused and self._ready is not None:
            result = self.result
            if isinstance(result, Failure):
                _consumeFailure(self)
                result.raiseException()
            return result  # type: ignore[no-any-return]
        if not _drivenByTorsion(sys._getframe(1)):
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                loop = None
            if loop is not None:
                return (yield from self.asFuture(loop).__await__())
        return (yield self)  # type: ignore[no-any-return]

    __iter__ = __await__

    def asFuture(self, loop: asyncio.AbstractEventLoop) -> asyncio.Future[_T]:
        """Return an asyncio future on ``loop`` that gets this Deferred's result.

        The result is consumed (this Deferred then holds None); cancelling the future
        cancels this Deferred.
        """
        future: asyncio.Future[_T] = loop.create_future()

        def checkCancel(futureAgain: asyncio.Future[_T]) -> None:
            if futureAgain.cancelled():
                self.cancel()

        def maybeFail(failure: Failure) -> None:
            if not future.cancelled():
                future.set_exception(failure.value.with_traceback(failure.tb))

        def maybeSucceed(result: Any) -> None:
            if not future.cancelled():
                future.set_result(result)

        self.addCallbacks(maybeSucceed, maybeFail)
        future.add_done_callback(checkCancel)
        return future

    @classmethod
    def fromFuture(cls, future: asyncio.Future[_U]) -> Deferred[_U]:
        """Return a Deferred that fires when the asyncio ``future`` completes.

        Cancelling the Deferred cancels the future (and vice versa: a cancelled future
        errbacks with CancelledError).
        """

        def adapt(result: asyncio.Future[_U]) -> None:
            try:
                extracted: Any = result.result()
            except BaseException:
                extracted = Failure()
            if isinstance(extracted, Failure) and isinstance(extracted.value,
                                                              asyncio.CancelledError):
                extracted = Failure(CancelledError())
            if not d.called:
                if isinstance(extracted, Failure):
                    d.errback(extracted)
                else:
                    d.callback(extracted)

        def cancel(reself: Deferred[Any]) -> None:
            future.cancel()

        d: Deferred[_U] = cls(cancel)  # type: ignore[assignment]
        future.add_done_callback(adapt)
        return d

    @staticmethod
    def fromCoroutine(coro: Coroutine[Any, Any, _U] | Generator[Any, Any, _U]) -> Deferred[_U]:
        """Run a coroutine (which may await Deferreds and asyncio futures) as a Deferred."""
        from torsion.internet._defer_inline import _startCoroutine

        return _startCoroutine(coro)



_SPECIAL = (Deferred, Failure)

# Exact built-in types whose instances can be neither a Deferred nor a Failure (their
# __class__ cannot be reassigned).  Checked before isinstance(..., _SPECIAL), whose negative
# answer is the slow one: it also looks up the value's __class__ attribute.  Looking a
# class up here hashes it: one whose metaclass makes it unhashable raises TypeError, which
# the callers catch (then only isinstance decides).
_PLAIN_TYPES = frozenset({int, str, bytes, float, bool, type(None), tuple, list, dict, set,
                          frozenset, complex, bytearray, range})


class _NoResult:
    """Sentinel type for 'no result attribute'."""


_NO_RESULT = _NoResult()


def _debugInit(self: Deferred[Any], canceller: Callable[[Deferred[Any]], None] | None = None
               ) -> None:
    """Deferred.__init__ while debugging is on: also records the creation stack."""
    _plainInit(self, canceller)
    info = self._debugInfo = DebugInfo()
    info.creator = traceback.format_stack()[:-1]


def _debugCallback(self: Deferred[Any], result: Any) -> None:
    """Deferred.callback while debugging is on: also records the first invoker's stack."""
    if not self.called:
        _recordInvoker(self)
    _plainCallback(self, result)


def _debugErrback(self: Deferred[Any], fail: Failure | BaseException | None = None) -> None:
    """Deferred.errback while debugging is on: also records the first invoker's stack."""
    if not self.called:
        _recordInvoker(self)
        if fail is None:
            fail = Failure(captureVars=True)
    _plainErrback(self, fail)


def _debugFiredInit(self: Deferred[Any]) -> None:
    """_Fired.__init__ while debugging is on: succeed() both creates and fires, so the
    creation stack is also the first invoker's."""
    info = self._debugInfo = DebugInfo()
    info.creator = info.invoker = traceback.format_stack()[:-1]


def _recordInvoker(d: Deferred[Any]) -> None:
    info: DebugInfo | None = getattr(d, "_debugInfo", None)
    if info is None:
        info = d._debugInfo = DebugInfo()
    info.invoker = traceback.format_stack()[:-2]


class _Fired(Deferred[Any]):
    """The class of succeed()'s Deferreds: a Deferred with a C-level (no-op) __init__.

    Only there to make succeed() cheap; it behaves exactly like Deferred.  While debugging
    is on, its __init__ records the stacks instead (see setDebugging).
    """

    __slots__ = ()
    __init__ = object.__init__


_plainInit = Deferred.__init__
_plainCallback = Deferred.callback
_plainErrback = Deferred.errback


def setDebugging(on: bool) -> None:
    """Record where each Deferred is created and fired, for AlreadyCalledError messages.

    Swaps Deferred's __init__, callback and errback (and the __init__ of succeed()'s
    Deferreds), so that the default (off) costs nothing per Deferred.
    """
    on = bool(on)
    Deferred.debug = on
    Deferred.__init__ = _debugInit if on else _plainInit  # type: ignore[method-assign]
    Deferred.callback = _debugCallback if on else _plainCallback  # type: ignore[method-assign]
    Deferred.errback = _debugErrback if on else _plainErrback  # type: ignore[method-assign]
    _Fired.__init__ = _debugFiredInit if on else object.__init__


def getDebugging() -> bool:
    """Tell whether Deferred debugging is on."""
    return Deferred.debug


def succeed(result: _T) -> Deferred[_T]:
    """Return a Deferred that already has ``result``: for synchronous code behind an
    asynchronous interface."""
    d: Deferred[_T] = _Fired()  # records its stacks while debugging (see setDebugging)
    d.called = True
    d.paused = 0
    d.result = result
    d._ready = True
    return d


def fail(result: Failure | BaseException | None = None) -> Deferred[Any]:
    """Return a Deferred that already failed with ``result`` (default: the current exception)."""
    d: Deferred[Any] = Deferred()
    d.errback(result)
    return d


@overload
def maybeDeferred(f: Callable[_P, Deferred[_T]], *args: _P.args,
                  **kwargs: _P.kwargs) -> Deferred[_T]: ...


@overload
def maybeDeferred(f: Callable[_P, Coroutine[Any, Any, _T]], *args: _P.args,
                  **kwargs: _P.kwargs) -> Deferred[_T]: ...


@overload
def maybeDeferred(f: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> Deferred[_T]: ...


def maybeDeferred(f: Callable[_P, Any], *args: _P.args, **kwargs: _P.kwargs) -> Deferred[Any]:
    """Call ``f`` and wrap what happens in a Deferred: its result, its exception, or the
    Deferred (or coroutine, run with ensureDeferred) it returns."""
    try:
        result = f(*args, **kwargs)
    except BaseException:
        return fail(Failure())
    if isinstance(result, Deferred):
        return result
    if isinstance(result, Failure):
        return fail(result)
    if isinstance(result, CoroutineType):
        return Deferred.fromCoroutine(result)
    return succeed(result)


def execute(f: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> Deferred[_T]:
    """Call ``f`` now and return a Deferred of its result or its exception."""
    try:
        result = f(*args, **kwargs)
    except BaseException:
        return fail(Failure())
    return succeed(result)


def logError(err: Failure) -> Failure:
    """Log a Failure (an errback for when nothing better can be done); return it."""
    _logUnhandled(err, message="Error in Deferred:")
    return err


def timeout(deferred: Deferred[Any]) -> None:
    """Errback ``deferred`` with TimeoutError (Twisted's old helper)."""
    deferred.errback(Failure(TimeoutError("Callback timed out")))


