"""TLS clients verify the server's certificate and name by default (DESIGN §7).

A self-signed server on 127.0.0.1 is refused unless it is trusted, and a trusted
certificate for another name is refused too; the refusal reaches the client as a failure.
"""

from __future__ import annotations

import ssl as stdlib_ssl
from typing import Any

import pytest

from torsion.internet import endpoints, ssl
from torsion.internet.defer import Deferred
from torsion.internet.protocol import ClientFactory, Factory, Protocol


class _Hello(Protocol):
    def connectionMade(self) -> None:
        self.transport.write(b"hello")


class _Catcher(ClientFactory):
    """Fires `result` with the data received, or fails it with the connection failure."""

    def __init__(self) -> None:
        self.result: Deferred[bytes] = Deferred()
        factory = self

        class Reader(Protocol):
            def dataReceived(self, data: bytes) -> None:
                if not factory.result.called:
                    factory.result.callback(data)
                self.transport.loseConnection()

        self.protocol = Reader

    def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
        if not self.result.called:
            self.result.errback(reason)


@pytest.fixture(scope="module")
def certs() -> dict[str, Any]:
    """Self-signed certificates for localhost and for another name."""
    return {"localhost": ssl.selfSignedPair("localhost"),
            "other": ssl.selfSignedPair("other.example")}


def _serve(reactor: Any, cert: Any) -> int:
    port = reactor.listenSSL(0, Factory.forProtocol(_Hello), cert.options(),
                             interface="127.0.0.1")
    return int(port.getHost().port)


def test_optionsForClientTLSVerifiesByDefault() -> None:
    """optionsForClientTLS asks for a verified chain and a matching name."""
    ctx = ssl.optionsForClientTLS("example.com").getContext()
    assert ctx.verify_mode == stdlib_ssl.CERT_REQUIRED
    assert ctx.check_hostname


def test_untrustedSelfSignedServerIsRefused(reactor: Any, run: Any, certs: Any) -> None:
    """A client with default trust refuses a self-signed server."""
    portno = _serve(reactor, certs["localhost"])
    factory = _Catcher()
    reactor.connectSSL("127.0.0.1", portno, factory, ssl.optionsForClientTLS("localhost"))
    with pytest.raises(stdlib_ssl.SSLError):
        run(factory.result)


def test_trustedServerIsAccepted(reactor: Any, run: Any, certs: Any) -> None:
    """Trusting the server's certificate lets the same connection through."""
    cert = certs["localhost"]
    portno = _serve(reactor, cert)
    factory = _Catcher()
    options = ssl.optionsForClientTLS("localhost", trustRoot=cert)
    reactor.connectSSL("127.0.0.1", portno, factory, options)
    assert run(factory.result) == b"hello"


def test_trustedCertificateForAnotherNameIsRefused(reactor: Any, run: Any, certs: Any) -> None:
    """A trusted certificate whose name is not the one asked for is refused."""
    cert = certs["other"]
    portno = _serve(reactor, cert)
    factory = _Catcher()
    options = ssl.optionsForClientTLS("localhost", trustRoot=cert)
    reactor.connectSSL("127.0.0.1", portno, factory, options)
    with pytest.raises(stdlib_ssl.SSLCertVerificationError):
        run(factory.result)


def test_tlsClientEndpointStringVerifiesByDefault(reactor: Any, run: Any, certs: Any) -> None:
    """clientFromString('tls:...') without trustRoots never delivers a self-signed server's data."""

    class Reader(Protocol):
        def __init__(self) -> None:
            self.received = b""
            self.lost: Deferred[Any] = Deferred()

        def dataReceived(self, data: bytes) -> None:
            self.received += data

        def connectionLost(self, reason: Any = None) -> None:
            self.lost.callback(reason)

    portno = _serve(reactor, certs["localhost"])
    endpoint = endpoints.clientFromString(reactor, "tls:host=127.0.0.1:port=%d" % (portno,))
    reader = Reader()
    d = endpoint.connect(Factory.forProtocol(lambda: reader))

    def connected(proto: Any) -> Any:
        return reader.lost

    d.addCallback(connected)
    try:
        reason = run(d)
    except stdlib_ssl.SSLError:
        reason = None  # refused before the connection was reported: also a refusal
    assert reader.received == b""
    if reason is not None:
        assert "CERTIFICATE_VERIFY_FAILED" in str(reason.value) or reason.check(
            stdlib_ssl.SSLError
        ), reason


def test_agentRefusesUntrustedServer(reactor: Any, run: Any, certs: Any) -> None:
    """web.client.Agent with its default policy refuses a self-signed HTTPS server."""
    from torsion.web import client, resource, server

    class Hi(resource.Resource):
        isLeaf = True

        def render(self, request: Any) -> bytes:
            return b"hi"

    port = reactor.listenSSL(0, server.Site(Hi(), reactor=reactor), certs["localhost"].options(),
                             interface="127.0.0.1")
    agent = client.Agent(reactor)
    d = agent.request(b"GET", b"https://127.0.0.1:%d/" % (port.getHost().port,))
    with pytest.raises(Exception) as info:
        run(d)
    text = repr(info.value) + str(getattr(info.value, "reasons", ""))
    assert "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text, text


def test_wssClientRefusesUntrustedServer(reactor: Any, run: Any, certs: Any) -> None:
    """connectWebSocket to a self-signed wss:// server fails instead of opening."""
    from torsion.web import server
    from torsion.web.websocket import (
        WebSocketResource,
        WebSocketServerFactory,
        connectWebSocket,
    )

    site = server.Site(WebSocketResource(WebSocketServerFactory(reactor=reactor)),
                       reactor=reactor)
    port = reactor.listenSSL(0, site, certs["localhost"].options(), interface="127.0.0.1")
    d = connectWebSocket(reactor, "wss://127.0.0.1:%d/" % (port.getHost().port,), timeout=5)
    with pytest.raises(Exception) as info:
        run(d)
    assert "certificate verify failed" in str(info.value).lower(), info.value
