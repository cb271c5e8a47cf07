"""The web client's bounds by default: Agent's connect timeout and the body size limit of
getPage/get/post/request and readBody(maxSize=...).

Real sockets on 127.0.0.1 (torsion's Site, or a raw server writing canned bytes) except
for the connect timeout, which is read off a MemoryReactorClock's connection attempts.
"""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from torsion.internet.defer import Deferred
from torsion.internet.protocol import Factory, Protocol
from torsion.internet.testing import MemoryReactorClock
from torsion.python.failure import Failure
from torsion.web import resource, server
from torsion.web.client import (
    DEFAULT_MAX_BODY_SIZE,
    Agent,
    PartialDownloadError,
    ResponseTooLarge,
    get,
    getPage,
    readBody,
    request,
)

# -- connect timeout -------------------------------------------------------------------------


def attemptTimeout(agent: Agent, reactor: MemoryReactorClock) -> Any:
    """Start a request through `agent` and return the timeout of its connection attempt."""
    agent.request(b"GET", b"http://127.0.0.1:8080/")
    return reactor.tcpClients[0][3]


def test_agentConnectTimeoutDefaultsTo30Seconds() -> None:
    """An Agent given no connectTimeout bounds each connection attempt to 30 seconds."""
    reactor = MemoryReactorClock()
    assert attemptTimeout(Agent(reactor), reactor) == 30


def test_agentConnectTimeoutGivenIsUsed() -> None:
    """An Agent's connectTimeout is the timeout of its connection attempts."""
    reactor = MemoryReactorClock()
    assert attemptTimeout(Agent(reactor, connectTimeout=2.5), reactor) == 2.5


def test_agentDefaultConnectTimeoutOverridable() -> None:
    """A subclass may change defaultConnectTimeout for agents given no connectTimeout."""

    class Patient(Agent):
        defaultConnectTimeout = 120.0

    reactor = MemoryReactorClock()
    assert attemptTimeout(Patient(reactor), reactor) == 120.0


# -- peers -----------------------------------------------------------------------------------


class Endless(Protocol):
    """A raw server that answers any request with a chunked body that never ends."""

    def __init__(self, reactor: Any, lost: Deferred[None]) -> None:
        self.reactor = reactor
        self.lost = lost
        self.started = False

    def dataReceived(self, data: bytes) -> None:
        if not self.started:
            self.started = True
            self.transport.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            self.more()

    def more(self) -> None:
        if self.transport is not None and self.transport.connected:
            self.transport.write(b"4000\r\n" + b"z" * 0x4000 + b"\r\n")
            self.reactor.callLater(0, self.more)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.transport = None
        self.lost.callback(None)


def listenEndless(reactor: Any) -> tuple[str, Deferred[None]]:
    """Serve an endless chunked body; return the URL and a Deferred fired when the
    server's connection is lost."""
    lost: Deferred[None] = Deferred()
    factory = Factory.forProtocol(lambda: Endless(reactor, lost))
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    return "http://127.0.0.1:%d/" % (port.getHost().port,), lost


class Canned(Protocol):
    """A raw server writing `reply` once the request head is in, keeping the connection."""

    def __init__(self, reply: bytes) -> None:
        self.reply = reply
        self.seen = b""

    def dataReceived(self, data: bytes) -> None:
        self.seen += data
        if b"\r\n\r\n" in self.seen and self.reply:
            self.transport.write(self.reply)
            self.reply = b""


def listenCanned(reactor: Any, reply: bytes) -> str:
    """Serve `reply` to the first request; return the URL."""
    port = reactor.listenTCP(0, Factory.forProtocol(lambda: Canned(reply)),
                             interface="127.0.0.1")
    return "http://127.0.0.1:%d/" % (port.getHost().port,)


class Fixed(resource.Resource):
    """A leaf answering every request with `body` (gzip-encoded if asked)."""

    isLeaf = True

    def __init__(self, body: bytes, gzipped: bool = False) -> None:
        super().__init__()
        self.body = gzip.compress(body) if gzipped else body
        self.gzipped = gzipped

    def render(self, request: Any) -> bytes:
        if self.gzipped:
            request.setHeader(b"content-encoding", b"gzip")
        return self.body


def listenSite(reactor: Any, root: Any) -> str:
    """Serve `root` on 127.0.0.1; return the URL."""
    port = reactor.listenTCP(0, server.Site(root, reactor=reactor), interface="127.0.0.1")
    return "http://127.0.0.1:%d/" % (port.getHost().port,)


# -- short forms -----------------------------------------------------------------------------


def test_defaultMaxBodySizeIs64MiB() -> None:
    """The short forms read at most 64 MiB of body unless told otherwise."""
    assert DEFAULT_MAX_BODY_SIZE == 64 * 1024 * 1024


