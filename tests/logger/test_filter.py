"""Tests for FilteringLogObserver, LogLevelFilterPredicate and LimitedHistoryLogObserver."""

from __future__ import annotations

from typing import Any

import pytest

from torsion.logger import (
    FilteringLogObserver,
    InvalidLogLevelError,
    LimitedHistoryLogObserver,
    LogLevel,
    LogLevelFilterPredicate,
    LogPublisher,
    PredicateResult,
)


def _event(level: LogLevel, namespace: str = "a.b") -> dict[str, Any]:
    return {"log_level": level, "log_namespace": namespace}


def test_levelWithName() -> None:
    """levelWithName maps a name to its level and rejects unknown names."""
    assert LogLevel.levelWithName("warn") is LogLevel.warn
    with pytest.raises(InvalidLogLevelError):
        LogLevel.levelWithName("loud")


def test_levelsAreOrdered() -> None:
    """Levels compare from debug (least) to critical (most severe)."""
    assert LogLevel.debug < LogLevel.info < LogLevel.warn < LogLevel.error < LogLevel.critical
    assert LogLevel.error >= LogLevel.error


def test_predicateDefaultLevelIsInfo() -> None:
    """The default minimum is info: debug is dropped, info may pass."""
    predicate = LogLevelFilterPredicate()
    assert predicate(_event(LogLevel.debug)) is PredicateResult.no
    assert predicate(_event(LogLevel.info)) is PredicateResult.maybe


def test_predicateNamespaceInheritsFromParent() -> None:
    """A namespace without its own level uses its nearest dotted parent's."""
    predicate = LogLevelFilterPredicate()
    predicate.setLogLevelForNamespace("a", LogLevel.error)
    assert predicate.logLevelForNamespace("a.b.c") is LogLevel.error
    assert predicate.logLevelForNamespace("ab") is LogLevel.info
    assert predicate(_event(LogLevel.warn)) is PredicateResult.no


def test_predicateChildOverridesParent() -> None:
    """A child namespace's own level wins over its parent's."""
    predicate = LogLevelFilterPredicate()
    predicate.setLogLevelForNamespace("a", LogLevel.error)
    predicate.setLogLevelForNamespace("a.b", LogLevel.debug)
    assert predicate(_event(LogLevel.debug)) is PredicateResult.maybe


def test_predicateClearLogLevels() -> None:
    """clearLogLevels forgets namespace levels (and cached lookups)."""
    predicate = LogLevelFilterPredicate()
    predicate.setLogLevelForNamespace("a", LogLevel.error)
    predicate.logLevelForNamespace("a.b")
    predicate.clearLogLevels()
    assert predicate.logLevelForNamespace("a.b") is LogLevel.info


def test_predicateSetDefaultWithNoneNamespace() -> None:
    """Setting the level of namespace None changes the default."""
    predicate = LogLevelFilterPredicate()
    predicate.setLogLevelForNamespace(None, LogLevel.critical)
    assert predicate.defaultLogLevel is LogLevel.critical


def test_predicateRejectsNonLevel() -> None:
    """Setting something that is not a LogLevel raises InvalidLogLevelError."""
    with pytest.raises(InvalidLogLevelError):
        LogLevelFilterPredicate().setLogLevelForNamespace("a", "info")  # type: ignore[arg-type]


def test_predicateDropsEventWithoutLevel() -> None:
    """An event with no level is dropped."""
    assert LogLevelFilterPredicate()({"log_namespace": "x"}) is PredicateResult.no


def test_filteringRoutesNegativeEvents() -> None:
    """Events failing the predicates go to the negative observer."""
    kept: list[Any] = []
    dropped: list[Any] = []
    observer = FilteringLogObserver(kept.append, [LogLevelFilterPredicate(LogLevel.warn)],
                                    dropped.append)
    observer(_event(LogLevel.info))
    observer(_event(LogLevel.error))
    assert [e["log_level"] for e in kept] == [LogLevel.error]
    assert [e["log_level"] for e in dropped] == [LogLevel.info]


def test_filteringYesShortCircuits() -> None:
    """A predicate answering yes delivers the event without asking later predicates."""
    kept: list[Any] = []
    observer = FilteringLogObserver(
        kept.append,
        [lambda e: PredicateResult.yes, lambda e: PredicateResult.no],
    )
    observer({})
    assert len(kept) == 1


def test_filteringInvalidPredicateResultRaises() -> None:
    """A predicate returning something other than a PredicateResult is a TypeError."""
    observer = FilteringLogObserver(lambda e: None, [lambda e: True])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        observer({})


def test_negativeObserverOpensGate() -> None:
    """A filter with a negative observer sees every level, so the gate stays open."""
    publisher = LogPublisher(FilteringLogObserver(
        lambda e: None, [LogLevelFilterPredicate(LogLevel.error)], lambda e: None))
    assert publisher.wouldObserve(LogLevel.debug)


def test_unknownPredicateOpensGate() -> None:
    """A predicate that does not announce a floor keeps every level observed."""
    publisher = LogPublisher(FilteringLogObserver(
        lambda e: None, [lambda e: PredicateResult.maybe]))
    assert publisher.wouldObserve(LogLevel.debug)


def test_levelFilterSetsGate() -> None:
    """A level filter makes the publisher skip levels below its lowest namespace level."""
    predicate = LogLevelFilterPredicate(LogLevel.warn)
    publisher = LogPublisher(FilteringLogObserver(lambda e: None, [predicate]))
    assert not publisher.wouldObserve(LogLevel.info)
    assert publisher.wouldObserve(LogLevel.warn)
    predicate.defaultLogLevel = LogLevel.debug
    assert publisher.wouldObserve(LogLevel.debug)


def test_limitedHistoryKeepsNewest() -> None:
    """LimitedHistoryLogObserver keeps only the last `size` events and replays them in order."""
    history = LimitedHistoryLogObserver(size=2)
    for i in range(3):
        history({"i": i})
    replayed: list[Any] = []
    history.replayTo(replayed.append)
    assert [e["i"] for e in replayed] == [1, 2]


def test_constantsApi() -> None:
    """iterconstants and lookupByName work as on Twisted's NamedConstants."""
    assert list(LogLevel.iterconstants())[0] is LogLevel.debug
    assert LogLevel.lookupByName("critical") is LogLevel.critical
    with pytest.raises(ValueError):
        LogLevel.lookupByName("nope")
