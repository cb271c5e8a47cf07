"""AMP's wire layer: the box (a dict of bytes to bytes), its parser, limits and errors.

Part of torsion.protocols.amp, which re-exports every public name here; import them
from there. Kept apart so the argument types (_amp_arguments) can use boxes and errors
without importing the protocol, and so each module stays readable.

Wire format: a box is a sequence of key/value pairs, each a 2-byte big-endian length
and that many bytes (keys 1-255 bytes, values up to 65535), ended by a zero-length key.
"""

from __future__ import annotations

import datetime
import struct
from collections.abc import Callable
from typing import Any

from torsion.python.failure import Failure

ASK = b"_ask"
ANSWER = b"_answer"
COMMAND = b"_command"
ERROR = b"_error"
ERROR_CODE = b"_error_code"
ERROR_DESCRIPTION = b"_error_description"
UNKNOWN_ERROR_CODE = b"UNKNOWN"
UNHANDLED_ERROR_CODE = b"UNHANDLED"

MAX_KEY_LENGTH = 0xFF
MAX_VALUE_LENGTH = 0xFFFF

BOX_SIZE_LIMIT = 4 * 1024 * 1024
"""Most bytes of key/value pairs one received box may hold (BinaryBoxProtocol's default).

The wire format bounds each key and value but not how many pairs come before the empty
key that ends a box; without this a peer could make us hold any amount of memory."""

BOX_KEY_LIMIT = 4096
"""Most distinct keys one received box may hold (BinaryBoxProtocol's default)."""

utc = datetime.UTC

_U16 = struct.Struct("!H")


# -- errors ------------------------------------------------------------------------------
#
#   Exception
#    ├─ ProtocolSwitched        no AMP traffic after a protocol switch
#    └─ AmpError
#        ├─ TooLong             a key or value exceeds the wire limits
#        ├─ InvalidSignature    callRemote arguments do not match the Command
#        ├─ BadLocalReturn      a responder returned something its schema cannot send
#        ├─ NoEmptyBoxes        a box that is neither a command nor an answer
#        ├─ MalformedAmpBox     undecodable box data
#        ├─ IncompatibleVersions
#        ├─ OnlyOneTLS          TLS can only be started once per connection
#        │   └─ PeerVerifyError the peer rejected our certificate
#        ├─ UnhandledCommand    the peer has no responder for the command
#        └─ RemoteAmpError      an error code and description from the peer
#            └─ UnknownRemoteError  the peer failed in a way it did not declare


class AmpError(Exception):
    """Base class of AMP errors."""


class ProtocolSwitched(Exception):
    """The connection has switched to another protocol: no AMP traffic is allowed."""


class OnlyOneTLS(AmpError):
    """TLS was already started on this connection."""


class PeerVerifyError(OnlyOneTLS):
    """The peer rejected our certificate for an unknown reason."""


class NoEmptyBoxes(AmpError):
    """A box with no _command, _answer or _error key was received."""


class InvalidSignature(AmpError):
    """callRemote was given arguments that do not match the Command."""


class TooLong(AmpError):
    """A key or value is longer than the wire format allows.

    `isKey` says which, `isLocal` whether we tried to send it (True) or received it.
    """

    def __init__(self, isKey: bool, isLocal: bool, keyName: bytes | None,
                 value: bytes | None = None) -> None:
        AmpError.__init__(self, isKey, isLocal, keyName, value)
        self.isKey = isKey
        self.isLocal = isLocal
        self.keyName = keyName
        self.value = value

    def __str__(self) -> str:
        what = "key" if self.isKey else "value"
        where = "sent" if self.isLocal else "received"
        limit = MAX_KEY_LENGTH if self.isKey else MAX_VALUE_LENGTH
        name = f" for key {self.keyName!r}" if self.keyName and not self.isKey else ""
        return f"{what}{name} {where} is longer than {limit} bytes"


class BadLocalReturn(AmpError):
    """A responder returned a value its Command's response schema cannot serialise."""

    def __init__(self, message: str, enclosed: Failure) -> None:
        AmpError.__init__(self, message)
        self.message = message
        self.enclosed = enclosed


class MalformedAmpBox(AmpError):
    """Box data could not be decoded."""


class IncompatibleVersions(AmpError):
    """The two sides speak incompatible AMP versions."""


class UnhandledCommand(AmpError):
    """The peer has no responder for a command we sent."""


class RemoteAmpError(AmpError):
    """An error the peer reported: a wire error code and a description.

    `fatal` errors close the connection after being sent.
    """

    def __init__(self, errorCode: bytes, description: str | bytes, fatal: bool = False,
                 local: Failure | None = None) -> None:
        if isinstance(description, bytes):
            description = description.decode("utf-8", "replace")
        if local is not None:
            message = (f"Code<{errorCode.decode('ascii', 'replace')}> (local): {description}")
        else:
            message = f"Code<{errorCode.decode('ascii', 'replace')}>: {description}"
        AmpError.__init__(self, message)
        self.errorCode = errorCode
        self.description = description
        self.fatal = fatal
        self.local = local


class UnknownRemoteError(RemoteAmpError):
    """The peer failed with an error the Command does not declare."""

    def __init__(self, description: str | bytes) -> None:
        RemoteAmpError.__init__(self, UNKNOWN_ERROR_CODE, description)


PROTOCOL_ERRORS: dict[bytes, type[Exception]] = {UNHANDLED_ERROR_CODE: UnhandledCommand}


# -- boxes -------------------------------------------------------------------------------


