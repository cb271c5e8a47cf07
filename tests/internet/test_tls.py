"""startTLS: upgrading a live TCP connection to TLS (STARTTLS), on both engines."""

from __future__ import annotations

import ssl
from typing import Any

from transporthelpers import Held

from torsion.internet import error
from torsion.internet.defer import Deferred
from torsion.internet.protocol import ClientFactory, Factory, Protocol, ServerFactory
from torsion.internet.ssl import PrivateCertificate, optionsForClientTLS, selfSignedPair


class StartTLSServer(Protocol):
    """Plain text until "STARTTLS\\n"; then answers "GO\\n", upgrades and echoes."""

    options: Any = None
    normal = True

    def __init__(self) -> None:
        self.tls = False
        self.lost: Deferred[Any] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        if not self.tls:
            assert data == b"STARTTLS\n"
            self.transport.write(b"GO\n")
            self.transport.startTLS(self.options, self.normal)
            self.tls = True
            return
        self.transport.write(data)

    def connectionLost(self, reason: Any = None) -> None:
        self.lost.callback(Held(reason))


class StartTLSClient(Protocol):
    """Asks for STARTTLS, upgrades on "GO", writes at once and collects the echo."""

    options: Any = None
    normal = True

    def __init__(self) -> None:
        self.data = bytearray()
        self.echoed: Deferred[bytes] = Deferred()
        self.lost: Deferred[Any] = Deferred()
        self.tls = False

    def connectionMade(self) -> None:
        self.transport.write(b"STARTTLS\n")

    def dataReceived(self, data: bytes) -> None:
        if not self.tls:
            assert data == b"GO\n"
            self.tls = True
            self.transport.startTLS(self.options, self.normal)
            self.transport.write(b"written ")
            self.transport.writeSequence([b"before ", b"handshake"])
            return
        self.data += data
        if len(self.data) >= 24 and not self.echoed.called:
            self.echoed.callback(bytes(self.data))

    def connectionLost(self, reason: Any = None) -> None:
        self.lost.callback(Held(reason))


class Builder(ClientFactory):
    def __init__(self, make: Any) -> None:
        self.make = make
        self.built: Deferred[Any] = Deferred()

    def buildProtocol(self, addr: Any) -> Any:
        p = self.make()
        p.factory = self
        if not self.built.called:
            self.built.callback(p)
        return p


def _pair(reactor: Any, serverProto: Any, clientProto: Any) -> tuple[Any, Any]:
    sf = Builder(lambda: serverProto)
    port = reactor.listenTCP(0, sf, interface="127.0.0.1")
    cf = Builder(lambda: clientProto)
    reactor.connectTCP("127.0.0.1", port.getHost().port, cf)
    return sf, cf


def _upgradingPair(
    reactor: Any, serverCert: PrivateCertificate, client: Any = None, trust: Any = None
) -> tuple[StartTLSServer, Any]:
    """Connect a StartTLSServer using `serverCert` to `client` (a StartTLSClient by default).

    The client verifies the server against `trust` (`serverCert` by default).
    """
    server = StartTLSServer()
    server.options = serverCert.options()
    if client is None:
        client = StartTLSClient()
    client.options = optionsForClientTLS("localhost", serverCert if trust is None else trust)
    _pair(reactor, server, client)
    return server, client


def test_startTLSKeepsWritesMadeDuringHandshake(
    reactor: Any, run: Any, serverCert: PrivateCertificate
) -> None:
    """Writes made right after startTLS are sent, encrypted, once the handshake is done."""
    server, client = _upgradingPair(reactor, serverCert)
    assert run(client.echoed) == b"written before handshake"
    assert client.transport.getPeerCertificate() == serverCert
    assert server.transport.getPeerCertificate() is None


def test_startTLSMakesTheTransportISSLTransport(
    reactor: Any, run: Any, serverCert: PrivateCertificate
) -> None:
    """After startTLS both ends provide ISSLTransport and say TLS, as in Twisted."""
    from torsion.internet.interfaces import ISSLTransport

    server, client = _upgradingPair(reactor, serverCert)
    assert run(client.echoed) == b"written before handshake"
    for transport in (client.transport, server.transport):
        assert transport.TLS is True
        assert isinstance(transport, ISSLTransport)


