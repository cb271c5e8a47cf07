"""The reactor's TCP support (IReactorTCP), mixed into torsion.internet._reactor.Reactor.

Listening ports bind synchronously and are served by ``loop.create_server(sock=...)``;
outgoing connections resolve the host name (through the reactor's resolver when it has one),
connect a socket with ``loop.sock_connect`` and hand it to ``loop.create_connection``.  The
connection objects themselves live in torsion.internet._transport.
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import sys
from types import FrameType
from typing import TYPE_CHECKING, Any

from torsion.internet import error
from torsion.internet._transport import (
    Connection,
    Connector,
    Port,
    TLSConnection,
    _bindSocket,
    _isIPv6,
    _startAdopted,
    _takeAdopted,
    inetAddress,
)
from torsion.internet.address import IPv4Address, IPv6Address
from torsion.logger import Logger

__all__ = ["TCPConnector", "TCPMixin", "TCPPort", "resolveHost"]

_log = Logger()


def _numericAddress(host: str, port: int) -> tuple[int, Any] | None:
    """Return (family, sockaddr) for an IP literal without any lookup, else None."""
    try:
        infos = socket.getaddrinfo(
            host, port, 0, socket.SOCK_STREAM, 0, socket.AI_NUMERICHOST | socket.AI_NUMERICSERV
        )
    except (OSError, UnicodeError):
        return None
    family, _, _, _, sockaddr = infos[0]
    return family, sockaddr


async def resolveHost(reactor: Any, host: str, port: int) -> tuple[int, Any]:
    """Resolve ``host`` to (family, sockaddr), preferring IPv4 as Twisted's connectTCP does.

    Goes through the reactor's pluggable ``nameResolver`` when it has one, otherwise the
    loop's getaddrinfo; failure raises DNSLookupError.
    """
    numeric = _numericAddress(host, port)
    if numeric is not None:
        return numeric
    nameResolver = getattr(reactor, "nameResolver", None)
    try:
        if nameResolver is not None:
            from torsion.internet._resolver import resolveAddresses

            found: list[tuple[int, Any]] = await resolveAddresses(nameResolver, host, port)
        else:
            infos = await reactor._loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            found = [(info[0], info[4]) for info in infos]
    except error.DNSLookupError:
        raise
    except (OSError, UnicodeError) as exc:
        raise error.DNSLookupError(host) from exc
    if not found:
        raise error.DNSLookupError(host)
    for family, sockaddr in found:
        if family == socket.AF_INET:
            return family, sockaddr
    return found[0]


def _handshakePeer() -> str | None:
    """Return "host:port" of the peer whose TLS handshake is running, if cheaply known.

    Called only when a handshake fails.  The asyncio engine's TLS layer is Python code
    that calls ``do_handshake`` from a method of its SSLProtocol, which holds the socket
    transport; uvloop's is C with no frame to look at, so there the peer is unknown.
    """
    from asyncio.sslproto import SSLProtocol

    frame: FrameType | None = sys._getframe(2)
    for _ in range(3):
        if frame is None:
            return None
        owner = frame.f_locals.get("self")
        if isinstance(owner, SSLProtocol):
            transport = owner._transport
            sockaddr = transport.get_extra_info("peername") if transport is not None else None
            if not sockaddr or not isinstance(sockaddr, tuple):
                return None
            host = str(sockaddr[0])
            return f"[{host}]:{sockaddr[1]}" if ":" in host else f"{host}:{sockaddr[1]}"
        frame = frame.f_back
    return None


class _HandshakeLoggingSSLObject(ssl.SSLObject):
    """An SSLObject that logs a failed server handshake before the loop drops the connection.

    The loop's TLS layer closes a connection whose handshake fails without telling anyone
    (no protocol exists yet); this is the one place the failure can be seen.  It costs a
    Python frame per handshake step only, nothing once the connection is established.
    The line names the peer where the engine lets it be found cheaply (asyncio).
    """

    _portText = "?"

    def do_handshake(self) -> None:
        try:
            super().do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise
        except ssl.SSLError as exc:
            peer = _handshakePeer()
            if peer is None:
                _log.info(
                    "TLS handshake failed on port {port}: {error}",
                    port=self._portText,
                    error=exc,
                )
            else:
                _log.info(
                    "TLS handshake failed on port {port} from {peer}: {error}",
                    port=self._portText,
                    peer=peer,
                    error=exc,
                )
            raise


def _setReusePort(sock: socket.socket) -> None:
    """Let sibling processes bind the same address (SO_REUSEPORT) to share its connections.

    Where the platform has no SO_REUSEPORT this raises OSError (ENOPROTOOPT), which the
    caller turns into CannotListenError: asking for sharing and silently not getting it
    would make the second process fail later with a less clear error.
    """
    option = getattr(socket, "SO_REUSEPORT", None)
    if option is None:
        import errno

        raise OSError(errno.ENOPROTOOPT, "SO_REUSEPORT is not available on this platform")
    sock.setsockopt(socket.SOL_SOCKET, option, 1)


class TCPPort(Port):
    """A listening TCP port (IPv4, or IPv6 when the interface is an IPv6 literal)."""

    _kind = "TCP"

    def __init__(
        self,
        reactor: Any,
        port: int,
        factory: Any,
        backlog: int = 50,
        interface: str = "",
        sslContext: ssl.SSLContext | None = None,
        reusePort: bool = False,
    ) -> None:
        super().__init__(reactor, factory, backlog)
        self.port = port
        self.interface = interface
        self.reusePort = reusePort
        self._sslContext = sslContext
        if sslContext is not None:
            self._connectionClass = TLSConnection
        self._family = socket.AF_INET6 if _isIPv6(interface) else socket.AF_INET
        self._realPortNumber = port

    def startListening(self) -> None:
        """Bind and listen now; on a TLS port, also log failed handshakes."""
        super().startListening()
        if self._sslContext is not None:
            self._sslContext.sslobject_class = type(
                "_PortSSLObject",
                (_HandshakeLoggingSSLObject,),
                {"_portText": str(self._realPortNumber)},
            )

    def _interfaceName(self) -> str:
        return self.interface

    def _makeSocket(self) -> socket.socket:
        return _bindSocket(
            self._family, socket.SOCK_STREAM, self.interface, self.port, self._configure
        )

    def _configure(self, sock: socket.socket) -> None:
        """Set options before binding: SO_REUSEADDR, and SO_REUSEPORT when asked."""
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if self.reusePort:
            _setReusePort(sock)

    async def _createServer(self, sock: socket.socket) -> asyncio.AbstractServer:
        server: asyncio.AbstractServer = await self._reactor._loop.create_server(
            self._newConnection, sock=sock, backlog=self.backlog, ssl=self._sslContext
        )
        return server

    def _address(self, sockaddr: Any) -> Any:
        return inetAddress("TCP", sockaddr)


class TCPConnector(Connector):
    """Connects to a TCP host and port, optionally from a bound local address."""

    def __init__(
        self,
        reactor: Any,
        host: str,
        port: int,
        factory: Any,
        timeout: float | None = 30,
        bindAddress: tuple[str, int] | None = None,
        sslContext: ssl.SSLContext | None = None,
        serverHostname: str | None = None,
    ) -> None:
        super().__init__(reactor, factory, timeout)
        if isinstance(host, bytes):
            host = host.decode("ascii")
        self.host = host
        self.port = port
        self.bindAddress = bindAddress
        self._sslContext = sslContext
        if sslContext is not None:
            self._connectionClass = TLSConnection
        self._serverHostname = serverHostname

    def getDestination(self) -> Any:
        if _isIPv6(self.host):
            return IPv6Address("TCP", self.host, self.port)
        return IPv4Address("TCP", self.host, self.port)

    def _address(self, sockaddr: Any) -> Any:
        return inetAddress("TCP", sockaddr)

    async def _open(self, conn: Connection) -> None:
        loop = self._reactor._loop
        family, sockaddr = await resolveHost(self._reactor, self.host, self.port)
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            if self.bindAddress is not None:
                try:
                    sock.bind(self.bindAddress)
                except OSError as exc:
                    raise error.ConnectBindError(exc.errno, exc.strerror or "") from exc
            await loop.sock_connect(sock, sockaddr)
            if self._sslContext is not None:
                # The loop needs a server_hostname whenever TLS runs over a connected socket,
                # even with a context that verifies nothing (ClientContextFactory).
                hostname = self._serverHostname
                if hostname is None:
                    hostname = self.host
                await loop.create_connection(
                    lambda: conn, sock=sock, ssl=self._sslContext, server_hostname=hostname
                )
            else:
                await loop.create_connection(lambda: conn, sock=sock)
        except BaseException:
            if conn._transport is None:
                sock.close()
            raise


def _adoptSocket(fileDescriptor: int, addressFamily: int, kind: int) -> socket.socket:
    """Return a non-blocking socket on a duplicate of ``fileDescriptor`` (Twisted's rule:
    the caller keeps, and must close, the original).

    Raises UnsupportedAddressFamily for families other than IPv4, IPv6 and (for streams)
    UNIX, and ValueError if the descriptor is not a socket of type ``kind``.
    """
    allowed: tuple[int, ...] = (socket.AF_INET, socket.AF_INET6)
    if kind == socket.SOCK_STREAM:
        allowed += (socket.AF_UNIX,)
    if addressFamily not in allowed:
        raise error.UnsupportedAddressFamily(addressFamily)
    sock = socket.socket(addressFamily, kind, 0, os.dup(fileDescriptor))
    try:
        if sock.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE) != kind:
            raise ValueError(f"file descriptor {fileDescriptor} is not a socket of type {kind}")
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class _AdoptedTCPPort(TCPPort):
    """A TCP port on a socket that is already bound (and usually listening)."""

    def __init__(self, reactor: Any, sock: socket.socket, factory: Any) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(reactor, port, factory, 50, host)
        self._family = sock.family
        self._adopted: socket.socket | None = sock

    def _makeSocket(self) -> socket.socket:
        return _takeAdopted(self, self.interface, self.port)


class _AdoptedConnectionOwner:
    """Owns a connection adopted with adoptStreamConnection: builds its protocol."""

    _isServer = True

    def __init__(self, reactor: Any, factory: Any, family: int) -> None:
        self._reactor = reactor
        self.factory = factory
        self._family = family

    def _address(self, sockaddr: Any) -> Any:
        if self._family == socket.AF_UNIX:
            from torsion.internet._unix import _unixAddress

            return _unixAddress(sockaddr)
        return inetAddress("TCP", sockaddr)

    def _buildProtocol(self, addr: Any, conn: Connection) -> Any:
        return self.factory.buildProtocol(addr)

    def _connected(self, conn: Connection) -> None:
        pass

    def _connectionLost(self, conn: Connection, reason: Any) -> None:
        pass


class TCPMixin:
    """Reactor methods for TCP (IReactorTCP) and for adopting stream sockets
    (IReactorSocket); relies on the reactor's _loop."""

    _loop: asyncio.AbstractEventLoop

    def listenTCP(
        self,
        port: int,
        factory: Any,
        backlog: int = 50,
        interface: str = "",
        *,
        reusePort: bool = False,
    ) -> TCPPort:
        """Listen on a TCP port; the socket is bound before this returns.

        ``interface`` "" means all IPv4 interfaces; an IPv6 literal such as "::" listens on
        IPv6.  Raises CannotListenError if the address cannot be bound.

        ``reusePort=True`` (a torsion extension) sets SO_REUSEPORT so several processes
        can listen on the same port and the kernel spreads connections among them (e.g.
        ``torsion web --workers N``); every sharer must ask for it.
        """
        p = TCPPort(self, port, factory, backlog, interface, reusePort=reusePort)
        p.startListening()
        return p

    def connectTCP(
        self,
        host: str,
        port: int,
        factory: Any,
        timeout: float = 30,
        bindAddress: tuple[str, int] | None = None,
    ) -> TCPConnector:
        """Connect to a TCP server; the factory hears about success or failure."""
        c = TCPConnector(self, host, port, factory, timeout, bindAddress)
        c.connect()
        return c

    def adoptStreamPort(self, fileDescriptor: int, addressFamily: int, factory: Any) -> Port:
        """Serve ``factory`` on a listening socket made elsewhere (IReactorSocket).

        The descriptor is duplicated: the caller still owns ``fileDescriptor`` and should
        close it.  ``addressFamily`` is AF_INET, AF_INET6 or AF_UNIX (a UNIX socket file
        is not removed when the adopted port stops: it belongs to whoever made it).
        """
        sock = _adoptSocket(fileDescriptor, addressFamily, socket.SOCK_STREAM)
        p: Port
        if addressFamily == socket.AF_UNIX:
            from torsion.internet._unix import _AdoptedUNIXPort

            p = _AdoptedUNIXPort(self, sock, factory)
        else:
            p = _AdoptedTCPPort(self, sock, factory)
        _startAdopted(p, sock)
        return p

    def adoptStreamConnection(
        self, fileDescriptor: int, addressFamily: int, factory: Any
    ) -> None:
        """Take over a connected stream socket made elsewhere (IReactorSocket).

        The descriptor is duplicated (the caller keeps the original); ``factory`` builds
        the protocol with the peer's address once the reactor runs, as for an accepted
        connection.
        """
        sock = _adoptSocket(fileDescriptor, addressFamily, socket.SOCK_STREAM)
        conn = Connection(_AdoptedConnectionOwner(self, factory, addressFamily))
        loop = self._loop

        async def adopt() -> None:
            try:
                await loop.connect_accepted_socket(lambda: conn, sock)
            except BaseException:
                sock.close()
                _log.failure("Could not adopt connection on descriptor {fd}", fd=fileDescriptor)

        loop.create_task(adopt())


if TYPE_CHECKING:
    from torsion.internet._reactor import Reactor
    from torsion.internet.interfaces import IReactorSocket, IReactorTCP

    def _conformance(r: Reactor) -> None:
        """Static check (mypy only): the reactor provides IReactorTCP and IReactorSocket."""
        _t: IReactorTCP = r
        _s: IReactorSocket = r
