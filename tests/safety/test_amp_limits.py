"""Hostile AMP input: key/value limits, a box that never ends, bad commands and arguments.

Unit tests on a StringTransport; the limits close the connection, bad commands get an
error box and leave the connection usable.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest

from torsion.internet.testing import StringTransport
from torsion.protocols import amp


class Add(amp.Command):
    arguments = [(b"a", amp.Integer()), (b"b", amp.Integer())]
    response = [(b"total", amp.Integer())]


class _Server(amp.AMP):
    @Add.responder
    def add(self, a: int, b: int) -> dict[str, int]:
        return {"total": a + b}


def _pair(key: bytes, value: bytes) -> bytes:
    return struct.pack("!H", len(key)) + key + struct.pack("!H", len(value)) + value


def _box(**items: bytes) -> bytes:
    return b"".join(_pair(k.encode(), v) for k, v in items.items()) + b"\x00\x00"


def _connect() -> tuple[_Server, StringTransport]:
    proto = _Server()
    transport = StringTransport()
    proto.makeConnection(transport)
    return proto, transport


def test_limitDefaults() -> None:
    """Keys are bounded to 255 bytes and values to 65535 (the wire format's own limits)."""
    assert amp.MAX_KEY_LENGTH == 255
    assert amp.MAX_VALUE_LENGTH == 65535


def test_overlongKeyClosesConnection() -> None:
    """A key announced longer than 255 bytes closes the connection."""
    proto, transport = _connect()
    proto.dataReceived(struct.pack("!H", 256) + b"k" * 256)
    assert transport.disconnecting


def test_nothingParsedAfterOverlongKey() -> None:
    """After an over-long key, a well-formed command that follows is not answered."""
    proto, transport = _connect()
    proto.dataReceived(struct.pack("!H", 300))
    transport.clear()
    proto.dataReceived(_box(_command=b"Add", _ask=b"1", a=b"1", b=b"2"))
    assert transport.value() == b""


def test_sendingOverlongValueRaises() -> None:
    """Serialising a value over 65535 bytes raises TooLong instead of a corrupt frame."""
    with pytest.raises(amp.TooLong):
        amp.AmpBox({b"k": b"v" * 65536}).serialize()


def test_sendingOverlongKeyRaises() -> None:
    """Serialising a key over 255 bytes raises TooLong."""
    with pytest.raises(amp.TooLong):
        amp.AmpBox({b"k" * 256: b"v"}).serialize()


def test_boxWithoutEndIsBounded() -> None:
    """10 MB of distinct keys with no terminating empty key cannot all be held."""
    proto, transport = _connect()
    value = b"v" * 60000
    fed = 0
    n = 0
    while fed < 10 * 1024 * 1024 and not transport.disconnecting:
        data = _pair(b"k%d" % n, value)
        proto.dataReceived(data)
        fed += len(data)
        n += 1
    assert transport.disconnecting


def test_unknownCommandGetsErrorAndConnectionStays() -> None:
    """An unknown command is answered UNHANDLED; the next command still works."""
    proto, transport = _connect()
    proto.dataReceived(_box(_command=b"Nope", _ask=b"1"))
    assert b"UNHANDLED" in transport.value()
    assert not transport.disconnecting
    transport.clear()
    proto.dataReceived(_box(_command=b"Add", _ask=b"2", a=b"1", b=b"2"))
    assert amp.parseString(transport.value())[0][b"total"] == b"3"


def test_badArgumentGetsErrorAnswer() -> None:
    """An argument that does not parse is answered with an error box, not a crash."""
    proto, transport = _connect()
    proto.dataReceived(_box(_command=b"Add", _ask=b"1", a=b"one", b=b"2"))
    answers = amp.parseString(transport.value())
    assert answers and b"_error" in answers[0]


def test_missingArgumentGetsErrorAnswer() -> None:
    """A command missing a required argument is answered with an error box."""
    proto, transport = _connect()
    proto.dataReceived(_box(_command=b"Add", _ask=b"1", a=b"1"))
    answers = amp.parseString(transport.value())
    assert answers and b"_error" in answers[0]


@pytest.mark.parametrize(
    "box",
    [
        _box(_answer=b"999", total=b"1"),
        _box(_error=b"999", _error_code=b"X", _error_description=b"d"),
        _box(x=b"y"),
    ],
    ids=["unknown-answer", "unknown-error", "no-command"],
)
def test_strayBoxIsLoggedAndCloses(box: bytes) -> None:
    """An answer to a question never asked, or a box that is neither, is logged and closes."""
    from torsion.logger import capturedLogs

    proto, transport = _connect()
    with capturedLogs() as events:
        proto.dataReceived(box)
    assert transport.disconnecting
    assert events


def test_emptyBoxIsRefused() -> None:
    """An empty box (no keys at all) is a protocol error that closes the connection."""
    proto, transport = _connect()
    proto.dataReceived(b"\x00\x00")
    assert transport.disconnecting


def test_floodOfSmallCommandsIsAnswered() -> None:
    """Ten thousand commands in one read are all answered in order."""
    proto, transport = _connect()
    proto.dataReceived(b"".join(
        _box(_command=b"Add", _ask=b"%d" % i, a=b"%d" % i, b=b"1") for i in range(10000)
    ))
    answers = amp.parseString(transport.value())
    assert len(answers) == 10000
    assert answers[-1][b"total"] == b"10000"


def test_commandFloodFromNonReadingPeerIsBounded(reactor: Any, run: Any) -> None:
    """A peer flooding commands without reading the answers cannot grow our buffer unbounded."""
    import socket

    from rawclient import floodWithoutReading

    from torsion.internet.protocol import Factory

    servers: list[Any] = []

    class Recorded(_Server):
        def connectionMade(self) -> None:
            servers.append(self)
            super().connectionMade()

    port = reactor.listenTCP(0, Factory.forProtocol(Recorded), interface="127.0.0.1")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port.getHost().port))
    sock.setblocking(False)
    burst = b"".join(_box(_command=b"Add", _ask=b"%d" % i, a=b"1", b=b"2") for i in range(200))
    try:
        floodWithoutReading(reactor, run, sock, burst, total=8_000_000)
        held = servers[0].transport._transport.get_write_buffer_size()
    finally:
        sock.close()
    assert held < 1_000_000, f"server holds {held} bytes of answers"
