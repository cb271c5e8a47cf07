"""Stream transports over the event loop's own transports: connections, ports, connectors.

Theory of operation: one `Connection` object per connection is both the asyncio protocol
handed to the loop and the Twisted transport handed to the user's protocol.  On
``connection_made`` it builds the user's protocol and then binds the hot path with no Python
frame of its own in between:

- ``data_received`` (an instance slot) is the user protocol's bound ``dataReceived``; the
  loop transport is told again about its protocol (``set_protocol``) because uvloop caches
  ``data_received`` when the protocol is set;
- ``write``/``writeSequence`` resolve, through a C-level property
  (``operator.attrgetter("_sink.write")``), to the loop transport's own bound
  ``write``/``writelines``: no Python frame of torsion's runs, and no bound method is stored
  per connection (64 bytes each: idle-connection memory is a measured target).
  ``transport.write(str)`` raises ``TypeError`` as the loop does.

Protocol handoff: ``transport.setProtocol(newProtocol)`` (a torsion extension) makes the
loop call ``newProtocol.dataReceived`` directly from then on, e.g. HTTP handing a connection
to WebSocket; the same rebinding as at connection time, so still no frame per read.

``_sink`` is where writes go: the loop transport while connected; a buffer while a STARTTLS
handshake runs; a recorder while a pull producer is registered; nowhere (after a type check)
once the connection or its write side is gone, as in Twisted.  State is one integer of
flags (``_CONNECTED``, ``_DISCONNECTING``, ...); ``connected`` and ``disconnecting`` are
read from it.

Owners: a `Connection` belongs to a listening `Port` (server side) or a `Connector` (client
side); the owner builds the protocol, converts socket addresses to address objects and hears
about the end of the connection.  `Port` binds its socket synchronously (so
``CannotListenError`` raises at once and ``getHost()`` works before ``run()``) and then hands
the socket to ``loop.create_server``; `Connector` runs one connection attempt as a task.

Reading flow control: ``pauseProducing``/``resumeProducing`` are the loop's
``pause_reading``/``resume_reading``.  uvloop starts reading only after ``connection_made``
returns, so a pause made in ``connectionMade`` would be lost there: the connection then
re-applies it on the next iteration and keeps what is read meanwhile (`_EarlyReads`) for
resume.

TLS: connections of TLS ports and connectors, and any connection once ``startTLS`` is called,
are `TLSConnection` (``TLS = True``, ``getPeerCertificate``: ISSLTransport); plain ones are
`Connection` (``TLS = False``), so ``transport.TLS`` or ``isinstance(t, ISSLTransport)`` tells
them apart.

Backpressure: a streaming producer is paused and resumed by the loop's
``pause_writing``/``resume_writing``.  A pull producer is asked for more each time the write
buffer drains: while one is registered the high-water mark is 0, so any buffered byte pauses
writing and the drained buffer resumes it; a write that went straight to the socket asks for
more on the next loop iteration.
"""

from __future__ import annotations

import asyncio
import asyncio.selector_events
import os
import socket
import ssl
from collections.abc import Callable, Coroutine, Iterable
from operator import attrgetter
from sys import intern
from typing import TYPE_CHECKING, Any

from torsion.internet import error
from torsion.internet.address import IPv4Address, IPv6Address
from torsion.internet.defer import Deferred, succeed
from torsion.logger import Logger
from torsion.python.failure import Failure

__all__ = ["Connection", "Connector", "Port", "TLSConnection", "inetAddress", "startTLSOn"]

_log = Logger()


def _discard(data: bytes) -> None:
    """Drop data that arrives when no protocol wants it (refused or finished connection)."""


def _checkBytes(data: object) -> None:
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, not {type(data).__name__}")


class _ClosedSink:
    """Where writes go once the connection (or its write side) is gone: nowhere, as in Twisted."""

    __slots__ = ()

    def write(self, data: bytes) -> None:
        _checkBytes(data)

    def writelines(self, seq: Iterable[bytes]) -> None:
        pass


_CLOSED = _ClosedSink()

#: The stdlib loop's stream transports (its reader is added after connection_made).
_SelectorTransport: type = asyncio.selector_events._SelectorTransport  # type: ignore[attr-defined]


class _PullSink:
    """Forwards writes while a pull producer is registered, noting that it produced."""

    __slots__ = ("_conn", "wrote")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.wrote = False

    def write(self, data: bytes) -> None:
        self._conn._transport.write(data)
        self.wrote = True

    def writelines(self, seq: Iterable[bytes]) -> None:
        self._conn._transport.writelines(seq)
        self.wrote = True


class _BufferSink:
    """Holds writes made while a STARTTLS handshake runs, to send them encrypted after it."""

    __slots__ = ("pending",)

    def __init__(self) -> None:
        self.pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        _checkBytes(data)
        self.pending.append(bytes(data))

    def writelines(self, seq: Iterable[bytes]) -> None:
        for data in seq:
            self.write(data)


