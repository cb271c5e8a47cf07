"""Tests for torsion.protocols.basic: line, netstring and length-prefixed framing."""

from __future__ import annotations

import struct
from io import BytesIO
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from torsion.internet.testing import StringTransport
from torsion.logger import capturedLogs, formatEvent
from torsion.protocols import basic


def feed(proto: Any, data: bytes, chunks: list[int] | None = None) -> None:
    """Feed ``data`` to ``proto`` in pieces of the given sizes (the rest in one piece)."""
    pos = 0
    for size in chunks or []:
        proto.dataReceived(data[pos : pos + size])
        pos += size
    if pos < len(data):
        proto.dataReceived(data[pos:])


def splits(data: bytes) -> st.SearchStrategy[list[int]]:
    """Strategy: chunk sizes covering ``data`` in any way."""
    return st.lists(st.integers(min_value=0, max_value=max(1, len(data))), max_size=len(data) + 1)


# --- LineReceiver ------------------------------------------------------------------------


class Lines(basic.LineReceiver):
    """Records lines and raw data; understands 'raw N' to read N raw bytes."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []
        self.raw: list[bytes] = []
        self.exceeded: list[bytes] = []
        self._rawLeft = 0

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line)
        if line.startswith(b"raw "):
            self._rawLeft = int(line[4:])
            if self._rawLeft:
                self.setRawMode()

    def rawDataReceived(self, data: bytes) -> None:
        take, rest = data[: self._rawLeft], data[self._rawLeft :]
        self._rawLeft -= len(take)
        self.raw.append(take)
        if not self._rawLeft:
            self.setLineMode(rest)

    def lineLengthExceeded(self, line: bytes) -> None:
        self.exceeded.append(line)
        basic.LineReceiver.lineLengthExceeded(self, line)


def connected(proto: Any) -> StringTransport:
    """Connect ``proto`` to a fresh StringTransport and return it."""
    t = StringTransport()
    proto.makeConnection(t)
    return t


def test_linesInOneChunk() -> None:
    """Many lines in one chunk are delivered in order, without delimiters."""
    p = Lines()
    connected(p)
    p.dataReceived(b"a\r\nbb\r\n\r\nccc\r\npartial")
    assert p.lines == [b"a", b"bb", b"", b"ccc"]
    p.dataReceived(b"\r\n")
    assert p.lines[-1] == b"partial"


def test_linesByteByByte() -> None:
    """A stream fed byte by byte (delimiter split across calls) gives the same lines."""
    p = Lines()
    connected(p)
    for b in b"one\r\ntwo\r\n":
        p.dataReceived(bytes([b]))
    assert p.lines == [b"one", b"two"]


def test_customDelimiter() -> None:
    """The delimiter attribute selects the line terminator."""
    p = Lines()
    p.delimiter = b"\n"
    connected(p)
    p.dataReceived(b"a\nb\r\n")
    assert p.lines == [b"a", b"b\r"]


def test_rawModeMidChunk() -> None:
    """Switching to raw mode inside lineReceived hands the rest of the chunk over raw."""
    p = Lines()
    connected(p)
    p.dataReceived(b"raw 5\r\nHELLOnext\r\n")
    assert p.lines == [b"raw 5", b"next"]
    assert p.raw == [b"HELLO"]


def test_rawPayloadContainingDelimiter() -> None:
    """Raw data containing the delimiter is not split into lines."""
    p = Lines()
    connected(p)
    p.dataReceived(b"raw 4\r\n\r\n\r\nz\r\n")
    assert p.raw == [b"\r\n\r\n"] and p.lines == [b"raw 4", b"z"]


def test_setLineModeWithExtra() -> None:
    """setLineMode(extra) parses extra as lines at once."""
    p = Lines()
    connected(p)
    p.setRawMode()
    p._rawLeft = 2
    p.dataReceived(b"xyline1\r\nline2\r\n")
    assert p.raw == [b"xy"] and p.lines == [b"line1", b"line2"]


@settings(deadline=None)
@given(st.data())
def test_anySplitGivesSameLinesAndRaw(data: st.DataObject) -> None:
    """Any split of a stream mixing lines and raw blocks yields the same messages."""
    stream = b"hello\r\nraw 8\r\nab\r\ncd\r\nworld\r\nraw 0\r\n\r\nend\r\ntail"
    chunks = data.draw(splits(stream))
    whole, split = Lines(), Lines()
    connected(whole)
    connected(split)
    whole.dataReceived(stream)
    feed(split, stream, chunks)
    assert split.lines == whole.lines == [b"hello", b"raw 8", b"world", b"raw 0", b"", b"end"]
    assert b"".join(split.raw) == b"".join(whole.raw) == b"ab\r\ncd\r\n"


@settings(deadline=None)
@given(st.lists(st.binary(max_size=20).filter(lambda b: b"\r\n" not in b), max_size=20), st.data())
def test_anyLinesAnySplit(lines: list[bytes], data: st.DataObject) -> None:
    """Arbitrary lines, arbitrarily split, come out exactly as sent."""
    stream = b"".join(line + b"\r\n" for line in lines)
    p = Lines()
    connected(p)
    feed(p, stream, data.draw(splits(stream)))
    # A line ending in '\r' followed by the delimiter is ambiguous; none is generated here
    # except through concatenation "\r" + "\r\n", which is still one line ending in '\r'.
    assert p.lines == lines


@pytest.mark.parametrize("window", [1, 2, 3, 7, 16])
@settings(deadline=None)
@given(data=st.data())
def test_anySplitWithTinyWindows(window: int, data: st.DataObject) -> None:
    """Lines, raw blocks and delimiters straddling the split window all survive any split."""
    stream = b"hello\r\nraw 8\r\nab\r\ncd\r\nworld\r\nraw 0\r\n\r\na-much-longer-line\r\nend\r\n"
    chunks = data.draw(splits(stream))
    originals = basic._WINDOW, basic._FIRST_WINDOW
    basic._WINDOW = basic._FIRST_WINDOW = window
    try:
        p = Lines()
        connected(p)
        feed(p, stream, chunks)
    finally:
        basic._WINDOW, basic._FIRST_WINDOW = originals
    assert p.lines == [
        b"hello", b"raw 8", b"world", b"raw 0", b"", b"a-much-longer-line", b"end"
    ]
    assert b"".join(p.raw) == b"ab\r\ncd\r\n"


def test_manyLinesAcrossWindows() -> None:
    """A chunk far larger than the split window delivers every line in order."""
    lines = [b"line %d" % i for i in range(20000)]
    p = Lines()
    connected(p)
    p.dataReceived(b"".join(line + b"\r\n" for line in lines))
    assert p.lines == lines


def test_lineLongerThanWindow() -> None:
    """A line longer than the split window (but within MAX_LENGTH) is delivered whole."""
    p = Lines()
    p.MAX_LENGTH = 100000
    connected(p)
    long = b"x" * (basic._WINDOW * 3 + 5)
    p.dataReceived(b"a\r\n" + long + b"\r\nb\r\n")
    assert p.lines == [b"a", long, b"b"]


def test_modeSwitchPerMessageIsFast() -> None:
    """Switching to raw mode after every line of a big chunk wastes only a small window
    per switch, so 20000 switches in one chunk parse in well under a second."""
    count = 20000
    stream = b"raw 3\r\nabc" * count
    p = Lines()
    connected(p)
    p.dataReceived(stream)
    assert len(p.lines) == count and b"".join(p.raw) == b"abc" * count


def test_lineTooLongWithoutDelimiter() -> None:
    """Buffered data longer than MAX_LENGTH without a delimiter calls lineLengthExceeded and
    closes the connection."""
    p = Lines()
    p.MAX_LENGTH = 10
    t = connected(p)
    p.dataReceived(b"x" * 12)
    assert p.exceeded == [b"x" * 12] and t.disconnecting


def test_lineTooLongWithDelimiter() -> None:
    """A complete line over MAX_LENGTH is refused with the rest of the buffer."""
    p = Lines()
    p.MAX_LENGTH = 3
    t = connected(p)
    p.dataReceived(b"ok\r\ntoolong\r\nmore")
    assert p.lines == [b"ok"]
    assert p.exceeded == [b"toolong\r\nmore"] and t.disconnecting


def test_lineAtMaxLengthAccepted() -> None:
    """A line of exactly MAX_LENGTH bytes is accepted."""
    p = Lines()
    p.MAX_LENGTH = 3
    connected(p)
    p.dataReceived(b"abc")
    p.dataReceived(b"\r\n")
    assert p.lines == [b"abc"] and p.exceeded == []


def test_stopsAfterLoseConnection() -> None:
    """Lines after one whose handler closed the connection are not delivered."""

    class Quitter(Lines):
        def lineReceived(self, line: bytes) -> None:
            super().lineReceived(line)
            if line == b"quit":
                self.transport.loseConnection()

    p = Quitter()
    connected(p)
    p.dataReceived(b"a\r\nquit\r\nb\r\n")
    assert p.lines == [b"a", b"quit"]


def test_clearLineBufferInsideLineReceived() -> None:
    """clearLineBuffer in lineReceived returns the undelivered rest and drops it."""
    got: list[bytes] = []

    class Clearer(Lines):
        def lineReceived(self, line: bytes) -> None:
            super().lineReceived(line)
            got.append(self.clearLineBuffer())

    p = Clearer()
    connected(p)
    p.dataReceived(b"a\r\nb\r\nc")
    assert p.lines == [b"a"] and got == [b"b\r\nc"]
    p.dataReceived(b"d\r\n")
    assert p.lines == [b"a", b"d"]


def test_reentrantDataReceivedKeepsOrder() -> None:
    """Data fed from inside lineReceived is handled after the current chunk's lines."""

    class Feeder(Lines):
        def lineReceived(self, line: bytes) -> None:
            super().lineReceived(line)
            if line == b"a":
                self.dataReceived(b"z\r\n")

    p = Feeder()
    connected(p)
    p.dataReceived(b"a\r\nb\r\n")
    assert p.lines == [b"a", b"b", b"z"]


