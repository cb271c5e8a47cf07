"""The reactor's life cycle and system events, on both engines."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from torsion.internet import error
from torsion.internet._reactor import Reactor
from torsion.logger import capturedLogs, formatEvent


def _messages(events: list[Any]) -> list[str]:
    return [formatEvent(event) for event in events]


def test_engineAttributeNamesTheLoop(reactor: Reactor, engine: str) -> None:
    """The reactor's ``engine`` attribute names the loop implementation it was built on."""
    assert reactor.engine == engine
    assert f"engine={engine}" in repr(reactor)


def test_unknownEngineIsRejected() -> None:
    """An unknown engine name is a ValueError naming the valid ones."""
    with pytest.raises(ValueError, match="uvloop"):
        Reactor(engine="twisted")


def test_callWhenRunningRunsOnceRunning(reactor: Reactor) -> None:
    """callWhenRunning defers the call until run() has started the reactor."""
    seen: list[bool] = []
    reactor.callWhenRunning(lambda: seen.append(reactor.running))
    assert seen == []
    reactor.callWhenRunning(reactor.stop)
    reactor.run(installSignalHandlers=False)
    assert seen == [True]


def test_callWhenRunningWhileRunningCallsAtOnce(reactor: Reactor) -> None:
    """callWhenRunning on a running reactor calls immediately and returns None."""
    seen: list[object] = []

    def started() -> None:
        seen.append(reactor.callWhenRunning(seen.append, "now"))
        reactor.stop()

    reactor.callWhenRunning(started)
    reactor.run(installSignalHandlers=False)
    assert seen == ["now", None]


def test_runningIsFalseAfterRunReturns(reactor: Reactor) -> None:
    """running is False before run() and again after it returns."""
    assert not reactor.running
    reactor.callWhenRunning(reactor.stop)
    reactor.run(installSignalHandlers=False)
    assert not reactor.running


def test_stopWhenNotRunningRaises(reactor: Reactor) -> None:
    """stop() on a reactor that is not running raises ReactorNotRunning."""
    with pytest.raises(error.ReactorNotRunning):
        reactor.stop()


def test_stopTwiceRaises(reactor: Reactor) -> None:
    """A second stop() while shutdown is already under way raises ReactorNotRunning."""
    raised: list[type[BaseException]] = []

    def stopTwice() -> None:
        reactor.stop()
        try:
            reactor.stop()
        except error.ReactorNotRunning as e:
            raised.append(type(e))

    reactor.callWhenRunning(stopTwice)
    reactor.run(installSignalHandlers=False)
    assert raised == [error.ReactorNotRunning]


def test_nestedRunRaises(reactor: Reactor) -> None:
    """run() inside a running reactor raises ReactorAlreadyRunning."""
    raised: list[type[BaseException]] = []

    def nested() -> None:
        try:
            reactor.run()
        except error.ReactorAlreadyRunning as e:
            raised.append(type(e))
        reactor.stop()

    reactor.callWhenRunning(nested)
    reactor.run(installSignalHandlers=False)
    assert raised == [error.ReactorAlreadyRunning]


def test_restartAfterStop(reactor: Reactor) -> None:
    """run() after stop() runs the same reactor again and fires startup triggers again."""
    startups: list[int] = []
    reactor.addSystemEventTrigger("after", "startup", lambda: startups.append(1))
    for _ in range(2):
        reactor.callWhenRunning(reactor.stop)
        reactor.run(installSignalHandlers=False)
    assert startups == [1, 1]


def test_callWhenRunningFiresOnlyOnce(reactor: Reactor) -> None:
    """A callWhenRunning call is made at the next startup only, not at every restart."""
    calls: list[int] = []
    reactor.callWhenRunning(calls.append, 1)
    for _ in range(2):
        reactor.callWhenRunning(reactor.stop)
        reactor.run(installSignalHandlers=False)
    assert calls == [1]


def test_crashSkipsShutdownTriggers(reactor: Reactor) -> None:
    """crash() stops run() without firing the shutdown event."""
    fired: list[str] = []
    reactor.addSystemEventTrigger("before", "shutdown", fired.append, "shutdown")
    reactor.callWhenRunning(reactor.crash)
    reactor.run(installSignalHandlers=False)
    assert fired == []


def test_shutdownPhasesRunInOrder(reactor: Reactor) -> None:
    """stop() runs the before, during and after shutdown triggers in that order."""
    order: list[str] = []
    for phase in ("after", "during", "before"):
        reactor.addSystemEventTrigger(phase, "shutdown", order.append, phase)
    reactor.callWhenRunning(reactor.stop)
    reactor.run(installSignalHandlers=False)
    assert order == ["before", "during", "after"]