def test_startTLSRolesCanBeSwapped(
    reactor: Any, run: Any, serverCert: PrivateCertificate
) -> None:
    """normal=False makes the accepting side the TLS client and the connecting side the server."""
    server = StartTLSServer()
    server.options = optionsForClientTLS("localhost", serverCert)
    server.normal = False
    client = StartTLSClient()
    client.options = serverCert.options()
    client.normal = False
    _pair(reactor, server, client)
    assert run(client.echoed) == b"written before handshake"
    assert server.transport.getPeerCertificate() == serverCert


def test_startTLSHandshakeFailureEndsConnection(
    reactor: Any, run: Any, serverCert: PrivateCertificate
) -> None:
    """A failed STARTTLS handshake ends the connection with the TLS error as reason."""
    server, client = _upgradingPair(reactor, serverCert, trust=selfSignedPair("localhost"))
    reason = run(client.lost)
    assert reason.check(ssl.SSLError, error.ConnectionClosed)
    assert not client.echoed.called


def test_loseConnectionDuringHandshakeFlushesFirst(
    reactor: Any, run: Any, serverCert: PrivateCertificate
) -> None:
    """loseConnection right after startTLS closes only after the buffered data is sent."""

    class Closer(StartTLSClient):
        def dataReceived(self, data: bytes) -> None:
            if not self.tls:
                self.tls = True
                self.transport.startTLS(self.options)
                self.transport.write(b"x" * 25)
                self.transport.loseConnection()
                return
            super().dataReceived(data)

    server, client = _upgradingPair(reactor, serverCert, Closer())
    run(server.lost)
    assert client.transport.disconnecting


_ = (Factory, ServerFactory)


def test_handshakeListenerIsTold(reactor: Any, run: Any, serverCert: PrivateCertificate) -> None:
    """A protocol with handshakeCompleted (IHandshakeListener) hears when STARTTLS finishes."""

    class Listening(StartTLSClient):
        def __init__(self) -> None:
            super().__init__()
            self.handshake: Deferred[None] = Deferred()

        def handshakeCompleted(self) -> None:
            self.handshake.callback(None)

    server, client = _upgradingPair(reactor, serverCert, Listening())
    run(client.handshake)


_TWISTED_STARTTLS_CLIENT = r"""
import sys
from twisted.internet import reactor, ssl
from twisted.internet.protocol import ClientFactory, Protocol

caPEM = open(sys.argv[3], "rb").read()

class Client(Protocol):
    tls = False
    def connectionMade(self):
        self.transport.write(b"STARTTLS\n")
    def dataReceived(self, data):
        if not self.tls:
            self.tls = True
            options = ssl.optionsForClientTLS(
                "localhost", trustRoot=ssl.Certificate.loadPEM(caPEM))
            self.transport.startTLS(options)
            self.transport.write(b"hello from twisted over tls")
            return
        sys.stdout.write(data.decode())
        sys.stdout.flush()
        if b"twisted" in data:
            self.transport.loseConnection()
    def connectionLost(self, reason):
        reactor.stop()

factory = ClientFactory.forProtocol(Client)
reactor.connectTCP(sys.argv[1], int(sys.argv[2]), factory)
reactor.callLater(15, reactor.stop)
reactor.run()
"""


def test_twistedClientStartsTLSWithUs(
    reactor: Any, run: Any, serverCert: PrivateCertificate, tmp_path: Any
) -> None:
    """Twisted's own startTLS client upgrades a connection to our STARTTLS server."""
    import asyncio

    from twistedpeer import twistedPython

    python = twistedPython()
    from torsion.internet.ssl import Certificate

    ca = tmp_path / "ca.pem"
    ca.write_bytes(Certificate.dumpPEM(serverCert))
    script = tmp_path / "client.py"
    script.write_text(_TWISTED_STARTTLS_CLIENT)

    class Server(StartTLSServer):
        options = serverCert.options()

    port = reactor.listenTCP(0, Builder(Server), interface="127.0.0.1")

    async def talk() -> bytes:
        proc = await asyncio.create_subprocess_exec(
            python, str(script), "127.0.0.1", str(port.getHost().port), str(ca),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        return out

    out = run(reactor._loop.create_task(talk()), timeout=30)
    assert b"hello from twisted over tls" in out, out
