"""Combining Deferreds: DeferredList, gatherResults and race.

Theory of operation: each combinator is itself a Deferred subclass that adds one
callback/errback entry (with the input's index as extra argument) to every input Deferred,
counts completions, and fires itself when its condition is met.  Cancelling the combined
Deferred cancels every input that has no result yet.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from torsion.internet._deferred import Deferred, _logUnhandled
from torsion.python.failure import Failure

__all__ = ["DeferredList", "FirstError", "FailureGroup", "gatherResults", "race", "SUCCESS",
           "FAILURE"]

_T = TypeVar("_T")

SUCCESS = True
FAILURE = False


class FirstError(Exception):
    """The first failure among a DeferredList's (or gatherResults') inputs, and its index."""

    def __init__(self, failure: Failure, index: int) -> None:
        Exception.__init__(self, failure, index)
        self.subFailure = failure
        self.index = index

    def __repr__(self) -> str:
        return f"FirstError[#{self.index}, {self.subFailure.value!r}]"

    def __str__(self) -> str:
        return f"FirstError[#{self.index}, {self.subFailure}]"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FirstError):
            return (self.index, self.subFailure) == (other.index, other.subFailure)
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.index, id(self.subFailure)))


class FailureGroup(Exception):
    """Every Deferred given to ``race()`` failed; ``failures`` lists them by index."""

    def __init__(self, failures: list[Failure]) -> None:
        Exception.__init__(self, failures)
        self.failures = failures


def _cancelAll(deferreds: Iterable[Deferred[Any]]) -> None:
    """Cancel every Deferred; an error from one canceller is logged, not propagated."""
    for d in deferreds:
        try:
            d.cancel()
        except BaseException:
            _logUnhandled(Failure(), message="Exception raised from user supplied canceller")


class DeferredList(Deferred[Any]):
    """A Deferred of the results of several Deferreds.

    Fires with ``[(success, result), ...]`` in input order once all have fired; with
    ``fireOnOneCallback`` with ``(result, index)`` of the first success; with
    ``fireOnOneErrback`` with a FirstError Failure for the first failure.  With
    ``consumeErrors`` the inputs' failures are handled here (their chains go on with None).
    """

    __slots__ = ("_deferredList", "resultList", "finishedCount", "fireOnOneCallback",
                 "fireOnOneErrback", "consumeErrors")

    def __init__(self, deferredList: Iterable[Deferred[Any]], fireOnOneCallback: bool = False,
                 fireOnOneErrback: bool = False, consumeErrors: bool = False) -> None:
        Deferred.__init__(self)
        ds = self._deferredList = list(deferredList)
        self.resultList: list[Any] = [None] * len(ds)
        self.finishedCount = 0
        self.fireOnOneCallback = fireOnOneCallback
        self.fireOnOneErrback = fireOnOneErrback
        self.consumeErrors = consumeErrors
        if not ds and not fireOnOneCallback:
            self.callback([])
        cb = self._cbDeferred
        for index, d in enumerate(ds):
            d.addCallbacks(cb, cb, (index, SUCCESS), None, (index, FAILURE))

    def _cbDeferred(self, result: Any, index: int, succeeded: bool) -> Any:
        """Record one input's outcome and fire if the list's condition is met."""
        self.resultList[index] = (succeeded, result)
        self.finishedCount += 1
        if not self.called:
            if succeeded and self.fireOnOneCallback:
                self.callback((result, index))
            elif not succeeded and self.fireOnOneErrback:
                self.errback(Failure(FirstError(result, index)))
            elif self.finishedCount == len(self.resultList):
                self.callback(self.resultList)
        if not succeeded and self.consumeErrors:
            return None
        return result

    def cancel(self) -> None:
        """Cancel every input Deferred (this one then fires as the inputs report back)."""
        if not self.called:
            _cancelAll(self._deferredList)


class _Gathered(Deferred[list[Any]]):
    """The Deferred of gatherResults: a list of the inputs' results, or FirstError."""

    __slots__ = ("_deferredList", "_results", "_remaining", "_consumeErrors")

    _deferredList: list[Deferred[Any]]
    _results: list[Any]
    _remaining: int
    _consumeErrors: bool

    def _ok(self, result: Any, index: int) -> Any:
        self._results[index] = result
        self._remaining -= 1
        if not self._remaining and not self.called:
            self.callback(self._results)
        return result

    def _err(self, failure: Failure, index: int) -> Failure | None:
        self._remaining -= 1
        if not self.called:
            self.errback(Failure(FirstError(failure, index)))
        return None if self._consumeErrors else failure

    def cancel(self) -> None:
        """Cancel every input Deferred (this one then fires as the inputs report back)."""
        if not self.called:
            _cancelAll(self._deferredList)


def gatherResults(deferredList: Iterable[Deferred[_T]],
                  consumeErrors: bool = False) -> Deferred[list[_T]]:
    """Return a Deferred of the list of results of ``deferredList``, in order.

    Fails with FirstError (holding the Failure and its index) as soon as one input fails;
    with ``consumeErrors`` the inputs' failures are handled here.
    """
    g: _Gathered = _Gathered()
    ds = g._deferredList = list(deferredList)
    n = len(ds)
    g._results = [None] * n
    g._remaining = n
    g._consumeErrors = consumeErrors
    if not n:
        g.callback(g._results)
        return g
    ok = g._ok
    err = g._err
    for index, d in enumerate(ds):
        args = (index,)
        d._addEntry((ok, args, err, args))
    return g


def race(ds: Sequence[Deferred[_T]]) -> Deferred[tuple[int, _T]]:
    """Fire with ``(index, result)`` of the first input to succeed, cancelling the others.

    If every input fails, fail with FailureGroup holding their Failures in input order.
    """
    toCancel = list(ds)
    winner: Deferred[_T] | None = None
    failures: list[tuple[int, Failure]] = []

    def cancel(result: Deferred[Any]) -> None:
        _cancelAll(toCancel)

    final: Deferred[tuple[int, _T]] = Deferred(canceller=cancel)

    def succeeded(output: _T, index: int) -> None:
        nonlocal winner
        if winner is None:
            winner = toCancel[index]
            for d in toCancel:
                if d is not winner:
                    d.cancel()
            final.callback((index, output))

    def failed(failure: Failure, index: int) -> None:
        failures.append((index, failure))
        if len(failures) == len(toCancel):
            failures.sort(key=lambda pair: pair[0])
            final.errback(FailureGroup([f for _, f in failures]))

    for index, d in enumerate(toCancel):
        d.addCallbacks(succeeded, failed, callbackArgs=(index,), errbackArgs=(index,))
    return final
