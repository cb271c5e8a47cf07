"""An IBodyProducer for a request body already in memory.

Its own small module so that the XML-RPC Proxy and the client short forms (getPage, get,
post) share it without the server-side xmlrpc module importing the HTTP client.
"""

from __future__ import annotations

from typing import Any

from torsion.internet.defer import Deferred, succeed


class _BytesProducer:
    """An IBodyProducer for a body already in memory: written whole on startProducing."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self.length = len(body)

    def startProducing(self, consumer: Any) -> Deferred[None]:
        consumer.write(self._body)
        return succeed(None)

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass

    def stopProducing(self) -> None:
        pass
