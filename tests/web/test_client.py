"""Integration tests of the HTTP client over real sockets on 127.0.0.1.

Peers: torsion's own Site for ordinary exchanges, and tiny raw-socket servers (a Protocol
that writes canned bytes) for framing edge cases and broken responses.
"""

from __future__ import annotations

import gzip
import io
import json
from http.cookiejar import CookieJar
from typing import Any

import pytest

from torsion.internet import task
from torsion.internet.defer import Deferred, TimeoutError
from torsion.internet.endpoints import TCP4ClientEndpoint
from torsion.internet.protocol import Factory, Protocol
from torsion.internet.ssl import selfSignedPair
from torsion.web import error, resource, server
from torsion.web.client import (
    Agent,
    BrowserLikePolicyForHTTPS,
    BrowserLikeRedirectAgent,
    ContentDecoderAgent,
    CookieAgent,
    FileBodyProducer,
    GzipDecoder,
    HTTPConnectionPool,
    PartialDownloadError,
    ProxyAgent,
    RedirectAgent,
    ResponseFailed,
    ResponseNeverReceived,
    get,
    getPage,
    post,
    readBody,
)
from torsion.web.http_headers import Headers

# -- peers -----------------------------------------------------------------------------------


class Page(resource.Resource):
    """A leaf that records each request and answers with what `answer` returns."""

    isLeaf = True

    def __init__(self, answer: Any = None) -> None:
        super().__init__()
        self.requests: list[Any] = []
        self.bodies: list[bytes] = []
        self.channels: list[int] = []
        self._answer = answer or (lambda request: b"hello")

    def render(self, request: Any) -> Any:
        self.requests.append(request)
        self.bodies.append(request.content.read())
        self.channels.append(id(request.channel))
        return self._answer(request)


def listenSite(reactor: Any, root: Any, contextFactory: Any = None) -> str:
    """Serve `root` on 127.0.0.1 and return the base URL."""
    site = server.Site(root, reactor=reactor)
    if contextFactory is None:
        port = reactor.listenTCP(0, site, interface="127.0.0.1")
        return "http://127.0.0.1:%d" % (port.getHost().port,)
    port = reactor.listenSSL(0, site, contextFactory, interface="127.0.0.1")
    return "https://localhost:%d" % (port.getHost().port,)


class Canned(Protocol):
    """A raw server: on the first bytes of a request, writes `reply` (and maybe closes)."""

    def __init__(self, reply: list[bytes], close: bool, seen: list[bytes]) -> None:
        self.reply = reply
        self.close = close
        self.seen = seen

    def dataReceived(self, data: bytes) -> None:
        self.seen.append(data)
        if b"\r\n\r\n" not in b"".join(self.seen):
            return
        for piece in self.reply:
            self.transport.write(piece)
        if self.close:
            self.transport.loseConnection()


def listenRaw(reactor: Any, reply: list[bytes], close: bool = True) -> tuple[str, list[bytes]]:
    """Start a raw server answering with `reply`; return its URL and the bytes it saw."""
    seen: list[bytes] = []
    factory = Factory.forProtocol(lambda: Canned(reply, close, seen))
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    return "http://127.0.0.1:%d" % (port.getHost().port,), seen


def fetch(agent: Any, url: str, method: bytes = b"GET", **kw: Any) -> Deferred[Any]:
    """Request `url` and fire with (response, body)."""

    async def go() -> Any:
        response = await agent.request(method, url.encode("ascii"), **kw)
        body = await readBody(response)
        return response, body

    return Deferred.fromCoroutine(go())


# -- Agent and Site --------------------------------------------------------------------------


def test_agentFetchesPageFromSite(reactor: Any, run: Any) -> None:
    """A GET through Agent returns the Site's status, headers and body."""
    url = listenSite(reactor, Page())
    response, body = run(fetch(Agent(reactor), url + "/x"))
    assert (response.code, body) == (200, b"hello")
    assert response.headers.getRawHeaders(b"content-length") == [b"5"]


