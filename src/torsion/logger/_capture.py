"""capturedLogs: collect the events published during a ``with`` block (for tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ._interfaces import LogEvent
from ._observer import LogPublisher, globalLogPublisher

__all__ = ["capturedLogs"]


@contextmanager
def capturedLogs(publisher: LogPublisher | None = None) -> Iterator[list[LogEvent]]:
    """Yield a list that receives every event ``publisher`` (default: global) publishes."""
    target = globalLogPublisher if publisher is None else publisher
    events: list[LogEvent] = []
    target.addObserver(events.append)
    try:
        yield events
    finally:
        target.removeObserver(events.append)
