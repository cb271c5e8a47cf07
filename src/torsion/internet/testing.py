"""Fakes for testing protocols and reactor users without sockets, threads or sleeps.

- ``StringTransport`` records what a protocol writes; ``StringTransportWithDisconnection``
  also calls the protocol's ``connectionLost`` when it closes.
- ``MemoryReactor`` records ``listenXXX``/``connectXXX`` calls and returns fake ports and
  connectors; ``MemoryReactorClock`` adds ``task.Clock``'s ``callLater``/``advance``;
  ``RaisingMemoryReactor`` fails them.
- ``connectedServerAndClient`` joins two protocols with in-memory ``FakeTransport``s and
  returns an ``IOPump`` that moves bytes between them on ``pump()``/``flush()``.
- ``AccumulatingProtocol``, ``NonStreamingProducer`` and ``waitUntilAllDisconnected`` are
  small helpers from Twisted's test kit.

Everything is Twisted's ``twisted.internet.testing`` (and ``twisted.test.iosim``) API, so
ported tests keep working; ``connectedServerAndClient`` returns ``(client, server, pump)``
in that order, exactly as Twisted's does.
"""

from __future__ import annotations

import itertools
import socket
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar, overload

from torsion.internet import error
from torsion.internet.address import IPv4Address, IPv6Address, UNIXAddress
from torsion.internet.protocol import Protocol
from torsion.internet.task import Clock
from torsion.logger import LogEvent, LogPublisher
from torsion.protocols.basic import LineReceiver as _LineReceiver
from torsion.python.failure import Failure

if TYPE_CHECKING:
    from torsion.internet.defer import Deferred
    from torsion.internet.interfaces import (
        IAddress,
        IHostnameResolver,
        IHostResolution,
        IProducer,
        IProtocol,
        IReactorTime,
        IResolutionReceiver,
    )

__all__ = [
    "AccumulatingProtocol",
    "EventLoggingObserver",
    "FakeDatagramTransport",
    "FakeTransport",
    "IOPump",
    "LineSendingProtocol",
    "MemoryReactor",
    "MemoryReactorClock",
    "NonStreamingProducer",
    "RaisingMemoryReactor",
    "StringIOWithoutClosing",
    "StringTransport",
    "StringTransportWithDisconnection",
    "SynchronousResolver",
    "connect",
    "connectedServerAndClient",
    "makeFakeClient",
    "makeFakeServer",
    "waitUntilAllDisconnected",
]

_P = ParamSpec("_P")
_ClientT = TypeVar("_ClientT", bound="IProtocol")
_ServerT = TypeVar("_ServerT", bound="IProtocol")


def _dataMustBeBytes(data: object) -> None:
    """Raise TypeError for anything but bytes: the wire carries bytes, never text."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"Data must be bytes, not {type(data).__name__}")


def _isIPv6(host: str) -> bool:
    """Tell whether ``host`` is an IPv6 literal (to pick the fake address type)."""
    try:
        socket.inet_pton(socket.AF_INET6, host)
    except (OSError, ValueError):
        return False
    return True


# --- protocols and producers ---------------------------------------------------------------


class AccumulatingProtocol(Protocol):
    """A protocol that records everything that happens to it.

    ``made``/``closed`` flag the two events (0, then 1, as in Twisted), ``data`` holds
    every byte received, ``closedReason`` the ``connectionLost`` argument.
    ``closedDeferred`` (set it) fires on ``connectionLost``; a factory's
    ``protocolConnectionMade`` Deferred, if it has one, fires with the protocol on
    ``connectionMade``.
    """

    made: int = 0
    closed: int = 0
    closedReason: Failure | None = None
    closedDeferred: Deferred[None] | None = None
    data: bytes = b""

    def connectionMade(self) -> None:
        """Flag the connection and fire the factory's ``protocolConnectionMade``."""
        self.made = 1
        d = getattr(self.factory, "protocolConnectionMade", None)
        if d is not None:
            self.factory.protocolConnectionMade = None
            d.callback(self)

    def dataReceived(self, data: bytes) -> None:
        """Append ``data`` to ``self.data``."""
        self.data += data

    def connectionLost(self, reason: Failure | None = None) -> None:
        """Record ``reason`` and fire ``closedDeferred``."""
        self.closed = 1
        self.closedReason = reason
        if self.closedDeferred is not None:
            d, self.closedDeferred = self.closedDeferred, None
            d.callback(None)


