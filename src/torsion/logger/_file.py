"""File observers: write each event, rendered by a formatter, to a text file."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from ._format import cachedTimeFormatter, formatEventAsClassicLogText, timeFormatClassic
from ._interfaces import LogEvent

__all__ = ["FileLogObserver", "textFileLogObserver"]


class FileLogObserver:
    """Writes ``formatEvent(event)`` to a file and flushes it; events rendering to None or ""
    are skipped, so a formatter can choose to drop events.
    """

    def __init__(self, outFile: IO[Any], formatEvent: Callable[[LogEvent], str | None]) -> None:
        self._outFile = outFile
        self.formatEvent = formatEvent

    def __call__(self, event: LogEvent) -> None:
        """Render and write ``event``."""
        text = self.formatEvent(event)
        if text:
            self._outFile.write(text)
            self._outFile.flush()


def textFileLogObserver(outFile: IO[Any], timeFormat: str | None = timeFormatClassic
                        ) -> FileLogObserver:
    """An observer writing classic ``2026-11-21 10:00:00+0000 [-] text`` lines to ``outFile``.

    ``timeFormat`` is a strftime format (None prints "-"); the default is twistd's.
    """

    formatTime = cachedTimeFormatter(timeFormat)

    def formatWithTime(event: LogEvent) -> str | None:
        return formatEventAsClassicLogText(event, formatTime)

    return FileLogObserver(outFile, formatWithTime)
