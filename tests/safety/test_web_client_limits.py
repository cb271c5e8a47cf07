"""Hostile HTTP servers against the web client: bounded heads, redirects, credentials, timeouts.

Each server is a raw protocol on a real socket on 127.0.0.1 that answers with canned
bytes (or never answers), so the client's own limits are what is tested.
"""

from __future__ import annotations

import zlib
from typing import Any

import pytest

from torsion.internet import defer
from torsion.internet.defer import Deferred
from torsion.internet.protocol import Factory, Protocol
from torsion.web import client
from torsion.web.http_headers import Headers


class _Canned(Protocol):
    """Reads a request head, records it, and answers with the factory's canned bytes."""

    def connectionMade(self) -> None:
        self.buffer = b""
        self.answered = False

    def dataReceived(self, data: bytes) -> None:
        self.buffer += data
        if b"\r\n\r\n" in self.buffer and not self.answered:
            self.answered = True
            self.factory.requests.append(self.buffer)
            answer = self.factory.answer
            if callable(answer):
                answer = answer(self)
            if answer:
                self.transport.write(answer)
            if self.factory.closeAfter:
                self.transport.loseConnection()


def _serve(reactor: Any, answer: Any, closeAfter: bool = False) -> tuple[Any, bytes]:
    """Listen with a canned-answer server; return (factory, base URL)."""
    factory = Factory.forProtocol(_Canned)
    factory.answer = answer  # type: ignore[attr-defined]
    factory.requests = []  # type: ignore[attr-defined]
    factory.closeAfter = closeAfter  # type: ignore[attr-defined]
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    return factory, b"http://127.0.0.1:%d" % (port.getHost().port,)


def _fails(run: Any, d: Deferred[Any], *types: type[BaseException]) -> BaseException:
    """Run `d`, expecting a failure; return the exception (unwrapping ResponseFailed)."""
    with pytest.raises(Exception) as info:
        run(d, timeout=5)
    exc = info.value
    reasons = getattr(exc, "reasons", None)
    if types and not isinstance(exc, types) and reasons:
        for reason in reasons:
            if reason.check(*types):
                return reason.value  # type: ignore[no-any-return]
    assert isinstance(exc, types) if types else True, repr(exc)
    return exc


def test_clientLimitDefaults() -> None:
    """Response heads are bounded (64 KiB, 200 fields) and redirects to 20 by default."""
    from torsion.web import _newclient

    assert _newclient.MAX_HEADER_BYTES == 65536
    assert _newclient.MAX_HEADER_COUNT == 200
    assert client.RedirectAgent(None)._redirectLimit == 20


def _endless(start: bytes, filler: bytes) -> Any:
    """An answer writing `start`, then 4 MiB of `filler` with no line end (a head never done)."""

    def answer(proto: Any) -> bytes:
        proto.transport.write(start)
        for _ in range(64):
            proto.transport.write(filler * 65536)
        return b""

    return answer


def test_tooManyResponseHeadersFail(reactor: Any, run: Any) -> None:
    """A response with more header fields than the limit fails with HeadersTooLarge."""
    fields = b"".join(b"X-%d: a\r\n" % i for i in range(500))
    _, url = _serve(reactor, b"HTTP/1.1 200 OK\r\n" + fields + b"Content-Length: 0\r\n\r\n")
    tooLarge = _newclientError("HeadersTooLarge")
    _fails(run, client.Agent(reactor).request(b"GET", url + b"/"), tooLarge)


def test_endlessResponseHeaderFails(reactor: Any, run: Any) -> None:
    """A header line that never ends fails once it passes the head limit."""
    _, url = _serve(reactor, _endless(b"HTTP/1.1 200 OK\r\nX-Big: ", b"a"))
    tooLarge = _newclientError("HeadersTooLarge")
    _fails(run, client.Agent(reactor).request(b"GET", url + b"/"), tooLarge)


def test_endlessStatusLineFails(reactor: Any, run: Any) -> None:
    """A status line that never ends fails once it passes the head limit."""
    _, url = _serve(reactor, _endless(b"HTTP/1.1 200 ", b"O"))
    _fails(run, client.Agent(reactor).request(b"GET", url + b"/"))


def test_garbageResponseFails(reactor: Any, run: Any) -> None:
    """A response that is not HTTP fails the request with a clear ResponseFailed."""
    _, url = _serve(reactor, b"SSH-2.0-OpenSSH_9.0\r\n\r\n", closeAfter=True)
    _fails(run, client.Agent(reactor).request(b"GET", url + b"/"), client.ResponseFailed)


