"""ProxyAgent through an HTTP proxy: CONNECT tunnels for https, absolute-form for http.

Unit tests drive the tunnel state machine over a StringTransport with a task.Clock (no
sockets, no sleeps). Integration tests run on real sockets on 127.0.0.1: a small CONNECT
proxy written with torsion (`ProxyServer`, which can also misbehave on demand) in front
of a torsion HTTPS Site with a self-signed certificate that the client is told to trust.
"""

from __future__ import annotations

import io
import ssl
from typing import Any

import pytest

from torsion.internet import error, task
from torsion.internet.defer import CancelledError, Deferred
from torsion.internet.endpoints import TCP4ClientEndpoint
from torsion.internet.protocol import Factory, Protocol
from torsion.internet.ssl import selfSignedPair
from torsion.internet.task import Clock
from torsion.internet.testing import StringTransport
from torsion.python.failure import Failure
from torsion.web import resource, server
from torsion.web._client_tunnel import _TunnelEndpoint, authorityOf, parseAnswerHead
from torsion.web.client import (
    BrowserLikePolicyForHTTPS,
    FileBodyProducer,
    HTTPConnectionPool,
    ProxyAgent,
    SchemeNotSupported,
    TunnelError,
    readBody,
)
from torsion.web.http_headers import Headers

# -- fakes for the unit tests ------------------------------------------------------------------


class TLSStringTransport(StringTransport):
    """A StringTransport that records startTLS instead of doing a handshake."""

    def __init__(self) -> None:
        super().__init__()
        self.tlsCreators: list[Any] = []

    def startTLS(self, creator: Any) -> None:
        self.tlsCreators.append(creator)


class FakeProxyEndpoint:
    """An endpoint whose connection attempts the test completes, fails or leaves pending."""

    def __init__(self) -> None:
        self.attempts: list[tuple[Deferred[Any], Any]] = []

    def connect(self, factory: Any) -> Deferred[Any]:
        d: Deferred[Any] = Deferred()
        self.attempts.append((d, factory))
        return d

    def complete(self) -> tuple[Any, TLSStringTransport]:
        """Connect the oldest pending attempt to a new transport."""
        d, factory = self.attempts.pop(0)
        protocol = factory.buildProtocol(None)
        transport = TLSStringTransport()
        protocol.makeConnection(transport)
        d.callback(protocol)
        return protocol, transport


class FakePolicy:
    """An HTTPS policy that records which host names it made creators for."""

    def __init__(self) -> None:
        self.asked: list[tuple[bytes, int]] = []

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        self.asked.append((hostname, port))
        return ("creator", hostname, port)


