"""Tests for event formatting: formatEvent, eventAsText, classic lines, formatTime."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from torsion.logger import (
    LogLevel,
    eventAsText,
    formatEvent,
    formatEventAsClassicLogText,
    formatTime,
    formatWithCall,
)
from torsion.python.failure import Failure


def test_formatUsesEventKeys() -> None:
    """formatEvent fills PEP 3101 fields from the event's keys."""
    assert formatEvent({"log_format": "got {n} bytes from {peer!r}", "n": 3,
                        "peer": "x"}) == "got 3 bytes from 'x'"


def test_formatSupportsAttributesIndexAndSpec() -> None:
    """Attribute access, indexing and format specs work as in str.format."""
    event = {"log_format": "{a.real} {b[0]} {c:>4}", "a": 5, "b": ["z"], "c": 1}
    assert formatEvent(event) == "5 z    1"


def test_formatCallsTrailingParens() -> None:
    """A field ending in () calls the zero-argument callable under that key."""
    assert formatEvent({"log_format": "{f()}", "f": lambda: "called"}) == "called"


def test_formatWithoutFormatIsEmpty() -> None:
    """An event without log_format renders as the empty string."""
    assert formatEvent({"x": 1}) == ""
    assert formatEvent({"log_format": None}) == ""


def test_formatBytesFormatDecoded() -> None:
    """A bytes log_format is decoded as UTF-8."""
    assert formatEvent({"log_format": b"h\xc3\xa9 {x}", "x": 1}) == "hé 1"


def test_formatMissingKeyNeverRaises() -> None:
    """A format naming a missing key yields an 'Unable to format' text, not an exception."""
    text = formatEvent({"log_format": "{missing}"})
    assert text.startswith("Unable to format event")
    assert "missing" in text


def test_formatBadFormatStringNeverRaises() -> None:
    """A malformed format string yields a text naming the problem."""
    assert "Unable to format event" in formatEvent({"log_format": "{unclosed"})


def test_formatBrokenValueNeverRaises() -> None:
    """A value whose __format__ and __repr__ raise still yields a MESSAGE LOST text."""

    class Broken:
        def __format__(self, spec: str) -> str:
            raise RuntimeError("format")

        def __repr__(self) -> str:
            raise RuntimeError("repr")

    text = formatEvent({"log_format": "{b}", "b": Broken()})
    assert "MESSAGE LOST" in text
    assert "Recoverable data" in text


def test_formatNonStringFormat() -> None:
    """A log_format that is not text is reported, not raised."""
    assert "Unable to format event" in formatEvent({"log_format": 42})


def test_formatWithCallDirect() -> None:
    """formatWithCall formats against a mapping, calling '()' fields."""
    assert formatWithCall("{a} {b()}", {"a": 1, "b": lambda: 2}) == "1 2"


def test_formatTimeUsesLocalOffset() -> None:
    """formatTime renders local time with the numeric UTC offset."""
    when = 1_795_000_000.0
    expected = datetime.fromtimestamp(when).astimezone().strftime("%Y-%m-%d %H:%M:%S%z")
    assert formatTime(when, "%Y-%m-%d %H:%M:%S%z") == expected


def test_formatTimeDefaultWhenMissing() -> None:
    """formatTime returns the default when there is no time or no format."""
    assert formatTime(None) == "-"
    assert formatTime(1.0, None, default="?") == "?"


def _classic(event: dict[str, Any]) -> str | None:
    return formatEventAsClassicLogText(event, formatTime=lambda t: "TIME")


def test_classicLineShape() -> None:
    """A classic line is 'time [system] text' plus a newline, system '-' by default."""
    assert _classic({"log_format": "hello", "log_time": 0.0}) == "TIME [-] hello\n"


def test_classicLineUsesLogSystem() -> None:
    """log_system fills the brackets."""
    assert _classic({"log_format": "x", "log_system": "HTTP,0"}) == "TIME [HTTP,0] x\n"