def test_redirectLoopStopsAtLimit(reactor: Any, run: Any) -> None:
    """A server redirecting to itself forever fails with InfiniteRedirection after the limit."""
    from torsion.web import error

    factory, url = _serve(
        reactor, b"HTTP/1.1 302 Found\r\nLocation: /again\r\nContent-Length: 0\r\n\r\n",
        closeAfter=True,
    )
    agent = client.RedirectAgent(client.Agent(reactor), redirectLimit=5)
    _fails(run, agent.request(b"GET", url + b"/"), error.InfiniteRedirection)
    assert len(factory.requests) == 6


@pytest.mark.parametrize("location", [b"file:///etc/passwd", b"ftp://127.0.0.1/x", b"gopher://x/"])
def test_redirectToOtherSchemeIsRefused(reactor: Any, run: Any, location: bytes) -> None:
    """A redirect to a non-HTTP scheme fails; nothing is read from it."""
    _, url = _serve(
        reactor, b"HTTP/1.1 302 Found\r\nLocation: " + location + b"\r\nContent-Length: 0\r\n\r\n",
        closeAfter=True,
    )
    agent = client.RedirectAgent(client.Agent(reactor))
    _fails(run, agent.request(b"GET", url + b"/"))


@pytest.mark.parametrize("agentClass", [client.RedirectAgent, client.BrowserLikeRedirectAgent])
def test_credentialsDroppedAcrossOrigins(reactor: Any, run: Any, agentClass: Any) -> None:
    """Authorization, Cookie and Proxy-Authorization do not follow a redirect to another origin."""
    target, targetURL = _serve(
        reactor, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", closeAfter=True
    )
    _, url = _serve(
        reactor,
        b"HTTP/1.1 302 Found\r\nLocation: " + targetURL + b"/x\r\nContent-Length: 0\r\n\r\n",
        closeAfter=True,
    )
    headers = Headers({
        b"Authorization": [b"Bearer secret-token"],
        b"Cookie": [b"session=secret-cookie"],
        b"Proxy-Authorization": [b"Basic c2VjcmV0"],
        b"X-Other": [b"kept"],
    })
    response = run(agentClass(client.Agent(reactor)).request(b"GET", url + b"/", headers))
    assert response.code == 200
    seen = target.requests[0].lower()
    assert b"secret" not in seen and b"c2vjcmv0" not in seen
    assert b"x-other: kept" in seen


def test_credentialsKeptOnSameOrigin(reactor: Any, run: Any) -> None:
    """On a same-origin redirect the Authorization header is kept (so the test above can fail)."""
    state = {"n": 0}

    def answer(proto: Any) -> bytes:
        state["n"] += 1
        if state["n"] == 1:
            return b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n"
        return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"

    factory, url = _serve(reactor, answer, closeAfter=True)
    headers = Headers({b"Authorization": [b"Bearer secret-token"]})
    run(client.RedirectAgent(client.Agent(reactor)).request(b"GET", url + b"/", headers))
    assert b"secret-token" in factory.requests[1]


def test_httpsToHttpRedirectDropsCredentials() -> None:
    """A redirect from https to http of the same host is another origin: credentials go."""
    from torsion.web.client import URI

    assert URI.fromBytes(b"https://a.example/").origin() != URI.fromBytes(
        b"http://a.example/"
    ).origin()


def test_silentServerHitsRequestTimeout(reactor: Any, run: Any) -> None:
    """A server that never answers fails the request at requestTimeout."""
    _, url = _serve(reactor, b"")
    agent = client.Agent(reactor, requestTimeout=0.3)
    _fails(run, agent.request(b"GET", url + b"/"), defer.TimeoutError)


