"""Turning events into text: PEP 3101 formatting of ``log_format`` against the event's keys.

Theory of operation: an event carries a format string and the values it names, so nothing is
rendered unless an observer asks for text. Rendering never raises: a bad format string, a
missing key or a value whose ``__format__``/``__repr__`` raises yields a "MESSAGE LOST" text
that keeps whatever could be recovered. ``{name()}`` in a format calls the zero-argument
callable stored under ``name``, so expensive values are computed only when rendered.
Events decoded from JSON carry ``log_flattened`` (each field already rendered) because their
original values did not survive serialisation.
"""

from __future__ import annotations

import traceback as _tb
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from string import Formatter
from typing import Any

from ._interfaces import LogEvent

__all__ = [
    "eventAsText",
    "extractField",
    "flattenEvent",
    "formatEvent",
    "formatEventAsClassicLogText",
    "formatTime",
    "formatUnformattableEvent",
    "formatWithCall",
    "timeFormatClassic",
    "timeFormatRFC3339",
]

#: ISO 8601 / RFC 3339 timestamp with a numeric UTC offset, Twisted's new-style default.
timeFormatRFC3339 = "%Y-%m-%dT%H:%M:%S%z"
#: The classic ``twistd.log`` timestamp: ``2026-11-21 10:00:00+0000``.
timeFormatClassic = "%Y-%m-%d %H:%M:%S%z"

_formatter = Formatter()


class _CallMapping(Mapping[str, Any]):
    """Read-only view of an event in which ``"key()"`` calls the value stored under ``key``."""

    __slots__ = ("_mapping",)

    def __init__(self, mapping: Mapping[str, Any]) -> None:
        self._mapping = mapping

    def __getitem__(self, key: str) -> Any:
        if key.endswith("()"):
            return self._mapping[key[:-2]]()
        return self._mapping[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._mapping)

    def __len__(self) -> int:
        return len(self._mapping)


def formatWithCall(formatString: str, mapping: Mapping[str, Any]) -> str:
    """Format ``formatString`` with ``mapping`` where ``{f()}`` calls ``mapping["f"]``.

    This lets a log call pass a callable that is evaluated only when someone renders the event.
    """
    return formatString.format_map(_CallMapping(mapping))


def _safeRepr(obj: object) -> str:
    """Repr ``obj``, never raising, so error messages about bad objects can be built."""
    try:
        return repr(obj)
    except BaseException as e:
        try:
            return f"<{type(obj).__name__} instance with broken repr: {type(e).__name__}>"
        except BaseException:
            return "<object with broken repr>"


def formatUnformattableEvent(event: LogEvent, error: BaseException) -> str:
    """Describe an event that could not be formatted, keeping every recoverable key and value.

    The message must never be lost silently, so the text names the error and lists the data.
    """
    try:
        return f"Unable to format event {event!r}: {error}"
    except BaseException:
        text = ", ".join(
            " = ".join((_safeRepr(key), _safeRepr(value))) for key, value in event.items()
        )
        return (
            f"MESSAGE LOST: unformattable object logged: {_safeRepr(error)}\n"
            f"Recoverable data: {text}"
        )


def _fieldKey(fieldName: str, formatSpec: str, conversion: str | None) -> str:
    """The key under which a flattened event stores the rendering of one format field."""
    return f"{fieldName}!{conversion or ''}:{formatSpec}"


def flattenEvent(event: LogEvent) -> None:
    """Render every field of the event's format into ``event["log_flattened"]``, in place.

    A serialised event loses its values' types; flattening first keeps its text renderable.
    """
    fmt = event.get("log_format")
    if not isinstance(fmt, str):
        return
    flattened: dict[str, str] = dict(event.get("log_flattened") or {})
    try:
        parsed = list(_formatter.parse(fmt))
    except ValueError:
        return
    for _literal, fieldName, formatSpec, conversion in parsed:
        if fieldName is None:
            continue
        key = _fieldKey(fieldName, formatSpec or "", conversion)
        field = "{" + fieldName + ("!" + conversion if conversion else "")
        field += (":" + formatSpec if formatSpec else "") + "}"
        try:
            flattened[key] = formatWithCall(field, event)
        except BaseException as e:
            flattened[key] = f"<unformattable field: {_safeRepr(e)}>"
    event["log_flattened"] = flattened


def _flatFormat(event: LogEvent) -> str:
    """Render a flattened event from its stored field texts."""
    flattened: Mapping[str, str] = event["log_flattened"]
    parts: list[str] = []
    for literal, fieldName, formatSpec, conversion in _formatter.parse(event["log_format"]):
        parts.append(literal)
        if fieldName is not None:
            parts.append(str(flattened[_fieldKey(fieldName, formatSpec or "", conversion)]))
    return "".join(parts)


