"""Protocols and factories: the application side of connections.

A *protocol* instance handles one connection: the transport calls ``makeConnection``
(which calls ``connectionMade``), then ``dataReceived`` with bytes as they arrive, and
finally ``connectionLost(reason)``.  A *factory* is shared by a listening port or a
connector and builds one protocol per connection; ``doStart``/``doStop`` count how many
ports and connectors use it, so ``startFactory``/``stopFactory`` run once around all of them.

This module is Twisted's ``twisted.internet.protocol`` with the same names and semantics:
``Factory``, ``ServerFactory``, ``ClientFactory``, ``ReconnectingClientFactory``,
``ClientCreator``, ``Protocol``, ``DatagramProtocol`` and ``ProcessProtocol``.

A protocol's ``transport`` and ``factory`` are typed ``Any``: the transport of a TCP
connection, a process and a TLS session offer different methods (ITCPTransport,
IProcessTransport, ISSLTransport), and a factory's extra attributes are the application's.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from torsion.internet import error
from torsion.logger import Logger
from torsion.python.failure import Failure

if TYPE_CHECKING:
    from torsion.internet.defer import Deferred
    from torsion.internet.interfaces import (
        IAddress,
        IConnector,
        IDelayedCall,
        IProducer,
        IReactorTime,
        ITLSContextFactory,
    )

__all__ = [
    "AbstractDatagramProtocol",
    "BaseProtocol",
    "ClientCreator",
    "ClientFactory",
    "ConnectedDatagramProtocol",
    "ConsumerToProtocolAdapter",
    "DatagramProtocol",
    "Factory",
    "ProcessProtocol",
    "Protocol",
    "ProtocolToConsumerAdapter",
    "ReconnectingClientFactory",
    "ServerFactory",
    "connectionDone",
]

_ProtocolT = TypeVar("_ProtocolT", bound="Protocol")
_FactoryT = TypeVar("_FactoryT", bound="Factory")


def _loggerFor(obj: object) -> Logger:
    """Return a Logger for ``obj``: namespaced by its class, with ``obj`` as the source.

    The same namespace and source Twisted's ``Logger`` descriptor gives, so observers can
    filter factory events by class.
    """
    cls = type(obj)
    return Logger(namespace=f"{cls.__module__}.{cls.__qualname__}", source=obj)


#: The reason passed to ``connectionLost`` for a clean close (the default argument).
connectionDone: Failure = Failure(error.ConnectionDone())
connectionDone.cleanFailure()


# --- factories ---------------------------------------------------------------------------


class Factory:
    """A factory of protocols, shared by the ports and connectors using it.

    ``protocol`` is called with no arguments to build each protocol (``forProtocol`` binds
    arguments).  ``noisy`` controls the "Starting factory"/"Stopping factory" log lines.
    """

    protocol: Callable[[], Protocol] | None = None
    numPorts: int = 0
    noisy: bool = True

    @classmethod
    def forProtocol(
        cls: type[_FactoryT], protocol: Callable[..., Protocol], *args: Any, **kwargs: Any
    ) -> _FactoryT:
        """Create a factory of ``cls`` (built with ``*args, **kwargs``) for ``protocol``."""
        factory = cls(*args, **kwargs)
        factory.protocol = protocol
        return factory

    def logPrefix(self) -> str:
        """Describe this factory in log lines: the class name, e.g. "EchoFactory"."""
        return self.__class__.__name__

    def doStart(self) -> None:
        """Note that one more port or connector uses this factory.

        The first one logs "Starting factory <repr>" (if ``noisy``) and calls
        ``startFactory``.  Called by ports and connectors, not by users.
        """
        if not self.numPorts:
            if self.noisy:
                _loggerFor(self).info("Starting factory {factory!r}", factory=self)
            self.startFactory()
        self.numPorts = self.numPorts + 1

    def doStop(self) -> None:
        """Note that one port or connector stopped using this factory.

        The last one logs "Stopping factory <repr>" (if ``noisy``) and calls
        ``stopFactory``.  An unbalanced call is ignored, as in Twisted, rather than raising
        during shutdown.
        """
        if self.numPorts == 0:
            return
        self.numPorts = self.numPorts - 1
        if not self.numPorts:
            if self.noisy:
                _loggerFor(self).info("Stopping factory {factory!r}", factory=self)
            self.stopFactory()

    def startFactory(self) -> None:
        """Set up shared state (open files, database connections) before first use."""

    def stopFactory(self) -> None:
        """Release what ``startFactory`` set up, after the last port or connector stops."""

    def buildProtocol(self, addr: IAddress) -> Protocol | None:
        """Build a protocol for a new connection with ``addr``, with ``factory`` set to self.

        Override to refuse a connection by returning None.
        """
        if self.protocol is None:
            raise TypeError(f"{self!r} has no protocol to build (set its 'protocol' attribute)")
        p = self.protocol()
        p.factory = self
        return p


class ServerFactory(Factory):
    """A factory for protocols of servers (used with ``listenXXX``)."""


class ClientFactory(Factory):
    """A factory for protocols of clients, told how each connection attempt went."""

    def startedConnecting(self, connector: IConnector) -> None:
        """A connection attempt has started; ``connector.stopConnecting()`` cancels it."""

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        """A connection attempt failed; ``connector.connect()`` retries it."""

    def clientConnectionLost(self, connector: IConnector, reason: Failure) -> None:
        """An established connection was lost; ``connector.connect()`` reconnects."""


class ReconnectingClientFactory(ClientFactory):
    """A client factory that reconnects with exponential back-off after a loss or failure.

    After each failure the delay is multiplied by ``factor`` (capped at ``maxDelay``) and
    spread by ``jitter`` (a normal distribution with that relative deviation), so many
    clients that lost the same server don't all come back in the same instant.  Call
    ``resetDelay()`` once a connection is known good (e.g. in ``buildProtocol``), and
    ``stopTrying()`` to give up.  ``clock`` is the ``IReactorTime`` used to schedule
    retries: set it in tests; it defaults to the global reactor on first retry.
    """

    maxDelay: float = 3600
    initialDelay: float = 1.0
    factor: float = 2.7182818284590451
    jitter: float = 0.11962656472
    delay: float = initialDelay
    retries: int = 0
    maxRetries: int | None = None
    _callID: IDelayedCall | None = None
    connector: IConnector | None = None
    clock: IReactorTime | None = None
    continueTrying: int = 1  # Twisted's 1/0 flag

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        """Schedule a retry, unless ``stopTrying`` was called."""
        if self.continueTrying:
            self.connector = connector
            self.retry()

    def clientConnectionLost(self, connector: IConnector, reason: Failure) -> None:
        """Schedule a reconnection, unless ``stopTrying`` was called."""
        if self.continueTrying:
            self.connector = connector
            self.retry()

    def retry(self, connector: IConnector | None = None) -> None:
        """Schedule ``connector.connect()`` after the next back-off delay.

        Raises ValueError if no connector is known.  Gives up (with a log line) after
        ``maxRetries`` attempts.
        """
        if not self.continueTrying:
            if self.noisy:
                _loggerFor(self).info(
                    "Abandoning {connector} on explicit request", connector=connector
                )
            return
        if connector is None:
            if self.connector is None:
                raise ValueError("no connector to retry")
            connector = self.connector
        self.retries += 1
        if self.maxRetries is not None and self.retries > self.maxRetries:
            if self.noisy:
                _loggerFor(self).info(
                    "Abandoning {connector} after {retries} retries.",
                    connector=connector,
                    retries=self.retries,
                )
            return
        self.delay = min(self.delay * self.factor, self.maxDelay)
        if self.jitter:
            self.delay = random.normalvariate(self.delay, self.delay * self.jitter)
        if self.noisy:
            _loggerFor(self).info(
                "{connector} will retry in {delay} seconds",
                connector=connector,
                delay=int(self.delay),
            )
        target = connector

        def reconnector() -> None:
            self._callID = None
            target.connect()

        if self.clock is None:
            from torsion.internet import reactor

            self.clock = cast("IReactorTime", reactor)
        self._callID = self.clock.callLater(self.delay, reconnector)

    def stopTrying(self) -> None:
        """Give up: cancel a scheduled retry and stop a connection attempt in progress."""
        if self._callID is not None:
            self._callID.cancel()
            self._callID = None
        self.continueTrying = 0
        if self.connector is not None:
            try:
                self.connector.stopConnecting()
            except error.NotConnectingError:
                pass

    def resetDelay(self) -> None:
        """Start the back-off again from ``initialDelay``: call it after a good connection."""
        self.delay = self.initialDelay
        self.retries = 0
        self._callID = None
        self.continueTrying = 1

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the live connector and scheduled call (as Twisted does)."""
        state = self.__dict__.copy()
        for key in ("connector", "retries", "delay", "continueTrying", "_callID"):
            state.pop(key, None)
        return state


