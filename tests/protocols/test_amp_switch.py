"""AMP ProtocolSwitchCommand: in memory, over TCP on both engines, and against Twisted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from twistedpeer import runTwistedClient, twistedPython

from torsion.internet import defer
from torsion.internet.protocol import ClientFactory, Factory, Protocol
from torsion.internet.testing import connectedServerAndClient
from torsion.protocols import amp
from torsion.python.failure import Failure


class Refused(Exception):
    """The responder will not switch."""


class Switch(amp.ProtocolSwitchCommand):
    """Switch to the upper-casing echo protocol, greeting with `greeting`."""

    arguments = [(b"greeting", amp.String())]
    errors = {Refused: b"REFUSED"}


class Sum(amp.Command):
    """Add two integers."""

    arguments = [(b"a", amp.Integer()), (b"b", amp.Integer())]
    response = [(b"total", amp.Integer())]


class Upper(Protocol):
    """Greets on connect, then echoes every byte upper-cased."""

    def __init__(self, greeting: bytes) -> None:
        self.greeting = greeting

    def connectionMade(self) -> None:
        self.transport.write(self.greeting)

    def dataReceived(self, data: bytes) -> None:
        self.transport.write(data.upper())


class Collector(Protocol):
    """Sends `hello` on connect and records what comes back."""

    def __init__(self, done: defer.Deferred[bytes] | None = None, expect: int = 0) -> None:
        self.received = b""
        self.done = done
        self.expect = expect

    def connectionMade(self) -> None:
        self.transport.write(b"hello")

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if self.done is not None and len(self.received) >= self.expect:
            done, self.done = self.done, None
            done.callback(self.received)


class CollectorFactory(ClientFactory):
    """Builds one Collector and records clientConnectionFailed/Lost."""

    def __init__(self, done: defer.Deferred[bytes] | None = None, expect: int = 0) -> None:
        self.done = done
        self.expect = expect
        self.built: list[Collector] = []
        self.failed: list[Failure] = []
        self.lost: list[Failure] = []

    def buildProtocol(self, addr: Any) -> Collector:
        p = Collector(self.done, self.expect)
        p.factory = self
        self.built.append(p)
        return p

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        self.failed.append(reason)

    def clientConnectionLost(self, connector: Any, reason: Failure) -> None:
        self.lost.append(reason)


class Server(amp.AMP):
    """Switches to Upper on request (refuses an empty greeting) and adds."""

    @Switch.responder
    def switch(self, greeting: bytes) -> Upper:
        if not greeting:
            raise Refused("no greeting")
        return Upper(greeting)

    @Sum.responder
    def sum(self, a: int, b: int) -> dict[str, int]:
        return {"total": a + b}


def wait(pump: Any, d: defer.Deferred[Any] | None) -> Any:
    assert d is not None
    out: list[Any] = []
    d.addBoth(out.append)
    pump.flush()
    assert out, "Deferred did not fire"
    return out[0]


def test_switchHandsBothSidesToTheNewProtocols() -> None:
    """After the answer, bytes flow between the new protocols, the greeting sent right
    behind the answer included."""
    client, server, pump = connectedServerAndClient(Server, amp.AMP)
    factory = CollectorFactory()
    assert wait(pump, client.callRemote(Switch, factory, greeting=b"hi ")) == {}
    pump.flush()
    assert factory.built[0].received == b"hi HELLO"
    assert isinstance(server.innerProtocol, Upper)
    assert client.innerProtocol is factory.built[0]


def test_bytesBehindTheAnswerInOneChunkGoToTheNewProtocol() -> None:
    """The answer box and the new protocol's first bytes arriving in one read are split."""
    client = amp.AMP()
    from torsion.internet.testing import StringTransport

    client.makeConnection(StringTransport())
    factory = CollectorFactory()
    d = client.callRemote(Switch, factory, greeting=b"x")
    assert d is not None
    answer = amp.AmpBox(_answer=b"1").serialize()
    client.dataReceived(answer + b"after" + amp.AmpBox(x=b"y").serialize()[:3])
    client.dataReceived(b"more")
    assert factory.built[0].received == b"after\x00\x01xmore"


def test_refusedSwitchUnlocksAndTellsTheFactory() -> None:
    """A declared error answer fails the call, tells the factory, and AMP works again."""
    client, server, pump = connectedServerAndClient(Server, amp.AMP)
    factory = CollectorFactory()
    failure = wait(pump, client.callRemote(Switch, factory, greeting=b""))
    assert isinstance(failure, Failure) and failure.check(Refused)
    assert len(factory.failed) == 1 and not factory.built
    assert wait(pump, client.callRemote(Sum, a=1, b=2)) == {"total": 3}
    assert server.innerProtocol is None


def test_noBoxesWhileTheSwitchIsPending() -> None:
    """A command sent while the switch awaits its answer fails with ProtocolSwitched."""
    client, server, pump = connectedServerAndClient(Server, amp.AMP)
    client.callRemote(Switch, CollectorFactory(), greeting=b"x")
    failure = wait(pump, client.callRemote(Sum, a=1, b=2))
    assert isinstance(failure, Failure) and failure.check(amp.ProtocolSwitched)


