"""The contracts between reactors, transports, protocols, factories and endpoints.

These are Twisted's interfaces as ``typing.Protocol`` classes: structural types that mypy
checks statically (``t: ITransport = StringTransport()``) instead of ``zope.interface``
declarations.  Method names and signatures are Twisted's, so code written against
Twisted's interface documentation type-checks here.

Where Twisted code asks ``IFoo.providedBy(x)``, use ``isinstance(x, IFoo)`` on the
interfaces marked ``runtime_checkable`` below (they check that the methods exist, not
their signatures), or plain duck typing.  Read-only attributes are declared as properties,
so an implementation may provide them as plain attributes or as properties.

Families:

- stream: ITransport → ITCPTransport → ITLSTransport/ISSLTransport; IProtocol,
  IHalfCloseableProtocol, IHandshakeListener, IFileDescriptorReceiver; IProtocolFactory;
  IListeningPort, IConnector.
- flow control: IConsumer; IProducer → IPushProducer, IPullProducer.
- reactor: IReactorCore, IReactorTime (IDelayedCall), IReactorTCP, IReactorSSL, IReactorUNIX,
  IReactorUDP, IReactorMulticast, IReactorSocket, IReactorProcess, IReactorThreads
  (IReactorFromThreads, IReactorInThreads), IReactorPluggableNameResolver,
  IReactorPluggableResolver.
- names: IResolverSimple, IHostnameResolver, IHostResolution, IResolutionReceiver.
- datagrams: IUDPTransport, IMulticastTransport.
- processes: IProcessTransport, IProcessProtocol.
- endpoints: IStreamClientEndpoint, IStreamServerEndpoint and their string parsers.
- TLS: ITLSContextFactory (``getContext() -> ssl.SSLContext``), the stdlib counterpart of
  Twisted's pyOpenSSL context factories.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import (
    TYPE_CHECKING,
    Any,
    ParamSpec,
    Protocol,
    runtime_checkable,
)

if TYPE_CHECKING:
    from torsion.internet.address import IPv4Address, IPv6Address
    from torsion.internet.defer import Deferred
    from torsion.python.failure import Failure
    from torsion.python.threadpool import ThreadPool

# spawnProcess's default environment: empty, as Twisted's ``env={}``, and read-only.
_EMPTY_ENV: Mapping[bytes | str, bytes | str] = MappingProxyType({})

__all__ = [
    "IAddress",
    "IConnector",
    "IConsumer",
    "IDelayedCall",
    "IFileDescriptor",
    "IFileDescriptorReceiver",
    "IHalfCloseableProtocol",
    "IHandshakeListener",
    "IHostResolution",
    "IHostnameResolver",
    "IListeningPort",
    "ILoggingContext",
    "IMulticastTransport",
    "IProcessProtocol",
    "IProcessTransport",
    "IProducer",
    "IProtocol",
    "IProtocolFactory",
    "IPullProducer",
    "IPushProducer",
    "IReactorCore",
    "IReactorFromThreads",
    "IReactorInThreads",
    "IReactorMulticast",
    "IReactorPluggableNameResolver",
    "IReactorPluggableResolver",
    "IReactorProcess",
    "IReactorSSL",
    "IReactorSocket",
    "IReactorTCP",
    "IReactorThreads",
    "IReactorTime",
    "IReactorUDP",
    "IReactorUNIX",
    "IResolutionReceiver",
    "IResolverSimple",
    "ISSLTransport",
    "IStreamClientEndpoint",
    "IStreamClientEndpointStringParserWithReactor",
    "IStreamServerEndpoint",
    "IStreamServerEndpointStringParser",
    "ISystemHandle",
    "ITCPTransport",
    "ITLSContextFactory",
    "ITLSTransport",
    "ITransport",
    "IUDPTransport",
    "IUNIXTransport",
]

_P = ParamSpec("_P")


# --- addresses and logging -------------------------------------------------------------


@runtime_checkable
class IAddress(Protocol):
    """An address, e.g. a TCP ``(host, port)``.

    A marker: anything is an address.  The concrete classes live in
    ``torsion.internet.address``.
    """


@runtime_checkable
class ILoggingContext(Protocol):
    """An object that gives log lines written on its behalf a prefix."""

    def logPrefix(self) -> str:
        """Return a short prefix naming this object in log lines, e.g. the protocol class."""


@runtime_checkable
class ISystemHandle(Protocol):
    """An object that wraps a networking OS-specific handle."""

    def getHandle(self) -> Any:
        """Return the underlying handle, e.g. a ``socket.socket``."""


@runtime_checkable
class IFileDescriptor(ILoggingContext, Protocol):
    """An object with a file descriptor the reactor watches."""

    def fileno(self) -> int:
        """Return the descriptor number, or -1 when it is closed."""

    def connectionLost(self, reason: Failure) -> None:
        """Called when the descriptor is closed; ``reason`` says why."""


# --- producers and consumers -------------------------------------------------------------


@runtime_checkable
class IProducer(Protocol):
    """A producer produces data for a consumer.

    Producers are how writers avoid unbounded buffering: the consumer asks its producer to
    pause (push producers) or to produce one more chunk (pull producers).
    """

    def stopProducing(self) -> None:
        """Stop producing data: the consumer is going away; don't write to it again."""


