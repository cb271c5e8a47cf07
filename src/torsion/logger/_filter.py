"""Filtering observers: pass an event on only when every predicate lets it through.

A predicate answers yes (deliver now, skip the remaining predicates), no (drop), or maybe
(ask the next predicate; deliver if all say maybe). LogLevelFilterPredicate drops events
below a minimum level, configurable per namespace with dotted-prefix inheritance, and
announces that minimum to the level gate (see _observer) so filtered-out calls cost nothing.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable

from ._interfaces import ILogObserver, LogEvent
from ._levels import _ORDER, NOTHING_OBSERVED, LogLevel
from ._observer import observedFloor, recomputeGates

__all__ = ["FilteringLogObserver", "ILogFilterPredicate", "LogLevelFilterPredicate",
           "PredicateResult", "shouldLogEvent"]


class PredicateResult(enum.Enum):
    """The answer of a filter predicate about one event."""

    yes = "yes"
    no = "no"
    maybe = "maybe"


ILogFilterPredicate = Callable[[LogEvent], PredicateResult]


def shouldLogEvent(predicates: Iterable[ILogFilterPredicate], event: LogEvent) -> bool:
    """Whether ``event`` passes ``predicates``: the first yes or no decides; all maybe passes."""
    for predicate in predicates:
        result = predicate(event)
        if result is PredicateResult.yes:
            return True
        if result is PredicateResult.no:
            return False
        if result is not PredicateResult.maybe:
            raise TypeError(f"Invalid predicate result: {result!r}")
    return True


def _ignore(event: LogEvent) -> None:
    """The default negative observer: drop the event."""


class FilteringLogObserver:
    """Forwards events that pass the predicates to ``observer``, others to ``negativeObserver``.
    """

    def __init__(self, observer: ILogObserver | Callable[[LogEvent], None],
                 predicates: Iterable[ILogFilterPredicate],
                 negativeObserver: ILogObserver | Callable[[LogEvent], None] = _ignore) -> None:
        self._observer = observer
        self._shouldLogEvent = list(predicates)
        self._negativeObserver = negativeObserver

    def __call__(self, event: LogEvent) -> None:
        """Route ``event`` by the predicates."""
        if shouldLogEvent(self._shouldLogEvent, event):
            if "log_trace" in event:
                event["log_trace"].append((self, self._observer))
            self._observer(event)
        else:
            self._negativeObserver(event)

    def _observedFloor(self, seen: set[int]) -> int:
        """The least severe level index that can get through to either observer."""
        if self._negativeObserver is not _ignore:
            return 0
        floor = 0
        for predicate in self._shouldLogEvent:
            predicateFloor = getattr(predicate, "_observedFloor", None)
            if predicateFloor is None:
                return 0
            floor = max(floor, int(predicateFloor(seen)))
        return max(floor, observedFloor(self._observer, seen))


class LogLevelFilterPredicate:
    """Drops events below the minimum level set for their namespace (or its dotted parents).

    Namespaces without their own level inherit the nearest parent's, then the default.
    """

    def __init__(self, defaultLogLevel: LogLevel = LogLevel.info) -> None:
        self._logLevelsByNamespace: dict[str, LogLevel] = {}
        self.defaultLogLevel = defaultLogLevel
        self._cache: dict[str, LogLevel] = {}

    @property
    def defaultLogLevel(self) -> LogLevel:
        """The level for namespaces with no level of their own."""
        return self._default

    @defaultLogLevel.setter
    def defaultLogLevel(self, level: LogLevel) -> None:
        self._default = level
        self._changed()

    def _changed(self) -> None:
        """Forget cached lookups and refresh level gates after a configuration change."""
        self._cache = {}
        recomputeGates()

    def logLevelForNamespace(self, namespace: str | None) -> LogLevel:
        """The minimum level for ``namespace``, inherited through dotted parents."""
        if not namespace:
            return self._default
        cached = self._cache.get(namespace)
        if cached is not None:
            return cached
        level = self._default
        segments = namespace.split(".")
        for end in range(len(segments), 0, -1):
            candidate = ".".join(segments[:end])
            if candidate in self._logLevelsByNamespace:
                level = self._logLevelsByNamespace[candidate]
                break
        self._cache[namespace] = level
        return level

    def setLogLevelForNamespace(self, namespace: str | None, level: LogLevel) -> None:
        """Set the minimum level for ``namespace`` and its children; None sets the default."""
        if not isinstance(level, LogLevel):
            from .error import InvalidLogLevelError

            raise InvalidLogLevelError(level)
        if namespace:
            self._logLevelsByNamespace[namespace] = level
            self._changed()
        else:
            self.defaultLogLevel = level

    def clearLogLevels(self) -> None:
        """Forget every namespace's level; the default level stays."""
        self._logLevelsByNamespace.clear()
        self._changed()

    def __call__(self, event: LogEvent) -> PredicateResult:
        """No for events below their namespace's level (or without a level), else maybe."""
        level = event.get("log_level")
        if level is None or not isinstance(level, LogLevel):
            return PredicateResult.no
        if level < self.logLevelForNamespace(event.get("log_namespace")):
            return PredicateResult.no
        return PredicateResult.maybe

    def _observedFloor(self, seen: set[int]) -> int:
        """The least severe level index this predicate may let through."""
        levels = [self._default, *self._logLevelsByNamespace.values()]
        return min((_ORDER[level] for level in levels), default=NOTHING_OBSERVED)
