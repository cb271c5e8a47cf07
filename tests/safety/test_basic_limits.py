"""Hostile input to the framing protocols of torsion.protocols.basic: bounded, then closed.

Each test feeds 10 MB (in 64 KB reads) that never completes a frame and checks, after every
read, that the protocol holds at most MAX_LENGTH plus one read and that it asked to close.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest

from torsion.internet.testing import StringTransport
from torsion.protocols import basic

CHUNK = 64 * 1024
TOTAL = 10 * 1024 * 1024


def _bufferSize(proto: object) -> int:
    """Return how many received bytes `proto` is holding, whatever its class."""
    for name in ("_buffer", "_remainingData", "_unprocessed"):
        value = getattr(proto, name, None)
        if isinstance(value, bytes):
            return len(value)
    raise AssertionError("no buffer attribute")


def _flood(proto: object, first: bytes, filler: bytes) -> StringTransport:
    """Connect `proto` to a StringTransport and feed `first` then filler up to 10 MB."""
    transport = StringTransport()
    proto.makeConnection(transport)  # type: ignore[attr-defined]
    proto.dataReceived(first)  # type: ignore[attr-defined]
    limit = proto.MAX_LENGTH + CHUNK + len(first)  # type: ignore[attr-defined]
    chunk = filler * (CHUNK // len(filler))
    fed = len(first)
    while fed < TOTAL:
        proto.dataReceived(chunk)  # type: ignore[attr-defined]
        fed += len(chunk)
        assert _bufferSize(proto) <= limit, f"buffer grew to {_bufferSize(proto)} after {fed}"
    return transport


class _Lines(basic.LineReceiver):
    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line)


class _OnlyLines(basic.LineOnlyReceiver):
    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line)


class _Netstrings(basic.NetstringReceiver):
    def __init__(self) -> None:
        self.strings: list[bytes] = []

    def stringReceived(self, string: bytes) -> None:
        self.strings.append(string)


class _Int32(basic.Int32StringReceiver):
    def __init__(self) -> None:
        self.strings: list[bytes] = []

    def stringReceived(self, string: bytes) -> None:
        self.strings.append(string)


def test_lineReceiverEndlessLineIsBoundedAndCloses() -> None:
    """LineReceiver fed 10 MB without a delimiter holds at most MAX_LENGTH + one read and closes."""
    proto = _Lines()
    transport = _flood(proto, b"", b"x")
    assert transport.disconnecting
    assert proto.lines == []


def test_lineReceiverLongLineAfterGoodLinesDeliversTheGoodOnes() -> None:
    """Lines before an over-long one are delivered; then the connection is closed."""
    proto = _Lines()
    transport = _flood(proto, b"ok\r\n", b"y")
    assert proto.lines == [b"ok"]
    assert transport.disconnecting


def test_lineOnlyReceiverEndlessLineIsBoundedAndCloses() -> None:
    """LineOnlyReceiver fed 10 MB without a delimiter stays bounded and closes."""
    proto = _OnlyLines()
    transport = _flood(proto, b"", b"x")
    assert transport.disconnecting
    assert proto.lines == []


def test_netstringHugeLengthRefusedBeforePayload() -> None:
    """A netstring announcing 10**12 bytes is refused at once, its payload never buffered."""
    proto = _Netstrings()
    transport = _flood(proto, b"1000000000000:", b"z")
    assert transport.disconnecting
    assert proto.brokenPeer


def test_netstringEndlessDigitsRefused() -> None:
    """A length prefix of endless digits is refused once it has more digits than MAX_LENGTH."""
    proto = _Netstrings()
    transport = _flood(proto, b"", b"9")
    assert transport.disconnecting


def test_netstringGarbagePrefixRefused() -> None:
    """A non-digit where a length should be closes the connection."""
    proto = _Netstrings()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(b"GET / HTTP/1.1\r\n")
    assert transport.disconnecting
    assert proto.strings == []


def test_int32HugeLengthPrefixRefusedBeforePayload() -> None:
    """An Int32 prefix of 4 GB - 1 is refused before its payload is buffered."""
    proto = _Int32()
    transport = _flood(proto, struct.pack("!I", 0xFFFFFFFF), b"z")
    assert transport.disconnecting
    assert proto.strings == []


@pytest.mark.parametrize("cls", [basic.Int8StringReceiver, basic.Int16StringReceiver])
def test_smallPrefixesCannotExceedTheirRange(cls: type[basic.IntNStringReceiver]) -> None:
    """Int8/Int16 receivers deliver a maximum-length string and keep parsing after it."""
    got: list[bytes] = []

    class P(cls):  # type: ignore[valid-type,misc]
        def stringReceived(self, string: bytes) -> None:
            got.append(string)

    proto = P()
    proto.makeConnection(StringTransport())
    size = 2 ** (8 * proto.prefixLength) - 1
    size = min(size, proto.MAX_LENGTH)
    proto.dataReceived(struct.pack(proto.structFormat, size) + b"a" * size)
    proto.dataReceived(struct.pack(proto.structFormat, 1) + b"b")
    assert got == [b"a" * size, b"b"]


def test_floodOfEmptyLinesDoesNotRecurse() -> None:
    """A million empty lines in one read are delivered without recursion or quadratic copying."""
    proto = _Lines()
    proto.makeConnection(StringTransport())
    proto.dataReceived(b"\r\n" * 1_000_000)
    assert len(proto.lines) == 1_000_000
    assert _bufferSize(proto) == 0


def test_int32NothingDeliveredAfterRefusal() -> None:
    """After an over-long prefix closes the connection, later well-formed strings are dropped."""
    proto = _Int32()
    proto.makeConnection(StringTransport())
    proto.dataReceived(struct.pack("!I", 0xFFFFFFFF))
    proto.dataReceived(struct.pack("!I", 2) + b"hi")
    assert proto.strings == []
    assert _bufferSize(proto) == 0


def test_lineOnlyReceiverNothingDeliveredAfterOverlongLine() -> None:
    """After an over-long line closes the connection, lines that follow are not delivered."""
    proto = _OnlyLines()
    proto.makeConnection(StringTransport())
    proto.dataReceived(b"x" * (proto.MAX_LENGTH + 1))
    proto.dataReceived(b"tail\r\nnext\r\n")
    assert proto.lines == []


def test_endlessLineOverTcpClosesThatConnectionOnly(reactor: Any, run: Any) -> None:
    """10 MB without a newline over a real socket closes that connection; the next is served."""
    import socket as socketModule
    import time

    from torsion.internet.defer import Deferred
    from torsion.internet.protocol import Factory

    class Echo(basic.LineReceiver):
        def lineReceived(self, line: bytes) -> None:
            self.sendLine(line)

    port = reactor.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
    portno = port.getHost().port

    def spin(seconds: float) -> None:
        d: Deferred[None] = Deferred()
        reactor.callLater(seconds, d.callback, None)
        run(d)

    sock = socketModule.create_connection(("127.0.0.1", portno))
    sock.setblocking(False)
    sent = 0
    closed = False
    deadline = time.monotonic() + 10
    chunk = b"x" * 65536
    while sent < TOTAL and not closed and time.monotonic() < deadline:
        try:
            sent += sock.send(chunk)
        except BlockingIOError:
            spin(0.01)
        except OSError:
            closed = True
        if sent % (1024 * 1024) < 65536:
            spin(0)
    sock.close()
    assert closed or sent < TOTAL, "the server kept reading 10 MB without a newline"
    other = socketModule.create_connection(("127.0.0.1", portno))
    other.sendall(b"hello\r\n")
    other.setblocking(False)
    got = b""
    while b"\r\n" not in got and time.monotonic() < deadline + 5:
        spin(0.01)
        try:
            got += other.recv(100)
        except BlockingIOError:
            pass
    other.close()
    assert got == b"hello\r\n"


def test_lineOnlyReceiverKeepingConnectionNeverDeliversTheLongLinesTail() -> None:
    """A subclass keeping the connection after an over-long line never gets its tail as a line."""

    class Tolerant(_OnlyLines):
        def lineLengthExceeded(self, line: bytes) -> None:
            pass

    proto = Tolerant()
    proto.makeConnection(StringTransport())
    proto.dataReceived(b"x" * (proto.MAX_LENGTH + 1))
    proto.dataReceived(b"DELETE-EVERYTHING\r\nok\r\n")
    assert b"DELETE-EVERYTHING" not in proto.lines
