"""Banana: the s-expression wire encoding under Perspective Broker.

Theory of operation: every element is a base-128 little-endian *prefix* (bytes below
0x80, at most `prefixLimit` of them) followed by one *type byte* (0x80 and up):

    LIST 0x80   prefix = element count, the elements follow
    INT 0x81 / NEG 0x83          prefix = |value| below 2**31
    STRING 0x82                  prefix = length, the bytes follow
    FLOAT 0x84                   no prefix, 8 bytes IEEE-754 big-endian follow
    LONGINT 0x85 / LONGNEG 0x86  prefix = |value| of any size up to the prefix limit
    VOCAB 0x87                   prefix = index of a well-known PB symbol ("pb" dialect)

The decoder keeps only an incomplete token in `_buffer`; lists being filled sit on
`_listStack` as [expected count, items], so a chunk is never parsed twice. Complete
top-level expressions go to `expressionReceived`. Everything is bounded: the prefix
length, list and string sizes (SIZE_LIMIT), list nesting (DEPTH_LIMIT) and the items
in one expression (EXPRESSION_ITEM_LIMIT); anything else raises BananaError, which
closes the connection.

Dialect negotiation (Twisted-compatible): the server sends the list of dialects it
knows ([b"pb", b"none"]); the client answers with the first one it knows as a string;
both then call `connectionReady`.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable
from typing import Any

from torsion.internet.protocol import Protocol
from torsion.logger import Logger
from torsion.spread.error import BananaError

__all__ = [
    "Banana",
    "BananaError",
    "DEPTH_LIMIT",
    "EXPRESSION_ITEM_LIMIT",
    "SIZE_LIMIT",
    "decode",
    "encode",
    "setPrefixLimit",
]

_log = Logger()

LIST = 0x80
INT = 0x81
STRING = 0x82
NEG = 0x83
FLOAT = 0x84
LONGINT = 0x85
LONGNEG = 0x86
VOCAB = 0x87

SIZE_LIMIT = 640 * 1024
"""Largest string length or list element count accepted or sent."""

DEPTH_LIMIT = 200
"""Deepest list nesting accepted or sent; deeper input would exhaust the stack later."""

EXPRESSION_ITEM_LIMIT = 2 * SIZE_LIMIT
"""Most items (at all depths) one received expression may hold: bounds the memory a
peer can make us allocate for one message, whatever its shape."""

_PREFIX_LIMIT = 64

_FLOAT = struct.Struct("!d")
_HIGH_BIT = re.compile(rb"[\x80-\xff]")
_SMALL = [bytes((n,)) for n in range(128)]
_LARGEST_INT = 2**31 - 1
_SMALLEST_INT = -(2**31)

OUTGOING_VOCABULARY: dict[bytes, int] = {
    b"None": 1,
    b"class": 2,
    b"dereference": 3,
    b"reference": 4,
    b"dictionary": 5,
    b"function": 6,
    b"instance": 7,
    b"list": 8,
    b"module": 9,
    b"persistent": 10,
    b"tuple": 11,
    b"unpersistable": 12,
    b"copy": 13,
    b"cache": 14,
    b"cached": 15,
    b"remote": 16,
    b"local": 17,
    b"lcache": 18,
    b"version": 19,
    b"login": 20,
    b"password": 21,
    b"challenge": 22,
    b"logged_in": 23,
    b"not_logged_in": 24,
    b"cachemessage": 25,
    b"message": 26,
    b"answer": 27,
    b"error": 28,
    b"decref": 29,
    b"decache": 30,
    b"uncache": 31,
}
"""The "pb" dialect's symbol table: these byte strings travel as one VOCAB token."""

INCOMING_VOCABULARY: dict[int, bytes] = {v: k for k, v in OUTGOING_VOCABULARY.items()}


def setPrefixLimit(limit: int) -> None:
    """Set the prefix length limit for Banana connections made after this call.

    The prefix bounds the magnitude of integers and sizes the decoder accepts.
    """
    global _PREFIX_LIMIT
    _PREFIX_LIMIT = limit


def int2b128(integer: int) -> bytes:
    """Encode a non-negative integer as a base-128 little-endian prefix."""
    if integer < 128:
        return _SMALL[integer]
    out = bytearray()
    while integer:
        out.append(integer & 0x7F)
        integer >>= 7
    return bytes(out)


def b1282int(st: bytes) -> int:
    """Decode a base-128 little-endian prefix into an integer."""
    value = 0
    shift = 0
    for byte in st:
        value |= byte << shift
        shift += 7
    return value


_INT_TOKENS = [int2b128(n) + bytes((INT,)) for n in range(1024)]
_STRING_HEADERS = [bytes((n, STRING)) for n in range(128)]
_LIST_HEADERS = [bytes((n, LIST)) for n in range(128)]