class Inner(Protocol):
    """The protocol the tunnel hands over to: records what it is given."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        self.lost: list[Failure | None] = []

    def dataReceived(self, data: bytes) -> None:
        self.received.append(data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.lost.append(reason)


def startTunnel(
    clock: Clock,
    host: bytes = b"origin.example",
    port: int = 443,
    proxyHeaders: Headers | None = None,
    timeout: float | None = 5.0,
) -> tuple[Deferred[Any], FakeProxyEndpoint, FakePolicy]:
    """Start a tunnel attempt through a fake proxy endpoint; return its Deferred."""
    proxy = FakeProxyEndpoint()
    policy = FakePolicy()
    endpoint = _TunnelEndpoint(clock, proxy, host, port, policy, proxyHeaders, timeout)
    d = endpoint.connect(Factory.forProtocol(Inner))
    return d, proxy, policy


def failureOf(d: Deferred[Any]) -> Failure:
    """Return the Failure `d` has already failed with."""
    results: list[Any] = []
    d.addBoth(results.append)
    assert results and isinstance(results[0], Failure), results
    failure: Failure = results[0]
    return failure


def resultOf(d: Deferred[Any]) -> Any:
    """Return the result `d` has already succeeded with."""
    results: list[Any] = []
    d.addBoth(results.append)
    assert results and not isinstance(results[0], Failure), results
    return results[0]


# -- unit tests: the CONNECT exchange ------------------------------------------------------------


def test_connectRequestNamesOriginInAuthorityForm(clock: Clock) -> None:
    """The tunnel opens with CONNECT host:port, a matching Host and the proxy headers."""
    headers = Headers({b"Proxy-Authorization": [b"Basic dTpw"]})
    d, proxy, _ = startTunnel(clock, proxyHeaders=headers)
    _, transport = proxy.complete()
    assert transport.value() == (
        b"CONNECT origin.example:443 HTTP/1.1\r\nHost: origin.example:443\r\n"
        b"Proxy-Authorization: Basic dTpw\r\n\r\n"
    )
    assert not d.called


def test_ipv6OriginIsBracketed() -> None:
    """An IPv6 literal is written in brackets in the authority (RFC 9112 §3.2.3)."""
    assert authorityOf(b"::1", 8443) == b"[::1]:8443"
    assert authorityOf(b"example.com", 443) == b"example.com:443"


def test_successStartsTLSForOriginThenHandsOver(clock: Clock) -> None:
    """A 2xx answer starts TLS with the origin's creator; the handshake hands over."""
    d, proxy, policy = startTunnel(clock)
    tunnel, transport = proxy.complete()
    tunnel.dataReceived(b"HTTP/1.1 200 Connection established\r\n\r\n")
    assert policy.asked == [(b"origin.example", 443)]
    assert transport.tlsCreators == [("creator", b"origin.example", 443)]
    assert not d.called
    tunnel.handshakeCompleted()
    inner = resultOf(d)
    assert isinstance(inner, Inner) and inner.transport is transport
    tunnel.dataReceived(b"decrypted")
    assert inner.received == [b"decrypted"]
    assert not clock.getDelayedCalls()


def test_answerFedByteByByte(clock: Clock) -> None:
    """An answer arriving one byte at a time is recognised at its blank line."""
    d, proxy, _ = startTunnel(clock)
    tunnel, transport = proxy.complete()
    for byte in b"HTTP/1.0 200 OK\r\nX-A: b\r\n\r\n":
        assert not transport.tlsCreators
        tunnel.dataReceived(bytes([byte]))
    assert len(transport.tlsCreators) == 1
    assert not d.called