def inetAddress(kind: str, sockaddr: Any) -> IPv4Address | IPv6Address:
    """Convert a socket address tuple into Twisted's IPv4Address or IPv6Address.

    The host string is interned: the loop makes a new one per call, and a connection keeps
    its peer address for its whole life, so many connections from one host then share one
    string instead of 64 bytes each (idle-connection memory is a measured target).  An
    interned string still goes away with its last user.
    """
    if len(sockaddr) == 4:
        host, port, flow, scope = sockaddr
        return IPv6Address(kind, intern(host), port, flow, scope)  # type: ignore[arg-type]
    return IPv4Address(kind, intern(sockaddr[0]), sockaddr[1])  # type: ignore[arg-type]


def _logPrefixOf(obj: object) -> str:
    """Return obj.logPrefix() if it has one, else its class name (Twisted's rule)."""
    prefix = getattr(obj, "logPrefix", None)
    if callable(prefix):
        return str(prefix())
    return type(obj).__name__


# Connection._flags bits: the connection's state as data.
_CONNECTED = 1  # the protocol is attached and the connection not yet lost
_DISCONNECTING = 2  # loseConnection() (or abortConnection()) was called
_ABORTED = 4
_READ_LOST = 8  # the peer sent EOF
_WRITE_LOST = 16  # loseWriteConnection() was called
_TLS_PENDING = 32  # a STARTTLS handshake is running
_LOST = 64  # connection_lost has run
_STREAMING = 128  # the registered producer is a streaming (push) one
_WRITE_PAUSED = 256  # the loop asked us to stop writing (buffer above high-water)
_READ_PAUSED = 512  # pauseProducing() is in force (the user asked us to stop reading)


class _EarlyReads:
    """Holds what an engine delivers after a pause made in connectionMade, until resume.

    uvloop starts reading only after ``connection_made`` returns, so a ``pause_reading``
    made inside it is a no-op (upstream behaviour).  The connection re-applies the pause on
    the next loop iteration; bytes read in between land here instead of in the paused
    protocol, with an EOF seen meanwhile.  Only such connections ever have one.
    """

    __slots__ = ("chunks", "eof")

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.eof = False

    def data_received(self, data: bytes) -> None:
        self.chunks.append(data)


