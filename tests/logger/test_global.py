"""Tests for LogBeginner: buffering before logging begins, replay, stdio and warnings."""

from __future__ import annotations

import io
import warnings
from typing import Any

from torsion.logger import (
    LogBeginner,
    Logger,
    LoggingFile,
    LogLevel,
    LogPublisher,
    globalLogBeginner,
    globalLogPublisher,
)


class _Stdio:
    def __init__(self) -> None:
        self.stdout: Any = io.StringIO()
        self.stderr: Any = io.StringIO()


class _Warnings:
    def __init__(self) -> None:
        self.shown: list[tuple[Any, ...]] = []

    def showwarning(self, *args: Any) -> None:
        self.shown.append(args)


def _beginner(size: int | None = None) -> tuple[LogBeginner, LogPublisher, io.StringIO,
                                                 _Stdio, _Warnings]:
    publisher = LogPublisher()
    errors = io.StringIO()
    stdio = _Stdio()
    warns = _Warnings()
    beginner = LogBeginner(publisher, errors, stdio, warns, initialBufferSize=size)
    return beginner, publisher, errors, stdio, warns


def test_globalBeginnerBuffersGlobalPublisher() -> None:
    """The global beginner is wired to the global publisher."""
    assert globalLogBeginner._publisher is globalLogPublisher


def test_bufferedEventsReplayedOnBegin() -> None:
    """Events logged before beginLoggingTo reach the observers when logging begins."""
    beginner, publisher, _, _, _ = _beginner()
    Logger(observer=publisher).info("early")
    events: list[dict[str, Any]] = []
    beginner.beginLoggingTo([events.append], redirectStandardIO=False)
    Logger(observer=publisher).info("late")
    assert [e["log_format"] for e in events] == ["early", "late"]


def test_discardBufferSkipsReplay() -> None:
    """discardBuffer=True drops the buffered events."""
    beginner, publisher, _, _, _ = _beginner()
    Logger(observer=publisher).info("early")
    events: list[dict[str, Any]] = []
    beginner.beginLoggingTo([events.append], discardBuffer=True, redirectStandardIO=False)
    assert events == []


def test_bufferIsBounded() -> None:
    """Only the newest initialBufferSize events are kept before logging begins."""
    beginner, publisher, _, _, _ = _beginner(size=3)
    log = Logger(observer=publisher)
    for i in range(10):
        log.info("{i}", i=i)
    events: list[dict[str, Any]] = []
    beginner.beginLoggingTo([events.append], redirectStandardIO=False)
    assert [e["i"] for e in events] == [7, 8, 9]


def test_criticalWrittenToStderrBeforeBegin() -> None:
    """Critical events are written to the error stream before logging begins; others not."""
    beginner, publisher, errors, _, _ = _beginner()
    log = Logger(observer=publisher)
    log.info("quiet")
    log.critical("loud {x}", x=1)
    assert errors.getvalue() == "loud 1\n"


def test_criticalNotWrittenToStderrAfterBegin() -> None:
    """After logging begins, the error stream is no longer used."""
    beginner, publisher, errors, _, _ = _beginner()
    beginner.beginLoggingTo([lambda e: None], redirectStandardIO=False)
    Logger(observer=publisher).critical("x")
    assert errors.getvalue() == ""


def test_redirectStandardIO() -> None:
    """redirectStandardIO replaces stdout/stderr with LoggingFiles at info/error."""
    beginner, publisher, _, stdio, _ = _beginner()
    events: list[dict[str, Any]] = []
    beginner.beginLoggingTo([events.append])
    assert isinstance(stdio.stdout, LoggingFile)
    stdio.stdout.write("printed\n")
    stdio.stderr.write("oops\n")
    assert [(e["log_io"], e["log_level"], e["log_namespace"]) for e in events] == [
        ("printed", LogLevel.info, "stdout"), ("oops", LogLevel.error, "stderr")]


def test_noRedirectLeavesStdio() -> None:
    """redirectStandardIO=False leaves stdout and stderr alone."""
    beginner, _, _, stdio, _ = _beginner()
    before = stdio.stdout
    beginner.beginLoggingTo([lambda e: None], redirectStandardIO=False)
    assert stdio.stdout is before


def test_warningsLoggedAfterBegin() -> None:
    """After beginning, warnings go to the log as warn events."""
    beginner, publisher, _, _, warns = _beginner()
    events: list[dict[str, Any]] = []
    beginner.beginLoggingTo([events.append], redirectStandardIO=False)
    assert warns.showwarning == beginner.showwarning
    warns.showwarning("careful", DeprecationWarning, "f.py", 3)
    (event,) = events
    assert event["log_level"] is LogLevel.warn
    assert event["warning"] == "careful" and event["filename"] == "f.py"
    assert event["category"] == "builtins.DeprecationWarning"


def test_warningWithFileUsesOriginal() -> None:
    """A warning aimed at a file is passed to the original showwarning."""
    beginner, _, _, _, warns = _beginner()
    original = warns.shown
    beginner.beginLoggingTo([lambda e: None], redirectStandardIO=False)
    target = io.StringIO()
    beginner.showwarning("w", UserWarning, "f.py", 1, target)
    assert original[0][4] is target


def test_secondBeginWarns() -> None:
    """Calling beginLoggingTo twice adds the observers and logs a warning naming both calls."""
    beginner, publisher, _, _, _ = _beginner()
    first: list[dict[str, Any]] = []
    second: list[dict[str, Any]] = []
    beginner.beginLoggingTo([first.append], redirectStandardIO=False)
    beginner.beginLoggingTo([second.append], redirectStandardIO=False)
    assert "primary log target selected twice" in first[-1]["log_format"]
    assert first[-1]["fileNow"] == __file__


def test_realWarningsModuleUntouchedByPrivateBeginner() -> None:
    """A beginner given a fake warnings module leaves the real one alone."""
    before = warnings.showwarning
    beginner, _, _, _, _ = _beginner()
    beginner.beginLoggingTo([lambda e: None], redirectStandardIO=False)
    assert warnings.showwarning is before
