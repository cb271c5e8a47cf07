"""Bridges to the standard library's ``logging``, in both directions.

``STDLibLogObserver`` renders torsion events as stdlib records (for applications whose
logging is configured with ``logging``); ``STDLibLogHandler`` is a ``logging.Handler`` that
publishes stdlib records as torsion events (so libraries that use ``logging`` appear in a
torsion log). Events that came from stdlib carry ``log_from_stdlib`` and records that came
from torsion carry the ``torsion_event`` attribute, so running both bridges at once cannot
loop.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ._failure import failureFromExcInfo
from ._format import formatEvent
from ._interfaces import LogEvent
from ._levels import LogLevel
from ._observer import globalLogPublisher

__all__ = ["STDLibLogHandler", "STDLibLogObserver", "fromStdlibLogLevelMapping",
           "toStdlibLogLevelMapping"]

#: Event key marking events published by STDLibLogHandler.
FROM_STDLIB_KEY = "log_from_stdlib"
#: LogRecord attribute marking records emitted by STDLibLogObserver.
TORSION_RECORD_ATTR = "torsion_event"

toStdlibLogLevelMapping: dict[LogLevel, int] = {
    LogLevel.debug: logging.DEBUG,
    LogLevel.info: logging.INFO,
    LogLevel.warn: logging.WARNING,
    LogLevel.error: logging.ERROR,
    LogLevel.critical: logging.CRITICAL,
}

fromStdlibLogLevelMapping: dict[int, LogLevel] = {
    value: key for key, value in toStdlibLogLevelMapping.items()
}


def _levelFromStdlib(levelno: int) -> LogLevel:
    """The torsion level for a stdlib level number, rounding custom levels down."""
    exact = fromStdlibLogLevelMapping.get(levelno)
    if exact is not None:
        return exact
    best = LogLevel.debug
    for number, level in sorted(fromStdlibLogLevelMapping.items()):
        if number <= levelno:
            best = level
    return best


class StringifiableFromEvent:
    """Renders an event's text only when ``str()`` is called on it (i.e. when a handler
    actually formats the record).
    """

    def __init__(self, event: LogEvent) -> None:
        self.event = event

    def __str__(self) -> str:
        return formatEvent(self.event)


class STDLibLogObserver:
    """Forwards torsion events to the stdlib logger ``name``, mapping levels and failures.

    A failure becomes the record's ``exc_info`` so stdlib formatters print its traceback.
    ``stackDepth`` is passed to ``logging`` as ``stacklevel``; since events travel through
    publishers and filters, the record's file and line point into torsion.logger, not at the
    code that logged (the event's ``log_namespace`` names that, as the record's ``extra``).
    """

    defaultStackDepth = 2

    def __init__(self, name: str = "torsion", stackDepth: int = defaultStackDepth) -> None:
        self.logger = logging.getLogger(name)
        self.stackDepth = stackDepth

    def __call__(self, event: LogEvent) -> None:
        """Log ``event`` as a stdlib record."""
        if event.get(FROM_STDLIB_KEY):
            return
        level = event.get("log_level", LogLevel.info)
        stdlibLevel = toStdlibLogLevelMapping.get(level, logging.INFO)
        if not self.logger.isEnabledFor(stdlibLevel):
            return
        excInfo: Any = None
        failure = event.get("log_failure")
        if failure is not None:
            value = getattr(failure, "value", failure)
            if isinstance(value, BaseException):
                tb = getattr(failure, "getTracebackObject", None)
                excInfo = (type(value), value, tb() if tb is not None else value.__traceback__)
        self.logger.log(stdlibLevel, StringifiableFromEvent(event), exc_info=excInfo,
                        stacklevel=self.stackDepth,
                        extra={TORSION_RECORD_ATTR: True,
                               "log_namespace": event.get("log_namespace")})


class STDLibLogHandler(logging.Handler):
    """A ``logging.Handler`` publishing each stdlib record as a torsion event.

    The event's namespace is the stdlib logger name, its level the mapped record level, its
    time the record's creation time, and ``exc_info`` becomes ``log_failure``.
    """

    def __init__(self, observer: Callable[[LogEvent], None] | None = None,
                 level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self.observer = globalLogPublisher if observer is None else observer

    def emit(self, record: logging.LogRecord) -> None:
        """Publish ``record``; errors go through ``logging``'s own ``handleError``."""
        if getattr(record, TORSION_RECORD_ATTR, False):
            return
        try:
            event: LogEvent = {
                "log_format": "{log_text}",
                "log_text": record.getMessage(),
                "log_level": _levelFromStdlib(record.levelno),
                "log_namespace": record.name,
                "log_source": None,
                "log_logger": None,
                "log_time": record.created,
                "log_record": record,
                FROM_STDLIB_KEY: True,
            }
            if record.exc_info and record.exc_info[1] is not None:
                excType, excValue, excTb = record.exc_info
                event["log_failure"] = failureFromExcInfo(excType, excValue, excTb)
            self.observer(event)
        except Exception:
            self.handleError(record)
