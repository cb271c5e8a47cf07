"""torsion.internet.ssl (certificates, context factories) and listenSSL/connectSSL."""

from __future__ import annotations

import asyncio
import shutil
import ssl
from typing import Any

import pytest
from transporthelpers import Client, Echo, Recorder
from transporthelpers import RecordingFactory as RecordingServer

from torsion.internet import error
from torsion.internet.defer import Deferred
from torsion.internet.protocol import Protocol, ServerFactory
from torsion.internet.ssl import (
    Certificate,
    CertificateOptions,
    DefaultOpenSSLContextFactory,
    KeyPair,
    PrivateCertificate,
    optionsForClientTLS,
    selfSignedPair,
)
from torsion.logger import capturedLogs, formatEvent


class Greeter(Protocol):
    def connectionMade(self) -> None:
        self.transport.write(b"hello over tls\n")
        self.transport.loseConnection()


def _echoServer(reactor: Any, serverCert: PrivateCertificate) -> Any:
    """Listen with TLS (`serverCert`) on 127.0.0.1, port 0, echoing what arrives."""
    return reactor.listenSSL(
        0, ServerFactory.forProtocol(Echo), serverCert.options(), interface="127.0.0.1"
    )


def _connectVerifying(
    reactor: Any, port: Any, serverCert: PrivateCertificate, protocol: Any = Recorder,
    hostname: str = "localhost",
) -> Client:
    """connectSSL to `port`, verifying `hostname` against `serverCert`; return the factory."""
    cf = Client(protocol)
    reactor.connectSSL(
        "127.0.0.1", port.getHost().port, cf, optionsForClientTLS(hostname, serverCert)
    )
    return cf


def test_certificatePEMRoundTrip(serverCert: PrivateCertificate) -> None:
    """A certificate dumped as PEM loads back equal, with its subject and digest."""
    again = Certificate.loadPEM(Certificate.dumpPEM(serverCert))
    assert again == serverCert
    assert again.getSubject().commonName == "localhost"
    digest = again.digest("sha256")
    assert digest.count(b":") == 31 and digest == digest.upper()


def test_privateCertificateCarriesKey(serverCert: PrivateCertificate) -> None:
    """PrivateCertificate.loadPEM reads key and certificate from one blob."""
    again = PrivateCertificate.loadPEM(serverCert.dumpPEM())
    assert again == serverCert
    assert KeyPair.loadPEM(again.getPrivateKey().dump()).dump() == serverCert.getPrivateKey().dump()


def test_selfSignedPairWritesFiles(tmp_path: Any) -> None:
    """selfSignedPair(directory=...) writes key and certificate usable by the server factory."""
    pair = selfSignedPair("example.test", directory=str(tmp_path))
    assert pair.keyPath and pair.certPath
    factory = DefaultOpenSSLContextFactory(pair.keyPath, pair.certPath)
    assert isinstance(factory.getContext(), ssl.SSLContext)


def test_optionsForClientTLSVerifiesByDefault() -> None:
    """Client options check the chain and the host name unless told otherwise."""
    ctx = optionsForClientTLS("example.com").getContext()
    assert ctx.check_hostname and ctx.verify_mode == ssl.CERT_REQUIRED
    assert ctx.minimum_version >= ssl.TLSVersion.TLSv1_2


def test_certificateOptionsNeedsBothKeyAndCert(serverCert: PrivateCertificate) -> None:
    """Giving a key without a certificate is a clear ValueError."""
    with pytest.raises(ValueError):
        CertificateOptions(privateKey=serverCert.getPrivateKey())


def test_tlsEchoWithVerification(reactor: Any, run: Any, serverCert: PrivateCertificate) -> None:
    """connectSSL verifying a trusted server talks to listenSSL; data round-trips."""
    port = _echoServer(reactor, serverCert)
    cf = _connectVerifying(reactor, port, serverCert)
    client = run(cf.built)
    client.expected = 6
    client.transport.write(b"secret")
    assert run(client.gotAll) == b"secret"
    assert client.transport.getPeerCertificate() == serverCert


def test_tlsConnectionsProvideISSLTransport(
    reactor: Any, run: Any, serverCert: PrivateCertificate
) -> None:
    """Both ends of a listenSSL/connectSSL connection say they are TLS (ISSLTransport, TLS)."""
    from torsion.internet.interfaces import ISSLTransport

    sf = RecordingServer(Recorder)
    port = reactor.listenSSL(0, sf, serverCert.options(), interface="127.0.0.1")
    cf = _connectVerifying(reactor, port, serverCert)
    client = run(cf.built)
    server = run(sf.built)
    for transport in (client.transport, server.transport):
        assert transport.TLS is True
        assert isinstance(transport, ISSLTransport)