class _InstanceFactory(ClientFactory, Generic[_ProtocolT]):
    """The factory ``ClientCreator`` uses: hands one ready-made protocol to one connection.

    The Deferred fires from a ``callLater(0, ...)`` so that ``connectionMade`` has run
    before the caller's callbacks see the protocol, as in Twisted.
    """

    noisy = False
    pending: IDelayedCall | None = None

    def __init__(
        self, reactor: IReactorTime, instance: _ProtocolT, deferred: Deferred[_ProtocolT]
    ) -> None:
        self.reactor = reactor
        self.instance = instance
        self.deferred: Deferred[_ProtocolT] | None = deferred

    def __repr__(self) -> str:
        return f"<ClientCreator factory: {self.instance!r}>"

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        """Fail the Deferred with ``reason`` (on the next reactor turn)."""
        d, self.deferred = self.deferred, None
        if d is not None:
            self.pending = self.reactor.callLater(0, self._fire, d.errback, reason)

    def buildProtocol(self, addr: IAddress) -> _ProtocolT:
        """Return the instance, and fire the Deferred with it on the next reactor turn."""
        d, self.deferred = self.deferred, None
        if d is not None:
            self.pending = self.reactor.callLater(0, self._fire, d.callback, self.instance)
        return self.instance

    def _fire(self, func: Callable[[Any], object], value: object) -> None:
        """Fire the Deferred; the pending call is over."""
        self.pending = None
        func(value)


