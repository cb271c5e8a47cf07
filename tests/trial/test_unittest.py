"""Tests for torsion.trial.unittest: Twisted-style test cases under unittest/pytest."""

from __future__ import annotations

import unittest as pyunit
from collections.abc import Iterator
from typing import Any

import pytest

from torsion.internet import defer
from torsion.internet._reactor import Reactor
from torsion.internet.protocol import Factory
from torsion.logger import Logger
from torsion.python.failure import Failure
from torsion.trial import unittest


@pytest.fixture
def globalReactor(reactor: Reactor, monkeypatch: pytest.MonkeyPatch) -> Iterator[Reactor]:
    """Stand the test's private reactor in for the global one TestCase would install."""
    import torsion.trial.unittest as module

    monkeypatch.setattr(module, "_installedReactor", lambda: reactor)
    monkeypatch.setattr(module, "_reactorIfInstalled", lambda: reactor)
    yield reactor


def _runCase(case: pyunit.TestCase) -> pyunit.TestResult:
    result = pyunit.TestResult()
    case.run(result)
    return result


def _problems(result: pyunit.TestResult) -> list[str]:
    return [text for _, text in result.failures + result.errors]


class Sync(unittest.SynchronousTestCase):
    """Holder for SynchronousTestCase assertion tests."""

    def test_nothing(self) -> None:
        """Present so the class can be instantiated."""


@pytest.fixture
def case() -> Sync:
    """A SynchronousTestCase instance to call assertions on."""
    return Sync("test_nothing")


def test_successResultOfReturnsResult(case: Sync) -> None:
    """successResultOf gives the result of a fired Deferred."""
    assert case.successResultOf(defer.succeed(3)) == 3


def test_successResultOfFailsOnNoResultOrFailure(case: Sync) -> None:
    """successResultOf fails the test for an unfired or failed Deferred."""
    with pytest.raises(AssertionError, match="found no result"):
        case.successResultOf(defer.Deferred())
    with pytest.raises(AssertionError, match="found failure result"):
        case.successResultOf(defer.fail(ValueError("x")))


def test_failureResultOfChecksType(case: Sync) -> None:
    """failureResultOf returns the Failure, and fails on the wrong type or a success."""
    failure = case.failureResultOf(defer.fail(ValueError("x")), ValueError)
    assert isinstance(failure, Failure) and failure.check(ValueError)
    with pytest.raises(AssertionError, match="expected"):
        case.failureResultOf(defer.fail(ValueError("x")), KeyError)
    with pytest.raises(AssertionError, match="found success"):
        case.failureResultOf(defer.succeed(1))


def test_assertNoResult(case: Sync) -> None:
    """assertNoResult passes for an unfired Deferred and fails for a fired one."""
    case.assertNoResult(defer.Deferred())
    with pytest.raises(AssertionError):
        case.assertNoResult(defer.succeed(1))


def test_assertFailureMatchesType(case: Sync) -> None:
    """assertFailure's Deferred succeeds with the exception of the expected type."""
    error = ValueError("x")
    assert case.successResultOf(case.assertFailure(defer.fail(error), ValueError)) is error
    case.failureResultOf(case.assertFailure(defer.succeed(1), ValueError), AssertionError)
    case.failureResultOf(case.assertFailure(defer.fail(KeyError()), ValueError),
                         AssertionError)


def test_twistedAliases(case: Sync) -> None:
    """The historic aliases behave like the unittest assertions they name."""
    case.failUnless(True)
    case.assertEquals(1, 1)
    case.failUnlessEqual("a", "a")
    case.assertIdentical(None, None)
    case.assertSubstring("b", "abc")
    with pytest.raises(AssertionError):
        case.failIf(True)
    with pytest.raises(AssertionError):
        case.assertNotSubstring("b", "abc")


def test_loggedErrorFailsTest() -> None:
    """An error logged during a test fails it unless flushed."""

    class Case(unittest.SynchronousTestCase):
        def test_logs(self) -> None:
            Logger().failure("oops", Failure(ValueError("logged")))

        def test_flushes(self) -> None:
            Logger().failure("oops", Failure(ValueError("logged")))
            assert len(self.flushLoggedErrors(ValueError)) == 1

    assert "logged" in _problems(_runCase(Case("test_logs")))[0]
    assert _problems(_runCase(Case("test_flushes"))) == []