def test_plainConnectionsAreNotISSLTransport(reactor: Any, run: Any) -> None:
    """Plain TCP connections are not ISSLTransport and have TLS False (but can startTLS)."""
    from torsion.internet.interfaces import ISSLTransport, ITLSTransport

    sf = RecordingServer(Recorder)
    port = reactor.listenTCP(0, sf, interface="127.0.0.1")
    cf = Client()
    reactor.connectTCP("127.0.0.1", port.getHost().port, cf)
    client = run(cf.built)
    server = run(sf.built)
    for transport in (client.transport, server.transport):
        assert transport.TLS is False
        assert not isinstance(transport, ISSLTransport)
        assert isinstance(transport, ITLSTransport)


def test_untrustedServerFailsConnection(
    reactor: Any, run: Any, serverCert: PrivateCertificate
) -> None:
    """A server certificate outside the trust root fails the connection with an SSL error."""
    port = _echoServer(reactor, serverCert)
    other = selfSignedPair("localhost")
    cf = Client()
    options = optionsForClientTLS("localhost", other)
    reactor.connectSSL("127.0.0.1", port.getHost().port, cf, options)
    assert run(cf.failed).check(ssl.SSLError)


def test_wrongHostnameFailsConnection(
    reactor: Any, run: Any, serverCert: PrivateCertificate
) -> None:
    """A trusted certificate for another name fails the connection (RFC 6125)."""
    port = _echoServer(reactor, serverCert)
    cf = _connectVerifying(reactor, port, serverCert, hostname="example.com")
    assert run(cf.failed).check(ssl.SSLError)


def test_clientCertificateRequired(reactor: Any, run: Any, serverCert: PrivateCertificate) -> None:
    """A server requiring client certificates accepts one signed by its authority."""
    clientCert = selfSignedPair("client")
    server = Recorder()
    port = reactor.listenSSL(
        0,
        ServerFactory.forProtocol(lambda: server),
        serverCert.options(clientCert),
        interface="127.0.0.1",
    )
    cf = Client()
    options = optionsForClientTLS("localhost", serverCert, clientCertificate=clientCert)
    reactor.connectSSL("127.0.0.1", port.getHost().port, cf, options)
    run(server.made)
    assert server.transport.getPeerCertificate() == clientCert


def test_alpnNegotiation(reactor: Any, run: Any, serverCert: PrivateCertificate) -> None:
    """acceptableProtocols negotiates ALPN; both sides see the chosen protocol."""
    server = Recorder()
    options = CertificateOptions(
        privateKey=serverCert.getPrivateKey(),
        certificate=serverCert,
        acceptableProtocols=[b"h2", b"http/1.1"],
    )
    port = reactor.listenSSL(
        0, ServerFactory.forProtocol(lambda: server), options, interface="127.0.0.1"
    )
    cf = Client()
    clientOptions = optionsForClientTLS(
        "localhost", serverCert, acceptableProtocols=[b"http/1.1"]
    )
    reactor.connectSSL("127.0.0.1", port.getHost().port, cf, clientOptions)
    client = run(cf.built)
    run(server.made)
    assert client.transport.negotiatedProtocol == b"http/1.1"
    assert server.transport.negotiatedProtocol == b"http/1.1"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl command not installed")
