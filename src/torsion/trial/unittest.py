"""Twisted-style test cases that run under pytest (and plain unittest).

`SynchronousTestCase` adds Twisted's assertions for Deferreds that are already fired
(`successResultOf`, `failureResultOf`, `assertNoResult`), `assertFailure`, the historic
aliases (`failUnless`, `assertEquals`, `assertIdentical` ...) and logged-error checking: an
error logged during the test (an unhandled Deferred failure, `_log.failure(...)`) fails it
unless the test takes it with `flushLoggedErrors(ExceptionType)`.

`TestCase` also lets `setUp`, the test method, `tearDown` and cleanups return a Deferred or be
coroutines: each is run on the global reactor (installed on first use) until it finishes or
the test's `timeout` (method or class attribute, default 120 s) expires. After the test the
reactor must be clean — no pending delayed calls, listening ports or open connections: a
dirty reactor fails the test with the list of what was left, and is then cleaned so the next
test starts fresh (Twisted's DirtyReactorAggregateError).

Both are `unittest.TestCase` subclasses, so pytest collects and runs them as it does any
unittest test case.
"""

from __future__ import annotations

import inspect
import sys
import unittest
import warnings
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from torsion.internet.defer import Deferred
from torsion.logger import LogEvent, globalLogPublisher
from torsion.python.failure import Failure
from torsion.trial._spin import TestTimeoutError, asDeferred, cleanDirt, runUntilDone

__all__ = [
    "DEFAULT_TIMEOUT_DURATION",
    "DirtyReactorAggregateError",
    "FailTest",
    "SkipTest",
    "SynchronousTestCase",
    "TestCase",
    "TestTimeoutError",
]

_T = TypeVar("_T")
_E = TypeVar("_E", bound=BaseException)

#: Seconds a TestCase test may take unless it sets `timeout`.
DEFAULT_TIMEOUT_DURATION = 120.0

FailTest = AssertionError
SkipTest = unittest.SkipTest


class DirtyReactorAggregateError(Exception):
    """The test left delayed calls, ports or connections on the reactor (listed)."""


def _peek(deferred: Deferred[Any]) -> list[Any]:
    """The Deferred's current result as a one-item list (empty if it has not fired),
    leaving the result in place for later callbacks."""
    results: list[Any] = []

    def keep(result: Any) -> Any:
        results.append(result)
        return result

    deferred.addBoth(keep)
    return results


def _raiseOrReturn(deferred: Deferred[Any]) -> Any:
    """The result of a fired Deferred, raising its failure's exception."""
    value = _peek(deferred)[0]
    if isinstance(value, Failure):
        deferred.addErrback(lambda f: None)
        raise value.value.with_traceback(value.getTracebackObject())
    return value