@runtime_checkable
class IPushProducer(IProducer, Protocol):
    """A producer that writes as fast as it can until told to pause."""

    def pauseProducing(self) -> None:
        """Pause producing data: the consumer's buffer is full."""

    def resumeProducing(self) -> None:
        """Resume producing data after ``pauseProducing``."""


@runtime_checkable
class IPullProducer(IProducer, Protocol):
    """A producer that writes one chunk each time the consumer asks for more."""

    def resumeProducing(self) -> None:
        """Produce data for the consumer a single time (one ``write``)."""


@runtime_checkable
class IConsumer(Protocol):
    """A consumer consumes data from a producer."""

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """Register to receive data from a producer.

        ``streaming`` is True for a push producer (``IPushProducer``), False for a pull
        producer.  Registering a second producer raises ``RuntimeError``.
        """

    def unregisterProducer(self) -> None:
        """Stop consuming data from a producer, without disconnecting."""

    def write(self, data: bytes) -> None:
        """Consume ``data``; a producer calls this to hand its output over."""


# --- stream transports and protocols -----------------------------------------------------


@runtime_checkable
class ITransport(Protocol):
    """A transport for a stream of bytes: what a protocol writes to.

    Writes are buffered and never block; ``loseConnection`` closes after the buffer is
    flushed.  Data is ``bytes``: writing ``str`` raises ``TypeError``.
    """

    def write(self, data: bytes) -> None:
        """Write some data to the physical connection, in sequence, in a non-blocking fashion."""

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Write an iterable of byte strings, as if each were passed to ``write``."""

    def loseConnection(self) -> None:
        """Close the connection once all buffered data has been written."""

    def getPeer(self) -> IAddress:
        """Return the address of the remote side of this connection."""

    def getHost(self) -> IAddress:
        """Return the address of this side of this connection."""


@runtime_checkable
class ITCPTransport(ITransport, Protocol):
    """A TCP transport: half-close, abort and socket options on top of ``ITransport``."""

    def loseWriteConnection(self) -> None:
        """Half-close: send FIN after the buffer is flushed, keep reading.

        Only protocols providing ``IHalfCloseableProtocol`` are told about half-closes.
        """

    def abortConnection(self) -> None:
        """Close the connection at once, dropping buffered data (``ConnectionAborted``)."""

    def getTcpNoDelay(self) -> bool:
        """Return whether TCP_NODELAY (no Nagle) is enabled."""

    def setTcpNoDelay(self, enabled: bool) -> None:
        """Enable or disable TCP_NODELAY."""

    def getTcpKeepAlive(self) -> bool:
        """Return whether SO_KEEPALIVE is enabled."""

    def setTcpKeepAlive(self, enabled: bool) -> None:
        """Enable or disable SO_KEEPALIVE."""


@runtime_checkable
class IUNIXTransport(ITransport, Protocol):
    """A UNIX-socket transport, which can also pass file descriptors."""

    def sendFileDescriptor(self, descriptor: int) -> None:
        """Send a duplicate of ``descriptor`` to the peer along with the next byte written."""


@runtime_checkable
class IFileDescriptorReceiver(Protocol):
    """A protocol that takes file descriptors passed over a UNIX socket.

    Having this method is what makes a UNIX connection pass descriptors (torsion runs such
    a connection on a transport that reads with ``recvmsg``); the descriptor arrives just
    before the data it was sent with, and the protocol owns (and must close) it.
    """

    def fileDescriptorReceived(self, descriptor: int) -> None:
        """`descriptor` was received from the peer."""


@runtime_checkable
class ITLSTransport(ITCPTransport, Protocol):
    """A TCP transport that can be upgraded to TLS mid-connection (STARTTLS)."""

    def startTLS(self, contextFactory: ITLSContextFactory) -> None:
        """Start TLS after the bytes already written have gone out in the clear."""


@runtime_checkable
class ISSLTransport(ITCPTransport, Protocol):
    """A transport running over TLS."""

    def getPeerCertificate(self) -> Any:
        """Return the peer's certificate (DER bytes from the stdlib), or None."""


