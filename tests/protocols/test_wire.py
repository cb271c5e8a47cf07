"""Tests for torsion.protocols.wire: the small RFC 862-868 services."""

from __future__ import annotations

import struct
import subprocess
import sys
from typing import Any

from torsion.internet.defer import Deferred
from torsion.internet.protocol import ClientFactory, Factory, Protocol
from torsion.internet.task import Clock
from torsion.internet.testing import StringTransport
from torsion.protocols import wire
from torsion.python.failure import Failure


def connect(proto: Any) -> StringTransport:
    """Connect ``proto`` to a StringTransport and return it."""
    t = StringTransport()
    proto.makeConnection(t)
    return t


def test_echo() -> None:
    """Echo writes back what it receives."""
    p = wire.Echo()
    t = connect(p)
    p.dataReceived(b"abc")
    p.dataReceived(b"\x00\xff")
    assert t.value() == b"abc\x00\xff" and not t.disconnecting


def test_discard() -> None:
    """Discard writes nothing."""
    p = wire.Discard()
    t = connect(p)
    p.dataReceived(b"abc")
    assert t.value() == b""


def test_chargenIsPullProducer() -> None:
    """Chargen registers itself as a pull producer and writes a block per resume."""
    p = wire.Chargen()
    t = connect(p)
    assert t.producer is p and t.streaming is False
    p.resumeProducing()
    p.resumeProducing()
    assert t.value() == p.noise * 2


def test_chargenPatternFollowsRFC864() -> None:
    """Each line has 72 printable characters and starts one character after the previous."""
    lines = wire.Chargen.noise.split(b"\r\n")[:-1]
    assert len(lines) == 95
    assert all(len(line) == 72 for line in lines)
    assert lines[0].startswith(b' !"#') and lines[1].startswith(b'!"#$')
    assert lines[94][0:1] == b"~" and lines[94][1:2] == b" "


def test_qotd() -> None:
    """QOTD sends its quote and closes."""
    t = connect(wire.QOTD())
    assert t.value() == b"An apple a day keeps the doctor away.\r\n" and t.disconnecting


def test_who() -> None:
    """Who sends the users and closes."""
    t = connect(wire.Who())
    assert t.value() == b"root\r\n" and t.disconnecting


def test_daytime() -> None:
    """Daytime sends the UTC time in asctime format and closes."""
    p = wire.Daytime()
    clock = Clock()
    clock.advance(86400 * 365)
    p.clock = clock
    t = connect(p)
    assert t.value() == b"Fri Jan  1 00:00:00 1971\r\n" and t.disconnecting


def test_timeIsSecondsSince1900() -> None:
    """Time sends 32-bit big-endian seconds since 1900 (RFC 868's example: 2398291200 is
    1976-01-01)."""
    p = wire.Time()
    clock = Clock()
    clock.advance(189302400)  # 1976-01-01T00:00:00Z
    p.clock = clock
    t = connect(p)
    assert t.value() == struct.pack("!I", 2398291200) and t.disconnecting


def test_timeWrapsAfter2036() -> None:
    """The 32-bit count wraps modulo 2**32 instead of failing to pack."""
    p = wire.Time()
    clock = Clock()
    clock.advance(2**32 - wire.TIME_EPOCH_OFFSET + 5)
    p.clock = clock
    t = connect(p)
    assert struct.unpack("!I", t.value()) == (5,)


def test_timeUsesSystemClockByDefault() -> None:
    """Without a clock, Time reports about now."""
    import time

    t = connect(wire.Time())
    (sent,) = struct.unpack("!I", t.value())
    assert abs(sent - wire.TIME_EPOCH_OFFSET - time.time()) < 5


class Collect(Protocol):
    """Collects everything until the connection closes."""

    def __init__(self, done: Deferred[bytes], send: bytes = b"") -> None:
        self.done = done
        self.send = send
        self.data = b""

    def connectionMade(self) -> None:
        if self.send:
            self.transport.write(self.send)

    def dataReceived(self, data: bytes) -> None:
        self.data += data
        if self.send and len(self.data) >= len(self.send):
            self.transport.loseConnection()

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.done.callback(self.data)


def test_echoOverRealSocket(reactor: Any, run: Any) -> None:
    """Echo served on a real port echoes a client's bytes."""
    port = reactor.listenTCP(0, Factory.forProtocol(wire.Echo), interface="127.0.0.1")
    done: Deferred[bytes] = Deferred()
    f = ClientFactory()
    f.protocol = lambda: Collect(done, b"ping" * 1000)
    reactor.connectTCP("127.0.0.1", port.getHost().port, f)
    assert run(done) == b"ping" * 1000


def test_timeReadByIndependentClient(reactor: Any, run: Any) -> None:
    """A plain-socket client in another process decodes Time's answer as RFC 868 says."""
    port = reactor.listenTCP(0, Factory.forProtocol(wire.Time), interface="127.0.0.1")
    script = (
        "import socket,struct,sys,time\n"
        f"s=socket.create_connection(('127.0.0.1',{port.getHost().port}))\n"
        "d=b''\n"
        "while len(d)<4:\n"
        "    c=s.recv(4)\n"
        "    if not c: break\n"
        "    d+=c\n"
        "print(abs(struct.unpack('!I',d)[0]-2208988800-time.time())<5)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    from torsion.internet.threads import deferToThreadPool

    out = run(deferToThreadPool(reactor, reactor.getThreadPool(), proc.communicate))
    assert out[0].strip() == b"True"