def test_beforeShutdownWaitsForFuture(reactor: Reactor) -> None:
    """A future returned by a before-shutdown trigger delays the next phase until done."""
    order: list[str] = []

    def before() -> asyncio.Future[None]:
        future: asyncio.Future[None] = reactor._loop.create_future()

        def finish() -> None:
            order.append("finished")
            future.set_result(None)

        reactor.callLater(0.01, finish)
        return future

    reactor.addSystemEventTrigger("before", "shutdown", before)
    reactor.addSystemEventTrigger("during", "shutdown", order.append, "during")
    reactor.callWhenRunning(reactor.stop)
    reactor.run(installSignalHandlers=False)
    assert order == ["finished", "during"]


def test_removedTriggerDoesNotFire(reactor: Reactor) -> None:
    """removeSystemEventTrigger takes a trigger out before it fires."""
    fired: list[int] = []
    triggerID = reactor.addSystemEventTrigger("before", "shutdown", fired.append, 1)
    reactor.removeSystemEventTrigger(triggerID)
    reactor.callWhenRunning(reactor.stop)
    reactor.run(installSignalHandlers=False)
    assert fired == []


def test_removeTriggerTwiceRaises(reactor: Reactor) -> None:
    """Removing a trigger that is already gone raises ValueError."""
    triggerID = reactor.addSystemEventTrigger("before", "shutdown", lambda: None)
    reactor.removeSystemEventTrigger(triggerID)
    with pytest.raises(ValueError):
        reactor.removeSystemEventTrigger(triggerID)


def test_invalidPhaseRaises(reactor: Reactor) -> None:
    """addSystemEventTrigger with an unknown phase raises KeyError."""
    with pytest.raises(KeyError):
        reactor.addSystemEventTrigger("sometime", "shutdown", lambda: None)


def test_fireCustomSystemEvent(reactor: Reactor) -> None:
    """fireSystemEvent runs the triggers of a user-defined event type."""
    fired: list[str] = []
    reactor.addSystemEventTrigger("during", "custom", fired.append, "x")
    reactor.fireSystemEvent("custom")
    assert fired == ["x"]


def test_triggerExceptionIsLoggedAndLaterTriggersRun(reactor: Reactor) -> None:
    """A trigger that raises is logged and the remaining triggers still run."""
    fired: list[str] = []

    def broken() -> None:
        raise RuntimeError("trigger broke")

    reactor.addSystemEventTrigger("before", "custom", broken)
    reactor.addSystemEventTrigger("before", "custom", fired.append, "next")
    with capturedLogs() as events:
        reactor.fireSystemEvent("custom")
    assert fired == ["next"]
    assert any(
        isinstance(e.get("log_failure"), object) and "trigger broke" in str(e.get("log_failure"))
        for e in events
    )


def test_mainLoopTerminatedIsLogged(reactor: Reactor) -> None:
    """run() logs "Main loop terminated." when it returns."""
    reactor.callWhenRunning(reactor.stop)
    with capturedLogs() as events:
        reactor.run(installSignalHandlers=False)
    assert "Main loop terminated." in _messages(events)


def test_loopExceptionIsLoggedAndReactorGoesOn(reactor: Reactor) -> None:
    """An exception the loop catches is logged with its traceback; the reactor keeps going."""
    later: list[str] = []

    def broken() -> None:
        raise ZeroDivisionError("loop callback broke")

    def start() -> None:
        reactor._loop.call_soon(broken)
        reactor.callLater(0.01, later.append, "still running")
        reactor.callLater(0.02, reactor.stop)

    reactor.callWhenRunning(start)
    with capturedLogs() as events:
        reactor.run(installSignalHandlers=False)
    assert later == ["still running"]
    failures = [e["log_failure"] for e in events if e.get("log_failure") is not None]
    assert any("loop callback broke" in str(f.getErrorMessage()) for f in failures)
    assert any("broken" in f.getTraceback() for f in failures)


def test_callFromThreadRunsInReactorThread(reactor: Reactor, run: Any) -> None:
    """callFromThread from another thread runs the call in the reactor's thread."""
    import threading

    future: asyncio.Future[threading.Thread] = reactor._loop.create_future()

    def inReactor(tag: str) -> None:
        future.set_result(threading.current_thread())

    thread = threading.Thread(target=reactor.callFromThread, args=(inReactor, "x"))
    thread.start()
    assert run(future) is threading.current_thread()
    thread.join()


def test_callFromThreadPassesKeywords(reactor: Reactor, run: Any) -> None:
    """callFromThread passes keyword arguments through."""
    future: asyncio.Future[Any] = reactor._loop.create_future()
    reactor.callFromThread(lambda *, value: future.set_result(value), value=42)
    assert run(future) == 42


def test_adoptedRunningLoopIsNotStopped(engine: str) -> None:
    """A reactor built on an already-running loop starts at once and stop() leaves the loop."""
    from torsion.internet._base import newLoop

    _, loop = newLoop(engine)
    seen: list[object] = []

    async def main() -> None:
        r = Reactor(loop=asyncio.get_running_loop())
        seen.append(r.running)
        shutdown: asyncio.Future[None] = loop.create_future()
        r.addSystemEventTrigger("after", "shutdown", shutdown.set_result, None)
        r.stop()
        await shutdown
        await asyncio.sleep(0)
        seen.append(r.running)
        seen.append(loop.is_running())

    try:
        loop.run_until_complete(main())
    finally:
        loop.close()
    assert seen == [True, False, True]


