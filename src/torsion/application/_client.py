"""ClientService: keep one client connection up, reconnecting with backoff.

Theory of operation: a state machine whose state is one `_State` value.

    INIT ──start──▶ CONNECTING ──connected (+prepareConnection ok)──▶ CONNECTED
                      │  ▲                                              │
              failed  │  │ delay elapsed                  connection lost
                      ▼  │                                              │
                    WAITING ◀────────────────────────────────────────────┘
    stop: CONNECTING → cancel the attempt → STOPPED
          WAITING    → cancel the timer   → STOPPED
          CONNECTED  → loseConnection → DISCONNECTING → (connection lost) → STOPPED

Each failure (a failed attempt, a failed `prepareConnection`, or losing an established
connection) increments the failure count and waits `retryPolicy(count)` seconds on `clock`
before the next attempt; a success resets the count. `whenConnected()` Deferreds wait for the
next CONNECTED state; one made with ``failAfterFailures=n`` fails with the n-th consecutive
failure instead; all waiting ones fail with CancelledError when the service stops.

The protocol's `connectionLost` is wrapped on the instance (not proxied), so the transport
delivers data straight to the user's protocol with no extra frame.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from typing import Any

from torsion.application.service import Service
from torsion.internet import defer
from torsion.logger import Logger
from torsion.python.failure import Failure

__all__ = ["ClientService", "backoffPolicy"]

_log = Logger()


def backoffPolicy(
    initialDelay: float = 1.0,
    maxDelay: float = 60.0,
    factor: float = 1.5,
    jitter: Callable[[], float] = random.random,
) -> Callable[[int], float]:
    """A retry policy: ``min(initialDelay * factor ** attempt, maxDelay) + jitter()`` seconds.

    The jitter (0-1 s by default) spreads the reconnections of many clients after a shared
    outage, so they do not all hit the server in the same instant.
    """

    def policy(attempt: int) -> float:
        try:
            delay = min(initialDelay * (factor ** min(100, attempt)), maxDelay)
        except OverflowError:
            delay = maxDelay
        return delay + jitter()

    return policy


_defaultPolicy = backoffPolicy()


class _State(enum.Enum):
    INIT = "init"
    CONNECTING = "connecting"
    CONNECTED = "connected"
    WAITING = "waiting"
    DISCONNECTING = "disconnecting"
    STOPPED = "stopped"


class _DisconnectNotifyingFactory:
    """Wraps the user's factory so each built protocol reports its connectionLost."""

    def __init__(self, factory: Any, onLost: Callable[[Any, Failure], None]) -> None:
        self._factory = factory
        self._onLost = onLost

    def buildProtocol(self, addr: Any) -> Any:
        protocol = self._factory.buildProtocol(addr)
        if protocol is None:
            return None
        original = protocol.connectionLost
        onLost = self._onLost

        def connectionLost(reason: Failure) -> None:
            try:
                original(reason)
            finally:
                onLost(protocol, reason)

        protocol.connectionLost = connectionLost
        return protocol

    def __getattr__(self, name: str) -> Any:
        return getattr(self._factory, name)


