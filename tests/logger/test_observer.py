"""Tests for LogPublisher: fan-out, observer management, broken observers, recursion."""

from __future__ import annotations

import io
import sys
from typing import Any

import pytest

from torsion.logger import LogLevel, LogPublisher, _observer, capturedLogs, globalLogPublisher


def test_publisherDeliversToAllObservers() -> None:
    """Every observer receives the same event, in the order they were added."""
    seen: list[tuple[str, Any]] = []
    publisher = LogPublisher(lambda e: seen.append(("a", e)), lambda e: seen.append(("b", e)))
    event = {"x": 1}
    publisher(event)
    assert seen == [("a", event), ("b", event)]


def test_addObserverTwiceAddsOnce() -> None:
    """Adding an observer already present does nothing."""
    events: list[Any] = []
    publisher = LogPublisher()
    publisher.addObserver(events.append)
    publisher.addObserver(events.append)
    publisher({})
    assert len(events) == 1


def test_removeObserver() -> None:
    """A removed observer receives no more events; removing an absent one is harmless."""
    events: list[Any] = []
    publisher = LogPublisher(events.append)
    publisher.removeObserver(events.append)
    publisher.removeObserver(events.append)
    publisher({})
    assert events == []


def test_addNonCallableRaises() -> None:
    """A non-callable observer is rejected with TypeError at once."""
    with pytest.raises(TypeError):
        LogPublisher().addObserver(42)  # type: ignore[arg-type]


def test_observersProperty() -> None:
    """observers lists the registered observers."""
    events: list[Any] = []
    assert LogPublisher(events.append).observers == [events.append]


def test_observerRemovingItselfDuringDelivery() -> None:
    """An observer may remove itself while an event is delivered; others still get it."""
    publisher = LogPublisher()
    later: list[Any] = []

    def once(event: dict[str, Any]) -> None:
        publisher.removeObserver(once)

    publisher.addObserver(once)
    publisher.addObserver(later.append)
    publisher({})
    publisher({})
    assert len(later) == 2
    assert publisher.observers == [later.append]


def test_brokenObserverReportedToOthers() -> None:
    """An observer that raises is reported to the others with its failure; delivery goes on."""
    events: list[dict[str, Any]] = []

    def broken(event: dict[str, Any]) -> None:
        raise ValueError("observer bug")

    publisher = LogPublisher(broken, events.append)
    publisher({"log_format": "hello"})
    assert events[0]["log_format"] == "hello"
    report = events[1]
    assert report["observer"] is broken
    assert report["log_level"] is LogLevel.critical
    assert report["log_failure"].check(ValueError)


def test_brokenObserverNotToldAboutItself() -> None:
    """The broken observer is not handed the report of its own error."""
    calls: list[dict[str, Any]] = []

    def broken(event: dict[str, Any]) -> None:
        calls.append(event)
        raise ValueError("again")

    publisher = LogPublisher(broken, lambda e: None)
    publisher({"log_format": "x"})
    assert len(calls) == 1


def test_brokenObserverAloneGoesToStderr(monkeypatch: pytest.MonkeyPatch) -> None:
    """With no other observer to tell, the error is written to the real stderr."""
    err = io.StringIO()
    monkeypatch.setattr(sys, "__stderr__", err)

    def broken(event: dict[str, Any]) -> None:
        raise ValueError("lonely")

    LogPublisher(broken)({})
    assert "Temporarily disabling observer" in err.getvalue()
    assert "ValueError: lonely" in err.getvalue()


def test_recursiveLoggingIsBounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """An observer that logs back into its own publisher does not recurse forever; the
    dropping is reported once on the real stderr."""
    err = io.StringIO()
    monkeypatch.setattr(sys, "__stderr__", err)
    publisher = LogPublisher()
    depth: list[int] = []

    def echo(event: dict[str, Any]) -> None:
        depth.append(1)
        publisher({"log_format": "echo"})

    publisher.addObserver(echo)
    publisher({})
    publisher({})
    assert len(depth) == 2 * _observer.MAX_DEPTH
    assert err.getvalue().count("are dropped") == 1


def test_gateClosedWithNoObservers() -> None:
    """A publisher without observers observes no level."""
    assert not LogPublisher().wouldObserve(LogLevel.critical)


def test_gateOpenWithPlainObserver() -> None:
    """An observer that does not announce a level makes every level observed."""
    assert LogPublisher(lambda e: None).wouldObserve(LogLevel.debug)


def test_nestedPublisherGate() -> None:
    """A publisher whose only observer is an empty publisher observes nothing, and opens
    once the inner one gets an observer."""
    inner = LogPublisher()
    outer = LogPublisher(inner)
    assert not outer.wouldObserve(LogLevel.critical)
    inner.addObserver(lambda e: None)
    assert outer.wouldObserve(LogLevel.debug)


def test_cyclicPublishersDoNotHang() -> None:
    """Publishers observing each other do not make gate computation loop."""
    a = LogPublisher()
    b = LogPublisher(a)
    a.addObserver(b)
    assert not a.wouldObserve(LogLevel.critical)


def test_capturedLogs() -> None:
    """capturedLogs collects the events published on the global publisher in its block."""
    with capturedLogs() as events:
        globalLogPublisher({"log_format": "inside"})
    globalLogPublisher({"log_format": "outside"})
    assert [e["log_format"] for e in events] == ["inside"]


def test_observerWithForeignFloorAttributeWantsEverything() -> None:
    """An observer whose _observedFloor is not ours (e.g. a mock) keeps every level observed."""
    from unittest.mock import MagicMock

    assert LogPublisher(MagicMock()).wouldObserve(LogLevel.debug)
