"""Endpoints: objects, Happy Eyeballs, TLS wrapping and string descriptions."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from torsion.internet import endpoints, error
from torsion.internet.address import IPv4Address, IPv6Address
from torsion.internet.defer import Deferred
from torsion.internet.protocol import Factory, Protocol
from torsion.internet.ssl import Certificate, selfSignedPair
from torsion.internet.testing import MemoryReactorClock


class Recorder(Protocol):
    def __init__(self) -> None:
        self.data = bytearray()
        self.madeCalled = False
        self.gotAll: Deferred[bytes] = Deferred()
        self.expected = 0

    def connectionMade(self) -> None:
        self.madeCalled = True

    def dataReceived(self, data: bytes) -> None:
        self.data += data
        if self.expected and len(self.data) >= self.expected and not self.gotAll.called:
            self.gotAll.callback(bytes(self.data))


class Echo(Protocol):
    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data)


class ListResolver:
    """An IHostnameResolver answering every name with fixed addresses."""

    def __init__(self, addresses: list[Any]) -> None:
        self.addresses = addresses

    def resolveHostName(self, receiver: Any, hostName: str, portNumber: int = 0,
                        addressTypes: Any = None, transportSemantics: str = "TCP") -> Any:
        receiver.resolutionBegan(None)
        for a in self.addresses:
            receiver.addressResolved(a)
        receiver.resolutionComplete()
        return receiver


def test_tcpListenAndConnect(reactor: Any, run: Any) -> None:
    """A TCP4 server endpoint listens; a TCP4 client endpoint connects and gets the protocol."""
    server = endpoints.TCP4ServerEndpoint(reactor, 0, interface="127.0.0.1")
    port = run(server.listen(Factory.forProtocol(Echo)))
    client = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    proto = run(client.connect(Factory.forProtocol(Recorder)))
    assert isinstance(proto, Recorder) and proto.madeCalled
    proto.expected = 3
    proto.transport.write(b"abc")
    assert run(proto.gotAll) == b"abc"


def test_connectedProtocolGetsDataDirectly(reactor: Any, run: Any) -> None:
    """After connect() the transport delivers to the user's protocol, not a wrapper."""
    port = reactor.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
    client = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    proto = run(client.connect(Factory.forProtocol(Recorder)))
    assert proto.transport.protocol is proto


def test_listenFailureIsAFailedDeferred(reactor: Any, run: Any) -> None:
    """A port that cannot be bound fails the listen() Deferred with CannotListenError."""
    port = reactor.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
    busy = endpoints.TCP4ServerEndpoint(reactor, port.getHost().port, interface="127.0.0.1")
    with pytest.raises(error.CannotListenError):
        run(busy.listen(Factory.forProtocol(Echo)))


