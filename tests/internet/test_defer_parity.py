"""Parity with Twisted: the same Deferred scenarios, run on Twisted and on torsion, agree.

Each scenario below prints one line describing what happened (call order, results, error
types).  The script runs once with Twisted (the interpreter named by
$TORSION_TWISTED_PYTHON, a subprocess: torsion never imports Twisted) and once with torsion;
each scenario's line must be identical.  Skips when no Twisted interpreter is configured.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

VARIABLE = "TORSION_TWISTED_PYTHON"

SCENARIOS = r'''
import sys, importlib, re
pkg = sys.argv[1]
defer = importlib.import_module(pkg + ".internet.defer")
failure = importlib.import_module(pkg + ".python.failure")
D = defer.Deferred
F = failure.Failure
out = []

def norm(s):
    return re.sub(r"0x[0-9a-f]+", "0x", s.replace(pkg, "PKG"))

def name(x):
    return x.type.__name__ if isinstance(x, F) else x

def rec(tag):
    def f(x):
        out.append((tag, name(x)))
        return x
    return f

def scen(title):
    def deco(fn):
        out.clear()
        try:
            fn()
        except Exception as e:
            out.append(("EXC", type(e).__name__))
        print(title, norm(repr(out)))
    return deco

@scen("pause-inside-callback")
def _():
    d = D()
    d.addCallback(lambda x: (d.pause(), x)[1])
    d.addCallback(rec("after-pause"))
    d.callback(1)
    d.unpause()
    d.addCallback(rec("after-unpause"))

@scen("add-inside-callback-order")
def _():
    d = D()
    def cb(x):
        d.addCallback(rec("inner-added"))
        return x
    d.addCallback(cb)
    d.addCallback(rec("second"))
    d.callback(1)

@scen("chain-fired-inner-failure")
def _():
    d = D()
    d.addCallback(lambda _: defer.fail(KeyError()))
    d.addErrback(rec("eb"))
    d.callback(1)

@scen("chain-inner-more-callbacks")
def _():
    inner, outer = D(), D()
    outer.addCallback(lambda _: inner)
    outer.addCallback(rec("outer-next"))
    outer.callback(0)
    inner.addCallback(rec("inner-after-chain"))
    inner.callback(5)
    inner.addCallback(rec("inner-later"))

@scen("inner-callbacks-before-chain")
def _():
    inner, outer = D(), D()
    inner.addCallback(rec("inner-first"))
    inner.addCallback(lambda x: x * 2)
    outer.addCallback(lambda _: inner)
    outer.addCallback(rec("outer-next"))
    outer.callback(0)
    inner.callback(5)

@scen("paused-inner-returned")
def _():
    inner = defer.succeed(3)
    inner.pause()
    outer = D()
    outer.addCallback(lambda _: inner)
    outer.addCallback(rec("outer"))
    outer.callback(0)
    out.append("before-unpause")
    inner.unpause()

@scen("cancel-chained")
def _():
    inner = D(lambda d: out.append("inner-canceller"))
    outer = D(lambda d: out.append("outer-canceller"))
    outer.addCallback(lambda _: inner)
    outer.addErrback(rec("eb"))
    outer.callback(0)
    outer.cancel()

@scen("cancel-then-late-results")
def _():
    d = D()
    d.addErrback(rec("eb"))
    d.cancel()
    d.errback(KeyError())
    try:
        d.callback(2)
    except defer.AlreadyCalledError:
        out.append("already")

@scen("result-after-chain")
def _():
    inner, outer = D(), D()
    outer.addCallback(lambda _: inner)
    outer.callback(0)
    out.append((outer.result is inner, outer.paused))
    inner.callback(9)
    out.append((outer.result, outer.paused, inner.result))

@scen("result-inside-callback")
def _():
    d = D()
    d.addCallback(lambda x: x + 1)
    d.addCallback(lambda x: out.append(("seen", d.result)) or x)
    d.callback(1)

@scen("paused-seen-inside-callback")
def _():
    d = D()
    d.addCallback(lambda x: out.append(("paused", d.paused, d.called)) or x)
    d.callback(1)
    out.append(("after", d.paused))

@scen("callback-with-failure-value")
def _():
    d = D()
    d.addCallbacks(rec("cb"), rec("eb"))
    d.callback(F(KeyError()))

@scen("errback-returns-deferred")
def _():
    inner = D()
    d = D()
    d.addErrback(lambda f: inner)
    d.addCallback(rec("after"))
    d.errback(KeyError())
    out.append("mid")
    inner.callback("recovered")

@scen("addBoth-args-kwargs")
def _():
    d = D()
    d.addBoth(lambda r, a, k=None: out.append((name(r), a, k)), 1, k=2)
    d.errback(ValueError())
    d2 = D()
    d2.addBoth(lambda r, a, k=None: out.append((name(r), a, k)), 3, k=4)
    d2.callback("v")

@scen("chainDeferred-failure")
def _():
    a, b = D(), D()
    a.chainDeferred(b)
    b.addErrback(rec("b-eb"))
    a.errback(KeyError())
    a.addBoth(rec("a-after"))

@scen("timeout-custom-and-early")
def _():
    task = importlib.import_module(pkg + ".internet.task")
    clock = task.Clock()
    d = D()
    d.addTimeout(2, clock, onTimeoutCancel=lambda r, t: ("custom", t))
    d.addBoth(rec("d"))
    clock.advance(2)
    e = D()
    e.addTimeout(2, clock)
    e.callback("early")
    e.addBoth(rec("e"))
    out.append(("pending", len(clock.getDelayedCalls())))

@scen("dlist-fireOnOneCallback-all-fail")
def _():
    a, b = D(), D()
    dl = defer.DeferredList([a, b], fireOnOneCallback=True, consumeErrors=True)
    dl.addBoth(lambda r: out.append([(ok, name(v)) for ok, v in r]))
    a.errback(KeyError())
    b.errback(KeyError())

@scen("dlist-fireOnOneErrback")
def _():
    a, b = D(), D()
    dl = defer.DeferredList([a, b], fireOnOneErrback=True)
    dl.addErrback(lambda f: out.append((f.type.__name__, f.value.index)))
    b.errback(KeyError())
    a.callback(1)
    b.addErrback(rec("b-still"))

@scen("gather-after-first-error")
def _():
    a, b = D(), D()
    g = defer.gatherResults([a, b], consumeErrors=True)
    g.addErrback(lambda f: out.append(("g", f.value.index)))
    a.errback(KeyError())
    b.callback(1)
    out.append(("b.result", b.result))

@scen("race-first-wins")
def _():
    a, b = D(), D()
    defer.race([a, b]).addBoth(rec("race"))
    a.callback(1)
    b.addErrback(rec("b"))

@scen("inline-yield-paused")
def _():
    d = defer.succeed(1)
    d.pause()
    @defer.inlineCallbacks
    def g():
        x = yield d
        out.append(("got", x))
        return x
    r = g()
    out.append(("called", r.called))
    d.unpause()
    r.addCallback(rec("r"))

@scen("inline-order")
def _():
    d = D()
    @defer.inlineCallbacks
    def g():
        out.append("before")
        v = yield d
        out.append(("resumed", v))
        return v
    r = g()
    d.addCallback(rec("later-cb"))
    r.addCallback(rec("r"))
    d.callback(1)

@scen("await-order")
def _():
    d = D()
    async def c():
        out.append("before")
        v = await d
        out.append(("resumed", v))
        return v
    r = defer.ensureDeferred(c())
    d.addCallback(rec("later-cb"))
    r.addCallback(rec("r"))
    d.callback(1)

@scen("await-chained-result")
def _():
    inner, outer = D(), D()
    outer.addCallback(lambda _: inner)
    async def c():
        return await outer
    defer.ensureDeferred(c()).addCallback(rec("r"))
    outer.callback(0)
    out.append("mid")
    inner.callback(7)

@scen("inline-nested-cancel")
def _():
    w = D(lambda d: out.append("w-canceller"))
    @defer.inlineCallbacks
    def inner():
        x = yield w
        return x
    @defer.inlineCallbacks
    def outer():
        try:
            yield inner()
        except defer.CancelledError:
            out.append("outer-caught")
            return "recovered"
    r = outer()
    r.addBoth(rec("r"))
    r.cancel()

@scen("coro-cancel-handled")
def _():
    w = D()
    async def c():
        try:
            await w
        except defer.CancelledError:
            return "handled"
    d = defer.ensureDeferred(c())
    d.cancel()
    d.addCallback(rec("r"))

@scen("lock-run-order")
def _():
    lock = defer.DeferredLock()
    d1 = D()
    lock.run(lambda: d1).addCallback(rec("r1"))
    lock.run(lambda: out.append("second-ran") or 2).addCallback(rec("r2"))
    out.append(("locked", lock.locked))
    d1.callback(1)
    out.append(("locked", lock.locked))

@scen("semaphore-order")
def _():
    sem = defer.DeferredSemaphore(2)
    for i in range(4):
        sem.acquire().addCallback(lambda s, i=i: out.append(("got", i)))
    sem.release()
    sem.release()

@scen("queue-order")
def _():
    q = defer.DeferredQueue()
    q.get().addCallback(rec("g1"))
    q.get().addCallback(rec("g2"))
    q.put(1)
    q.put(2)
    q.put(3)
    q.get().addCallback(rec("g3"))

@scen("timeout-fires")
def _():
    task = importlib.import_module(pkg + ".internet.task")
    clock = task.Clock()
    d = D()
    d.addTimeout(1, clock)
    d.addErrback(lambda f: out.append((f.type.__name__, str(f.value))))
    clock.advance(1)

@scen("maybeDeferred-kinds")
def _():
    async def c():
        return "coro"
    defer.maybeDeferred(c).addCallback(rec("coro"))
    defer.maybeDeferred(lambda: 1 / 0).addErrback(rec("raise"))
    defer.maybeDeferred(lambda: F(KeyError())).addErrback(rec("failure"))
    defer.maybeDeferred(lambda a, b=0: a + b, 1, b=2).addCallback(rec("value"))

@scen("failure-check-trap")
def _():
    f = F(KeyError("k"))
    out.append((f.check("builtins.LookupError"), f.check(IndexError), f.getErrorMessage()))
    try:
        f.trap(ValueError)
    except KeyError:
        out.append("reraised")

@scen("failure-tracebacks")
def _():
    def boom():
        raise ValueError("boom")
    try:
        boom()
    except ValueError:
        f = F()
    lines = f.getTraceback().splitlines()
    out.append((lines[0], lines[-1], f.getTraceback(detail="brief").splitlines()[0]))
    out.append(F(KeyError("nokey")).getTraceback())
'''


def _run(python: str, package: str, script: Path) -> dict[str, str]:
    """Run the scenarios with ``python`` for ``package``; map scenario name to its line."""
    env = dict(os.environ)
    if package == "torsion":
        src = str(Path(__file__).resolve().parents[2] / "src")
        env["PYTHONPATH"] = src + os.pathsep + env.get("PYTHONPATH", "")
    out = subprocess.run([python, "-W", "ignore", str(script), package], check=True,
                         capture_output=True, text=True, env=env, timeout=60).stdout
    lines: dict[str, str] = {}
    for line in out.splitlines():
        title, _, rest = line.partition(" ")
        lines[title] = rest
    return lines


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, str], dict[str, str]]:
    """Both implementations' lines, keyed by scenario."""
    peer = os.environ.get(VARIABLE)
    if not peer:
        pytest.skip(f"${VARIABLE} is not set: no Twisted to compare with")
    script = tmp_path_factory.mktemp("parity") / "scenarios.py"
    script.write_text(SCENARIOS)
    return _run(peer, "twisted", script), _run(sys.executable, "torsion", script)


@pytest.mark.integration
@pytest.mark.parametrize("scenario", re.findall(r'@scen\("([^"]+)"\)', SCENARIOS))
def test_scenarioBehavesAsInTwisted(
        outcomes: tuple[dict[str, str], dict[str, str]], scenario: str) -> None:
    """The scenario's observable behaviour (order, results, errors) equals Twisted's."""
    twisted, torsion = outcomes
    assert torsion[scenario] == twisted[scenario]
