"""Running blocking code in threads and getting its result back as a Deferred.

``deferToThreadPool(reactor, pool, f, ...)`` runs ``f`` in ``pool`` and fires the returned
Deferred in the reactor thread (through ``callFromThread``), so callbacks never run in a
worker.  ``blockingCallFromThread`` is the way back: from a worker, run something in the
reactor thread and wait for its (possibly Deferred or coroutine) result.

Only ``deferToThread`` and ``callMultipleInThread`` use the global reactor, imported when
they are called, never when this module is imported.
"""

from __future__ import annotations

import asyncio
import queue
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar, cast

from torsion.internet.defer import Deferred, maybeDeferred
from torsion.python.failure import Failure

if TYPE_CHECKING:
    from torsion.internet._base import ReactorBase
    from torsion.internet.interfaces import IReactorFromThreads
    from torsion.python.threadpool import ThreadPool

__all__ = [
    "blockingCallFromThread",
    "callMultipleInThread",
    "deferToThread",
    "deferToThreadPool",
]

_P = ParamSpec("_P")
_T = TypeVar("_T")


def deferToThreadPool(
    reactor: IReactorFromThreads,
    threadpool: ThreadPool,
    f: Callable[_P, _T],
    *args: _P.args,
    **kwargs: _P.kwargs,
) -> Deferred[_T]:
    """Call ``f(*args, **kwargs)`` in ``threadpool``; the Deferred fires in the reactor thread.

    It fires with ``f``'s result, or fails with the exception ``f`` raised.
    """
    d: Deferred[_T] = Deferred()

    def onResult(success: bool, result: Any) -> None:
        if success:
            reactor.callFromThread(d.callback, result)
        else:
            reactor.callFromThread(d.errback, result)

    threadpool.callInThreadWithCallback(onResult, f, *args, **kwargs)
    return d


def deferToThread(f: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> Deferred[_T]:
    """Call ``f`` in the global reactor's thread pool; see deferToThreadPool."""
    reactor = _globalReactor()
    return deferToThreadPool(reactor, reactor.getThreadPool(), f, *args, **kwargs)


def _runningLoop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _globalReactor() -> ReactorBase:
    """The installed global reactor, imported (and so installed) only when needed."""
    from torsion.internet import reactor

    return cast("ReactorBase", reactor)


def _runMultiple(tupleList: Sequence[tuple[Callable[..., object], Sequence[Any], dict[str, Any]]]
                 ) -> None:
    for f, args, kwargs in tupleList:
        f(*args, **kwargs)


def callMultipleInThread(
    tupleList: Sequence[tuple[Callable[..., object], Sequence[Any], dict[str, Any]]],
) -> None:
    """Run the ``(f, args, kwargs)`` calls one after another in one thread of the global pool."""
    _globalReactor().callInThread(_runMultiple, tupleList)


def blockingCallFromThread(
    reactor: IReactorFromThreads, f: Callable[_P, Any], *args: _P.args, **kwargs: _P.kwargs
) -> Any:
    """From a non-reactor thread, run ``f`` in the reactor thread and wait for its result.

    ``f`` may return a Deferred or a coroutine, whose result is waited for; its exception
    is raised here.  Calling this from the reactor thread would deadlock, as in Twisted.
    """
    loop = getattr(reactor, "_loop", None)
    if loop is not None and _runningLoop() is loop:
        raise RuntimeError("blockingCallFromThread called from the reactor thread would deadlock")
    results: queue.SimpleQueue[Any] = queue.SimpleQueue()

    def inReactor() -> None:
        result: Deferred[Any] = maybeDeferred(f, *args, **kwargs)
        result.addBoth(results.put)

    reactor.callFromThread(inReactor)
    outcome = results.get()
    if isinstance(outcome, Failure):
        outcome.raiseException()
    return outcome
