"""Tests for torsion.spread.banana: the encoding, limits and dialect negotiation."""

from __future__ import annotations

from typing import Any

import pytest

from torsion.internet.testing import StringTransport
from torsion.spread import banana
from torsion.spread.banana import Banana, BananaError, decode, encode


class Recorder(Banana):
    """A Banana that keeps every expression it receives."""

    def __init__(self, isClient: bool = True) -> None:
        super().__init__(isClient)
        self.received: list[Any] = []
        self.ready = False

    def connectionReady(self) -> None:
        self.ready = True

    def expressionReceived(self, obj: Any) -> None:
        self.received.append(obj)


def readyRecorder(dialect: bytes = b"none") -> tuple[Recorder, StringTransport]:
    """A connected client Banana that already chose `dialect`."""
    proto = Recorder()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(encode([b"pb", b"none"]) if dialect == b"pb" else encode([b"none"]))
    transport.clear()
    return proto, transport


@pytest.mark.parametrize(
    "value, wire",
    [
        (0, b"\x00\x81"),
        (1, b"\x01\x81"),
        (127, b"\x7f\x81"),
        (128, b"\x00\x01\x81"),
        (-1, b"\x01\x83"),
        (2**31 - 1, b"\x7f\x7f\x7f\x7f\x07\x81"),
        (2**31, b"\x00\x00\x00\x00\x08\x85"),
        (-(2**31) - 1, b"\x01\x00\x00\x00\x08\x86"),
        (b"hi", b"\x02\x82hi"),
        ([], b"\x00\x80"),
        ([1, b"a"], b"\x02\x80\x01\x81\x01\x82a"),
        (1.5, b"\x84?\xf8\x00\x00\x00\x00\x00\x00"),
    ],
)
def test_encodingMatchesTwistedWireFormat(value: object, wire: bytes) -> None:
    """Each type is encoded with the prefix and type byte Twisted uses."""
    assert encode(value) == wire
    assert decode(wire) == value


def test_tupleEncodesAsList() -> None:
    """A tuple travels as a banana list."""
    assert decode(encode((1, (2,)))) == [1, [2]]


def test_strIsRefused() -> None:
    """Text must be jellied first: banana carries only bytes."""
    with pytest.raises(BananaError):
        encode("text")


def test_hugeIntIsRefused() -> None:
    """An int beyond the 64-byte prefix cannot be sent."""
    with pytest.raises(BananaError):
        encode(2 ** (64 * 7))


def test_byteByByteDeliveryGivesSameResult() -> None:
    """Data fed one byte at a time decodes to the same expressions."""
    proto, _ = readyRecorder()
    message = [1, [b"abc", -5, 2.25, [], [[2**40]]], b"x" * 300]
    for byte in encode(message) * 2:
        proto.dataReceived(bytes([byte]))
    assert proto.received == [message, message]


def test_trailingPartialExpressionWaits() -> None:
    """A complete expression followed by a partial one delivers only the first."""
    proto, _ = readyRecorder()
    data = encode([1, 2]) + encode(b"partial")[:-3]
    proto.dataReceived(data)
    assert proto.received == [[1, 2]]


def test_longStringRefused() -> None:
    """A string longer than SIZE_LIMIT is refused and the connection closed."""
    proto, transport = readyRecorder()
    proto.dataReceived(banana.int2b128(banana.SIZE_LIMIT + 1) + b"\x82")
    assert transport.disconnecting


def test_longListRefused() -> None:
    """A list longer than SIZE_LIMIT is refused and the connection closed."""
    proto, transport = readyRecorder()
    proto.dataReceived(banana.int2b128(banana.SIZE_LIMIT + 1) + b"\x80")
    assert transport.disconnecting


def test_longPrefixRefused() -> None:
    """More than 64 prefix bytes is refused even before a type byte arrives."""
    proto, transport = readyRecorder()
    proto.dataReceived(b"\x01" * 65)
    assert transport.disconnecting


def test_deepNestingRefused() -> None:
    """Lists nested deeper than DEPTH_LIMIT are refused."""
    proto, transport = readyRecorder()
    proto.dataReceived(b"\x01\x80" * (banana.DEPTH_LIMIT + 1))
    assert transport.disconnecting


def test_nestingAtLimitAccepted() -> None:
    """Nesting exactly DEPTH_LIMIT deep is accepted."""
    value: Any = []
    for _ in range(banana.DEPTH_LIMIT - 1):
        value = [value]
    assert decode(encode(value)) == value