class Connection(asyncio.Protocol):
    """One stream connection: the loop's protocol and the user's ITCPTransport at once.

    Kept small (eight ``__slots__``, no bound methods stored) because idle-connection
    memory is a measured target.  ``write``/``writeSequence`` are C-level properties
    (``operator.attrgetter``) that return the write method of ``_sink``: the loop
    transport itself while connected, so a write runs no Python frame of torsion's.
    """

    __slots__ = (
        "data_received",
        "protocol",
        "_transport",
        "_sink",
        "_owner",
        "_peer",
        "_producer",
        "_flags",
    )

    #: Whether this connection runs over TLS (Twisted's ``transport.TLS`` attribute): a
    #: class attribute, so reading it costs nothing.  TLS connections are `TLSConnection`.
    TLS = False

    # Kept as class attributes for code that reads them from the class.
    _ABORTED = _ABORTED
    _TLS_PENDING = _TLS_PENDING
    _LOST = _LOST

    write = property(
        attrgetter("_sink.write"), doc="Send bytes (the loop transport's own write)."
    )
    writeSequence = property(
        attrgetter("_sink.writelines"),
        doc="Send a sequence of bytes (the loop transport's own writelines).",
    )

    def __init__(self, owner: Any) -> None:
        self._owner = owner
        self.protocol: Any = None
        self._transport: Any = None
        self._sink: Any = _CLOSED
        self._peer: Any = None
        self._producer: Any = None
        self._flags = 0
        self.data_received = _discard  # type: ignore[method-assign]

    @property
    def connected(self) -> bool:
        """True while the protocol is attached and the connection is up (Twisted's flag)."""
        return bool(self._flags & _CONNECTED)

    @property
    def disconnecting(self) -> bool:
        """True once loseConnection() or abortConnection() was called."""
        return bool(self._flags & _DISCONNECTING)

    @property
    def disconnected(self) -> bool:
        """True once the connection is gone."""
        return bool(self._flags & _LOST)

    # -- asyncio.Protocol side ------------------------------------------------------------

    def connection_made(self, transport: Any) -> None:
        """Build the user's protocol for this connection and bind the hot path to it."""
        self._transport = transport
        owner = self._owner
        try:
            self._peer = owner._address(transport.get_extra_info("peername"))
            protocol = owner._buildProtocol(self._peer, self)
        except BaseException:
            _log.failure("Unhandled error building a protocol for {peer}", peer=self._peer)
            transport.abort()
            return
        if protocol is None:
            transport.close()
            return
        self._attach(protocol)

    def _attach(self, protocol: Any) -> None:
        """Make ``protocol`` this connection's protocol and call its makeConnection."""
        transport = self._transport
        self._flags |= _CONNECTED
        self._sink = transport
        self._setProtocol(protocol)
        self._owner._reactor._openTransports[self] = None
        # uvloop starts reading only once connection_made returns (not reading yet here);
        # the stdlib loop starts it then too, and some 3.11 releases even if paused
        # meanwhile: a pause made in connectionMade is re-applied on either.
        readingAlready = transport.is_reading() and not isinstance(transport, _SelectorTransport)
        try:
            protocol.makeConnection(self)
            handshakeCompleted = getattr(protocol, "handshakeCompleted", None)
            if handshakeCompleted is not None and transport.get_extra_info("ssl_object"):
                handshakeCompleted()  # IHandshakeListener: the loop finished TLS first
        except BaseException:
            _log.failure("Unhandled error in {protocol}.connectionMade", protocol=protocol)
            self.abortConnection()
            return
        if self._flags & _READ_PAUSED and not readingAlready and self._flags & _CONNECTED:
            self._holdEarlyReads()
        self._owner._connected(self)

    def _holdEarlyReads(self) -> None:
        """Make a pause made in connectionMade hold on an engine that reads right after it.

        Bytes that arrive before the pause can be re-applied (next loop iteration) are
        kept and delivered on resumeProducing; the normal path is untouched.
        """
        early = _EarlyReads()
        self.data_received = early.data_received  # type: ignore[method-assign]
        self._transport.set_protocol(self)
        self._owner._reactor._loop.call_soon(self._reapplyPause)

    def _earlyReads(self) -> _EarlyReads | None:
        """Return the holder of early reads if this connection has one in place."""
        holder = getattr(self.data_received, "__self__", None)
        return holder if isinstance(holder, _EarlyReads) else None

    def _reapplyPause(self) -> None:
        """Pause reading now that the engine has started it, if still wanted."""
        if self._flags & _READ_PAUSED and self._flags & _CONNECTED:
            transport = self._transport
            if not transport.is_reading():
                # Paused by its own flag, yet maybe reading (the stdlib loop of some 3.11
                # releases adds its reader regardless): resume first, then pause for real.
                transport.resume_reading()
            transport.pause_reading()

    def setProtocol(self, protocol: Any) -> None:
        """Hand this connection to ``protocol``: further data goes to its dataReceived.

        A torsion extension (Twisted has no public equivalent) for protocol upgrades such
        as an HTTP server switching to WebSocket: the loop then calls
        ``protocol.dataReceived`` directly, with no frame of the old protocol in between.
        ``transport.protocol`` becomes ``protocol``; connectionLost and other events go to
        it from now on.  The caller calls ``protocol.makeConnection(transport)`` itself if
        the new protocol needs it, as after Twisted's own protocol switches.
        """
        self.protocol = protocol
        if self._earlyReads() is not None:
            return  # still paused from connectionMade; resumeProducing switches over
        self.data_received = protocol.dataReceived  # type: ignore[method-assign]
        if not self._flags & _LOST:
            self._transport.set_protocol(self)

    _setProtocol = setProtocol

    def eof_received(self) -> bool:
        """Tell a half-closeable protocol the read side ended; close any other connection.

        Returning True keeps the write side open (IHalfCloseableProtocol); False lets the
        loop close the connection, which then ends with ConnectionDone.
        """
        early = self._earlyReads()
        if early is not None:
            early.eof = True  # told once the paused protocol resumes
            return True
        self._flags |= _READ_LOST
        readConnectionLost = getattr(self.protocol, "readConnectionLost", None)
        if readConnectionLost is None or self._flags & _WRITE_LOST:
            return False
        try:
            readConnectionLost()
        except BaseException:
            _log.failure("Unhandled error in readConnectionLost")
            self.abortConnection()
        return True

    def connection_lost(self, exc: BaseException | None) -> None:
        """Tell the protocol and the owner how the connection ended, exactly once."""
        if self._flags & _LOST:
            return
        self._flags = (self._flags | _LOST) & ~_CONNECTED
        self.data_received = _discard  # type: ignore[method-assign]
        self._sink = _CLOSED
        self._owner._reactor._openTransports.pop(self, None)
        protocol = self.protocol
        if protocol is None:
            return
        producer = self._producer
        if producer is not None:
            self._producer = None
            try:
                producer.stopProducing()
            except BaseException:
                _log.failure("Unhandled error stopping producer {producer}", producer=producer)
        reason = self._reasonFor(exc)
        try:
            protocol.connectionLost(reason)
        except BaseException:
            _log.failure("Unhandled error in {protocol}.connectionLost", protocol=protocol)
        self._owner._connectionLost(self, reason)

    def _reasonFor(self, exc: BaseException | None) -> Failure:
        """Map the loop's close cause to Twisted's ConnectionDone/Lost/Aborted reasons.

        A TLS error or an exception raised by user code (the loop closes the connection
        when ``dataReceived`` raises) is passed on as itself, with its traceback.
        """
        if self._flags & _ABORTED:
            return Failure(error.ConnectionAborted())
        if exc is None:
            return Failure(error.ConnectionDone())
        if isinstance(exc, OSError) and not isinstance(exc, ssl.SSLError):
            return Failure(error.ConnectionLost(str(exc) or type(exc).__name__))
        return Failure(exc, type(exc), exc.__traceback__)

    def pause_writing(self) -> None:
        """The loop's write buffer passed its high-water mark: pause a streaming producer."""
        self._flags |= _WRITE_PAUSED
        producer = self._producer
        if producer is not None and self._flags & _STREAMING:
            producer.pauseProducing()

    def resume_writing(self) -> None:
        """The write buffer drained: resume a streaming producer or pull from a pull one."""
        self._flags &= ~_WRITE_PAUSED
        producer = self._producer
        if producer is None:
            return
        if self._flags & _STREAMING:
            producer.resumeProducing()
        else:
            self._pull()

    # -- ITransport / ITCPTransport side -------------------------------------------------------

    def loseConnection(self) -> None:
        """Close the connection once buffered writes are sent (and a pull producer is done)."""
        flags = self._flags
        if not flags & _CONNECTED or flags & _DISCONNECTING:
            return
        self._flags = flags | _DISCONNECTING
        if self._producer is not None and not flags & _STREAMING:
            return  # unregisterProducer() closes, as in Twisted
        if flags & _TLS_PENDING:
            return  # closed once the TLS handshake finishes and buffered data is written
        self._transport.close()

    def abortConnection(self) -> None:
        """Close the connection at once, dropping buffered writes (reason ConnectionAborted)."""
        if self._flags & _LOST or self._transport is None:
            return
        self._flags |= _ABORTED | _DISCONNECTING
        self._transport.abort()

    def loseWriteConnection(self) -> None:
        """Half-close: send EOF after buffered data but keep reading (RFC 9293 §3.6)."""
        if not self._flags & _CONNECTED or self._flags & _WRITE_LOST:
            return
        if not self._transport.can_write_eof():
            raise NotImplementedError("this transport (TLS) cannot half-close; use loseConnection")
        self._flags |= _WRITE_LOST
        if self._flags & _READ_LOST:
            self.loseConnection()
            return
        self._transport.write_eof()
        self._sink = _CLOSED
        writeConnectionLost = getattr(self.protocol, "writeConnectionLost", None)
        if writeConnectionLost is not None:
            try:
                writeConnectionLost()
            except BaseException:
                _log.failure("Unhandled error in writeConnectionLost")

    def getPeer(self) -> Any:
        """Return the remote address (IPv4Address, IPv6Address or UNIXAddress)."""
        return self._peer

    def getHost(self) -> Any:
        """Return the local address (IPv4Address, IPv6Address or UNIXAddress)."""
        return self._owner._address(self._transport.get_extra_info("sockname"))

    def getHandle(self) -> Any:
        """Return the underlying socket (the loop's socket-like object)."""
        return self._transport.get_extra_info("socket")

    def _sockopt(self, level: int, option: int, value: int | None = None) -> int:
        """Get (value None) or set a socket option on the connection's socket."""
        sock = self._transport.get_extra_info("socket")
        if value is None:
            return int(sock.getsockopt(level, option))
        sock.setsockopt(level, option, value)
        return value

    def setTcpNoDelay(self, enabled: bool) -> None:
        """Turn Nagle's algorithm off (True) or on (False)."""
        self._sockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(bool(enabled)))

    def getTcpNoDelay(self) -> bool:
        """Tell whether Nagle's algorithm is off (TCP_NODELAY)."""
        return bool(self._sockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    def setTcpKeepAlive(self, enabled: bool) -> None:
        """Turn TCP keepalive probes on or off (SO_KEEPALIVE)."""
        self._sockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, int(bool(enabled)))

    def getTcpKeepAlive(self) -> bool:
        """Tell whether TCP keepalive probes are on."""
        return bool(self._sockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE))

    def logPrefix(self) -> str:
        """Return the protocol's class name, used as the log prefix for this connection."""
        return type(self.protocol).__name__ if self.protocol is not None else "-"

    @property
    def connector(self) -> Any:
        """The Connector that made this client connection (None on the server side)."""
        return self._owner if isinstance(self._owner, Connector) else None

    # -- IProducer (the connection as a producer of received data) --------------------

    def pauseProducing(self) -> None:
        """Stop reading from the socket until resumeProducing (flow control upstream).

        Also holds when called from connectionMade on uvloop (see `_EarlyReads`).
        """
        if self._flags & _CONNECTED:
            self._flags |= _READ_PAUSED
            self._transport.pause_reading()

    def resumeProducing(self) -> None:
        """Read from the socket again, first delivering anything held while paused."""
        if not self._flags & _CONNECTED:
            return
        self._flags &= ~_READ_PAUSED
        early = self._earlyReads()
        if early is not None:
            self._releaseEarlyReads(early)
        if self._flags & _CONNECTED and not self._flags & _READ_PAUSED:
            self._transport.resume_reading()

    def _releaseEarlyReads(self, early: _EarlyReads) -> None:
        """Switch reads back to the protocol and give it what was held, then any EOF."""
        protocol = self.protocol
        self.data_received = protocol.dataReceived  # type: ignore[method-assign]
        self._transport.set_protocol(self)
        try:
            if early.chunks:
                protocol.dataReceived(b"".join(early.chunks))
        except BaseException:
            _log.failure("Unhandled error in {protocol}.dataReceived", protocol=protocol)
            self.abortConnection()
            return
        if early.eof and self._flags & _CONNECTED and not self.eof_received():
            self._transport.close()

    def stopProducing(self) -> None:
        """Stop for good: close the connection (Twisted's FileDescriptor semantics)."""
        self.loseConnection()

    # -- IConsumer (the connection as a consumer of a producer's data) -------------------

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        """Let ``producer`` write to this connection under the loop's flow control.

        A streaming (push) producer is paused when the write buffer passes its high-water
        mark and resumed when it drains; a pull producer's resumeProducing is called each
        time the buffer is empty.
        """
        if self._producer is not None:
            raise RuntimeError(
                f"Cannot register producer {producer!r}, because producer "
                f"{self._producer!r} was never unregistered."
            )
        if not self._flags & _CONNECTED:
            producer.stopProducing()
            return
        self._producer = producer
        if streaming:
            self._flags |= _STREAMING
            if self._flags & _WRITE_PAUSED:
                producer.pauseProducing()
            return
        self._flags &= ~_STREAMING
        self._transport.set_write_buffer_limits(high=0)
        if not self._flags & _TLS_PENDING:
            self._sink = _PullSink(self)
            self._pull()

    def unregisterProducer(self) -> None:
        """Forget the producer; close now if loseConnection was waiting for it."""
        producer, self._producer = self._producer, None
        if producer is None or not self._flags & _CONNECTED:
            return
        if not self._flags & _STREAMING:
            self._transport.set_write_buffer_limits()
            if isinstance(self._sink, _PullSink):
                self._sink = self._transport
        if self._flags & _DISCONNECTING and not self._flags & _TLS_PENDING:
            self._transport.close()

    def _pull(self) -> None:
        """Ask the pull producer for more; again next iteration if it all went out at once."""
        producer = self._producer
        sink = self._sink
        if producer is None or not isinstance(sink, _PullSink):
            return
        sink.wrote = False
        producer.resumeProducing()
        if (
            self._producer is producer
            and sink.wrote
            and self._flags & _CONNECTED
            and not self._flags & _WRITE_PAUSED
            and self._transport.get_write_buffer_size() == 0
        ):
            self._owner._reactor._loop.call_soon(self._pull)

    # -- TLS ------------------------------------------------------------------------------------

    def startTLS(self, contextFactory: Any, normal: bool = True) -> None:
        """Upgrade this live connection to TLS (STARTTLS), keeping writes made meanwhile.

        ``normal`` True means this side plays its natural role (server side for accepted
        connections, client side for outgoing ones); False swaps the roles.
        """
        startTLSOn(self, contextFactory, normal)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.logPrefix()} peer={self._peer}>"


