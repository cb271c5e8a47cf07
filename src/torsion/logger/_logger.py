"""Logger: the object code logs through, emitting structured events to an observer.

Theory of operation: ``log.info("got {n} bytes", n=3)`` builds the event dict
``{"n": 3, "log_format": ..., "log_level": LogLevel.info, "log_namespace": ...,
"log_source": ..., "log_logger": ..., "log_time": ...}`` and hands it to the observer (the
global publisher by default). The format is not rendered here: observers that want text
render it. Before the dict is built, the call's level is compared with the observer's level
gate (see _observer), so calls nobody observes cost almost nothing.

A Logger stored as a class attribute is a descriptor: ``self.log`` gives a Logger whose
namespace is the class's qualified name and whose ``log_source`` is the instance (or the
class, when accessed on the class), so observers can tell which object logged.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any

from torsion.python.failure import Failure

from ._failure import currentFailure, failureFromException, failureFromExcInfo
from ._interfaces import ILogObserver, LogEvent
from ._levels import _ORDER, LogLevel
from ._observer import globalLogPublisher

__all__ = ["Logger", "Operation"]

_DEBUG = _ORDER[LogLevel.debug]
_INFO = _ORDER[LogLevel.info]
_WARN = _ORDER[LogLevel.warn]
_ERROR = _ORDER[LogLevel.error]
_CRITICAL = _ORDER[LogLevel.critical]


def _namespaceFromCallingContext(depth: int) -> str:
    """The ``__name__`` of the module ``depth`` frames up, or "<unknown>"."""
    try:
        return str(sys._getframe(depth).f_globals["__name__"])
    except (KeyError, ValueError):
        return "<unknown>"


class Logger:
    """Emits structured log events under a namespace to an observer.

    ``namespace`` defaults to the calling module's ``__name__``; ``observer`` defaults to
    ``globalLogPublisher``; ``source`` is the object on whose behalf events are emitted.
    """

    __slots__ = ("namespace", "source", "observer")

    def __init__(self, namespace: str | None = None, source: object = None,
                 observer: ILogObserver | None = None) -> None:
        if namespace is None:
            namespace = _namespaceFromCallingContext(2)
        self.namespace: str = namespace
        self.source: object = source
        self.observer: ILogObserver = globalLogPublisher if observer is None else observer

    def __get__(self, instance: object, owner: type | None = None) -> Logger:
        """Give a Logger for the class's namespace, sourced at the instance (or the class)."""
        if owner is None:
            owner = type(instance)
        return Logger(
            owner.__module__ + "." + owner.__name__,
            owner if instance is None else instance,
            self.observer,
        )

    def __repr__(self) -> str:
        return f"<Logger {self.namespace!r}>"

    def _gated(self, index: int) -> bool:
        """Whether events at the level with ``index`` are observed by nobody."""
        return index < getattr(self.observer, "_logGate", 0)

    def emit(self, level: LogLevel, format: str | None = None, **kwargs: Any) -> None:
        """Emit an event at ``level`` with ``format`` and the given fields.

        An invalid level is itself reported (as an error event) rather than raised, since a
        logging call must never take down the code that makes it.
        """
        index = _ORDER.get(level) if isinstance(level, LogLevel) else None
        if index is None:
            from .error import InvalidLogLevelError

            try:
                raise InvalidLogLevelError(level)
            except InvalidLogLevelError as e:
                self._emit(LogLevel.critical, "Got invalid log level {invalidLevel!r} in {logger}.",
                           {"invalidLevel": level, "logger": self, "log_failure": _failure(e)})
            return
        if index < getattr(self.observer, "_logGate", 0):
            return
        self._emit(level, format, kwargs)

    def _emit(self, level: LogLevel, format: str | None, event: LogEvent) -> None:
        """Fill in the ``log_*`` keys of ``event`` and hand it to the observer."""
        event["log_logger"] = self
        event["log_level"] = level
        event["log_namespace"] = self.namespace
        event["log_source"] = self.source
        event["log_format"] = format
        event["log_time"] = time.time()
        trace = event.get("log_trace")
        if trace is not None:
            trace.append((self, self.observer))
        self.observer(event)

    def failure(self, format: str, failure: Any = None, level: LogLevel = LogLevel.critical,
                **kwargs: Any) -> None:
        """Emit ``failure`` (default: the exception being handled) with its traceback.

        Call it inside ``except`` without a failure to log what was just caught; the event
        carries the Failure as ``log_failure`` so text observers print its traceback.
        """
        index = _ORDER.get(level) if isinstance(level, LogLevel) else None
        if index is not None and index < getattr(self.observer, "_logGate", 0):
            return
        if failure is None:
            failure = _failure(None)
        kwargs["log_failure"] = failure
        self.emit(level, format, **kwargs)

    @contextmanager
    def failuresHandled(self, format: str, level: LogLevel = LogLevel.critical,
                        **kwargs: Any) -> Iterator[Operation]:
        """Run a ``with`` block, logging (and swallowing) any Exception it raises.

        The yielded Operation tells afterwards whether the block succeeded and holds the
        Failure if not, so code can log-and-continue without a bare ``except``.
        """
        op = Operation()
        try:
            yield op
        except Exception:
            op.failure = _failure(None)
            self.failure(format, op.failure, level, **kwargs)
        else:
            op.succeeded = True

    def failureHandler(self, format: str, level: LogLevel = LogLevel.critical
                       ) -> _FailureHandler:
        """A reusable context manager that logs and swallows an Exception from its block."""
        return _FailureHandler(self, format, level)

    def debug(self, format: str | None = None, **kwargs: Any) -> None:
        """Emit a debug event: detail for developers, usually filtered out."""
        if _DEBUG < getattr(self.observer, "_logGate", 0):
            return
        self._emit(LogLevel.debug, format, kwargs)

    def info(self, format: str | None = None, **kwargs: Any) -> None:
        """Emit an info event: normal operation worth recording."""
        if _INFO < getattr(self.observer, "_logGate", 0):
            return
        self._emit(LogLevel.info, format, kwargs)

    def warn(self, format: str | None = None, **kwargs: Any) -> None:
        """Emit a warn event: something unexpected that was handled."""
        if _WARN < getattr(self.observer, "_logGate", 0):
            return
        self._emit(LogLevel.warn, format, kwargs)

    def error(self, format: str | None = None, **kwargs: Any) -> None:
        """Emit an error event: an operation failed."""
        if _ERROR < getattr(self.observer, "_logGate", 0):
            return
        self._emit(LogLevel.error, format, kwargs)

    def critical(self, format: str | None = None, **kwargs: Any) -> None:
        """Emit a critical event: the process or a whole service is in trouble."""
        if _CRITICAL < getattr(self.observer, "_logGate", 0):
            return
        self._emit(LogLevel.critical, format, kwargs)


class Operation:
    """The outcome of a ``Logger.failuresHandled`` block."""

    def __init__(self) -> None:
        self.succeeded = False
        self.failure: Failure | None = None

    @property
    def failed(self) -> bool:
        """Whether the block raised (and the error was logged)."""
        return self.failure is not None


class _FailureHandler:
    """Context manager logging and suppressing an Exception raised in its block."""

    __slots__ = ("_logger", "_format", "_level")

    def __init__(self, logger: Logger, format: str, level: LogLevel) -> None:
        self._logger = logger
        self._format = format
        self._level = level

    def __enter__(self) -> None:
        return None

    def __exit__(self, excType: type[BaseException] | None, excValue: BaseException | None,
                 tb: TracebackType | None) -> bool:
        if excValue is None or not isinstance(excValue, Exception):
            return False
        self._logger.failure(self._format, failureFromExcInfo(excType, excValue, tb),
                             self._level)
        return True


def _failure(exc: BaseException | None) -> Failure:
    """A Failure for ``exc``, or for the exception being handled when ``exc`` is None."""
    if exc is None:
        return currentFailure()
    return failureFromException(exc)