@runtime_checkable
class IProtocol(Protocol):
    """The application side of a stream connection: it receives data and events."""

    def dataReceived(self, data: bytes) -> None:
        """Called with bytes as they arrive; chunk boundaries carry no meaning."""

    def connectionLost(self, reason: Failure) -> None:
        """Called when the connection is shut down; ``reason`` wraps a ``ConnectionClosed``."""

    def makeConnection(self, transport: ITransport) -> None:
        """Make a connection to a transport and a server; calls ``connectionMade``."""

    def connectionMade(self) -> None:
        """Called when a connection is made: the place to send a greeting."""


@runtime_checkable
class IHalfCloseableProtocol(Protocol):
    """A protocol that can be told about half-closed connections.

    A protocol providing this is not disconnected when the peer shuts down its write
    side: ``readConnectionLost`` is called instead, and it may keep writing.
    """

    def readConnectionLost(self) -> None:
        """The peer will send no more data (it sent FIN)."""

    def writeConnectionLost(self) -> None:
        """Our write side was closed (``loseWriteConnection`` completed)."""


@runtime_checkable
class IHandshakeListener(Protocol):
    """A protocol that wants to know when its TLS handshake has completed."""

    def handshakeCompleted(self) -> None:
        """The TLS handshake finished; the peer certificate is available."""


@runtime_checkable
class IProtocolFactory(Protocol):
    """Builds a protocol for each connection."""

    def buildProtocol(self, addr: IAddress) -> IProtocol | None:
        """Return a protocol for a connection to/from ``addr``, or None to refuse it."""

    def doStart(self) -> None:
        """Called each time the factory starts being used by a port or connector."""

    def doStop(self) -> None:
        """Called each time a port or connector stops using the factory."""


@runtime_checkable
class IListeningPort(Protocol):
    """A listening port."""

    def startListening(self) -> None:
        """Start listening; raises ``CannotListenError`` on failure."""

    def stopListening(self) -> Deferred[None] | None:
        """Stop listening; may return a Deferred fired when the port is closed."""

    def getHost(self) -> IAddress:
        """Return the address this port is bound to (with the real port when 0 was asked)."""


@runtime_checkable
class IConnector(Protocol):
    """The object ``connectXXX`` returns: it can stop, retry or drop the connection."""

    def stopConnecting(self) -> None:
        """Stop attempting to connect (``UserError`` reaches the factory)."""

    def disconnect(self) -> None:
        """Disconnect if connected, stop connecting if connecting."""

    def connect(self) -> None:
        """Try to connect again; used by reconnecting factories."""

    def getDestination(self) -> IAddress:
        """Return the address this connector is connecting to."""


