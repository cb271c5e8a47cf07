"""The reactor's UDP and multicast support (IReactorUDP, IReactorMulticast).

Theory of operation: the port binds its socket synchronously, calls the protocol's
``makeConnection`` (so ``startProtocol`` may send at once) and hands the socket to
``loop.create_datagram_endpoint`` for reading; for IPv4 the loop calls the protocol's bound
``datagramReceived`` directly when ``maxPacketSize`` is at least the largest datagram (65507),
otherwise through one function that truncates a longer datagram to ``maxPacketSize`` bytes, as
Twisted's ``recvfrom(maxPacketSize)`` does.  Writes go straight to the socket with
``sendto``/``send``, as in Twisted: a datagram is sent whole or not at all, so there is nothing
to buffer, and a socket later connected with ``connect(host, port)`` keeps working.
On a connected socket an ICMP "port unreachable" reaches the protocol as ``connectionRefused()``.
"""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from torsion.internet import error
from torsion.internet._transport import (
    _bindSocket,
    _isIPv6,
    _logPrefixOf,
    _startAdopted,
    _takeAdopted,
    inetAddress,
)
from torsion.internet.defer import Deferred, fail, succeed
from torsion.logger import Logger

__all__ = ["MulticastPort", "UDPMixin", "UDPPort"]

_log = Logger()


# The largest UDP payload: 65535 minus the IPv4 (20) and UDP (8) headers; IPv6 (RFC 8200,
# without jumbograms) has a 40-byte header outside its 65535-byte payload length, leaving 65527.
_MAX_DATAGRAM_IPV4 = 65507
_MAX_DATAGRAM_IPV6 = 65527


def _isIPv4(host: str) -> bool:
    try:
        socket.inet_pton(socket.AF_INET, host)
    except (OSError, ValueError):
        return False
    return True


class _DatagramAdapter(asyncio.DatagramProtocol):
    """The loop's datagram protocol: passes datagrams and ICMP errors to the port."""

    __slots__ = ("datagram_received", "_port")

    def __init__(self, port: UDPPort) -> None:
        self._port = port
        receive = port.protocol.datagramReceived
        size = port.maxPacketSize
        if port._family == socket.AF_INET6:
            if size < _MAX_DATAGRAM_IPV6:

                def receive6(data: bytes, addr: Any, receive: Any = receive) -> None:
                    receive(data[:size], addr[:2])

            else:

                def receive6(data: bytes, addr: Any, receive: Any = receive) -> None:
                    receive(data, addr[:2])

            self.datagram_received = receive6  # type: ignore[method-assign]
        elif size < _MAX_DATAGRAM_IPV4:
            # Twisted reads with recvfrom(maxPacketSize): a longer datagram arrives truncated.
            # The loop reads whole datagrams, so cut here -- only when the limit can bite, so a
            # port opened with the largest size keeps the loop calling the protocol directly.

            def truncate(data: bytes, addr: Any, receive: Any = receive, size: int = size) -> None:
                receive(data[:size], addr)

            self.datagram_received = truncate  # type: ignore[method-assign]
        else:
            self.datagram_received = receive  # type: ignore[method-assign]

    def error_received(self, exc: Exception) -> None:
        """A connected socket got an ICMP error: tell the protocol the peer refused."""
        if isinstance(exc, ConnectionRefusedError) and self._port._connectedAddr is not None:
            self._port._refused()
        else:
            _log.debug("UDP error on {port}: {exc}", port=self._port, exc=exc)

    def connection_lost(self, exc: Exception | None) -> None:
        pass


