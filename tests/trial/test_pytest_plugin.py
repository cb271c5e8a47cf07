"""Tests for torsion's pytest plugin, each run by pytester in an isolated directory."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestAssertRewriteWarning")


def _run(pytester: pytest.Pytester, source: str, *args: str) -> pytest.RunResult:
    pytester.makepyfile(test_user=source)
    return pytester.runpytest("-p", "no:cacheprovider", "-q", *args)


def test_coroutineTestRunsOnReactor(pytester: pytest.Pytester) -> None:
    """An async def test runs to completion, awaiting a Deferred fired by the reactor."""
    result = _run(pytester, """
from torsion.internet import defer

async def test_it(reactor):
    d = defer.Deferred()
    reactor.callLater(0.01, d.callback, 42)
    assert await d == 42
""")
    result.assert_outcomes(passed=1)


def test_coroutineWithoutReactorFixtureGetsPrivateReactor(pytester: pytest.Pytester) -> None:
    """An async test that asks for no reactor runs on a private one and may await asyncio."""
    result = _run(pytester, """
import asyncio

async def test_it():
    await asyncio.sleep(0.01)
""")
    result.assert_outcomes(passed=1)


def test_deferredReturningTestIsAwaited(pytester: pytest.Pytester) -> None:
    """A test returning an unfired Deferred fails when the Deferred later fails."""
    result = _run(pytester, """
from torsion.internet import defer

def test_it(reactor):
    d = defer.Deferred()
    reactor.callLater(0.01, d.errback, ValueError("late failure"))
    return d
""")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*ValueError: late failure*"])


def test_coroutineFailureFailsTest(pytester: pytest.Pytester) -> None:
    """An assertion failing inside a coroutine test fails the test."""
    result = _run(pytester, """
async def test_it():
    assert 1 == 2
""")
    result.assert_outcomes(failed=1)


def test_timeoutMarkerFailsSlowTest(pytester: pytest.Pytester) -> None:
    """A test still waiting after torsion_timeout seconds fails with a timeout error."""
    result = _run(pytester, """
import pytest
from torsion.internet import defer

@pytest.mark.torsion_timeout(0.2)
def test_it():
    return defer.Deferred()
""")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*timed out after 0.2 seconds*"])


def test_iniTimeout(pytester: pytest.Pytester) -> None:
    """The torsion_timeout ini option sets the default timeout."""
    pytester.makeini("[pytest]\ntorsion_timeout = 0.2\n")
    result = _run(pytester, """
import asyncio

async def test_it():
    await asyncio.sleep(30)
""")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*timed out*"])


def test_clockTestNeedsNoReactor(pytester: pytest.Pytester) -> None:
    """A Clock test returning a fired Deferred passes with no reactor made at all."""
    pytester.makeconftest("""
from torsion.internet._reactor import Reactor

made = []
original = Reactor.__init__

def counting(self, *args, **kwargs):
    made.append(self)
    original(self, *args, **kwargs)

Reactor.__init__ = counting

def pytest_unconfigure():
    Reactor.__init__ = original
""")
    result = _run(pytester, """
import conftest
from torsion.internet import task

def test_it(clock):
    d = task.deferLater(clock, 5, lambda: "done")
    clock.advance(5)
    return d

def test_noReactorMade():
    assert conftest.made == []
""")
    result.assert_outcomes(passed=2)


def test_firedFailedDeferredFailsTest(pytester: pytest.Pytester) -> None:
    """A test returning an already-failed Deferred fails with that exception."""
    result = _run(pytester, """
from torsion.internet import defer

def test_it():
    return defer.fail(KeyError("gone"))
""")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*KeyError*gone*"])


def test_reactorFixtureOverriddenByConftest(pytester: pytest.Pytester) -> None:
    """A conftest's own reactor fixture (any torsion Reactor) is the one the test runs on."""
    pytester.makeconftest("""
import pytest
from torsion.internet._reactor import Reactor
from torsion.trial._spin import closeReactor

made = []

@pytest.fixture
def reactor():
    r = Reactor(engine="asyncio")
    made.append(r)
    yield r
    closeReactor(r)
""")
    result = _run(pytester, """
import conftest

async def test_it(reactor):
    assert reactor is conftest.made[-1] and reactor.engine == "asyncio"
    assert reactor.running
""")
    result.assert_outcomes(passed=1)


def test_reactorFixtureIsFreshPerTest(pytester: pytest.Pytester) -> None:
    """Each test gets its own private reactor, closed afterwards."""
    result = _run(pytester, """
seen = []

def test_one(reactor):
    seen.append(reactor)

def test_two(reactor):
    assert reactor is not seen[0] and seen[0]._loop.is_closed()
""")
    result.assert_outcomes(passed=2)


def test_otherAsyncPluginsMarkersLeftAlone(pytester: pytest.Pytester) -> None:
    """A coroutine test marked for another async plugin (here unserved) is not run by us."""
    pytester.makeini("[pytest]\nmarkers =\n    asyncio: pytest-asyncio's marker\n")
    result = _run(pytester, """
import pytest

ran = []

@pytest.mark.asyncio
async def test_other():
    ran.append(1)

def test_notRun():
    assert ran == []
""")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines(["*async def functions are not natively supported*"])


def test_plainTestsUnaffected(pytester: pytest.Pytester) -> None:
    """Ordinary synchronous tests pass and fail as usual."""
    result = _run(pytester, """
def test_pass():
    assert True

def test_fail():
    assert False
""")
    result.assert_outcomes(passed=1, failed=1)


def test_globalReactorUsedWhenInstalled(pytester: pytest.Pytester) -> None:
    """A Deferred test of code using the installed global reactor runs on that reactor."""
    pytester.makepyfile(test_user="""
from torsion.internet import defer, reactor

def test_it():
    d = defer.Deferred()
    reactor.callLater(0.01, d.callback, None)
    return d
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


def test_trialTestCaseRunsUnderPytest(pytester: pytest.Pytester) -> None:
    """torsion.trial.unittest.TestCase subclasses run under pytest: async tests, Deferred
    tests, and the dirty-reactor check reported as an error."""
    pytester.makepyfile(test_user="""
from torsion.internet import defer, reactor
from torsion.internet.task import deferLater
from torsion.trial import unittest

class T(unittest.TestCase):
    async def test_async(self):
        self.assertEqual(await deferLater(reactor, 0.01, lambda: 7), 7)

    def test_deferred(self):
        return self.assertFailure(defer.fail(KeyError()), KeyError)

    def test_dirty(self):
        reactor.callLater(50, lambda: None)
""")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*Reactor was unclean*"])
