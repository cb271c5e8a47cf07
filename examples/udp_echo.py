"""A UDP echo server: every datagram is sent back to where it came from.

Run it:

    python examples/udp_echo.py [port]           # default port 8000

then ``nc -u localhost 8000`` and type a line.  Stop it with Ctrl-C.
"""

from __future__ import annotations

import sys
from typing import Any

from torsion.internet.protocol import DatagramProtocol


class UDPEcho(DatagramProtocol):
    """Answers each datagram with the same bytes."""

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        self.transport.write(datagram, addr)


def main(argv: list[str]) -> None:
    """Bind the UDP port given (default 8000) and run the reactor until Ctrl-C."""
    from torsion.internet import reactor
    from torsion.python import log

    log.startLogging(sys.stdout)
    port = int(argv[1]) if len(argv) > 1 else 8000
    reactor.listenUDP(port, UDPEcho())
    reactor.run()


if __name__ == "__main__":
    main(sys.argv)