class _Encoder:
    """Serialise s-expressions into banana bytes for one dialect.

    Kept separate from the protocol so `encode` can be used without a connection. Hot
    path: small ints, short strings and vocabulary symbols are precomputed tokens, and
    list elements that are such scalars are written without a recursive call.
    """

    def __init__(self, prefixLimit: int = 64, vocabulary: dict[bytes, int] | None = None):
        self.largestLongInt = 2 ** (prefixLimit * 7) - 1
        self.vocabulary = vocabulary

    @property
    def vocabulary(self) -> dict[bytes, int] | None:
        """The symbol table in use (None outside the "pb" dialect)."""
        return self._vocabulary

    @vocabulary.setter
    def vocabulary(self, vocabulary: dict[bytes, int] | None) -> None:
        self._vocabulary = vocabulary
        self._symbols: dict[bytes, bytes] = {
            symbol: int2b128(index) + bytes((VOCAB,))
            for symbol, index in (vocabulary or {}).items()
        }

    def encode(self, obj: object) -> bytes:
        """Return the banana encoding of `obj`."""
        parts: list[bytes] = []
        self._encode(obj, parts.append, 0)
        return b"".join(parts)

    def _encode(self, obj: Any, write: Callable[[bytes], object], depth: int) -> None:
        kind = type(obj)
        if kind is list or kind is tuple:
            size = len(obj)
            if size < 128:
                write(_LIST_HEADERS[size])
            elif size > SIZE_LIMIT:
                raise BananaError(f"list/tuple is too long to send ({size})")
            else:
                write(int2b128(size) + b"\x80")
            if depth >= DEPTH_LIMIT:
                raise BananaError("list nesting is too deep to send")
            symbols = self._symbols
            for element in obj:
                elementKind = type(element)
                if elementKind is int and 0 <= element < 1024:
                    write(_INT_TOKENS[element])
                elif elementKind is bytes and element in symbols:
                    write(symbols[element])
                else:
                    self._encode(element, write, depth + 1)
        elif kind is bytes:
            token = self._symbols.get(obj)
            if token is not None:
                write(token)
                return
            size = len(obj)
            if size < 128:
                write(_STRING_HEADERS[size])
            elif size > SIZE_LIMIT:
                raise BananaError(f"byte string is too long to send ({size})")
            else:
                write(int2b128(size) + b"\x82")
            write(obj)
        elif kind is int or kind is bool:
            if 0 <= obj < 1024:
                write(_INT_TOKENS[obj])
            else:
                write(self._encodeInt(obj))
        elif kind is float:
            write(b"\x84" + _FLOAT.pack(obj))
        elif isinstance(obj, (list, tuple)):
            self._encode(list(obj), write, depth)
        elif isinstance(obj, bytes):
            self._encode(bytes(obj), write, depth)
        elif isinstance(obj, int):
            self._encode(int(obj), write, depth)
        elif isinstance(obj, float):
            self._encode(float(obj), write, depth)
        else:
            raise BananaError(f"Banana cannot send {kind.__qualname__} objects: {obj!r}")

    def _encodeInt(self, obj: int) -> bytes:
        if obj >= 0:
            if obj <= _LARGEST_INT:
                return int2b128(obj) + b"\x81"
            if obj <= self.largestLongInt:
                return int2b128(obj) + b"\x85"
        elif obj >= _SMALLEST_INT:
            return int2b128(-obj) + b"\x83"
        elif -obj <= self.largestLongInt:
            return int2b128(-obj) + b"\x86"
        raise BananaError(f"int is too large to send ({obj})")


