"""amp.Descriptor: file descriptors as AMP arguments over real UNIX sockets, on both engines,
and against Twisted's AMP (a subprocess, $TORSION_TWISTED_PYTHON)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from twistedpeer import runTwistedClient

from torsion.internet import defer
from torsion.internet.error import ConnectionDone
from torsion.internet.protocol import ClientFactory, Factory
from torsion.internet.testing import StringTransport
from torsion.logger import capturedLogs, formatEvent
from torsion.protocols import amp
from torsion.python.failure import Failure

COMMANDS = """
class WriteTo(amp.Command):
    arguments = [(b"fd", amp.Descriptor()), (b"text", amp.String())]
    response = [(b"written", amp.Integer())]

class Swap(amp.Command):
    arguments = [(b"first", amp.Descriptor()), (b"second", amp.Descriptor())]
    response = [(b"back", amp.Descriptor())]
"""

exec(compile(COMMANDS, "<commands>", "exec"), globals())  # the same schema on both sides


class Peer(amp.AMP):
    """Writes to descriptors it is given; answers Swap with a pipe it wrote into."""

    def __init__(self, made: defer.Deferred[Peer] | None = None) -> None:
        super().__init__()
        self.made = made
        self.lost: defer.Deferred[Any] = defer.Deferred()
        self.sentBack: list[int] = []

    def connectionMade(self) -> None:
        if self.made is not None:
            self.made.callback(self)

    def connectionLost(self, reason: Any = None) -> None:
        super().connectionLost(reason)
        for fd in self.sentBack:
            os.close(fd)
        self.lost.callback(None)  # (a Failure would errback, unhandled)

    @WriteTo.responder  # type: ignore[name-defined]  # noqa: F821
    def writeTo(self, fd: int, text: bytes) -> dict[str, int]:
        try:
            return {"written": os.write(fd, text)}
        finally:
            os.close(fd)

    @Swap.responder  # type: ignore[name-defined]  # noqa: F821
    def swap(self, first: int, second: int) -> dict[str, int]:
        os.write(second, b"second ")
        os.write(first, b"first")
        os.close(first)
        os.close(second)
        r, w = os.pipe()
        os.write(w, b"from the responder")
        os.close(w)
        self.sentBack.append(r)  # ours to close: the peer is sent a duplicate
        return {"back": r}


def _connect(reactor: Any, run: Any, path: str) -> tuple[Peer, Peer]:
    serverMade: defer.Deferred[Peer] = defer.Deferred()
    reactor.listenUNIX(path, Factory.forProtocol(lambda: Peer(serverMade)))
    made: defer.Deferred[Peer] = defer.Deferred()
    factory = ClientFactory()
    factory.protocol = lambda: Peer(made)
    reactor.connectUNIX(path, factory)
    client = run(made)
    server = run(serverMade)
    return server, client


def _readAll(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 4096):
        chunks.append(chunk)
    return b"".join(chunks)


def test_descriptorArgumentReachesResponder(reactor: Any, run: Any, tmp_path: Path) -> None:
    """A pipe's write end passed as a Descriptor is written to by the remote responder."""
    server, client = _connect(reactor, run, str(tmp_path / "amp.sock"))
    r, w = os.pipe()
    try:
        answer = run(client.callRemote(WriteTo, fd=w, text=b"hello"))  # noqa: F821
        assert answer == {"written": 5}
        os.close(w)
        w = -1
        assert _readAll(r) == b"hello"  # the responder closed its copy: no writer is left
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_severalDescriptorsBothWays(reactor: Any, run: Any, tmp_path: Path) -> None:
    """Two Descriptor arguments keep their identities; a Descriptor response comes back."""
    server, client = _connect(reactor, run, str(tmp_path / "amp.sock"))
    r, w = os.pipe()
    try:
        answer = run(client.callRemote(Swap, first=w, second=w))  # noqa: F821
        os.close(w)
        w = -1
        assert _readAll(r) == b"second first"
        back = answer["back"]
        try:
            assert _readAll(back) == b"from the responder"
        finally:
            os.close(back)
    finally:
        os.close(r)
        if w >= 0:
            os.close(w)


def test_manyCallsInFlightKeepTheirDescriptors(reactor: Any, run: Any, tmp_path: Path) -> None:
    """Fifty concurrent calls, each with its own pipe, each get their own descriptor."""
    server, client = _connect(reactor, run, str(tmp_path / "amp.sock"))
    pipes = [os.pipe() for _ in range(50)]
    try:
        calls = [client.callRemote(WriteTo, fd=w, text=b"%d" % i)  # noqa: F821
                 for i, (r, w) in enumerate(pipes)]
        run(defer.gatherResults(calls))
        for i, (r, _w) in enumerate(pipes):
            assert os.read(r, 10) == b"%d" % i
    finally:
        for r, w in pipes:
            os.close(r)
            os.close(w)


