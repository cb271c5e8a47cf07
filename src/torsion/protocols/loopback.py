"""Connect a server protocol and a client protocol in memory, without sockets.

``loopbackAsync(server, client)`` gives each protocol a transport that queues what it
writes; a pump hands the queued bytes to the other protocol one reactor turn later (a
``callLater(0)`` on the ``clock`` given, or on the global reactor), so that, as with a real
transport, ``write`` never calls the peer's ``dataReceived`` re-entrantly.  When either
side calls ``loseConnection``, whatever it queued before is delivered, then both protocols
get ``connectionLost`` with ``ConnectionDone`` and the returned Deferred fires.
``abortConnection`` drops the queue instead: the aborting side gets ``ConnectionAborted``,
the other ``ConnectionLost``.

A ``pumpPolicy(queue, target)`` decides how queued chunks are delivered:
``identityPumpPolicy`` (one ``dataReceived`` per write, the default) or
``collapsingPumpPolicy`` (everything queued in one call).  Pull producers registered on a
loopback transport are asked for more each time their queue has been drained.

With a ``task.Clock`` as ``clock``, one ``clock.advance(0)`` runs the conversation until
both sides are idle.

``loopbackTCP`` and ``loopbackUNIX`` do the same over a real socket pair on a reactor
(listening on 127.0.0.1, or on a socket file in a fresh temporary directory), for tests
that must exercise the real transports.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, cast

from torsion.internet import error
from torsion.internet.address import IPv4Address
from torsion.internet.protocol import ClientFactory, Factory
from torsion.protocols.policies import ProtocolWrapper, WrappingFactory
from torsion.python.failure import Failure

if TYPE_CHECKING:
    from torsion.internet.defer import Deferred
    from torsion.internet.interfaces import IAddress, IConnector, IProducer, IReactorTime

__all__ = [
    "LoopbackClientFactory",
    "collapsingPumpPolicy",
    "identityPumpPolicy",
    "loopbackAsync",
    "loopbackTCP",
    "loopbackUNIX",
]


class _LoopbackQueue:
    """The bytes one side wrote and the other has not yet received.

    A ``None`` entry marks the writer's ``loseConnection``; ``wake`` is called on each
    ``put`` so an idle pump can resume.
    """

    def __init__(self) -> None:
        self._queue: list[bytes | None] = []
        self.disconnect = False
        self.aborted = False
        self.wake: Callable[[], None] | None = None

    def put(self, v: bytes | None) -> None:
        """Queue a chunk (or the close marker) and wake the pump."""
        self._queue.append(v)
        if self.wake is not None:
            self.wake()

    def get(self) -> bytes | None:
        """Take the oldest chunk."""
        return self._queue.pop(0)

    def clear(self) -> None:
        """Drop everything queued (an abort)."""
        self._queue.clear()

    def __bool__(self) -> bool:
        return bool(self._queue)


def identityPumpPolicy(queue: _LoopbackQueue, target: Any) -> None:
    """Deliver each queued chunk with its own ``dataReceived`` call, up to a close marker."""
    while queue:
        chunk = queue.get()
        if chunk is None:
            break
        target.dataReceived(chunk)


def collapsingPumpPolicy(queue: _LoopbackQueue, target: Any) -> None:
    """Deliver all queued chunks, up to a close marker, in one ``dataReceived`` call."""
    chunks: list[bytes] = []
    while queue:
        chunk = queue.get()
        if chunk is None:
            break
        chunks.append(chunk)
    if chunks:
        target.dataReceived(b"".join(chunks))


class _LoopbackAddress:
    """The address of either end of a loopback connection."""

    def __repr__(self) -> str:
        return "_LoopbackAddress()"


class _LoopbackTransport:
    """One end of a loopback connection: writes go to the queue towards the peer."""

    disconnecting: bool = False
    producer: IProducer | None = None
    streamingProducer: bool = False

    def __init__(
        self,
        q: _LoopbackQueue,
        hostAddress: IAddress | None = None,
        peerAddress: IAddress | None = None,
    ) -> None:
        self.q = q
        self.connected = True
        self._host = hostAddress if hostAddress is not None else _LoopbackAddress()
        self._peer = peerAddress if peerAddress is not None else _LoopbackAddress()

    def write(self, data: bytes) -> None:
        """Queue ``data`` for the peer; ``str`` raises TypeError."""
        if not isinstance(data, bytes):
            raise TypeError(f"Data must be bytes, not {type(data).__name__}")
        if self.disconnecting:
            return
        self.q.put(data)

    def writeSequence(self, iovec: Iterable[bytes]) -> None:
        """Queue the chunks as one."""
        self.write(b"".join(iovec))

    def loseConnection(self) -> None:
        """Close after what was written has been delivered."""
        if self.disconnecting:
            return
        self.disconnecting = True
        self.q.disconnect = True
        self.q.put(None)

    def abortConnection(self) -> None:
        """Close at once, dropping what was not yet delivered."""
        self.q.clear()
        self.q.aborted = True
        self.disconnecting = False
        self.loseConnection()

    def getPeer(self) -> IAddress:
        """Return the peer's address."""
        return self._peer

    def getHost(self) -> IAddress:
        """Return this end's address."""
        return self._host

    def registerProducer(self, producer: IProducer, streaming: bool) -> None:
        """Register a producer; a pull producer is asked for data at once."""
        if self.producer is not None:
            raise RuntimeError("Cannot register two producers")
        self.producer = producer
        self.streamingProducer = streaming
        self._pollProducer()

    def unregisterProducer(self) -> None:
        """Forget the producer."""
        if self.producer is None:
            raise RuntimeError("Cannot unregister a producer unless one is registered")
        self.producer = None

    def _pollProducer(self) -> None:
        """Ask a pull producer for more: the queue towards the peer is empty."""
        if self.producer is not None and not self.streamingProducer:
            self.producer.resumeProducing()  # type: ignore[attr-defined]

    def pauseProducing(self) -> None:
        """Reading cannot be paused here; accepted and ignored."""

    def resumeProducing(self) -> None:
        """Reading cannot be paused here; accepted and ignored."""

    def stopProducing(self) -> None:
        """Stop reading for good: close."""
        self.loseConnection()

    def setTcpNoDelay(self, enabled: bool) -> None:
        """Accepted and ignored."""

    def getTcpNoDelay(self) -> bool:
        """There is no Nagle in memory."""
        return True

    def setTcpKeepAlive(self, enabled: bool) -> None:
        """Accepted and ignored."""

    def getTcpKeepAlive(self) -> bool:
        """There is no keep-alive in memory."""
        return False


