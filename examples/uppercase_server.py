"""A server that greets, shouts one line back in upper case, and hangs up.

Run it:

    python examples/uppercase_server.py [port]   # default port 8000

then ``nc localhost 8000``, read the greeting, type a line and press Enter.
"""

from __future__ import annotations

import sys

from torsion.internet.protocol import Factory
from torsion.protocols.basic import LineReceiver


class Uppercase(LineReceiver):
    """Greets on connect; answers the first line in upper case and closes."""

    delimiter = b"\n"

    def connectionMade(self) -> None:
        self.sendLine(b"Hello! Send me a line and I will shout it back.")

    def lineReceived(self, line: bytes) -> None:
        self.sendLine(line.rstrip(b"\r").upper())
        self.transport.loseConnection()


class UppercaseFactory(Factory):
    """Builds one Uppercase protocol per connection."""

    protocol = Uppercase


def main(argv: list[str]) -> None:
    """Listen on the port given (default 8000) and run until Ctrl-C."""
    from torsion.internet import reactor
    from torsion.python import log

    log.startLogging(sys.stdout)
    port = int(argv[1]) if len(argv) > 1 else 8000
    reactor.listenTCP(port, UppercaseFactory())
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