# --- time ------------------------------------------------------------------------------------


@runtime_checkable
class IDelayedCall(Protocol):
    """A scheduled call, returned by ``callLater``."""

    def getTime(self) -> float:
        """Return the time at which the call will run, in ``seconds()`` terms."""

    def cancel(self) -> None:
        """Cancel the call; raises ``AlreadyCalled``/``AlreadyCancelled`` if it is too late."""

    def delay(self, secondsLater: float) -> None:
        """Push the call back by ``secondsLater`` seconds."""

    def reset(self, secondsFromNow: float) -> None:
        """Reschedule the call to run ``secondsFromNow`` seconds from now."""

    def active(self) -> bool:
        """Return True until the call has run or been cancelled."""


@runtime_checkable
class IReactorTime(Protocol):
    """Time methods that a reactor (or a ``task.Clock``) provides."""

    def seconds(self) -> float:
        """Return the current time in seconds (the same clock as ``callLater``'s)."""

    def callLater(
        self, delay: float, callable: Callable[_P, object], *args: _P.args, **kwargs: _P.kwargs
    ) -> IDelayedCall:
        """Call ``callable(*args, **kwargs)`` ``delay`` seconds from now."""

    def getDelayedCalls(self) -> Sequence[IDelayedCall]:
        """Return all the calls scheduled and not yet run or cancelled."""


# --- reactor core --------------------------------------------------------------------------


class IReactorCore(Protocol):
    """The reactor's life cycle: run, stop, system events.

    Unlike Twisted, torsion's reactor may be ``run()`` again after ``stop()``.
    """

    @property
    def running(self) -> bool:
        """True while the reactor is running (after startup, until shutdown)."""

    def resolve(self, name: str, timeout: Sequence[int] = (1, 3, 11, 45)) -> Deferred[str]:
        """Return a Deferred firing with one IPv4 address for the host ``name``."""

    def run(self) -> None:
        """Fire 'startup' system events, then run the event loop until ``stop()``."""

    def stop(self) -> None:
        """Fire 'shutdown' system events, then stop; ``ReactorNotRunning`` if not running."""

    def crash(self) -> None:
        """Stop the event loop at once, without the shutdown events (for tests)."""

    def iterate(self, delay: float = 0) -> None:
        """Run the event loop once; for tests only."""

    def fireSystemEvent(self, eventType: str) -> None:
        """Fire the system event ``eventType`` ("startup", "shutdown", ...)."""

    def addSystemEventTrigger(
        self,
        phase: str,
        eventType: str,
        callable: Callable[_P, object],
        *args: _P.args,
        **kwargs: _P.kwargs,
    ) -> Any:
        """Run ``callable`` in ``phase`` ("before", "during", "after") of ``eventType``.

        Returns an ID for ``removeSystemEventTrigger``.  A Deferred returned by a "before"
        trigger delays the next phases until it fires.
        """

    def removeSystemEventTrigger(self, triggerID: Any) -> None:
        """Remove a trigger added by ``addSystemEventTrigger``."""

    def callWhenRunning(
        self, callable: Callable[_P, object], *args: _P.args, **kwargs: _P.kwargs
    ) -> Any | None:
        """Call now if running, else once the reactor starts; returns a trigger ID or None."""


# --- name resolution -----------------------------------------------------------------------


@runtime_checkable
class IResolverSimple(Protocol):
    """Resolves a host name to one IPv4 address."""

    def getHostByName(self, name: str, timeout: Sequence[int] = (1, 3, 11, 45)) -> Deferred[str]:
        """Return a Deferred firing with an address for ``name``, or failing with
        ``DNSLookupError``."""


@runtime_checkable
class IHostResolution(Protocol):
    """A host name resolution in progress."""

    @property
    def name(self) -> str:
        """The host name being resolved."""

    def cancel(self) -> None:
        """Stop the resolution; ``resolutionComplete`` is still called."""


