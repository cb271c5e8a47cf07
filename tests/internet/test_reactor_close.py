"""Reactor.closeAll: closing what is left on a reactor without the shutdown event."""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import pytest

from torsion.internet._delayedcall import DelayedCall
from torsion.internet._reactor import Reactor
from torsion.internet.defer import Deferred
from torsion.internet.protocol import Factory, Protocol


def test_closeAllOnCleanReactorReturnsNothing(reactor: Reactor) -> None:
    """A reactor with nothing open reports nothing left."""
    assert reactor.closeAll() == []


def test_closeAllCancelsAndReturnsActiveDelayedCalls(reactor: Reactor) -> None:
    """Active delayed calls are returned, soonest first, and cancelled."""
    later = reactor.callLater(200, lambda: None)
    sooner = reactor.callLater(100, lambda: None)
    left = reactor.closeAll()
    assert left == [sooner, later]
    assert sooner.cancelled and later.cancelled
    assert reactor.getDelayedCalls() == []


def test_closeAllStopsListeningPorts(reactor: Reactor) -> None:
    """A listening port is returned and closed: connecting to it is refused."""
    port = reactor.listenTCP(0, Factory.forProtocol(Protocol), interface="127.0.0.1")
    number = port.getHost().port
    assert reactor.closeAll() == [port]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", number), timeout=5).close()


def test_closeAllAbortsConnections(reactor: Reactor, run: Any) -> None:
    """An open connection is returned and aborted; its protocol hears connectionLost."""
    connected: Deferred[None] = Deferred()
    lost: list[object] = []

    class Server(Protocol):
        def connectionMade(self) -> None:
            connected.callback(None)

        def connectionLost(self, reason: Any = None) -> None:
            lost.append(reason)

    port = reactor.listenTCP(0, Factory.forProtocol(Server), interface="127.0.0.1")
    client = socket.create_connection(("127.0.0.1", port.getHost().port))
    try:
        run(connected)
        left = reactor.closeAll()
        assert port in left
        assert len([t for t in left if t is not port]) == 1
        assert len(lost) == 1
    finally:
        client.close()


def test_closeAllCancelsCallsScheduledWhileClosing(reactor: Reactor, run: Any) -> None:
    """A delayed call scheduled by connectionLost during closeAll is cancelled too."""
    connected: Deferred[None] = Deferred()

    class Server(Protocol):
        def connectionMade(self) -> None:
            connected.callback(None)

        def connectionLost(self, reason: Any = None) -> None:
            reactor.callLater(30, lambda: None)

    port = reactor.listenTCP(0, Factory.forProtocol(Server), interface="127.0.0.1")
    client = socket.create_connection(("127.0.0.1", port.getHost().port))
    try:
        run(connected)
        left = reactor.closeAll()
        assert not any(isinstance(thing, DelayedCall) for thing in left)
        assert reactor.getDelayedCalls() == []
    finally:
        client.close()


def test_closeAllStopsThreadPoolServingItsWorkers(reactor: Reactor, run: Any) -> None:
    """The thread pool is stopped and joined while a worker's callFromThread is served."""
    started: Deferred[None] = Deferred()
    proceed = threading.Event()
    answered: list[bool] = []

    def work() -> None:
        reactor.callFromThread(started.callback, None)
        proceed.wait(10)
        done = threading.Event()
        reactor.callFromThread(done.set)
        answered.append(done.wait(10))

    reactor.callInThread(work)
    run(started)
    proceed.set()
    reactor.closeAll()
    assert answered == [True]
    assert reactor.threadpool is None


def test_closeAllCancelsPendingTasks(reactor: Reactor) -> None:
    """asyncio tasks left pending on the reactor's loop are cancelled and finished."""

    async def forever() -> None:
        await asyncio.sleep(3600)

    task = asyncio.ensure_future(forever(), loop=reactor._loop)
    reactor.closeAll()
    assert task.cancelled()


def test_reactorRunsAgainAfterCloseAll(reactor: Reactor, run: Any) -> None:
    """Without closeLoop the reactor stays usable: it runs again afterwards."""
    reactor.callLater(100, lambda: None)
    reactor.closeAll()
    d: Deferred[str] = Deferred()
    reactor.callLater(0, d.callback, "again")
    assert run(d) == "again"


def test_closeAllWithCloseLoopClosesTheLoop(engine: str) -> None:
    """closeLoop=True closes the reactor's loop; a second closeAll returns nothing."""
    r = Reactor(engine=engine)
    r.callLater(100, lambda: None)
    assert len(r.closeAll(closeLoop=True)) == 1
    assert r._loop.is_closed()
    assert r.closeAll() == []


def test_closeAllLeavesReactorStopped(reactor: Reactor) -> None:
    """A reactor started with startRunning() is not running after closeAll."""
    reactor.startRunning(installSignalHandlers=False)
    reactor.closeAll()
    assert not reactor.running


def test_closeAllFromInsideTheLoopRaises(reactor: Reactor, run: Any) -> None:
    """closeAll called while the loop runs is a RuntimeError: it needs to run the loop."""
    errors: list[BaseException] = []

    def inside() -> None:
        try:
            reactor.closeAll()
        except RuntimeError as e:
            errors.append(e)

    d: Deferred[None] = Deferred()
    reactor.callLater(0, inside)
    reactor.callLater(0, d.callback, None)
    run(d)
    assert len(errors) == 1
