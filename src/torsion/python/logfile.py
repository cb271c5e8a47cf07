"""Log files that rotate: by size (LogFile) or by calendar day (DailyLogFile).

Theory of operation: the live file is ``directory/name``; rotating closes it, renames it
and opens a fresh one. LogFile shifts ``name.1`` → ``name.2`` … (``name.1`` is the newest
rotated file) and deletes files beyond ``maxRotatedFiles``; DailyLogFile renames to
``name.YYYY_M_D`` for the day just ended. The rotation check runs before each write, so a
write is never split across two files. A lock makes write/rotate safe from several threads
(the log publisher may be called from thread-pool threads). Data is written as UTF-8 bytes.
"""

from __future__ import annotations

import glob
import os
import stat
import threading
import time
from typing import Any

__all__ = ["BaseLogFile", "DailyLogFile", "LogFile", "LogReader"]


class LogReader:
    """Reads a (rotated) log file line by line."""

    def __init__(self, name: str) -> None:
        self._file = open(name, encoding="utf-8", errors="replace")

    def readLines(self, lines: int = 10) -> list[str]:
        """Read up to ``lines`` lines; an empty list at the end of the file."""
        result: list[str] = []
        for _ in range(lines):
            line = self._file.readline()
            if not line:
                break
            result.append(line)
        return result

    def close(self) -> None:
        """Close the file."""
        self._file.close()


class BaseLogFile:
    """The live log file ``directory/name``: opening, writing, and the rotation hook.

    ``defaultMode`` (e.g. ``0o600``) is applied to the file when it is opened.
    """

    def __init__(self, name: str, directory: str, defaultMode: int | None = None) -> None:
        self.directory = directory
        self.name = name
        self.path = os.path.join(directory, name)
        if defaultMode is None and os.path.exists(self.path):
            self.defaultMode: int | None = stat.S_IMODE(os.stat(self.path).st_mode)
        else:
            self.defaultMode = defaultMode
        self._lock = threading.RLock()
        self.closed = False
        self._openFile()

    @classmethod
    def fromFullPath(cls, filename: str, *args: Any, **kwargs: Any) -> Any:
        """Make a log file from one path rather than a name and a directory."""
        logPath = os.path.abspath(filename)
        return cls(os.path.basename(logPath), os.path.dirname(logPath), *args, **kwargs)

    def shouldRotate(self) -> bool:
        """Whether the next write should first rotate the file (subclasses decide)."""
        raise NotImplementedError

    def _openFile(self) -> None:
        """Open (creating if needed) the live file for appending."""
        self.closed = False
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT
        mode = self.defaultMode if self.defaultMode is not None else 0o666
        fd = os.open(self.path, flags, mode)
        if self.defaultMode is not None:
            try:
                os.chmod(self.path, self.defaultMode)
            except OSError:
                pass
        self._file = os.fdopen(fd, "ab")
        self._file.seek(0, os.SEEK_END)

    def write(self, data: str | bytes) -> None:
        """Write ``data`` (str is UTF-8 encoded), rotating first if it is time to."""
        with self._lock:
            if self.shouldRotate():
                self.flush()
                self.rotate()
            payload = data.encode("utf-8") if isinstance(data, str) else data
            self._file.write(payload)
            self._wrote(payload)

    def _wrote(self, payload: bytes) -> None:
        """Account for ``payload`` having been written (subclasses track size or date)."""

    def rotate(self) -> None:
        """Start a new live file (subclasses decide what happens to the old one)."""
        raise NotImplementedError

    def flush(self) -> None:
        """Flush buffered data to the operating system."""
        self._file.flush()

    def close(self) -> None:
        """Close the live file."""
        self._file.close()
        self.closed = True

    def reopen(self) -> None:
        """Close and reopen the live file, e.g. after an external tool moved it."""
        with self._lock:
            self.close()
            self._openFile()

    def getCurrentLog(self) -> LogReader:
        """A reader over the live file."""
        self.flush()
        return LogReader(self.path)


