"""Tests for torsion.logger.Logger: events, namespaces, the descriptor, failures, gating."""

from __future__ import annotations

from typing import Any

import pytest

from torsion.logger import (
    FilteringLogObserver,
    InvalidLogLevelError,
    Logger,
    LogLevel,
    LogLevelFilterPredicate,
    LogPublisher,
    globalLogPublisher,
)
from torsion.python.failure import Failure


def _collector() -> tuple[list[dict[str, Any]], LogPublisher]:
    events: list[dict[str, Any]] = []
    return events, LogPublisher(events.append)


def test_infoEmitsStructuredEvent() -> None:
    """log.info puts the format, its fields and the log_* keys in one event."""
    events, publisher = _collector()
    log = Logger(namespace="ns", observer=publisher)
    log.info("got {n} bytes", n=3)
    (event,) = events
    assert event["log_format"] == "got {n} bytes"
    assert event["n"] == 3
    assert event["log_level"] is LogLevel.info
    assert event["log_namespace"] == "ns"
    assert event["log_logger"] is log
    assert isinstance(event["log_time"], float)


@pytest.mark.parametrize("level", list(LogLevel))
def test_levelMethodsEmitTheirLevel(level: LogLevel) -> None:
    """Each level method emits an event at its own level."""
    events, publisher = _collector()
    getattr(Logger(observer=publisher), level.name)("x")
    assert events[0]["log_level"] is level


def test_namespaceDefaultsToCallingModule() -> None:
    """A Logger made without a namespace takes the calling module's __name__."""
    assert Logger().namespace == __name__


def test_defaultObserverIsGlobalPublisher() -> None:
    """A Logger made without an observer publishes on globalLogPublisher."""
    assert Logger().observer is globalLogPublisher


class _Thing:
    log = Logger()


def test_descriptorGivesClassNamespaceAndInstanceSource() -> None:
    """A Logger class attribute accessed on an instance has the class namespace and the
    instance as source."""
    thing = _Thing()
    log = thing.log
    assert log.namespace == f"{__name__}._Thing"
    assert log.source is thing


def test_descriptorOnClassHasClassSource() -> None:
    """A Logger class attribute accessed on the class has the class as source."""
    assert _Thing.log.source is _Thing


def test_descriptorKeepsObserver() -> None:
    """The Logger given by the descriptor publishes to the class attribute's observer."""
    events, publisher = _collector()

    class Owner:
        log = Logger(observer=publisher)

    Owner().log.info("hi")
    assert events[0]["log_source"].__class__ is Owner


def test_failureDefaultsToCurrentException() -> None:
    """Logger.failure inside except logs the exception being handled at critical level."""
    events, publisher = _collector()
    try:
        raise ValueError("boom")
    except ValueError:
        Logger(observer=publisher).failure("oops")
    (event,) = events
    assert isinstance(event["log_failure"], Failure)
    assert event["log_failure"].check(ValueError)
    assert event["log_level"] is LogLevel.critical


def test_failureTakesExplicitFailureAndLevel() -> None:
    """Logger.failure logs a given failure at a given level."""
    events, publisher = _collector()
    failure = Failure(KeyError("k"))
    Logger(observer=publisher).failure("oops", failure, LogLevel.warn, extra=1)
    assert events[0]["log_failure"] is failure
    assert events[0]["log_level"] is LogLevel.warn
    assert events[0]["extra"] == 1


def test_emitInvalidLevelReportsError() -> None:
    """emit with something that is not a LogLevel logs a critical error instead of raising."""
    events, publisher = _collector()
    Logger(observer=publisher).emit("nope", "x")  # type: ignore[arg-type]
    (event,) = events
    assert event["log_level"] is LogLevel.critical
    assert event["log_failure"].check(InvalidLogLevelError)
    assert event["invalidLevel"] == "nope"


def test_gatedLevelBuildsNoEvent() -> None:
    """With only an info filter observing, debug calls never reach the publisher."""
    events: list[dict[str, Any]] = []
    publisher = LogPublisher(
        FilteringLogObserver(events.append, [LogLevelFilterPredicate(LogLevel.info)])
    )
    calls: list[LogPublisher] = []

    class Spy(LogPublisher):
        def __call__(self, event: dict[str, Any]) -> None:
            calls.append(self)
            super().__call__(event)

    spy = Spy(publisher)
    log = Logger(observer=spy)
    log.debug("hidden")
    log.info("shown")
    assert len(calls) == 1
    assert [e["log_format"] for e in events] == ["shown"]


def test_gateFollowsPredicateChanges() -> None:
    """Lowering a filter's level at run time opens the gate for that level."""
    events: list[dict[str, Any]] = []
    predicate = LogLevelFilterPredicate(LogLevel.error)
    publisher = LogPublisher(FilteringLogObserver(events.append, [predicate]))
    log = Logger(namespace="a.b", observer=publisher)
    log.info("no")
    predicate.setLogLevelForNamespace("a", LogLevel.debug)
    log.info("yes")
    assert [e["log_format"] for e in events] == ["yes"]


def test_traceRecordsPath() -> None:
    """An event with log_trace records the logger and each observer it passes."""
    events, publisher = _collector()
    log = Logger(observer=publisher)
    trace: list[Any] = []
    log.info("x", log_trace=trace)
    assert trace == [(log, publisher), (publisher, events.append)]


def test_failuresHandledLogsAndSwallows() -> None:
    """failuresHandled logs an exception from its block with the format and swallows it."""
    events, publisher = _collector()
    with Logger(observer=publisher).failuresHandled("frobbing {knob}", knob=1) as op:
        raise ValueError("v")
    assert op.failed and not op.succeeded
    assert op.failure is not None and op.failure.check(ValueError)
    (event,) = events
    assert event["knob"] == 1 and event["log_failure"] is op.failure


def test_failuresHandledSuccess() -> None:
    """A block that does not raise is marked succeeded and logs nothing."""
    events, publisher = _collector()
    with Logger(observer=publisher).failuresHandled("x") as op:
        pass
    assert op.succeeded and not op.failed
    assert events == []


def test_failuresHandledLetsBaseExceptionThrough() -> None:
    """KeyboardInterrupt and other non-Exception errors are not swallowed."""
    events, publisher = _collector()
    with pytest.raises(KeyboardInterrupt):
        with Logger(observer=publisher).failuresHandled("x"):
            raise KeyboardInterrupt
    assert events == []


def test_failureHandlerReusable() -> None:
    """failureHandler gives a context manager that logs and swallows, usable repeatedly."""
    events, publisher = _collector()
    handler = Logger(observer=publisher).failureHandler("oops", LogLevel.error)
    for exc in (KeyError("a"), ValueError("b")):
        with handler:
            raise exc
    assert [type(e["log_failure"].value) for e in events] == [KeyError, ValueError]
    assert all(e["log_level"] is LogLevel.error for e in events)
