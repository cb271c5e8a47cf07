"""Talk to the key-value store of kv_store.py: missing keys arrive as errbacks.

Start the server first (``python examples/kv_store.py 8000``), then run:

    python examples/kv_client.py [port]          # default port 8000

It sets a key, reads it back, reads a key that is not there (the Deferred fails with
KeyError, handled by an errback), lets an expiring key time out, and exits.
"""

from __future__ import annotations

import sys
from typing import Any

from kv_store import KVClient

from torsion.internet import task
from torsion.internet.defer import Deferred


async def demo(reactor: Any, port: str = "8000") -> None:
    """Run the conversation with the server on ``port``."""
    from torsion.internet.endpoints import TCP4ClientEndpoint, connectProtocol

    endpoint = TCP4ClientEndpoint(reactor, "127.0.0.1", int(port))
    client = await connectProtocol(endpoint, KVClient())

    await client.set(b"colour", b"blue")
    print("colour =", (await client.get(b"colour")).decode())

    def missing(failure: Any) -> bytes:
        failure.trap(KeyError)
        print("no such key:", failure.value.args[0].decode())
        return b""

    await client.get(b"no-such-key").addErrback(missing)

    await client.set(b"token", b"abc", ttl=2)  # long enough for a loaded machine
    print("token =", (await client.get(b"token")).decode())
    await task.deferLater(reactor, 2.2, lambda: None)
    await client.get(b"token").addErrback(missing)
    client.transport.loseConnection()


def main(argv: list[str]) -> None:
    """Run the demo on the global reactor and exit when it is done."""
    task.react(lambda reactor, *args: Deferred.fromCoroutine(demo(reactor, *args)), argv[1:])


if __name__ == "__main__":
    main(sys.argv)
