"""A blocking raw-socket HTTP client, run in the reactor's thread pool, for integration tests.

The tests check bytes on the wire (pipelining, smuggling, protocol switches), which a real
HTTP client would hide; running it in the thread pool lets the reactor serve meanwhile.
"""

from __future__ import annotations

import socket
from typing import Any

from torsion.internet.threads import deferToThreadPool


def rawRequest(
    reactor: Any, run: Any, port: int, data: bytes, *, until: bytes | None = None, then: bytes = b""
) -> bytes:
    """Send `data` to 127.0.0.1:`port` and return everything read until the server closes.

    With `until`, first read until those bytes have arrived, then send `then` (a client that
    talks after an upgrade); the bytes already read stay at the start of the result.
    """

    def client() -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
            s.sendall(data)
            out = b""
            if until is not None:
                while until not in out:
                    out += s.recv(4096)
                s.sendall(then)
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    return out
                out += chunk

    result: bytes = run(deferToThreadPool(reactor, reactor.getThreadPool(), client), timeout=20)
    return result
