"""Unit tests of Agent and HTTPConnectionPool on a MemoryReactorClock (no sockets, no sleeps)."""

from __future__ import annotations

from typing import Any

import pytest

from torsion.internet.defer import Deferred, TimeoutError
from torsion.internet.error import ConnectionDone
from torsion.internet.testing import MemoryReactorClock, StringTransport
from torsion.python.failure import Failure
from torsion.web.client import Agent, HTTPConnectionPool, ResponseNeverReceived, readBody

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"


class World:
    """A MemoryReactorClock whose outgoing connections the test completes by hand."""

    def __init__(self, **agentArgs: Any) -> None:
        self.reactor = MemoryReactorClock()
        self.pool = HTTPConnectionPool(self.reactor)
        self.agent = Agent(self.reactor, pool=self.pool, **agentArgs)
        self.connected = 0

    def connectNext(self) -> tuple[Any, StringTransport]:
        """Complete the oldest pending connection attempt; return (protocol, transport)."""
        host, port, factory, timeout, bind = self.reactor.tcpClients[self.connected]
        self.connected += 1
        wrapper = factory.buildProtocol(None)
        transport = StringTransport()
        wrapper.makeConnection(transport)
        return wrapper._wrapped, transport

    def get(self, url: bytes = b"http://127.0.0.1/") -> Deferred[Any]:
        return self.agent.request(b"GET", url)


def result(d: Deferred[Any]) -> Any:
    out: list[Any] = []
    d.addBoth(out.append)
    assert out, "not fired"
    if isinstance(out[0], Failure):
        out[0].raiseException()
    return out[0]


def test_connectTimeoutIsPassedOn() -> None:
    """Agent's connectTimeout is the timeout of the connection attempt."""
    w = World(connectTimeout=5)
    w.get()
    assert w.reactor.tcpClients[0][3] == 5


def test_requestWrittenOnceConnected() -> None:
    """The request goes out on the new connection with a Host header."""
    w = World()
    w.get(b"http://127.0.0.1:8080/a")
    _, transport = w.connectNext()
    assert transport.value() == b"GET /a HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n"


def test_strMethodAndURIAccepted() -> None:
    """A str method and URI are accepted (DESIGN §4: str or bytes in)."""
    w = World()
    w.agent.request("GET", "http://127.0.0.1/s")
    _, transport = w.connectNext()
    assert transport.value().startswith(b"GET /s HTTP/1.1\r\n")


def test_connectionReusedFromPool() -> None:
    """A second request to the same host reuses the idle connection."""
    w = World()
    d = w.get()
    proto, transport = w.connectNext()
    proto.dataReceived(OK)
    assert result(readBody(result(d))) == b"ok"
    transport.clear()
    w.get()
    assert len(w.reactor.tcpClients) == 1
    assert transport.value().startswith(b"GET / HTTP/1.1")


def test_staleCachedConnectionIsRetried() -> None:
    """A GET on a cached connection the server closed is retried once on a new one."""
    w = World()
    d = w.get()
    proto, _ = w.connectNext()
    proto.dataReceived(OK)
    result(readBody(result(d)))
    d2 = w.get()
    proto.connectionLost(Failure(ConnectionDone()))
    assert len(w.reactor.tcpClients) == 2
    proto2, transport2 = w.connectNext()
    assert transport2.value().startswith(b"GET / HTTP/1.1")
    proto2.dataReceived(OK)
    assert result(d2).code == 200


def test_freshConnectionFailureIsNotRetried() -> None:
    """A request on a brand-new connection that fails is not retried."""
    w = World()
    d = w.get()
    proto, _ = w.connectNext()
    proto.connectionLost(Failure(ConnectionDone()))
    with pytest.raises(ResponseNeverReceived):
        result(d)
    assert len(w.reactor.tcpClients) == 1


def test_idleConnectionExpires() -> None:
    """An idle cached connection is closed after cachedConnectionTimeout seconds."""
    w = World()
    w.pool.cachedConnectionTimeout = 10
    d = w.get()
    proto, transport = w.connectNext()
    proto.dataReceived(OK)
    result(readBody(result(d)))
    w.reactor.advance(9)
    assert not transport.disconnecting
    w.reactor.advance(1)
    assert transport.disconnecting


def test_maxPersistentPerHost() -> None:
    """At most maxPersistentPerHost idle connections are kept per host; others close."""
    w = World()
    w.pool.maxPersistentPerHost = 1
    d1, d2 = w.get(), w.get()
    p1, t1 = w.connectNext()
    p2, t2 = w.connectNext()
    p1.dataReceived(OK)
    p2.dataReceived(OK)
    result(readBody(result(d1)))
    result(readBody(result(d2)))
    assert [t1.disconnecting, t2.disconnecting] == [True, False]


def test_requestTimeoutAborts() -> None:
    """requestTimeout fails a request whose head has not arrived, and aborts it."""
    w = World(requestTimeout=5)
    d = w.get()
    _, transport = w.connectNext()
    w.reactor.advance(5)
    with pytest.raises(TimeoutError):
        result(d)
    assert transport.aborted


def test_closeCachedConnections() -> None:
    """closeCachedConnections closes every idle connection."""
    w = World()
    d = w.get()
    proto, transport = w.connectNext()
    proto.dataReceived(OK)
    result(readBody(result(d)))
    w.pool.closeCachedConnections()
    assert transport.aborted


def test_unsupportedSchemeFails() -> None:
    """A non-http(s) URI fails with SchemeNotSupported and connects nowhere."""
    from torsion.web.client import SchemeNotSupported

    w = World()
    with pytest.raises(SchemeNotSupported):
        result(w.get(b"ftp://127.0.0.1/"))
    assert w.reactor.tcpClients == []


def test_hostnameCachingPolicyReusesCreators() -> None:
    """HostnameCachingHTTPSPolicy asks the wrapped policy once per host, up to cacheSize."""
    from torsion.web.client import HostnameCachingHTTPSPolicy

    asked: list[tuple[bytes, int]] = []

    class Policy:
        def creatorForNetloc(self, hostname: bytes, port: int) -> object:
            asked.append((hostname, port))
            return object()

    policy = HostnameCachingHTTPSPolicy(Policy(), cacheSize=1)
    first = policy.creatorForNetloc(b"a", 443)
    assert policy.creatorForNetloc(b"a", 443) is first
    policy.creatorForNetloc(b"b", 443)
    policy.creatorForNetloc(b"a", 443)
    assert asked == [(b"a", 443), (b"b", 443), (b"a", 443)]