class _Loopback:
    """The pump of one loopback connection."""

    def __init__(
        self,
        server: Any,
        serverToClient: _LoopbackQueue,
        client: Any,
        clientToServer: _LoopbackQueue,
        pumpPolicy: Callable[[_LoopbackQueue, Any], None],
        clock: IReactorTime | None,
    ) -> None:
        from torsion.internet.defer import Deferred

        self.server = server
        self.client = client
        self.serverToClient = serverToClient
        self.clientToServer = clientToServer
        self.pumpPolicy = pumpPolicy
        self.clock = clock
        self.done: Deferred[None] = Deferred()
        self._scheduled = False
        self._finished = False

    def _callLater(self, func: Callable[[], None]) -> None:
        """Run ``func`` on the next turn of the clock (or global reactor)."""
        clock = self.clock
        if clock is None:
            from torsion.internet import reactor

            clock = cast("IReactorTime", reactor)
        clock.callLater(0, func)

    def wake(self) -> None:
        """Something was queued: make sure a pump is scheduled."""
        if self._scheduled or self._finished:
            return
        self._scheduled = True
        self._callLater(self._run)

    def _run(self) -> None:
        """Pump until both sides are idle, or the connection is closed."""
        self._scheduled = False
        while not self._finished:
            serverSent = self._pump(self.server, self.serverToClient, self.client)
            clientSent = self._pump(self.client, self.clientToServer, self.server)
            for q in (self.serverToClient, self.clientToServer):
                if q.disconnect and not q:
                    # Everything written before loseConnection has been delivered.
                    self._finish()
                    return
            if not serverSent and not clientSent:
                return

    def _pump(self, source: Any, q: _LoopbackQueue, target: Any) -> bool:
        """Deliver ``q`` to ``target``; let the source's pull producer refill it."""
        if not q:
            return False
        self.pumpPolicy(q, target)
        if not q:
            source.transport._pollProducer()
        return True

    def _finish(self) -> None:
        """Deliver the loss to both sides and fire the Deferred."""
        self._finished = True
        for proto, outgoing, incoming in (
            (self.server, self.serverToClient, self.clientToServer),
            (self.client, self.clientToServer, self.serverToClient),
        ):
            reason: BaseException
            if outgoing.aborted:
                reason = error.ConnectionAborted()
            elif incoming.aborted:
                reason = error.ConnectionLost("Connection reset by peer")
            else:
                reason = error.ConnectionDone()
            proto.transport.connected = False
            producer, proto.transport.producer = proto.transport.producer, None
            if producer is not None:
                producer.stopProducing()
            proto.connectionLost(Failure(reason))
        self.done.callback(None)