@runtime_checkable
class IResolutionReceiver(Protocol):
    """Receives the results of ``IHostnameResolver.resolveHostName``, one by one."""

    def resolutionBegan(self, resolutionInProgress: IHostResolution) -> None:
        """Resolution has started."""

    def addressResolved(self, address: IAddress) -> None:
        """One address was found (an ``IPv4Address`` or ``IPv6Address``)."""

    def resolutionComplete(self) -> None:
        """Resolution has finished; no more addresses will come."""


@runtime_checkable
class IHostnameResolver(Protocol):
    """Resolves host names to IPv4 and IPv6 addresses, streaming the results."""

    def resolveHostName(
        self,
        resolutionReceiver: IResolutionReceiver,
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[IAddress]] | None = None,
        transportSemantics: str = "TCP",
    ) -> IHostResolution:
        """Start resolving ``hostName``; results go to ``resolutionReceiver``."""


class IReactorPluggableNameResolver(Protocol):
    """A reactor whose host name resolver can be replaced."""

    @property
    def nameResolver(self) -> IHostnameResolver:
        """The resolver used by connectTCP and endpoints."""

    def installNameResolver(self, resolver: IHostnameResolver) -> IHostnameResolver:
        """Install a new resolver and return the previous one."""


class IReactorPluggableResolver(Protocol):
    """A reactor whose simple (IPv4-only) resolver can be replaced."""

    def installResolver(self, resolver: IResolverSimple) -> IResolverSimple:
        """Install a new resolver and return the previous one."""


# --- connection-making reactor interfaces ----------------------------------------------------


class IReactorTCP(Protocol):
    """TCP listening and connecting."""

    def listenTCP(
        self, port: int, factory: IProtocolFactory, backlog: int = 50, interface: str = ""
    ) -> IListeningPort:
        """Listen on ``port`` (0: any free port); raises ``CannotListenError``."""

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: Any,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> IConnector:
        """Connect a ``ClientFactory`` to ``host``:``port``."""