class UDPPort:
    """A bound UDP socket: the transport of a DatagramProtocol (IUDPTransport)."""

    _kind = "UDP"

    def __init__(
        self,
        reactor: Any,
        port: int,
        protocol: Any,
        interface: str = "",
        maxPacketSize: int = 8192,
    ) -> None:
        self._reactor = reactor
        self.port = port
        self.protocol = protocol
        self.interface = interface
        self.maxPacketSize = maxPacketSize
        self._family = socket.AF_INET6 if _isIPv6(interface) else socket.AF_INET
        self.connected = False
        self.disconnecting = False
        self.socket: socket.socket | None = None
        self._connectedAddr: tuple[str, int] | None = None
        self._loopTransport: asyncio.DatagramTransport | None = None
        self._task: asyncio.Task[None] | None = None
        self._realPortNumber = port
        self._stopDeferreds: list[Deferred[None]] = []

    def _configure(self, sock: socket.socket) -> None:
        """Set options before binding (multicast ports reuse addresses)."""

    def _bind(self) -> socket.socket:
        sock = _bindSocket(
            self._family, socket.SOCK_DGRAM, self.interface, self.port, self._configure
        )
        sock.setblocking(False)
        return sock

    def startListening(self) -> None:
        """Bind now, start the protocol and read datagrams once the reactor runs."""
        sock = self._bind()
        self.socket = sock
        self._realPortNumber = sock.getsockname()[1]
        self.connected = True
        self.disconnecting = False
        _log.info(
            "{prefix} starting on {port}",
            prefix=_logPrefixOf(self.protocol),
            port=self._realPortNumber,
        )
        self._reactor._openPorts.add(self)
        self.protocol.makeConnection(self)
        if self.connected:
            self._task = self._reactor._loop.create_task(self._serve(sock))

    async def _serve(self, sock: socket.socket) -> None:
        try:
            transport, _ = await self._reactor._loop.create_datagram_endpoint(
                lambda: _DatagramAdapter(self), sock=sock
            )
        except BaseException:
            _log.failure("Could not read from {port}", port=self)
            return
        self._loopTransport = transport
        if not self.connected:
            transport.close()

    # -- IUDPTransport --------------------------------------------------------------------------

    def write(self, datagram: bytes, addr: tuple[str, int] | None = None) -> None:
        """Send one datagram to ``addr`` (or to the connected peer when addr is None).

        Raises MessageLengthError for a datagram the network cannot carry; a full send
        buffer drops the datagram, as UDP may.
        """
        sock = self.socket
        if sock is None:
            return
        try:
            if self._connectedAddr is not None:
                if addr is not None and addr != self._connectedAddr:
                    raise ValueError("a connected UDP port writes only to its peer")
                sock.send(datagram)
            else:
                if addr is None:
                    raise ValueError("an unconnected UDP port needs an address to write to")
                sock.sendto(datagram, addr)
        except OSError as exc:
            if exc.errno == errno.EMSGSIZE:
                raise error.MessageLengthError("message too long") from exc
            if exc.errno == errno.ECONNREFUSED:
                self._refused()
            elif exc.errno in (errno.EAGAIN, errno.ENOBUFS):
                pass
            else:
                raise

    def writeSequence(self, seq: Iterable[bytes], addr: tuple[str, int] | None = None) -> None:
        """Send the concatenation of ``seq`` as one datagram."""
        self.write(b"".join(seq), addr)

    def connect(self, host: str, port: int) -> None:
        """Talk to one peer only: writes need no address, and refusals are reported.

        Twisted accepts only IP addresses here (no name lookup), and connecting twice is an
        error.
        """
        if self._connectedAddr is not None:
            raise RuntimeError("already connected, reconnecting is not currently supported")
        if not (_isIPv4(host) or _isIPv6(host)):
            raise error.InvalidAddressError(host, "not an IPv4 or IPv6 address.")
        assert self.socket is not None
        self.socket.connect((host, port))
        self._connectedAddr = (host, port)

    def _refused(self) -> None:
        refused = getattr(self.protocol, "connectionRefused", None)
        if refused is not None:
            try:
                refused()
            except BaseException:
                _log.failure("Unhandled error in connectionRefused")

    def getHost(self) -> Any:
        """Return the bound address (IPv4Address or IPv6Address of type UDP)."""
        if self.socket is None:
            raise error.NotListeningError(f"{self!r} is not listening")
        return inetAddress("UDP", self.socket.getsockname())

    def setBroadcastAllowed(self, enabled: bool) -> None:
        """Allow or forbid sending to broadcast addresses (SO_BROADCAST)."""
        assert self.socket is not None
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, int(bool(enabled)))

    def getBroadcastAllowed(self) -> bool:
        """Tell whether sending to broadcast addresses is allowed."""
        assert self.socket is not None
        return bool(self.socket.getsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST))

    def stopListening(self) -> Deferred[None]:
        """Close the socket, stop the protocol; the Deferred fires once closed."""
        if not self.connected:
            return succeed(None)
        self.connected = False
        self.disconnecting = True
        d: Deferred[None] = Deferred()
        self._stopDeferreds.append(d)
        transport, self._loopTransport = self._loopTransport, None
        if transport is not None:
            transport.close()
        else:
            task = self._task
            if task is not None and not task.done():
                task.cancel()
            if self.socket is not None:
                self.socket.close()
        self._reactor._loop.call_soon(self._closed)
        return d

    loseConnection = stopListening

    def _closed(self) -> None:
        self.socket = None
        self._connectedAddr = None
        self._reactor._openPorts.discard(self)
        _log.info("(UDP Port {port} Closed)", port=self._realPortNumber)
        try:
            self.protocol.doStop()
        except BaseException:
            _log.failure("Unhandled error stopping {protocol}", protocol=self.protocol)
        self.protocol.transport = None
        deferreds, self._stopDeferreds = self._stopDeferreds, []
        for d in deferreds:
            d.callback(None)

    def logPrefix(self) -> str:
        """Return the protocol's log prefix."""
        return _logPrefixOf(self.protocol)

    def __repr__(self) -> str:
        state = "" if self.connected else "not listening "
        return f"<{_logPrefixOf(self.protocol)} on {self._realPortNumber!r} {state}(UDP)>"