def test_getPageRefusesAnnouncedBodyOverDefaultLimit(reactor: Any, run: Any) -> None:
    """A Content-Length over 64 MiB fails getPage at once, without downloading the body."""
    url = listenCanned(reactor, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n"
                       % (DEFAULT_MAX_BODY_SIZE + 1,))
    with pytest.raises(ResponseTooLarge) as info:
        run(getPage(url, reactor=reactor), timeout=5)
    assert (info.value.maxSize, info.value.length) == (
        DEFAULT_MAX_BODY_SIZE, DEFAULT_MAX_BODY_SIZE + 1)


def test_getPageStopsEndlessBodyAtLimit(reactor: Any, run: Any) -> None:
    """A body that never ends fails getPage past maxBodySize and the download stops."""
    url, lost = listenEndless(reactor)
    with pytest.raises(ResponseTooLarge) as info:
        run(getPage(url, reactor=reactor, maxBodySize=200_000), timeout=5)
    assert info.value.length > 200_000
    run(lost, timeout=5)


def test_getPageBodyAtLimitSucceeds(reactor: Any, run: Any) -> None:
    """A body of exactly maxBodySize bytes is returned."""
    url = listenSite(reactor, Fixed(b"a" * 1000))
    assert run(getPage(url, reactor=reactor, maxBodySize=1000)) == b"a" * 1000


def test_getPageBodyOneOverLimitFails(reactor: Any, run: Any) -> None:
    """A body one byte over maxBodySize fails with ResponseTooLarge."""
    url = listenSite(reactor, Fixed(b"a" * 1001))
    with pytest.raises(ResponseTooLarge):
        run(getPage(url, reactor=reactor, maxBodySize=1000))


def test_maxBodySizeNoneIsUnlimited(reactor: Any, run: Any) -> None:
    """maxBodySize=None reads a body of any size."""
    url = listenSite(reactor, Fixed(b"b" * 300_000))
    assert len(run(getPage(url, reactor=reactor, maxBodySize=None))) == 300_000


def test_getContentOverLimitFails(reactor: Any, run: Any) -> None:
    """get(...)'s response content() fails with ResponseTooLarge past maxBodySize."""
    url = listenSite(reactor, Fixed(b"c" * 5000))

    async def go() -> bytes:
        response = await get(url, reactor=reactor, maxBodySize=4096)
        return await response.content()

    with pytest.raises(ResponseTooLarge):
        run(go())


def test_inflatedBodyCountsAgainstLimit(reactor: Any, run: Any) -> None:
    """A small gzip body that inflates past maxBodySize fails (a decompression bomb)."""
    url = listenSite(reactor, Fixed(b"\0" * 5_000_000, gzipped=True))

    async def go() -> bytes:
        response = await request(b"GET", url, reactor=reactor, maxBodySize=1_000_000)
        return await response.content()

    with pytest.raises(ResponseTooLarge):
        run(go())


def test_negativeMaxBodySizeRefused() -> None:
    """A negative maxBodySize is a ValueError, not a limit that fails every response."""
    with pytest.raises(ValueError):
        request(b"GET", b"http://127.0.0.1:1/", reactor=MemoryReactorClock(), maxBodySize=-1)


# -- readBody ----------------------------------------------------------------------------------


def readWith(reactor: Any, url: str, **kw: Any) -> Deferred[bytes]:
    """GET `url` through a plain Agent and readBody(response, **kw)."""

    async def go() -> bytes:
        response = await Agent(reactor).request(b"GET", url.encode("ascii"))
        return await readBody(response, **kw)

    return Deferred.fromCoroutine(go())


def test_readBodyUnlimitedByDefault(reactor: Any, run: Any) -> None:
    """readBody keeps Twisted's semantics: a body over 64 MiB's worth is not refused."""
    url = listenCanned(reactor, b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\nabc"
                       % (DEFAULT_MAX_BODY_SIZE + 1,))

    async def go() -> Any:
        response = await Agent(reactor).request(b"GET", url.encode("ascii"))
        d = readBody(response)
        # A limit would refuse the announced length at once, inside readBody.
        fired = d.called
        d.cancel()
        d.addErrback(lambda _: None)
        return fired

    assert run(go()) is False


def test_readBodyMaxSizeStopsDownload(reactor: Any, run: Any) -> None:
    """readBody(maxSize=...) fails with ResponseTooLarge past the limit and stops reading."""
    url, lost = listenEndless(reactor)
    with pytest.raises(ResponseTooLarge):
        run(readWith(reactor, url, maxSize=100_000), timeout=5)
    run(lost, timeout=5)


def test_readBodyMaxSizeKeepsPartialDownloadSemantics(reactor: Any, run: Any) -> None:
    """Under its maxSize a close-delimited body still fails with PartialDownloadError."""
    port = reactor.listenTCP(0, Factory.forProtocol(lambda: _CloseDelimited()),
                             interface="127.0.0.1")
    url = "http://127.0.0.1:%d/" % (port.getHost().port,)
    with pytest.raises(PartialDownloadError) as info:
        run(readWith(reactor, url, maxSize=100))
    assert info.value.response == b"all of it"


class _CloseDelimited(Protocol):
    """Answers with an HTTP/1.0 close-delimited body."""

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(b"HTTP/1.0 200 OK\r\n\r\nall of it")
        self.transport.loseConnection()