class NonStreamingProducer:
    """A pull producer that writes the numbers 0 to 9, one per ``resumeProducing``.

    After the tenth write it unregisters itself and fires ``result``.
    """

    counter: int = 0
    stopped: bool = False

    def __init__(self, consumer: Any) -> None:
        from torsion.internet.defer import Deferred

        self.consumer: Any = consumer
        self.result: Deferred[None] = Deferred()

    def resumeProducing(self) -> None:
        """Write the next number; a call after the end is a bug in the consumer."""
        if self.consumer is None or self.counter >= 10:
            raise RuntimeError("BUG: resume after unregister/stop.")
        self.consumer.write(b"%d" % (self.counter,))
        self.counter += 1
        if self.counter == 10:
            self.consumer.unregisterProducer()
            self._done()

    def pauseProducing(self) -> None:
        """Pull producers are never paused: calling this is a bug in the consumer."""
        raise RuntimeError("BUG: pause should never be called.")

    def _done(self) -> None:
        """Forget the consumer and fire ``result``."""
        self.consumer = None
        self.result.callback(None)

    def stopProducing(self) -> None:
        """Stop; ``result`` fires."""
        self.stopped = True
        self._done()


# --- transports ------------------------------------------------------------------------------


class StringTransport:
    """A transport that keeps what is written to it in memory, for ``value()`` to return.

    It is also a consumer (``producer``/``streaming`` record the registered producer) and a
    push producer (``producerState`` is "producing", "paused" or "stopped"), so tests can
    check flow control.  ``loseConnection`` only sets ``disconnecting``: the test decides
    when (and whether) to call the protocol's ``connectionLost``.
    """

    disconnecting: bool = False
    aborted: bool = False
    writeDisconnected: bool = False
    producer: IProducer | None = None
    streaming: bool | None = None
    hostAddr: IAddress | None = None
    peerAddr: IAddress | None = None
    producerState: str = "producing"
    tcpNoDelay: bool = False
    tcpKeepAlive: bool = False

    def __init__(
        self,
        hostAddress: IAddress | None = None,
        peerAddress: IAddress | None = None,
        lenient: bool = False,
    ) -> None:
        self.io = BytesIO()
        if hostAddress is not None:
            self.hostAddr = hostAddress
        if peerAddress is not None:
            self.peerAddr = peerAddress
        self.connected = True
        self._lenient = lenient

    def clear(self) -> None:
        """Discard everything written so far (a test helper, not a transport method)."""
        self.io = BytesIO()

    def value(self) -> bytes:
        """Return everything written since the last ``clear()``."""
        return self.io.getvalue()

    # ITransport

    def write(self, data: bytes) -> None:
        """Record ``data``; ``str`` raises TypeError like a real transport."""
        _dataMustBeBytes(data)
        self.io.write(data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Record each of ``data``'s byte strings."""
        chunks = list(data)
        for chunk in chunks:
            _dataMustBeBytes(chunk)
        self.io.write(b"".join(chunks))

    def loseConnection(self) -> None:
        """Note the close: set ``disconnecting``, nothing else."""
        self.disconnecting = True

    def abortConnection(self) -> None:
        """Note an abort: set ``aborted`` and ``disconnecting``."""
        self.aborted = True
        self.loseConnection()

    def getPeer(self) -> IAddress:
        """Return ``peerAddress``, by default ``IPv4Address("TCP", "192.168.1.1", 54321)``."""
        if self.peerAddr is None:
            return IPv4Address("TCP", "192.168.1.1", 54321)
        return self.peerAddr

    def getHost(self) -> IAddress:
        """Return ``hostAddress``, by default ``IPv4Address("TCP", "10.0.0.1", 12345)``."""
        if self.hostAddr is None:
            return IPv4Address("TCP", "10.0.0.1", 12345)
        return self.hostAddr

    # ITCPTransport

    def loseWriteConnection(self) -> None:
        """Note a half-close: set ``writeDisconnected``."""
        self.writeDisconnected = True

    def getTcpNoDelay(self) -> bool:
        """Return the recorded TCP_NODELAY setting."""
        return self.tcpNoDelay

    def setTcpNoDelay(self, enabled: bool) -> None:
        """Record the TCP_NODELAY setting."""
        self.tcpNoDelay = enabled

    def getTcpKeepAlive(self) -> bool:
        """Return the recorded SO_KEEPALIVE setting."""
        return self.tcpKeepAlive

    def setTcpKeepAlive(self, enabled: bool) -> None:
        """Record the SO_KEEPALIVE setting."""
        self.tcpKeepAlive = enabled

    # IConsumer

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """Record the producer; a second one raises RuntimeError, as real transports do."""
        if self.producer is not None:
            raise RuntimeError("Cannot register two producers")
        self.producer = producer
        self.streaming = streaming

    def unregisterProducer(self) -> None:
        """Forget the producer; raises RuntimeError if none is registered."""
        if self.producer is None:
            raise RuntimeError("Cannot unregister a producer unless one is registered")
        self.producer = None
        self.streaming = None

    # IPushProducer (the transport's reading side)

    def _checkState(self) -> None:
        """Refuse to pause or resume a closed or stopped transport (unless lenient)."""
        if self.disconnecting and not self._lenient:
            raise RuntimeError("Cannot resume producing after loseConnection")
        if self.producerState == "stopped":
            raise RuntimeError("Cannot resume a stopped producer")

    def pauseProducing(self) -> None:
        """Record that the protocol paused reading."""
        self._checkState()
        self.producerState = "paused"

    def stopProducing(self) -> None:
        """Record that the protocol stopped reading for good."""
        self.producerState = "stopped"

    def resumeProducing(self) -> None:
        """Record that the protocol resumed reading."""
        self._checkState()
        self.producerState = "producing"


class StringTransportWithDisconnection(StringTransport):
    """A StringTransport that calls ``protocol.connectionLost`` when closed.

    Set ``protocol`` before closing.  ``loseConnection`` delivers ``ConnectionDone``,
    ``abortConnection`` ``ConnectionAborted``; only the first close is delivered.
    """

    protocol: Any = None

    def loseConnection(self) -> None:
        """Close: the protocol's ``connectionLost`` gets ``ConnectionDone``."""
        self.disconnecting = True
        if self.connected:
            self.connected = False
            self.protocol.connectionLost(Failure(error.ConnectionDone("Bye.")))

    def abortConnection(self) -> None:
        """Abort: the protocol's ``connectionLost`` gets ``ConnectionAborted``."""
        self.aborted = True
        self.disconnecting = True
        if self.connected:
            self.connected = False
            self.protocol.connectionLost(Failure(error.ConnectionAborted()))


class StringIOWithoutClosing(BytesIO):
    """A BytesIO whose ``close()`` does nothing, so its value can be read afterwards."""

    def close(self) -> None:
        """Do nothing."""


# --- in-memory connection (Twisted's iosim) ------------------------------------------------


class FakeAddress:
    """The default host and peer address of a ``FakeTransport``."""

    def __repr__(self) -> str:
        return "FakeAddress()"


class FakeTransport:
    """One end of an in-memory connection, driven by an ``IOPump``.

    Writes queue in ``stream`` until the pump hands them to the peer's protocol.
    ``loseConnection`` takes effect once the queued data has been delivered: both
    protocols then get ``connectionLost`` (``ConnectionDone``).  ``abortConnection`` drops
    queued data; the aborting side gets ``ConnectionAborted``, the peer ``ConnectionLost``.
    A registered pull producer is resumed on each pump; the protocol may pause reading
    (``pauseProducing``) and received data waits until it resumes.

    Set ``bufferSize`` to simulate a full write buffer: while more than that many bytes
    are queued, a registered streaming producer is paused; it is resumed once the pump
    has taken the queue (None, the default, never pauses).
    """

    _nextserial = itertools.count()
    disconnectReason: BaseException | None = None
    bufferSize: int | None = None

    def __init__(
        self,
        protocol: IProtocol,
        isServer: bool,
        hostAddress: IAddress | None = None,
        peerAddress: IAddress | None = None,
    ) -> None:
        self.protocol = protocol
        self.isServer = isServer
        self.stream: list[bytes] = []
        self.serial = next(self._nextserial)
        self.hostAddress: IAddress = hostAddress if hostAddress is not None else FakeAddress()
        self.peerAddress: IAddress = peerAddress if peerAddress is not None else FakeAddress()
        self.disconnecting = False
        self.disconnected = False
        self.aborted = False
        self.producer: IProducer | None = None
        self.streamingProducer = False
        self.readPaused = False
        self._received: list[bytes] = []
        self._queued = 0
        self.producerPaused = False
        self.connected = True

    def __repr__(self) -> str:
        side = "S" if self.isServer else "C"
        return f"FakeTransport<{side},{self.serial},{type(self.protocol).__name__}>"

    # ITransport

    def write(self, data: bytes) -> None:
        """Queue ``data`` for the peer; dropped once the connection is closing."""
        _dataMustBeBytes(data)
        if self.disconnecting:
            return
        self.stream.append(bytes(data))
        self._queued += len(data)
        if (
            self.bufferSize is not None
            and self._queued > self.bufferSize
            and self.producer is not None
            and self.streamingProducer
            and not self.producerPaused
        ):
            self.producerPaused = True
            self.producer.pauseProducing()  # type: ignore[attr-defined]

    def writeSequence(self, iovec: Iterable[bytes]) -> None:
        """Queue each of ``iovec``'s byte strings."""
        for data in iovec:
            self.write(data)

    def loseConnection(self) -> None:
        """Close once the queued data has been delivered."""
        self.disconnecting = True

    def abortConnection(self) -> None:
        """Close now, dropping the queued data."""
        if self.disconnected:
            return
        self.aborted = True
        self.disconnectReason = error.ConnectionAborted()
        self.stream.clear()
        self._queued = 0
        self.disconnecting = True

    def getPeer(self) -> IAddress:
        """Return the peer address given at construction."""
        return self.peerAddress

    def getHost(self) -> IAddress:
        """Return the host address given at construction."""
        return self.hostAddress

    def logPrefix(self) -> str:
        """Name this transport in log lines."""
        return "iosim"

    # ITCPTransport: accepted and ignored

    def loseWriteConnection(self) -> None:
        """Half-close is not simulated: same as ``loseConnection``."""
        self.loseConnection()

    def getTcpNoDelay(self) -> bool:
        """There is no Nagle in memory."""
        return True

    def setTcpNoDelay(self, enabled: bool) -> None:
        """Accept and ignore the setting."""

    def getTcpKeepAlive(self) -> bool:
        """There is no keep-alive in memory."""
        return False

    def setTcpKeepAlive(self, enabled: bool) -> None:
        """Accept and ignore the setting."""

    # IConsumer

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """Register a producer; a pull producer is asked for data at once and on each pump."""
        if self.producer is not None:
            raise RuntimeError(
                f"Cannot register producer {producer!r}, because {self.producer!r} is "
                "already registered."
            )
        self.producer = producer
        self.streamingProducer = streaming
        if not streaming:
            producer.resumeProducing()  # type: ignore[attr-defined]

    def unregisterProducer(self) -> None:
        """Forget the producer."""
        self.producer = None
        self.producerPaused = False

    def _checkProducer(self) -> None:
        """Let a pull producer produce: called by the pump at each round."""
        if self.producer is not None and not self.streamingProducer and not self.disconnecting:
            self.producer.resumeProducing()  # type: ignore[attr-defined]

    # IPushProducer: the reading side

    def pauseProducing(self) -> None:
        """Stop delivering received data to the protocol; it waits in memory."""
        self.readPaused = True

    def resumeProducing(self) -> None:
        """Deliver the data that waited, and resume delivery."""
        self.readPaused = False
        if self._received:
            data = b"".join(self._received)
            self._received.clear()
            self.protocol.dataReceived(data)

    def stopProducing(self) -> None:
        """Stop reading for good: close the connection."""
        self.loseConnection()

    # the pump's side

    def getOutBuffer(self) -> bytes | None:
        """Take the queued writes (None if there are none)."""
        if not self.stream:
            return None
        data = b"".join(self.stream)
        self.stream.clear()
        self._queued = 0
        if self.producerPaused and self.producer is not None:
            self.producerPaused = False
            self.producer.resumeProducing()  # type: ignore[attr-defined]
        return data

    def bufferReceived(self, buf: bytes) -> None:
        """Deliver ``buf`` from the peer to the protocol (or hold it while paused)."""
        if self.aborted or self.disconnected:
            return
        if self.readPaused:
            self._received.append(buf)
            return
        self.protocol.dataReceived(buf)

    def reportDisconnect(self) -> None:
        """Tell the protocol the connection is gone, and stop a registered producer."""
        self.connected = False
        producer, self.producer = self.producer, None
        if producer is not None:
            producer.stopProducing()
        reason = self.disconnectReason
        if reason is None:
            reason = error.ConnectionDone("Connection done")
        self.protocol.connectionLost(Failure(reason))


def makeFakeClient(clientProtocol: IProtocol) -> FakeTransport:
    """Return a client-side in-memory transport for ``clientProtocol``."""
    return FakeTransport(clientProtocol, isServer=False)


def makeFakeServer(serverProtocol: IProtocol) -> FakeTransport:
    """Return a server-side in-memory transport for ``serverProtocol``."""
    return FakeTransport(serverProtocol, isServer=True)


class IOPump:
    """Moves bytes between the two ends of an in-memory connection.

    Each ``pump()`` runs the clock's due calls (``advance(0)``), hands each side's queued
    writes to the other and, once nothing is left to move, delivers a pending close.
    ``flush()`` pumps until nothing moves.
    """

    def __init__(
        self,
        client: IProtocol,
        server: IProtocol,
        clientIO: FakeTransport,
        serverIO: FakeTransport,
        debug: bool = False,
        clock: Clock | None = None,
    ) -> None:
        self.client = client
        self.server = server
        self.clientIO = clientIO
        self.serverIO = serverIO
        self.debug = debug
        self.clock: Clock = clock if clock is not None else MemoryReactorClock()

    def flush(self, debug: bool = False, advanceClock: bool = True) -> bool:
        """Pump until no more data moves; return whether any did.

        Raises RuntimeError after 1000 rounds: two protocols talking forever is a bug.
        """
        result = False
        for _ in range(1000):
            if not self.pump(debug, advanceClock):
                return result
            result = True
        raise RuntimeError("IOPump.flush: data still moving after 1000 rounds")

    def pump(self, debug: bool = False, advanceClock: bool = True) -> bool:
        """Move data (or a close) once in each direction; return whether anything moved."""
        if advanceClock:
            self.clock.advance(0)
        sData = self.serverIO.getOutBuffer()
        cData = self.clientIO.getOutBuffer()
        self.clientIO._checkProducer()
        self.serverIO._checkProducer()
        if self.debug or debug:
            print(f"-- pump -- C: {cData!r} S: {sData!r}")
        if cData:
            self.serverIO.bufferReceived(cData)
        if sData:
            self.clientIO.bufferReceived(sData)
        if cData or sData:
            return True
        for here, there in ((self.serverIO, self.clientIO), (self.clientIO, self.serverIO)):
            if here.disconnecting and not here.disconnected:
                here.disconnected = True
                there.disconnecting = True
                if here.aborted:
                    there.disconnectReason = error.ConnectionLost("Connection reset by peer")
                there.reportDisconnect()
                return True
        return False


def connect(
    serverProtocol: IProtocol,
    serverTransport: FakeTransport,
    clientProtocol: IProtocol,
    clientTransport: FakeTransport,
    debug: bool = False,
    greet: bool = True,
    clock: Clock | None = None,
) -> IOPump:
    """Connect two protocols through their in-memory transports and return the pump.

    With ``greet`` the pump is flushed once, so the server's greeting has been delivered.
    """
    serverProtocol.makeConnection(serverTransport)
    clientProtocol.makeConnection(clientTransport)
    pump = IOPump(clientProtocol, serverProtocol, clientTransport, serverTransport, debug, clock)
    if greet:
        pump.flush()
    return pump


def connectedServerAndClient(
    ServerClass: Callable[[], _ServerT],
    ClientClass: Callable[[], _ClientT],
    clientTransportFactory: Callable[[_ClientT], FakeTransport] = makeFakeClient,
    serverTransportFactory: Callable[[_ServerT], FakeTransport] = makeFakeServer,
    debug: bool = False,
    greet: bool = True,
    clock: Clock | None = None,
) -> tuple[_ClientT, _ServerT, IOPump]:
    """Build a server and a client protocol, connect them in memory, return them and a pump.

    The result is ``(client, server, pump)`` — client first, as in Twisted.
    """
    c = ClientClass()
    s = ServerClass()
    cio = clientTransportFactory(c)
    sio = serverTransportFactory(s)
    return c, s, connect(s, sio, c, cio, debug, greet, clock=clock)


# --- reactors ------------------------------------------------------------------------------


class _FakePort:
    """A listening port that only knows its address."""

    def __init__(self, hostAddress: IAddress) -> None:
        self._hostAddress = hostAddress
        self.listening = True

    def startListening(self) -> None:
        """Start (again)."""
        self.listening = True

    def stopListening(self) -> None:
        """Stop; nothing else happens."""
        self.listening = False

    def getHost(self) -> IAddress:
        """Return the address given at construction."""
        return self._hostAddress


class _FakeConnector:
    """A connector that records whether it was asked to stop or disconnect."""

    stoppedConnecting: bool = False
    _disconnected: bool = False
    connectCalls: int = 0

    def __init__(self, address: IAddress) -> None:
        self._address = address

    def stopConnecting(self) -> None:
        """Record the request in ``stoppedConnecting``."""
        self.stoppedConnecting = True

    def disconnect(self) -> None:
        """Record the request."""
        self._disconnected = True

    def connect(self) -> None:
        """Count the retry in ``connectCalls``."""
        self.connectCalls += 1

    def getDestination(self) -> IAddress:
        """Return the address given at construction."""
        return self._address


@dataclass
class _SynchronousResolution:
    """The (already finished) resolution ``SynchronousResolver`` returns."""

    name: str

    def cancel(self) -> None:
        """Nothing to cancel: resolution finished before this object was returned."""
        raise error.AlreadyCalled()


class SynchronousResolver:
    """A host name resolver that resolves every name at once to 127.0.0.1 (keeping the port)."""

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        """Report 127.0.0.1 to ``resolutionReceiver`` and complete, before returning."""
        resolution = _SynchronousResolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)
        resolutionReceiver.addressResolved(IPv4Address("TCP", "127.0.0.1", portNumber))
        resolutionReceiver.resolutionComplete()
        return resolution