class TLSConnection(Connection):
    """A connection running over TLS: provides ISSLTransport (getPeerCertificate).

    Connections of TLS ports and connectors are made of this class; a plain connection
    becomes one when startTLS is called (as Twisted marks it ISSLTransport then), so
    ``isinstance(transport, ISSLTransport)`` and ``transport.TLS`` tell TLS from plain TCP.
    """

    __slots__ = ()

    TLS = True

    def getPeerCertificate(self) -> Any:
        """Return the peer's TLS certificate as a torsion.internet.ssl.Certificate, or None."""
        from torsion.internet.ssl import Certificate

        sslObject = self._transport.get_extra_info("ssl_object")
        if sslObject is None:
            return None
        der = sslObject.getpeercert(binary_form=True)
        return None if der is None else Certificate.loadDER(der)

    @property
    def negotiatedProtocol(self) -> bytes | None:
        """The ALPN protocol agreed in the TLS handshake (RFC 7301), or None."""
        sslObject = self._transport.get_extra_info("ssl_object") if self._transport else None
        chosen = sslObject.selected_alpn_protocol() if sslObject is not None else None
        return chosen.encode("ascii") if chosen else None


#: How `startTLSOn` gets the TLS transport: ``establish(context, serverSide, hostname)``.
_Establish = Callable[[ssl.SSLContext, bool, "str | None"], Coroutine[Any, Any, Any]]


