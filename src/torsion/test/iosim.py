"""Twisted's ``twisted.test.iosim`` import path: in-memory connections between protocols.

``connectedServerAndClient`` returns ``(client, server, pump)``; ``pump.flush()`` moves
bytes both ways until nothing is left.  All names come from ``torsion.internet.testing``.
"""

from __future__ import annotations

from torsion.internet.testing import (
    FakeAddress,
    FakeTransport,
    IOPump,
    connect,
    connectedServerAndClient,
    makeFakeClient,
    makeFakeServer,
)

__all__ = [
    "FakeAddress",
    "FakeTransport",
    "IOPump",
    "connect",
    "connectedServerAndClient",
    "makeFakeClient",
    "makeFakeServer",
]
