"""torsion.logger: structured, namespaced logging with observers (Twisted's twisted.logger).

Code logs through a Logger (``_log = Logger()`` then ``_log.info("got {n} bytes", n=3)``);
events are dicts delivered to observers through publishers; ``globalLogBeginner`` decides
where the process's events go. Formatting is deferred to the observers that want text.
"""

from ._buffer import LimitedHistoryLogObserver
from ._capture import capturedLogs
from ._file import FileLogObserver, textFileLogObserver
from ._filter import (
    FilteringLogObserver,
    ILogFilterPredicate,
    LogLevelFilterPredicate,
    PredicateResult,
)
from ._format import (
    eventAsText,
    extractField,
    formatEvent,
    formatEventAsClassicLogText,
    formatTime,
    formatUnformattableEvent,
    formatWithCall,
    timeFormatClassic,
    timeFormatRFC3339,
)
from ._global import LogBeginner, globalLogBeginner, globalLogPublisher
from ._interfaces import ILogObserver, LogEvent, LogTrace
from ._io import LoggingFile
from ._json import eventAsJSON, eventFromJSON, eventsFromJSONLogFile, jsonFileLogObserver
from ._levels import LogLevel
from ._logger import Logger
from ._observer import LogPublisher
from ._stdlib import STDLibLogHandler, STDLibLogObserver
from .error import InvalidLogLevelError

__all__ = [
    "FileLogObserver",
    "FilteringLogObserver",
    "ILogFilterPredicate",
    "ILogObserver",
    "InvalidLogLevelError",
    "LimitedHistoryLogObserver",
    "LogBeginner",
    "LogEvent",
    "LogLevel",
    "LogLevelFilterPredicate",
    "LogPublisher",
    "LogTrace",
    "Logger",
    "LoggingFile",
    "PredicateResult",
    "STDLibLogHandler",
    "STDLibLogObserver",
    "capturedLogs",
    "eventAsJSON",
    "eventAsText",
    "eventFromJSON",
    "eventsFromJSONLogFile",
    "extractField",
    "formatEvent",
    "formatEventAsClassicLogText",
    "formatTime",
    "formatUnformattableEvent",
    "formatWithCall",
    "globalLogBeginner",
    "globalLogPublisher",
    "jsonFileLogObserver",
    "textFileLogObserver",
    "timeFormatClassic",
    "timeFormatRFC3339",
]