def test_exceptionInDataReceivedIsLoggedAndReactorGoesOn(reactor: Reactor, run: Any) -> None:
    """A dataReceived that raises closes only its connection, is logged, and the reactor
    keeps serving other connections."""
    from torsion.internet.defer import Deferred
    from torsion.internet.protocol import ClientFactory, Factory, Protocol

    class Server(Protocol):
        def dataReceived(self, data: bytes) -> None:
            if data.startswith(b"boom"):
                raise KeyError("dataReceived broke")
            self.transport.write(data)

    class Client(Protocol):
        def __init__(self, message: bytes) -> None:
            self.message = message
            self.received = b""
            self.lost: Deferred[bytes] = Deferred()

        def connectionMade(self) -> None:
            self.transport.write(self.message)

        def dataReceived(self, data: bytes) -> None:
            self.received += data
            self.transport.loseConnection()

        def connectionLost(self, reason: Any = None) -> None:
            self.lost.callback(self.received)

    class OneClient(ClientFactory):
        def __init__(self, client: Client) -> None:
            self.client = client

        def buildProtocol(self, addr: Any) -> Client:
            return self.client

    factory = Factory.forProtocol(Server)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1").getHost().port
    with capturedLogs() as events:
        broken = Client(b"boom")
        reactor.connectTCP("127.0.0.1", port, OneClient(broken))
        assert run(broken.lost) == b""
        fine = Client(b"still here")
        reactor.connectTCP("127.0.0.1", port, OneClient(fine))
        assert run(fine.lost) == b"still here"
    failures = [e["log_failure"] for e in events if e.get("log_failure") is not None]
    assert any("dataReceived broke" in str(f.getErrorMessage()) for f in failures)
    assert any("dataReceived" in f.getTraceback() for f in failures)
    # Worded as Twisted words it, so log watchers written for twistd carry over.
    from torsion.logger import formatEvent

    assert [formatEvent(e) for e in events if e.get("log_failure") is not None] == [
        "Unhandled Error"]


def test_shutdownClosesPortsAndConnections(reactor: Reactor, run: Any) -> None:
    """stop() closes listening ports and open connections before run() returns."""
    import socket

    from torsion.internet.defer import Deferred
    from torsion.internet.protocol import Factory, Protocol

    lost: list[str] = []
    connected: Deferred[None] = Deferred()

    class Server(Protocol):
        def connectionMade(self) -> None:
            connected.callback(None)

        def connectionLost(self, reason: Any = None) -> None:
            lost.append(type(reason.value).__name__)

    port = reactor.listenTCP(0, Factory.forProtocol(Server), interface="127.0.0.1")
    number = port.getHost().port
    client = socket.create_connection(("127.0.0.1", number))
    try:
        run(connected)
        reactor.callWhenRunning(reactor.stop)
        with capturedLogs() as events:
            reactor.run(installSignalHandlers=False)
        assert len(lost) == 1
        assert f"(TCP Port {number} Closed)" in _messages(events)
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", number), timeout=5).close()
    finally:
        client.close()


def test_crashDuringShutdownThenRestartStopsAgain(reactor: Reactor) -> None:
    """A shutdown interrupted by crash() does not block the next run's stop()."""
    waits: list[object] = []

    def slowBefore() -> Any:
        future: asyncio.Future[None] = reactor._loop.create_future()
        waits.append(future)
        if len(waits) == 1:
            reactor.callLater(0, reactor.crash)
        else:
            reactor.callLater(0, future.set_result, None)
        return future

    after: list[int] = []
    reactor.addSystemEventTrigger("before", "shutdown", slowBefore)
    reactor.addSystemEventTrigger("after", "shutdown", after.append, 1)
    reactor.callWhenRunning(reactor.stop)
    reactor.run(installSignalHandlers=False)
    assert after == []
    reactor.callWhenRunning(reactor.stop)
    reactor.run(installSignalHandlers=False)
    assert after == [1]


def test_stopOvertakenByCrashDoesNotStopNextRun(reactor: Reactor) -> None:
    """A stop() whose shutdown had not begun when crash() ran leaves the next run alone."""

    def stopThenCrash() -> None:
        reactor.stop()
        reactor.crash()

    reactor.callWhenRunning(stopThenCrash)
    reactor.run(installSignalHandlers=False)
    seen: list[str] = []
    reactor.callLater(0.01, seen.append, "second run went on")
    reactor.callLater(0.02, reactor.stop)
    reactor.run(installSignalHandlers=False)
    assert seen == ["second run went on"]
