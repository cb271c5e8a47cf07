"""The small standard Internet services (RFCs 862-868), as stream protocols.

Echo (RFC 862), Discard (RFC 863), Chargen (RFC 864), QOTD (RFC 865), Who (the "users"
service, RFC 866), Daytime (RFC 867) and Time (RFC 868).  Use them with a plain
``Factory.forProtocol(Echo)``; they are also handy peers in tests.

Daytime and Time read the time from ``clock`` (an ``IReactorTime``, e.g. a
``task.Clock`` in tests) when set, else from the system clock.
"""

from __future__ import annotations

import struct
import time
from typing import TYPE_CHECKING, Any

from torsion.internet import protocol

if TYPE_CHECKING:
    from torsion.internet.interfaces import IReactorTime

__all__ = ["Chargen", "Daytime", "Discard", "Echo", "QOTD", "Time", "Who"]

#: Seconds from 1900-01-01 (RFC 868's epoch) to 1970-01-01 (the Unix epoch).
TIME_EPOCH_OFFSET = 2208988800


class Echo(protocol.Protocol):
    """RFC 862: send back everything received."""

    def dataReceived(self, data: bytes) -> None:
        """Write ``data`` back."""
        self.transport.write(data)


class Discard(protocol.Protocol):
    """RFC 863: throw away everything received."""

    def dataReceived(self, data: bytes) -> None:
        """Ignore ``data``."""


def _chargenBlock() -> bytes:
    """Build one full cycle of RFC 864's pattern: 95 lines of 72 characters.

    The 95 printable ASCII characters (32-126) are used in a ring; line ``i`` starts at
    character ``i``.  One cycle is written per ``resumeProducing``.
    """
    ring = bytes(range(32, 127))
    doubled = ring + ring
    return b"".join(doubled[i : i + 72] + b"\r\n" for i in range(len(ring)))


class Chargen(protocol.Protocol):
    """RFC 864: send characters until the client closes, ignoring what it sends.

    A pull producer: the transport asks for the next block each time its buffer is
    drained, so a slow client never makes the server buffer more than one block.
    """

    noise: bytes = _chargenBlock()

    def connectionMade(self) -> None:
        """Register as the connection's (pull) producer."""
        self.transport.registerProducer(self, False)

    def dataReceived(self, data: bytes) -> None:
        """Ignore ``data`` (RFC 864: received data is thrown away)."""

    def resumeProducing(self) -> None:
        """Write one block of the pattern."""
        self.transport.write(self.noise)

    def pauseProducing(self) -> None:
        """Nothing to do: a pull producer writes only when asked."""

    def stopProducing(self) -> None:
        """Nothing to do: nothing is written unless asked."""


class QOTD(protocol.Protocol):
    """RFC 865: send a quote of the day, then close."""

    def connectionMade(self) -> None:
        """Send the quote and close."""
        self.transport.write(self.getQuote())
        self.transport.loseConnection()

    def getQuote(self) -> bytes:
        """Return the quote to send (override to choose another)."""
        return b"An apple a day keeps the doctor away.\r\n"


class Who(protocol.Protocol):
    """RFC 866 ("Active Users"): send the list of users, then close."""

    def connectionMade(self) -> None:
        """Send the users and close."""
        self.transport.write(self.getUsers())
        self.transport.loseConnection()

    def getUsers(self) -> bytes:
        """Return the users, one per CRLF-terminated line (override to list real ones)."""
        return b"root\r\n"


class _TimeService(protocol.Protocol):
    """A service that sends something derived from the current time, then closes."""

    clock: IReactorTime | None = None

    def _now(self) -> float:
        """Return the current Unix time from ``clock`` or the system."""
        clock: Any = self.clock
        return float(clock.seconds()) if clock is not None else time.time()


class Daytime(_TimeService):
    """RFC 867: send the date and time as text (UTC, ``asctime`` format), then close."""

    def connectionMade(self) -> None:
        """Send the time and close."""
        text = time.asctime(time.gmtime(self._now())) + "\r\n"
        self.transport.write(text.encode("ascii"))
        self.transport.loseConnection()


class Time(_TimeService):
    """RFC 868: send the time as 32-bit big-endian seconds since 1900-01-01, then close.

    The count is unsigned and wraps modulo 2**32 (next in 2036), as the RFC's field does.
    """

    def connectionMade(self) -> None:
        """Send the time and close."""
        seconds = (int(self._now()) + TIME_EPOCH_OFFSET) % (1 << 32)
        self.transport.write(struct.pack("!I", seconds))
        self.transport.loseConnection()
