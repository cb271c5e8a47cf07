"""Twisted's ``twisted.internet.main`` names: ``installReactor`` and the connection-end reasons.

Code ported from Twisted calls ``torsion.internet.main.installReactor(reactor)`` to make its
own reactor the global one; it is ``torsion.internet.default.installReactor`` (which
raises ReactorAlreadyInstalledError if a reactor is installed already).
``CONNECTION_DONE`` and ``CONNECTION_LOST`` are the Failures Twisted code passes to
``connectionLost`` for a clean and an unclean end.
"""

from __future__ import annotations

from torsion.internet import error
from torsion.internet.default import installReactor
from torsion.internet.protocol import connectionDone
from torsion.python.failure import Failure

__all__ = ["CONNECTION_DONE", "CONNECTION_LOST", "installReactor"]

CONNECTION_DONE: Failure = connectionDone
CONNECTION_LOST: Failure = Failure(error.ConnectionLost())
CONNECTION_LOST.cleanFailure()