def startTLSOn(conn: Connection, contextFactory: Any, normal: bool,
               establish: _Establish | None = None) -> None:
    """Run the TLS handshake over ``conn``'s loop transport and swap the transport in.

    Writes made before the handshake completes are buffered and sent encrypted after it,
    in order; a handshake failure ends the connection with the TLS error as reason.
    ``establish``, when given, replaces the loop's ``start_tls`` on the current transport:
    a transport that is not the loop's (UNIX descriptor passing) hands its socket back
    to the loop and returns the TLS transport, whose protocol is ``conn``.
    """
    if not conn._flags & _CONNECTED or conn._flags & _TLS_PENDING:
        raise RuntimeError("startTLS on a connection that is closed or already starting TLS")
    serverSide = conn._owner._isServer == bool(normal)
    context = contextFactory.getContext()
    hostname = None if serverSide else getattr(contextFactory, "_hostname", None)
    if not serverSide and hostname is None and context.check_hostname:
        raise ValueError("startTLS as a client with hostname checking needs a hostname")
    old = conn._transport
    loop = conn._owner._reactor._loop
    conn.__class__ = TLSConnection  # ISSLTransport from now on, as in Twisted
    # From now on every incoming byte belongs to TLS: stop reading until start_tls has put
    # its TLS protocol in place (it resumes reading itself).
    old.pause_reading()
    buffer = _BufferSink()
    conn._flags |= _TLS_PENDING
    conn._sink = buffer

    async def upgrade() -> None:
        try:
            if establish is None:
                new = await loop.start_tls(
                    old, conn, context, server_side=serverSide, server_hostname=hostname
                )
            else:
                new = await establish(context, serverSide, hostname)
        except BaseException as exc:
            conn._flags &= ~_TLS_PENDING
            old.abort()
            conn.connection_lost(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        conn._flags &= ~_TLS_PENDING
        if new is None or conn._flags & _LOST:
            return
        conn._transport = new
        pull = conn._producer is not None and not conn._flags & _STREAMING
        if conn._flags & _WRITE_LOST:
            conn._sink = _CLOSED
        else:
            conn._sink = _PullSink(conn) if pull else new
        if buffer.pending:
            new.writelines(buffer.pending)
        if conn._flags & _DISCONNECTING and not pull:
            new.close()
        handshakeCompleted = getattr(conn.protocol, "handshakeCompleted", None)
        if handshakeCompleted is not None:
            try:
                handshakeCompleted()
            except BaseException:
                _log.failure("Unhandled error in handshakeCompleted")
                conn.abortConnection()
        if pull:
            conn._pull()

    loop.create_task(upgrade())


class Port:
    """A listening stream socket (Twisted's IListeningPort) on the reactor's loop.

    Subclasses say which socket to make (`_makeSocket`), how to serve it
    (`_createServer`) and how addresses look (`_address`).
    """

    _isServer = True
    _kind = "TCP"
    #: The class of accepted connections (TLSConnection on TLS ports).
    _connectionClass: type[Connection] = Connection

    def __init__(self, reactor: Any, factory: Any, backlog: int) -> None:
        self._reactor = reactor
        self.factory = factory
        self.backlog = backlog
        self.connected = False
        self._socket: socket.socket | None = None
        self._server: asyncio.AbstractServer | None = None
        self._task: asyncio.Task[None] | None = None
        self._serveStarted = False
        self._closing = False
        self._stopDeferreds: list[Deferred[None]] = []
        self._realPortNumber: Any = None

    # -- subclass hooks --------------------------------------------------------------------

    def _makeSocket(self) -> socket.socket:
        """Create and bind the listening socket; raise CannotListenError on failure."""
        raise NotImplementedError

    async def _createServer(self, sock: socket.socket) -> asyncio.AbstractServer:
        """Hand the bound socket to the loop's server machinery."""
        raise NotImplementedError

    def _address(self, sockaddr: Any) -> Any:
        """Turn a socket address into an address object."""
        raise NotImplementedError

    def _portText(self) -> str:
        """The port as Twisted's "starting on" line shows it."""
        return str(self._realPortNumber)

    def _closedMessage(self) -> str:
        """Twisted's log line for a closed port."""
        return f"({self._kind} Port {self._realPortNumber} Closed)"

    def _cleanUp(self) -> None:
        """Release anything outside the socket once closed (UNIX paths, lock files)."""

    # -- connection owner interface -------------------------------------------------------

    def _buildProtocol(self, addr: Any, conn: Connection) -> Any:
        return self.factory.buildProtocol(addr)

    def _connected(self, conn: Connection) -> None:
        pass

    def _connectionLost(self, conn: Connection, reason: Failure) -> None:
        pass

    def _newConnection(self) -> Connection:
        return self._connectionClass(self)

    # -- IListeningPort ---------------------------------------------------------------------

    def startListening(self) -> None:
        """Bind and listen now; serve connections once the reactor runs."""
        if self.connected:
            raise error.AlreadyListened(f"{self!r} is already listening")
        sock = self._makeSocket()
        try:
            sock.listen(self.backlog)
        except OSError as exc:
            sock.close()
            raise error.CannotListenError(self._interfaceName(), self._portName(), exc) from exc
        sock.setblocking(False)
        self._socket = sock
        self._realPortNumber = self._portNumberOf(sock)
        _log.info(
            "{prefix} starting on {port}",
            prefix=_logPrefixOf(self.factory),
            port=self._portText(),
        )
        self.factory.doStart()
        self.connected = True
        self._closing = False
        self._serveStarted = False
        self._reactor._openPorts.add(self)
        self._task = self._reactor._loop.create_task(self._serve(sock))

    def _interfaceName(self) -> str:
        return ""

    def _portName(self) -> Any:
        return self._realPortNumber

    def _portNumberOf(self, sock: socket.socket) -> Any:
        return sock.getsockname()[1]

    async def _serve(self, sock: socket.socket) -> None:
        self._serveStarted = True
        try:
            server = await self._createServer(sock)
        except BaseException:
            _log.failure("Could not serve {port}", port=self)
            sock.close()
            self._closed()
            return
        self._server = server
        if self._closing:
            server.close()
            self._reactor._loop.call_soon(self._closed)

    def stopListening(self) -> Deferred[None]:
        """Stop accepting connections; the Deferred fires once the socket is closed.

        Connections already accepted stay open.
        """
        if not self.connected:
            return succeed(None)
        self.connected = False
        self._closing = True
        d: Deferred[None] = Deferred()
        self._stopDeferreds.append(d)
        if self._server is not None:
            self._server.close()
            self._reactor._loop.call_soon(self._closed)
        elif not self._serveStarted and self._task is not None:
            self._task.cancel()
            if self._socket is not None:
                self._socket.close()
            self._closed()
        return d

    loseConnection = stopListening

    def _closed(self) -> None:
        """Log the close, stop the factory and fire the stopListening Deferreds."""
        self.connected = False
        self._server = None
        self._task = None
        self._socket = None
        self._reactor._openPorts.discard(self)
        self._cleanUp()
        _log.info(self._closedMessage().replace("{", "{{").replace("}", "}}"))
        try:
            self.factory.doStop()
        except BaseException:
            _log.failure("Unhandled error stopping factory {factory}", factory=self.factory)
        deferreds, self._stopDeferreds = self._stopDeferreds, []
        for d in deferreds:
            d.callback(None)

    def getHost(self) -> Any:
        """Return the address the port is bound to (with the real port number if 0 was asked)."""
        if self._socket is not None:
            return self._address(self._socket.getsockname())
        raise error.NotListeningError(f"{self!r} is not listening")

    def logPrefix(self) -> str:
        """Return the factory's log prefix."""
        return _logPrefixOf(self.factory)

    def __repr__(self) -> str:
        state = "" if self.connected else "not listening "
        return f"<{_logPrefixOf(self.factory)} on {self._realPortNumber!r} {state}({self._kind})>"


class Connector:
    """An outgoing connection attempt that can be retried (Twisted's IConnector).

    ``state`` is "disconnected", "connecting" or "connected".  The factory's doStart runs
    before the first attempt and doStop once the connector ends up disconnected without the
    factory asking for another attempt from clientConnectionFailed/Lost.
    """

    _isServer = False
    _kind = "TCP"
    #: The class of the connections made (TLSConnection for TLS connectors).
    _connectionClass: type[Connection] = Connection

    def __init__(self, reactor: Any, factory: Any, timeout: float | None) -> None:
        self._reactor = reactor
        self.factory = factory
        self.timeout = timeout
        self.state = "disconnected"
        self.transport: Connection | None = None
        self._factoryStarted = False
        self._task: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None

    # -- subclass hooks ---------------------------------------------------------------------

    async def _open(self, conn: Connection) -> None:
        """Connect a socket and hand it to the loop with ``conn`` as its protocol."""
        raise NotImplementedError

    def _address(self, sockaddr: Any) -> Any:
        raise NotImplementedError

    def getDestination(self) -> Any:
        """Return the address this connector connects to."""
        raise NotImplementedError

    # -- IConnector -----------------------------------------------------------------------------

    def connect(self) -> None:
        """Start a connection attempt (also used by the factory to retry)."""
        if self.state != "disconnected":
            raise RuntimeError("can't connect in this state")
        self.state = "connecting"
        if not self._factoryStarted:
            self.factory.doStart()
            self._factoryStarted = True
        conn = self._connectionClass(self)
        self.transport = conn
        loop = self._reactor._loop
        self._task = loop.create_task(self._attempt(conn))
        if self.timeout is not None:
            self._timer = loop.call_later(self.timeout, self._timedOut)
        self.factory.startedConnecting(self)

    def stopConnecting(self) -> None:
        """Abandon the attempt in progress; the factory sees UserError."""
        if self.state != "connecting":
            raise error.NotConnectingError("we're not trying to connect")
        self._cancel(error.UserError())

    def disconnect(self) -> None:
        """Stop connecting, or close the connection if connected."""
        if self.state == "connecting":
            self.stopConnecting()
        elif self.state == "connected" and self.transport is not None:
            self.transport.loseConnection()

    def _timedOut(self) -> None:
        self._timer = None
        if self.state == "connecting":
            self._cancel(error.TimeoutError())

    def _cancel(self, reason: error.ConnectError) -> None:
        """Fail the attempt now (as Twisted does, synchronously) and tear down its pieces."""
        conn = self.transport
        task = self._task
        self._failed(reason)
        if task is not None and not task.done():
            task.cancel()
        if conn is not None and conn._transport is not None and not conn.connected:
            conn._transport.abort()

    def _cancelTimer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def _attempt(self, conn: Connection) -> None:
        """Run one connection attempt; outcomes of an abandoned attempt are ignored."""
        try:
            await self._open(conn)
        except asyncio.CancelledError:
            pass
        except (error.ConnectError, error.DNSLookupError, ssl.SSLError) as exc:
            self._failIfCurrent(conn, exc)
        except OSError as exc:
            self._failIfCurrent(conn, error.getConnectError(exc))
        except BaseException as exc:
            self._failIfCurrent(conn, exc)

    def _failIfCurrent(self, conn: Connection, reason: BaseException) -> None:
        if self.transport is conn and self.state == "connecting":
            self._failed(reason)

    # -- connection owner interface ---------------------------------------------------------

    def buildProtocol(self, addr: Any) -> Any:
        """The attempt succeeded: ask the factory for a protocol (Twisted's BaseConnector)."""
        self.state = "connected"
        self._cancelTimer()
        return self.factory.buildProtocol(addr)

    def _buildProtocol(self, addr: Any, conn: Connection) -> Any:
        if self.state != "connecting" or self.transport is not conn:
            return None
        protocol = self.buildProtocol(addr)
        if protocol is None:
            from torsion.internet.protocol import Protocol

            self.state = "connected"
            protocol = Protocol()
            self._reactor._loop.call_soon(self._refuse)
        return protocol

    def _refuse(self) -> None:
        if self.transport is not None:
            self.transport.loseConnection()

    def _connected(self, conn: Connection) -> None:
        pass

    def _failed(self, reason: BaseException) -> None:
        """The attempt failed: tell the factory; stop it unless it tries again."""
        if self.state != "connecting":
            return
        self._cancelTimer()
        self.state = "disconnected"
        self.transport = None
        self._task = None
        try:
            self.factory.clientConnectionFailed(self, Failure(reason))
        except BaseException:
            _log.failure("Unhandled error in clientConnectionFailed")
        self._stopFactoryIfIdle()

    def _connectionLost(self, conn: Connection, reason: Failure) -> None:
        if self.transport is not conn:
            return
        self.state = "disconnected"
        self.transport = None
        try:
            self.factory.clientConnectionLost(self, reason)
        except BaseException:
            _log.failure("Unhandled error in clientConnectionLost")
        self._stopFactoryIfIdle()

    def _stopFactoryIfIdle(self) -> None:
        if self.state == "disconnected" and self._factoryStarted:
            self._factoryStarted = False
            try:
                self.factory.doStop()
            except BaseException:
                _log.failure("Unhandled error stopping factory {factory}", factory=self.factory)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} instance at 0x{id(self):x} {self.state}>"


