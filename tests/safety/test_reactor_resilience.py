"""User code that raises never stops the reactor: it is logged, and only its connection is hurt.

Each test makes one thing blow up on a real reactor (sockets on 127.0.0.1), checks the
error was logged with its exception, then checks a second client is still served.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from torsion.internet import task
from torsion.internet.defer import Deferred
from torsion.internet.protocol import ClientFactory, Factory, Protocol
from torsion.logger import capturedLogs


class _Boom(Exception):
    """The exception user code raises in these tests."""


class _Server(Protocol):
    """Echoes, but raises in the callback named by the first bytes received."""

    def dataReceived(self, data: bytes) -> None:
        if data.startswith(b"boom"):
            raise _Boom("dataReceived")
        self.transport.write(data)

    def connectionLost(self, reason: Any = None) -> None:
        if getattr(self.factory, "raiseOnLost", False):
            raise _Boom("connectionLost")


class _ServerFactory(Factory):
    protocol = _Server
    raiseOnMade = False
    raiseOnLost = False

    def buildProtocol(self, addr: Any) -> Protocol:
        proto = super().buildProtocol(addr)
        if self.raiseOnMade:
            self.raiseOnMade = False

            def made() -> None:
                raise _Boom("connectionMade")

            proto.connectionMade = made  # type: ignore[method-assign]
        return proto


class _Client(Protocol):
    """Sends a message on connect; fires `done` with what came back when the connection ends."""

    def __init__(self, message: bytes, closeAfter: int) -> None:
        self.message = message
        self.closeAfter = closeAfter
        self.received = b""
        self.done: Deferred[bytes] = Deferred()

    def connectionMade(self) -> None:
        self.transport.write(self.message)

    def dataReceived(self, data: bytes) -> None:
        self.received += data
        if len(self.received) >= self.closeAfter:
            self.transport.loseConnection()

    def connectionLost(self, reason: Any = None) -> None:
        if not self.done.called:
            self.done.callback(self.received)


def _exchange(reactor: Any, run: Any, port: Any, message: bytes, expect: int) -> bytes:
    """Connect, send `message`, wait for `expect` bytes or the end; return what came back."""
    client = _Client(message, expect)
    factory = ClientFactory()
    factory.protocol = lambda: client  # type: ignore[assignment]
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
    return run(client.done)  # type: ignore[no-any-return]


def _listen(reactor: Any, factory: Any = None) -> Any:
    return reactor.listenTCP(0, factory or _ServerFactory(), interface="127.0.0.1")


def _logged(events: list[Any], text: str) -> bool:
    """Return whether an event carries a _Boom failure whose message is `text`."""
    for event in events:
        failure = event.get("log_failure")
        if failure is not None and failure.check(_Boom) and str(failure.value) == text:
            return True
    return False


def test_dataReceivedErrorClosesOnlyThatConnection(reactor: Any, run: Any) -> None:
    """dataReceived raising is logged and closes that connection; the next client is echoed."""
    port = _listen(reactor)
    with capturedLogs() as events:
        assert _exchange(reactor, run, port, b"boom", 1) == b""
    assert _logged(events, "dataReceived")
    assert _exchange(reactor, run, port, b"hello", 5) == b"hello"


def test_connectionMadeErrorClosesOnlyThatConnection(reactor: Any, run: Any) -> None:
    """connectionMade raising is logged; the next client is echoed."""
    factory = _ServerFactory()
    factory.raiseOnMade = True
    port = _listen(reactor, factory)
    with capturedLogs() as events:
        _exchange(reactor, run, port, b"x", 1)
    assert _logged(events, "connectionMade")
    assert _exchange(reactor, run, port, b"hello", 5) == b"hello"


def test_connectionLostErrorIsLogged(reactor: Any, run: Any) -> None:
    """connectionLost raising is logged and the port keeps serving."""
    factory = _ServerFactory()
    factory.raiseOnLost = True
    port = _listen(reactor, factory)
    with capturedLogs() as events:
        assert _exchange(reactor, run, port, b"one", 3) == b"one"
        # The server sees the close in its own time (a fixed wait loses to a loaded
        # machine): spin until it has, for at most 10 s.
        deadline = time.monotonic() + 10
        while not _logged(events, "connectionLost") and time.monotonic() < deadline:
            d: Deferred[None] = Deferred()
            reactor.callLater(0.01, d.callback, None)
            run(d)
    assert _logged(events, "connectionLost")
    assert _exchange(reactor, run, port, b"two", 3) == b"two"


def test_delayedCallErrorIsLogged(reactor: Any, run: Any) -> None:
    """A delayed call raising is logged; later delayed calls and connections still run."""
    port = _listen(reactor)

    def bad() -> None:
        raise _Boom("delayed")

    with capturedLogs() as events:
        reactor.callLater(0, bad)
        d: Deferred[str] = Deferred()
        reactor.callLater(0.01, d.callback, "later")
        assert run(d) == "later"
    assert _logged(events, "delayed")
    assert _exchange(reactor, run, port, b"hello", 5) == b"hello"


def test_callFromThreadErrorIsLogged(reactor: Any, run: Any) -> None:
    """A callable passed to callFromThread raising is logged; the reactor goes on."""
    port = _listen(reactor)

    def bad() -> None:
        raise _Boom("fromThread")

    def inThread() -> None:
        reactor.callFromThread(bad)
        reactor.callFromThread(d.callback, "after")

    d: Deferred[str] = Deferred()
    with capturedLogs() as events:
        reactor.callInThread(inThread)
        assert run(d) == "after"
    assert _logged(events, "fromThread")
    assert _exchange(reactor, run, port, b"hello", 5) == b"hello"


def test_callInThreadErrorIsLogged(reactor: Any, run: Any) -> None:
    """A callable raising in the thread pool is logged; the pool runs the next one."""
    from torsion.logger import globalLogPublisher

    port = _listen(reactor)

    def bad() -> None:
        raise _Boom("inThread")

    logged: Deferred[None] = Deferred()

    def observer(event: Any) -> None:
        if _logged([event], "inThread"):
            reactor.callFromThread(logged.callback, None)

    globalLogPublisher.addObserver(observer)
    try:
        reactor.callInThread(bad)
        run(logged)
    finally:
        globalLogPublisher.removeObserver(observer)
    d: Deferred[str] = Deferred()
    reactor.callInThread(lambda: reactor.callFromThread(d.callback, "next"))
    assert run(d) == "next"
    assert _exchange(reactor, run, port, b"hello", 5) == b"hello"


def test_loopingCallErrorFailsItsDeferredOnly(reactor: Any, run: Any) -> None:
    """A LoopingCall whose function raises stops with that failure; the reactor goes on."""
    port = _listen(reactor)
    calls: list[int] = []

    def tick() -> None:
        calls.append(1)
        if len(calls) == 3:
            raise _Boom("looping")

    loop = task.LoopingCall(tick)
    loop.clock = reactor
    d = loop.start(0.01)
    failures: list[Any] = []
    d.addErrback(failures.append)
    run(d)  # fires when the call raises (a fixed wait could end before the third call)
    assert len(calls) == 3 and not loop.running
    assert failures and failures[0].check(_Boom)
    assert _exchange(reactor, run, port, b"hello", 5) == b"hello"


def test_unhandledDeferredErrorIsLoggedWhenCollected(reactor: Any, run: Any) -> None:
    """A Deferred chain ending in an unhandled error is logged when garbage collected."""
    port = _listen(reactor)

    def bad(result: object) -> None:
        raise _Boom("chain")

    with capturedLogs() as events:
        d: Deferred[None] = Deferred()
        d.addCallback(bad)
        d.callback(None)
        del d
        gc.collect()
    assert _logged(events, "chain")
    assert _exchange(reactor, run, port, b"hello", 5) == b"hello"


def test_buildProtocolErrorDropsOnlyThatConnection(reactor: Any, run: Any) -> None:
    """Factory.buildProtocol raising is logged and drops that connection; the next is served."""

    class Flaky(_ServerFactory):
        failures = 1

        def buildProtocol(self, addr: Any) -> Protocol:
            if self.failures:
                self.failures -= 1
                raise _Boom("buildProtocol")
            return super().buildProtocol(addr)

    port = _listen(reactor, Flaky())
    with capturedLogs() as events:
        assert _exchange(reactor, run, port, b"x", 1) == b""
    assert _logged(events, "buildProtocol")
    assert _exchange(reactor, run, port, b"hello", 5) == b"hello"


def test_buildProtocolReturningNoneDropsConnection(reactor: Any, run: Any) -> None:
    """buildProtocol returning None refuses that connection (Twisted); the next is served."""

    class Picky(_ServerFactory):
        refuse = 1

        def buildProtocol(self, addr: Any) -> Protocol | None:  # type: ignore[override]
            if self.refuse:
                self.refuse -= 1
                return None
            return super().buildProtocol(addr)

    port = _listen(reactor, Picky())
    assert _exchange(reactor, run, port, b"x", 1) == b""
    assert _exchange(reactor, run, port, b"hello", 5) == b"hello"


def test_producerErrorClosesOnlyThatConnection(reactor: Any, run: Any) -> None:
    """A pull producer whose resumeProducing raises is logged; the port keeps serving."""

    class BadProducer(Protocol):
        def connectionMade(self) -> None:
            self.transport.registerProducer(self, False)

        def resumeProducing(self) -> None:
            raise _Boom("resumeProducing")

        def pauseProducing(self) -> None:
            pass

        def stopProducing(self) -> None:
            pass

    class Mixed(Factory):
        first = True

        def buildProtocol(self, addr: Any) -> Protocol:
            if self.first:
                self.first = False
                proto: Protocol = BadProducer()
            else:
                proto = _Server()
            proto.factory = self
            return proto

    port = _listen(reactor, Mixed())
    with capturedLogs() as events:
        _exchange(reactor, run, port, b"x", 1)
    assert _logged(events, "resumeProducing")
    assert _exchange(reactor, run, port, b"hello", 5) == b"hello"


def test_clientFactoryCallbackErrorsAreLogged(reactor: Any, run: Any) -> None:
    """clientConnectionFailed raising is logged and the reactor goes on."""
    port = _listen(reactor)
    unused = _listen(reactor)
    unusedNumber = unused.getHost().port
    run(unused.stopListening())
    called: Deferred[None] = Deferred()

    class Failing(ClientFactory):
        protocol = Protocol

        def clientConnectionFailed(self, connector: Any, reason: Any) -> None:
            reactor.callLater(0, called.callback, None)
            raise _Boom("clientConnectionFailed")

    with capturedLogs() as events:
        reactor.connectTCP("127.0.0.1", unusedNumber, Failing())
        run(called)
    assert _logged(events, "clientConnectionFailed")
    assert _exchange(reactor, run, port, b"hello", 5) == b"hello"


def test_datagramReceivedErrorKeepsPortOpen(reactor: Any, run: Any) -> None:
    """A UDP protocol raising in datagramReceived is logged and still gets the next datagram."""
    import socket

    from torsion.internet.protocol import DatagramProtocol

    got: Deferred[bytes] = Deferred()

    class Udp(DatagramProtocol):
        def datagramReceived(self, data: bytes, addr: Any) -> None:
            if data == b"boom":
                raise _Boom("datagramReceived")
            got.callback(data)

    port = reactor.listenUDP(0, Udp(), interface="127.0.0.1")
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with capturedLogs() as events:
            sock.sendto(b"boom", ("127.0.0.1", port.getHost().port))
            sock.sendto(b"next", ("127.0.0.1", port.getHost().port))
            assert run(got) == b"next"
    finally:
        sock.close()
    assert _logged(events, "datagramReceived")


def test_dataReceivedErrorOnUnixSocketClosesOnlyThatConnection(
    reactor: Any, run: Any, tmp_path: Any
) -> None:
    """On a UNIX socket too, dataReceived raising is logged and the next client is echoed."""
    path = str(tmp_path / "s")
    reactor.listenUNIX(path, _ServerFactory())

    def exchange(message: bytes, expect: int) -> bytes:
        client = _Client(message, expect)
        factory = ClientFactory()
        factory.protocol = lambda: client  # type: ignore[assignment]
        reactor.connectUNIX(path, factory)
        return run(client.done)  # type: ignore[no-any-return]

    with capturedLogs() as events:
        assert exchange(b"boom", 1) == b""
    assert _logged(events, "dataReceived")
    assert exchange(b"hello", 5) == b"hello"


def test_dataReceivedErrorOverTLSClosesOnlyThatConnection(reactor: Any, run: Any) -> None:
    """Over TLS too, dataReceived raising is logged and the next client is echoed."""
    from torsion.internet import ssl

    cert = ssl.selfSignedPair("localhost")
    port = reactor.listenSSL(0, _ServerFactory(), cert.options(), interface="127.0.0.1")

    def exchange(message: bytes, expect: int) -> bytes:
        client = _Client(message, expect)
        factory = ClientFactory()
        factory.protocol = lambda: client  # type: ignore[assignment]
        options = ssl.optionsForClientTLS("localhost", trustRoot=cert)
        reactor.connectSSL("127.0.0.1", port.getHost().port, factory, options)
        return run(client.done)  # type: ignore[no-any-return]

    with capturedLogs() as events:
        assert exchange(b"boom", 1) == b""
    assert _logged(events, "dataReceived")
    assert exchange(b"hello", 5) == b"hello"


def test_systemEventTriggerErrorsDoNotStopStartupOrShutdown(reactor: Any) -> None:
    """Startup and shutdown triggers that raise are logged; the reactor still runs and stops."""
    ran: list[str] = []

    def badStartup() -> None:
        raise _Boom("startup trigger")

    def badShutdown() -> None:
        raise _Boom("shutdown trigger")

    reactor.addSystemEventTrigger("during", "startup", badStartup)
    reactor.addSystemEventTrigger("before", "shutdown", badShutdown)
    reactor.addSystemEventTrigger("after", "shutdown", lambda: ran.append("after"))
    reactor.callWhenRunning(lambda: ran.append("running"))
    reactor.callLater(0.05, reactor.stop)
    safety = reactor._loop.call_later(30, reactor.crash)
    with capturedLogs() as events:
        reactor.run(installSignalHandlers=False)
    safety.cancel()
    assert ran == ["running", "after"]
    assert _logged(events, "startup trigger")
    assert _logged(events, "shutdown trigger")