def loopbackAsync(
    server: Any,
    client: Any,
    pumpPolicy: Callable[[_LoopbackQueue, Any], None] = identityPumpPolicy,
    clock: IReactorTime | None = None,
) -> Deferred[None]:
    """Connect ``server`` and ``client`` in memory; fire once the connection is closed.

    ``clock`` schedules the pumping (``callLater(0)``): a ``task.Clock`` in unit tests,
    by default the global reactor.  ``server.makeConnection`` runs first, then the
    client's, both before this returns.
    """
    serverToClient = _LoopbackQueue()
    clientToServer = _LoopbackQueue()
    serverAddress = IPv4Address("TCP", "127.0.0.1", 0)
    clientAddress = IPv4Address("TCP", "127.0.0.1", 0)
    loop = _Loopback(server, serverToClient, client, clientToServer, pumpPolicy, clock)
    serverToClient.wake = loop.wake
    clientToServer.wake = loop.wake
    server.makeConnection(_LoopbackTransport(serverToClient, serverAddress, clientAddress))
    client.makeConnection(_LoopbackTransport(clientToServer, clientAddress, serverAddress))
    return loop.done


class _FireOnClose(ProtocolWrapper):
    """Wraps the server protocol of a socket loopback; ``deferred`` fires when it closes."""

    def __init__(self, factory: WrappingFactory, wrappedProtocol: Any) -> None:
        from torsion.internet.defer import Deferred

        ProtocolWrapper.__init__(self, factory, wrappedProtocol)
        self.deferred: Deferred[None] = Deferred()

    def connectionLost(self, reason: Failure | None = None) -> None:
        """Pass the loss on, then fire ``deferred``."""
        ProtocolWrapper.connectionLost(self, reason)
        self.deferred.callback(None)


class LoopbackClientFactory(ClientFactory):
    """Connects one given client protocol; ``deferred`` fires when its connection ends.

    A failed connection fails ``deferred`` with the reason.
    """

    def __init__(self, protocol: Any) -> None:
        from torsion.internet.defer import Deferred

        self.disconnected = False
        self.deferred: Deferred[None] = Deferred()
        self._protocol = protocol

    def buildProtocol(self, addr: IAddress) -> Any:
        """Return the client protocol given at construction."""
        return self._protocol

    def clientConnectionLost(self, connector: IConnector, reason: Failure) -> None:
        """The connection ended: fire ``deferred``."""
        self.disconnected = True
        self.deferred.callback(None)

    def clientConnectionFailed(self, connector: IConnector, reason: Failure) -> None:
        """The connection could not be made: fail ``deferred``."""
        self.deferred.errback(reason)


def _socketLoopback(
    server: Any,
    client: Any,
    noisy: bool,
    listen: Callable[[WrappingFactory], Any],
    connect: Callable[[Any, LoopbackClientFactory], object],
) -> Deferred[None]:
    """Serve ``server`` on a port made by ``listen``, connect ``client`` with ``connect``.

    The Deferred fires once both connections are closed and the port has stopped.
    """
    f = WrappingFactory(Factory())
    f.noisy = noisy
    serverWrapper = _FireOnClose(f, server)
    f.buildProtocol = lambda addr: serverWrapper  # type: ignore[method-assign]
    serverPort = listen(f)
    clientFactory = LoopbackClientFactory(client)
    clientFactory.noisy = noisy
    connect(serverPort, clientFactory)

    def serverClosed(ignored: object) -> Any:
        return serverWrapper.deferred

    def stop(ignored: object) -> Any:
        return serverPort.stopListening()

    d = clientFactory.deferred
    d.addCallback(serverClosed)
    d.addCallback(stop)
    return d


def _reactorOrGlobal(reactor: Any) -> Any:
    """Return ``reactor``, or the global reactor (imported only now)."""
    if reactor is None:
        from torsion.internet import reactor as globalReactor

        return globalReactor
    return reactor


def loopbackTCP(
    server: Any, client: Any, port: int = 0, noisy: bool = True, reactor: Any = None
) -> Deferred[None]:
    """Connect ``server`` and ``client`` over TCP on 127.0.0.1; fire when both are closed.

    ``reactor`` defaults to the global reactor.
    """
    r = _reactorOrGlobal(reactor)
    return _socketLoopback(
        server,
        client,
        noisy,
        lambda f: r.listenTCP(port, f, interface="127.0.0.1"),
        lambda p, cf: r.connectTCP("127.0.0.1", p.getHost().port, cf),
    )


def loopbackUNIX(
    server: Any, client: Any, noisy: bool = True, reactor: Any = None
) -> Deferred[None]:
    """Connect ``server`` and ``client`` over a UNIX socket; fire when both are closed.

    The socket lives in a fresh temporary directory, removed afterwards.  ``reactor``
    defaults to the global reactor.
    """
    import shutil
    import tempfile

    r = _reactorOrGlobal(reactor)
    directory = tempfile.mkdtemp(prefix="torsion-loopback-")
    path = f"{directory}/s"
    try:
        d = _socketLoopback(
            server,
            client,
            noisy,
            lambda f: r.listenUNIX(path, f),
            lambda p, cf: r.connectUNIX(path, cf),
        )
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise

    def cleanUp(result: object) -> object:
        shutil.rmtree(directory, ignore_errors=True)
        return result

    d.addBoth(cleanUp)
    return d
