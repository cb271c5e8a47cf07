"""Twisted's old ``twisted.test.proto_helpers`` import path for the testing fakes.

Twisted moved these to ``twisted.internet.testing`` and keeps this module for old tests;
here the same names come from ``torsion.internet.testing``.  Two small helpers that module
does not have are defined here: ``LineSendingProtocol`` (sends lines on connect or on the
first line received, records what it receives) and ``FakeDatagramTransport`` (records
``write(packet, addr)`` calls).
"""

from __future__ import annotations

from typing import Any

from torsion.internet.testing import (
    AccumulatingProtocol,
    EventLoggingObserver,
    MemoryReactor,
    MemoryReactorClock,
    NonStreamingProducer,
    RaisingMemoryReactor,
    StringIOWithoutClosing,
    StringTransport,
    StringTransportWithDisconnection,
    _FakeConnector,
    _FakePort,
    waitUntilAllDisconnected,
)
from torsion.protocols.basic import LineReceiver
from torsion.python.failure import Failure

__all__ = [
    "AccumulatingProtocol",
    "LineSendingProtocol",
    "FakeDatagramTransport",
    "StringTransport",
    "StringTransportWithDisconnection",
    "StringIOWithoutClosing",
    "_FakeConnector",
    "_FakePort",
    "MemoryReactor",
    "MemoryReactorClock",
    "RaisingMemoryReactor",
    "NonStreamingProducer",
    "waitUntilAllDisconnected",
    "EventLoggingObserver",
]


class LineSendingProtocol(LineReceiver):
    """Sends ``lines`` when connected (``start=True``) or in reply to the first line.

    Every line received is appended to ``response``; ``lostConn`` turns True when the
    connection ends.
    """

    lostConn = False

    def __init__(self, lines: list[bytes], start: bool = True) -> None:
        self.lines = list(lines)
        self.response: list[bytes] = []
        self.start = start

    def connectionMade(self) -> None:
        if self.start:
            for line in self.lines:
                self.sendLine(line)

    def lineReceived(self, line: bytes) -> None:
        if not self.start:
            for toSend in self.lines:
                self.sendLine(toSend)
            self.lines = []
        self.response.append(line)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.lostConn = True


class FakeDatagramTransport:
    """A UDP transport that records each ``write(packet, addr)`` in ``written``.

    A write without an address records ``FakeDatagramTransport.noAddr`` as its address.
    """

    noAddr: Any = object()

    def __init__(self) -> None:
        self.written: list[tuple[bytes, Any]] = []

    def write(self, packet: bytes, addr: Any = noAddr) -> None:
        self.written.append((packet, addr))
