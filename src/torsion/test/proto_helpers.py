"""Twisted's old ``twisted.test.proto_helpers`` import path for the testing fakes.

Twisted moved these to ``twisted.internet.testing`` and keeps this module for old tests;
here the same names come from ``torsion.internet.testing``.
"""

from __future__ import annotations

from torsion.internet.testing import (
    AccumulatingProtocol,
    EventLoggingObserver,
    FakeDatagramTransport,
    LineSendingProtocol,
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
