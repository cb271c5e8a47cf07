"""The reactor's UDP support, mixed into torsion.internet._reactor.Reactor.

Work in progress in this session: filled by the transport work (issue 3).
"""

import asyncio


class UDPMixin:
    """Reactor methods for UDP; relies on the reactor's _loop."""

    _loop: asyncio.AbstractEventLoop