def test_connectionLostReachesTheNewProtocolAndFactory() -> None:
    """Once switched, the end of the connection is told to the new protocol's factory."""
    client, server, pump = connectedServerAndClient(Server, amp.AMP)
    factory = CollectorFactory()
    wait(pump, client.callRemote(Switch, factory, greeting=b"x"))
    client.transport.loseConnection()
    pump.flush()
    assert len(factory.lost) == 1


@pytest.mark.integration
def test_switchOverTCP(reactor: Any, run: Any) -> None:
    """Over real TCP the switched protocols exchange 1 MB both ways after the answer."""
    port = reactor.listenTCP(0, Factory.forProtocol(Server), interface="127.0.0.1")
    payload = b"abc" * 350_000

    async def session() -> bytes:
        client = await _connect(reactor, port.getHost().port)
        done: defer.Deferred[bytes] = defer.Deferred()
        factory = CollectorFactory(done, len(b"hi HELLO") + len(payload))
        switched = client.callRemote(Switch, factory, greeting=b"hi ")
        assert switched is not None
        await switched
        factory.built[0].transport.write(payload)
        received = await done
        client.transport.loseConnection()
        return received

    try:
        assert run(session()) == b"hi HELLO" + payload.upper()
    finally:
        port.stopListening()


def _connect(reactor: Any, portNumber: int) -> defer.Deferred[amp.AMP]:
    from torsion.internet.protocol import ClientCreator

    d: defer.Deferred[amp.AMP] = ClientCreator(reactor, amp.AMP).connectTCP(
        "127.0.0.1", portNumber)
    return d


TWISTED_CLIENT = """
import json, sys
from twisted.internet import reactor, defer, protocol, endpoints
from twisted.protocols import amp

class Switch(amp.ProtocolSwitchCommand):
    arguments = [(b"greeting", amp.String())]

class Collector(protocol.Protocol):
    def connectionMade(self):
        self.received = b""
        self.transport.write(b"hello")
    def dataReceived(self, data):
        self.received += data
        if len(self.received) >= 8:
            print(json.dumps([self.received.decode()]), flush=True)
            reactor.stop()

class CF(protocol.ClientFactory):
    protocol = Collector

@defer.inlineCallbacks
def main():
    ep = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", int(sys.argv[1]))
    proto = yield endpoints.connectProtocol(ep, amp.AMP())
    yield proto.callRemote(Switch, CF(), greeting=b"hi ")

main().addErrback(lambda f: (sys.stderr.write(f.getTraceback()), reactor.stop()))
reactor.run()
"""


@pytest.mark.integration
def test_twistedClientSwitchesWithOurServer(reactor: Any, run: Any, tmp_path: Path) -> None:
    """Twisted's ProtocolSwitchCommand against our responder switches both sides."""
    twistedPython()
    port = reactor.listenTCP(0, Factory.forProtocol(Server), interface="127.0.0.1")
    try:
        output = run(runTwistedClient(reactor, tmp_path, TWISTED_CLIENT,
                                      str(port.getHost().port), timeout=30), timeout=40)
    finally:
        port.stopListening()
    assert json.loads(output) == ["hi HELLO"]


TWISTED_SERVER = """
from twisted.internet import reactor, protocol
from twisted.protocols import amp

class Switch(amp.ProtocolSwitchCommand):
    arguments = [(b"greeting", amp.String())]

class Upper(protocol.Protocol):
    def __init__(self, greeting):
        self.greeting = greeting
    def connectionMade(self):
        self.transport.write(self.greeting)
    def dataReceived(self, data):
        self.transport.write(data.upper())

class Server(amp.AMP):
    @Switch.responder
    def switch(self, greeting):
        return Upper(greeting)

port = reactor.listenTCP(0, protocol.Factory.forProtocol(Server), interface="127.0.0.1")
print(port.getHost().port, flush=True)
reactor.run()
"""


@pytest.mark.integration
def test_weSwitchWithATwistedServer(reactor: Any, run: Any, tmp_path: Path) -> None:
    """Our ProtocolSwitchCommand against Twisted's responder switches both sides, the
    greeting Twisted writes right behind its answer included."""
    from twistedpeer import TwistedServer

    peer = TwistedServer(tmp_path, TWISTED_SERVER)

    async def session() -> bytes:
        client = await _connect(reactor, peer.ports[0])
        done: defer.Deferred[bytes] = defer.Deferred()
        factory = CollectorFactory(done, len(b"hi HELLO"))
        switched = client.callRemote(Switch, factory, greeting=b"hi ")
        assert switched is not None
        await switched
        received = await done
        client.transport.loseConnection()
        return received

    try:
        assert run(session(), timeout=20) == b"hi HELLO"
    finally:
        peer.stop()
