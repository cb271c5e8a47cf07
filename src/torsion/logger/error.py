"""Errors raised by torsion.logger.

Hierarchy::

    Exception
     └─ LoggerError                  base of every torsion.logger error
         ├─ InvalidLogLevelError     a level name or object that is not a LogLevel
         └─ JSONLogFileError         a JSON log record that cannot be decoded
"""

from __future__ import annotations

__all__ = ["InvalidLogLevelError", "JSONLogFileError", "LoggerError"]


class LoggerError(Exception):
    """Base class of every error raised by torsion.logger, so callers can catch them all."""


class InvalidLogLevelError(LoggerError):
    """A name or object given as a log level is not one of the LogLevel members."""

    def __init__(self, level: object) -> None:
        super().__init__(str(level))
        self.level = level


class JSONLogFileError(LoggerError):
    """A record of a JSON log file could not be decoded into an event."""