def extractField(field: str, event: LogEvent) -> Any:
    """Return the value a format field such as ``"a.b[0]"`` names in ``event``.

    For an event decoded from JSON the field's rendered text is returned, since the original
    value did not survive. Raises KeyError when the field cannot be found.
    """
    flattened = event.get("log_flattened")
    if flattened is not None:
        for key, value in flattened.items():
            if key.split("!", 1)[0] == field:
                return value
    try:
        value, _ = _formatter.get_field(field, (), _CallMapping(event))
    except (KeyError, AttributeError, IndexError, TypeError, ValueError) as e:
        raise KeyError(field) from e
    return value


def formatEvent(event: LogEvent) -> str:
    """Render an event's ``log_format`` with its keys; "" when it has none. Never raises.

    Observers call this on arbitrary events, and a logging bug must not become a crash.
    """
    try:
        fmt = event.get("log_format", None)
        if fmt is None:
            return ""
        if isinstance(fmt, bytes):
            fmt = fmt.decode("utf-8")
        elif not isinstance(fmt, str):
            raise TypeError(f"Log format must be str, not {type(fmt)!r}")
        if "log_flattened" in event:
            return _flatFormat(event)
        return formatWithCall(fmt, event)
    except BaseException as e:
        return formatUnformattableEvent(event, e)


def formatTime(when: float | None, timeFormat: str | None = timeFormatRFC3339,
               default: str = "-") -> str:
    """Render a POSIX timestamp in the local time zone with its numeric offset.

    Returns ``default`` when there is no time or no format, so partial events still render.
    """
    if when is None or timeFormat is None:
        return default
    try:
        return datetime.fromtimestamp(when).astimezone().strftime(timeFormat)
    except (OverflowError, OSError, ValueError, TypeError):
        return default


def cachedTimeFormatter(timeFormat: str | None) -> Callable[[float | None], str]:
    """A ``formatTime`` for one strftime format that reuses the text of the last second.

    A busy log writes many lines per second, and the time zone lookup behind the offset is
    the costly part of a line. Only formats with no sub-second fields (no ``%f``) are cached.
    """
    if timeFormat is None or "%f" in timeFormat:
        return lambda when: formatTime(when, timeFormat)
    cache: list[tuple[int, str]] = [(-1, "")]

    def format(when: float | None) -> str:
        if when is None:
            return "-"
        try:
            second = int(when)
        except (TypeError, ValueError, OverflowError):
            return "-"
        cachedSecond, cachedText = cache[0]
        if cachedSecond == second:
            return cachedText
        text = formatTime(when, timeFormat)
        cache[0] = (second, text)
        return text

    return format


#: Renders a timestamp the way classic ``twistd.log`` lines do: ``2026-11-21 10:00:00+0000``.
formatClassicTime = cachedTimeFormatter(timeFormatClassic)


def formatTraceback(failure: object) -> str:
    """Return the traceback text of a Failure (or exception), never raising.

    A broken failure must not lose the rest of the event, so errors become a message.
    """
    try:
        getTraceback = getattr(failure, "getTraceback", None)
        if getTraceback is not None:
            return str(getTraceback())
        if isinstance(failure, BaseException):
            return "".join(_tb.format_exception(failure))
        return str(failure)
    except BaseException as e:
        return "(UNABLE TO OBTAIN TRACEBACK FROM EVENT):" + str(e)


def formatSystem(event: LogEvent) -> str:
    """The bracketed system of a text line: the event's ``log_system``, else ``-``."""
    system = event.get("log_system")
    if system is None:
        return "-"
    try:
        return str(system)
    except BaseException:
        return "UNFORMATTABLE"


def eventAsText(event: LogEvent, includeTraceback: bool = True, includeTimestamp: bool = True,
                includeSystem: bool = True,
                formatTime: Callable[[float | None], str] = formatClassicTime) -> str:
    """Render an event as ``{time} [{system}] {text}`` plus its failure's traceback.

    Returns "" when the event renders to nothing, so silent events print no blank lines.
    """
    eventText = formatEvent(event)
    if includeTraceback and "log_failure" in event:
        eventText = "\n".join((eventText, formatTraceback(event["log_failure"])))
    if not eventText:
        return eventText
    prefix = ""
    if includeTimestamp:
        prefix = formatTime(event.get("log_time")) + " "
    if includeSystem:
        prefix += "[" + formatSystem(event) + "] "
    return prefix + eventText


def formatEventAsClassicLogText(
    event: LogEvent, formatTime: Callable[[float | None], str] = formatClassicTime
) -> str | None:
    """Render an event as one classic log line ``2026-11-21 10:00:00+0000 [-] text\\n``.

    Continuation lines (tracebacks) are indented with a tab as Twisted does, so a log reader
    can tell where each event starts; None when the event renders to nothing.
    """
    eventText = eventAsText(event, includeTimestamp=False, includeSystem=False)
    if not eventText:
        return None
    eventText = eventText.replace("\n", "\n\t")
    return f"{formatTime(event.get('log_time'))} [{formatSystem(event)}] {eventText}\n"
