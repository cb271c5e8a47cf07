"""The reactor's TLS support (IReactorSSL), mixed into torsion.internet._reactor.Reactor.

TLS runs in the loop's own TLS machinery (``create_server(ssl=...)``,
``create_connection(ssl=...)``); the protocol is connected once the handshake has finished,
so a handshake failure reaches a client factory as clientConnectionFailed with the
``ssl.SSLError`` and is logged (not seen by any protocol) on the server side.  Context
factories come from torsion.internet.ssl.
"""

from __future__ import annotations

import asyncio
from typing import Any

from torsion.internet._tcp import TCPConnector, TCPPort

__all__ = ["SSLMixin"]


class SSLMixin:
    """Reactor methods for TLS over TCP (IReactorSSL); relies on the reactor's _loop."""

    _loop: asyncio.AbstractEventLoop

    def listenSSL(
        self,
        port: int,
        factory: Any,
        contextFactory: Any,
        backlog: int = 50,
        interface: str = "",
        *,
        reusePort: bool = False,
    ) -> TCPPort:
        """Listen for TLS connections; ``contextFactory.getContext()`` gives the server context.

        ``reusePort=True`` shares the port between processes, as for listenTCP.
        """
        p = TCPPort(
            self,
            port,
            factory,
            backlog,
            interface,
            contextFactory.getContext(),
            reusePort=reusePort,
        )
        p.startListening()
        return p

    def connectSSL(
        self,
        host: str,
        port: int,
        factory: Any,
        contextFactory: Any,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> TCPConnector:
        """Connect with TLS; hostname checks follow the context (see optionsForClientTLS)."""
        c = TCPConnector(
            self,
            host,
            port,
            factory,
            timeout,
            bindAddress,
            contextFactory.getContext(),
            getattr(contextFactory, "_hostname", None),
        )
        c.connect()
        return c
