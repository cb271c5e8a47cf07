"""The process-wide publisher and LogBeginner: buffering until logging starts, then starting it.

Theory of operation: at import, ``globalLogBeginner`` adds a temporary observer to
``globalLogPublisher`` that keeps the last events in a ring buffer and writes critical ones to
stderr, so nothing important is lost before the program chooses where logs go. Calling
``beginLoggingTo(observers)`` adds those observers, removes the temporary one, replays the
buffer to them, routes ``warnings`` into the log and optionally redirects stdout/stderr.
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterable
from typing import IO, Any

from ._buffer import LimitedHistoryLogObserver
from ._file import FileLogObserver
from ._filter import FilteringLogObserver, LogLevelFilterPredicate
from ._format import eventAsText
from ._interfaces import ILogObserver, LogEvent
from ._io import LoggingFile
from ._levels import LogLevel
from ._logger import Logger
from ._observer import LogPublisher, globalLogPublisher

__all__ = ["LogBeginner", "globalLogBeginner", "globalLogPublisher"]

MORE_THAN_ONCE_WARNING = (
    "Warning: primary log target selected twice at '{fileNow}:{lineNow}' - "
    "previously selected at '{fileThen}:{lineThen}'.  Remove one of the calls to "
    "beginLoggingTo."
)


def _criticalText(event: LogEvent) -> str:
    """Render a critical event for stderr before logging has begun."""
    return eventAsText(event, includeTimestamp=False, includeSystem=False) + "\n"


class LogBeginner:
    """Holds events until logging begins, then begins logging to the chosen observers.

    ``stdio`` is an object with ``stdout``/``stderr`` attributes (``sys``) and
    ``warningsModule`` one with ``showwarning`` (``warnings``); tests pass fakes.
    """

    _DEFAULT_BUFFER_SIZE = 200

    def __init__(self, publisher: LogPublisher, errorStream: IO[Any], stdio: Any,
                 warningsModule: Any, initialBufferSize: int | None = None) -> None:
        if initialBufferSize is None:
            initialBufferSize = self._DEFAULT_BUFFER_SIZE
        self._initialBuffer = LimitedHistoryLogObserver(size=initialBufferSize)
        self._publisher = publisher
        self._log = Logger(observer=publisher)
        self._stdio = stdio
        self._warningsModule = warningsModule
        self._temporaryObserver: LogPublisher | None = LogPublisher(
            self._initialBuffer,
            FilteringLogObserver(
                FileLogObserver(errorStream, _criticalText),
                [LogLevelFilterPredicate(defaultLogLevel=LogLevel.critical)],
            ),
        )
        self._previousBegin = ("", 0)
        publisher.addObserver(self._temporaryObserver)
        self._oldshowwarning = warningsModule.showwarning

    def beginLoggingTo(self, observers: Iterable[ILogObserver], discardBuffer: bool = False,
                       redirectStandardIO: bool = True) -> None:
        """Start delivering events to ``observers``, replaying the buffered ones first.

        Meant to be called once per process; a second call adds the observers and logs a
        warning naming both call sites.
        """
        caller = sys._getframe(1)
        filename, lineno = caller.f_code.co_filename, caller.f_lineno
        for observer in observers:
            self._publisher.addObserver(observer)
        if self._temporaryObserver is not None:
            self._publisher.removeObserver(self._temporaryObserver)
            if not discardBuffer:
                self._initialBuffer.replayTo(self._publisher)
            self._temporaryObserver = None
            self._warningsModule.showwarning = self.showwarning
        else:
            previousFile, previousLine = self._previousBegin
            self._log.warn(MORE_THAN_ONCE_WARNING, fileNow=filename, lineNow=lineno,
                           fileThen=previousFile, lineThen=previousLine)
        self._previousBegin = (filename, lineno)
        if redirectStandardIO:
            for stream, level in (("stdout", LogLevel.info), ("stderr", LogLevel.error)):
                oldStream = getattr(self._stdio, stream)
                loggingFile = LoggingFile(
                    logger=Logger(namespace=stream, observer=self._publisher),
                    level=level,
                    encoding=getattr(oldStream, "encoding", None),
                )
                setattr(self._stdio, stream, loggingFile)

    def showwarning(self, message: Warning | str, category: type[Warning], filename: str,
                    lineno: int, file: IO[Any] | None = None, line: str | None = None) -> None:
        """Log a warning (the ``warnings.showwarning`` hook); one aimed at a file goes there."""
        if file is None:
            self._log.warn("{filename}:{lineno}: {category}: {warning}", warning=message,
                           category=f"{category.__module__}.{category.__qualname__}",
                           filename=filename, lineno=lineno)
        else:
            self._oldshowwarning(message, category, filename, lineno, file, line)


#: The process-wide beginner; ``globalLogBeginner.beginLoggingTo([...])`` starts logging.
globalLogBeginner = LogBeginner(globalLogPublisher, sys.stderr, sys, warnings)
