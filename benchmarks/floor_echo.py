"""The memory floor for any echo server on uvloop's transports: a peer for idle_memory.py.

    python benchmarks/floor_echo.py PORT

An asyncio Protocol with one slot (its transport) and nothing else, on uvloop: what a
connection costs before any framework adds a byte.  torsion's transports are adapters over
uvloop's (DESIGN §2), so no torsion figure can go below this one; benchmarks/idle_memory.py
measures it in the same run as Twisted, the plain asyncio peer and torsion.
"""

from __future__ import annotations

import asyncio
import sys

import uvloop


class Echo(asyncio.Protocol):
    """Writes back what it reads; one slot, no instance dict."""

    __slots__ = ("transport",)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[misc]

    def data_received(self, data: bytes) -> None:
        self.transport.write(data)  # type: ignore[attr-defined]


async def main(port: int) -> None:
    """Listen on 127.0.0.1:PORT with Twisted's default backlog (50) until killed."""
    server = await asyncio.get_running_loop().create_server(Echo, "127.0.0.1", port, backlog=50)
    await server.serve_forever()


if __name__ == "__main__":
    uvloop.run(main(int(sys.argv[-1])))
