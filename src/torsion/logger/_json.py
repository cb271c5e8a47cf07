"""JSON log files: one event per record, readable back as events.

Theory of operation: before serialising, an event is flattened (each field of its format is
rendered and stored in ``log_flattened``), so ``formatEvent`` on the decoded event gives the
original text even though arbitrary objects did not survive. Values JSON cannot hold become
``{"unpersistable": true}``; LogLevel and Failure values are tagged with ``__class_uuid__``
(the identifiers Twisted uses) and decoded back into a LogLevel and an object with
``getTraceback()``. Records are written as ``\\x1e`` + JSON + ``\\n`` (RFC 7464 JSON text
sequences) so a reader can resynchronise after a torn record.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any, cast

from ._file import FileLogObserver
from ._format import flattenEvent, formatTraceback
from ._interfaces import LogEvent
from ._levels import LogLevel
from ._logger import Logger

__all__ = ["eventAsJSON", "eventFromJSON", "eventsFromJSONLogFile", "jsonFileLogObserver"]

_LEVEL_UUID = "02E59486-F24D-46AD-8224-3ACDF2A5732A"
_FAILURE_UUID = "E76887E2-20ED-49BF-A8F8-BA25CC586F2D"

_log = Logger()

#: A record longer than this (in characters) is dropped rather than buffered without bound.
MAX_RECORD_SIZE = 16 * 1024 * 1024


class LoggedFailure:
    """A failure decoded from a JSON log: its type name, message and traceback text.

    The original exception object cannot be rebuilt from text, but observers only need to
    render it, which ``getTraceback`` allows.
    """

    def __init__(self, typeName: str, message: str, tracebackText: str) -> None:
        self.typeName = typeName
        self.message = message
        self.tracebackText = tracebackText

    def getTraceback(self) -> str:
        """The traceback text recorded when the event was written."""
        return self.tracebackText

    def getErrorMessage(self) -> str:
        """The exception's message as recorded."""
        return self.message

    def __repr__(self) -> str:
        return f"<LoggedFailure {self.typeName}: {self.message}>"


def _failureAsDict(failure: Any) -> dict[str, Any]:
    value = getattr(failure, "value", failure)
    if isinstance(failure, LoggedFailure):
        typeName, message = failure.typeName, failure.message
    elif isinstance(value, BaseException):
        typeName = f"{type(value).__module__}.{type(value).__qualname__}"
        message = str(value)
    else:
        typeName, message = type(failure).__qualname__, str(failure)
    return {"__class_uuid__": _FAILURE_UUID, "type": typeName, "message": message,
            "traceback": formatTraceback(failure)}


def _default(obj: object) -> Any:
    """JSON encoder hook: tag levels and failures, mark everything else unpersistable."""
    if isinstance(obj, LogLevel):
        return {"__class_uuid__": _LEVEL_UUID, "name": obj.name}
    if isinstance(obj, BaseException | LoggedFailure) or hasattr(obj, "getTraceback"):
        return _failureAsDict(obj)
    if isinstance(obj, bytes):
        return obj.decode("utf-8", "replace")
    if isinstance(obj, set | frozenset | tuple):
        return list(obj)
    return {"unpersistable": True}


def _objectHook(obj: dict[str, Any]) -> Any:
    uuid = obj.get("__class_uuid__")
    if uuid == _LEVEL_UUID:
        return LogLevel.levelWithName(obj["name"])
    if uuid == _FAILURE_UUID:
        return LoggedFailure(str(obj.get("type", "")), str(obj.get("message", "")),
                             str(obj.get("traceback", "")))
    return obj


def eventAsJSON(event: LogEvent) -> str:
    """Encode ``event`` as one line of JSON, flattened so its text can be rendered later."""
    flat = dict(event)
    flattenEvent(flat)
    flat.pop("log_logger", None)
    flat.pop("log_trace", None)
    source = flat.get("log_source")
    if source is not None and not isinstance(source, str | int | float | bool):
        flat["log_source"] = _safeRepr(source)
    return json.dumps(_stringKeys(flat), default=_default, skipkeys=True)


def _stringKeys(event: LogEvent) -> dict[str, Any]:
    return {str(key): value for key, value in event.items()}


def _safeRepr(obj: object) -> str:
    try:
        return repr(obj)
    except Exception:
        return "<unrepresentable>"


def eventFromJSON(eventText: str) -> LogEvent:
    """Decode an event written by ``eventAsJSON``."""
    return cast(LogEvent, json.loads(eventText, object_hook=_objectHook))


def jsonFileLogObserver(outFile: IO[Any], recordSeparator: str = "\x1e") -> FileLogObserver:
    """An observer writing each event as ``recordSeparator`` + JSON + newline to ``outFile``."""
    return FileLogObserver(outFile, lambda event: f"{recordSeparator}{eventAsJSON(event)}\n")


def _records(inFile: IO[Any], recordSeparator: str | None, bufferSize: int
             ) -> Iterator[str]:
    """Split a JSON log file into records; the separator is sniffed when not given."""
    buffer = ""
    first = True
    separator = recordSeparator
    while True:
        chunk = inFile.read(bufferSize)
        if isinstance(chunk, bytes):
            chunk = chunk.decode("utf-8", "replace")
        if first and chunk:
            first = False
            if separator is None:
                separator = "\x1e" if chunk.startswith("\x1e") else "\n"
        if not chunk:
            break
        buffer += chunk
        assert separator is not None
        *complete, buffer = buffer.split(separator)
        yield from complete
        if len(buffer) > MAX_RECORD_SIZE:
            _log.error("JSON log record longer than {limit} characters skipped",
                       limit=MAX_RECORD_SIZE)
            buffer = ""
    if buffer:
        yield buffer


def eventsFromJSONLogFile(inFile: IO[Any], recordSeparator: str | None = None,
                          bufferSize: int = 4096) -> Iterator[LogEvent]:
    """Yield the events of a JSON log file; undecodable records are logged and skipped."""
    for record in _records(inFile, recordSeparator, bufferSize):
        text = record.strip()
        if not text:
            continue
        try:
            event = eventFromJSON(text)
        except (ValueError, RecursionError, KeyError):
            _log.error("Unable to read JSON record: {record!r}", record=text)
            continue
        if not isinstance(event, dict):
            _log.error("Unable to read JSON record: {record!r}", record=text)
            continue
        yield event
