"""Hostile WebSocket peers: a frame announcing exabytes, endless fragments, ping floods.

A server protocol on a StringTransport with raw frames written by hand (a real client
library would refuse to send most of them).
"""

from __future__ import annotations

import os
import struct
from typing import Any

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


def test_pingFloodFromNonReadingPeerIsBounded(reactor: Any, run: Any) -> None:
    """A peer flooding pings without reading the pongs gets one pong per read, not per ping.

    RFC 6455 §5.5.3 lets a server answer only the latest of the pings it has received.
    """
    import base64
    import socket

    from rawclient import floodWithoutReading

    from torsion.web import server
    from torsion.web.websocket import WebSocketResource, WebSocketServerFactory

    protocols: list[Any] = []

    class Recorded(WebSocketServerProtocol):
        def connectionMade(self) -> None:
            protocols.append(self)
            super().connectionMade()

    factory = WebSocketServerFactory(reactor=reactor)
    factory.protocol = Recorded
    site = server.Site(WebSocketResource(factory), reactor=reactor)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port.getHost().port))
    key = base64.b64encode(os.urandom(16))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
    sock.setblocking(False)
    ping = _frame(0x9, b"p" * 125) * 64
    try:
        sent = floodWithoutReading(reactor, run, sock, ping, total=8_000_000, startDelay=0.05)
        held = protocols[0].transport._transport.get_write_buffer_size()
    finally:
        sock.close()
    assert sent >= 1_000_000
    assert held < 512 * 1024, f"server holds {held} bytes of pongs"


def test_pingsInOneReadGetOnePongForTheLatest() -> None:
    """Three pings in one read are answered by one pong carrying the latest payload."""
    from wsproto import ConnectionType
    from wsproto.connection import Connection
    from wsproto.events import Pong

    proto, transport = _server()
    proto.dataReceived(_frame(0x9, b"1") + _frame(0x9, b"2") + _frame(0x9, b"3"))
    peer = Connection(ConnectionType.CLIENT)
    peer.receive_data(transport.value())
    pongs = [e for e in peer.events() if isinstance(e, Pong)]
    assert [bytes(p.payload) for p in pongs] == [b"3"]


def test_pingBeforeMessageIsAnsweredBeforeTheMessageIsHandled() -> None:
    """A ping followed by a message is answered before the message reaches onMessage."""
    proto, transport = _server()
    seen: list[bytes] = []
    proto.onMessage = lambda payload, isBinary: seen.append(transport.value())  # type: ignore
    proto.dataReceived(_frame(0x9, b"p") + _frame(0x2, b"m"))
    assert len(seen) == 1 and seen[0].endswith(b"\x8a\x01p")
