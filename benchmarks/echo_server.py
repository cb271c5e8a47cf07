"""Echo server on the global default reactor, for the side-by-side benchmark.

    python benchmarks/echo_server.py PORT

Run it through ../shared/bench/compare.sh (modes ``echo`` and ``conns``) next to Twisted and
raw uvloop peers; the script prints ratios against the peers measured in the same run.
Logging is off, so the measurement is the reactor and transport alone.
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
    reactor.listenTCP(int(argv[1]), factory, backlog=1024)
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
