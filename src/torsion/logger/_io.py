"""LoggingFile: a text file object whose lines become log events (for redirected stdout)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from ._levels import LogLevel

if TYPE_CHECKING:
    from ._logger import Logger

__all__ = ["LoggingFile"]


class LoggingFile:
    """File-like object that logs each complete line written to it as one event.

    Installed as ``sys.stdout``/``sys.stderr`` by ``beginLoggingTo(redirectStandardIO=True)``
    so stray prints land in the log; a partial line waits for its newline or ``close()``.
    """

    softspace = 0

    def __init__(self, logger: Logger, level: LogLevel = LogLevel.info,
                 encoding: str | None = None) -> None:
        self.level = level
        self.log = logger
        self._encoding = encoding or "utf-8"
        self._buffer = ""
        self._closed = False

    @property
    def closed(self) -> bool:
        """Whether ``close()`` has been called."""
        return self._closed

    @property
    def encoding(self) -> str:
        """The encoding used to decode bytes written to this file."""
        return self._encoding

    @property
    def mode(self) -> str:
        """Always "w": this file only takes writes."""
        return "w"

    @property
    def newlines(self) -> None:
        """Always None, as for a file opened without universal newlines."""
        return None

    @property
    def name(self) -> str:
        """A descriptive name naming the logger's namespace."""
        return f"<{self.__class__.__name__} {self.log.namespace}#{self.level.name}>"

    def close(self) -> None:
        """Log any partial line, then refuse further writes."""
        if self._buffer:
            self._emit(self._buffer)
            self._buffer = ""
        self._closed = True

    def flush(self) -> None:
        """Do nothing: complete lines are logged as soon as they are written."""

    def fileno(self) -> int:
        """Return -1: there is no file descriptor behind a logging file."""
        return -1

    def isatty(self) -> bool:
        """Return False: this is not a terminal."""
        return False

    def write(self, message: str | bytes) -> int:
        """Buffer ``message`` and log every complete line in it."""
        if self._closed:
            raise ValueError("I/O operation on closed file")
        if isinstance(message, bytes):
            text = message.decode(self._encoding, "replace")
        else:
            text = message
        lines = (self._buffer + text).split("\n")
        self._buffer = lines.pop()
        for line in lines:
            self._emit(line)
        return len(message)

    def writelines(self, lines: Iterable[str | bytes]) -> None:
        """Write each of ``lines`` in turn."""
        for line in lines:
            self.write(line)

    def _emit(self, line: str) -> None:
        self.log.emit(self.level, format="{log_io}", log_io=line)
