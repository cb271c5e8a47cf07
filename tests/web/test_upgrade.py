"""Tests of Request.switchProtocol: 101 responses handing the connection to another protocol."""

from __future__ import annotations

from typing import Any

import pytest

from torsion.internet.error import ConnectionDone
from torsion.internet.protocol import Protocol
from torsion.python.failure import Failure
from torsion.web import resource, server

UPGRADE = (b"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")


class Recorder(Protocol):
    """The protocol switched to: records what it gets."""

    def __init__(self) -> None:
        self.data = b""
        self.lost: list[Failure] = []
        self.made = False

    def connectionMade(self) -> None:
        self.made = True

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason: Failure | None = None) -> None:
        assert reason is not None
        self.lost.append(reason)


class Switcher(resource.Resource):
    """Switches at once, later (held), or declines, as told."""

    isLeaf = True

    def __init__(self, mode: str) -> None:
        super().__init__()
        self.mode = mode
        self.protocol = Recorder()
        self.pending: list[server.Request] = []

    def render_GET(self, request: server.Request) -> Any:
        if self.mode == "decline" or not request.requestHeaders.hasHeader(b"upgrade"):
            return b"plain " + request.path
        request.setHeader(b"connection", b"Upgrade")
        request.setHeader(b"upgrade", b"echo")
        if self.mode == "now":
            request.switchProtocol(self.protocol)
        else:
            self.pending.append(request)
        return server.NOT_DONE_YET


def test_switchSends101AndForwardsBytes(connectSite: Any) -> None:
    """The 101 head goes out, then bytes after the request reach the new protocol."""
    switcher = Switcher("now")
    conn = connectSite(switcher)
    out = conn.send(UPGRADE + b"first frame")
    assert out.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Upgrade: echo\r\n" in out and b"Content-Length" not in out
    assert switcher.protocol.made and switcher.protocol.data == b"first frame"
    conn.send(b" and more")
    assert switcher.protocol.data == b"first frame and more"
    assert not conn.transport.disconnecting


def test_bytesHeldUntilLaterSwitch(connectSite: Any) -> None:
    """Bytes arriving before an asynchronous switch are held, then delivered in order."""
    switcher = Switcher("later")
    conn = connectSite(switcher)
    conn.send(UPGRADE + b"early ")
    conn.send(b"bytes")
    assert switcher.protocol.data == b""
    switcher.pending[0].switchProtocol(switcher.protocol)
    assert switcher.protocol.data == b"early bytes"
    assert conn.take().startswith(b"HTTP/1.1 101 ")