def test_descriptorWhereNoneCanPassIsAClearError() -> None:
    """A Descriptor on a transport that cannot pass one (TCP, a fake) fails with TypeError."""
    proto = Peer()
    transport = StringTransport()
    proto.makeConnection(transport)
    failures: list[Failure] = []
    d = proto.callRemote(WriteTo, fd=0, text=b"x")  # noqa: F821
    assert d is not None
    d.addErrback(failures.append)
    assert failures[0].check(TypeError)
    assert "needs a UNIX connection" in str(failures[0].value)
    assert transport.value() == b""


def test_unknownOrdinalIsRejected() -> None:
    """A box naming a descriptor that never arrived is bad input: a clear ValueError."""
    proto = Peer()
    proto.makeConnection(StringTransport())
    with pytest.raises(ValueError, match="no descriptor #7"):
        WriteTo.parseArguments({b"fd": b"7", b"text": b"x"}, proto)  # noqa: F821


def test_unclaimedDescriptorsAreBoundedAndClosed() -> None:
    """Past maxUnclaimedDescriptors the connection is dropped; held ones close with it."""
    proto = Peer()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.maxUnclaimedDescriptors = 3
    r, w = os.pipe()
    try:
        dups = [os.dup(w) for _ in range(4)]
        with capturedLogs() as events:
            for fd in dups:
                proto.fileDescriptorReceived(fd)
        assert transport.disconnecting
        assert any("more than 3 descriptors" in formatEvent(e) for e in events)
        proto.connectionLost(Failure(ConnectionDone()))
        for fd in dups:
            with pytest.raises(OSError):
                os.fstat(fd)
    finally:
        os.close(r)
        os.close(w)


TWISTED_CLIENT = """
import json, os, sys
from twisted.internet import reactor, defer, endpoints
from twisted.protocols import amp
""" + COMMANDS + """
out = []

def readAll(fd):
    chunks = []
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)

@defer.inlineCallbacks
def main():
    ep = endpoints.UNIXClientEndpoint(reactor, sys.argv[1])
    proto = yield endpoints.connectProtocol(ep, amp.AMP())
    r, w = os.pipe()
    result = yield proto.callRemote(WriteTo, fd=w, text=b"to torsion")
    os.close(w)
    out.append(["writeTo", result["written"], readAll(r).decode()])
    os.close(r)
    r, w = os.pipe()
    result = yield proto.callRemote(Swap, first=w, second=w)
    os.close(w)
    out.append(["swap", readAll(r).decode(), readAll(result["back"]).decode()])

def done(result):
    if hasattr(result, "getTraceback"):
        sys.stderr.write(result.getTraceback())
    print(json.dumps(out), flush=True)
    reactor.stop()

main().addBoth(done)
reactor.run()
"""


@pytest.mark.integration
def test_twistedClientPassesDescriptorsToTorsion(reactor: Any, run: Any, tmp_path: Path) -> None:
    """Twisted's AMP sends Descriptors to a torsion AMP server and gets one back."""
    path = str(tmp_path / "interop.sock")
    reactor.listenUNIX(path, Factory.forProtocol(Peer))
    output = run(runTwistedClient(reactor, tmp_path, TWISTED_CLIENT, path), timeout=60)
    assert json.loads(output) == [
        ["writeTo", 10, "to torsion"],
        ["swap", "second first", "from the responder"],
    ]


class Echo(amp.Command):
    """Echo a value back."""

    arguments = [(b"value", amp.String())]
    response = [(b"value", amp.String())]


class Flooder(Peer):
    """Peer that also echoes, for the flow-control test."""

    @Echo.responder
    def echo(self, value: bytes) -> dict[str, bytes]:
        return {"value": value}


def test_floodOverDescriptorConnectionCompletes(reactor: Any, run: Any, tmp_path: Path) -> None:
    """AMP's flow control works on the descriptor-passing transport: 250 x 60 KB echoed
    (far more than the socket buffers hold) while descriptors still pass."""
    path = str(tmp_path / "flood.sock")
    reactor.listenUNIX(path, Factory.forProtocol(Flooder))
    made: defer.Deferred[Peer] = defer.Deferred()
    factory = ClientFactory()
    factory.protocol = lambda: Flooder(made)
    reactor.connectUNIX(path, factory)
    count, size = 250, 60_000
    r, w = os.pipe()

    async def session() -> int:
        client = await made
        sent = [client.callRemote(Echo, value=b"x" * size) for _ in range(count)]
        wrote = client.callRemote(WriteTo, fd=w, text=b"after the flood")  # noqa: F821
        echoed = await defer.gatherResults(sent)
        await wrote
        client.transport.loseConnection()
        return sum(len(e["value"]) for e in echoed)

    try:
        assert run(session(), timeout=30) == count * size
        assert os.read(r, 100) == b"after the flood"
    finally:
        os.close(r)
        os.close(w)


@pytest.fixture(scope="module")
def serverCert() -> Any:
    """A self-signed "localhost" certificate, made once for this module (keygen is slow)."""
    from torsion.internet.ssl import selfSignedPair

    return selfSignedPair("localhost")


