"""LimitedHistoryLogObserver: a ring buffer of the most recent events, replayable later."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from ._interfaces import LogEvent

__all__ = ["LimitedHistoryLogObserver"]


class LimitedHistoryLogObserver:
    """Keeps the last ``size`` events so they can be replayed to another observer.

    Bounded so that a process which never starts logging does not grow without limit.
    """

    def __init__(self, size: int = 2**16) -> None:
        self._buffer: deque[LogEvent] = deque(maxlen=size)

    def __call__(self, event: LogEvent) -> None:
        """Remember ``event``, forgetting the oldest one when full."""
        self._buffer.append(event)

    def replayTo(self, otherObserver: Callable[[LogEvent], None]) -> None:
        """Deliver the remembered events, oldest first, to ``otherObserver``."""
        for event in list(self._buffer):
            otherObserver(event)
