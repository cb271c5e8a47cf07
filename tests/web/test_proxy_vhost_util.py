"""Tests of the reverse proxy, virtual hosting, redirects, resources and URLPath."""

from __future__ import annotations

import socket
from typing import Any

import pytest
from webrawclient import rawRequest

from torsion.python.urlpath import URLPath
from torsion.web import resource, server, static, util, vhost
from torsion.web.error import Error, PageRedirect, UnsupportedMethod
from torsion.web.proxy import ReverseProxyResource

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


class Upstream(resource.Resource):
    """Reports what it was asked."""

    isLeaf = True

    def render_GET(self, request: server.Request) -> bytes:
        request.setHeader(b"x-upstream", b"yes")
        return b"%s %s host=%s" % (request.method, request.uri, request.getHeader(b"host"))

    def render_POST(self, request: server.Request) -> bytes:
        return b"posted " + request.content.read()


@pytest.mark.integration
def test_reverseProxyRelaysRequestAndResponse(reactor: Any, run: Any) -> None:
    """A request under the proxy reaches the upstream path and its answer comes back."""
    upstream = reactor.listenTCP(0, server.Site(Upstream(), reactor=reactor),
                                 interface="127.0.0.1").getHost().port
    root = resource.Resource()
    root.putChild(b"p", ReverseProxyResource("127.0.0.1", upstream, b"/base", reactor=reactor))
    port = reactor.listenTCP(0, server.Site(root, reactor=reactor),
                             interface="127.0.0.1").getHost().port
    out = rawRequest(reactor, run, port,
                     b"GET /p/a%20b?q=1 HTTP/1.1\r\nHost: front\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 200 OK")
    assert b"X-Upstream: yes" in out
    assert out.endswith(b"GET /base/a%20b?q=1 host=127.0.0.1:" + str(upstream).encode())


@pytest.mark.integration
def test_reverseProxyForwardsBody(reactor: Any, run: Any) -> None:
    """A POST body is forwarded upstream."""
    upstream = reactor.listenTCP(0, server.Site(Upstream(), reactor=reactor),
                                 interface="127.0.0.1").getHost().port
    proxy = ReverseProxyResource("127.0.0.1", upstream, b"", reactor=reactor)
    port = reactor.listenTCP(0, server.Site(proxy, reactor=reactor),
                             interface="127.0.0.1").getHost().port
    out = rawRequest(reactor, run, port, b"POST /x HTTP/1.1\r\nHost: f\r\nConnection: close\r\n"
                     b"Content-Length: 5\r\n\r\nhello")
    assert out.endswith(b"posted hello")


@pytest.mark.integration
def test_reverseProxyUpstreamDownIs502(reactor: Any, run: Any) -> None:
    """When the upstream refuses connections the client gets 502 Bad Gateway."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = s.getsockname()[1]
    port = reactor.listenTCP(
        0, server.Site(ReverseProxyResource("127.0.0.1", dead, b"", reactor=reactor),
                       reactor=reactor), interface="127.0.0.1").getHost().port
    out = rawRequest(reactor, run, port, b"GET / HTTP/1.1\r\nHost: f\r\nConnection: close\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 502 Bad Gateway")


def test_nameVirtualHostPicksByHost(connectSite: Any, parse: Any) -> None:
    """Each Host header reaches its own tree; the port is ignored."""
    nvh = vhost.NameVirtualHost()
    a, b = resource.Resource(), resource.Resource()
    a.putChild(b"f", static.Data(b"site a", "text/plain"))
    b.putChild(b"f", static.Data(b"site b", "text/plain"))
    nvh.addHost(b"a.example", a)
    nvh.addHost(b"B.example", b)
    conn = connectSite(nvh)
    out = conn.send(b"GET /f HTTP/1.1\r\nHost: a.example:8080\r\n\r\n"
                    b"GET /f HTTP/1.1\r\nHost: b.EXAMPLE\r\n\r\n")
    assert [r.body for r in parse(out)] == [b"site a", b"site b"]


def test_unknownVirtualHostEscaped(connectSite: Any, parse: Any) -> None:
    """An unknown host gets 404 and its name is escaped in the page."""
    conn = connectSite(vhost.NameVirtualHost())
    response = parse(conn.send(b"GET / HTTP/1.1\r\nHost: <script>x\r\n\r\n"))[0]
    assert response.code == 404
    assert b"<script>" not in response.body and b"&lt;script&gt;" in response.body


def test_virtualHostDefault(connectSite: Any, parse: Any) -> None:
    """An unknown host falls back to `default` when set."""
    nvh = vhost.NameVirtualHost()
    fallback = resource.Resource()
    fallback.putChild(b"f", static.Data(b"default", "text/plain"))
    nvh.default = fallback
    assert parse(connectSite(nvh).send(b"GET /f HTTP/1.1\r\nHost: zzz\r\n\r\n"))[0].body == (
        b"default")


def test_vhostMonsterRewritesHost(connectSite: Any, parse: Any) -> None:
    """/vhost/https/public.example:443/f is served as https://public.example/f."""
    seen: list[tuple[bool, bytes]] = []

    class Leaf(resource.Resource):
        isLeaf = True

        def render_GET(self, request: server.Request) -> bytes:
            seen.append((request.isSecure(), request.prePathURL()))
            return b"ok"

    root = resource.Resource()
    root.putChild(b"vhost", vhost.VHostMonsterResource())
    root.putChild(b"f", Leaf())
    connectSite(root).send(b"GET /vhost/https/public.example:443/f HTTP/1.1\r\nHost: x\r\n\r\n")
    assert seen == [(True, b"https://public.example/f")]


