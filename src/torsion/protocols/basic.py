"""Framing for stream protocols: lines, netstrings and length-prefixed strings.

A stream transport delivers bytes in chunks whose boundaries mean nothing; the receivers
here cut the stream into messages and call one method per message:

- ``LineReceiver.lineReceived(line)`` for delimiter-terminated lines, with a raw mode
  (``rawDataReceived``) that can be switched on and off between lines;
- ``LineOnlyReceiver.lineReceived(line)``, a simpler and faster receiver with no raw mode;
- ``NetstringReceiver.stringReceived(s)`` for ``<length>:<bytes>,`` netstrings;
- ``Int8/16/32StringReceiver.stringReceived(s)`` for big-endian length-prefixed strings.

``FileSender`` is a pull producer that streams a file to a consumer.

Theory of operation (LineReceiver): bytes accumulate in ``_buffer``; ``_start`` is the
offset of the first byte not yet delivered.  Lines are cut with ``bytes.split`` over a
window of the buffer starting at ``_start`` (the last piece, not followed by a delimiter,
waits for more data) and delivered one by one; after each, ``_start`` moves past it.  If
the handler changed anything that affects parsing (switched to raw mode, paused, changed
the delimiter, cleared the buffer, fed data re-entrantly), the rest of the window is
dropped and parsing resumes from ``_start`` under the new state, so a protocol switching
to raw mode inside ``lineReceived`` gets the rest of the same chunk raw.  The window grows
while nothing changes and shrinks when something does, so many small lines cost one C
``split`` per window and a mode switch per message wastes little.  The consumed prefix is
cut off once per ``dataReceived`` call, not once per line.

Limits are bounded by default: a line longer than ``MAX_LENGTH`` calls
``lineLengthExceeded`` (by default the connection is closed), a netstring or prefixed
string longer than ``MAX_LENGTH`` is refused before its payload is buffered.

Errors::

    ValueError
     └─ NetstringParseError    malformed netstring from the peer (connection closed)
    Exception
     └─ IncompleteNetstring    not enough data to finish a netstring (internal signal)
    AssertionError
     └─ StringTooLongError     sendString() of a string too long for the length prefix
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from torsion.internet import protocol
from torsion.logger import Logger

if TYPE_CHECKING:
    from torsion.internet.defer import Deferred

__all__ = [
    "FileSender",
    "IncompleteNetstring",
    "Int8StringReceiver",
    "Int16StringReceiver",
    "Int32StringReceiver",
    "IntNStringReceiver",
    "LineOnlyReceiver",
    "LineReceiver",
    "NetstringParseError",
    "NetstringReceiver",
    "StringTooLongError",
]

_log = Logger()

class NetstringParseError(ValueError):
    """The incoming data is not in valid Netstring format."""


class IncompleteNetstring(Exception):
    """Not enough data to complete a netstring."""


class StringTooLongError(AssertionError):
    """Raised when trying to send a string too long for a length prefixed protocol."""


class _PauseableMixin:
    """Pause message delivery when the protocol pauses its transport's reading.

    While ``paused`` is set the receivers keep what they have buffered; resuming delivers
    it before new data is read.
    """

    paused: bool = False
    transport: Any

    def dataReceived(self, data: bytes) -> None:
        """Deliver buffered and new data (implemented by the receivers)."""
        raise NotImplementedError

    def pauseProducing(self) -> None:
        """Stop delivering messages and stop the transport reading."""
        self.paused = True
        self.transport.pauseProducing()

    def resumeProducing(self) -> None:
        """Deliver the buffered messages, then let the transport read again."""
        self.paused = False
        self.transport.resumeProducing()
        self.dataReceived(b"")

    def stopProducing(self) -> None:
        """Stop delivering messages for good and stop the transport."""
        self.paused = True
        self.transport.stopProducing()


#: Most bytes of buffer LineReceiver splits into lines at a time (see ``_deliver``).
_WINDOW = 16384
#: The first window of each delivery; doubled while the handler changes nothing.
_FIRST_WINDOW = 512


class LineReceiver(protocol.Protocol, _PauseableMixin):
    """A protocol that receives lines and/or raw data, depending on mode.

    In line mode each ``delimiter``-terminated line (without the delimiter) is passed to
    ``lineReceived``.  ``setRawMode()`` makes later data go to ``rawDataReceived`` as it
    arrives; ``setLineMode(extra)`` goes back, feeding ``extra`` (the bytes after a raw
    payload) through line parsing.  A line longer than ``MAX_LENGTH`` calls
    ``lineLengthExceeded``, which closes the connection unless overridden.
    """

    line_mode: int = 1
    _buffer: bytes = b""
    _start: int = 0
    _busyReceiving: bool = False
    delimiter: bytes = b"\r\n"
    MAX_LENGTH: int = 16384

    def clearLineBuffer(self) -> bytes:
        """Clear buffered data and return what was there (not yet delivered)."""
        data = self._buffer[self._start :]
        self._buffer = b""
        self._start = 0
        return data

    def dataReceived(self, data: bytes) -> Any:
        """Split ``data`` into lines (or raw data) and deliver them; see the module doc."""
        if self._busyReceiving:
            self._buffer += data
            return None
        self._busyReceiving = True
        try:
            if self._buffer:
                self._buffer += data
            else:
                self._buffer = data
                self._start = 0
            return self._deliver()
        finally:
            if self._start:
                self._buffer = self._buffer[self._start :]
                self._start = 0
            self._busyReceiving = False

    def _deliver(self) -> Any:
        """Deliver complete lines and raw data from ``_buffer[_start:]`` until none is left.

        Lines are cut with one ``bytes.split`` over a window of the buffer (a C loop, much
        cheaper per line than a ``find`` each).  The window starts at ``_FIRST_WINDOW``
        bytes and doubles, up to ``_WINDOW``, each time the handler consumed a whole window
        without changing the state; a change resets it.  So a chunk of many lines is split
        in a few large windows, while a protocol switching modes on every message wastes
        at most a small window per switch.  A line longer than the window is found with
        ``find`` over the whole buffer.

        After each line the state the handler could have changed is checked (the buffer
        object, which every change to the buffer replaces, the delimiter, the mode, the
        paused flag); any change sends control back to the outer loop, which reads the
        state afresh.  Returns whatever true value a handler returned to stop processing
        (Twisted code may return a reason from ``lineReceived``).
        """
        window = _FIRST_WINDOW
        while not self.paused:
            buf = self._buffer
            start = self._start
            size = len(buf)
            if start >= size:
                return None
            if not self.line_mode:
                self._buffer = b""
                self._start = 0
                why = self.rawDataReceived(buf[start:] if start else buf)
                if why:
                    return why
                continue
            delimiter = self.delimiter
            delimiterLength = len(delimiter)
            maxLength = self.MAX_LENGTH
            if start == 0 and size <= window:
                lines = buf.split(delimiter)
            else:
                lines = buf[start : start + window].split(delimiter)
            lines.pop()  # no delimiter after it (within the window): not a line yet
            if not lines:
                end = buf.find(delimiter, start)
                if end < 0:
                    if size - start >= maxLength + delimiterLength:
                        return self.lineLengthExceeded(self.clearLineBuffer())
                    return None
                lines = [buf[start:end]]
            transport = self.transport
            for line in lines:
                if len(line) > maxLength:
                    return self.lineLengthExceeded(self.clearLineBuffer())
                start += len(line) + delimiterLength
                self._start = start
                why = self.lineReceived(line)
                if why:
                    return why
                if transport is not None and transport.disconnecting:
                    return None
                if (
                    self._buffer is not buf  # cleared, or data appended re-entrantly
                    or self.delimiter is not delimiter
                    or not self.line_mode
                    or self.paused
                ):
                    window = _FIRST_WINDOW
                    break
            else:
                if window < _WINDOW:
                    window *= 2
        return None

    def setLineMode(self, extra: bytes = b"") -> Any:
        """Switch to line mode; ``extra`` (if any) is parsed as if just received.

        Called from ``rawDataReceived`` to hand back the bytes that follow a raw payload.
        """
        self.line_mode = 1
        if extra:
            return self.dataReceived(extra)
        return None

    def setRawMode(self) -> None:
        """Switch to raw mode: later data goes to ``rawDataReceived`` unsplit."""
        self.line_mode = 0

    def rawDataReceived(self, data: bytes) -> Any:
        """Override this for when raw data is received (in raw mode)."""
        raise NotImplementedError

    def lineReceived(self, line: bytes) -> Any:
        """Override this for when each line is received (without its delimiter)."""
        raise NotImplementedError

    def sendLine(self, line: bytes) -> None:
        """Send ``line`` followed by ``delimiter``."""
        self.transport.write(line + self.delimiter)

    def lineLengthExceeded(self, line: bytes) -> Any:
        """Called with the buffered data when a line exceeds ``MAX_LENGTH``.

        The default closes the connection: a peer sending endless lines is broken or
        hostile, and buffering without bound would let it exhaust memory.  ``line`` may
        hold several lines and partial data.
        """
        return self.transport.loseConnection()


class LineOnlyReceiver(protocol.Protocol):
    """A protocol that receives only lines: faster than LineReceiver, no raw mode.

    The whole chunk is split with one ``bytes.split``; a line longer than ``MAX_LENGTH``
    calls ``lineLengthExceeded`` (closing the connection by default).
    """

    _buffer: bytes = b""
    delimiter: bytes = b"\r\n"
    MAX_LENGTH: int = 16384

    def dataReceived(self, data: bytes) -> Any:
        """Split the buffered and new data into lines and deliver them."""
        lines = (self._buffer + data).split(self.delimiter)
        self._buffer = lines.pop(-1)
        maxLength = self.MAX_LENGTH
        for line in lines:
            if self.transport.disconnecting:
                # loseConnection() was called: drop the rest, as a closing transport would.
                return None
            if len(line) > maxLength:
                return self.lineLengthExceeded(line)
            self.lineReceived(line)
        if len(self._buffer) > maxLength:
            why = self.lineLengthExceeded(self._buffer)
            transport = self.transport
            if transport is None or transport.disconnecting:
                # Closing: hold nothing more, so a peer that keeps sending cannot grow the
                # buffer while the connection goes down.  (A subclass that keeps the
                # connection keeps Twisted's behaviour: the tail of the long line is never
                # mistaken for a line of its own.)
                self._buffer = b""
            return why
        return None

    def lineReceived(self, line: bytes) -> Any:
        """Override this for when each line is received (without its delimiter)."""
        raise NotImplementedError

    def sendLine(self, line: bytes) -> None:
        """Send ``line`` followed by ``delimiter``."""
        self.transport.write(line + self.delimiter)

    def lineLengthExceeded(self, line: bytes) -> Any:
        """Called when a line is longer than ``MAX_LENGTH``; closes the connection."""
        return self.transport.loseConnection()


class NetstringReceiver(protocol.Protocol):
    """A protocol that sends and receives netstrings: ``<length>:<data>,``.

    See http://cr.yp.to/proto/netstrings.txt: the length is ASCII decimal without leading
    zeros (a lone "0" is allowed), followed by ":", the data and ",".  Anything else is
    malformed: a ``NetstringParseError`` is logged and the connection closed (``brokenPeer``
    is set).  Lengths over ``MAX_LENGTH`` are refused before any payload is buffered.
    """

    MAX_LENGTH: int = 99999
    brokenPeer: int = 0
    #: The length of the netstring whose payload is awaited, or -1 while reading a length.
    _payloadSize: int = -1
    _remainingData: bytes = b""
    _busy: bool = False

    def makeConnection(self, transport: Any) -> None:
        """Reset the parser and connect."""
        self._remainingData = b""
        self._payloadSize = -1
        protocol.Protocol.makeConnection(self, transport)

    def sendString(self, string: bytes) -> None:
        """Send ``string`` as a netstring."""
        self.transport.write(b"%d:%s," % (len(string), string))

    def stringReceived(self, string: bytes) -> None:
        """Override this for notification when each complete string is received."""
        raise NotImplementedError

    def dataReceived(self, data: bytes) -> None:
        """Parse netstrings from the buffered and new data and deliver them."""
        if self.brokenPeer:
            return
        if self._busy:
            # Re-entrant call from stringReceived: queue behind the data being parsed.
            self._remainingData += data
            return
        buf = self._remainingData + data if self._remainingData else data
        self._remainingData = b""
        pos = 0
        size = self._payloadSize
        maxLength = self.MAX_LENGTH
        maxDigits = len(str(maxLength))
        self._busy = True
        try:
            while True:
                if size < 0:
                    colon = buf.find(b":", pos, pos + maxDigits + 1)
                    if colon < 0:
                        self._checkPartialLength(buf[pos : pos + maxDigits + 1])
                        break
                    prefix = buf[pos:colon]
                    # 1*DIGIT without a leading zero (except "0" itself), within the limit.
                    if not prefix.isdigit() or (prefix[0] == 0x30 and colon - pos > 1):
                        self._parseLength(prefix)  # raises with the precise reason
                    size = int(prefix)
                    if size > maxLength:
                        self._parseLength(prefix)  # raises: exceeds MAX_LENGTH
                    pos = colon + 1
                end = pos + size
                if len(buf) <= end:
                    break
                if buf[end] != 0x2C:  # ","
                    raise NetstringParseError(
                        f"netstring of length {size} not followed by ',' but by "
                        f"{buf[end:end + 1]!r}"
                    )
                payload = buf[pos:end]
                pos = end + 1
                size = -1
                self._payloadSize = -1
                self.stringReceived(payload)
                if self.brokenPeer or (
                    self.transport is not None and self.transport.disconnecting
                ):
                    self._remainingData = b""
                    return
                if self._remainingData:
                    buf = buf[pos:] + self._remainingData
                    self._remainingData = b""
                    pos = 0
        except NetstringParseError as e:
            self._handleParseError(e)
            return
        finally:
            self._busy = False
        self._payloadSize = size
        self._remainingData = buf[pos:]

    def _maxLengthDigits(self) -> int:
        """Return how many digits ``MAX_LENGTH`` has: a longer prefix is refused early."""
        return len(str(self.MAX_LENGTH))

    def _checkPartialLength(self, prefix: bytes) -> None:
        """Reject a length prefix that can already be seen to be malformed or too long."""
        if not prefix:
            return
        if not prefix.isdigit():
            raise NetstringParseError(f"invalid netstring length prefix {prefix[:20]!r}")
        if len(prefix) > 1 and prefix.startswith(b"0"):
            raise NetstringParseError(f"netstring length with leading zero {prefix[:20]!r}")
        if len(prefix) > self._maxLengthDigits() or int(prefix) > self.MAX_LENGTH:
            raise NetstringParseError(
                f"netstring length {prefix[:20].decode()} exceeds MAX_LENGTH {self.MAX_LENGTH}"
            )

    def _parseLength(self, prefix: bytes) -> int:
        """Parse a complete length prefix (the bytes before ':')."""
        if not prefix:
            raise NetstringParseError("empty netstring length")
        self._checkPartialLength(prefix)
        return int(prefix)

    def _handleParseError(self, reason: NetstringParseError) -> None:
        """Log the malformed input and close: the stream cannot be resynchronised."""
        self.brokenPeer = 1
        self._remainingData = b""
        peer = self.transport.getPeer() if self.transport is not None else None
        _log.warn(
            "Closing connection from {peer}: malformed netstring: {error}",
            peer=peer,
            error=reason,
        )
        self.transport.loseConnection()


class IntNStringReceiver(protocol.Protocol, _PauseableMixin):
    """A protocol for strings prefixed by their length as a big-endian unsigned integer.

    Subclasses set ``structFormat`` and ``prefixLength``; use ``Int8StringReceiver``,
    ``Int16StringReceiver`` or ``Int32StringReceiver``.  A prefix announcing more than
    ``MAX_LENGTH`` bytes calls ``lengthLimitExceeded`` (closing the connection by default)
    before the payload is buffered.
    """

    MAX_LENGTH: int = 99999
    structFormat: str
    prefixLength: int
    _unprocessed: bytes = b""
    _busy: bool = False
    _refused: bool = False

    def stringReceived(self, string: bytes) -> None:
        """Override this for notification when each complete string is received."""
        raise NotImplementedError

    def lengthLimitExceeded(self, length: int) -> None:
        """Called when a prefix announces more than ``MAX_LENGTH`` bytes; closes."""
        self.transport.loseConnection()

    def dataReceived(self, data: bytes) -> None:
        """Cut the buffered and new data into strings and deliver them."""
        if self._refused:
            return
        if self._busy:
            # Re-entrant call from stringReceived: queue behind the data being cut.
            self._unprocessed += data
            return
        alldata = self._unprocessed + data if self._unprocessed else data
        offset = 0
        prefixLength = self.prefixLength
        fmt = self.structFormat
        self._unprocessed = b""
        total = len(alldata)
        self._busy = True
        try:
            while total >= offset + prefixLength and not self.paused:
                (length,) = struct.unpack_from(fmt, alldata, offset)
                if length > self.MAX_LENGTH:
                    alldata = alldata[offset:] + self._unprocessed
                    offset = 0
                    self.lengthLimitExceeded(length)
                    transport = self.transport
                    if transport is None or transport.disconnecting:
                        # Closing: hold nothing more, so a peer that keeps sending cannot
                        # grow the buffer while the connection goes down.
                        alldata = b""
                        self._refused = True
                    return
                messageStart = offset + prefixLength
                messageEnd = messageStart + length
                if total < messageEnd:
                    break
                offset = messageEnd
                self.stringReceived(alldata[messageStart:messageEnd])
                if self._unprocessed:
                    alldata = alldata[offset:] + self._unprocessed
                    self._unprocessed = b""
                    offset = 0
                    total = len(alldata)
        finally:
            self._busy = False
            self._unprocessed = alldata[offset:] if offset else alldata

    def sendString(self, string: bytes) -> None:
        """Send ``string`` with its length prefix.

        Raises ``StringTooLongError`` if the length does not fit in the prefix, instead of
        sending a truncated (and desynchronising) length.
        """
        limit = 2 ** (8 * self.prefixLength)
        if len(string) >= limit:
            raise StringTooLongError(
                f"Try to send {len(string)} bytes whereas maximum is {limit}"
            )
        self.transport.write(struct.pack(self.structFormat, len(string)) + string)


class Int32StringReceiver(IntNStringReceiver):
    """Strings prefixed by a 32-bit big-endian length."""

    structFormat = "!I"
    prefixLength = struct.calcsize(structFormat)


class Int16StringReceiver(IntNStringReceiver):
    """Strings prefixed by a 16-bit big-endian length."""

    structFormat = "!H"
    prefixLength = struct.calcsize(structFormat)


class Int8StringReceiver(IntNStringReceiver):
    """Strings prefixed by an 8-bit length."""

    structFormat = "!B"
    prefixLength = struct.calcsize(structFormat)


class FileSender:
    """A pull producer that sends the contents of a file to a consumer.

    Each ``resumeProducing`` writes one ``CHUNK_SIZE`` chunk (through ``transform`` if
    given), so the consumer's buffer decides the pace.  ``beginFileTransfer`` returns a
    Deferred firing with the last byte sent (b"" for an empty file) once the file is
    exhausted, or failing if the consumer stops the transfer.
    """

    CHUNK_SIZE: int = 2**14
    lastSent: bytes = b""
    deferred: Deferred[bytes] | None = None

    def beginFileTransfer(
        self,
        file: IO[bytes],
        consumer: Any,
        transform: Callable[[bytes], bytes] | None = None,
    ) -> Deferred[bytes]:
        """Start sending ``file`` to ``consumer``; return the Deferred described above."""
        from torsion.internet.defer import Deferred

        self.file: IO[bytes] | None = file
        self.consumer = consumer
        self.transform = transform
        deferred: Deferred[bytes] = Deferred()
        self.deferred = deferred
        self.consumer.registerProducer(self, False)
        return deferred

    def resumeProducing(self) -> None:
        """Write the next chunk, or finish if the file is exhausted."""
        chunk = b""
        if self.file is not None:
            chunk = self.file.read(self.CHUNK_SIZE)
        if not chunk:
            self.file = None
            self.consumer.unregisterProducer()
            if self.deferred is not None:
                d, self.deferred = self.deferred, None
                d.callback(self.lastSent)
            return
        if self.transform is not None:
            chunk = self.transform(chunk)
        self.consumer.write(chunk)
        self.lastSent = chunk[-1:]

    def pauseProducing(self) -> None:
        """Nothing to do: a pull producer only writes when asked."""

    def stopProducing(self) -> None:
        """The consumer is going away: fail the Deferred."""
        if self.deferred is not None:
            d, self.deferred = self.deferred, None
            d.errback(Exception("Consumer asked us to stop producing"))