class IReactorSSL(Protocol):
    """TLS-over-TCP listening and connecting."""

    def connectSSL(
        self,
        host: str,
        port: int,
        factory: Any,
        contextFactory: ITLSContextFactory,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> IConnector:
        """Connect a ``ClientFactory`` over TLS to ``host``:``port``."""

    def listenSSL(
        self,
        port: int,
        factory: IProtocolFactory,
        contextFactory: ITLSContextFactory,
        backlog: int = 50,
        interface: str = "",
    ) -> IListeningPort:
        """Listen for TLS connections on ``port``."""


class IReactorUNIX(Protocol):
    """UNIX-domain stream sockets."""

    def connectUNIX(
        self, address: str, factory: Any, timeout: float = 30, checkPID: bool = False
    ) -> IConnector:
        """Connect a ``ClientFactory`` to the socket at path ``address``."""

    def listenUNIX(
        self,
        address: str,
        factory: IProtocolFactory,
        backlog: int = 50,
        mode: int = 0o666,
        wantPID: bool = False,
    ) -> IListeningPort:
        """Listen on the socket at path ``address``."""


class IReactorUDP(Protocol):
    """UDP sockets."""

    def listenUDP(
        self, port: int, protocol: Any, interface: str = "", maxPacketSize: int = 8192
    ) -> IListeningPort:
        """Bind a ``DatagramProtocol`` to ``port``."""


class IReactorMulticast(Protocol):
    """UDP multicast sockets."""

    def listenMulticast(
        self,
        port: int,
        protocol: Any,
        interface: str = "",
        maxPacketSize: int = 8192,
        listenMultiple: bool = False,
    ) -> IListeningPort:
        """Bind a ``DatagramProtocol`` to ``port`` for multicast; ``listenMultiple`` sets
        SO_REUSEADDR/SO_REUSEPORT."""


class IReactorSocket(Protocol):
    """Adopting sockets created elsewhere (e.g. inherited from a supervisor)."""

    def adoptStreamPort(
        self, fileDescriptor: int, addressFamily: int, factory: IProtocolFactory
    ) -> IListeningPort:
        """Listen on an already listening socket."""

    def adoptStreamConnection(
        self, fileDescriptor: int, addressFamily: int, factory: IProtocolFactory
    ) -> None:
        """Take over an already connected socket."""

    def adoptDatagramPort(
        self, fileDescriptor: int, addressFamily: int, protocol: Any, maxPacketSize: int = 8192
    ) -> IListeningPort:
        """Take over an already bound datagram socket."""


# --- processes -------------------------------------------------------------------------------


@runtime_checkable
class IProcessTransport(ITransport, Protocol):
    """The transport of a child process: its pipes and its signals."""

    @property
    def pid(self) -> int | None:
        """The child's process id, None once it has been reaped."""

    def closeStdin(self) -> None:
        """Close the child's standard input (EOF for the child)."""

    def closeStdout(self) -> None:
        """Close the child's standard output."""

    def closeStderr(self) -> None:
        """Close the child's standard error."""

    def closeChildFD(self, descriptor: int) -> None:
        """Close one of the child's file descriptors."""

    def writeToChild(self, childFD: int, data: bytes) -> None:
        """Write to one of the child's file descriptors."""

    def signalProcess(self, signalID: str | int) -> None:
        """Send a signal ("KILL", "TERM", "INT" or a number); ``ProcessExitedAlready``
        if the child is gone."""


@runtime_checkable
class IProcessProtocol(Protocol):
    """The application side of a child process."""

    def makeConnection(self, process: IProcessTransport) -> None:
        """Called when the process has been started."""

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        """Data arrived from the child on ``childFD``."""

    def childConnectionLost(self, childFD: int) -> None:
        """The child closed ``childFD``."""

    def processExited(self, reason: Failure) -> None:
        """The child exited (its pipes may still be open)."""

    def processEnded(self, reason: Failure) -> None:
        """The child exited and all its pipes are closed; ``ProcessDone`` or
        ``ProcessTerminated``."""


class IReactorProcess(Protocol):
    """Spawning child processes."""

    def spawnProcess(
        self,
        processProtocol: IProcessProtocol,
        executable: bytes | str,
        args: Sequence[bytes | str] = (),
        env: Mapping[bytes | str, bytes | str] | None = _EMPTY_ENV,
        path: bytes | str | None = None,
        uid: int | None = None,
        gid: int | None = None,
        usePTY: bool = False,
        childFDs: Mapping[int, int | str] | None = None,
    ) -> IProcessTransport:
        """Spawn ``executable`` with ``args`` (``args[0]`` is the program name).

        ``env`` is the child's whole environment: the default ``{}`` is an empty one and
        ``None`` inherits ``os.environ``, as in Twisted on POSIX; to add to the parent's
        environment, pass ``{**os.environ, "NAME": "value"}``.  ``path`` is the child's
        working directory (default: the parent's).
        """


# --- threads ---------------------------------------------------------------------------------


class IReactorFromThreads(Protocol):
    """Calling into the reactor thread from other threads."""

    def callFromThread(
        self, callable: Callable[_P, object], *args: _P.args, **kwargs: _P.kwargs
    ) -> None:
        """Run ``callable`` in the reactor thread soon; safe to call from any thread."""


class IReactorInThreads(Protocol):
    """Running code in the reactor's thread pool."""

    def callInThread(
        self, callable: Callable[_P, object], *args: _P.args, **kwargs: _P.kwargs
    ) -> None:
        """Run ``callable`` in a thread of the reactor's pool."""


class IReactorThreads(IReactorFromThreads, IReactorInThreads, Protocol):
    """Thread pool management on top of calling in and from threads."""

    def getThreadPool(self) -> ThreadPool:
        """Return the reactor's thread pool (created on first use)."""

    def suggestThreadPoolSize(self, size: int) -> None:
        """Suggest the maximum size of the thread pool."""


# --- datagrams -------------------------------------------------------------------------------


@runtime_checkable
class IUDPTransport(Protocol):
    """The transport of a ``DatagramProtocol``."""

    def write(self, packet: bytes, addr: tuple[str, int] | None = None) -> None:
        """Send ``packet`` to ``addr`` (omit ``addr`` once ``connect`` was called).

        Raises ``MessageLengthError`` for a packet too long to send.
        """

    def connect(self, host: str, port: int) -> None:
        """Connect to one peer: only its datagrams are received; ``host`` is an IP address."""

    def getHost(self) -> IPv4Address | IPv6Address:
        """Return the address this socket is bound to."""

    def stopListening(self) -> Deferred[None] | None:
        """Close the socket."""

    def setBroadcastAllowed(self, enabled: bool) -> None:
        """Enable or disable sending to broadcast addresses (SO_BROADCAST)."""

    def getBroadcastAllowed(self) -> bool:
        """Return whether SO_BROADCAST is enabled."""


@runtime_checkable
class IMulticastTransport(IUDPTransport, Protocol):
    """A UDP transport that can join multicast groups."""

    def getOutgoingInterface(self) -> str:
        """Return the interface used for outgoing multicast."""

    def setOutgoingInterface(self, addr: str) -> Deferred[Any]:
        """Set the interface used for outgoing multicast."""

    def getLoopbackMode(self) -> bool:
        """Return whether our own multicast packets loop back to us."""

    def setLoopbackMode(self, mode: bool) -> None:
        """Set whether our own multicast packets loop back to us."""

    def getTTL(self) -> int:
        """Return the multicast time-to-live."""

    def setTTL(self, ttl: int) -> None:
        """Set the multicast time-to-live."""

    def joinGroup(self, addr: str, interface: str = "") -> Deferred[Any]:
        """Join the group ``addr``; the Deferred fails with ``MulticastJoinError``."""

    def leaveGroup(self, addr: str, interface: str = "") -> Deferred[Any]:
        """Leave the group ``addr``."""


# --- endpoints -------------------------------------------------------------------------------


@runtime_checkable
class IStreamClientEndpoint(Protocol):
    """A stream client endpoint: where to connect, and how."""

    def connect(self, protocolFactory: IProtocolFactory) -> Deferred[IProtocol]:
        """Connect, build a protocol with ``protocolFactory`` and fire with it.

        Cancelling the Deferred abandons the attempt (``ConnectingCancelledError``).
        """


@runtime_checkable
class IStreamServerEndpoint(Protocol):
    """A stream server endpoint: where to listen, and how."""

    def listen(self, protocolFactory: IProtocolFactory) -> Deferred[IListeningPort]:
        """Listen, and fire with the listening port."""


class IStreamServerEndpointStringParser(Protocol):
    """A plugin parsing "prefix:args" server endpoint descriptions."""

    @property
    def prefix(self) -> str:
        """The description prefix this parser handles, e.g. "tcp"."""

    def parseStreamServer(self, reactor: Any, *args: Any, **kwargs: Any) -> IStreamServerEndpoint:
        """Build an endpoint from the colon-separated arguments of a description."""


class IStreamClientEndpointStringParserWithReactor(Protocol):
    """A plugin parsing "prefix:args" client endpoint descriptions."""

    @property
    def prefix(self) -> str:
        """The description prefix this parser handles, e.g. "tcp"."""

    def parseStreamClient(self, reactor: Any, *args: Any, **kwargs: Any) -> IStreamClientEndpoint:
        """Build an endpoint from the colon-separated arguments of a description."""


# --- TLS -------------------------------------------------------------------------------------


@runtime_checkable
class ITLSContextFactory(Protocol):
    """Provides the ``ssl.SSLContext`` for a TLS connection.

    The stdlib counterpart of Twisted's pyOpenSSL ``ContextFactory``: ``listenSSL``,
    ``connectSSL`` and ``startTLS`` accept anything with this method.
    """

    def getContext(self) -> ssl.SSLContext:
        """Return the context to wrap the connection with."""
