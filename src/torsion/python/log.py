"""The classic logging API (``log.msg``, ``log.err``, ``startLogging``) over torsion.logger.

Theory of operation: a classic event is a dict with ``message`` (a tuple), ``isError``,
``system``, ``time`` and optionally ``failure``/``why``/``format``. ``msg()`` builds one, adds
the new-style keys (``log_time``, ``log_level`` info or critical, ``log_namespace``
"log_legacy", ``log_system``, and ``log_format`` "{log_text}" with the classic text) and
publishes it on ``globalLogPublisher``, so new and classic observers see the same events.
Classic observers added with ``addObserver`` are wrapped so that new-style events reach
them with the classic keys filled in. Text output matches ``twistd.log``::

    2026-11-21 10:00:00+0000 [-] message
    2026-11-21 10:00:00+0000 [-] Unhandled Error
    \tTraceback (most recent call last):
    \t...
"""

from __future__ import annotations

import contextvars
import io
import logging
import sys
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from typing import IO, Any, Protocol, TypeVar

from torsion.logger import (
    LogBeginner,
    LoggingFile,
    LogLevel,
    formatEvent,
    globalLogBeginner,
    globalLogPublisher,
)
from torsion.logger import (
    LogPublisher as NewPublisher,
)
from torsion.logger._levels import _ORDER
from torsion.logger._stdlib import (
    FROM_STDLIB_KEY,
    TORSION_RECORD_ATTR,
    fromStdlibLogLevelMapping,
)
from torsion.python.failure import Failure

__all__ = [
    "FileLogObserver",
    "ILogObserver",
    "Logger",
    "LogPublisher",
    "NullFile",
    "PythonLoggingObserver",
    "addObserver",
    "callWithContext",
    "callWithLogger",
    "deferr",
    "discardLogs",
    "err",
    "logerr",
    "msg",
    "removeObserver",
    "startLogging",
    "startLoggingWithObserver",
    "textFromEventDict",
    "theLogPublisher",
]

_T = TypeVar("_T")
EventDict = dict[str, Any]

#: The stream classic code writes unloggable errors to.
logerr = sys.stderr

_INFO = _ORDER[LogLevel.info]
_CRITICAL = _ORDER[LogLevel.critical]


class ILogObserver(Protocol):
    """A classic observer: a callable taking one classic event dict."""

    def __call__(self, eventDict: EventDict) -> None:
        """Observe ``eventDict``."""


_context: contextvars.ContextVar[EventDict | None] = contextvars.ContextVar(
    "torsion.python.log context", default=None
)


def callWithContext(ctx: EventDict, func: Callable[..., _T], *args: Any, **kw: Any) -> _T:
    """Call ``func`` with ``ctx``'s keys (e.g. ``system``) added to every event it logs."""
    current = _context.get()
    merged = dict(current) if current else {}
    merged.update(ctx)
    token = _context.set(merged)
    try:
        return func(*args, **kw)
    finally:
        _context.reset(token)


def callWithLogger(logger: Any, func: Callable[..., _T], *args: Any, **kw: Any) -> _T | None:
    """Call ``func`` with ``system`` set to ``logger.logPrefix()``, logging what it raises."""
    try:
        lp = logger.logPrefix()
    except Exception:
        lp = "(buggy logPrefix method)"
        err(system=lp)
    try:
        return callWithContext({"system": lp}, func, *args, **kw)
    except Exception:
        err(system=lp)
        return None


def _safeStr(obj: object) -> str:
    """``str(obj)``, falling back to a repr-based description when ``__str__`` raises."""
    try:
        return str(obj)
    except Exception:
        try:
            return f"<{type(obj).__name__} instance with broken str>"
        except Exception:
            return "<object with broken str>"


def _safeFormat(fmtString: str, fmtDict: EventDict) -> str:
    """Apply ``%`` formatting, never raising: a broken format yields a description of it."""
    try:
        return fmtString % fmtDict
    except Exception:
        try:
            return (f"Invalid format string or unformattable object in log message: "
                    f"{fmtString!r}, {fmtDict!r}")
        except Exception:
            return (f"UNFORMATTABLE OBJECT WRITTEN TO LOG with fmt {fmtString!r}, "
                    f"MESSAGE LOST")


