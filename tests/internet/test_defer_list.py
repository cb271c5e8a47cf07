"""Tests for DeferredList, gatherResults and race."""

from __future__ import annotations

from typing import Any

from torsion.internet.defer import (
    CancelledError,
    Deferred,
    DeferredList,
    FailureGroup,
    FirstError,
    fail,
    gatherResults,
    race,
    succeed,
)
from torsion.logger import globalLogPublisher
from torsion.python.failure import Failure


def _results(d: Deferred[Any]) -> list[Any]:
    out: list[Any] = []
    d.addBoth(out.append)
    return out


def test_deferredListFiresWithAllResultsInOrder() -> None:
    """DeferredList fires with (success, result) pairs in input order once all fired."""
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    out = _results(DeferredList([a, b]))
    b.callback(2)
    assert out == []
    a.callback(1)
    assert out == [[(True, 1), (True, 2)]]


def test_deferredListRecordsFailures() -> None:
    """A failed input appears as (False, failure)."""
    a: Deferred[int] = Deferred()
    out = _results(DeferredList([a, succeed(2)], consumeErrors=True))
    a.errback(KeyError())
    (ok, failure), second = out[0]
    assert ok is False and failure.type is KeyError and second == (True, 2)


def test_deferredListEmptyFiresAtOnce() -> None:
    """An empty DeferredList fires with [] immediately."""
    assert _results(DeferredList([])) == [[]]


def test_deferredListFireOnOneCallback() -> None:
    """fireOnOneCallback fires with (result, index) of the first success."""
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    out = _results(DeferredList([a, b], fireOnOneCallback=True))
    b.callback("b")
    assert out == [("b", 1)]


def test_deferredListFireOnOneErrback() -> None:
    """fireOnOneErrback fails with FirstError holding the failure and its index."""
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    out = _results(DeferredList([a, b], fireOnOneErrback=True, consumeErrors=True))
    b.errback(KeyError())
    error = out[0].value
    assert isinstance(error, FirstError)
    assert error.index == 1 and error.subFailure.type is KeyError


def test_deferredListConsumeErrors() -> None:
    """With consumeErrors, the input's own chain continues with None."""
    a: Deferred[int] = Deferred()
    DeferredList([a], consumeErrors=True)
    a.errback(KeyError())
    assert _results(a) == [None]


def test_deferredListWithoutConsumeErrorsLeavesFailure() -> None:
    """Without consumeErrors, the input keeps its failure."""
    a: Deferred[int] = Deferred()
    DeferredList([a])
    a.errback(KeyError())
    out = _results(a)
    assert isinstance(out[0], Failure)
    out[0].trap(KeyError)


def test_deferredListCancelCancelsInputs() -> None:
    """Cancelling a DeferredList cancels every input without a result."""
    cancelled: list[Deferred[Any]] = []
    a: Deferred[int] = Deferred(cancelled.append)
    b: Deferred[int] = Deferred(cancelled.append)
    dl = DeferredList([a, b], consumeErrors=True)
    dl.cancel()
    assert cancelled == [a, b]
    assert [ok for ok, _ in _results(dl)[0]] == [False, False]


def test_gatherResultsListOfValues() -> None:
    """gatherResults fires with the list of results in input order."""
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    out = _results(gatherResults([a, b, succeed(3)]))
    b.callback(2)
    a.callback(1)
    assert out == [[1, 2, 3]]


def test_gatherResultsEmpty() -> None:
    """gatherResults of nothing fires with []."""
    assert _results(gatherResults([])) == [[]]


def test_gatherResultsFirstError() -> None:
    """gatherResults fails with FirstError at the first failure."""
    a: Deferred[int] = Deferred()
    b: Deferred[int] = Deferred()
    out = _results(gatherResults([a, b], consumeErrors=True))
    b.errback(ValueError("v"))
    assert out[0].check(FirstError)
    assert out[0].value.index == 1 and out[0].value.subFailure.type is ValueError


def test_gatherResultsConsumeErrors() -> None:
    """With consumeErrors, failed inputs' own chains continue with None."""
    a: Deferred[int] = Deferred()
    gatherResults([a], consumeErrors=True).addErrback(lambda f: None)
    a.errback(KeyError())
    assert _results(a) == [None]