def test_pauseProducingHoldsLines() -> None:
    """Lines are held while paused and delivered on resumeProducing."""

    class Pauser(Lines):
        def lineReceived(self, line: bytes) -> None:
            super().lineReceived(line)
            if line == b"pause":
                self.pauseProducing()

    p = Pauser()
    t = connected(p)
    p.dataReceived(b"pause\r\nlater\r\n")
    assert p.lines == [b"pause"] and t.producerState == "paused"
    p.resumeProducing()
    assert p.lines == [b"pause", b"later"] and t.producerState == "producing"


def test_stopProducing() -> None:
    """stopProducing stops delivery and the transport."""
    p = Lines()
    t = connected(p)
    p.stopProducing()
    p.dataReceived(b"x\r\n")
    assert p.lines == [] and t.producerState == "stopped"


def test_sendLine() -> None:
    """sendLine appends the delimiter."""
    p = Lines()
    t = connected(p)
    p.sendLine(b"hi")
    assert t.value() == b"hi\r\n"


def test_lineReceiverUnimplemented() -> None:
    """The base class's lineReceived/rawDataReceived must be overridden."""
    p = basic.LineReceiver()
    connected(p)
    with pytest.raises(NotImplementedError):
        p.dataReceived(b"x\r\n")
    with pytest.raises(NotImplementedError):
        p.rawDataReceived(b"x")