def textFromEventDict(eventDict: EventDict) -> str | None:
    """Render a classic event's text: its message, its ``format``, or why + traceback.

    Returns None when there is nothing to render, so observers can skip the event.
    """
    edm = eventDict.get("message", ())
    if not edm:
        if eventDict.get("isError") and "failure" in eventDict:
            why = eventDict.get("why")
            whyText = _safeStr(why) if why else "Unhandled Error"
            try:
                traceback = str(eventDict["failure"].getTraceback())
            except Exception as e:
                traceback = "(unable to obtain traceback): " + str(e)
            return whyText + "\n" + traceback
        if "format" in eventDict:
            return _safeFormat(eventDict["format"], eventDict)
        return None
    return " ".join(map(_safeStr, edm))


def _publishNew(publisher: Callable[[EventDict], None], eventDict: EventDict) -> None:
    """Add the new-style keys to a classic event and publish it."""
    if "log_time" not in eventDict:
        eventDict["log_time"] = eventDict["time"]
    if "log_format" not in eventDict:
        text = textFromEventDict(eventDict)
        if text is not None:
            eventDict["log_text"] = text
            eventDict["log_format"] = "{log_text}"
    if "log_level" not in eventDict:
        level: LogLevel | None
        if "logLevel" in eventDict:
            level = fromStdlibLogLevelMapping.get(eventDict["logLevel"])
        elif eventDict.get("isError"):
            level = LogLevel.critical
        else:
            level = LogLevel.info
        if level is not None:
            eventDict["log_level"] = level
    if "log_namespace" not in eventDict:
        eventDict["log_namespace"] = "log_legacy"
    if "log_system" not in eventDict and "system" in eventDict:
        eventDict["log_system"] = eventDict["system"]
    publisher(eventDict)


class Logger:
    """Base class for objects that name their log context; ``logPrefix()`` is the system
    shown in brackets for what they log (see ``callWithLogger``).
    """

    def logPrefix(self) -> str:
        """The system name for this object's log lines; "-" unless overridden."""
        return "-"


class _LegacyObserverWrapper:
    """Adapts a classic observer to new-style events by filling in the classic keys."""

    def __init__(self, legacyObserver: Callable[[EventDict], None]) -> None:
        self.legacyObserver = legacyObserver

    def __repr__(self) -> str:
        return f"{self.__class__.__name__}({self.legacyObserver!r})"

    def __call__(self, event: EventDict) -> None:
        """Give ``event`` the classic keys and pass it on."""
        if "message" not in event:
            event["message"] = ()
        if "time" not in event:
            event["time"] = event.get("log_time")
        if "system" not in event:
            event["system"] = event.get("log_system", "-")
        if "format" not in event and event.get("log_format") is not None:
            event["format"] = "%(log_legacy)s"
            event["log_legacy"] = _StringifiableFromEvent(dict(event))
        if "log_failure" in event:
            event.setdefault("failure", event["log_failure"])
            event.setdefault("isError", 1)
            event.setdefault("why", formatEvent(event))
        elif "isError" not in event:
            event["isError"] = int(event.get("log_level") in (LogLevel.error,
                                                               LogLevel.critical))
        self.legacyObserver(event)


class _StringifiableFromEvent:
    """Renders a new-style event's text lazily when classic code calls ``str`` on it."""

    def __init__(self, event: EventDict) -> None:
        self.event = event

    def __str__(self) -> str:
        return formatEvent(self.event)


