"""Tests for torsion.python.log, the classic logging API over torsion.logger."""

from __future__ import annotations

import io
import logging
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from torsion.logger import LogBeginner, Logger, LogLevel, formatEvent
from torsion.logger import LogPublisher as NewPublisher
from torsion.python import log
from torsion.python.failure import Failure


@pytest.fixture
def new() -> Iterator[list[dict[str, Any]]]:
    """New-style events published on the global publisher during the test."""
    events: list[dict[str, Any]] = []
    log.theLogPublisher._observerPublisher.addObserver(events.append)
    yield events
    log.theLogPublisher._observerPublisher.removeObserver(events.append)


def test_msgJoinsMessageParts(classic: list[dict[str, Any]]) -> None:
    """msg joins its arguments with spaces; the event is not an error and has system '-'."""
    log.msg("hello", 42)
    (event,) = classic
    assert log.textFromEventDict(event) == "hello 42"
    assert event["isError"] == 0
    assert event["system"] == "-"


def test_msgKeywordsReachEvent(classic: list[dict[str, Any]]) -> None:
    """Keyword arguments become keys of the event; system sets the system."""
    log.msg("x", system="HTTP", extra=1)
    assert classic[0]["system"] == "HTTP"
    assert classic[0]["extra"] == 1


def test_msgBecomesNewStyleEvent(new: list[dict[str, Any]]) -> None:
    """A classic message reaches new observers with info level, legacy namespace and text."""
    log.msg("hi", system="S")
    (event,) = new
    assert event["log_level"] is LogLevel.info
    assert event["log_namespace"] == "log_legacy"
    assert event["log_system"] == "S"
    assert formatEvent(event) == "hi"


def test_msgFormatKeyword(classic: list[dict[str, Any]]) -> None:
    """A message given as format= is %-formatted with the event's keys."""
    log.msg(format="%(n)d items", n=3)
    assert log.textFromEventDict(classic[0]) == "3 items"


def test_badFormatDoesNotRaise(classic: list[dict[str, Any]]) -> None:
    """A broken %-format yields an explanatory text instead of an exception."""
    log.msg(format="%(missing)d")
    assert "Invalid format string" in (log.textFromEventDict(classic[0]) or "")


def test_errInsideExceptTakesCurrentException(classic: list[dict[str, Any]]) -> None:
    """err() with no argument inside except logs the current exception as an error."""
    try:
        raise ValueError("boom")
    except ValueError:
        log.err()
    (event,) = classic
    assert event["isError"] == 1
    assert event["failure"].check(ValueError)
    text = log.textFromEventDict(event) or ""
    assert text.startswith("Unhandled Error\nTraceback (most recent call last):")


def test_errWithWhy(classic: list[dict[str, Any]]) -> None:
    """err(failure, why) puts the why line before the traceback."""
    log.err(Failure(KeyError("k")), "while looking up")
    text = log.textFromEventDict(classic[0]) or ""
    assert text.startswith("while looking up\n")
    assert "KeyError" in text


def test_errWithException(classic: list[dict[str, Any]]) -> None:
    """err(exception) wraps the exception in a Failure."""
    log.err(RuntimeError("r"))
    assert classic[0]["failure"].check(RuntimeError)


def test_errWithOtherObjectLogsRepr(classic: list[dict[str, Any]]) -> None:
    """err with something that is not an exception logs its repr as an error."""
    log.err({"a": 1})
    assert log.textFromEventDict(classic[0]) == "{'a': 1}"
    assert classic[0]["isError"] == 1


def test_errIsCriticalForNewObservers(new: list[dict[str, Any]]) -> None:
    """A classic error reaches new observers at critical level."""
    log.err(Failure(ValueError("v")))
    assert new[0]["log_level"] is LogLevel.critical