class MulticastPort(UDPPort):
    """A UDP port that can join multicast groups (IMulticastTransport), IPv4."""

    def __init__(
        self,
        reactor: Any,
        port: int,
        protocol: Any,
        interface: str = "",
        maxPacketSize: int = 8192,
        listenMultiple: bool = False,
    ) -> None:
        super().__init__(reactor, port, protocol, interface, maxPacketSize)
        self.listenMultiple = listenMultiple

    def _configure(self, sock: socket.socket) -> None:
        if self.listenMultiple:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if hasattr(socket, "SO_REUSEPORT"):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)

    def _sock(self) -> socket.socket:
        if self.socket is None:
            raise error.NotListeningError(f"{self!r} is not listening")
        return self.socket

    def getOutgoingInterface(self) -> str:
        """Return the IPv4 address of the interface multicast datagrams leave from."""
        packed = self._sock().getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, 4)
        return socket.inet_ntoa(packed[:4])

    def setOutgoingInterface(self, addr: str) -> Deferred[int]:
        """Send multicast datagrams from the interface with IPv4 address ``addr``."""
        try:
            self._sock().setsockopt(
                socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(addr)
            )
        except OSError as exc:
            return fail(exc)
        return succeed(1)

    def getLoopbackMode(self) -> bool:
        """Tell whether our own multicast datagrams are looped back to us."""
        return bool(self._sock().getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP))

    def setLoopbackMode(self, mode: bool) -> None:
        """Loop our own multicast datagrams back to local listeners (or not)."""
        self._sock().setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, int(bool(mode)))

    def getTTL(self) -> int:
        """Return the time-to-live of multicast datagrams we send."""
        return int(self._sock().getsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL))

    def setTTL(self, ttl: int) -> None:
        """Set the time-to-live of multicast datagrams we send (1 keeps them on the LAN)."""
        self._sock().setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, ttl)

    def _membership(self, option: int, addr: str, interface: str) -> Deferred[int]:
        try:
            group = socket.inet_aton(addr)
            local = socket.inet_aton(interface or "0.0.0.0")
            self._sock().setsockopt(socket.IPPROTO_IP, option, group + local)
        except OSError as exc:
            return fail(error.MulticastJoinError(addr, interface, exc))
        return succeed(1)

    def joinGroup(self, addr: str, interface: str = "") -> Deferred[int]:
        """Join multicast group ``addr`` on ``interface`` (default: any); MulticastJoinError."""
        return self._membership(socket.IP_ADD_MEMBERSHIP, addr, interface)

    def leaveGroup(self, addr: str, interface: str = "") -> Deferred[int]:
        """Leave multicast group ``addr``."""
        return self._membership(socket.IP_DROP_MEMBERSHIP, addr, interface)


class _AdoptedUDPPort(UDPPort):
    """A UDP port on a socket bound elsewhere (adoptDatagramPort)."""

    def __init__(
        self, reactor: Any, sock: socket.socket, protocol: Any, maxPacketSize: int
    ) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(reactor, port, protocol, host, maxPacketSize)
        self._family = sock.family
        self._adopted: socket.socket | None = sock

    def _bind(self) -> socket.socket:
        return _takeAdopted(self, self.interface, self.port)


class UDPMixin:
    """Reactor methods for UDP and multicast, and adoptDatagramPort (IReactorSocket);
    relies on the reactor's _loop."""

    _loop: asyncio.AbstractEventLoop

    def listenUDP(
        self, port: int, protocol: Any, interface: str = "", maxPacketSize: int = 8192
    ) -> UDPPort:
        """Bind a UDP port for ``protocol`` (a DatagramProtocol); raises CannotListenError."""
        p = UDPPort(self, port, protocol, interface, maxPacketSize)
        p.startListening()
        return p

    def listenMulticast(
        self,
        port: int,
        protocol: Any,
        interface: str = "",
        maxPacketSize: int = 8192,
        listenMultiple: bool = False,
    ) -> MulticastPort:
        """Bind a UDP port that can join multicast groups; ``listenMultiple`` shares the port."""
        p = MulticastPort(self, port, protocol, interface, maxPacketSize, listenMultiple)
        p.startListening()
        return p

    def adoptDatagramPort(
        self, fileDescriptor: int, addressFamily: int, protocol: Any, maxPacketSize: int = 8192
    ) -> UDPPort:
        """Serve ``protocol`` on a bound datagram socket made elsewhere (IReactorSocket).

        The descriptor is duplicated (the caller keeps the original); ``addressFamily`` is
        AF_INET or AF_INET6.
        """
        from torsion.internet._tcp import _adoptSocket

        sock = _adoptSocket(fileDescriptor, addressFamily, socket.SOCK_DGRAM)
        p = _AdoptedUDPPort(self, sock, protocol, maxPacketSize)
        _startAdopted(p, sock)
        return p


if TYPE_CHECKING:
    from torsion.internet.interfaces import IMulticastTransport, IUDPTransport

    def _conformance(u: UDPPort, m: MulticastPort) -> None:
        """Static check (mypy only): the ports provide Twisted's UDP interfaces."""
        _u: IUDPTransport = u
        _m: IMulticastTransport = m