def test_connectFailureIsAFailedDeferred(reactor: Any, run: Any) -> None:
    """A refused connection fails the connect() Deferred with ConnectionRefusedError."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    portno = s.getsockname()[1]
    s.close()
    client = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", portno)
    with pytest.raises(error.ConnectionRefusedError):
        run(client.connect(Factory.forProtocol(Recorder)))


def test_cancelConnectStopsConnecting() -> None:
    """Cancelling connect() fails it with ConnectingCancelledError and stops the connector."""
    reactor = MemoryReactorClock()
    d = endpoints.TCP4ClientEndpoint(reactor, "10.0.0.1", 80).connect(
        Factory.forProtocol(Recorder)
    )
    failures: list[Any] = []
    d.addErrback(failures.append)
    d.cancel()
    assert failures[0].check(error.ConnectingCancelledError)
    assert failures[0].value.address == IPv4Address("TCP", "10.0.0.1", 80)
    assert reactor.connectors[0].stoppedConnecting


def test_factoryRefusingFailsWithNoProtocol() -> None:
    """A factory returning None makes connect() fail with NoProtocol."""
    reactor = MemoryReactorClock()

    class Refuser(Factory):
        def buildProtocol(self, addr: Any) -> Any:
            return None

    d = endpoints.TCP4ClientEndpoint(reactor, "10.0.0.1", 80).connect(Refuser())
    failures: list[Any] = []
    d.addErrback(failures.append)
    factory = reactor.tcpClients[0][2]
    assert factory.buildProtocol(IPv4Address("TCP", "10.0.0.1", 80)) is None
    assert failures[0].check(error.NoProtocol)


def test_unixEndpoints(reactor: Any, run: Any, tmp_path: Any) -> None:
    """UNIX server and client endpoints connect through a socket path."""
    path = str(tmp_path / "e.sock")
    run(endpoints.UNIXServerEndpoint(reactor, path).listen(Factory.forProtocol(Echo)))
    proto = run(endpoints.UNIXClientEndpoint(reactor, path).connect(Factory.forProtocol(Recorder)))
    proto.expected = 4
    proto.transport.write(b"unix")
    assert run(proto.gotAll) == b"unix"


def test_connectProtocolUsesGivenInstance(reactor: Any, run: Any) -> None:
    """connectProtocol connects the very protocol instance given."""
    port = reactor.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
    mine = Recorder()
    endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
    assert run(endpoints.connectProtocol(endpoint, mine)) is mine


# -- Happy Eyeballs ---------------------------------------------------------------------------


def test_happyEyeballsInterleavesAndStaggers() -> None:
    """Attempts alternate families and start attemptDelay apart (RFC 8305 §4, §5)."""
    reactor = MemoryReactorClock()
    reactor.installNameResolver(ListResolver([
        IPv6Address("TCP", "::1", 0), IPv6Address("TCP", "::2", 0),
        IPv4Address("TCP", "10.0.0.1", 0),
    ]))
    endpoint = endpoints.HostnameEndpoint(reactor, b"example.com", 80, attemptDelay=0.3)
    endpoint.connect(Factory.forProtocol(Recorder))
    assert [c[0] for c in reactor.tcpClients] == ["::1"]
    reactor.advance(0.3)
    assert [c[0] for c in reactor.tcpClients] == ["::1", "10.0.0.1"]
    reactor.advance(0.3)
    assert [c[0] for c in reactor.tcpClients] == ["::1", "10.0.0.1", "::2"]


def test_happyEyeballsFirstSuccessWinsAndCancelsOthers() -> None:
    """The first attempt to connect wins; the others are stopped."""
    reactor = MemoryReactorClock()
    reactor.installNameResolver(ListResolver([
        IPv4Address("TCP", "10.0.0.1", 0), IPv4Address("TCP", "10.0.0.2", 0),
    ]))
    d = endpoints.HostnameEndpoint(reactor, b"example.com", 80).connect(
        Factory.forProtocol(Recorder)
    )
    reactor.advance(0.3)
    winner = reactor.tcpClients[1][2].buildProtocol(IPv4Address("TCP", "10.0.0.2", 80))
    from torsion.internet.testing import StringTransport

    winner.makeConnection(StringTransport())
    results: list[Any] = []
    d.addCallback(results.append)
    assert isinstance(results[0], Recorder)
    assert reactor.connectors[0].stoppedConnecting


def test_happyEyeballsFailureMovesOnAtOnce() -> None:
    """A failed attempt starts the next one without waiting for attemptDelay."""
    reactor = MemoryReactorClock()
    reactor.installNameResolver(ListResolver([
        IPv4Address("TCP", "10.0.0.1", 0), IPv4Address("TCP", "10.0.0.2", 0),
    ]))
    d = endpoints.HostnameEndpoint(reactor, b"example.com", 80).connect(
        Factory.forProtocol(Recorder)
    )
    from torsion.python.failure import Failure

    reactor.tcpClients[0][2].clientConnectionFailed(
        reactor.connectors[0], Failure(error.ConnectionRefusedError())
    )
    assert [c[0] for c in reactor.tcpClients] == ["10.0.0.1", "10.0.0.2"]
    reactor.tcpClients[1][2].clientConnectionFailed(
        reactor.connectors[1], Failure(error.ConnectionRefusedError())
    )
    failures: list[Any] = []
    d.addErrback(failures.append)
    assert failures[0].check(error.ConnectionRefusedError)


def test_happyEyeballsNoAddressIsDNSLookupError() -> None:
    """A name with no addresses fails with DNSLookupError."""
    reactor = MemoryReactorClock()
    reactor.installNameResolver(ListResolver([]))
    d = endpoints.HostnameEndpoint(reactor, b"nowhere.invalid", 80).connect(
        Factory.forProtocol(Recorder)
    )
    failures: list[Any] = []
    d.addErrback(failures.append)
    assert failures[0].check(error.DNSLookupError)


def test_happyEyeballsCancel() -> None:
    """Cancelling stops every pending attempt and fails with ConnectingCancelledError."""
    reactor = MemoryReactorClock()
    reactor.installNameResolver(ListResolver([
        IPv4Address("TCP", "10.0.0.1", 0), IPv4Address("TCP", "10.0.0.2", 0),
    ]))
    d = endpoints.HostnameEndpoint(reactor, b"example.com", 80).connect(
        Factory.forProtocol(Recorder)
    )
    failures: list[Any] = []
    d.addErrback(failures.append)
    d.cancel()
    assert failures[0].check(error.ConnectingCancelledError)
    assert reactor.connectors[0].stoppedConnecting
    reactor.advance(1)
    assert len(reactor.tcpClients) == 1


def test_hostnameEndpointRealConnection(reactor: Any, run: Any) -> None:
    """HostnameEndpoint("localhost") connects to a real local server."""
    port = reactor.listenTCP(0, Factory.forProtocol(Echo), interface="127.0.0.1")
    endpoint = endpoints.HostnameEndpoint(reactor, b"localhost", port.getHost().port)
    proto = run(endpoint.connect(Factory.forProtocol(Recorder)))
    proto.expected = 2
    proto.transport.write(b"hi")
    assert run(proto.gotAll) == b"hi"


# -- TLS ----------------------------------------------------------------------------------------


def test_wrapClientTLSVerifiesAndTalks(reactor: Any, run: Any) -> None:
    """wrapClientTLS over a HostnameEndpoint speaks TLS to listenSSL, verifying the name."""
    from torsion.internet.ssl import optionsForClientTLS

    cert = selfSignedPair("localhost")
    port = reactor.listenSSL(
        0, Factory.forProtocol(Echo), cert.options(), interface="127.0.0.1"
    )
    endpoint = endpoints.wrapClientTLS(
        optionsForClientTLS("localhost", cert),
        endpoints.HostnameEndpoint(reactor, b"localhost", port.getHost().port),
    )
    proto = run(endpoint.connect(Factory.forProtocol(Recorder)))
    assert isinstance(proto, Recorder)
    proto.expected = 3
    proto.transport.write(b"tls")
    assert run(proto.gotAll) == b"tls"
    assert proto.transport.getPeerCertificate() == cert


def test_stringSSLServerAndTLSClient(reactor: Any, run: Any, tmp_path: Any) -> None:
    """"ssl:0:privateKey=...:certKey=..." listens; "tls:localhost:PORT:trustRoots=DIR" connects."""
    cert = selfSignedPair("localhost", directory=str(tmp_path))
    server = endpoints.serverFromString(
        reactor, f"ssl:0:privateKey={cert.keyPath}:certKey={cert.certPath}:interface=127.0.0.1"
    )
    port = run(server.listen(Factory.forProtocol(Echo)))
    trust = tmp_path / "trust"
    trust.mkdir()
    (trust / "ca.pem").write_bytes(Certificate.dumpPEM(cert))
    client = endpoints.clientFromString(
        reactor, f"tls:localhost:{port.getHost().port}:trustRoots={trust}"
    )
    proto = run(client.connect(Factory.forProtocol(Recorder)))
    proto.expected = 5
    proto.transport.write(b"hello")
    assert run(proto.gotAll) == b"hello"


# -- strings ------------------------------------------------------------------------------------


def test_serverFromStringTCP() -> None:
    """"tcp:8080:interface=127.0.0.1:backlog=7" builds the matching TCP4ServerEndpoint."""
    reactor = MemoryReactorClock()
    endpoint = endpoints.serverFromString(reactor, "tcp:8080:interface=127.0.0.1:backlog=7")
    endpoint.listen(Factory.forProtocol(Echo))
    assert reactor.tcpServers[0][0] == 8080
    assert reactor.tcpServers[0][2:] == (7, "127.0.0.1")


def test_serverFromStringReusePortSharesThePort(reactor: Any, run: Any) -> None:
    """"tcp:PORT:reusePort=yes" twice binds the same port twice (SO_REUSEPORT)."""
    first = endpoints.serverFromString(reactor, "tcp:0:interface=127.0.0.1:reusePort=yes")
    port = run(first.listen(Factory.forProtocol(Echo)))
    number = port.getHost().port
    second = endpoints.serverFromString(
        reactor, f"tcp:{number}:interface=127.0.0.1:reusePort=yes"
    )
    again = run(second.listen(Factory.forProtocol(Echo)))
    assert again.getHost().port == number


def test_serverFromStringReusePortMustBeYesOrNo() -> None:
    """A reusePort value other than yes/no (true/false, 1/0, on/off) is a ValueError."""
    with pytest.raises(ValueError, match="reusePort"):
        endpoints.serverFromString(MemoryReactorClock(), "tcp:8080:reusePort=maybe")


def test_serverFromStringWithoutReusePortLeavesReactorCallPlain() -> None:
    """Without reusePort the endpoint calls listenTCP with Twisted's arguments only."""
    reactor = MemoryReactorClock()
    endpoints.serverFromString(reactor, "tcp:8080:reusePort=no").listen(Factory())
    assert reactor.tcpServers[0][0] == 8080