class SynchronousTestCase(unittest.TestCase):
    """A TestCase with Twisted's synchronous assertions and logged-error checking."""

    failureException = AssertionError

    def __init__(self, methodName: str = "runTest") -> None:
        super().__init__(methodName)
        self._loggedErrors: list[Failure] = []

    # -- logged errors ------------------------------------------------------------------

    def _observeErrors(self, event: LogEvent) -> None:
        failure = event.get("log_failure")
        if failure is not None and event.get("log_level") is not None:
            level = getattr(event["log_level"], "name", "")
            if level in ("error", "critical"):
                self._loggedErrors.append(failure)

    def flushLoggedErrors(self, *errorTypes: type[BaseException]) -> list[Failure]:
        """Take (and return) the errors logged so far that match `errorTypes` (all if none),
        so they do not fail the test."""
        if not errorTypes:
            taken, self._loggedErrors = self._loggedErrors, []
            return taken
        taken = [f for f in self._loggedErrors if f.check(*errorTypes)]
        self._loggedErrors = [f for f in self._loggedErrors if not f.check(*errorTypes)]
        return taken

    def run(self, result: Any = None) -> Any:
        """Run the test while watching the log for errors; check them after every cleanup."""
        self._loggedErrors = []
        # Cleanups run last-in first-out: registered before the test's own, these run after
        # them, so whatever setUp, the test, tearDown and cleanups leave is seen.
        self.addCleanup(self._checkLoggedErrors)
        self._registerFinalChecks()
        globalLogPublisher.addObserver(self._observeErrors)
        try:
            return super().run(result)
        finally:
            globalLogPublisher.removeObserver(self._observeErrors)

    def _registerFinalChecks(self) -> None:
        """Add cleanups that check the test's effects (run after the test's own cleanups)."""

    def _callTestMethod(self, method: Callable[[], Any]) -> None:
        self._runStep(method, "test")

    def _runStep(self, function: Callable[..., Any], what: str, *args: Any,
                 **kwargs: Any) -> None:
        """Run one step of the test; a Deferred or coroutine it returns must finish."""
        d = asDeferred(function(*args, **kwargs))
        if d is None:
            return
        if d.called:
            _raiseOrReturn(d)
            return
        self._waitFor(d, what)

    def _waitFor(self, d: Deferred[Any], what: str) -> None:
        """A synchronous test cannot wait: an unfinished result fails it."""
        d.addErrback(lambda f: None)
        d.cancel()
        self.fail(f"{what} returned an unfinished {d!r}, which SynchronousTestCase cannot wait "
                  f"for; use torsion.trial.unittest.TestCase")

    def _checkLoggedErrors(self) -> None:
        if self._loggedErrors:
            errors, self._loggedErrors = self._loggedErrors, []
            text = "\n".join(f.getTraceback() for f in errors)
            self.fail(f"{len(errors)} error(s) logged during the test (take expected ones "
                      f"with flushLoggedErrors):\n{text}")

    # -- Deferred assertions ------------------------------------------------------------

    def successResultOf(self, deferred: Deferred[_T]) -> _T:
        """The result of an already-succeeded Deferred; fails the test otherwise."""
        results = _peek(deferred)
        if not results:
            self.fail(f"Success result expected on {deferred!r}, found no result instead")
        value = results[0]
        if isinstance(value, Failure):
            deferred.addErrback(lambda f: None)
            self.fail(f"Success result expected on {deferred!r}, found failure result "
                      f"instead:\n{value.getTraceback()}")
        success: _T = value
        return success

    def failureResultOf(self, deferred: Deferred[Any],
                        *expectedExceptionTypes: type[BaseException]) -> Failure:
        """The Failure of an already-failed Deferred (of one of the given types, if any)."""
        results = _peek(deferred)
        if not results:
            self.fail(f"Failure result expected on {deferred!r}, found no result instead")
        value = results[0]
        if not isinstance(value, Failure):
            self.fail(f"Failure result expected on {deferred!r}, found success result "
                      f"({value!r}) instead")
        deferred.addErrback(lambda f: None)  # taken by the test: not an unhandled error
        if expectedExceptionTypes and not value.check(*expectedExceptionTypes):
            names = " or ".join(t.__qualname__ for t in expectedExceptionTypes)
            self.fail(f"Failure of type ({names}) expected on {deferred!r}, found type "
                      f"{value.type!r} instead: {value.getTraceback()}")
        return value

    def assertNoResult(self, deferred: Deferred[Any]) -> None:
        """Assert the Deferred has not fired yet (a failure it holds is then consumed)."""
        results = _peek(deferred)
        if results:
            deferred.addErrback(lambda f: None)
            self.fail(f"No result expected on {deferred!r}, found {results[0]!r} instead")

    def assertFailure(self, deferred: Deferred[Any],
                      *expectedFailures: type[BaseException]) -> Deferred[Any]:
        """A Deferred that succeeds with the exception if `deferred` fails with one of
        `expectedFailures`, and fails the test if it succeeds or fails otherwise."""

        def succeeded(result: Any) -> NoReturn:
            raise self.failureException(f"did not catch an error, instead got {result!r}")

        def failed(failure: Failure) -> BaseException:
            if failure.check(*expectedFailures):
                return failure.value
            raise self.failureException(
                f"{expectedFailures!r}\nnot raised ({failure.type!r} raised instead)\n"
                f"{failure.getTraceback()}")

        return deferred.addCallbacks(succeeded, failed)

    # -- Twisted's other assertions and the historic aliases ----------------------------

    def assertSubstring(self, substring: str, astring: str, msg: str | None = None) -> None:
        """Assert `substring` occurs in `astring`."""
        self.assertIn(substring, astring, msg)

    def assertNotSubstring(self, substring: str, astring: str, msg: str | None = None) -> None:
        """Assert `substring` does not occur in `astring`."""
        self.assertNotIn(substring, astring, msg)

    def assertApproximates(self, first: float, second: float, tolerance: float,
                           msg: str | None = None) -> None:
        """Assert |first - second| <= tolerance."""
        if abs(first - second) > tolerance:
            self.fail(msg or f"{first!r} ~== {second!r}")

    def assertIdentical(self, first: object, second: object, msg: str | None = None) -> None:
        """Assert `first is second`."""
        self.assertIs(first, second, msg)

    def assertNotIdentical(self, first: object, second: object,
                           msg: str | None = None) -> None:
        """Assert `first is not second`."""
        self.assertIsNot(first, second, msg)

    failUnless = assert_ = unittest.TestCase.assertTrue
    failIf = unittest.TestCase.assertFalse
    failUnlessTrue = unittest.TestCase.assertTrue
    assertEquals = failUnlessEqual = unittest.TestCase.assertEqual
    assertNotEquals = failIfEqual = unittest.TestCase.assertNotEqual
    failUnlessRaises = unittest.TestCase.assertRaises
    failUnlessIdentical = assertIdentical
    failIfIdentical = assertNotIdentical
    failUnlessIn = unittest.TestCase.assertIn
    failIfIn = unittest.TestCase.assertNotIn
    failUnlessSubstring = assertSubstring
    failIfSubstring = assertNotSubstring
    failUnlessApproximates = assertApproximates
    failUnlessFailure = assertFailure