def test_invalidTypeByteRefused() -> None:
    """An unknown type byte closes the connection."""
    proto, transport = readyRecorder()
    proto.dataReceived(b"\x01\x99")
    assert transport.disconnecting
    assert proto.received == []


def test_dataAfterErrorIgnored() -> None:
    """Once the decoder failed, later data is not parsed."""
    proto, _ = readyRecorder()
    proto.dataReceived(b"\x01\x99")
    proto.dataReceived(encode(1))
    assert proto.received == []


def test_vocabOnlyInPbDialect() -> None:
    """A VOCAB token in the "none" dialect is refused."""
    proto, transport = readyRecorder(b"none")
    proto.dataReceived(b"\x01\x87")
    assert transport.disconnecting


def test_vocabDecodedInPbDialect() -> None:
    """In the "pb" dialect VOCAB tokens decode to their symbols."""
    proto, _ = readyRecorder(b"pb")
    proto.dataReceived(b"\x01\x80\x1a\x87")
    assert proto.received == [[b"message"]]


def test_unknownVocabRefused() -> None:
    """A VOCAB index outside the table is refused."""
    proto, transport = readyRecorder(b"pb")
    proto.dataReceived(b"\x7f\x87")
    assert transport.disconnecting


def test_pbDialectSendsSymbolsAsVocab() -> None:
    """In the "pb" dialect known symbols are sent as one VOCAB token."""
    proto, transport = readyRecorder(b"pb")
    proto.sendEncoded([b"message", b"other"])
    assert transport.value() == b"\x02\x80\x1a\x87\x05\x82other"


def test_serverOffersDialects() -> None:
    """A server sends its dialect list on connection."""
    proto = Recorder(isClient=False)
    transport = StringTransport()
    proto.makeConnection(transport)
    assert decode(transport.value()) == [b"pb", b"none"]


def test_clientChoosesFirstKnownDialect() -> None:
    """A client answers with the first offered dialect it knows and becomes ready."""
    proto = Recorder()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(encode([b"klingon", b"none", b"pb"]))
    assert decode(transport.value()) == b"none"
    assert proto.ready and proto.currentDialect == b"none"


def test_clientWithoutCommonDialectDisconnects() -> None:
    """A client offered no dialect it knows disconnects."""
    proto = Recorder()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(encode([b"klingon"]))
    assert transport.disconnecting and not proto.ready


def test_serverRefusesUnofferedDialect() -> None:
    """A server whose client picks an unknown dialect disconnects."""
    proto = Recorder(isClient=False)
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(encode(b"klingon"))
    assert transport.disconnecting and not proto.ready


def test_decodeRefusesTrailingData() -> None:
    """The module-level decode wants exactly one expression."""
    with pytest.raises(BananaError):
        decode(encode(1) + encode(2))


class Replier(Recorder):
    """Answers every expression it receives with an echo."""

    def expressionReceived(self, obj: Any) -> None:
        super().expressionReceived(obj)
        self.sendEncoded(obj)


class CountingTransport(StringTransport):
    """Counts write calls."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1
        super().write(data)


def test_repliesToOneChunkAreWrittenOnce() -> None:
    """Everything sent while one chunk is handled goes out in a single write, in order."""
    proto = Replier()
    transport = CountingTransport()
    proto.makeConnection(transport)
    proto.dataReceived(encode([b"none"]))
    transport.clear()
    transport.writes = 0
    proto.dataReceived(encode(1) + encode(b"two") + encode([3]))
    assert transport.writes == 1
    assert transport.value() == encode(1) + encode(b"two") + encode([3])


def test_sendOutsideDataReceivedWritesAtOnce() -> None:
    """sendEncoded outside dataReceived writes immediately."""
    proto, transport = readyRecorder()
    proto.sendEncoded(b"now")
    assert transport.value() == encode(b"now")


def test_tooManyItemsInOneExpressionRefused(monkeypatch: pytest.MonkeyPatch) -> None:
    """An expression with more items in total than EXPRESSION_ITEM_LIMIT is refused."""
    monkeypatch.setattr(banana, "EXPRESSION_ITEM_LIMIT", 10)
    proto, transport = readyRecorder()
    proto.dataReceived(encode([[1, 2]] * 3))
    assert proto.received and not transport.disconnecting
    proto.dataReceived(encode([[1, 2, 3]] * 3))
    assert transport.disconnecting