def _adoptedAddress(kind: Literal["TCP", "UDP"], addressFamily: int) -> IAddress:
    """The address of a fake adopted port (port 1234); other families are unsupported."""
    if addressFamily == socket.AF_INET:
        return IPv4Address(kind, "0.0.0.0", 1234)
    if addressFamily == socket.AF_INET6:
        return IPv6Address(kind, "::", 1234)
    raise error.UnsupportedAddressFamily(addressFamily)


def _listenAddress(kind: Literal["TCP", "UDP"], interface: str, port: int) -> IAddress:
    """The address of a fake listening port: the IPv6 interface given, else 0.0.0.0."""
    if _isIPv6(interface):
        return IPv6Address(kind, interface, port)
    return IPv4Address(kind, "0.0.0.0", port)


class MemoryReactor:
    """A reactor that records what it is asked to do and does none of it.

    Each ``listenXXX`` appends its arguments to a list (``tcpServers``: ``(port, factory,
    backlog, interface)``, ``udpServers``, ``sslServers``, ``unixServers``) and returns a fake
    port; each ``connectXXX`` appends to ``tcpClients`` (``(host, port, factory, timeout,
    bindAddress)``), ``sslClients`` or ``unixClients``, calls the factory's
    ``startedConnecting`` and returns a fake connector (also in ``connectors``).  A test
    then plays the connection itself, e.g. ``factory.buildProtocol(addr)``.
    ``run()`` calls the ``callWhenRunning`` hooks and stops at once.
    """

    def __init__(self) -> None:
        self.hasInstalled = False
        self.running: bool | None = False
        self.hasRun = False
        self.hasStopped = False
        self.hasCrashed = False
        self.whenRunningHooks: list[tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]]
        self.whenRunningHooks = []
        self.triggers: dict[
            str, dict[str, list[tuple[Callable[..., object], tuple[Any, ...], dict[str, Any]]]]
        ] = {}
        self.tcpClients: list[tuple[Any, ...]] = []
        self.tcpServers: list[tuple[Any, ...]] = []
        self.udpServers: list[tuple[Any, ...]] = []
        self.sslClients: list[tuple[Any, ...]] = []
        self.sslServers: list[tuple[Any, ...]] = []
        self.unixClients: list[tuple[Any, ...]] = []
        self.unixServers: list[tuple[Any, ...]] = []
        self.adoptedPorts: list[tuple[Any, ...]] = []
        self.adoptedStreamConnections: list[tuple[Any, ...]] = []
        self.connectors: list[_FakeConnector] = []
        self.nameResolver: IHostnameResolver = SynchronousResolver()

    def installNameResolver(self, resolver: IHostnameResolver) -> IHostnameResolver:
        """Install ``resolver``; return the previous one."""
        old, self.nameResolver = self.nameResolver, resolver
        return old

    def install(self) -> None:
        """Record that the reactor was installed (emulates the reactor modules' install)."""
        self.hasInstalled = True

    def resolve(self, name: str, timeout: Sequence[int] = (1, 3, 11, 45)) -> Deferred[str]:
        """Not simulated: raises NotImplementedError."""
        raise NotImplementedError("MemoryReactor.resolve")

    def run(self) -> None:
        """Run the ``callWhenRunning`` hooks, then stop."""
        if self.running:
            raise error.ReactorAlreadyRunning()
        self.running = True
        self.hasRun = True
        for f, args, kwargs in self.whenRunningHooks:
            f(*args, **kwargs)
        self.stop()

    def stop(self) -> None:
        """Record the stop."""
        self.running = False
        self.hasStopped = True

    def crash(self) -> None:
        """Record the crash (``running`` becomes None)."""
        self.running = None
        self.hasCrashed = True

    def iterate(self, delay: float = 0) -> None:
        """Not simulated: raises NotImplementedError."""
        raise NotImplementedError("MemoryReactor.iterate")

    def fireSystemEvent(self, eventType: str) -> None:
        """Run the recorded triggers of ``eventType``, phase by phase."""
        for phase in ("before", "during", "after"):
            for f, args, kwargs in self.triggers.get(phase, {}).get(eventType, []):
                f(*args, **kwargs)

    def addSystemEventTrigger(
        self,
        phase: str,
        eventType: str,
        callable: Callable[_P, object],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> tuple[str, str, int]:
        """Record the trigger in ``triggers[phase][eventType]``; return its ID."""
        triggers = self.triggers.setdefault(phase, {}).setdefault(eventType, [])
        triggers.append((callable, args, kwargs))
        return (phase, eventType, len(triggers) - 1)

    def removeSystemEventTrigger(self, triggerID: Any) -> None:
        """Remove a recorded trigger (its slot stays, as a no-op)."""
        phase, eventType, index = triggerID
        self.triggers[phase][eventType][index] = (lambda: None, (), {})

    def callWhenRunning(
        self, callable: Callable[_P, object], *args: _P.args, **kwargs: _P.kwargs
    ) -> None:
        """Call now if the reactor has run, else record the call for ``run()``."""
        if self.running or self.hasRun:
            callable(*args, **kwargs)
            return None
        self.whenRunningHooks.append((callable, args, kwargs))
        return None

    def adoptStreamPort(self, fileDescriptor: int, addressFamily: int, factory: Any) -> _FakePort:
        """Record in ``adoptedPorts`` and return a fake port on port 1234."""
        addr = _adoptedAddress("TCP", addressFamily)
        self.adoptedPorts.append((fileDescriptor, addressFamily, factory))
        return _FakePort(addr)

    def adoptStreamConnection(self, fileDescriptor: int, addressFamily: int, factory: Any) -> None:
        """Record in ``adoptedStreamConnections``."""
        self.adoptedStreamConnections.append((fileDescriptor, addressFamily, factory))

    def adoptDatagramPort(
        self, fileDescriptor: int, addressFamily: int, protocol: Any, maxPacketSize: int = 8192
    ) -> _FakePort:
        """Record in ``adoptedPorts`` and return a fake UDP port on port 1234."""
        addr = _adoptedAddress("UDP", addressFamily)
        self.adoptedPorts.append((fileDescriptor, addressFamily, protocol, maxPacketSize))
        return _FakePort(addr)

    def listenTCP(
        self, port: int, factory: Any, backlog: int = 50, interface: str = ""
    ) -> _FakePort:
        """Record in ``tcpServers``; return a fake port."""
        self.tcpServers.append((port, factory, backlog, interface))
        return _FakePort(_listenAddress("TCP", interface, port))

    def _connector(self, factory: Any, addr: IAddress) -> _FakeConnector:
        """Make a fake connector, tell the factory it started connecting, record it."""
        conn = _FakeConnector(addr)
        factory.startedConnecting(conn)
        self.connectors.append(conn)
        return conn

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: Any,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> _FakeConnector:
        """Record in ``tcpClients``; return a fake connector."""
        self.tcpClients.append((host, port, factory, timeout, bindAddress))
        addr: IAddress
        if _isIPv6(host):
            addr = IPv6Address("TCP", host, port)
        else:
            addr = IPv4Address("TCP", host, port)
        return self._connector(factory, addr)

    def listenUDP(
        self, port: int, protocol: Any, interface: str = "", maxPacketSize: int = 8192
    ) -> _FakePort:
        """Record in ``udpServers``; return a fake port."""
        self.udpServers.append((port, protocol, interface, maxPacketSize))
        return _FakePort(_listenAddress("UDP", interface, port))

    def listenSSL(
        self,
        port: int,
        factory: Any,
        contextFactory: Any,
        backlog: int = 50,
        interface: str = "",
    ) -> _FakePort:
        """Record in ``sslServers``; return a fake port."""
        self.sslServers.append((port, factory, contextFactory, backlog, interface))
        return _FakePort(IPv4Address("TCP", "0.0.0.0", port))

    def connectSSL(
        self,
        host: str,
        port: int,
        factory: Any,
        contextFactory: Any,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> _FakeConnector:
        """Record in ``sslClients``; return a fake connector."""
        self.sslClients.append((host, port, factory, contextFactory, timeout, bindAddress))
        return self._connector(factory, IPv4Address("TCP", host, port))

    def listenUNIX(
        self,
        address: str,
        factory: Any,
        backlog: int = 50,
        mode: int = 0o666,
        wantPID: bool = False,
    ) -> _FakePort:
        """Record in ``unixServers``; return a fake port."""
        self.unixServers.append((address, factory, backlog, mode, wantPID))
        return _FakePort(UNIXAddress(address))

    def connectUNIX(
        self, address: str, factory: Any, timeout: float = 30, checkPID: bool = False
    ) -> _FakeConnector:
        """Record in ``unixClients``; return a fake connector."""
        self.unixClients.append((address, factory, timeout, checkPID))
        return self._connector(factory, UNIXAddress(address))


class MemoryReactorClock(MemoryReactor, Clock):
    """A MemoryReactor with a ``task.Clock``: ``callLater`` runs on ``advance()``."""

    def __init__(self) -> None:
        MemoryReactor.__init__(self)
        Clock.__init__(self)


class RaisingMemoryReactor:
    """A reactor whose ``listenXXX`` and ``connectXXX`` methods raise the exceptions given."""

    def __init__(
        self,
        listenException: BaseException | None = None,
        connectException: BaseException | None = None,
    ) -> None:
        self._listenException = listenException or error.CannotListenError(
            "", 0, OSError("RaisingMemoryReactor")
        )
        self._connectException = connectException or error.ConnectError(
            string="RaisingMemoryReactor"
        )
        self.nameResolver: IHostnameResolver = SynchronousResolver()

    def installNameResolver(self, nameResolver: IHostnameResolver) -> IHostnameResolver:
        """Install ``nameResolver``; return the previous one."""
        previous, self.nameResolver = self.nameResolver, nameResolver
        return previous

    def adoptStreamPort(self, fileDescriptor: int, addressFamily: int, factory: Any) -> Any:
        """Raise the listen exception."""
        raise self._listenException

    def adoptStreamConnection(self, fileDescriptor: int, addressFamily: int, factory: Any) -> None:
        """Raise the connect exception."""
        raise self._connectException

    def adoptDatagramPort(
        self, fileDescriptor: int, addressFamily: int, protocol: Any, maxPacketSize: int = 8192
    ) -> Any:
        """Raise the connect exception (as Twisted does)."""
        raise self._connectException

    def listenTCP(self, port: int, factory: Any, backlog: int = 50, interface: str = "") -> Any:
        """Raise the listen exception."""
        raise self._listenException

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: Any,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> Any:
        """Raise the connect exception."""
        raise self._connectException

    def listenSSL(
        self,
        port: int,
        factory: Any,
        contextFactory: Any,
        backlog: int = 50,
        interface: str = "",
    ) -> Any:
        """Raise the listen exception."""
        raise self._listenException

    def connectSSL(
        self,
        host: str,
        port: int,
        factory: Any,
        contextFactory: Any,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> Any:
        """Raise the connect exception."""
        raise self._connectException

    def listenUNIX(
        self,
        address: str,
        factory: Any,
        backlog: int = 50,
        mode: int = 0o666,
        wantPID: bool = False,
    ) -> Any:
        """Raise the listen exception."""
        raise self._listenException

    def connectUNIX(
        self, address: str, factory: Any, timeout: float = 30, checkPID: bool = False
    ) -> Any:
        """Raise the connect exception."""
        raise self._connectException


def waitUntilAllDisconnected(
    reactor: IReactorTime, protocols: Sequence[Any], interval: float = 0.01
) -> Deferred[None]:
    """Return a Deferred that fires once no protocol's transport is connected any more.

    Polls every ``interval`` seconds on ``reactor``; for older tests on real sockets,
    where closing can take a reactor turn or two.
    """
    from torsion.internet.defer import Deferred

    d: Deferred[None] = Deferred()

    def check() -> None:
        if any(getattr(p.transport, "connected", False) for p in protocols):
            reactor.callLater(interval, check)
        else:
            d.callback(None)

    check()
    return d



class EventLoggingObserver(Sequence[LogEvent]):
    """A log observer that keeps the events it sees, as a read-only sequence.

    ``createWithCleanup(test, publisher)`` adds it to ``publisher`` and registers its
    removal with ``test.addCleanup`` (trial and unittest TestCases).
    """

    def __init__(self) -> None:
        self._events: list[LogEvent] = []

    def __len__(self) -> int:
        return len(self._events)

    @overload
    def __getitem__(self, index: int) -> LogEvent: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[LogEvent]: ...

    def __getitem__(self, index: int | slice) -> LogEvent | Sequence[LogEvent]:
        return self._events[index]

    def __iter__(self) -> Iterator[LogEvent]:
        return iter(self._events)

    def __call__(self, event: LogEvent) -> None:
        """Observe ``event``."""
        self._events.append(event)

    @classmethod
    def createWithCleanup(cls, testInstance: Any, publisher: LogPublisher) -> EventLoggingObserver:
        """Create one observing ``publisher`` until ``testInstance``'s cleanup runs."""
        observer = cls()
        publisher.addObserver(observer)
        testInstance.addCleanup(publisher.removeObserver, observer)
        return observer


class LineSendingProtocol(_LineReceiver):
    """Sends ``lines`` when connected (``start=True``) or in reply to the first line.

    Every line received is appended to ``response``; ``lostConn`` turns True when the
    connection ends.
    """

    lostConn = False

    def __init__(self, lines: list[bytes], start: bool = True) -> None:
        self.lines = list(lines)
        self.response: list[bytes] = []
        self.start = start

    def connectionMade(self) -> None:
        if self.start:
            for line in self.lines:
                self.sendLine(line)

    def lineReceived(self, line: bytes) -> None:
        if not self.start:
            for toSend in self.lines:
                self.sendLine(toSend)
            self.lines = []
        self.response.append(line)

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.lostConn = True


class FakeDatagramTransport:
    """A UDP transport that records each ``write(packet, addr)`` in ``written``.

    A write without an address records ``FakeDatagramTransport.noAddr`` as its address.
    """

    noAddr: Any = object()

    def __init__(self) -> None:
        self.written: list[tuple[bytes, Any]] = []

    def write(self, packet: bytes, addr: Any = noAddr) -> None:
        self.written.append((packet, addr))