class TLSPeer(Flooder):
    """A Flooder that answers StartTLS with `certificate`."""

    certificate: Any = None

    @amp.StartTLS.responder
    def startTLS(self) -> dict[str, Any]:
        return {"tls_localCertificate": self.certificate}


def _connectTLSPeers(reactor: Any, path: str, certificate: Any) -> tuple[Any, Any]:
    """(server made, client made) Deferreds of TLSPeers over a UNIX socket at `path`."""
    TLSPeer.certificate = certificate
    serverMade: defer.Deferred[Peer] = defer.Deferred()
    reactor.listenUNIX(path, Factory.forProtocol(lambda: TLSPeer(serverMade)))
    made: defer.Deferred[Peer] = defer.Deferred()
    factory = ClientFactory()
    factory.protocol = lambda: TLSPeer(made)
    reactor.connectUNIX(path, factory)
    return serverMade, made


def test_startTLSOverUNIX(reactor: Any, run: Any, tmp_path: Path, serverCert: Any) -> None:
    """AMP's StartTLS over a UNIX socket between torsion peers: descriptors pass before it,
    commands (sent at once, while the handshake runs) work over TLS after it, and a
    Descriptor after it is a clear error."""
    serverMade, made = _connectTLSPeers(reactor, str(tmp_path / "tls.sock"), serverCert)
    r, w = os.pipe()

    async def session() -> Any:
        client = await made
        server = await serverMade
        wrote = await client.callRemote(WriteTo, fd=w, text=b"before TLS")  # noqa: F821
        started = client.callRemote(amp.StartTLS, tls_verifyAuthorities=[serverCert])
        echoed = client.callRemote(Echo, value=b"queued during the handshake")
        await started
        assert (await echoed) == {"value": b"queued during the handshake"}
        assert (await server.callRemote(Echo, value=b"x" * 60_000)) == {"value": b"x" * 60_000}
        peer = client.transport.getPeerCertificate()
        serverTLS = server.transport.TLS
        failures: list[Failure] = []
        await client.callRemote(WriteTo, fd=w, text=b"after TLS").addErrback(  # noqa: F821
            failures.append)
        client.transport.loseConnection()
        await server.lost
        return wrote, peer, serverTLS, failures

    try:
        wrote, peer, serverTLS, failures = run(session(), timeout=30)
        assert wrote == {"written": 10}
        assert os.read(r, 100) == b"before TLS"
        assert peer == serverCert and serverTLS
        assert failures[0].check(NotImplementedError)
        assert "runs TLS" in str(failures[0].value)
    finally:
        os.close(r)
        os.close(w)


TWISTED_TLS_CLIENT = """
import json, os, sys
from twisted.internet import reactor, defer, endpoints, ssl
from twisted.protocols import amp
""" + COMMANDS + """
class Echo(amp.Command):
    arguments = [(b"value", amp.String())]
    response = [(b"value", amp.String())]

out = []

@defer.inlineCallbacks
def main():
    ep = endpoints.UNIXClientEndpoint(reactor, sys.argv[1])
    proto = yield endpoints.connectProtocol(ep, amp.AMP())
    with open(sys.argv[2]) as f:
        cert = ssl.Certificate.loadPEM(f.read())
    r, w = os.pipe()
    result = yield proto.callRemote(WriteTo, fd=w, text=b"before TLS")
    os.close(w)
    out.append(["writeTo", result["written"], os.read(r, 100).decode()])
    os.close(r)
    yield proto.callRemote(amp.StartTLS, tls_verifyAuthorities=[cert])
    result = yield proto.callRemote(Echo, value=b"over TLS")
    peer = proto.transport.getPeerCertificate()
    out.append(["echo", result["value"].decode(), peer.digest("sha256").decode()])
    proto.transport.loseConnection()

def done(result):
    if hasattr(result, "getTraceback"):
        sys.stderr.write(result.getTraceback())
    print(json.dumps(out), flush=True)
    reactor.stop()

main().addBoth(done)
reactor.run()
"""


@pytest.mark.integration
def test_twistedClientStartsTLSOverUNIX(
    reactor: Any, run: Any, tmp_path: Path, serverCert: Any
) -> None:
    """Twisted's AMP passes a descriptor, then StartTLS over a UNIX socket to a torsion
    AMP server, and a command over the TLS connection is answered."""
    path = str(tmp_path / "interop-tls.sock")
    certPath = tmp_path / "server.pem"
    certPath.write_bytes(serverCert.dumpPEM())
    TLSPeer.certificate = serverCert
    reactor.listenUNIX(path, Factory.forProtocol(TLSPeer))
    output = run(runTwistedClient(reactor, tmp_path, TWISTED_TLS_CLIENT, path, str(certPath),
                                  timeout=30), timeout=60)
    assert json.loads(output) == [
        ["writeTo", 10, "before TLS"],
        ["echo", "over TLS", serverCert.digest("sha256").decode()],
    ]