def test_persistentPoolReusesConnection(reactor: Any, run: Any) -> None:
    """Two requests through a persistent pool are served on one server connection."""
    page = Page()
    url = listenSite(reactor, page)
    agent = Agent(reactor, pool=HTTPConnectionPool(reactor))
    run(fetch(agent, url))
    run(fetch(agent, url))
    assert len(page.channels) == 2 and page.channels[0] == page.channels[1]


def test_nonPersistentAgentUsesNewConnections(reactor: Any, run: Any) -> None:
    """Without a persistent pool each request has its own connection (Connection: close)."""
    page = Page()
    url = listenSite(reactor, page)
    agent = Agent(reactor)
    run(fetch(agent, url))
    run(fetch(agent, url))
    assert page.requests[0].getHeader(b"connection") == b"close"
    assert len(page.channels) == 2


def test_fileBodyProducerUploads(reactor: Any, run: Any) -> None:
    """A POST body from FileBodyProducer reaches the server intact."""
    page = Page()
    url = listenSite(reactor, page)
    data = bytes(range(256)) * 1000
    cooperator = task.Cooperator(scheduler=lambda f: reactor.callLater(0, f))
    producer = FileBodyProducer(io.BytesIO(data), cooperator=cooperator, readSize=8192)
    run(fetch(Agent(reactor), url, b"POST", bodyProducer=producer))
    assert page.bodies == [data]


# -- raw peers: framing and broken responses ------------------------------------------------


def test_chunkedResponseInPieces(reactor: Any, run: Any) -> None:
    """A chunked body written in several pieces is reassembled."""
    url, _ = listenRaw(reactor, [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nab",
        b"cd\r\n3\r\nefg\r\n0\r\n\r\n",
    ], close=False)
    _, body = run(fetch(Agent(reactor), url))
    assert body == b"abcdefg"


def test_closeDelimitedBodyIsPartialForReadBody(reactor: Any, run: Any) -> None:
    """readBody of a close-delimited body fails with PartialDownloadError holding the body."""
    url, _ = listenRaw(reactor, [b"HTTP/1.0 200 OK\r\n\r\nall of it"])
    with pytest.raises(PartialDownloadError) as info:
        run(fetch(Agent(reactor), url))
    assert info.value.response == b"all of it"


def test_getPageAcceptsCloseDelimitedBody(reactor: Any, run: Any) -> None:
    """getPage returns a close-delimited body as complete."""
    url, _ = listenRaw(reactor, [b"HTTP/1.0 200 OK\r\n\r\nall of it"])
    assert run(getPage(url, reactor=reactor)) == b"all of it"


def test_malformedResponseFails(reactor: Any, run: Any) -> None:
    """A peer that does not speak HTTP makes the request fail with ResponseNeverReceived."""
    url, _ = listenRaw(reactor, [b"garbage\r\n\r\n"])
    with pytest.raises(ResponseNeverReceived):
        run(fetch(Agent(reactor), url))


def test_connectionClosedWithoutResponse(reactor: Any, run: Any) -> None:
    """A peer that closes without answering makes the request fail with ResponseNeverReceived."""
    url, _ = listenRaw(reactor, [])
    with pytest.raises(ResponseNeverReceived):
        run(fetch(Agent(reactor), url))


def test_requestTimeout(reactor: Any, run: Any) -> None:
    """A server that never answers trips the agent's requestTimeout."""
    url, _ = listenRaw(reactor, [], close=False)
    with pytest.raises(TimeoutError):
        run(fetch(Agent(reactor, requestTimeout=0.2), url))