def test_declinedUpgradeKeepsSpeakingHttp(connectSite: Any, parse: Any) -> None:
    """A resource that ignores Upgrade answers normally and later requests still work."""
    conn = connectSite(Switcher("decline"))
    out = conn.send(UPGRADE + b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
    assert [r.body for r in parse(out)] == [b"plain /ws", b"plain /next"]


def test_heldBytesParsedAfterAsyncDecline(connectSite: Any, parse: Any) -> None:
    """If a held upgrade request is finally answered normally, held bytes are parsed."""
    switcher = Switcher("later")
    conn = connectSite(switcher)
    conn.send(UPGRADE + b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
    request = switcher.pending[0]
    request.setResponseCode(426)
    request.responseHeaders.removeHeader(b"upgrade")
    request.write(b"no")
    request.finish()
    responses = parse(conn.take())
    assert [(r.code, r.body) for r in responses] == [(426, b"no"), (200, b"plain /next")]


def test_switchWithoutUpgradeHeaderRefused(connectSite: Any) -> None:
    """switchProtocol on a request that offered no Upgrade raises RuntimeError."""
    seen: list[BaseException] = []

    class Eager(resource.Resource):
        isLeaf = True

        def render_GET(self, request: server.Request) -> bytes:
            try:
                request.switchProtocol(Recorder())
            except RuntimeError as e:
                seen.append(e)
            return b"ok"

    connectSite(Eager()).send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert len(seen) == 1


def test_connectionLostReachesNewProtocol(connectSite: Any) -> None:
    """After the switch, the connection's loss is reported to the new protocol."""
    switcher = Switcher("now")
    conn = connectSite(switcher)
    conn.send(UPGRADE)
    conn.channel.connectionLost(Failure(ConnectionDone()))
    assert len(switcher.protocol.lost) == 1


def test_switchAfterResponseStartedRefused() -> None:
    """switchProtocol once the response has started raises RuntimeError."""
    request = server.Request()
    request.startedWriting = True
    with pytest.raises(RuntimeError):
        request.switchProtocol(Recorder())


def _serveUpperEcho(reactor: Any) -> tuple[int, list[Any], list[bool]]:
    """Serve on 127.0.0.1 a Site that switches every GET to an upper-casing echo protocol.

    Returns the port, the channels that switched, and for each read of the echo protocol
    whether its transport already delivered straight to it; "!" at a read's end closes.
    """
    channels: list[Any] = []
    seen: list[bool] = []

    class Echo(Protocol):
        def dataReceived(self, data: bytes) -> None:
            seen.append(self.transport.protocol is self)
            self.transport.write(data.upper())
            if data.endswith(b"!"):
                self.transport.loseConnection()

    class ToEcho(resource.Resource):
        isLeaf = True

        def render_GET(self, request: server.Request) -> int:
            channels.append(request.channel)
            request.setHeader(b"connection", b"Upgrade")
            request.setHeader(b"upgrade", b"echo")
            request.switchProtocol(Echo())
            return server.NOT_DONE_YET

    port = reactor.listenTCP(0, server.Site(ToEcho(), reactor=reactor), interface="127.0.0.1")
    return port.getHost().port, channels, seen


@pytest.mark.integration
def test_switchOverRealSocket(reactor: Any, run: Any) -> None:
    """Over a real connection, an upgraded echo protocol answers after the 101."""
    from webrawclient import rawRequest

    port, _, _ = _serveUpperEcho(reactor)
    out = rawRequest(reactor, run, port, UPGRADE + b"hello", until=b"HELLO", then=b" bye!")
    assert out.startswith(b"HTTP/1.1 101 Switching Protocols")
    assert out.endswith(b"\r\n\r\nHELLO BYE!")


def test_heldBytesPauseReadingUntilSwitch(connectSite: Any) -> None:
    """Past maxHeaderBytes of held bytes reading pauses; the switch delivers them and resumes."""
    switcher = Switcher("later")
    conn = connectSite(switcher, maxHeaderBytes=1000)
    conn.send(UPGRADE + b"a" * 600)
    assert conn.transport.producerState == "producing"
    conn.send(b"b" * 600)
    assert conn.transport.producerState == "paused"
    switcher.pending[0].switchProtocol(switcher.protocol)
    assert switcher.protocol.data == b"a" * 600 + b"b" * 600
    assert conn.transport.producerState == "producing"


def test_heldBytesPastHardBoundClose(connectSite: Any) -> None:
    """A peer whose transport keeps delivering while paused is disconnected."""
    switcher = Switcher("later")
    conn = connectSite(switcher, maxHeaderBytes=1000)
    conn.send(UPGRADE)
    for _ in range(20):
        conn.send(b"z" * 1000)
    assert conn.transport.disconnecting


def test_declineResumesPausedReading(connectSite: Any, parse: Any) -> None:
    """Reading paused for held bytes resumes once the upgrade request is answered normally."""
    switcher = Switcher("later")
    conn = connectSite(switcher, maxHeaderBytes=1000)
    padded = b"GET /next HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"p" * 600 + b"\r\n\r\n"
    conn.send(UPGRADE + padded + padded)
    assert conn.transport.producerState == "paused"
    request = switcher.pending[0]
    request.setResponseCode(426)
    request.finish()
    assert conn.transport.producerState == "producing"
    assert [r.code for r in parse(conn.take())] == [426, 200, 200]


def test_switchHandsTransportOverWhenItCan(connectSite: Any) -> None:
    """A transport with setProtocol is given the new protocol, after the held bytes."""
    switcher = Switcher("later")
    conn = connectSite(switcher)
    handed: list[tuple[Any, bytes]] = []
    conn.transport.setProtocol = lambda p: handed.append(  # type: ignore[attr-defined]
        (p, switcher.protocol.data))
    conn.send(UPGRADE + b"early")
    switcher.pending[0].switchProtocol(switcher.protocol)
    assert handed == [(switcher.protocol, b"early")]


@pytest.mark.integration
def test_readsGoStraightToNewProtocolOverRealSocket(reactor: Any, run: Any) -> None:
    """On a real connection, reads after the switch reach the new protocol, not the channel."""
    from webrawclient import rawRequest

    port, channels, seen = _serveUpperEcho(reactor)
    out = rawRequest(reactor, run, port, UPGRADE, until=b"\r\n\r\n", then=b"bye!")
    assert out.endswith(b"BYE!") and seen and all(seen)
    assert channels[0].transport.protocol is not channels[0]