def test_opensslClientReadsGreeting(
    reactor: Any, run: Any, serverCert: PrivateCertificate, tmp_path: Any
) -> None:
    """`openssl s_client`, verifying the chain, reads what a listenSSL server writes."""
    caFile = tmp_path / "ca.pem"
    caFile.write_bytes(Certificate.dumpPEM(serverCert))
    port = reactor.listenSSL(
        0, ServerFactory.forProtocol(Greeter), serverCert.options(), interface="127.0.0.1"
    )

    async def talk() -> tuple[bytes, bytes, int]:
        proc = await asyncio.create_subprocess_exec(
            "openssl", "s_client", "-connect", f"127.0.0.1:{port.getHost().port}",
            "-servername", "localhost", "-CAfile", str(caFile), "-verify_return_error",
            "-ign_eof",
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        return out, err, proc.returncode or 0

    out, err, code = run(reactor._loop.create_task(talk()), timeout=20)
    assert b"hello over tls" in out, err
    assert b"Verify return code: 0 (ok)" in out


def test_plainClientToTLSServerIsLoggedNotFatal(
    reactor: Any, run: Any, serverCert: PrivateCertificate, engine: str
) -> None:
    """A client speaking plain TCP to a TLS port is dropped; the server keeps serving."""
    port = _echoServer(reactor, serverCert)
    plain = Client()
    with capturedLogs() as events:
        reactor.connectTCP("127.0.0.1", port.getHost().port, plain)
        bad = run(plain.built)
        bad.transport.write(b"GET / HTTP/1.0\r\n\r\n")
        run(bad.lost)
    texts = [formatEvent(e) for e in events]
    assert any(f"TLS handshake failed on port {port.getHost().port}" in t for t in texts)
    if engine == "asyncio":  # uvloop's TLS layer is C: the peer cannot be found cheaply
        peer = bad.transport.getHost()
        assert any(f"from {peer.host}:{peer.port}:" in t for t in texts), texts
    cf = _connectVerifying(reactor, port, serverCert)
    good = run(cf.built)
    good.expected = 2
    good.transport.write(b"ok")
    assert run(good.gotAll) == b"ok"


_ = error


def test_handshakeListenerOnSSLConnection(
    reactor: Any, run: Any, serverCert: PrivateCertificate
) -> None:
    """connectSSL tells an IHandshakeListener protocol once the handshake is done."""

    class Listening(Recorder):
        def handshakeCompleted(self) -> None:
            self.handshakeDone = True

    port = _echoServer(reactor, serverCert)
    cf = _connectVerifying(reactor, port, serverCert, Listening)
    client = run(cf.built)
    run(client.made)
    assert client.handshakeDone


def test_keyPairSelfSignedCertHasSubject() -> None:
    """KeyPair.selfSignedCert builds a certificate with the given distinguished name."""
    cert = KeyPair.generateEC().selfSignedCert(7, commonName="unit", organizationName="torsion")
    assert cert.getSubject() == {"commonName": "unit", "organizationName": "torsion"}
    assert cert.getIssuer() == cert.getSubject() and cert.serialNumber() == 7


def test_clientContextFactoryDoesNotVerify() -> None:
    """ClientContextFactory (for test servers only) verifies nothing, as in Twisted."""
    from torsion.internet.ssl import ClientContextFactory

    ctx = ClientContextFactory().getContext()
    assert ctx.verify_mode == ssl.CERT_NONE and not ctx.check_hostname


def test_raiseMinimumTo(serverCert: PrivateCertificate) -> None:
    """raiseMinimumTo raises the lowest protocol version accepted."""
    options = CertificateOptions(
        privateKey=serverCert.getPrivateKey(),
        certificate=serverCert,
        raiseMinimumTo=ssl.TLSVersion.TLSv1_3,
    )
    assert options.getContext().minimum_version == ssl.TLSVersion.TLSv1_3


class PausedAtStart(Recorder):
    """Pauses its transport in connectionMade."""

    def connectionMade(self) -> None:
        self.transport.pauseProducing()
        super().connectionMade()


class SendsAtOnce(Recorder):
    def connectionMade(self) -> None:
        self.transport.write(b"right away")
        super().connectionMade()


def test_pauseInConnectionMadeHoldsOverTLS(
    reactor: Any, run: Any, serverCert: PrivateCertificate
) -> None:
    """A TLS server protocol pausing in connectionMade gets nothing until it resumes."""
    sf = RecordingServer(PausedAtStart)
    port = reactor.listenSSL(0, sf, serverCert.options(), interface="127.0.0.1")
    _connectVerifying(reactor, port, serverCert, SendsAtOnce)
    server = run(sf.built)
    run(server.made)
    waited: Deferred[None] = Deferred()
    reactor.callLater(0.05, waited.callback, None)
    run(waited)
    assert bytes(server.data) == b""
    server.expected = 10
    server.transport.resumeProducing()
    assert run(server.gotAll) == b"right away"


def test_connectSSLWithNonVerifyingContext(
    reactor: Any, run: Any, serverCert: PrivateCertificate
) -> None:
    """connectSSL with ClientContextFactory (no verification) connects, as in Twisted."""
    from torsion.internet.ssl import ClientContextFactory

    port = _echoServer(reactor, serverCert)
    cf = Client()
    reactor.connectSSL("127.0.0.1", port.getHost().port, cf, ClientContextFactory())
    client = run(cf.built)
    client.expected = 4
    client.transport.write(b"ping")
    assert run(client.gotAll) == b"ping"