def _installedReactor() -> Any:
    """The global reactor, installing the default one if none is installed yet."""
    from torsion.internet import reactor

    return reactor


def _reactorIfInstalled() -> Any:
    """The global reactor if some code installed it, else None (nothing to check)."""
    return sys.modules.get("torsion.internet.reactor")


class TestCase(SynchronousTestCase):
    """A test case whose setUp, test, tearDown and cleanups may return Deferreds or be
    coroutines, run on the global reactor with a timeout, followed by a dirty-reactor check."""

    #: Seconds allowed for each of setUp/test/tearDown; a test method's own `timeout`
    #: attribute wins over this one.
    timeout: float = DEFAULT_TIMEOUT_DURATION

    def getTimeout(self) -> float:
        """The timeout for this test: the method's `timeout`, else the class's."""
        method = getattr(self, self._testMethodName, None)
        value = getattr(method, "timeout", None)
        if value is None:
            value = self.timeout
        return float(value)

    def _waitFor(self, d: Deferred[Any], what: str) -> None:
        """Spin the global reactor until `d` has fired (or the timeout expires)."""
        runUntilDone(_installedReactor(), lambda: d, self.getTimeout(), what)

    def _runStep(self, function: Callable[..., Any], what: str, *args: Any,
                 **kwargs: Any) -> None:
        """Run a step; a coroutine function is started inside the running reactor, so it can
        await asyncio futures of the reactor's loop from its first line."""
        if inspect.iscoroutinefunction(function):
            runUntilDone(_installedReactor(), lambda: function(*args, **kwargs),
                         self.getTimeout(), what)
        else:
            super()._runStep(function, what, *args, **kwargs)

    def _callSetUp(self) -> None:
        self._runStep(self.setUp, "setUp")

    def _callTearDown(self) -> None:
        self._runStep(self.tearDown, "tearDown")

    def _callCleanup(self, function: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        self._runStep(function, "cleanup", *args, **kwargs)

    def _registerFinalChecks(self) -> None:
        """After every cleanup, the reactor must be clean."""
        self.addCleanup(self._checkReactor)

    def _checkReactor(self) -> None:
        """Fail the test if it left anything on the reactor, then clean the reactor."""
        reactor = _reactorIfInstalled()
        if reactor is None:
            return  # the test never touched the global reactor
        dirt = cleanDirt(reactor)
        if dirt:
            raise DirtyReactorAggregateError("Reactor was unclean.\n" + "\n".join(dirt))


# unittest calls _callSetUp/_callTearDown/_callCleanup/_callTestMethod since Python 3.8; the
# hooks this module relies on are checked once at import so a change in unittest is loud.
for _hook in ("_callSetUp", "_callTestMethod", "_callTearDown", "_callCleanup"):
    if not hasattr(unittest.TestCase, _hook):  # pragma: no cover - depends on Python
        warnings.warn(f"unittest.TestCase has no {_hook}; torsion.trial.unittest needs it",
                      RuntimeWarning, stacklevel=1)
