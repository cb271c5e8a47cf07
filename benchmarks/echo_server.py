"""Echo server on the global default reactor, for the side-by-side benchmark.

    python benchmarks/echo_server.py PORT

Run it through ../shared/bench/compare.sh (modes ``echo`` and ``conns``) next to Twisted and
raw uvloop peers; the script prints ratios against the peers measured in the same run.
Logging is off, so the measurement is the reactor and transport alone.  The port listens
with Twisted's default backlog (50), as the Twisted peer does: a longer accept queue would
let a burst of connections in faster than the peer can take them, which is not the
reactor's merit (``compare.sh conns`` and benchmarks/idle_memory.py connect in bursts).
"""

from __future__ import annotations

import sys

from torsion.internet.protocol import Factory, Protocol


class Echo(Protocol):
    """Writes back what it reads (the transport's write is the loop's own)."""

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)


def main(argv: list[str]) -> None:
    """Listen on PORT on all interfaces and run until killed."""
    from torsion.internet import reactor

    factory = Factory.forProtocol(Echo)
    factory.noisy = False
    reactor.listenTCP(int(argv[1]), factory)  # Twisted's default backlog, 50
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