def test_newStyleErrorSeenAsClassicError(classic: list[dict[str, Any]]) -> None:
    """A new-style failure event reaches classic observers with isError, failure and why."""
    try:
        raise ValueError("v")
    except ValueError:
        Logger().failure("it broke {x}", x=1)
    (event,) = classic
    assert event["isError"] == 1
    assert event["why"] == "it broke 1"
    assert event["failure"].check(ValueError)


def test_newStyleInfoSeenAsClassicMessage(classic: list[dict[str, Any]]) -> None:
    """A new-style info event reaches classic observers as a renderable, non-error event."""
    Logger().info("n={n}", n=2, log_system="sys")
    (event,) = classic
    assert event["isError"] == 0
    assert event["system"] == "sys"
    assert log.textFromEventDict(event) == "n=2"


def test_newStyleErrorLevelIsClassicError(classic: list[dict[str, Any]]) -> None:
    """A new-style error-level event without failure is a classic error."""
    Logger().error("bad")
    assert classic[0]["isError"] == 1


def test_removeUnknownObserverIsHarmless() -> None:
    """Removing an observer that was never added does nothing."""
    log.removeObserver(lambda e: None)


def _fileObserver() -> tuple[log.FileLogObserver, io.StringIO]:
    out = io.StringIO()
    observer = log.FileLogObserver(out)
    observer.formatTime = lambda when: "2026-11-21 10:00:00+0000"  # type: ignore[method-assign]
    return observer, out


def test_fileObserverLineFormat() -> None:
    """FileLogObserver writes 'time [system] text' lines exactly as twistd does."""
    observer, out = _fileObserver()
    observer.emit({"message": ("hello",), "time": 0.0, "system": "-", "isError": 0})
    assert out.getvalue() == "2026-11-21 10:00:00+0000 [-] hello\n"


def test_fileObserverUnhandledErrorTraceback() -> None:
    """An error without why prints 'Unhandled Error' and the tab-indented traceback."""
    observer, out = _fileObserver()
    try:
        raise ZeroDivisionError("z")
    except ZeroDivisionError:
        failure = Failure()
    observer.emit({"message": (), "time": 0.0, "system": "-", "isError": 1,
                   "failure": failure, "why": None})
    lines = out.getvalue().split("\n")
    assert lines[0] == "2026-11-21 10:00:00+0000 [-] Unhandled Error"
    assert lines[1] == "\tTraceback (most recent call last):"
    assert all(line.startswith("\t") for line in lines[1:-1])


def test_fileObserverSkipsEmptyEvents() -> None:
    """An event with no text writes nothing."""
    observer, out = _fileObserver()
    observer.emit({"message": (), "time": 0.0, "system": "-", "isError": 0})
    assert out.getvalue() == ""


def test_fileObserverRealTimeFormat() -> None:
    """formatTime renders local time as '%Y-%m-%d %H:%M:%S%z'."""
    from datetime import datetime

    observer = log.FileLogObserver(io.StringIO())
    expected = datetime.fromtimestamp(1e9).astimezone().strftime("%Y-%m-%d %H:%M:%S%z")
    assert observer.formatTime(1e9) == expected
    observer.timeFormat = "%Y"
    assert observer.formatTime(1e9) == datetime.fromtimestamp(1e9).strftime("%Y")


def test_fileObserverStartStop() -> None:
    """start() adds the observer to the global publisher and stop() removes it."""
    observer, out = _fileObserver()
    observer.start()
    log.msg("seen")
    observer.stop()
    log.msg("unseen")
    assert "seen" in out.getvalue() and "unseen" not in out.getvalue()