def test_serverFromStringTCP6DefaultsToAnyIPv6() -> None:
    """"tcp6:8080" listens on "::"."""
    endpoint = endpoints.serverFromString(MemoryReactorClock(), "tcp6:8080")
    assert isinstance(endpoint, endpoints.TCP6ServerEndpoint)
    assert endpoint._interface == "::"


def test_serverFromStringUNIXModeAndEscapes() -> None:
    """"unix:" takes an octal mode, and a backslash escapes a colon in the path."""
    endpoint = endpoints.serverFromString(MemoryReactorClock(), r"unix:/tmp/a\:b.sock:mode=660")
    assert isinstance(endpoint, endpoints.UNIXServerEndpoint)
    assert endpoint._address == "/tmp/a:b.sock" and endpoint._mode == 0o660


def test_clientFromStringKeywordForm() -> None:
    """"tcp:host=example.com:port=80:timeout=5" builds a TCP4ClientEndpoint."""
    endpoint = endpoints.clientFromString(
        MemoryReactorClock(), "tcp:host=example.com:port=80:timeout=5"
    )
    assert isinstance(endpoint, endpoints.TCP4ClientEndpoint)
    assert (endpoint._host, endpoint._port, endpoint._timeout) == ("example.com", 80, 5)


def test_clientFromStringPositionalForm() -> None:
    """"tcp:example.com:80" is the same as the keyword form."""
    endpoint = endpoints.clientFromString(MemoryReactorClock(), "tcp:example.com:80")
    assert (endpoint._host, endpoint._port) == ("example.com", 80)