# --- LineOnlyReceiver ------------------------------------------------------------------------


class OnlyLines(basic.LineOnlyReceiver):
    """Records lines."""

    def __init__(self) -> None:
        self.lines: list[bytes] = []

    def lineReceived(self, line: bytes) -> None:
        self.lines.append(line)


@settings(deadline=None)
@given(st.lists(st.binary(max_size=20).filter(lambda b: b"\r\n" not in b), max_size=20), st.data())
def test_lineOnlyAnySplit(lines: list[bytes], data: st.DataObject) -> None:
    """LineOnlyReceiver delivers the same lines however the stream is split."""
    stream = b"".join(line + b"\r\n" for line in lines)
    p = OnlyLines()
    connected(p)
    feed(p, stream, data.draw(splits(stream)))
    assert p.lines == lines


def test_lineOnlyTooLong() -> None:
    """LineOnlyReceiver closes on a line over MAX_LENGTH, complete or not."""
    p = OnlyLines()
    p.MAX_LENGTH = 4
    t = connected(p)
    p.dataReceived(b"abcdefgh")
    assert t.disconnecting and p.lines == []
    p2 = OnlyLines()
    p2.MAX_LENGTH = 4
    t2 = connected(p2)
    p2.dataReceived(b"ok\r\nabcdefgh\r\nlater\r\n")
    assert t2.disconnecting and p2.lines == [b"ok"]