class LogPublisher:
    """The classic publisher: ``msg`` publishes, ``addObserver`` takes classic observers.

    Backed by new-style publishers, so classic and new observers see one stream of events.
    """

    def __init__(self, observerPublisher: NewPublisher | None = None,
                 publishPublisher: NewPublisher | None = None,
                 logBeginner: LogBeginner | None = None, warningsModule: Any = warnings) -> None:
        if publishPublisher is None:
            publishPublisher = NewPublisher()
            if observerPublisher is None:
                observerPublisher = publishPublisher
        if observerPublisher is None:
            observerPublisher = NewPublisher()
        self._observerPublisher = observerPublisher
        self._publishPublisher = publishPublisher
        self._legacyObservers: list[_LegacyObserverWrapper] = []
        if logBeginner is None:
            beginnerPublisher = NewPublisher()
            beginnerPublisher.addObserver(observerPublisher)
            logBeginner = LogBeginner(beginnerPublisher, io.StringIO(), sys, warnings)
        self._logBeginner = logBeginner
        self._warningsModule = warningsModule
        self._oldshowwarning = warningsModule.showwarning
        self.showwarning = self._logBeginner.showwarning

    @property
    def observers(self) -> list[Callable[[EventDict], None]]:
        """The classic observers added to this publisher."""
        return [wrapper.legacyObserver for wrapper in self._legacyObservers]

    def _startLogging(self, other: Callable[[EventDict], None], setStdout: bool) -> None:
        """Begin logging to ``other`` through this publisher's LogBeginner."""
        wrapped = _LegacyObserverWrapper(other)
        self._legacyObservers.append(wrapped)
        self._logBeginner.beginLoggingTo([wrapped], True, setStdout)

    def _stopLogging(self) -> None:
        """Undo the ``warnings`` redirection (for tests of this module)."""
        if self._warningsModule.showwarning == self.showwarning:
            self._warningsModule.showwarning = self._oldshowwarning

    def addObserver(self, other: Callable[[EventDict], None]) -> None:
        """Add a classic observer: it receives every event as a classic event dict."""
        wrapped = _LegacyObserverWrapper(other)
        self._legacyObservers.append(wrapped)
        self._observerPublisher.addObserver(wrapped)

    def removeObserver(self, other: Callable[[EventDict], None]) -> None:
        """Remove a classic observer added with ``addObserver``; absent ones are ignored."""
        for wrapper in self._legacyObservers:
            if wrapper.legacyObserver == other:
                self._legacyObservers.remove(wrapper)
                self._observerPublisher.removeObserver(wrapper)
                break

    def msg(self, *message: object, **kw: Any) -> None:
        """Publish ``message`` (joined with spaces) with the keys in ``kw``.

        ``isError=1`` makes it critical; ``system="Foo"`` sets the bracketed system.
        """
        index = _CRITICAL if kw.get("isError") else _INFO
        if index < getattr(self._publishPublisher, "_logGate", 0) and "log_level" not in kw:
            return
        ctx = _context.get()
        if ctx:
            eventDict = dict(ctx)
            eventDict.update(kw)
        else:
            eventDict = kw
        eventDict["message"] = message
        eventDict["time"] = time.time()
        if "isError" not in eventDict:
            eventDict["isError"] = 0
        _publishNew(self._publishPublisher, eventDict)


#: The process-wide classic publisher, backed by ``globalLogPublisher``.
theLogPublisher = LogPublisher(
    observerPublisher=globalLogPublisher,
    publishPublisher=globalLogPublisher,
    logBeginner=globalLogBeginner,
)


def msg(*message: object, **kw: Any) -> None:
    """Log ``message`` (its parts joined by spaces) on the global publisher."""
    theLogPublisher.msg(*message, **kw)


def addObserver(observer: Callable[[EventDict], None]) -> None:
    """Add a classic observer to the global publisher."""
    theLogPublisher.addObserver(observer)


def removeObserver(observer: Callable[[EventDict], None]) -> None:
    """Remove a classic observer from the global publisher."""
    theLogPublisher.removeObserver(observer)


def err(_stuff: object = None, _why: str | None = None, **kw: Any) -> None:
    """Log an error: a Failure, an exception, or (with no argument) the one being handled.

    ``_why`` is printed before the traceback; without it the text reads "Unhandled Error".
    """
    if _stuff is None:
        _stuff = Failure()
    if isinstance(_stuff, Failure):
        msg(failure=_stuff, why=_why, isError=1, **kw)
    elif isinstance(_stuff, BaseException):
        msg(failure=Failure(_stuff), why=_why, isError=1, **kw)
    else:
        msg(repr(_stuff), why=_why, isError=1, **kw)


