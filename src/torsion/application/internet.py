"""Services that own a port, a client connection or a timer.

Theory of operation: each server service (`TCPServer`, `UDPServer`, `UNIXServer`, `SSLServer`)
keeps the arguments of the matching ``reactor.listenXXX`` call and makes that call in
`privilegedStartService()` (so a port below 1024 is bound before the runner drops privileges),
or in `startService()` if it was added to an already-running parent; `stopService()` returns
the port's `stopListening()` Deferred. Client services call ``reactor.connectXXX`` when
started and disconnect when stopped. The reactor is the `reactor=` keyword, or the global
reactor imported at call time (never at import).

`StreamServerEndpointService` does the same for an endpoint, reporting a listen failure by
raising it from `privilegedStartService()` when it is known synchronously, else logging it.
`TimerService` calls a function every `step` seconds with `torsion.internet.task.LoopingCall`.
`ClientService` (see torsion.application._client) keeps a client connected with backoff.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from torsion.application._client import ClientService, backoffPolicy
from torsion.application.service import Service
from torsion.internet import defer
from torsion.internet.interfaces import IConnector, IListeningPort
from torsion.logger import Logger
from torsion.python.failure import Failure

__all__ = [
    "ClientService",
    "SSLClient",
    "SSLServer",
    "StreamServerEndpointService",
    "TCPClient",
    "TCPServer",
    "TimerService",
    "UDPServer",
    "UNIXClient",
    "UNIXServer",
    "backoffPolicy",
]

_log = Logger()


def _reactorOr(reactor: Any) -> Any:
    """`reactor`, or the global reactor imported now (never at module import)."""
    if reactor is not None:
        return reactor
    from torsion.internet import reactor as globalReactor

    return globalReactor


class _AbstractServer(Service):
    """A service that listens with ``reactor.listen<method>(*args, **kwargs)``."""

    method: str = ""
    _port: IListeningPort | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.reactor: Any = kwargs.pop("reactor", None)
        self.args = args
        self.kwargs = kwargs

    def privilegedStartService(self) -> None:
        """Listen now, while the process still has its initial privileges."""
        Service.privilegedStartService(self)
        self._port = self._getPort()

    def startService(self) -> None:
        """Listen if privilegedStartService was not called (added to a running parent)."""
        Service.startService(self)
        if self._port is None:
            self._port = self._getPort()

    def stopService(self) -> defer.Deferred[Any] | None:
        """Stop listening; the Deferred fires once the port is closed."""
        Service.stopService(self)
        port, self._port = self._port, None
        if port is None:
            return None
        return port.stopListening()

    def _getPort(self) -> IListeningPort:
        """Call the reactor's listen method with the stored arguments."""
        listen = getattr(_reactorOr(self.reactor), "listen" + self.method)
        port: IListeningPort = listen(*self.args, **self.kwargs)
        return port


class _AbstractClient(Service):
    """A service that connects with ``reactor.connect<method>(*args, **kwargs)``."""

    method: str = ""
    _connection: IConnector | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.reactor: Any = kwargs.pop("reactor", None)
        self.args = args
        self.kwargs = kwargs

    def startService(self) -> None:
        """Start connecting."""
        Service.startService(self)
        connect = getattr(_reactorOr(self.reactor), "connect" + self.method)
        self._connection = connect(*self.args, **self.kwargs)

    def stopService(self) -> defer.Deferred[Any] | None:
        """Drop the connection (or stop the attempt)."""
        Service.stopService(self)
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.disconnect()
        return None


class TCPServer(_AbstractServer):
    """Listen on TCP: ``TCPServer(port, factory, backlog=50, interface='', reactor=None)``."""

    method = "TCP"


class UDPServer(_AbstractServer):
    """Listen on UDP: ``UDPServer(port, protocol, interface='', maxPacketSize=8192)``."""

    method = "UDP"


class UNIXServer(_AbstractServer):
    """Listen on a UNIX socket: ``UNIXServer(address, factory, backlog=50, mode=0o666)``."""

    method = "UNIX"