def test_pythonLoggingObserver() -> None:
    """PythonLoggingObserver forwards classic events to a stdlib logger at INFO/ERROR."""
    records: list[logging.LogRecord] = []

    class Handler(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("torsion-test-classic")
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    handler = Handler()
    logger.addHandler(handler)
    observer = log.PythonLoggingObserver("torsion-test-classic")
    try:
        observer.emit({"message": ("m",), "isError": 0})
        observer.emit({"message": ("e",), "isError": 1})
        observer.emit({"message": ("d",), "isError": 0, "logLevel": logging.DEBUG})
    finally:
        logger.removeHandler(handler)
    assert [(r.getMessage(), r.levelno) for r in records] == [
        ("m", logging.INFO), ("e", logging.ERROR), ("d", logging.DEBUG)]


def test_callWithContextAddsKeys(classic: list[dict[str, Any]]) -> None:
    """Events logged inside callWithContext carry the context's keys."""
    log.callWithContext({"system": "ctx"}, log.msg, "inside")
    log.msg("outside")
    assert [e["system"] for e in classic] == ["ctx", "-"]


def test_callWithLoggerUsesPrefixAndLogsErrors(classic: list[dict[str, Any]]) -> None:
    """callWithLogger sets system to logPrefix() and logs what the function raises."""

    class Proto:
        def logPrefix(self) -> str:
            return "Proto,1"

    def fail() -> None:
        log.msg("before")
        raise ValueError("x")

    assert log.callWithLogger(Proto(), fail) is None
    assert [e["system"] for e in classic] == ["Proto,1", "Proto,1"]
    assert classic[1]["failure"].check(ValueError)


def test_privatePublisherStartLogging() -> None:
    """_startLogging begins logging to a classic observer, discarding the earlier buffer."""
    backing = NewPublisher()
    beginner = LogBeginner(backing, io.StringIO(), object(), _FakeWarnings())
    publisher = log.LogPublisher(observerPublisher=backing, publishPublisher=backing,
                                 logBeginner=beginner, warningsModule=_FakeWarnings())
    publisher.msg("early")
    events: list[dict[str, Any]] = []
    publisher._startLogging(events.append, False)
    publisher.msg("late")
    assert [log.textFromEventDict(e) for e in events] == ["late"]
    assert publisher.observers == [events.append]


class _FakeWarnings:
    def showwarning(self, *args: Any) -> None:
        pass


def test_msgGatedWhenNobodyObserves() -> None:
    """msg on a publisher with no observers builds no event (the gate is closed)."""
    backing = NewPublisher()
    publisher = log.LogPublisher(observerPublisher=backing, publishPublisher=backing)
    calls: list[int] = []

    class Msg:
        def __str__(self) -> str:
            calls.append(1)
            return "m"

    publisher.msg(Msg())
    assert calls == []


def _run(code: str) -> str:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(code)],
                            capture_output=True, text=True, timeout=60, check=True)
    return result.stdout


def test_startLoggingWritesTwistdLines() -> None:
    """startLogging writes 'Log opened.' then messages and errors in twistd's format."""
    out = _run("""
        import sys
        from torsion.python import log
        log.startLogging(sys.stdout, setStdout=False)
        log.msg("hello")
        try:
            1 / 0
        except ZeroDivisionError:
            log.err(None, "dividing")
    """)
    lines = out.splitlines()
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d[+-]\d{4}"
    import re

    assert re.fullmatch(stamp + r" \[-\] Log opened\.", lines[0])
    assert re.fullmatch(stamp + r" \[-\] hello", lines[1])
    assert re.fullmatch(stamp + r" \[-\] dividing", lines[2])
    assert lines[3] == "\tTraceback (most recent call last):"
    assert "ZeroDivisionError: division by zero" in out


def test_startLoggingRedirectsStdout() -> None:
    """With setStdout, prints become log lines."""
    out = _run("""
        import sys
        from torsion.python import log
        log.startLogging(sys.stdout)
        print("printed")
    """)
    assert out.splitlines()[1].endswith(" [-] printed")


def test_startLoggingDiscardsEarlierMessages() -> None:
    """Classic startLogging discards messages buffered before it, as Twisted does."""
    out = _run("""
        import sys
        from torsion.python import log
        log.msg("before")
        log.startLogging(sys.stdout, setStdout=False)
    """)
    assert "before" not in out


def test_classicLoggerPrefix() -> None:
    """The classic Logger base class names its system '-' unless overridden."""
    assert log.Logger().logPrefix() == "-"