class _Decoder:
    """Incremental banana parser; complete top-level expressions go to `deliver`.

    Used by the Banana protocol and by the module-level `decode`.
    """

    def __init__(self, deliver: Callable[[Any], None], prefixLimit: int = 64) -> None:
        self.deliver = deliver
        self.prefixLimit = prefixLimit
        self.vocabulary: dict[int, bytes] | None = None
        self.buffer = b""
        self.listStack: list[list[Any]] = []
        self.itemsInExpression = 0

    def feed(self, chunk: bytes) -> None:
        """Parse `chunk`, delivering every expression it completes.

        Raises BananaError for malformed or oversized input; the parser must not be
        fed again after that.
        """
        buf = self.buffer + chunk if self.buffer else chunk
        self.buffer = b""
        end = len(buf)
        pos = 0
        stack = self.listStack
        search = _HIGH_BIT.search
        prefixLimit = self.prefixLimit
        itemCount = self.itemsInExpression
        while pos < end:
            first = buf[pos]
            if first >= 0x80:
                num = 0
                typePos = pos
                typeByte = first
            elif pos + 1 < end and buf[pos + 1] >= 0x80:
                num = first
                typePos = pos + 1
                typeByte = buf[typePos]
            else:
                match = search(buf, pos)
                if match is None:
                    if end - pos > prefixLimit:
                        raise BananaError(
                            f"Security precaution: more than {prefixLimit} bytes of prefix"
                        )
                    break
                typePos = match.start()
                if typePos - pos > prefixLimit:
                    raise BananaError(
                        f"Security precaution: longer than {prefixLimit} bytes worth of prefix"
                    )
                num = b1282int(buf[pos:typePos])
                typeByte = buf[typePos]
            item: Any
            if typeByte == INT:
                item = num
                pos = typePos + 1
            elif typeByte == STRING:
                if num > SIZE_LIMIT:
                    raise BananaError("Security precaution: String too long.")
                start = typePos + 1
                if start + num > end:
                    break
                item = buf[start : start + num]
                pos = start + num
            elif typeByte == LONGINT:
                item = num
                pos = typePos + 1
            elif typeByte == LIST:
                if num > SIZE_LIMIT:
                    raise BananaError("Security precaution: List too long.")
                pos = typePos + 1
                if num:
                    if len(stack) >= DEPTH_LIMIT:
                        raise BananaError("Security precaution: lists nested too deeply.")
                    itemCount += 1
                    stack.append([num, []])
                    continue
                item = []
            elif typeByte == VOCAB:
                vocabulary = self.vocabulary
                if vocabulary is None:
                    raise BananaError("VOCAB token outside the 'pb' dialect")
                found = vocabulary.get(num)
                if found is None:
                    raise BananaError(f"unknown VOCAB symbol {num}")
                item = found
                pos = typePos + 1
            elif typeByte == NEG or typeByte == LONGNEG:
                item = -num
                pos = typePos + 1
            elif typeByte == FLOAT:
                start = typePos + 1
                if start + 8 > end:
                    break
                item = _FLOAT.unpack_from(buf, start)[0]
                pos = start + 8
            else:
                raise BananaError(f"Invalid type byte {typeByte:#x}")
            if stack:
                itemCount += 1
                if itemCount > EXPRESSION_ITEM_LIMIT:
                    raise BananaError("Security precaution: expression has too many items.")
            while stack:
                top = stack[-1]
                items = top[1]
                items.append(item)
                if len(items) < top[0]:
                    break
                stack.pop()
                item = items
            else:
                itemCount = 0
                self.deliver(item)
        self.itemsInExpression = itemCount
        if pos < end:
            self.buffer = buf[pos:]


class _FlushFirstTransport:
    """The transport a Banana protocol shows its users: sends collected writes first.

    Banana collects what it sends while one input chunk is handled and writes it all at
    the end (see Banana.sendEncoded). User code reaches the transport directly, as in
    Twisted (``broker.transport.loseConnection()`` inside a remote method or callback);
    closing the real transport then would drop those collected messages. This thin
    wrapper writes them first on every call that closes or writes; everything else is
    the real transport's. Banana itself writes to the real transport, so the per-message
    hot path gains no call.
    """

    __slots__ = ("_banana", "_transport")

    def __init__(self, banana: Banana, transport: Any) -> None:
        object.__setattr__(self, "_banana", banana)
        object.__setattr__(self, "_transport", transport)

    def write(self, data: bytes) -> None:
        """Write the collected messages, then `data` (so the order is kept)."""
        self._banana._flushWrites()
        self._transport.write(data)

    def writeSequence(self, iovec: Any) -> None:
        """Write the collected messages, then each of `iovec`'s byte strings."""
        self._banana._flushWrites()
        self._transport.writeSequence(iovec)

    def loseConnection(self) -> None:
        """Write the collected messages, then close once everything is sent."""
        self._banana._flushWrites()
        self._transport.loseConnection()

    def abortConnection(self) -> None:
        """Hand the collected messages to the transport, then abort it.

        What the transport has not sent by then is dropped, as abortConnection means;
        batching alone never decides that a message is lost.
        """
        self._banana._flushWrites()
        self._transport.abortConnection()

    def loseWriteConnection(self) -> None:
        """Write the collected messages, then half-close."""
        self._banana._flushWrites()
        self._transport.loseWriteConnection()

    def __getattr__(self, name: str) -> Any:
        if name in _FlushFirstTransport.__slots__:
            raise AttributeError(name)
        return getattr(self._transport, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._transport, name, value)

    def __repr__(self) -> str:
        return repr(self._transport)