def test_interimAnswerIsSkipped(clock: Clock) -> None:
    """A 1xx answer before the final one is skipped (RFC 9110 §15.2)."""
    _, proxy, _ = startTunnel(clock)
    tunnel, transport = proxy.complete()
    tunnel.dataReceived(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n\r\n")
    assert len(transport.tlsCreators) == 1


def test_contentLengthOfSuccessIsIgnored(clock: Clock) -> None:
    """A 2xx answer with Content-Length still opens the tunnel (RFC 9110 §9.3.6)."""
    _, proxy, _ = startTunnel(clock)
    tunnel, transport = proxy.complete()
    tunnel.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n")
    assert len(transport.tlsCreators) == 1


def test_refusalCarriesStatusAndHeaders(clock: Clock) -> None:
    """A non-2xx answer fails with TunnelError carrying status, phrase and headers."""
    d, proxy, _ = startTunnel(clock)
    tunnel, transport = proxy.complete()
    tunnel.dataReceived(
        b"HTTP/1.1 407 Proxy Authentication Required\r\n"
        b"Proxy-Authenticate: Basic realm=\"p\"\r\nContent-Length: 0\r\n\r\n"
    )
    exc = failureOf(d).value
    assert isinstance(exc, TunnelError) and isinstance(exc, error.ConnectError)
    assert (exc.status, exc.phrase) == (407, b"Proxy Authentication Required")
    assert exc.headers.getRawHeaders(b"proxy-authenticate") == [b'Basic realm="p"']
    assert "407" in str(exc) and "origin.example:443" in str(exc)
    assert transport.aborted and not transport.tlsCreators


def test_bytesAfterSuccessAreRefused(clock: Clock) -> None:
    """Bytes after a 2xx answer (before our ClientHello) mean no tunnel."""
    d, proxy, _ = startTunnel(clock)
    tunnel, transport = proxy.complete()
    tunnel.dataReceived(b"HTTP/1.1 200 OK\r\n\r\nsurprise")
    exc = failureOf(d).value
    assert isinstance(exc, TunnelError) and "8 bytes after" in str(exc)
    assert transport.aborted and not transport.tlsCreators


def test_garbageAnswerFails(clock: Clock) -> None:
    """An answer that is not an HTTP response head fails with TunnelError (no status)."""
    d, proxy, _ = startTunnel(clock)
    tunnel, transport = proxy.complete()
    tunnel.dataReceived(b"SSH-2.0-OpenSSH\r\n\r\n")
    exc = failureOf(d).value
    assert isinstance(exc, TunnelError) and exc.status is None
    assert "not HTTP" in str(exc) and transport.aborted


def test_http2AnswerFails() -> None:
    """A status line with another HTTP version is refused."""
    with pytest.raises(TunnelError):
        parseAnswerHead(b"HTTP/2.0 200 OK\r\n\r\n", 10)


def test_tooManyHeaderFieldsFails() -> None:
    """An answer with more header fields than the limit is refused."""
    head = b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 11 + b"\r\n"
    with pytest.raises(TunnelError, match="more than 10 header fields"):
        parseAnswerHead(head, 10)


def test_oversizedAnswerFailsWithoutBlankLine(clock: Clock) -> None:
    """An answer head growing past maxHeadBytes fails before its end is seen."""
    d, proxy, _ = startTunnel(clock)
    tunnel, transport = proxy.complete()
    tunnel.maxHeadBytes = 107  # the status line (17 bytes) and six 15-byte fields
    tunnel.dataReceived(b"HTTP/1.1 200 OK\r\n")
    for _ in range(6):
        tunnel.dataReceived(b"X-Pad: 123456\r\n")
    assert not d.called
    tunnel.dataReceived(b"X-Pad: 123456\r\n")
    exc = failureOf(d).value
    assert isinstance(exc, TunnelError) and "exceeds 107 bytes" in str(exc)
    assert transport.aborted


def test_closeBeforeAnswerFails(clock: Clock) -> None:
    """A proxy closing before its answer is complete fails with TunnelError."""
    d, proxy, _ = startTunnel(clock)
    tunnel, _ = proxy.complete()
    tunnel.dataReceived(b"HTTP/1.1 200 Conn")
    tunnel.connectionLost(Failure(error.ConnectionDone()))
    exc = failureOf(d).value
    assert isinstance(exc, TunnelError) and exc.status is None
    assert "closed the connection" in str(exc)


def test_tlsFailureIsPassedOn(clock: Clock) -> None:
    """A connection lost during the handshake fails the attempt with that reason."""
    d, proxy, _ = startTunnel(clock)
    tunnel, _ = proxy.complete()
    tunnel.dataReceived(b"HTTP/1.1 200 OK\r\n\r\n")
    tunnel.connectionLost(Failure(ssl.SSLCertVerificationError("bad cert")))
    assert failureOf(d).check(ssl.SSLCertVerificationError)


def test_proxyConnectFailureIsPassedOn(clock: Clock) -> None:
    """A failed connection to the proxy fails the attempt with that error; no timer left."""
    d, proxy, _ = startTunnel(clock)
    attempt, _ = proxy.attempts.pop()
    attempt.errback(Failure(error.ConnectionRefusedError()))
    assert failureOf(d).check(error.ConnectionRefusedError)
    assert not clock.getDelayedCalls()


def test_timeoutWaitingForAnswer(clock: Clock) -> None:
    """No answer within the timeout fails with TimeoutError and aborts the connection."""
    d, proxy, _ = startTunnel(clock, timeout=5.0)
    tunnel, transport = proxy.complete()
    clock.advance(4.9)
    assert not d.called
    clock.advance(0.1)
    exc = failureOf(d).value
    assert isinstance(exc, error.TimeoutError) and "origin.example:443" in str(exc)
    assert transport.aborted
    tunnel.connectionLost(Failure(error.ConnectionAborted()))  # late: ignored


def test_timeoutWhileConnectingToProxyCancelsTheAttempt(clock: Clock) -> None:
    """A proxy that does not accept within the timeout: the connect is cancelled."""
    d, proxy, _ = startTunnel(clock, timeout=5.0)
    attempt, _ = proxy.attempts[0]
    clock.advance(5.0)
    assert failureOf(d).check(error.TimeoutError)
    assert attempt.called  # cancelled


def test_timeoutCoversTheHandshake(clock: Clock) -> None:
    """A TLS handshake that never completes is cut off by the same timeout."""
    d, proxy, _ = startTunnel(clock, timeout=5.0)
    tunnel, transport = proxy.complete()
    tunnel.dataReceived(b"HTTP/1.1 200 OK\r\n\r\n")
    clock.advance(5.0)
    exc = failureOf(d).value
    assert isinstance(exc, error.TimeoutError) and "TLS handshake" in str(exc)
    tunnel.handshakeCompleted()  # late: ignored
    assert transport.aborted


def test_cancelAbortsTheAttempt(clock: Clock) -> None:
    """Cancelling the attempt aborts the proxy connection and stops the timer."""
    d, proxy, _ = startTunnel(clock)
    _, transport = proxy.complete()
    d.cancel()
    assert failureOf(d).check(CancelledError)
    assert transport.aborted and not clock.getDelayedCalls()


def test_policyErrorFailsTheConnect(clock: Clock) -> None:
    """An HTTPS policy that raises fails the connect before any proxy connection."""

    class Broken:
        def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
            raise ValueError("no policy")

    proxy = FakeProxyEndpoint()
    endpoint = _TunnelEndpoint(clock, proxy, b"h", 443, Broken(), None, 5.0)
    assert failureOf(endpoint.connect(Factory.forProtocol(Inner))).check(ValueError)
    assert not proxy.attempts


def test_unsupportedSchemeStillRefused(clock: Clock) -> None:
    """ProxyAgent refuses schemes other than http and https."""
    agent = ProxyAgent(FakeProxyEndpoint(), clock)
    assert failureOf(agent.request(b"GET", b"ftp://example.com/")).check(SchemeNotSupported)


def test_proxyHeadersMustBeHeaders(clock: Clock) -> None:
    """proxyHeaders of another type is refused at construction."""
    with pytest.raises(TypeError):
        ProxyAgent(FakeProxyEndpoint(), clock,
                   proxyHeaders={"Proxy-Authorization": "x"})  # type: ignore[arg-type]


def test_twistedPositionalSignatureStillWorks(clock: Clock) -> None:
    """ProxyAgent(endpoint, reactor, pool) keeps Twisted's positional form."""
    pool = HTTPConnectionPool(clock)
    agent = ProxyAgent(FakeProxyEndpoint(), clock, pool)
    assert agent._pool is pool


# -- integration: a CONNECT proxy and an HTTPS origin on 127.0.0.1 -------------------------------


class Page(resource.Resource):
    """A leaf that records each request and answers b"hello"."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[Any] = []
        self.bodies: list[bytes] = []
        self.channels: list[int] = []

    def render(self, request: Any) -> bytes:
        self.requests.append(request)
        self.bodies.append(request.content.read())
        self.channels.append(id(request.channel))
        return b"hello"


def listenOrigin(reactor: Any, hostname: str = "localhost") -> tuple[Page, int, Any]:
    """Serve a Page over HTTPS with a self-signed certificate; return it, port, cert."""
    cert = selfSignedPair(hostname)
    page = Page()
    port = reactor.listenSSL(0, server.Site(page, reactor=reactor), cert.options(),
                             interface="127.0.0.1")
    return page, port.getHost().port, cert


class Relay(Protocol):
    """The proxy's connection to the origin: copies bytes back to the client."""

    def __init__(self, client: ProxyConnection) -> None:
        self.client = client

    def dataReceived(self, data: bytes) -> None:
        self.client.transport.write(data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.client.transport.loseConnection()


class ProxyConnection(Protocol):
    """One client connection to the proxy: reads a head, then tunnels or answers."""

    def __init__(self, proxy: ProxyServer) -> None:
        self.proxy = proxy
        self.buffer = b""
        self.relay: Relay | None = None
        self.pending: list[bytes] = []
        self.tunnelling = False

    def dataReceived(self, data: bytes) -> None:
        if self.relay is not None:
            self.relay.transport.write(data)
            return
        if self.tunnelling:
            self.pending.append(data)
            return
        self.buffer += data
        if b"\r\n\r\n" not in self.buffer:
            return
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        self.buffer = b""
        self.proxy.heads.append(head)
        if not head.startswith(b"CONNECT "):
            self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nvia-proxy")
            return
        if self.proxy.requiredAuth is not None and (
            b"\r\nProxy-Authorization: " + self.proxy.requiredAuth + b"\r\n"
            not in head + b"\r\n"
        ):
            self.transport.write(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b"Proxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n"
            )
            return
        if self.proxy.answer is not None:
            self.transport.write(self.proxy.answer)
            if self.proxy.closeAfterAnswer:
                self.transport.loseConnection()
            return
        self.tunnelling = True
        self.pending.append(rest)
        endpoint = TCP4ClientEndpoint(self.proxy.reactor, "127.0.0.1", self.proxy.originPort)
        relay = Relay(self)
        endpoint.connect(Factory.forProtocol(lambda: relay)).addCallbacks(
            self.originConnected, lambda _: self.transport.loseConnection()
        )

    def originConnected(self, relay: Relay) -> None:
        self.relay = relay
        self.transport.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        pending, self.pending = self.pending, []
        for data in pending:
            if data:
                relay.transport.write(data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        if self.relay is not None:
            self.relay.transport.loseConnection()


class ProxyServer:
    """A CONNECT proxy on 127.0.0.1 tunnelling to `originPort`, or answering `answer`.

    Every tunnel goes to 127.0.0.1:originPort whatever host was asked for (the test
    origins are all local); `heads` records each request head the proxy read.
    """

    def __init__(
        self,
        reactor: Any,
        originPort: int = 0,
        answer: bytes | None = None,
        closeAfterAnswer: bool = True,
        requiredAuth: bytes | None = None,
    ) -> None:
        self.reactor = reactor
        self.originPort = originPort
        self.answer = answer
        self.closeAfterAnswer = closeAfterAnswer
        self.requiredAuth = requiredAuth
        self.heads: list[bytes] = []
        factory = Factory.forProtocol(lambda: ProxyConnection(self))
        self.port = reactor.listenTCP(0, factory, interface="127.0.0.1").getHost().port

    def endpoint(self) -> TCP4ClientEndpoint:
        """A client endpoint for this proxy."""
        return TCP4ClientEndpoint(self.reactor, "127.0.0.1", self.port)

    @property
    def connects(self) -> list[bytes]:
        """The CONNECT heads the proxy read."""
        return [h for h in self.heads if h.startswith(b"CONNECT ")]


def fetch(agent: Any, url: str, method: bytes = b"GET", **kw: Any) -> Deferred[Any]:
    """Request `url` and fire with (response, body)."""

    async def go() -> Any:
        response = await agent.request(method, url.encode("ascii"), **kw)
        return response, await readBody(response)

    return Deferred.fromCoroutine(go())


def tunnelAgent(reactor: Any, proxy: ProxyServer, cert: Any, **kw: Any) -> ProxyAgent:
    """A ProxyAgent for `proxy` that trusts `cert`."""
    return ProxyAgent(proxy.endpoint(), reactor,
                      contextFactory=BrowserLikePolicyForHTTPS(trustRoot=cert), **kw)


def test_getThroughTunnel(reactor: Any, run: Any) -> None:
    """A GET for an https URL goes CONNECT host:port to the proxy, origin-form to the origin."""
    page, originPort, cert = listenOrigin(reactor)
    proxy = ProxyServer(reactor, originPort)
    agent = tunnelAgent(reactor, proxy, cert)
    response, body = run(fetch(agent, "https://localhost:%d/a/b?c=d#frag" % (originPort,)))
    assert (response.code, body) == (200, b"hello")
    authority = b"localhost:%d" % (originPort,)
    assert proxy.heads == [b"CONNECT " + authority + b" HTTP/1.1\r\nHost: " + authority]
    [request] = page.requests
    assert request.uri == b"/a/b?c=d"
    assert request.requestHeaders.getRawHeaders(b"host") == [authority]


def test_postWithBodyThroughTunnel(reactor: Any, run: Any) -> None:
    """A POST with a body arrives whole at the origin through the tunnel."""
    page, originPort, cert = listenOrigin(reactor)
    proxy = ProxyServer(reactor, originPort)
    agent = tunnelAgent(reactor, proxy, cert)
    payload = bytes(range(256)) * 400
    cooperator = task.Cooperator(scheduler=lambda f: reactor.callLater(0, f))
    producer = FileBodyProducer(io.BytesIO(payload), cooperator=cooperator, readSize=8192)
    response, body = run(fetch(agent, "https://localhost:%d/upload" % (originPort,), b"POST",
                               bodyProducer=producer))
    assert (response.code, body) == (200, b"hello")
    assert page.requests[0].method == b"POST"
    assert page.bodies == [payload]


def test_proxyAuthenticationRequired(reactor: Any, run: Any) -> None:
    """A 407 from the proxy fails the request with TunnelError(status=407)."""
    page, originPort, cert = listenOrigin(reactor)
    proxy = ProxyServer(reactor, originPort, requiredAuth=b"Basic dTpw")
    agent = tunnelAgent(reactor, proxy, cert)
    with pytest.raises(TunnelError) as info:
        run(fetch(agent, "https://localhost:%d/" % (originPort,)))
    assert info.value.status == 407
    assert info.value.headers.getRawHeaders(b"proxy-authenticate") == [b'Basic realm="test"']
    assert page.requests == []


def test_proxyHeadersGoOnConnectOnly(reactor: Any, run: Any) -> None:
    """proxyHeaders authenticate the CONNECT and never reach the origin."""
    page, originPort, cert = listenOrigin(reactor)
    proxy = ProxyServer(reactor, originPort, requiredAuth=b"Basic dTpw")
    agent = tunnelAgent(reactor, proxy, cert,
                        proxyHeaders=Headers({b"Proxy-Authorization": [b"Basic dTpw"]}))
    response, _ = run(fetch(agent, "https://localhost:%d/" % (originPort,)))
    assert response.code == 200
    assert not page.requests[0].requestHeaders.hasHeader(b"proxy-authorization")


def test_proxyClosesMidHead(reactor: Any, run: Any) -> None:
    """A proxy that closes in the middle of its answer fails the request with TunnelError."""
    proxy = ProxyServer(reactor, answer=b"HTTP/1.1 200 Connection est")
    agent = ProxyAgent(proxy.endpoint(), reactor)
    with pytest.raises(TunnelError, match="closed the connection") as info:
        run(fetch(agent, "https://localhost:1/"))
    assert info.value.status is None


def test_proxySendsGarbage(reactor: Any, run: Any) -> None:
    """A proxy answering with something that is not HTTP fails the request."""
    proxy = ProxyServer(reactor, answer=b"\x16\x03\x01 junk\r\n\r\n", closeAfterAnswer=False)
    agent = ProxyAgent(proxy.endpoint(), reactor)
    with pytest.raises(TunnelError, match="not HTTP"):
        run(fetch(agent, "https://localhost:1/"))


def test_oversizedHeadFails(reactor: Any, run: Any) -> None:
    """A proxy answer whose head passes the 64 KiB bound fails the request."""
    answer = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 70_000 + b"\r\n"
    proxy = ProxyServer(reactor, answer=answer, closeAfterAnswer=False)
    agent = ProxyAgent(proxy.endpoint(), reactor)
    with pytest.raises(TunnelError, match="exceeds 65536 bytes"):
        run(fetch(agent, "https://localhost:1/"))


def test_originHostnameMismatchFails(reactor: Any, run: Any) -> None:
    """The origin's certificate is checked against the origin's name, through the tunnel."""
    page, originPort, cert = listenOrigin(reactor, hostname="example.com")
    proxy = ProxyServer(reactor, originPort)
    agent = tunnelAgent(reactor, proxy, cert)
    with pytest.raises(ssl.SSLCertVerificationError, match="(?i)hostname"):
        run(fetch(agent, "https://localhost:%d/" % (originPort,)))
    assert len(proxy.connects) == 1 and page.requests == []


def test_untrustedOriginFailsByDefault(reactor: Any, run: Any) -> None:
    """Without a trust root for it, a self-signed origin is refused (default policy)."""
    page, originPort, _ = listenOrigin(reactor)
    proxy = ProxyServer(reactor, originPort)
    agent = ProxyAgent(proxy.endpoint(), reactor)
    with pytest.raises(ssl.SSLCertVerificationError):
        run(fetch(agent, "https://localhost:%d/" % (originPort,)))
    assert page.requests == []


def test_pooledTunnelIsReused(reactor: Any, run: Any) -> None:
    """Two requests to one origin with a persistent pool use one tunnel (one CONNECT)."""
    page, originPort, cert = listenOrigin(reactor)
    proxy = ProxyServer(reactor, originPort)
    agent = tunnelAgent(reactor, proxy, cert, pool=HTTPConnectionPool(reactor))
    url = "https://localhost:%d/" % (originPort,)
    run(fetch(agent, url + "one"))
    run(fetch(agent, url + "two"))
    assert len(proxy.connects) == 1
    assert [r.uri for r in page.requests] == [b"/one", b"/two"]
    assert len(set(page.channels)) == 1


def test_tunnelsAreNotSharedAcrossOrigins(reactor: Any, run: Any) -> None:
    """A pooled tunnel to one origin never carries a request for another origin."""
    pageA, portA, cert = listenOrigin(reactor)
    pageB = Page()
    portB = reactor.listenSSL(0, server.Site(pageB, reactor=reactor), cert.options(),
                              interface="127.0.0.1").getHost().port
    proxy = ProxyServer(reactor, portA)
    agent = tunnelAgent(reactor, proxy, cert, pool=HTTPConnectionPool(reactor))
    run(fetch(agent, "https://localhost:%d/a" % (portA,)))
    proxy.originPort = portB
    run(fetch(agent, "https://localhost:%d/b" % (portB,)))
    assert [h.split(b"\r\n")[0] for h in proxy.connects] == [
        b"CONNECT localhost:%d HTTP/1.1" % (portA,),
        b"CONNECT localhost:%d HTTP/1.1" % (portB,),
    ]
    assert [r.uri for r in pageA.requests] == [b"/a"]
    assert [r.uri for r in pageB.requests] == [b"/b"]


def test_httpStillUsesAbsoluteForm(reactor: Any, run: Any) -> None:
    """An http URL goes to the proxy in absolute-form, with the proxy headers, no CONNECT."""
    proxy = ProxyServer(reactor)
    agent = ProxyAgent(proxy.endpoint(), reactor,
                       proxyHeaders=Headers({b"Proxy-Authorization": [b"Basic dTpw"]}))
    response, body = run(fetch(agent, "http://example.com/a?b=c#frag"))
    assert (response.code, body) == (200, b"via-proxy")
    [head] = proxy.heads
    assert head.startswith(b"GET http://example.com/a?b=c HTTP/1.1\r\n")
    assert b"\r\nHost: example.com" in head
    assert b"\r\nProxy-Authorization: Basic dTpw" in head


def test_tunnelTimesOut(reactor: Any, run: Any) -> None:
    """A proxy that accepts but never answers CONNECT is given up after connectTimeout."""
    proxy = ProxyServer(reactor, answer=b"", closeAfterAnswer=False)
    agent = ProxyAgent(proxy.endpoint(), reactor, connectTimeout=0.2)
    with pytest.raises(error.TimeoutError, match="waiting for the answer"):
        run(fetch(agent, "https://localhost:1/"))
