"""Tests for file observers (text and JSON), JSON round trips and LoggingFile."""

from __future__ import annotations

import io
from typing import Any

from torsion.logger import (
    FileLogObserver,
    Logger,
    LoggingFile,
    LogLevel,
    LogPublisher,
    eventAsJSON,
    eventAsText,
    eventFromJSON,
    eventsFromJSONLogFile,
    formatEvent,
    jsonFileLogObserver,
    textFileLogObserver,
)
from torsion.logger._json import LoggedFailure
from torsion.python.failure import Failure


def test_fileObserverWritesAndFlushes() -> None:
    """FileLogObserver writes the formatter's text and flushes."""
    flushed: list[int] = []

    class Out(io.StringIO):
        def flush(self) -> None:
            flushed.append(1)

    out = Out()
    FileLogObserver(out, lambda e: f"<{e['x']}>")({"x": 1})
    assert out.getvalue() == "<1>"
    assert flushed


def test_fileObserverSkipsEmptyText() -> None:
    """Events rendered as None or "" write nothing."""
    out = io.StringIO()
    observer = FileLogObserver(out, lambda e: None)
    observer({})
    assert out.getvalue() == ""


def test_textFileObserverWritesClassicLines() -> None:
    """textFileLogObserver writes 'time [system] text' lines with the given time format."""
    out = io.StringIO()
    log = Logger(observer=LogPublisher(textFileLogObserver(out, timeFormat=None)))
    log.info("got {n} bytes", n=3)
    log.warn("sys", log_system="HTTP")
    assert out.getvalue() == "- [-] got 3 bytes\n- [HTTP] sys\n"


def test_textFileObserverPrintsTraceback() -> None:
    """A logged failure's traceback follows its message, tab-indented."""
    out = io.StringIO()
    log = Logger(observer=LogPublisher(textFileLogObserver(out, timeFormat=None)))
    try:
        raise KeyError("k")
    except KeyError:
        log.failure("lookup failed")
    lines = out.getvalue().splitlines()
    assert lines[0] == "- [-] lookup failed"
    assert lines[1] == "\tTraceback (most recent call last):"
    assert any("KeyError" in line for line in lines)


def test_jsonRoundTripKeepsText() -> None:
    """An event read back from JSON renders to the same text, even for unpersistable values."""

    class Thing:
        def __repr__(self) -> str:
            return "<thing>"

    event = {"log_format": "{a!r} {b:>3} {c()}", "a": Thing(), "b": 7,
             "c": lambda: "called", "log_level": LogLevel.warn, "log_time": 1.5}
    back = eventFromJSON(eventAsJSON(event))
    assert formatEvent(back) == "<thing>   7 called"
    assert back["log_level"] is LogLevel.warn
    assert back["log_time"] == 1.5
    assert back["a"] == {"unpersistable": True}


def test_jsonRoundTripKeepsFailureTraceback() -> None:
    """A failure survives as an object whose getTraceback gives the original text."""
    try:
        raise ValueError("bad")
    except ValueError:
        failure = Failure()
    back = eventFromJSON(eventAsJSON({"log_format": "x", "log_failure": failure}))
    restored = back["log_failure"]
    assert isinstance(restored, LoggedFailure)
    assert restored.getTraceback() == failure.getTraceback()
    assert "ValueError: bad" in eventAsText(back, includeTimestamp=False)


def test_jsonLeavesOriginalEventAlone() -> None:
    """eventAsJSON does not add keys to the event it encodes."""
    event = {"log_format": "{x}", "x": 1}
    eventAsJSON(event)
    assert event == {"log_format": "{x}", "x": 1}


def test_jsonFileObserverAndReader() -> None:
    """Events written by jsonFileLogObserver are read back in order by eventsFromJSONLogFile."""
    out = io.StringIO()
    log = Logger(observer=LogPublisher(jsonFileLogObserver(out)))
    log.info("one {n}", n=1)
    log.error("two")
    assert out.getvalue().startswith("\x1e{")
    out.seek(0)
    events = list(eventsFromJSONLogFile(out, bufferSize=7))
    assert [formatEvent(e) for e in events] == ["one 1", "two"]


def test_jsonReaderNewlineSeparated() -> None:
    """A file of newline-separated JSON records (no \\x1e) is read too, also as bytes."""
    data = (eventAsJSON({"log_format": "a"}) + "\n" + eventAsJSON({"log_format": "b"}) + "\n")
    events = list(eventsFromJSONLogFile(io.BytesIO(data.encode())))
    assert [formatEvent(e) for e in events] == ["a", "b"]


def test_jsonReaderSkipsBadRecords() -> None:
    """Undecodable records are skipped (and logged), good ones still read."""
    data = "\x1e{not json\n\x1e" + eventAsJSON({"log_format": "ok"}) + "\n"
    events = list(eventsFromJSONLogFile(io.StringIO(data)))
    assert [formatEvent(e) for e in events] == ["ok"]


def _loggingFile() -> tuple[LoggingFile, list[dict[str, Any]]]:
    events: list[dict[str, Any]] = []
    logger = Logger(namespace="stdout", observer=LogPublisher(events.append))
    return LoggingFile(logger, LogLevel.info), events


def test_loggingFileLogsCompleteLines() -> None:
    """Each complete line written becomes one event; a partial line waits."""
    f, events = _loggingFile()
    f.write("a\nb")
    assert [e["log_io"] for e in events] == ["a"]
    f.write("c\n")
    assert [e["log_io"] for e in events] == ["a", "bc"]
    assert formatEvent(events[0]) == "a"


def test_loggingFileCloseFlushesPartialLine() -> None:
    """close() logs a pending partial line; writing afterwards raises ValueError."""
    f, events = _loggingFile()
    f.write("tail")
    f.close()
    assert [e["log_io"] for e in events] == ["tail"]
    assert f.closed
    try:
        f.write("x")
    except ValueError:
        pass
    else:
        raise AssertionError("write after close succeeded")


def test_loggingFileAcceptsBytesAndWritelines() -> None:
    """Bytes are decoded with the file's encoding; writelines writes each item."""
    f, events = _loggingFile()
    f.writelines([b"h\xc3\xa9\n", "x\n"])
    assert [e["log_io"] for e in events] == ["hé", "x"]
    assert not f.isatty() and f.fileno() == -1