def test_classicDefaultTimeFormatMatchesTwistd() -> None:
    """The default timestamp is '%Y-%m-%d %H:%M:%S%z' in local time, as twistd writes."""
    when = time.time()
    line = formatEventAsClassicLogText({"log_format": "m", "log_time": when})
    stamp = datetime.fromtimestamp(when).astimezone().strftime("%Y-%m-%d %H:%M:%S%z")
    assert line == f"{stamp} [-] m\n"


def test_classicEmptyEventIsNone() -> None:
    """An event that renders to nothing gives None, so no blank line is written."""
    assert _classic({"log_time": 0.0}) is None


def test_classicIndentsContinuationLines() -> None:
    """Continuation lines are tab-indented."""
    assert _classic({"log_format": "a\nb"}) == "TIME [-] a\n\tb\n"


def test_classicIncludesTraceback() -> None:
    """An event with log_failure is followed by the failure's traceback, indented."""
    try:
        raise ValueError("boom")
    except ValueError:
        failure = Failure()
    text = _classic({"log_format": "oops", "log_failure": failure})
    assert text is not None
    assert text.startswith("TIME [-] oops\n\tTraceback (most recent call last):")
    assert "ValueError: boom" in text


def test_eventAsTextBrokenFailure() -> None:
    """A log_failure whose getTraceback raises is reported in the text."""

    class Bad:
        def getTraceback(self) -> str:
            raise RuntimeError("nope")

    text = eventAsText({"log_format": "x", "log_failure": Bad()}, includeTimestamp=False)
    assert "(UNABLE TO OBTAIN TRACEBACK FROM EVENT):nope" in text


def test_eventAsTextOptions() -> None:
    """eventAsText can leave out the timestamp and the system."""
    event = {"log_format": "m", "log_time": 0.0, "log_level": LogLevel.info}
    assert eventAsText(event, includeTimestamp=False, includeSystem=False) == "m"
    assert eventAsText(event, includeTimestamp=False) == "[-] m"


def test_cachedTimeFormatterMatchesFormatTime() -> None:
    """The cached formatter gives formatTime's text, also for a new second after a cached one."""
    from torsion.logger._format import cachedTimeFormatter

    fmt = cachedTimeFormatter("%Y-%m-%d %H:%M:%S%z")
    for when in (1e9, 1e9 + 0.5, 1e9 + 1, 1e9 + 86400):
        assert fmt(when) == formatTime(when, "%Y-%m-%d %H:%M:%S%z")
    assert fmt(None) == "-"


def test_extractField() -> None:
    """extractField resolves a field expression against an event."""
    from torsion.logger import extractField

    assert extractField("a.real", {"a": 3}) == 3
    assert extractField("b[1]", {"b": [0, 9]}) == 9


def test_extractFieldMissingRaisesKeyError() -> None:
    """extractField raises KeyError for a field the event lacks."""
    import pytest

    from torsion.logger import extractField

    with pytest.raises(KeyError):
        extractField("nope", {})


def test_extractFieldFromFlattenedEvent() -> None:
    """extractField on an event read back from JSON gives the field's rendered text."""
    from torsion.logger import eventAsJSON, eventFromJSON, extractField

    class Obj:
        def __repr__(self) -> str:
            return "<obj>"

        def __str__(self) -> str:
            return "obj!"

    back = eventFromJSON(eventAsJSON({"log_format": "{o}", "o": Obj()}))
    assert extractField("o", back) == "obj!"


@given(st.text(), st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(),
                                                                    st.none())))
def test_formatEventNeverRaises(fmt: str, fields: dict[str, Any]) -> None:
    """formatEvent returns text for any format string and any field values."""
    event: dict[str, Any] = dict(fields)
    event["log_format"] = fmt
    assert isinstance(formatEvent(event), str)
    assert isinstance(formatEventAsClassicLogText(event), str | None)
