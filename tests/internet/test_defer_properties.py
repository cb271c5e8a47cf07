"""Property tests: random callback chains behave like a straightforward reference model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from torsion.internet.defer import Deferred, fail, succeed
from torsion.python.failure import Failure


class Tagged(Exception):
    """An exception carrying a tag, so the model can tell failures apart."""

    def __init__(self, tag: int) -> None:
        super().__init__(tag)
        self.tag = tag


# What a step's function does when it runs.
ACTIONS = ["return", "raise", "returnFailure", "returnSucceed", "returnFail",
           "returnLater", "returnLaterFail"]


@dataclass(frozen=True)
class Step:
    """One addCallback/addErrback/addBoth entry and what its function does."""

    kind: str  # "callback" | "errback" | "both"
    action: str
    tag: int


steps = st.lists(
    st.builds(Step, st.sampled_from(["callback", "errback", "both"]), st.sampled_from(ACTIONS),
              st.integers(0, 1000)),
    max_size=12,
)


def model(initialFailed: bool, initial: int, chain: list[Step]) -> tuple[list[tuple[int, str, int]],
                                                                          tuple[str, int]]:
    """The reference semantics: walk the steps, applying those whose side matches."""
    failed, value = initialFailed, initial
    trace: list[tuple[int, str, int]] = []
    for index, step in enumerate(chain):
        runs = step.kind == "both" or (step.kind == "errback") == failed
        if not runs:
            continue
        trace.append((index, "fail" if failed else "ok", value))
        failed = step.action in ("raise", "returnFailure", "returnFail", "returnLaterFail")
        value = step.tag
    return trace, ("fail" if failed else "ok", value)


def build(chain: list[Step], d: Deferred[Any], trace: list[tuple[int, str, int]],
          later: list[tuple[Deferred[Any], bool, int]]) -> None:
    """Add the steps to ``d``; each function records its call in ``trace``."""

    def make(index: int, step: Step) -> Any:
        def fn(result: Any) -> Any:
            if isinstance(result, Failure):
                trace.append((index, "fail", result.value.tag))
            else:
                trace.append((index, "ok", result))
            action, tag = step.action, step.tag
            if action == "return":
                return tag
            if action == "raise":
                raise Tagged(tag)
            if action == "returnFailure":
                return Failure(Tagged(tag))
            if action == "returnSucceed":
                return succeed(tag)
            if action == "returnFail":
                return fail(Tagged(tag))
            inner: Deferred[Any] = Deferred()
            later.append((inner, action == "returnLaterFail", tag))
            return inner

        return fn

    for index, step in enumerate(chain):
        fn = make(index, step)
        if step.kind == "callback":
            d.addCallback(fn)
        elif step.kind == "errback":
            d.addErrback(fn)
        else:
            d.addBoth(fn)


def outcome(d: Deferred[Any]) -> tuple[str, int]:
    """The final result of ``d`` in model terms (handling its failure)."""
    box: list[tuple[str, int]] = []
    d.addCallbacks(lambda v: box.append(("ok", v)),
                   lambda f: box.append(("fail", f.value.tag)))
    assert len(box) == 1
    return box[0]


def fireLater(later: list[tuple[Deferred[Any], bool, int]]) -> None:
    """Fire the inner Deferreds that callbacks returned unfired, oldest first."""
    while later:
        inner, failed, tag = later.pop(0)
        if failed:
            inner.errback(Tagged(tag))
        else:
            inner.callback(tag)


@settings(max_examples=300, deadline=None)
@given(chain=steps, initialFailed=st.booleans(), initial=st.integers(0, 1000),
       firePoint=st.integers(0, 12))
def test_chainMatchesModel(chain: list[Step], initialFailed: bool, initial: int,
                           firePoint: int) -> None:
    """Any chain, fired at any point while it is being built, matches the model."""
    expectedTrace, expected = model(initialFailed, initial, chain)
    trace: list[tuple[int, str, int]] = []
    later: list[tuple[Deferred[Any], bool, int]] = []
    d: Deferred[Any] = Deferred()
    cut = min(firePoint, len(chain))
    build(chain[:cut], d, trace, later)
    if initialFailed:
        d.errback(Tagged(initial))
    else:
        d.callback(initial)
    # Steps added after firing (and while waiting on an inner Deferred) run in order too.
    shift = [Step(s.kind, s.action, s.tag) for s in chain[cut:]]
    rest: list[tuple[int, str, int]] = []
    build(shift, d, rest, later)
    fireLater(later)
    trace.extend((index + cut, side, value) for index, side, value in rest)
    trace.sort(key=lambda entry: entry[0])
    assert trace == expectedTrace
    assert outcome(d) == expected


@settings(max_examples=200, deadline=None)
@given(chain=steps, initial=st.integers(0, 1000), pauses=st.integers(1, 3))
def test_pausedChainResumesToSameResult(chain: list[Step], initial: int, pauses: int) -> None:
    """Pausing before firing and unpausing afterwards gives the model's result, in order."""
    expectedTrace, expected = model(False, initial, chain)
    trace: list[tuple[int, str, int]] = []
    later: list[tuple[Deferred[Any], bool, int]] = []
    d: Deferred[Any] = Deferred()
    for _ in range(pauses):
        d.pause()
    build(chain, d, trace, later)
    d.callback(initial)
    assert trace == []
    for _ in range(pauses):
        d.unpause()
    fireLater(later)
    assert trace == expectedTrace
    assert outcome(d) == expected


@settings(max_examples=100, deadline=None)
@given(chain=steps, initial=st.integers(0, 1000))
def test_nestedInOuterChainMatchesModel(chain: list[Step], initial: int) -> None:
    """A random chain returned (unfired) from an outer callback gives the outer its result."""
    _, expected = model(False, initial, chain)
    trace: list[tuple[int, str, int]] = []
    later: list[tuple[Deferred[Any], bool, int]] = []
    inner: Deferred[Any] = Deferred()
    build(chain, inner, trace, later)
    outer: Deferred[Any] = Deferred()
    outer.addCallback(lambda _: inner)
    outer.callback(None)
    inner.callback(initial)
    fireLater(later)
    assert outcome(outer) == expected


def _fireThroughGeneralLoop(d: Deferred[Any], value: Any) -> None:
    """Fire ``d`` the way callback() did before it had a loop of its own (the reference)."""
    d.called = True
    d.result = value
    d._runCallbacks()


@settings(max_examples=300, deadline=None)
@given(chain=steps, initial=st.integers(0, 1000), nested=st.booleans())
def test_callbackLoopMatchesGeneralLoop(chain: list[Step], initial: int,
                                        nested: bool) -> None:
    """callback()'s own loop makes the same calls and gives the same result as the general
    loop, alone or as the inner Deferred of an outer one."""

    def run(fire: Any) -> tuple[list[tuple[int, str, int]], tuple[str, int]]:
        trace: list[tuple[int, str, int]] = []
        later: list[tuple[Deferred[Any], bool, int]] = []
        d: Deferred[Any] = Deferred()
        build(chain, d, trace, later)
        if nested:
            outer: Deferred[Any] = Deferred()
            outer.addCallback(lambda _: d)
            outer.callback(None)
            fire(d, initial)
            fireLater(later)
            return trace, outcome(outer)
        fire(d, initial)
        fireLater(later)
        return trace, outcome(d)

    assert run(Deferred.callback) == run(_fireThroughGeneralLoop)