def test_synchronousCaseRefusesUnfiredDeferred() -> None:
    """A SynchronousTestCase test returning an unfired Deferred fails with a clear message."""

    class Case(unittest.SynchronousTestCase):
        def test_it(self) -> Any:
            return defer.Deferred()

    assert "use torsion.trial.unittest.TestCase" in _problems(_runCase(Case("test_it")))[0]


def test_testCaseWaitsForDeferred(globalReactor: Reactor) -> None:
    """A TestCase test returning a Deferred fired later by the reactor passes."""
    fired: list[bool] = []

    class Case(unittest.TestCase):
        def test_it(self) -> Any:
            d: defer.Deferred[None] = defer.Deferred()
            globalReactor.callLater(0.01, d.callback, None)
            return d.addCallback(lambda _: fired.append(True))

    assert _problems(_runCase(Case("test_it"))) == [] and fired == [True]


def test_testCaseRunsCoroutine(globalReactor: Reactor) -> None:
    """A coroutine test method runs on the reactor; its failure fails the test."""

    class Case(unittest.TestCase):
        async def test_ok(self) -> None:
            assert await defer.succeed(5) == 5

        async def test_bad(self) -> None:
            d: defer.Deferred[None] = defer.Deferred()
            globalReactor.callLater(0.01, d.errback, KeyError("late"))
            await d

    assert _problems(_runCase(Case("test_ok"))) == []
    assert "late" in _problems(_runCase(Case("test_bad")))[0]


def test_testCaseTimeout(globalReactor: Reactor) -> None:
    """A test whose Deferred never fires fails after its timeout."""

    class Case(unittest.TestCase):
        timeout = 0.1

        def test_it(self) -> Any:
            return defer.Deferred()

    assert "timed out after 0.1 seconds" in _problems(_runCase(Case("test_it")))[0]


def test_setUpAndCleanupMayReturnDeferreds(globalReactor: Reactor) -> None:
    """setUp and addCleanup functions returning Deferreds are waited for, in order."""
    order: list[str] = []

    def later(what: str) -> defer.Deferred[None]:
        d: defer.Deferred[None] = defer.Deferred()
        globalReactor.callLater(0.01, lambda: (order.append(what), d.callback(None)))
        return d

    class Case(unittest.TestCase):
        def setUp(self) -> Any:
            self.addCleanup(later, "cleanup")
            return later("setUp")

        def test_it(self) -> None:
            order.append("test")

    assert _problems(_runCase(Case("test_it"))) == []
    assert order == ["setUp", "test", "cleanup"]


def test_dirtyReactorFailsTestAndIsCleaned(globalReactor: Reactor) -> None:
    """A test leaving a delayed call and a listening port fails listing both; both are gone
    afterwards."""

    class Case(unittest.TestCase):
        def test_it(self) -> None:
            globalReactor.callLater(100, lambda: None)
            globalReactor.listenTCP(0, Factory(), interface="127.0.0.1")

    problems = _problems(_runCase(Case("test_it")))
    assert "Reactor was unclean" in problems[0]
    assert "DelayedCalls" in problems[0] and "Selectables" in problems[0]
    assert [c for c in globalReactor.getDelayedCalls() if c.active()] == []
    assert globalReactor.closeAll() == []  # nothing was left open


def test_cleanupsRunBeforeReactorCheck(globalReactor: Reactor) -> None:
    """A port closed by an addCleanup function does not count as left open."""

    class Case(unittest.TestCase):
        def test_it(self) -> None:
            port = globalReactor.listenTCP(0, Factory(), interface="127.0.0.1")
            self.addCleanup(port.stopListening)

    assert _problems(_runCase(Case("test_it"))) == []


def test_errorLoggedInCleanupFailsTest() -> None:
    """An error logged by a cleanup still fails the test."""

    class Case(unittest.SynchronousTestCase):
        def test_it(self) -> None:
            self.addCleanup(lambda: Logger().failure("late", Failure(KeyError("cleanup"))))

    assert "cleanup" in _problems(_runCase(Case("test_it")))[0]


def test_cleanTestPasses(globalReactor: Reactor) -> None:
    """A test that closes what it opened passes the reactor check."""

    class Case(unittest.TestCase):
        def test_it(self) -> Any:
            globalReactor.callLater(100, lambda: None).cancel()
            port = globalReactor.listenTCP(0, Factory(), interface="127.0.0.1")
            return port.stopListening()

    assert _problems(_runCase(Case("test_it"))) == []