def test_proxyAgentSendsAbsoluteURI(reactor: Any, run: Any) -> None:
    """ProxyAgent sends the absolute URI in the request line to the proxy (RFC 9112 §3.2.2)."""
    url, seen = listenRaw(reactor, [b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"])
    port = int(url.rsplit(":", 1)[1])
    agent = ProxyAgent(TCP4ClientEndpoint(reactor, "127.0.0.1", port), reactor)
    _, body = run(fetch(agent, "http://example.com/a?b=c#frag"))
    assert body == b"ok"
    # The fragment never goes on the wire.
    assert b"".join(seen).startswith(b"GET http://example.com/a?b=c HTTP/1.1\r\n")
    assert b"Host: example.com\r\n" in b"".join(seen)


# -- HTTPS -----------------------------------------------------------------------------------


def test_httpsWithTrustedCertificate(reactor: Any, run: Any) -> None:
    """HTTPS to a server whose certificate is trusted and names the host succeeds."""
    cert = selfSignedPair("localhost")
    url = listenSite(reactor, Page(), cert.options())
    agent = Agent(reactor, contextFactory=BrowserLikePolicyForHTTPS(trustRoot=cert))
    response, body = run(fetch(agent, url))
    assert (response.code, body) == (200, b"hello")


def test_httpsHostnameMismatchFails(reactor: Any, run: Any) -> None:
    """A trusted certificate for another host name is refused (RFC 6125)."""
    cert = selfSignedPair("example.com")
    url = listenSite(reactor, Page(), cert.options())
    agent = Agent(reactor, contextFactory=BrowserLikePolicyForHTTPS(trustRoot=cert))
    with pytest.raises(Exception) as info:
        run(fetch(agent, url))
    assert "certificate" in repr(info.value).lower() or "hostname" in repr(info.value).lower()


def test_httpsUntrustedCertificateFails(reactor: Any, run: Any) -> None:
    """By default a self-signed certificate is not trusted."""
    cert = selfSignedPair("localhost")
    url = listenSite(reactor, Page(), cert.options())
    with pytest.raises(Exception) as info:
        run(fetch(Agent(reactor), url))
    assert "certificate" in repr(info.value).lower()


# -- redirects -------------------------------------------------------------------------------


def redirectTo(target: str, code: int = 302) -> Any:
    def answer(request: Any) -> bytes:
        request.setResponseCode(code)
        request.setHeader(b"location", target.encode("ascii"))
        return b"moved"

    return answer


def test_redirectAcrossOriginsDropsCredentials(reactor: Any, run: Any) -> None:
    """Authorization and Cookie are not sent to another origin after a redirect."""
    target = Page()
    targetURL = listenSite(reactor, target)
    source = Page(redirectTo(targetURL + "/landed"))
    sourceURL = listenSite(reactor, source)
    headers = Headers({b"authorization": [b"Bearer secret"], b"cookie": [b"s=1"],
                       b"x-other": [b"kept"]})
    response, body = run(fetch(RedirectAgent(Agent(reactor)), sourceURL, headers=headers))
    assert (response.code, body) == (200, b"hello")
    assert source.requests[0].getHeader(b"authorization") == b"Bearer secret"
    landed = target.requests[0]
    assert landed.getHeader(b"authorization") is None
    assert landed.getHeader(b"cookie") is None
    assert landed.getHeader(b"x-other") == b"kept"
    assert response.previousResponse.code == 302


def test_redirectWithinOriginKeepsCredentials(reactor: Any, run: Any) -> None:
    """A relative redirect on the same origin keeps the Authorization header."""
    page = Page(lambda r: redirectTo("/b")(r) if r.path == b"/a" else b"b")
    url = listenSite(reactor, page)
    headers = Headers({b"authorization": [b"Bearer secret"]})
    _, body = run(fetch(RedirectAgent(Agent(reactor)), url + "/a", headers=headers))
    assert body == b"b"
    assert page.requests[1].getHeader(b"authorization") == b"Bearer secret"


def test_redirectLimit(reactor: Any, run: Any) -> None:
    """A redirect loop stops after redirectLimit hops with InfiniteRedirection."""
    page = Page(redirectTo("/loop", 301))
    url = listenSite(reactor, page)
    with pytest.raises(ResponseFailed) as info:
        run(fetch(RedirectAgent(Agent(reactor), redirectLimit=3), url + "/loop"))
    assert info.value.reasons[0].check(error.InfiniteRedirection)
    assert len(page.requests) == 4


def test_seeOtherTurnsPostIntoGet(reactor: Any, run: Any) -> None:
    """A 303 answer to a POST is followed with a GET (RFC 9110 §15.4.4)."""
    page = Page(lambda r: redirectTo("/done", 303)(r) if r.method == b"POST" else b"got")
    url = listenSite(reactor, page)
    _, body = run(fetch(RedirectAgent(Agent(reactor)), url, b"POST"))
    assert body == b"got"
    assert [r.method for r in page.requests] == [b"POST", b"GET"]


def test_redirectOfPostIsNotFollowed(reactor: Any, run: Any) -> None:
    """RedirectAgent does not re-send a POST on 307: it fails with PageRedirect."""
    url = listenSite(reactor, Page(redirectTo("/x", 307)))
    with pytest.raises(ResponseFailed) as info:
        run(fetch(RedirectAgent(Agent(reactor)), url, b"POST"))
    assert info.value.reasons[0].check(error.PageRedirect)


def test_browserLikeRedirectTurnsPostIntoGetOn302(reactor: Any, run: Any) -> None:
    """BrowserLikeRedirectAgent follows a 302 answer to a POST with a GET."""
    page = Page(lambda r: redirectTo("/d", 302)(r) if r.method == b"POST" else b"got")
    url = listenSite(reactor, page)
    _, body = run(fetch(BrowserLikeRedirectAgent(Agent(reactor)), url, b"POST"))
    assert body == b"got"


# -- content decoding and cookies ----------------------------------------------------------


def test_gzipResponseIsDecoded(reactor: Any, run: Any) -> None:
    """ContentDecoderAgent asks for gzip and delivers the decompressed body."""

    def answer(request: Any) -> bytes:
        assert b"gzip" in request.getHeader(b"accept-encoding")
        request.setHeader(b"content-encoding", b"gzip")
        return gzip.compress(b"x" * 5000)

    url = listenSite(reactor, Page(answer))
    agent = ContentDecoderAgent(Agent(reactor), [(b"gzip", GzipDecoder)])
    response, body = run(fetch(agent, url))
    assert body == b"x" * 5000
    assert not response.headers.hasHeader(b"content-encoding")


def test_corruptGzipFails(reactor: Any, run: Any) -> None:
    """A body that claims gzip but is not fails with ResponseFailed."""

    def answer(request: Any) -> bytes:
        request.setHeader(b"content-encoding", b"gzip")
        return b"not gzip at all"

    url = listenSite(reactor, Page(answer))
    agent = ContentDecoderAgent(Agent(reactor), [(b"gzip", GzipDecoder)])
    with pytest.raises(ResponseFailed):
        run(fetch(agent, url))


def test_cookieAgentStoresAndSendsCookies(reactor: Any, run: Any) -> None:
    """A cookie set by the server is stored in the jar and sent with the next request."""

    def answer(request: Any) -> bytes:
        request.addCookie(b"flavour", b"oat", path=b"/")
        return b"ok"

    page = Page(answer)
    url = listenSite(reactor, page)
    jar = CookieJar()
    agent = CookieAgent(Agent(reactor), jar)
    run(fetch(agent, url + "/one"))
    run(fetch(agent, url + "/two"))
    assert [c.name for c in jar] == ["flavour"]
    assert page.requests[0].getCookie(b"flavour") is None
    assert page.requests[1].getCookie(b"flavour") == b"oat"


# -- short forms ---------------------------------------------------------------------------


def test_getPageFailsOnErrorStatus(reactor: Any, run: Any) -> None:
    """getPage fails with web.error.Error carrying the status and body on a 404."""

    def answer(request: Any) -> bytes:
        request.setResponseCode(404)
        return b"no such thing"

    url = listenSite(reactor, Page(answer))
    with pytest.raises(error.Error) as info:
        run(getPage(url, reactor=reactor))
    assert (info.value.status, info.value.response) == (b"404", b"no such thing")


def test_postJsonAndReadJson(reactor: Any, run: Any) -> None:
    """post(json=...) sends JSON; the response's json() parses the answer."""

    def answer(request: Any) -> bytes:
        request.setHeader(b"content-type", b"application/json")
        return json.dumps({"got": json.loads(request.content.getvalue())}).encode()

    page = Page(answer)
    url = listenSite(reactor, page)

    async def go() -> Any:
        response = await post(url, json={"a": [1, 2]}, reactor=reactor)
        return response.code, await response.json()

    assert run(go()) == (200, {"got": {"a": [1, 2]}})
    assert page.requests[0].getHeader(b"content-type") == b"application/json"


def test_getTextUsesCharset(reactor: Any, run: Any) -> None:
    """get(...).text() decodes with the charset of Content-Type."""

    def answer(request: Any) -> bytes:
        request.setHeader(b"content-type", b"text/plain; charset=latin-1")
        return "café".encode("latin-1")

    url = listenSite(reactor, Page(answer))

    async def go() -> str:
        response = await get(url, reactor=reactor, params={"q": "1"})
        return await response.text()

    assert run(go()) == "café"


def test_pooledHTTPSRequestMakesNoNewTLSContext(reactor: Any, run: Any) -> None:
    """A second HTTPS request on a pooled connection does not ask the policy again."""
    cert = selfSignedPair("localhost")
    url = listenSite(reactor, Page(), cert.options())
    asked: list[bytes] = []

    class CountingPolicy(BrowserLikePolicyForHTTPS):
        def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
            asked.append(hostname)
            return super().creatorForNetloc(hostname, port)

    agent = Agent(reactor, contextFactory=CountingPolicy(trustRoot=cert),
                  pool=HTTPConnectionPool(reactor))
    run(fetch(agent, url))
    run(fetch(agent, url))
    assert asked == [b"localhost"]


def test_backToBackRequestsReuseConnection(reactor: Any, run: Any) -> None:
    """Requests made as soon as the previous body is read reuse the pooled connection."""
    page = Page()
    url = listenSite(reactor, page)
    agent = Agent(reactor, pool=HTTPConnectionPool(reactor))

    async def go() -> None:
        for _ in range(5):
            await readBody(await agent.request(b"GET", url.encode()))

    run(go())
    assert len(set(page.channels)) == 1


def test_cookieSetByRedirectIsSentToTarget(reactor: Any, run: Any) -> None:
    """RedirectAgent(CookieAgent(...)): a cookie set by a redirect goes with the next hop."""

    def answer(request: Any) -> bytes:
        if request.path == b"/login":
            request.addCookie(b"session", b"abc", path=b"/")
            return redirectTo("/home", 303)(request)
        return b"home"

    page = Page(answer)
    url = listenSite(reactor, page)
    agent = RedirectAgent(CookieAgent(Agent(reactor), CookieJar()))
    _, body = run(fetch(agent, url + "/login", b"POST"))
    assert body == b"home"
    assert page.requests[1].getCookie(b"session") == b"abc"


def test_uriToBytesKeepsFragment() -> None:
    """URI.toBytes gives the whole URI back, fragment included, as Twisted's does."""
    from torsion.web.client import URI

    uri = URI.fromBytes(b"http://example.com:8080/a;p?q=1#frag")
    assert uri.toBytes() == b"http://example.com:8080/a;p?q=1#frag"
    assert uri.absoluteForm == b"http://example.com:8080/a;p?q=1"
    assert URI.fromBytes(b"http://example.com/").toBytes() == b"http://example.com/"
