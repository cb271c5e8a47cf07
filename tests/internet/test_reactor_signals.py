"""A shutdown signal always reaches the reactor, and a stuck shutdown is bounded.

These run ``reactor.run()`` in the test's own main thread (signal handlers can only be
installed there) and signal the test process itself.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from typing import Any

import pytest

from torsion.internet._reactor import Reactor
from torsion.internet.defer import Deferred
from torsion.logger import globalLogPublisher


def _collectLog() -> tuple[list[str], Any]:
    """Capture formatted log messages; return (messages, observer) to remove afterwards."""
    from torsion.logger import formatEvent

    messages: list[str] = []

    def observer(event: dict[str, Any]) -> None:
        messages.append(formatEvent(event))

    globalLogPublisher.addObserver(observer)
    return messages, observer


def test_sigtermIsSeenWhenTheLoopWakeupPipeIsFull(reactor: Reactor) -> None:
    """SIGTERM stops the reactor even when callFromThread floods have filled the loop's
    wakeup pipe (the stdlib loop shares it with the signal wakeup fd, and a signal byte
    that finds it full is dropped)."""
    outcome: list[str] = []

    def flood() -> None:
        # The reactor thread is busy (as under CPU load) while a thread calls back
        # many times: the loop's self-pipe fills up.
        done = threading.Event()

        def caller() -> None:
            for _ in range(20000):
                reactor.callFromThread(lambda: None)
            done.set()

        threading.Thread(target=caller, daemon=True).start()
        done.wait(10)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)

    def timeout() -> None:
        outcome.append("timeout")
        reactor.crash()

    reactor.callWhenRunning(flood)
    watchdog = reactor.callLater(30, timeout)  # only ends a hang; a loaded machine is slow
    reactor.addSystemEventTrigger("before", "shutdown", outcome.append, "shutdown")
    previous = signal.getsignal(signal.SIGTERM)
    try:
        reactor.run()
    finally:
        signal.signal(signal.SIGTERM, previous)
    if watchdog.active():
        watchdog.cancel()
    assert outcome == ["shutdown"]


def test_stuckShutdownIsCutShortAndSaysWhatWasPending(reactor: Reactor) -> None:
    """A shutdown trigger whose Deferred never fires delays the stop by at most
    ``shutdownTimeout`` seconds, and the log names what was still pending."""
    reactor.shutdownTimeout = 0.3
    never: Deferred[None] = Deferred()

    def stuck() -> Deferred[None]:
        return never

    reactor.addSystemEventTrigger("before", "shutdown", stuck)
    reactor.callWhenRunning(reactor.stop)
    messages, observer = _collectLog()
    try:
        started = time.monotonic()
        reactor.run(installSignalHandlers=False)
        took = time.monotonic() - started
    finally:
        globalLogPublisher.removeObserver(observer)
    assert took < 8  # cut short, where it would wait for ever, on a loaded machine too
    overdue = [m for m in messages if "Shutdown did not finish" in m]
    assert overdue and "stuck" in overdue[0], messages
    assert "0.3 seconds" in overdue[0], overdue


def test_promptShutdownLeavesNoWatchdogBehind(reactor: Reactor) -> None:
    """A shutdown that finishes in time cancels its watchdog timer."""
    reactor.callWhenRunning(reactor.stop)
    reactor.run(installSignalHandlers=False)
    assert reactor._shutdownWatchdog is None


@pytest.mark.parametrize("engine", ["uvloop", "asyncio"])
def test_secondSignalDuringStuckShutdownStopsAtOnce(engine: str) -> None:
    """A second SIGTERM while shutdown waits on a Deferred stops the reactor at once."""
    from tests.conftest import closeReactor

    reactor = Reactor(engine=engine)
    # Far beyond the bound asserted below: only the second signal can end it in time.
    reactor.shutdownTimeout = 60
    try:
        never: Deferred[None] = Deferred()
        reactor.addSystemEventTrigger("before", "shutdown", lambda: never)

        def signalTwice() -> None:
            os.kill(os.getpid(), signal.SIGTERM)
            reactor.callLater(0.05, os.kill, os.getpid(), signal.SIGTERM)

        reactor.callWhenRunning(signalTwice)
        started = time.monotonic()
        reactor.run()
        assert time.monotonic() - started < 20
    finally:
        closeReactor(reactor)


def test_signalDuringHandlerSwapIsNotLost(engine: str) -> None:
    """A SIGTERM arriving between the loop's add_signal_handler and torsion's own handler
    (when CPython's handler is the loop's no-op) still reaches the reactor's callback."""
    import asyncio

    from torsion.internet._signals import SignalHandling

    r = Reactor(engine=engine)
    loop = r._loop
    seen: list[int] = []
    original = loop.add_signal_handler

    def addThenSignal(number: int, callback: object, *args: object) -> None:
        original(number, callback, *args)  # type: ignore[arg-type]
        if number == signal.SIGTERM:
            os.kill(os.getpid(), signal.SIGTERM)  # lands inside the swap

    loop.add_signal_handler = addThenSignal  # type: ignore[method-assign]
    handling = SignalHandling(loop, lambda number, certain: seen.append(number))

    async def installOnTheRunningLoop() -> None:
        # The reactor installs its handlers from the running loop ("during startup").
        handling.install()
        for _ in range(50):
            if seen:
                break
            await asyncio.sleep(0.01)

    try:
        loop.run_until_complete(installOnTheRunningLoop())
    finally:
        handling.uninstall()
        r.closeAll(closeLoop=True)
    assert seen == [signal.SIGTERM]


@pytest.mark.parametrize("engine", ["uvloop", "asyncio"])
def test_signalHandledBeforeInstallIsNotASecondSignal(engine: str) -> None:
    """A SIGTERM taken by the previous handler (the runner's, which stops the reactor
    itself) while the loop runs but before the reactor's handlers are installed leaves
    a wakeup byte behind; the reactor must not count it as a second SIGTERM and cut a
    waiting shutdown short (it did on uvloop: the shutdown ended at once)."""
    from tests.conftest import closeReactor

    reactor = Reactor(engine=engine)
    reactor.shutdownTimeout = 0.2
    previous = signal.getsignal(signal.SIGTERM)
    taken: list[int] = []

    def runnerHandler(number: int, frame: object) -> None:
        taken.append(number)
        reactor.callFromThread(reactor.stop)

    messages, observer = _collectLog()
    signal.signal(signal.SIGTERM, runnerHandler)
    try:
        reactor.addSystemEventTrigger("before", "startup", os.kill, os.getpid(),
                                      signal.SIGTERM)
        never: Deferred[None] = Deferred()
        reactor.addSystemEventTrigger("before", "shutdown", lambda: never)
        started = time.monotonic()
        reactor.run()
        took = time.monotonic() - started
    finally:
        signal.signal(signal.SIGTERM, previous)
        globalLogPublisher.removeObserver(observer)
        closeReactor(reactor)
    assert taken == [signal.SIGTERM]
    assert not any("again" in message for message in messages), messages
    assert any("Shutdown did not finish" in message for message in messages), messages
    # The bug ended it at once; uvloop's millisecond clock may fire a 0.2 s timer a
    # millisecond early.
    assert took >= 0.2 - 0.01