class ClientCreator(Generic[_ProtocolT]):
    """Connect one protocol instance, without writing a factory.

    ``ClientCreator(reactor, MyProtocol, *args, **kw).connectTCP(host, port)`` returns a
    Deferred firing with a connected ``MyProtocol(*args, **kw)``; cancelling the Deferred
    abandons the attempt (or drops the connection if it was just made).
    """

    def __init__(
        self, reactor: Any, protocolClass: Callable[..., _ProtocolT], *args: Any, **kwargs: Any
    ) -> None:
        self.reactor = reactor
        self.protocolClass = protocolClass
        self.args = args
        self.kwargs = kwargs

    def _connect(self, method: Callable[..., IConnector], *args: Any, **kwargs: Any) -> Deferred[
        _ProtocolT
    ]:
        """Start a connection with ``method`` and a one-shot factory; return its Deferred."""
        from torsion.internet.defer import Deferred

        connector: IConnector | None = None

        def cancelConnect(deferred: Deferred[_ProtocolT]) -> None:
            if connector is not None:
                connector.disconnect()
            if factory.pending is not None:
                factory.pending.cancel()
                factory.pending = None

        d: Deferred[_ProtocolT] = Deferred(cancelConnect)
        factory = _InstanceFactory(
            self.reactor, self.protocolClass(*self.args, **self.kwargs), d
        )
        connector = method(*args, factory=factory, **kwargs)
        return d

    def connectTCP(
        self,
        host: str,
        port: int,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> Deferred[_ProtocolT]:
        """Connect to ``host``:``port`` over TCP; fires with the connected protocol."""
        return self._connect(
            self.reactor.connectTCP, host, port, timeout=timeout, bindAddress=bindAddress
        )

    def connectUNIX(
        self, address: str, timeout: float = 30, checkPID: bool = False
    ) -> Deferred[_ProtocolT]:
        """Connect to the UNIX socket at ``address``; fires with the connected protocol."""
        return self._connect(
            self.reactor.connectUNIX, address, timeout=timeout, checkPID=checkPID
        )

    def connectSSL(
        self,
        host: str,
        port: int,
        contextFactory: ITLSContextFactory,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> Deferred[_ProtocolT]:
        """Connect to ``host``:``port`` over TLS; fires with the connected protocol."""
        return self._connect(
            self.reactor.connectSSL,
            host,
            port,
            contextFactory=contextFactory,
            timeout=timeout,
            bindAddress=bindAddress,
        )


# --- protocols ---------------------------------------------------------------------------


class BaseProtocol:
    """What every connection-oriented protocol has: a transport and a connected flag."""

    connected: bool = False
    transport: Any = None

    def makeConnection(self, transport: Any) -> None:
        """Attach ``transport`` and call ``connectionMade``; called by the transport."""
        self.connected = True
        self.transport = transport
        self.connectionMade()

    def connectionMade(self) -> None:
        """Called when the connection is made: override to greet the peer or set timers."""


class Protocol(BaseProtocol):
    """The base class for stream protocols: override ``dataReceived``.

    ``factory`` is the factory that built this protocol (set by ``Factory.buildProtocol``).
    """

    factory: Any = None

    def logPrefix(self) -> str:
        """Describe this protocol in log lines: the class name."""
        return self.__class__.__name__

    def dataReceived(self, data: bytes) -> None:
        """Called with bytes as they arrive.

        Chunk boundaries carry no meaning: a message may arrive in pieces or several in
        one call, so buffer and frame (see ``torsion.protocols.basic``).
        """

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Called when the connection is shut down; ``reason`` wraps a ``ConnectionClosed``."""


class ProtocolToConsumerAdapter:
    """Present a protocol as an ``IConsumer``: what is written to it, it receives."""

    def __init__(self, original: Protocol) -> None:
        self.original = original

    def write(self, data: bytes) -> None:
        """Deliver ``data`` to the protocol's ``dataReceived``."""
        self.original.dataReceived(data)

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """Accept a producer; the protocol has no buffer to regulate, so nothing happens."""

    def unregisterProducer(self) -> None:
        """Forget the producer; nothing to do."""


class ConsumerToProtocolAdapter:
    """Present an ``IConsumer`` as a protocol: what it receives, it writes to the consumer."""

    def __init__(self, original: Any) -> None:
        self.original = original

    def dataReceived(self, data: bytes) -> None:
        """Write ``data`` to the consumer."""
        self.original.write(data)

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        """Nothing to do: the consumer's life is its own."""

    def makeConnection(self, transport: Any) -> None:
        """Nothing to do: the consumer needs no transport."""

    def connectionMade(self) -> None:
        """Nothing to do."""


class ProcessProtocol(BaseProtocol):
    """The base class for protocols of child processes.

    ``childDataReceived``/``childConnectionLost`` dispatch by descriptor: 0 is stdin, 1
    stdout (``outReceived``), 2 stderr (``errReceived``).  ``processExited`` fires when the
    child exits, ``processEnded`` once its pipes are closed too.
    """

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        """Data from the child on ``childFD``: 1 goes to ``outReceived``, 2 ``errReceived``."""
        if childFD == 1:
            self.outReceived(data)
        elif childFD == 2:
            self.errReceived(data)

    def outReceived(self, data: bytes) -> None:
        """Some data was received from stdout."""

    def errReceived(self, data: bytes) -> None:
        """Some data was received from stderr."""

    def childConnectionLost(self, childFD: int) -> None:
        """The child closed ``childFD``: dispatched to in/out/errConnectionLost."""
        if childFD == 0:
            self.inConnectionLost()
        elif childFD == 1:
            self.outConnectionLost()
        elif childFD == 2:
            self.errConnectionLost()

    def inConnectionLost(self) -> None:
        """The child's stdin was closed."""

    def outConnectionLost(self) -> None:
        """The child's stdout was closed."""

    def errConnectionLost(self) -> None:
        """The child's stderr was closed."""

    def processExited(self, reason: Failure) -> None:
        """The child exited: ``ProcessDone`` or ``ProcessTerminated`` in ``reason``."""

    def processEnded(self, reason: Failure) -> None:
        """The child exited and all its descriptors are closed."""


class AbstractDatagramProtocol:
    """The base of protocols for datagram transports (UDP and the like).

    ``doStart``/``doStop`` count the ports using the protocol, like a factory's, so
    ``startProtocol``/``stopProtocol`` run once around all of them.
    """

    transport: Any = None
    numPorts: int = 0
    noisy: bool = True

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the live transport."""
        state = self.__dict__.copy()
        state["transport"] = None
        return state

    def logPrefix(self) -> str:
        """Describe this protocol in log lines: the class name."""
        return self.__class__.__name__

    def doStart(self) -> None:
        """Note one more port; the first logs "Starting protocol" and calls startProtocol."""
        if not self.numPorts:
            if self.noisy:
                _loggerFor(self).info("Starting protocol {protocol}", protocol=self)
            self.startProtocol()
        self.numPorts = self.numPorts + 1

    def doStop(self) -> None:
        """Note one port less; the last logs "Stopping protocol" and calls stopProtocol."""
        if self.numPorts <= 0:
            return
        self.numPorts = self.numPorts - 1
        self.transport = None
        if not self.numPorts:
            if self.noisy:
                _loggerFor(self).info("Stopping protocol {protocol}", protocol=self)
            self.stopProtocol()

    def startProtocol(self) -> None:
        """Called when the protocol starts listening: join groups, send first datagrams."""

    def stopProtocol(self) -> None:
        """Called when the protocol stops listening."""

    def makeConnection(self, transport: Any) -> None:
        """Attach the transport and start; called by the port, not by users."""
        if self.transport is not None:
            raise RuntimeError(f"{self!r} already has a transport")
        self.transport = transport
        self.doStart()

    def datagramReceived(self, datagram: bytes, addr: Any) -> None:
        """Called with each datagram and the ``(host, port)`` it came from."""


class DatagramProtocol(AbstractDatagramProtocol):
    """The base class for UDP protocols: override ``datagramReceived``."""

    def connectionRefused(self) -> None:
        """A previous send on a connected socket was refused (ICMP port unreachable)."""


class ConnectedDatagramProtocol(DatagramProtocol):
    """A datagram protocol for a connected socket: one peer, no address per datagram."""

    def datagramReceived(self, datagram: bytes, addr: Any = None) -> None:
        """Called with each datagram from the connected peer."""

    def connectionFailed(self, failure: Failure) -> None:
        """Connecting (resolving the peer) failed."""
