"""A TCP echo server: everything a client sends comes straight back.

Run it:

    python examples/echo_server.py [port]        # default port 8000

then, in another terminal, ``nc localhost 8000`` (or ``telnet localhost 8000``) and type.
Stop it with Ctrl-C.
"""

from __future__ import annotations

import sys

from torsion.internet.protocol import Factory, Protocol


class Echo(Protocol):
    """Writes every chunk it receives back to the sender."""

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)


class EchoFactory(Factory):
    """Builds one Echo protocol per connection."""

    protocol = Echo


def main(argv: list[str]) -> None:
    """Listen on the port given (default 8000) and run the reactor until Ctrl-C."""
    from torsion.internet import reactor
    from torsion.python import log

    log.startLogging(sys.stdout)
    port = int(argv[1]) if len(argv) > 1 else 8000
    reactor.listenTCP(port, EchoFactory())
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
