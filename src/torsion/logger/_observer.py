"""LogPublisher: fans each event out to a set of observers, surviving observers that raise.

Theory of operation: observers are held in a tuple that is replaced (never mutated) on
add/remove, so an observer may add or remove observers while an event is being delivered.
An observer that raises is reported, as a ``log_failure`` event, to the *other* observers of
the same publisher only, so a broken observer can never feed on its own error reports; when
there is nobody else to tell, the report goes to ``sys.__stderr__``. Each thread may nest
deliveries (an observer that logs) at most ``MAX_DEPTH`` deep; deeper events are dropped, so a
feedback loop ends instead of recursing forever.

Level gate: every publisher keeps ``_logGate``, the index of the least severe LogLevel that
any of its observers could possibly want. A Logger compares the level of a call with its
observer's gate *before* building the event dict, so ``log.debug(...)`` costs one attribute
lookup and one comparison when nothing observes debug. Observers announce their floor with a
``_observedFloor(seen)`` method (filters, publishers); any other observer wants everything.
Gates are recomputed whenever observers are added or removed or a level predicate changes.
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

from ._failure import currentFailure
from ._format import formatTraceback
from ._interfaces import ILogObserver, LogEvent
from ._levels import _ORDER, NOTHING_OBSERVED, LogLevel

__all__ = ["LogPublisher", "observedFloor", "recomputeGates"]

#: How deeply one thread may nest deliveries through a publisher before events are dropped.
MAX_DEPTH = 16

_publishers: weakref.WeakSet[LogPublisher] = weakref.WeakSet()
_gateLock = threading.Lock()


def observedFloor(observer: Callable[[LogEvent], None], seen: set[int] | None = None) -> int:
    """Return the lowest level index ``observer`` may want; 0 (debug) when it does not say.

    ``seen`` holds the ids of publishers already on the path, so cycles end.
    """
    floor = getattr(observer, "_observedFloor", None)
    if floor is None:
        return 0
    if seen is None:
        seen = set()
    if id(observer) in seen:
        return NOTHING_OBSERVED
    seen.add(id(observer))
    try:
        result = floor(seen)
        return result if isinstance(result, int) else 0
    except Exception:
        # Something answering to the name that is not our protocol (a mock, a proxy):
        # assume it wants everything.
        return 0
    finally:
        seen.discard(id(observer))


def recomputeGates() -> None:
    """Recompute the level gate of every live publisher after an observer set changed."""
    with _gateLock:
        for publisher in list(_publishers):
            publisher._logGate = publisher._observedFloor(set())


class _Depth(threading.local):
    """Per-thread nesting depth of deliveries through one publisher."""

    depth = 0


class LogPublisher:
    """An observer that forwards each event to all of its own observers.

    Publishers compose: a publisher is itself an observer and may be added to another.
    """

    def __init__(self, *observers: ILogObserver | Callable[[LogEvent], None]) -> None:
        self._observers: tuple[Callable[[LogEvent], None], ...] = ()
        self._logGate = NOTHING_OBSERVED
        self._local = _Depth()
        self._mutation = threading.Lock()
        self._warnedDepth = False
        _publishers.add(self)
        for observer in observers:
            self.addObserver(observer)
        recomputeGates()

    @property
    def observers(self) -> list[Callable[[LogEvent], None]]:
        """The observers, in the order they receive events (a copy)."""
        return list(self._observers)

    def addObserver(self, observer: ILogObserver | Callable[[LogEvent], None]) -> None:
        """Register ``observer``; adding one already present does nothing.

        Raises TypeError for a non-callable, at once rather than on the first event.
        """
        if not callable(observer):
            raise TypeError(f"Observer is not callable: {observer!r}")
        with self._mutation:
            if observer in self._observers:
                return
            self._observers = (*self._observers, observer)
        recomputeGates()

    def removeObserver(self, observer: ILogObserver | Callable[[LogEvent], None]) -> None:
        """Unregister ``observer``; removing one that is absent does nothing."""
        with self._mutation:
            if observer not in self._observers:
                return
            self._observers = tuple(o for o in self._observers if o != observer)
        recomputeGates()

    def _observedFloor(self, seen: set[int]) -> int:
        """The least severe level index any of this publisher's observers may want."""
        floor = NOTHING_OBSERVED
        for observer in self._observers:
            floor = min(floor, observedFloor(observer, seen))
            if floor == 0:
                break
        return floor

    def wouldObserve(self, level: LogLevel) -> bool:
        """Whether an event at ``level`` could reach any observer, so callers can skip work."""
        return _ORDER[level] >= self._logGate

    def __call__(self, event: LogEvent) -> None:
        """Deliver ``event`` to every observer, reporting any that raises to the others."""
        local = self._local
        depth = local.depth
        if depth >= MAX_DEPTH:
            if not self._warnedDepth:
                self._warnedDepth = True
                _lastResort(self, f"events nested more than {MAX_DEPTH} deep are dropped "
                                  f"(an observer logs from inside observation)")
            return
        trace = event.get("log_trace")
        local.depth = depth + 1
        try:
            broken: list[tuple[Callable[[LogEvent], None], Any]] | None = None
            for observer in self._observers:
                if trace is not None:
                    trace.append((self, observer))
                try:
                    observer(event)
                except Exception:
                    if broken is None:
                        broken = []
                    broken.append((observer, currentFailure()))
            if broken is not None:
                self._reportBroken(broken)
        finally:
            local.depth = depth

    def _reportBroken(self, broken: list[tuple[Callable[[LogEvent], None], Any]]) -> None:
        """Tell the observers that did not raise about those that did."""
        brokenSet = [observer for observer, _ in broken]
        others = [o for o in self._observers if o not in brokenSet]
        import time

        for observer, failure in broken:
            errorEvent: LogEvent = {
                "log_format": "Temporarily disabling observer {observer} due to exception",
                "log_level": LogLevel.critical,
                "log_namespace": __name__,
                "log_source": None,
                "log_logger": None,
                "log_time": time.time(),
                "log_failure": failure,
                "observer": observer,
            }
            delivered = False
            for other in others:
                try:
                    other(errorEvent)
                    delivered = True
                except Exception:
                    pass
            if not delivered:
                _lastResort(observer, failure)


def _lastResort(culprit: object, problem: object) -> None:
    """Write a logging-system problem to the real stderr when no observer can take it.

    ``problem`` is a Failure (an observer raised) or a text.
    """
    stream = sys.__stderr__
    if stream is None:
        return
    try:
        if isinstance(problem, str):
            text = f"{culprit!r}: {problem}\n"
        else:
            text = (f"Temporarily disabling observer {culprit!r} due to exception\n"
                    f"{formatTraceback(problem)}\n")
        stream.write(text)
        stream.flush()
    except Exception:
        pass


#: The process-wide publisher; ``torsion.logger.globalLogPublisher``.
globalLogPublisher = LogPublisher()