def test_redirectToEscapesUrl() -> None:
    """redirectTo escapes the URL in the page body and sets Location."""
    request = server.Request()
    body = util.redirectTo(b'/x"><script>alert(1)</script>', request)
    assert b"<script>" not in body and b"&lt;script&gt;" in body and b"&quot;" in body
    assert request.code == 302
    assert request.responseHeaders.getRawHeaders(b"location") == [b'/x"><script>alert(1)</script>']


def test_redirectToRefusesCRLF() -> None:
    """A redirect target containing CR/LF raises ValueError (no header injection)."""
    with pytest.raises(ValueError):
        util.redirectTo(b"/x\r\nSet-Cookie: a=b", server.Request())


def test_redirectResource(connectSite: Any, parse: Any) -> None:
    """util.Redirect answers every request with a redirect to its URL."""
    response = parse(connectSite(util.Redirect(b"http://elsewhere/")).send(GET))[0]
    assert (response.code, response.header(b"location")) == (302, b"http://elsewhere/")


def test_errorPageEscapes() -> None:
    """ErrorPage escapes its brief and detail."""
    body = resource.ErrorPage(400, "<b>", "<i>").render(server.Request())
    assert b"<b>" not in body and b"&lt;b&gt;" in body and b"&lt;i&gt;" in body


def test_forbiddenAndNoResourceCodes() -> None:
    """ForbiddenResource renders 403 and NoResource 404."""
    request = server.Request()
    resource.ForbiddenResource().render(request)
    assert request.code == 403
    request = server.Request()
    resource.NoResource().render(request)
    assert request.code == 404


def test_putChildNeedsBytes() -> None:
    """putChild with a str path is a TypeError."""
    with pytest.raises(TypeError):
        resource.Resource().putChild("x", resource.Resource())  # type: ignore[arg-type]


def test_renderWithoutMethodRaisesUnsupported() -> None:
    """render raises UnsupportedMethod listing the render_ methods present."""
    class R(resource.Resource):
        def render_GET(self, request: Any) -> bytes:
            return b""

        def render_POST(self, request: Any) -> bytes:
            return b""

    request = server.Request()
    request.method = b"PUT"
    with pytest.raises(UnsupportedMethod) as info:
        R().render(request)
    assert list(info.value.allowedMethods) == [b"GET", b"HEAD", b"POST"]


def test_errorTypes() -> None:
    """web.error.Error carries bytes status and the standard message by default."""
    e = Error(404)
    assert (e.status, e.message) == (b"404", b"Not Found")
    r = PageRedirect(302, location=b"/there")
    assert r.location == b"/there" and r.message == b"Found to /there"


def test_urlPathNavigation() -> None:
    """URLPath computes child, sibling, parent, here and click URLs."""
    url = URLPath.fromString("http://example.com/a/b?q=1")
    assert str(url.child("c d")) == "http://example.com/a/b/c%20d"
    assert str(url.sibling("s")) == "http://example.com/a/s"
    assert str(url.parent()) == "http://example.com/"
    assert str(url.here()) == "http://example.com/a/"
    assert str(url.click("../x")) == "http://example.com/x"
    assert str(url.child("k", keepQuery=True)) == "http://example.com/a/b/k?q=1"
    assert url.pathList() == [b"", b"a", b"b"]


def test_urlPathFromBytesRoundTrips() -> None:
    """bytes(URLPath.fromBytes(u)) == u for a full URL."""
    raw = b"https://user@h:8443/p/q?x=y#frag"
    assert bytes(URLPath.fromBytes(raw)) == raw


class _ProxyLeaf(resource.Resource):
    """Relays each request through a ProxyClient on a StringTransport the test drives."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.clients: list[Any] = []

    def render(self, request: Any) -> Any:
        from torsion.internet.testing import StringTransport
        from torsion.web.proxy import ProxyClient

        client = ProxyClient(b"GET", b"/", b"HTTP/1.1", [], b"", request)
        client.makeConnection(StringTransport())
        self.clients.append(client)
        return server.NOT_DONE_YET


def test_upstreamHeadTooLargeIs502(connectSite: Any, parse: Any) -> None:
    """An upstream head past ProxyClient.maxHeaderBytes is cut: 502, upstream dropped."""
    leaf = _ProxyLeaf()
    conn = connectSite(leaf)
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    client = leaf.clients[0]
    client.dataReceived(b"HTTP/1.1 200 OK\r\n")
    for i in range(100):
        if client.transport.disconnecting:
            break
        client.dataReceived(b"X-%d: %s\r\n" % (i, b"a" * 1000))
    assert client.transport.disconnecting and i < 70
    assert parse(conn.take())[0].code == 502


def test_upstreamWithTooManyFieldsIs502(connectSite: Any, parse: Any) -> None:
    """An upstream head with more than maxHeaderCount fields is a 502."""
    leaf = _ProxyLeaf()
    conn = connectSite(leaf)
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    client = leaf.clients[0]
    client.dataReceived(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 101 + b"\r\n")
    assert parse(conn.take())[0].code == 502


def test_upstreamIsClientsProducerWhileRelaying(connectSite: Any, parse: Any) -> None:
    """While the body is relayed the upstream connection is paced by the client's transport."""
    leaf = _ProxyLeaf()
    conn = connectSite(leaf)
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    client = leaf.clients[0]
    client.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nab")
    assert conn.transport.producer is client.transport
    conn.transport.producer.pauseProducing()
    assert client.transport.producerState == "paused"
    client.dataReceived(b"cd")
    assert conn.transport.producer is None
    assert parse(conn.take())[0].body == b"abcd"
