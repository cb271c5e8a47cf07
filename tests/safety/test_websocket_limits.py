"""Hostile WebSocket peers: a frame announcing exabytes, endless fragments, ping floods.

A server protocol on a StringTransport with raw frames written by hand (a real client
library would refuse to send most of them).
"""

from __future__ import annotations

import os
import struct

from torsion.internet.testing import StringTransport
from torsion.web.websocket import WebSocketServerProtocol


class _Recorder(WebSocketServerProtocol):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[bytes] = []

    def onMessage(self, payload: bytes, isBinary: bool) -> None:
        self.messages.append(payload)


def _frame(opcode: int, payload: bytes, fin: bool = True, length: int | None = None) -> bytes:
    """A masked client frame; `length` may lie about the payload's size."""
    n = len(payload) if length is None else length
    first = (0x80 if fin else 0) | opcode
    if n < 126:
        head = struct.pack("!BB", first, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, n)
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def _server() -> tuple[_Recorder, StringTransport]:
    proto = _Recorder()
    transport = StringTransport()
    proto.makeConnection(transport)
    return proto, transport


def test_defaultMessageLimit() -> None:
    """Messages are bounded to 16 MiB by default."""
    assert WebSocketServerProtocol.maxMessageSize == 16 * 1024 * 1024


def test_hugeAnnouncedFrameIsCutAtMessageLimit() -> None:
    """A frame announcing 2**62 bytes closes the connection once maxMessageSize bytes arrived."""
    proto, transport = _server()
    proto.maxMessageSize = 1024 * 1024
    proto.dataReceived(_frame(0x2, b"", length=2**62))
    zeros = bytes(65536)
    fed = 0
    while not transport.disconnecting and fed < 8 * 1024 * 1024:
        proto.dataReceived(zeros)
        fed += len(zeros)
    assert transport.disconnecting
    assert fed <= proto.maxMessageSize + 65536
    assert proto.messages == []


def test_endlessFragmentsAreCutAtMessageLimit() -> None:
    """Continuation frames that never finish a message are cut at maxMessageSize."""
    proto, transport = _server()
    proto.maxMessageSize = 1024 * 1024
    proto.dataReceived(_frame(0x2, bytes(1000), fin=False))
    sent = 0
    while not transport.disconnecting and sent < 4000:
        proto.dataReceived(_frame(0x0, bytes(1000), fin=False))
        sent += 1
    assert transport.disconnecting
    assert sent <= 1100
    assert proto.messages == []


def test_oversizedControlFrameIsProtocolError() -> None:
    """A ping with more than 125 bytes of payload (RFC 6455 §5.5) closes the connection."""
    proto, transport = _server()
    proto.dataReceived(_frame(0x9, bytes(200)))
    assert transport.disconnecting


def test_reservedOpcodeIsProtocolError() -> None:
    """A frame with a reserved opcode closes the connection."""
    proto, transport = _server()
    proto.dataReceived(_frame(0x3, b"x"))
    assert transport.disconnecting


def test_invalidUtf8TextIsRefused() -> None:
    """A text message that is not UTF-8 is never delivered and closes the connection."""
    proto, transport = _server()
    proto.dataReceived(_frame(0x1, b"\xff\xfe"))
    assert proto.messages == []
    assert transport.disconnecting
