"""Several clients at once, joined by a DeferredList that stops the reactor.

Start an echo server (``python examples/echo_server.py 8000``), then run:

    python examples/multi_client.py [port] [clients]     # defaults: 8000, 5

Each client sends a greeting and waits for its echo; a DeferredList fires once all of them
are done (or failed), prints what each got, and stops the reactor.
"""

from __future__ import annotations

import sys
from typing import Any

from torsion.internet.defer import Deferred, DeferredList
from torsion.internet.protocol import ClientFactory, Protocol


class Greeter(Protocol):
    """Sends its greeting, waits for all of it to come back, then hangs up."""

    factory: GreeterFactory

    def connectionMade(self) -> None:
        self.received = b""
        self.transport.write(self.factory.greeting)

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if len(self.received) >= len(self.factory.greeting):
            self.transport.loseConnection()
            if not self.factory.done.called:
                self.factory.done.callback(self.received)


class GreeterFactory(ClientFactory):
    """One client: ``done`` fires with the echo, or fails if connecting failed."""

    protocol = Greeter

    def __init__(self, greeting: bytes) -> None:
        self.greeting = greeting
        self.done: Deferred[bytes] = Deferred()

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        if not self.done.called:
            self.done.errback(reason)


def startClients(reactor: Any, port: int, count: int) -> DeferredList:
    """Connect ``count`` clients to ``port``; return the DeferredList of their echoes."""
    waits = []
    for i in range(count):
        factory = GreeterFactory(f"hello from client {i}".encode())
        reactor.connectTCP("127.0.0.1", port, factory)
        waits.append(factory.done)
    return DeferredList(waits, consumeErrors=True)


def main(argv: list[str]) -> None:
    """Run the clients on the global reactor; exit once the DeferredList has fired."""
    from torsion.internet import reactor

    port = int(argv[1]) if len(argv) > 1 else 8000
    count = int(argv[2]) if len(argv) > 2 else 5

    def report(results: list[tuple[bool, Any]]) -> None:
        for ok, value in results:
            print("ok:" if ok else "failed:", value.decode() if ok else value.getErrorMessage())
        reactor.stop()

    startClients(reactor, port, count).addCallback(report)
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