def test_tlsStringVerifiesHostname() -> None:
    """"tls:example.com:443" wraps a HostnameEndpoint with hostname-checking options."""
    endpoint = endpoints.clientFromString(MemoryReactorClock(), "tls:example.com:443")
    assert isinstance(endpoint._wrappedEndpoint, endpoints.HostnameEndpoint)
    assert endpoint._creator._hostname == "example.com"
    assert endpoint._creator.getContext().check_hostname


@pytest.mark.parametrize("description", ["bogus:1234", "", "tcp:notaport", "tcp:80:colour=red"])
def test_badDescriptionsAreValueErrors(description: str) -> None:
    """Unknown types, bad numbers and unknown arguments raise ValueError."""
    with pytest.raises(ValueError):
        endpoints.serverFromString(MemoryReactorClock(), description)


def test_unknownTypeIsNamed() -> None:
    """The ValueError for an unknown type names that type."""
    with pytest.raises(ValueError, match="bogus"):
        endpoints.clientFromString(MemoryReactorClock(), "bogus:x")


def test_tcp6ClientEndpointPicksIPv6Address() -> None:
    """TCP6ClientEndpoint resolves a name and connects to its IPv6 address only."""
    reactor = MemoryReactorClock()
    reactor.installNameResolver(ListResolver([
        IPv4Address("TCP", "10.0.0.1", 0), IPv6Address("TCP", "2001:db8::1", 0),
    ]))
    endpoints.TCP6ClientEndpoint(reactor, "example.com", 80).connect(
        Factory.forProtocol(Recorder)
    )
    assert [c[:2] for c in reactor.tcpClients] == [("2001:db8::1", 80)]


def test_clientFromStringUNIX() -> None:
    """"unix:PATH:timeout=3:checkPID=1" builds the matching UNIXClientEndpoint."""
    description = "unix:/tmp/x.sock:timeout=3:checkPID=1"
    endpoint = endpoints.clientFromString(MemoryReactorClock(), description)
    assert isinstance(endpoint, endpoints.UNIXClientEndpoint)
    assert (endpoint._path, endpoint._timeout, endpoint._checkPID) == ("/tmp/x.sock", 3, True)


def test_sslClientStringVerifies() -> None:
    """"ssl:host:port" client endpoints verify the server name too (safe by default)."""
    endpoint = endpoints.clientFromString(MemoryReactorClock(), "ssl:example.com:443")
    assert isinstance(endpoint, endpoints.SSL4ClientEndpoint)
    assert endpoint._sslContextFactory.getContext().check_hostname
