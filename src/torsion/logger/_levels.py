"""Log levels: the five severities an event may carry, ordered from least to most severe."""

from __future__ import annotations

import enum
from collections.abc import Iterator

from .error import InvalidLogLevelError

__all__ = ["LogLevel"]


class LogLevel(enum.Enum):
    """The severity of a log event, ordered so that ``LogLevel.debug < LogLevel.critical``.

    Members are ordered so filters can compare them; the value is the level's name so that
    JSON logs and configuration files spell them the way Twisted does.
    """

    debug = "debug"
    info = "info"
    warn = "warn"
    error = "error"
    critical = "critical"

    @classmethod
    def levelWithName(cls, name: str) -> LogLevel:
        """Return the level called ``name``, so configuration strings map to levels.

        Raises InvalidLogLevelError for a name that is not a level.
        """
        try:
            return cls[name]
        except KeyError:
            raise InvalidLogLevelError(name) from None

    @classmethod
    def lookupByName(cls, name: str) -> LogLevel:
        """Twisted's constants API for ``levelWithName``; ValueError for an unknown name."""
        try:
            return cls[name]
        except KeyError:
            raise ValueError(name) from None

    @classmethod
    def iterconstants(cls) -> Iterator[LogLevel]:
        """Twisted's constants API: the levels from least to most severe."""
        return iter(cls)

    @property
    def _index(self) -> int:
        return _ORDER[self]

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, LogLevel):
            return NotImplemented
        return _ORDER[self] < _ORDER[other]

    def __le__(self, other: object) -> bool:
        if not isinstance(other, LogLevel):
            return NotImplemented
        return _ORDER[self] <= _ORDER[other]

    def __gt__(self, other: object) -> bool:
        if not isinstance(other, LogLevel):
            return NotImplemented
        return _ORDER[self] > _ORDER[other]

    def __ge__(self, other: object) -> bool:
        if not isinstance(other, LogLevel):
            return NotImplemented
        return _ORDER[self] >= _ORDER[other]


_ORDER: dict[LogLevel, int] = {level: index for index, level in enumerate(LogLevel)}

#: Gate value meaning "nothing is observed": above every level's index.
NOTHING_OBSERVED = len(_ORDER)
