"""The observer interface and the event type shared by every part of torsion.logger."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

__all__ = ["ILogObserver", "LogEvent", "LogTrace"]

#: A log event: a dict with ``log_*`` keys set by the logging system and any others by the caller.
LogEvent = dict[str, Any]

#: A list of ``(logger, observer)`` pairs recorded while an event with ``log_trace`` travels.
LogTrace = list[tuple[object, "ILogObserver"]]


@runtime_checkable
class ILogObserver(Protocol):
    """Something that accepts log events: any callable taking one event dict.

    Observers must not raise; a publisher reports and survives those that do.
    """

    def __call__(self, event: LogEvent, /) -> None:
        """Observe ``event``."""