def _isIPv6(host: str) -> bool:
    """Tell whether ``host`` is an IPv6 literal (Twisted's rule for picking the family)."""
    try:
        socket.inet_pton(socket.AF_INET6, host.split("%", 1)[0])
    except (OSError, ValueError):
        return False
    return True


def _bindSocket(
    family: int,
    kind: int,
    interface: str,
    port: int,
    configure: Callable[[socket.socket], None],
) -> socket.socket:
    """Make a socket, set its options with ``configure`` and bind it to ``interface``:``port``.

    Shared by TCP and UDP ports: any OSError becomes CannotListenError (the socket closed),
    and an IPv6 interface is resolved numerically so a scope ID (``fe80::1%eth0``) works.
    """
    try:
        sock = socket.socket(family, kind)
    except OSError as exc:
        raise error.CannotListenError(interface, port, exc) from exc
    try:
        configure(sock)
        if family == socket.AF_INET6:
            addr: Any = socket.getaddrinfo(
                interface, port, socket.AF_INET6, kind, 0, socket.AI_NUMERICHOST
            )[0][4]
        else:
            addr = (interface, port)
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        raise error.CannotListenError(interface, port, exc) from exc
    return sock


def _takeAdopted(port: Any, interface: Any, portNumber: Any) -> socket.socket:
    """Hand an adopted port its socket, once: a restarted adopted port has none to reuse.

    Shared by the TCP, UNIX and UDP adopted ports (adoptStreamPort, adoptDatagramPort).
    """
    sock: socket.socket | None = port._adopted
    port._adopted = None
    if sock is None:
        raise error.CannotListenError(interface, portNumber, OSError("already used"))
    return sock


def _startAdopted(port: Any, sock: socket.socket) -> None:
    """Start listening on an adopted port; close our duplicate socket if that fails."""
    try:
        port.startListening()
    except BaseException:
        sock.close()
        raise


def _isAbstractUNIX(path: str | bytes) -> bool:
    """Tell whether a UNIX socket name lives in Linux's abstract namespace (leading NUL)."""
    return path[:1] in ("\0", b"\0")


def _fsPath(path: str | bytes) -> str:
    """Return a socket path as str for os calls."""
    return os.fsdecode(path)


if TYPE_CHECKING:
    from torsion.internet.interfaces import (
        IConnector,
        IConsumer,
        IListeningPort,
        IPushProducer,
        ISSLTransport,
        ISystemHandle,
        ITLSTransport,
    )

    def _conformance(c: Connection, t: TLSConnection, p: Port, k: Connector) -> None:
        """Static check (mypy only): the classes provide Twisted's interfaces."""
        _t: ITLSTransport = c
        _s: ISSLTransport = t
        _h: ISystemHandle = c
        _c: IConsumer = c
        _p: IPushProducer = c
        _l: IListeningPort = p
        _k: IConnector = k