def test_lineOnlyStopsWhenDisconnecting() -> None:
    """LineOnlyReceiver drops the lines after the connection started closing."""

    class Quitter(OnlyLines):
        def lineReceived(self, line: bytes) -> None:
            super().lineReceived(line)
            self.transport.loseConnection()

    p = Quitter()
    connected(p)
    p.dataReceived(b"a\r\nb\r\n")
    assert p.lines == [b"a"]


# --- NetstringReceiver -----------------------------------------------------------------------


class Strings(basic.NetstringReceiver):
    """Records strings."""

    def __init__(self) -> None:
        self.strings: list[bytes] = []

    def stringReceived(self, string: bytes) -> None:
        self.strings.append(string)


def test_netstringSend() -> None:
    """sendString writes <len>:<data>,."""
    p = Strings()
    t = connected(p)
    p.sendString(b"hello")
    p.sendString(b"")
    assert t.value() == b"5:hello,0:,"


@settings(deadline=None)
@given(st.lists(st.binary(max_size=30), max_size=10), st.data())
def test_netstringAnySplit(strings: list[bytes], data: st.DataObject) -> None:
    """Any split of a stream of netstrings yields the same strings."""
    stream = b"".join(b"%d:%s," % (len(s), s) for s in strings)
    p = Strings()
    t = connected(p)
    feed(p, stream, data.draw(splits(stream)))
    assert p.strings == strings and not t.disconnecting


def test_netstringByteByByte() -> None:
    """Netstrings fed one byte at a time are delivered intact."""
    p = Strings()
    connected(p)
    for b in b"5:hello,0:,3:a,b,":
        p.dataReceived(bytes([b]))
    assert p.strings == [b"hello", b"", b"a,b"]


def test_netstringTrailingPartial() -> None:
    """A trailing partial netstring is kept until completed."""
    p = Strings()
    connected(p)
    p.dataReceived(b"3:abc,4:de")
    assert p.strings == [b"abc"]
    p.dataReceived(b"fg,")
    assert p.strings == [b"abc", b"defg"]


@pytest.mark.parametrize(
    "bad",
    [b"x:abc,", b"3:abcX", b"03:abc,", b":abc,", b"-1:", b"3 :abc,", b"1000000:"],
)
def test_netstringMalformedClosesAndLogs(bad: bytes) -> None:
    """Malformed input closes the connection and logs a NetstringParseError."""
    p = Strings()
    p.MAX_LENGTH = 99999
    t = connected(p)
    with capturedLogs() as events:
        p.dataReceived(b"1:a," + bad + b"1:b,")
    assert p.strings == [b"a"] and p.brokenPeer and t.disconnecting
    assert any("malformed netstring" in formatEvent(e) for e in events)
    assert isinstance(events[-1]["error"], basic.NetstringParseError)


def test_netstringTooLongRefusedEarly() -> None:
    """A length prefix over MAX_LENGTH is refused before the colon or payload arrives."""
    p = Strings()
    p.MAX_LENGTH = 10
    t = connected(p)
    with capturedLogs():
        p.dataReceived(b"11")
    assert t.disconnecting


def test_netstringIgnoresDataAfterBreak() -> None:
    """Nothing is delivered after the peer sent garbage."""
    p = Strings()
    connected(p)
    with capturedLogs():
        p.dataReceived(b"garbage")
    p.dataReceived(b"1:a,")
    assert p.strings == []


# --- IntNStringReceiver ----------------------------------------------------------------------


class Int32(basic.Int32StringReceiver):
    """Records strings."""

    def __init__(self) -> None:
        self.strings: list[bytes] = []

    def stringReceived(self, string: bytes) -> None:
        self.strings.append(string)


class Int16(Int32, basic.Int16StringReceiver):
    """16-bit prefixes."""

    structFormat = "!H"
    prefixLength = 2


class Int8(Int32, basic.Int8StringReceiver):
    """8-bit prefixes."""

    structFormat = "!B"
    prefixLength = 1