class AmpBox(dict[bytes, bytes]):
    """A box: a dict of byte keys to byte values, serialisable in AMP's wire format."""

    __slots__: list[str] = []

    def __init__(self, *args: Any, **kw: Any) -> None:
        dict.__init__(self, *args)
        for key, value in kw.items():
            self[key.encode("ascii")] = value

    def copy(self) -> AmpBox:
        """Return a shallow copy of the same box type."""
        new = type(self).__new__(type(self))
        new.update(self)
        return new

    def serialize(self) -> bytes:
        """Return the wire form of this box.

        Raises TooLong for a key over 255 bytes or a value over 65535, and TypeError for
        keys or values that are not bytes.
        """
        parts: list[bytes] = []
        for key, value in sorted(self.items()):
            if type(key) is not bytes or type(value) is not bytes:
                raise TypeError(f"AMP box keys and values must be bytes: {key!r}: {value!r}")
            if not key or len(key) > MAX_KEY_LENGTH:
                raise TooLong(True, True, key, None)
            if len(value) > MAX_VALUE_LENGTH:
                raise TooLong(False, True, value, key)
            parts.append(_U16.pack(len(key)))
            parts.append(key)
            parts.append(_U16.pack(len(value)))
            parts.append(value)
        parts.append(b"\x00\x00")
        return b"".join(parts)

    def _sendTo(self, proto: Any) -> None:
        """Send this box through a box sender (subclasses add side effects)."""
        proto.sendBox(self)

    def __repr__(self) -> str:
        return f"AmpBox({dict.__repr__(self)})"


Box = AmpBox


class QuitBox(AmpBox):
    """A box that closes the connection once sent."""

    __slots__: list[str] = []

    def __repr__(self) -> str:
        return f"QuitBox(**{dict.__repr__(self)})"

    def _sendTo(self, proto: Any) -> None:
        AmpBox._sendTo(self, proto)
        proto.transport.loseConnection()


class _BoxParser:
    """Incremental box parser: feed bytes, get complete boxes.

    State is the offset into `_buffer`; a partial pair stays buffered until complete. The
    box being filled is bounded by `sizeLimit` bytes of pairs and `keyLimit` keys.
    """

    def __init__(self, deliver: Callable[[AmpBox], None], sizeLimit: int = BOX_SIZE_LIMIT,
                 keyLimit: int = BOX_KEY_LIMIT) -> None:
        self.deliver = deliver
        self.sizeLimit = sizeLimit
        self.keyLimit = keyLimit
        self._buffer = b""
        self._box = AmpBox()
        self._boxSize = 0
        self._feeding = False
        self._onHalt: Callable[[bytes], None] | None = None

    def halt(self, onRest: Callable[[bytes], None]) -> None:
        """Parse no more: hand every byte after the box being delivered to `onRest`.

        Used by a protocol switch: what follows the last AMP box belongs to the new
        protocol. Called outside `feed`, the buffered partial bytes go at once.
        """
        if self._feeding:
            self._onHalt = onRest
            return
        rest, self._buffer = self._buffer, b""
        self._box = AmpBox()
        self._onHalt = onRest
        if rest:
            onRest(rest)

    def feed(self, data: bytes) -> None:
        """Parse `data`, delivering every box it completes.

        Raises TooLong for an oversized key and MalformedAmpBox for a box over the size
        or key limit; the caller closes the connection and must not feed again.
        """
        self._feeding = True
        try:
            buf = self._buffer + data if self._buffer else data
            end = len(buf)
            pos = 0
            unpack = _U16.unpack_from
            box = self._box
            boxSize = self._boxSize
            sizeLimit = self.sizeLimit
            while end - pos >= 2:
                (keyLength,) = unpack(buf, pos)
                if keyLength == 0:
                    pos += 2
                    self._box = AmpBox()
                    self._boxSize = boxSize = 0
                    self.deliver(box)
                    if self._onHalt is not None:
                        self._buffer = b""
                        if pos < end:
                            self._onHalt(buf[pos:])
                        return
                    box = self._box
                    continue
                if keyLength > MAX_KEY_LENGTH:
                    raise TooLong(True, False, None, None)
                keyStart = pos + 2
                valueLengthAt = keyStart + keyLength
                if valueLengthAt + 2 > end:
                    break
                (valueLength,) = unpack(buf, valueLengthAt)
                valueStart = valueLengthAt + 2
                if valueStart + valueLength > end:
                    break
                nextPos = valueStart + valueLength
                boxSize += nextPos - pos
                if boxSize > sizeLimit:
                    raise MalformedAmpBox(f"box holds more than {sizeLimit} bytes")
                box[buf[keyStart:valueLengthAt]] = buf[valueStart:nextPos]
                if len(box) > self.keyLimit:
                    raise MalformedAmpBox(f"box holds more than {self.keyLimit} keys")
                pos = nextPos
            self._boxSize = boxSize
            self._buffer = buf[pos:] if pos < end else b""
        finally:
            self._feeding = False

    @property
    def pending(self) -> bool:
        """Whether a partial box is buffered."""
        return bool(self._buffer) or bool(self._box)


def parseString(data: bytes) -> list[AmpBox]:
    """Parse complete boxes from `data`; raise MalformedAmpBox if data is left over."""
    boxes: list[AmpBox] = []
    parser = _BoxParser(boxes.append)
    try:
        parser.feed(data)
    except TooLong as e:
        raise MalformedAmpBox(str(e)) from e
    if parser.pending:
        raise MalformedAmpBox("trailing partial box")
    return boxes