class SSLServer(_AbstractServer):
    """Listen with TLS: ``SSLServer(port, factory, contextFactory, backlog, interface)``."""

    method = "SSL"


class TCPClient(_AbstractClient):
    """Connect over TCP: ``TCPClient(host, port, factory, timeout=30, bindAddress=None)``."""

    method = "TCP"


class UNIXClient(_AbstractClient):
    """Connect to a UNIX socket: ``UNIXClient(address, factory, timeout=30)``."""

    method = "UNIX"


class SSLClient(_AbstractClient):
    """Connect with TLS: ``SSLClient(host, port, factory, contextFactory, timeout)``."""

    method = "SSL"


class TimerService(Service):
    """Call ``callable(*args, **kwargs)`` every `step` seconds while running.

    The first call happens at start. If the callable raises (or its Deferred fails) the
    failure is logged and the timer stops, as a LoopingCall does; stopService's Deferred
    fires once any call in progress has finished.
    """


    def __init__(self, step: float, callable: Callable[..., Any], *args: Any,
                 **kwargs: Any) -> None:
        self.step = step
        self.call: tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]] = (
            callable, args, kwargs)
        self.clock: Any = None
        self._loop: Any = None
        self._loopFinished: defer.Deferred[Any] | None = None

    def startService(self) -> None:
        """Start the LoopingCall (calling the function at once)."""
        from torsion.internet.task import LoopingCall

        Service.startService(self)
        func, args, kwargs = self.call
        self._loop = LoopingCall(func, *args, **kwargs)
        self._loop.clock = _reactorOr(self.clock)
        self._loopFinished = self._loop.start(self.step, now=True)
        self._loopFinished.addErrback(self._failed)

    def _failed(self, why: Failure) -> None:
        """Log the callable's failure; the loop is already stopped."""
        self._loop.running = False
        _log.failure("TimerService call failed", why)

    def stopService(self) -> defer.Deferred[Any]:
        """Stop the loop; fires when the current call (if any) completes."""
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        finished = self._loopFinished if self._loopFinished is not None else defer.succeed(None)
        finished.addCallback(lambda _: Service.stopService(self))
        return finished


class StreamServerEndpointService(Service):
    """Listen on a stream server endpoint with a factory, while running.

    `privilegedStartService()` calls ``endpoint.listen(factory)``; if that fails right away the
    error is raised there (so the runner can refuse to start), otherwise a later failure is
    logged. `stopService()` cancels a pending listen or stops the port.
    """

    _raiseSynchronously = False

    def __init__(self, endpoint: Any, factory: Any) -> None:
        self.endpoint = endpoint
        self.factory = factory
        self._waitingForPort: defer.Deferred[Any] | None = None

    def privilegedStartService(self) -> None:
        """Start listening; a synchronous failure raises when _raiseSynchronously is set."""
        Service.privilegedStartService(self)
        self._waitingForPort = self.endpoint.listen(self.factory)
        raisedNow: list[Failure] = []

        def handleIt(err: Failure) -> None:
            if self._raiseSynchronously:
                raisedNow.append(err)
            elif not err.check(defer.CancelledError):
                _log.failure("Failed to listen on {endpoint}", err, endpoint=self.endpoint)

        self._waitingForPort.addErrback(handleIt)
        if raisedNow:
            raisedNow[0].raiseException()
        self._raiseSynchronously = False

    def startService(self) -> None:
        """Listen if privilegedStartService has not."""
        Service.startService(self)
        if self._waitingForPort is None:
            self.privilegedStartService()

    def stopService(self) -> defer.Deferred[Any]:
        """Stop listening (or cancel the listen); fires when the port is closed."""
        waiting, self._waitingForPort = self._waitingForPort, None
        if waiting is None:
            Service.stopService(self)
            return defer.succeed(None)
        waiting.cancel()

        def stopIt(port: Any) -> Any:
            if port is not None:
                return port.stopListening()
            return None

        def stopped(passthrough: Any) -> Any:
            self.running = 0
            return passthrough

        return waiting.addCallback(stopIt).addBoth(stopped)