@pytest.mark.parametrize("cls", [Int8, Int16, Int32])
@settings(deadline=None)
@given(strings=st.lists(st.binary(max_size=40), max_size=10), data=st.data())
def test_intNAnySplit(cls: type[Int32], strings: list[bytes], data: st.DataObject) -> None:
    """Any split of a stream of prefixed strings yields the same strings."""
    sender = cls()
    t = connected(sender)
    for s in strings:
        sender.sendString(s)
    stream = t.value()
    p = cls()
    connected(p)
    feed(p, stream, data.draw(splits(stream)))
    assert p.strings == strings


def test_intNByteByByteWithTrailingData() -> None:
    """Prefixed strings fed byte by byte are delivered; a trailing partial one waits."""
    p = Int16()
    connected(p)
    for b in b"\x00\x02ab\x00\x00\x00\x03cd":
        p.dataReceived(bytes([b]))
    assert p.strings == [b"ab", b""]
    p.dataReceived(b"e")
    assert p.strings == [b"ab", b"", b"cde"]


def test_int32Wire() -> None:
    """Int32StringReceiver uses a 4-byte big-endian prefix."""
    p = Int32()
    t = connected(p)
    p.sendString(b"abc")
    assert t.value() == b"\x00\x00\x00\x03abc"


def test_intNStringTooLongToSend() -> None:
    """sendString refuses a string that does not fit the prefix."""
    p = Int8()
    t = connected(p)
    with pytest.raises(basic.StringTooLongError):
        p.sendString(b"x" * 256)
    p.sendString(b"x" * 255)
    assert len(t.value()) == 256


def test_intNLengthLimitExceeded() -> None:
    """A prefix over MAX_LENGTH calls lengthLimitExceeded, which closes the connection."""
    p = Int32()
    p.MAX_LENGTH = 10
    t = connected(p)
    p.dataReceived(struct.pack("!I", 11))
    assert t.disconnecting and p.strings == []


def test_intNPause() -> None:
    """Strings are held while paused and delivered on resume."""

    class Pauser(Int32):
        def stringReceived(self, string: bytes) -> None:
            super().stringReceived(string)
            self.pauseProducing()

    p = Pauser()
    connected(p)
    p.dataReceived(b"\x00\x00\x00\x01a\x00\x00\x00\x01b")
    assert p.strings == [b"a"]
    p.resumeProducing()
    assert p.strings == [b"a", b"b"]


def test_intNReentrantKeepsOrder() -> None:
    """Data fed from stringReceived is cut after the strings already buffered."""

    class Feeder(Int32):
        def stringReceived(self, string: bytes) -> None:
            super().stringReceived(string)
            if string == b"a":
                self.dataReceived(b"\x00\x00\x00\x01z")

    p = Feeder()
    connected(p)
    p.dataReceived(b"\x00\x00\x00\x01a\x00\x00\x00\x01b")
    assert p.strings == [b"a", b"b", b"z"]


# --- FileSender --------------------------------------------------------------------------------


def test_fileSenderSendsWholeFile() -> None:
    """FileSender streams the file in chunks and fires with the last byte sent."""
    t = StringTransport()
    sender = basic.FileSender()
    sender.CHUNK_SIZE = 4
    got: list[Any] = []
    sender.beginFileTransfer(BytesIO(b"0123456789"), t).addCallback(got.append)
    assert t.producer is sender and t.streaming is False
    while t.producer is not None:
        sender.resumeProducing()
    assert t.value() == b"0123456789" and got == [b"9"]


def test_fileSenderTransform() -> None:
    """The transform is applied to each chunk."""
    t = StringTransport()
    sender = basic.FileSender()
    sender.beginFileTransfer(BytesIO(b"abc"), t, bytes.upper)
    while t.producer is not None:
        sender.resumeProducing()
    assert t.value() == b"ABC"


def test_fileSenderEmptyFile() -> None:
    """An empty file fires with b''."""
    t = StringTransport()
    got: list[Any] = []
    sender = basic.FileSender()
    sender.beginFileTransfer(BytesIO(b""), t).addCallback(got.append)
    sender.resumeProducing()
    assert got == [b""] and t.producer is None


def test_fileSenderStopFails() -> None:
    """stopProducing fails the Deferred."""
    t = StringTransport()
    got: list[Any] = []
    sender = basic.FileSender()
    sender.beginFileTransfer(BytesIO(b"abc"), t).addErrback(got.append)
    sender.stopProducing()
    assert len(got) == 1 and "stop producing" in got[0].getErrorMessage()