class LogFile(BaseLogFile):
    """A log file rotated once it reaches ``rotateLength`` bytes (None: never by size).

    At most ``maxRotatedFiles`` rotated files are kept (None: all of them).
    """

    def __init__(self, name: str, directory: str, rotateLength: int | None = 1000000,
                 defaultMode: int | None = None, maxRotatedFiles: int | None = None) -> None:
        self.rotateLength = rotateLength
        self.maxRotatedFiles = maxRotatedFiles
        super().__init__(name, directory, defaultMode)

    def _openFile(self) -> None:
        super()._openFile()
        self.size = self._file.tell()

    def shouldRotate(self) -> bool:
        """Whether the file has reached ``rotateLength`` bytes."""
        return bool(self.rotateLength and self.size >= self.rotateLength)

    def _wrote(self, payload: bytes) -> None:
        self.size += len(payload)

    def getLog(self, identifier: int) -> LogReader:
        """A reader over rotated file ``name.identifier``; ValueError if it does not exist."""
        filename = f"{self.path}.{identifier}"
        if not os.path.exists(filename):
            raise ValueError(f"no such logfile exists: {filename}")
        return LogReader(filename)

    def listLogs(self) -> list[int]:
        """The numbers of the rotated files that exist, ascending."""
        result: list[int] = []
        for name in glob.glob(glob.escape(self.path) + ".*"):
            suffix = name[len(self.path) + 1:]
            if suffix.isdigit():
                result.append(int(suffix))
        result.sort()
        return result

    def rotate(self) -> None:
        """Shift rotated files up by one, make the live file ``name.1``, start a new one.

        Does nothing if the directory or file cannot be written, so logging carries on.
        """
        with self._lock:
            if not (os.access(self.directory, os.W_OK) and os.access(self.path, os.W_OK)):
                return
            logs = self.listLogs()
            logs.reverse()
            for i in logs:
                if self.maxRotatedFiles is not None and i >= self.maxRotatedFiles:
                    os.remove(f"{self.path}.{i}")
                else:
                    os.rename(f"{self.path}.{i}", f"{self.path}.{i + 1}")
            self._file.close()
            if self.maxRotatedFiles == 0:
                os.remove(self.path)
            else:
                os.rename(self.path, f"{self.path}.1")
            self._openFile()

    def __repr__(self) -> str:
        return f"<LogFile {self.path!r} rotateLength={self.rotateLength!r}>"


class DailyLogFile(BaseLogFile):
    """A log file rotated at the first write of each new (local) day.

    The day's file is renamed to ``name.YYYY_M_D`` (Twisted's suffix, unpadded).
    """

    def _openFile(self) -> None:
        super()._openFile()
        self.lastDate = self.toDate(os.stat(self.path).st_mtime)

    def toDate(self, *args: float) -> tuple[int, int, int]:
        """The local (year, month, day) of a timestamp (default: now)."""
        t = time.localtime(*args)
        return (t.tm_year, t.tm_mon, t.tm_mday)

    def suffix(self, tupledate: tuple[int, ...] | float) -> str:
        """The rotated-file suffix for a date tuple or a timestamp: ``2026_11_21``."""
        if not isinstance(tupledate, tuple):
            tupledate = self.toDate(tupledate)
        return "_".join(map(str, tupledate))

    def shouldRotate(self) -> bool:
        """Whether the day has changed since the last write."""
        return self.toDate() > self.lastDate

    def _wrote(self, payload: bytes) -> None:
        self.lastDate = max(self.lastDate, self.toDate())

    def getLog(self, identifier: tuple[int, ...] | float) -> LogReader:
        """A reader over the file of the day ``identifier`` (the live file for today)."""
        if not isinstance(identifier, tuple):
            identifier = self.toDate(identifier)
        if identifier == self.toDate():
            return self.getCurrentLog()
        filename = f"{self.path}.{self.suffix(identifier)}"
        if not os.path.exists(filename):
            raise ValueError("no such logfile exists")
        return LogReader(filename)

    def rotate(self) -> None:
        """Rename the live file after the day it holds and start a new one.

        If that name is taken (the day was already rotated), keep writing to the live file.
        """
        with self._lock:
            if not (os.access(self.directory, os.W_OK) and os.access(self.path, os.W_OK)):
                return
            newpath = f"{self.path}.{self.suffix(self.lastDate)}"
            if os.path.exists(newpath):
                return
            self._file.close()
            os.rename(self.path, newpath)
            self._openFile()

    def __repr__(self) -> str:
        return f"<DailyLogFile {self.path!r}>"