def test_gatherResultsWithoutConsumeErrorsLeavesFailure() -> None:
    """Without consumeErrors, failed inputs keep their failure."""
    a = fail(KeyError())
    gatherResults([a]).addErrback(lambda f: None)
    out = _results(a)
    assert isinstance(out[0], Failure)
    out[0].trap(KeyError)


def test_gatherResultsCancelCancelsInputs() -> None:
    """Cancelling gatherResults' Deferred cancels the inputs; it fails with FirstError."""
    cancelled: list[Deferred[Any]] = []
    a: Deferred[int] = Deferred(cancelled.append)
    d = gatherResults([a, succeed(1)], consumeErrors=True)
    d.cancel()
    assert cancelled == [a]
    out = _results(d)
    assert out[0].value.subFailure.type is CancelledError


def test_raceFirstSuccessWinsAndOthersCancelled() -> None:
    """race fires with (index, result) of the first success and cancels the rest."""
    cancelled: list[Deferred[Any]] = []
    a: Deferred[str] = Deferred(cancelled.append)
    b: Deferred[str] = Deferred(cancelled.append)
    a.addErrback(lambda f: None)
    out = _results(race([a, b]))
    b.callback("b")
    assert out == [(1, "b")]
    assert cancelled == [a]


def test_raceAllFailGivesFailureGroup() -> None:
    """race fails with FailureGroup of all failures, in input order, if every input fails."""
    a: Deferred[str] = Deferred()
    b: Deferred[str] = Deferred()
    out = _results(race([a, b]))
    b.errback(KeyError())
    a.errback(ValueError())
    group = out[0].value
    assert isinstance(group, FailureGroup)
    assert [f.type for f in group.failures] == [ValueError, KeyError]


def test_raceCancelCancelsAll() -> None:
    """Cancelling race's Deferred cancels every input."""
    cancelled: list[Deferred[Any]] = []
    a: Deferred[str] = Deferred(cancelled.append)
    b: Deferred[str] = Deferred(cancelled.append)
    d = race([a, b])
    d.addErrback(lambda f: None)
    d.cancel()
    assert cancelled == [a, b]


def test_firstErrorReprAndEquality() -> None:
    """FirstError shows its index and compares by index and failure."""
    f = Failure(KeyError("k"))
    assert "FirstError[#2" in repr(FirstError(f, 2))
    assert FirstError(f, 2) == FirstError(f, 2)
    assert FirstError(f, 2) != FirstError(f, 3)


def test_cancelOuterWaitingOnDeferredListCancelsInputs() -> None:
    """Cancelling a Deferred waiting on a DeferredList cancels the list's inputs."""
    cancelled: list[Deferred[Any]] = []
    a: Deferred[int] = Deferred(cancelled.append)
    outer: Deferred[Any] = Deferred()
    outer.addCallback(lambda _: DeferredList([a], consumeErrors=True))
    out = _results(outer)
    outer.callback(None)
    outer.cancel()
    assert cancelled == [a]
    assert out[0][0][0] is False


def test_cancelledDeferredListWaitsForInputsThatIgnoreCancel() -> None:
    """A DeferredList whose input ignores cancel() keeps waiting for it, as in Twisted."""

    class Stubborn(Deferred[int]):
        def cancel(self) -> None:
            pass

    stubborn = Stubborn()
    dl = DeferredList([stubborn])
    out = _results(dl)
    dl.cancel()
    assert out == []
    stubborn.callback(1)
    assert out == [[(True, 1)]]


def test_cancellerErrorIsLoggedAndOthersStillCancelled() -> None:
    """A canceller that raises is logged; the other inputs are still cancelled."""
    cancelled: list[Deferred[Any]] = []
    events: list[dict[str, Any]] = []

    def broken(d: Deferred[Any]) -> None:
        raise RuntimeError("canceller broke")

    a: Deferred[int] = Deferred(broken)
    b: Deferred[int] = Deferred(cancelled.append)
    dl = DeferredList([a, b], consumeErrors=True)
    globalLogPublisher.addObserver(events.append)
    try:
        dl.cancel()
    finally:
        globalLogPublisher.removeObserver(events.append)
    assert cancelled == [b]
    assert [e["log_failure"].type for e in events if "log_failure" in e] == [RuntimeError]