class Banana(Protocol):
    """The banana s-expression protocol, client and server side.

    Subclasses implement `expressionReceived` (and `connectionReady`, called once the
    dialect is agreed); they send with `sendEncoded`.
    """

    knownDialects: list[bytes] = [b"pb", b"none"]
    outgoingVocabulary = OUTGOING_VOCABULARY
    incomingVocabulary = INCOMING_VOCABULARY
    prefixLimit: int = 64
    sizeLimit: int = SIZE_LIMIT
    currentDialect: bytes | None = None
    _rawTransport: Any = None
    _shownTransport: Any = None

    def __init__(self, isClient: bool | int = 1) -> None:
        self.isClient = bool(isClient)
        self._decoder = _Decoder(self._expressionArrived)
        self._failed = False
        self._pending: list[bytes] | None = None
        self._encoder = _Encoder()

    @property
    def transport(self) -> Any:
        """The connection's transport, wrapped so closing it sends collected writes first."""
        return self._shownTransport

    @transport.setter
    def transport(self, transport: Any) -> None:
        if isinstance(transport, _FlushFirstTransport):
            transport = transport._transport
        self._rawTransport = transport
        self._shownTransport = None if transport is None else _FlushFirstTransport(self, transport)

    def setPrefixLimit(self, limit: int) -> None:
        """Set the prefix length limit for this connection."""
        self.prefixLimit = limit
        self._decoder.prefixLimit = limit
        self._encoder = _Encoder(limit, self._encoder.vocabulary)

    def connectionReady(self) -> None:
        """Called once the dialect is negotiated; the surrogate of connectionMade."""

    def _selectDialect(self, dialect: bytes) -> None:
        self.currentDialect = dialect
        vocabulary = dialect == b"pb"
        self._decoder.vocabulary = self.incomingVocabulary if vocabulary else None
        self._encoder.vocabulary = self.outgoingVocabulary if vocabulary else None
        self.connectionReady()

    def connectionMade(self) -> None:
        self.setPrefixLimit(_PREFIX_LIMIT)
        self.currentDialect = None
        if not self.isClient:
            self.sendEncoded(self.knownDialects)

    def _expressionArrived(self, obj: object) -> None:
        if self.currentDialect is not None:
            self.expressionReceived(obj)
            return
        if self.isClient:
            if isinstance(obj, list):
                for offered in obj:
                    if offered in self.knownDialects:
                        self.sendEncoded(offered)
                        self._selectDialect(offered)
                        return
            _log.info(
                "The client doesn't speak any of the protocols offered by the server: "
                "disconnecting."
            )
        else:
            if isinstance(obj, bytes) and obj in self.knownDialects:
                self._selectDialect(obj)
                return
            _log.info(
                "The client selected a protocol the server didn't suggest and doesn't "
                "know: disconnecting."
            )
        self._closeAfterWrites()

    def dataReceived(self, data: bytes) -> None:
        """Feed bytes to the decoder; malformed input closes the connection."""
        if self._failed:
            return
        if self._pending is not None:
            # Re-entered from within a callback: the outer call flushes.
            self._feed(data)
            return
        self._pending = []
        try:
            self._feed(data)
        finally:
            self._flushWrites()
            self._pending = None

    def _feed(self, data: bytes) -> None:
        try:
            self._decoder.feed(data)
        except BananaError as e:
            self._failed = True
            _log.warn("Banana protocol error, disconnecting: {error}", error=str(e))
            self._closeAfterWrites()

    def _flushWrites(self) -> None:
        """Write everything collected so far (see sendEncoded)."""
        pending = self._pending
        if pending:
            data = b"".join(pending) if len(pending) > 1 else pending[0]
            pending.clear()
            if self._rawTransport is not None:
                self._rawTransport.write(data)

    def _closeAfterWrites(self) -> None:
        """Close the connection after the collected writes: nothing sent is lost."""
        self._flushWrites()
        if self._rawTransport is not None:
            self._rawTransport.loseConnection()

    def expressionReceived(self, obj: Any) -> None:
        """Handle one complete expression (a list, bytes, int or float)."""
        raise NotImplementedError()

    def sendEncoded(self, obj: object) -> None:
        """Encode `obj` and write it to the transport.

        While incoming data is being handled, writes are collected and sent as one at
        the end of dataReceived: answers to a burst of calls then cost one system call.
        Closing or writing through `self.transport` sends the collected writes first.

        Raises BananaError if `obj` holds something banana cannot carry.
        """
        data = self._encoder.encode(obj)
        pending = self._pending
        if pending is not None:
            pending.append(data)
        else:
            self._rawTransport.write(data)


_plainEncoder = _Encoder()


def encode(obj: object) -> bytes:
    """Encode an s-expression with the "none" dialect (no vocabulary)."""
    return _plainEncoder.encode(obj)


def decode(data: bytes) -> Any:
    """Decode exactly one banana expression (the "none" dialect).

    Raises BananaError if `data` is malformed, incomplete or holds trailing data.
    """
    items: list[object] = []
    decoder = _Decoder(items.append, _PREFIX_LIMIT)
    decoder.feed(data)
    if decoder.buffer or decoder.listStack or len(items) != 1:
        raise BananaError("data is not exactly one complete banana expression")
    return items[0]