class ClientService(Service):
    """A service that keeps a connection made by `endpoint` with `factory` alive.

    `retryPolicy(failedAttempts) -> seconds` (default `backoffPolicy()`); `clock` is the
    IReactorTime for delays (default: the global reactor, imported when started);
    `prepareConnection(protocol)` may return a Deferred, and the connection only counts as
    made (for whenConnected) once it has succeeded.
    """

    def __init__(
        self,
        endpoint: Any,
        factory: Any,
        retryPolicy: Callable[[int], float] | None = None,
        clock: Any = None,
        prepareConnection: Callable[[Any], Any] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.factory = factory
        self._retryPolicy = retryPolicy if retryPolicy is not None else _defaultPolicy
        self._clock = clock
        self._prepareConnection = prepareConnection
        self._state = _State.INIT
        self._failedAttempts = 0
        self._protocol: Any = None
        self._attempt: defer.Deferred[Any] | None = None
        self._retryCall: Any = None
        self._waiters: list[tuple[defer.Deferred[Any], int | None]] = []
        self._stopWaiters: list[defer.Deferred[None]] = []
        self._wrapped = _DisconnectNotifyingFactory(factory, self._connectionLost)

    # -- Service ------------------------------------------------------------------------

    def startService(self) -> None:
        """Start connecting (a no-op if already started)."""
        if self.running:
            return
        Service.startService(self)
        if self._clock is None:
            from torsion.internet import reactor

            self._clock = reactor
        self._connect()

    def stopService(self) -> defer.Deferred[None]:
        """Stop reconnecting and close the connection; fires once it is closed."""
        Service.stopService(self)
        state = self._state
        if state is _State.CONNECTING and self._protocol is not None:
            # Connected, prepareConnection still running: close that connection.
            self._state = _State.DISCONNECTING
            self._protocol.transport.loseConnection()
        elif state is _State.CONNECTING:
            self._state = _State.STOPPED
            attempt, self._attempt = self._attempt, None
            if attempt is not None:
                attempt.cancel()
        elif state is _State.WAITING:
            self._state = _State.STOPPED
            if self._retryCall is not None and self._retryCall.active():
                self._retryCall.cancel()
            self._retryCall = None
        elif state is _State.CONNECTED:
            self._state = _State.DISCONNECTING
            self._protocol.transport.loseConnection()
        elif state is _State.INIT:
            self._state = _State.STOPPED
        self._failWaiters(Failure(defer.CancelledError()), always=True)
        if self._state is _State.DISCONNECTING:
            waiting: defer.Deferred[None] = defer.Deferred()
            self._stopWaiters.append(waiting)
            return waiting
        return defer.succeed(None)

    # -- public -------------------------------------------------------------------------

    def whenConnected(self, failAfterFailures: int | None = None) -> defer.Deferred[Any]:
        """A Deferred for the connected protocol: now if connected, else the next one.

        With `failAfterFailures` = n it fails with the n-th consecutive connection failure
        instead of waiting forever; after stopService it fails with CancelledError.
        """
        if self._state is _State.CONNECTED:
            return defer.succeed(self._protocol)
        if self._state in (_State.STOPPED, _State.DISCONNECTING):
            return defer.fail(defer.CancelledError())

        def cancel(d: defer.Deferred[Any]) -> None:
            self._waiters = [(w, n) for (w, n) in self._waiters if w is not d]

        waiter: defer.Deferred[Any] = defer.Deferred(cancel)
        self._waiters.append((waiter, failAfterFailures))
        return waiter

    # -- state machine ------------------------------------------------------------------

    def _connect(self) -> None:
        self._state = _State.CONNECTING
        self._retryCall = None
        attempt = self.endpoint.connect(self._wrapped)
        self._attempt = attempt
        attempt.addCallbacks(self._connected, self._failed)

    def _connected(self, protocol: Any) -> None:
        self._attempt = None
        if self._state is not _State.CONNECTING:
            # Stopped while the attempt was completing: do not keep this connection.
            protocol.transport.loseConnection()
            return
        if self._prepareConnection is None:
            self._ready(protocol)
            return
        self._protocol = protocol

        def prepared(_: Any) -> None:
            if self._state is _State.CONNECTING:
                self._ready(protocol)

        def prepareFailed(reason: Failure) -> None:
            _log.failure("prepareConnection for {endpoint} failed", reason,
                         endpoint=self.endpoint)
            self._protocol = None
            protocol.transport.loseConnection()
            if self._state is _State.CONNECTING:
                self._retry(reason)

        defer.maybeDeferred(self._prepareConnection, protocol).addCallbacks(
            prepared, prepareFailed)

    def _ready(self, protocol: Any) -> None:
        self._state = _State.CONNECTED
        self._protocol = protocol
        self._failedAttempts = 0
        waiters, self._waiters = self._waiters, []
        for waiter, _ in waiters:
            waiter.callback(protocol)

    def _failed(self, reason: Failure) -> None:
        self._attempt = None
        if self._state is not _State.CONNECTING:
            return  # cancelled by stopService
        self._retry(reason)

    def _retry(self, reason: Failure) -> None:
        self._failedAttempts += 1
        self._failWaiters(reason)
        delay = self._retryPolicy(self._failedAttempts)
        _log.info("Scheduling retry {attempt} to connect {endpoint} in {delay} seconds.",
                  attempt=self._failedAttempts, endpoint=self.endpoint, delay=delay)
        self._state = _State.WAITING
        self._retryCall = self._clock.callLater(delay, self._connect)

    def _connectionLost(self, protocol: Any, reason: Failure) -> None:
        if protocol is not self._protocol:
            return  # a connection we already gave up on (prepareConnection failed)
        self._protocol = None
        if self._state is _State.DISCONNECTING:
            self._state = _State.STOPPED
            stopWaiters, self._stopWaiters = self._stopWaiters, []
            for waiting in stopWaiters:
                waiting.callback(None)
        elif self._state in (_State.CONNECTED, _State.CONNECTING):
            # CONNECTING here means lost while prepareConnection was still running.
            self._retry(reason)

    def _failWaiters(self, reason: Failure, always: bool = False) -> None:
        keep: list[tuple[defer.Deferred[Any], int | None]] = []
        failing: list[defer.Deferred[Any]] = []
        for waiter, limit in self._waiters:
            if always or (limit is not None and self._failedAttempts >= limit):
                failing.append(waiter)
            else:
                keep.append((waiter, limit))
        self._waiters = keep
        for waiter in failing:
            waiter.errback(reason)