def test_bodyThatNeverEndsHitsFetchTimeout(reactor: Any, run: Any) -> None:
    """A body that never finishes fails getPage at its timeout, and the connection is closed."""
    factory, url = _serve(reactor, b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
    d = client.getPage(url + b"/", reactor=reactor, timeout=0.3)
    _fails(run, d, defer.TimeoutError, defer.CancelledError)


def test_bodyThatNeverEndsCanBeCancelled(reactor: Any, run: Any) -> None:
    """readBody's Deferred can be cancelled while a body trickles, closing the connection."""
    lost: Deferred[None] = Deferred()

    class Trickle(_Canned):
        def connectionLost(self, reason: Any = None) -> None:
            lost.callback(None)

    factory = Factory.forProtocol(Trickle)
    factory.answer = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial"  # type: ignore[attr-defined]
    factory.requests = []  # type: ignore[attr-defined]
    factory.closeAfter = False  # type: ignore[attr-defined]
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    response = run(client.Agent(reactor).request(
        b"GET", b"http://127.0.0.1:%d/" % (port.getHost().port,)))
    body = client.readBody(response)
    reactor.callLater(0.05, body.cancel)
    _fails(run, body, defer.CancelledError, Exception)
    run(lost, timeout=5)


def _gzipBombResponse(reactor: Any, run: Any, mebibytes: int) -> Any:
    """The response, through ContentDecoderAgent, to a gzip body of `mebibytes` MiB of zeros."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"\x00" * (1024 * 1024)
    bomb = b"".join(compressor.compress(block) for _ in range(mebibytes)) + compressor.flush()
    head = (b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
            % (len(bomb),))
    _, url = _serve(reactor, head + bomb, closeAfter=True)
    agent = client.ContentDecoderAgent(client.Agent(reactor), [(b"gzip", client.GzipDecoder)])
    return run(agent.request(b"GET", url + b"/"))


def test_gzipBombIsDeliveredInBoundedPieces(reactor: Any, run: Any) -> None:
    """A small gzip body that inflates to 64 MiB reaches the body protocol in bounded pieces."""
    inflated = 64 * 1024 * 1024
    response = _gzipBombResponse(reactor, run, inflated // (1024 * 1024))

    class Counter(Protocol):
        def __init__(self) -> None:
            self.biggest = 0
            self.total = 0
            self.done: Deferred[None] = Deferred()

        def dataReceived(self, data: bytes) -> None:
            self.biggest = max(self.biggest, len(data))
            self.total += len(data)

        def connectionLost(self, reason: Any = None) -> None:
            self.done.callback(None)

    counter = Counter()
    response.deliverBody(counter)
    run(counter.done, timeout=30)
    assert counter.total == inflated
    assert counter.biggest <= 1024 * 1024, counter.biggest


def test_gzipBodyProtocolCanStopTheBomb(reactor: Any, run: Any) -> None:
    """A body protocol that stops the transport after 1 MiB gets nothing more inflated."""
    response = _gzipBombResponse(reactor, run, 64)

    class Limited(Protocol):
        def __init__(self) -> None:
            self.total = 0
            self.afterLost = 0
            self.lost = False
            self.done: Deferred[None] = Deferred()

        def dataReceived(self, data: bytes) -> None:
            if self.lost:
                self.afterLost += len(data)
            self.total += len(data)
            if self.total > 1024 * 1024 and not self.lost:
                self.transport.stopProducing()

        def connectionLost(self, reason: Any = None) -> None:
            self.lost = True
            if not self.done.called:
                self.done.callback(None)

    body = Limited()
    response.deliverBody(body)
    run(body.done, timeout=10)
    assert body.afterLost == 0
    assert body.total < 4 * 1024 * 1024


def _newclientError(name: str) -> type[BaseException]:
    from torsion.web import _newclient

    return getattr(_newclient, name)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        (b"GET", b"/a\r\nEvil: 1"),
        (b"GET", b"/a b"),
        (b"GET", b"/a\x00b"),
        (b"GET / HTTP/1.1\r\nEvil: 1\r\n\r\nGET", b"/"),
        (b"GE T", b"/"),
    ],
)
def test_requestInjectionIsRefusedBeforeSending(
    reactor: Any, run: Any, method: bytes, path: bytes
) -> None:
    """CR/LF, spaces or NUL in the method or target fail the request; nothing is sent."""
    factory, url = _serve(reactor, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    _fails(run, client.Agent(reactor).request(method, url + path), ValueError)
    assert factory.requests == []


def test_requestHeaderInjectionIsRefused() -> None:
    """A request header value with CR/LF is refused by Headers itself."""
    with pytest.raises(ValueError):
        Headers({b"X-A": [b"v\r\nEvil: 1"]})


def test_endlessInformationalResponsesHitRequestTimeout(reactor: Any, run: Any) -> None:
    """A server sending 100 Continue forever fails the request (head limit or timeout)."""

    def flood(proto: Any) -> bytes:
        def more() -> None:
            if proto.transport.connected:
                proto.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n" * 100)
                reactor.callLater(0.001, more)

        more()
        return b""

    _, url = _serve(reactor, flood)
    agent = client.Agent(reactor, requestTimeout=2)
    _fails(run, agent.request(b"GET", url + b"/"), defer.TimeoutError,
           _newclientError("HeadersTooLarge"))
