"""A server that counts its clients: shared state lives on the factory.

Run it:

    python examples/client_counter.py [port]     # default port 8000

Each client that connects is told its number and how many are connected right now;
``nc localhost 8000`` from two terminals shows the count change.
"""

from __future__ import annotations

import sys
from typing import Any

from torsion.internet.protocol import Factory, Protocol


class Counted(Protocol):
    """Tells the client its number and the current count; keeps the count right on close."""

    factory: CounterFactory

    def connectionMade(self) -> None:
        self.factory.current += 1
        self.factory.total += 1
        self.transport.write(
            f"You are client #{self.factory.total}; "
            f"{self.factory.current} connected now.\n".encode()
        )

    def connectionLost(self, reason: Any = None) -> None:
        self.factory.current -= 1


class CounterFactory(Factory):
    """Holds the counts shared by all connections."""

    protocol = Counted

    def __init__(self) -> None:
        self.current = 0
        self.total = 0


def main(argv: list[str]) -> None:
    """Listen on the port given (default 8000) and run until Ctrl-C."""
    from torsion.internet import reactor
    from torsion.python import log

    log.startLogging(sys.stdout)
    port = int(argv[1]) if len(argv) > 1 else 8000
    reactor.listenTCP(port, CounterFactory())
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