#: Twisted's name for ``err`` used as an errback.
deferr = err


class FileLogObserver:
    """A classic observer writing ``twistd.log`` lines to a text file.

    ``emit`` is the observer; ``start``/``stop`` add it to and remove it from the global
    publisher.
    """

    timeFormat: str | None = None

    def __init__(self, f: IO[str]) -> None:
        self.write = f.write
        self.flush = f.flush

    def getTimezoneOffset(self, when: float) -> int:
        """Seconds west of UTC at ``when`` (negative east of UTC), as Twisted returns it."""
        offset = datetime.fromtimestamp(when).astimezone().utcoffset()
        return -int(offset.total_seconds()) if offset is not None else 0

    def formatTime(self, when: float) -> str:
        """Render ``when`` as local time with numeric offset, or with ``timeFormat`` if set."""
        if self.timeFormat is not None:
            return datetime.fromtimestamp(when).strftime(self.timeFormat)
        return datetime.fromtimestamp(when).astimezone().strftime("%Y-%m-%d %H:%M:%S%z")

    def emit(self, eventDict: EventDict) -> None:
        """Write one event as a line; continuation lines are tab-indented."""
        text = textFromEventDict(eventDict)
        if text is None:
            return
        timeStr = self.formatTime(eventDict["time"])
        fmtDict = {"system": eventDict.get("system", "-"), "text": text.replace("\n", "\n\t")}
        msgStr = _safeFormat("[%(system)s] %(text)s\n", fmtDict)
        self.write(timeStr + " " + msgStr)
        self.flush()

    def start(self) -> None:
        """Add this observer to the global publisher."""
        addObserver(self.emit)

    def stop(self) -> None:
        """Remove this observer from the global publisher."""
        removeObserver(self.emit)


class PythonLoggingObserver:
    """A classic observer forwarding events to the stdlib logger ``loggerName``.

    An event's ``logLevel`` key picks the stdlib level; otherwise errors log at ERROR and
    everything else at INFO.
    """

    def __init__(self, loggerName: str = "torsion") -> None:
        self._logger = logging.getLogger(loggerName)

    def emit(self, eventDict: EventDict) -> None:
        """Forward one event to the stdlib logger."""
        if eventDict.get(FROM_STDLIB_KEY):
            return
        if "logLevel" in eventDict:
            level = int(eventDict["logLevel"])
        elif eventDict.get("isError"):
            level = logging.ERROR
        else:
            level = logging.INFO
        if not self._logger.isEnabledFor(level):
            return
        text = textFromEventDict(eventDict)
        if text is None:
            return
        self._logger.log(level, "%s", text, extra={TORSION_RECORD_ATTR: True})

    def start(self) -> None:
        """Add this observer to the global publisher."""
        addObserver(self.emit)

    def stop(self) -> None:
        """Remove this observer from the global publisher."""
        removeObserver(self.emit)


class NullFile:
    """A text file that discards everything written to it."""

    def write(self, data: str) -> int:
        """Discard ``data``."""
        return len(data)

    def flush(self) -> None:
        """Do nothing."""


def _discard(eventDict: EventDict) -> None:
    """Drop an event."""


def discardLogs() -> None:
    """Begin logging to nowhere, ending the buffering of events before logging starts."""
    theLogPublisher._startLogging(_discard, False)


def startLoggingWithObserver(observer: Callable[[EventDict], None], setStdout: bool = True
                             ) -> None:
    """Begin logging to a classic observer (replaying buffered events); ``setStdout``
    redirects ``sys.stdout``/``sys.stderr`` into the log.
    """
    theLogPublisher._startLogging(observer, setStdout)
    msg("Log opened.")


def startLogging(file: IO[str], *a: Any, setStdout: bool = True, **kw: Any) -> FileLogObserver:
    """Begin logging ``twistd.log``-style lines to ``file``; returns the observer.

    Does nothing (returns a detached observer) when ``file`` is itself a redirected stream,
    which would otherwise log into itself.
    """
    flo = FileLogObserver(file)
    if isinstance(file, LoggingFile):
        return flo
    startLoggingWithObserver(flo.emit, setStdout)
    return flo
