"""Policies wrapped around protocols: timeouts, throttling and connection limits.

A ``WrappingFactory`` builds, for each connection, a ``ProtocolWrapper`` that sits between
the transport and the protocol of the wrapped factory: the wrapper is the protocol's
transport and the transport's protocol, so it sees (and may act on) every byte both ways.
The policies are such wrappers:

- ``TimeoutFactory``/``TimeoutProtocol``: close connections idle for ``timeoutPeriod``;
- ``ThrottlingFactory``: cap bytes read/written per second and the number of connections;
- ``LimitConnectionsByPeer``, ``LimitTotalConnectionsFactory``: cap connections;
- ``SpewingFactory``, ``TrafficLoggingFactory``: log the traffic (debugging aids).

``TimeoutMixin`` gives a protocol its own idle timeout without a wrapper.

Everything that schedules takes its time from a ``callLater`` method: pass a ``reactor``
(or a ``task.Clock`` in tests) where the constructor accepts one, or assign ``callLater``
on the instance; otherwise the global reactor is imported when first needed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import IO, TYPE_CHECKING, Any

from torsion.internet import error
from torsion.internet.protocol import ClientFactory, Protocol, ServerFactory
from torsion.logger import Logger

if TYPE_CHECKING:
    from torsion.internet.interfaces import (
        IAddress,
        IConnector,
        IDelayedCall,
        IProducer,
        IReactorTime,
    )
    from torsion.python.failure import Failure

__all__ = [
    "LimitConnectionsByPeer",
    "LimitTotalConnectionsFactory",
    "ProtocolWrapper",
    "SpewingFactory",
    "SpewingProtocol",
    "ThrottlingFactory",
    "ThrottlingProtocol",
    "TimeoutFactory",
    "TimeoutMixin",
    "TimeoutProtocol",
    "TrafficLoggingFactory",
    "TrafficLoggingProtocol",
    "WrappingFactory",
]

_log = Logger()


def _globalCallLater(delay: float, func: Callable[[], object]) -> IDelayedCall:
    """Schedule on the global reactor, imported only now (importing must not install one)."""
    from torsion.internet import reactor

    return reactor.callLater(delay, func)


def _prefixOf(obj: object) -> str:
    """Return ``obj.logPrefix()`` if it has one, else its class name."""
    logPrefix = getattr(obj, "logPrefix", None)
    if callable(logPrefix):
        return str(logPrefix())
    return type(obj).__name__


class ProtocolWrapper(Protocol):
    """Wraps a protocol: it is the protocol's transport and the transport's protocol.

    Every transport method not defined here is looked up on the real transport, so the
    wrapped protocol can use ``abortConnection``, ``setTcpNoDelay`` and the like.
    """

    disconnecting: bool = False

    def __init__(self, factory: WrappingFactory, wrappedProtocol: Any) -> None:
        self.wrappedProtocol = wrappedProtocol
        self.factory = factory

    def logPrefix(self) -> str:
        """Name the wrapped protocol and the wrapper, e.g. "Echo (ProtocolWrapper)"."""
        return f"{_prefixOf(self.wrappedProtocol)} ({type(self).__name__})"

    def makeConnection(self, transport: Any) -> None:
        """Connect, register with the factory and connect the wrapped protocol to self."""
        Protocol.makeConnection(self, transport)
        self.factory.registerProtocol(self)
        self.wrappedProtocol.makeConnection(self)

    # transport side, called by the wrapped protocol

    def write(self, data: bytes) -> None:
        """Write to the real transport."""
        self.transport.write(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Write to the real transport."""
        self.transport.writeSequence(data)

    def loseConnection(self) -> None:
        """Close the real transport."""
        self.disconnecting = True
        self.transport.loseConnection()

    def getPeer(self) -> IAddress:
        """Return the real transport's peer address."""
        return self.transport.getPeer()  # type: ignore[no-any-return]

    def getHost(self) -> IAddress:
        """Return the real transport's host address."""
        return self.transport.getHost()  # type: ignore[no-any-return]

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """Register the producer with the real transport."""
        self.transport.registerProducer(producer, streaming)

    def unregisterProducer(self) -> None:
        """Unregister the producer from the real transport."""
        self.transport.unregisterProducer()

    def stopConsuming(self) -> None:
        """Relay ``stopConsuming`` to the real transport."""
        self.transport.stopConsuming()

    def __getattr__(self, name: str) -> Any:
        # Only reached for names not found normally: the rest of the transport's API.
        if name in ("transport", "wrappedProtocol", "factory") or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.transport, name)

    # protocol side, called by the real transport

    def dataReceived(self, data: bytes) -> None:
        """Deliver to the wrapped protocol."""
        self.wrappedProtocol.dataReceived(data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        """Unregister, then tell the wrapped protocol (and drop it to break the cycle)."""
        self.factory.unregisterProtocol(self)
        wrapped, self.wrappedProtocol = self.wrappedProtocol, None
        if wrapped is not None:
            wrapped.connectionLost(reason)


class WrappingFactory(ClientFactory):
    """Wraps a factory: its protocols are wrapped in ``protocol`` (a ProtocolWrapper).

    ``protocols`` holds the live wrappers.  Starting and stopping, and the client
    notifications, are passed on to the wrapped factory.
    """

    protocol: Any = ProtocolWrapper

    def __init__(self, wrappedFactory: Any) -> None:
        self.wrappedFactory = wrappedFactory
        self.protocols: dict[ProtocolWrapper, int] = {}

    def logPrefix(self) -> str:
        """Name the wrapped factory and the wrapper."""
        return f"{_prefixOf(self.wrappedFactory)} (WrappingFactory)"

    def doStart(self) -> None:
        """Start the wrapped factory, then this one."""
        self.wrappedFactory.doStart()
        ClientFactory.doStart(self)

    def doStop(self) -> None:
        """Stop the wrapped factory, then this one."""
        self.wrappedFactory.doStop()
        ClientFactory.doStop(self)

    def startedConnecting(self, connector: IConnector) -> None:
        """Relay to the wrapped factory."""
        self.wrappedFactory.startedConnecting(connector)

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        """Relay to the wrapped factory."""
        self.wrappedFactory.clientConnectionFailed(connector, reason)

    def clientConnectionLost(self, connector: IConnector, reason: Failure) -> None:
        """Relay to the wrapped factory."""
        self.wrappedFactory.clientConnectionLost(connector, reason)

    def buildProtocol(self, addr: IAddress) -> Any:
        """Wrap the wrapped factory's protocol; None (refusal) stays None."""
        wrapped = self.wrappedFactory.buildProtocol(addr)
        if wrapped is None:
            return None
        return self.protocol(self, wrapped)

    def registerProtocol(self, p: ProtocolWrapper) -> None:
        """Called by a wrapper when its connection is made."""
        self.protocols[p] = 1

    def unregisterProtocol(self, p: ProtocolWrapper) -> None:
        """Called by a wrapper when its connection is lost."""
        self.protocols.pop(p, None)


class ThrottlingProtocol(ProtocolWrapper):
    """Counts the bytes of its connection for a ThrottlingFactory and obeys its throttles."""

    factory: ThrottlingFactory
    producer: IProducer | None = None

    def write(self, data: bytes) -> None:
        """Count, then write."""
        self.factory.registerWritten(len(data))
        ProtocolWrapper.write(self, data)

    def writeSequence(self, seq: Iterable[bytes]) -> None:
        """Count, then write."""
        chunks = list(seq)
        self.factory.registerWritten(sum(map(len, chunks)))
        ProtocolWrapper.writeSequence(self, chunks)

    def dataReceived(self, data: bytes) -> None:
        """Count, then deliver."""
        self.factory.registerRead(len(data))
        ProtocolWrapper.dataReceived(self, data)

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """Remember the producer, to pause it when writes are throttled."""
        self.producer = producer
        ProtocolWrapper.registerProducer(self, producer, streaming)

    def unregisterProducer(self) -> None:
        """Forget the producer."""
        self.producer = None
        ProtocolWrapper.unregisterProducer(self)

    def throttleReads(self) -> None:
        """Stop reading from the transport."""
        self.transport.pauseProducing()

    def unthrottleReads(self) -> None:
        """Resume reading from the transport."""
        self.transport.resumeProducing()

    def throttleWrites(self) -> None:
        """Pause the registered producer, if any."""
        if self.producer is not None:
            self.producer.pauseProducing()  # type: ignore[attr-defined]

    def unthrottleWrites(self) -> None:
        """Resume the registered producer, if any."""
        if self.producer is not None:
            self.producer.resumeProducing()  # type: ignore[attr-defined]


class ThrottlingFactory(WrappingFactory):
    """Limits the bandwidth and the number of connections of a factory.

    Once a second the bytes read (written) in the last second are compared with
    ``readLimit`` (``writeLimit``), in bytes per second; over the limit, every connection
    stops reading (its producer is paused) for as long as the excess would take at the
    limit's rate.  Past ``maxConnectionCount`` connections, new ones are refused.
    ``reactor`` provides ``callLater`` (a ``task.Clock`` in tests); by default the global
    reactor.
    """

    protocol = ThrottlingProtocol

    def __init__(
        self,
        wrappedFactory: Any,
        maxConnectionCount: int = sys.maxsize,
        readLimit: float | None = None,
        writeLimit: float | None = None,
        reactor: IReactorTime | None = None,
    ) -> None:
        WrappingFactory.__init__(self, wrappedFactory)
        self.connectionCount = 0
        self.maxConnectionCount = maxConnectionCount
        self.readLimit = readLimit
        self.writeLimit = writeLimit
        self.readThisSecond = 0
        self.writtenThisSecond = 0
        self.unthrottleReadsID: IDelayedCall | None = None
        self.checkReadBandwidthID: IDelayedCall | None = None
        self.unthrottleWritesID: IDelayedCall | None = None
        self.checkWriteBandwidthID: IDelayedCall | None = None
        self._reactor = reactor

    def callLater(self, period: float, func: Callable[[], object]) -> IDelayedCall:
        """Schedule ``func`` on the reactor given (or the global one)."""
        if self._reactor is not None:
            return self._reactor.callLater(period, func)
        return _globalCallLater(period, func)

    def registerWritten(self, length: int) -> None:
        """Count ``length`` bytes written."""
        self.writtenThisSecond += length

    def registerRead(self, length: int) -> None:
        """Count ``length`` bytes read."""
        self.readThisSecond += length

    def checkReadBandwidth(self) -> None:
        """Throttle reads if the last second read more than ``readLimit``; check again in 1s."""
        assert self.readLimit is not None
        if self.readThisSecond > self.readLimit:
            self.throttleReads()
            throttleTime = float(self.readThisSecond) / self.readLimit - 1.0
            self.unthrottleReadsID = self.callLater(throttleTime, self.unthrottleReads)
        self.readThisSecond = 0
        self.checkReadBandwidthID = self.callLater(1, self.checkReadBandwidth)

    def checkWriteBandwidth(self) -> None:
        """Throttle writes if the last second wrote more than ``writeLimit``."""
        assert self.writeLimit is not None
        if self.writtenThisSecond > self.writeLimit:
            self.throttleWrites()
            throttleTime = float(self.writtenThisSecond) / self.writeLimit - 1.0
            self.unthrottleWritesID = self.callLater(throttleTime, self.unthrottleWrites)
        self.writtenThisSecond = 0
        self.checkWriteBandwidthID = self.callLater(1, self.checkWriteBandwidth)

    def throttleReads(self) -> None:
        """Stop every connection reading."""
        _log.info("Throttling reads on {factory}", factory=self)
        for p in list(self.protocols):
            p.throttleReads()

    def unthrottleReads(self) -> None:
        """Let every connection read again."""
        self.unthrottleReadsID = None
        _log.info("Stopped throttling reads on {factory}", factory=self)
        for p in list(self.protocols):
            p.unthrottleReads()

    def throttleWrites(self) -> None:
        """Pause every connection's producer."""
        _log.info("Throttling writes on {factory}", factory=self)
        for p in list(self.protocols):
            p.throttleWrites()

    def unthrottleWrites(self) -> None:
        """Resume every connection's producer."""
        self.unthrottleWritesID = None
        _log.info("Stopped throttling writes on {factory}", factory=self)
        for p in list(self.protocols):
            p.unthrottleWrites()

    def buildProtocol(self, addr: IAddress) -> Any:
        """Build a throttled protocol, or refuse past ``maxConnectionCount``.

        The bandwidth checks start with the first connection.
        """
        if self.connectionCount == 0:
            if self.readLimit is not None:
                self.checkReadBandwidth()
            if self.writeLimit is not None:
                self.checkWriteBandwidth()
        if self.connectionCount < self.maxConnectionCount:
            p = WrappingFactory.buildProtocol(self, addr)
            if p is not None:
                self.connectionCount += 1
            elif self.connectionCount == 0:
                self._cancelChecks()
            return p
        _log.info("Max connection count reached!")
        return None

    def unregisterProtocol(self, p: ProtocolWrapper) -> None:
        """Count the connection out; with the last one, stop the bandwidth checks."""
        WrappingFactory.unregisterProtocol(self, p)
        self.connectionCount -= 1
        if self.connectionCount == 0:
            self._cancelChecks()

    def _cancelChecks(self) -> None:
        """Cancel the periodic checks and pending unthrottles: no connection is left."""
        for name in (
            "unthrottleReadsID",
            "checkReadBandwidthID",
            "unthrottleWritesID",
            "checkWriteBandwidthID",
        ):
            call: IDelayedCall | None = getattr(self, name)
            if call is not None and call.active():
                call.cancel()
            setattr(self, name, None)


class SpewingProtocol(ProtocolWrapper):
    """Logs every chunk received and written (a debugging aid)."""

    def dataReceived(self, data: bytes) -> None:
        """Log, then deliver."""
        _log.info("Received: {data!r}", data=data)
        ProtocolWrapper.dataReceived(self, data)

    def write(self, data: bytes) -> None:
        """Log, then write."""
        _log.info("Sending: {data!r}", data=data)
        ProtocolWrapper.write(self, data)


class SpewingFactory(WrappingFactory):
    """A factory whose connections log all their traffic."""

    protocol = SpewingProtocol


class LimitConnectionsByPeer(WrappingFactory):
    """Refuses a connection when its peer host already has ``maxConnectionsPerPeer``."""

    maxConnectionsPerPeer: int = 5

    def __init__(self, wrappedFactory: Any) -> None:
        WrappingFactory.__init__(self, wrappedFactory)
        self.peerConnections: dict[str, int] = {}

    def startFactory(self) -> None:
        """Start counting afresh."""
        self.peerConnections = {}

    def buildProtocol(self, addr: IAddress) -> Any:
        """Build a protocol unless ``addr``'s host is at its limit."""
        peerHost = _hostOf(addr)
        count = self.peerConnections.get(peerHost, 0)
        if count >= self.maxConnectionsPerPeer:
            return None
        p = WrappingFactory.buildProtocol(self, addr)
        if p is not None:
            self.peerConnections[peerHost] = count + 1
            p._limitPeerHost = peerHost
        return p

    def unregisterProtocol(self, p: ProtocolWrapper) -> None:
        """Count the connection out of its peer's total."""
        WrappingFactory.unregisterProtocol(self, p)
        peerHost = p.__dict__.get("_limitPeerHost")
        if peerHost is None:
            return
        count = self.peerConnections.get(peerHost, 0) - 1
        if count <= 0:
            self.peerConnections.pop(peerHost, None)
        else:
            self.peerConnections[peerHost] = count


def _hostOf(addr: Any) -> str:
    """Return the host of an address object (or of an old-style ``(host, port)`` tuple)."""
    host = getattr(addr, "host", None)
    if host is None:
        host = getattr(addr, "name", None)
    if host is None and isinstance(addr, tuple) and addr:
        host = addr[0]
    return str(host)


class LimitTotalConnectionsFactory(ServerFactory):
    """A server factory refusing connections past ``connectionLimit``.

    Past the limit, ``overflowProtocol`` (if set) is built instead, e.g. to send "server
    busy" before closing; otherwise the connection is refused.
    """

    connectionCount: int = 0
    connectionLimit: int | None = None
    overflowProtocol: Callable[[], Protocol] | None = None

    def buildProtocol(self, addr: IAddress) -> Protocol | None:
        """Build a wrapped protocol (or the overflow protocol, or None past the limit)."""
        if self.connectionLimit is None or self.connectionCount < self.connectionLimit:
            if self.protocol is None:
                raise TypeError(f"{self!r} has no protocol to build")
            wrappedProtocol = self.protocol()
        elif self.overflowProtocol is None:
            return None
        else:
            wrappedProtocol = self.overflowProtocol()
        wrappedProtocol.factory = self
        protocol = ProtocolWrapper(self, wrappedProtocol)  # type: ignore[arg-type]
        self.connectionCount += 1
        return protocol

    def registerProtocol(self, p: ProtocolWrapper) -> None:
        """Nothing to do: counted in buildProtocol."""

    def unregisterProtocol(self, p: ProtocolWrapper) -> None:
        """Count the connection out."""
        self.connectionCount -= 1


class TimeoutProtocol(ProtocolWrapper):
    """Closes its connection after ``timeoutPeriod`` seconds without traffic either way."""

    factory: TimeoutFactory

    def __init__(
        self, factory: TimeoutFactory, wrappedProtocol: Any, timeoutPeriod: float | None
    ) -> None:
        ProtocolWrapper.__init__(self, factory, wrappedProtocol)
        self.timeoutCall: IDelayedCall | None = None
        self.timeoutPeriod: float | None = None
        self.setTimeout(timeoutPeriod)

    def setTimeout(self, timeoutPeriod: float | None = None) -> None:
        """Set (or with None, cancel) the timeout, counting from now."""
        self.cancelTimeout()
        self.timeoutPeriod = timeoutPeriod
        if timeoutPeriod is not None:
            self.timeoutCall = self.factory.callLater(timeoutPeriod, self.timeoutFunc)

    def cancelTimeout(self) -> None:
        """Cancel the timeout."""
        self.timeoutPeriod = None
        call, self.timeoutCall = self.timeoutCall, None
        if call is not None:
            try:
                call.cancel()
            except (error.AlreadyCalled, error.AlreadyCancelled):
                pass

    def resetTimeout(self) -> None:
        """Restart the countdown: there was traffic."""
        if self.timeoutCall is not None and self.timeoutPeriod is not None:
            self.timeoutCall.reset(self.timeoutPeriod)

    def write(self, data: bytes) -> None:
        """Reset the timeout, then write."""
        self.resetTimeout()
        ProtocolWrapper.write(self, data)

    def writeSequence(self, seq: Iterable[bytes]) -> None:
        """Reset the timeout, then write."""
        self.resetTimeout()
        ProtocolWrapper.writeSequence(self, seq)

    def dataReceived(self, data: bytes) -> None:
        """Reset the timeout, then deliver."""
        self.resetTimeout()
        ProtocolWrapper.dataReceived(self, data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        """Cancel the timeout and pass the loss on."""
        self.cancelTimeout()
        ProtocolWrapper.connectionLost(self, reason)

    def timeoutFunc(self) -> None:
        """The connection was idle too long: close it."""
        self.timeoutCall = None
        self.loseConnection()


class TimeoutFactory(WrappingFactory):
    """Wraps a factory so that its connections time out after ``timeoutPeriod`` idle seconds.

    ``reactor`` provides ``callLater`` (a ``task.Clock`` in tests); by default the global
    reactor.
    """

    protocol = TimeoutProtocol

    def __init__(
        self,
        wrappedFactory: Any,
        timeoutPeriod: float = 30 * 60,
        reactor: IReactorTime | None = None,
    ) -> None:
        self.timeoutPeriod = timeoutPeriod
        self._reactor = reactor
        WrappingFactory.__init__(self, wrappedFactory)

    def buildProtocol(self, addr: IAddress) -> Any:
        """Build a TimeoutProtocol around the wrapped factory's protocol."""
        wrapped = self.wrappedFactory.buildProtocol(addr)
        if wrapped is None:
            return None
        return self.protocol(self, wrapped, timeoutPeriod=self.timeoutPeriod)

    def callLater(self, period: float, func: Callable[[], object]) -> IDelayedCall:
        """Schedule ``func`` on the reactor given (or the global one)."""
        if self._reactor is not None:
            return self._reactor.callLater(period, func)
        return _globalCallLater(period, func)


class TrafficLoggingProtocol(ProtocolWrapper):
    """Writes a line to ``logfile`` for each event of its connection (a debugging aid)."""

    def __init__(
        self,
        factory: WrappingFactory,
        wrappedProtocol: Any,
        logfile: IO[str],
        lengthLimit: int | None = None,
        number: int = 0,
    ) -> None:
        ProtocolWrapper.__init__(self, factory, wrappedProtocol)
        self.logfile = logfile
        self.lengthLimit = lengthLimit
        self._number = number

    def _log(self, line: str) -> None:
        """Write ``line`` and flush, so the log survives a crash."""
        self.logfile.write(line + "\n")
        self.logfile.flush()

    def _mungeData(self, data: bytes) -> str:
        """Show ``data``, cut to ``lengthLimit`` bytes."""
        if self.lengthLimit and len(data) > self.lengthLimit:
            data = data[: self.lengthLimit - 12] + b"<... elided>"
        return repr(data)

    def connectionMade(self) -> None:
        """Log the connection."""
        self._log("*")

    def dataReceived(self, data: bytes) -> None:
        """Log and deliver."""
        self._log(f"C {self._number}: {self._mungeData(data)}")
        ProtocolWrapper.dataReceived(self, data)

    def connectionLost(self, reason: Failure | None = None) -> None:
        """Log and pass on."""
        self._log(f"C {self._number}: {reason!r}")
        ProtocolWrapper.connectionLost(self, reason)

    def write(self, data: bytes) -> None:
        """Log and write."""
        self._log(f"S {self._number}: {self._mungeData(data)}")
        ProtocolWrapper.write(self, data)

    def writeSequence(self, iovec: Iterable[bytes]) -> None:
        """Log and write."""
        chunks = list(iovec)
        self._log(f"SV {self._number}: {[self._mungeData(d) for d in chunks]!r}")
        ProtocolWrapper.writeSequence(self, chunks)

    def loseConnection(self) -> None:
        """Log and close."""
        self._log(f"S {self._number}: *")
        ProtocolWrapper.loseConnection(self)


class TrafficLoggingFactory(WrappingFactory):
    """Logs each connection's traffic to its own file, ``<logfilePrefix>-<n>``."""

    protocol = TrafficLoggingProtocol
    _counter: int = 0

    def __init__(
        self, wrappedFactory: Any, logfilePrefix: str, lengthLimit: int | None = None
    ) -> None:
        self.logfilePrefix = logfilePrefix
        self.lengthLimit = lengthLimit
        WrappingFactory.__init__(self, wrappedFactory)

    def open(self, name: str) -> IO[str]:
        """Open a log file for writing (override to log elsewhere)."""
        return open(name, "w")  # noqa: SIM115 - owned by the protocol for its lifetime

    def buildProtocol(self, addr: IAddress) -> Any:
        """Build a TrafficLoggingProtocol writing to the next numbered file."""
        wrapped = self.wrappedFactory.buildProtocol(addr)
        if wrapped is None:
            return None
        self._counter += 1
        logfile = self.open(f"{self.logfilePrefix}-{self._counter}")
        return self.protocol(self, wrapped, logfile, self.lengthLimit, self._counter)

    def resetCounter(self) -> None:
        """Start numbering the log files from 1 again."""
        self._counter = 0


class TimeoutMixin:
    """Mix into a protocol to close it (``timeoutConnection``) after ``timeOut`` idle seconds.

    Call ``setTimeout(seconds)`` (e.g. in ``connectionMade``) and ``resetTimeout()`` on
    activity (e.g. in ``dataReceived``); ``setTimeout(None)`` disables it.  Time comes from
    ``self.callLater``: assign ``clock.callLater`` in tests; the default uses the global
    reactor.
    """

    timeOut: float | None = None
    __timeoutCall: IDelayedCall | None = None
    transport: Any

    def callLater(self, period: float, func: Callable[[], object]) -> IDelayedCall:
        """Schedule ``func`` in ``period`` seconds (on the global reactor by default)."""
        return _globalCallLater(period, func)

    def resetTimeout(self) -> None:
        """Restart the countdown: call on any activity."""
        if self.__timeoutCall is not None and self.timeOut is not None:
            self.__timeoutCall.reset(self.timeOut)

    def setTimeout(self, period: float | None) -> float | None:
        """Change the timeout (None disables it), counting from now; return the previous."""
        prev = self.timeOut
        self.timeOut = period
        if self.__timeoutCall is not None:
            if period is None:
                try:
                    self.__timeoutCall.cancel()
                except (error.AlreadyCancelled, error.AlreadyCalled):
                    pass
                self.__timeoutCall = None
            else:
                self.__timeoutCall.reset(period)
        elif period is not None:
            self.__timeoutCall = self.callLater(period, self.__timedOut)
        return prev

    def __timedOut(self) -> None:
        self.__timeoutCall = None
        self.timeoutConnection()

    def timeoutConnection(self) -> None:
        """Called when the timeout expires; closes the connection.  Override to say goodbye."""
        self.transport.loseConnection()
