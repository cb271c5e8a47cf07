"""Tests for the stdlib logging bridges: STDLibLogObserver and STDLibLogHandler."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from torsion.logger import (
    Logger,
    LogLevel,
    LogPublisher,
    STDLibLogHandler,
    STDLibLogObserver,
    formatEvent,
)


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def stdlibLogger() -> Iterator[tuple[logging.Logger, _ListHandler]]:
    logger = logging.getLogger("torsion-test-bridge")
    handler = _ListHandler()
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    yield logger, handler
    logger.removeHandler(handler)


def test_observerMapsLevelsAndText(stdlibLogger: tuple[logging.Logger, _ListHandler]) -> None:
    """Torsion events become stdlib records with the mapped level and the rendered text."""
    _, handler = stdlibLogger
    log = Logger(observer=LogPublisher(STDLibLogObserver("torsion-test-bridge")))
    log.warn("hot {t}", t=90)
    (record,) = handler.records
    assert record.levelno == logging.WARNING
    assert record.getMessage() == "hot 90"


def test_observerPassesFailureAsExcInfo(
        stdlibLogger: tuple[logging.Logger, _ListHandler]) -> None:
    """A log_failure becomes the record's exc_info."""
    _, handler = stdlibLogger
    log = Logger(observer=LogPublisher(STDLibLogObserver("torsion-test-bridge")))
    try:
        raise ValueError("v")
    except ValueError:
        log.failure("broke")
    (record,) = handler.records
    assert record.levelno == logging.CRITICAL
    assert record.exc_info is not None and record.exc_info[0] is ValueError


def test_observerSkipsDisabledLevel(stdlibLogger: tuple[logging.Logger, _ListHandler]) -> None:
    """Events below the stdlib logger's level make no record."""
    logger, handler = stdlibLogger
    logger.setLevel(logging.ERROR)
    Logger(observer=LogPublisher(STDLibLogObserver("torsion-test-bridge"))).info("x")
    assert handler.records == []


def test_handlerPublishesRecords() -> None:
    """STDLibLogHandler turns stdlib records into torsion events."""
    events: list[dict[str, Any]] = []
    logger = logging.getLogger("torsion-test-handler")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = STDLibLogHandler(LogPublisher(events.append))
    logger.addHandler(handler)
    try:
        logger.info("n=%d", 4)
        try:
            raise KeyError("k")
        except KeyError:
            logger.exception("failed")
        logger.log(25, "custom")
    finally:
        logger.removeHandler(handler)
    assert formatEvent(events[0]) == "n=4"
    assert events[0]["log_namespace"] == "torsion-test-handler"
    assert events[0]["log_level"] is LogLevel.info
    assert events[1]["log_level"] is LogLevel.error
    assert events[1]["log_failure"].check(KeyError)
    assert events[2]["log_level"] is LogLevel.info


def test_bridgesTogetherDoNotLoop() -> None:
    """With both bridges installed, an event crosses once in each direction and stops."""
    events: list[dict[str, Any]] = []
    publisher = LogPublisher(events.append)
    publisher.addObserver(STDLibLogObserver("torsion-test-loop"))
    logger = logging.getLogger("torsion-test-loop")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler = STDLibLogHandler(publisher)
    logger.addHandler(handler)
    try:
        Logger(observer=publisher).info("from torsion")
        logger.info("from stdlib")
    finally:
        logger.removeHandler(handler)
    assert [formatEvent(e) for e in events] == ["from torsion", "from stdlib"]
