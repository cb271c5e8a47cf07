"""The reactor's TCP support (IReactorTCP), mixed into torsion.internet._reactor.Reactor.

Listening ports bind synchronously and are served by ``loop.create_server(sock=...)``;
outgoing connections resolve the host name (through the reactor's resolver when it has one),
connect a socket with ``loop.sock_connect`` and hand it to ``loop.create_connection``.  The
connection objects themselves live in torsion.internet._transport.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from typing import Any

from torsion.internet import error
from torsion.internet._transport import (
    Connection,
    Connector,
    Port,
    TLSConnection,
    inetAddress,
)
from torsion.internet.address import IPv4Address, IPv6Address
from torsion.logger import Logger

__all__ = ["TCPConnector", "TCPMixin", "TCPPort", "resolveHost"]

_log = Logger()


def _isIPv6(host: str) -> bool:
    """Tell whether ``host`` is an IPv6 literal (Twisted's rule for picking the family)."""
    try:
        socket.inet_pton(socket.AF_INET6, host.split("%", 1)[0])
    except (OSError, ValueError):
        return False
    return True


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


class _HandshakeLoggingSSLObject(ssl.SSLObject):
    """An SSLObject that logs a failed server handshake before the loop drops the connection.

    The loop's TLS layer closes a connection whose handshake fails without telling anyone
    (no protocol exists yet); this is the one place the failure can be seen.  It costs a
    Python frame per handshake step only, nothing once the connection is established.
    """

    _portText = "?"

    def do_handshake(self) -> None:
        try:
            super().do_handshake()
        except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
            raise
        except ssl.SSLError as exc:
            _log.info(
                "TLS handshake failed on port {port}: {error}", port=self._portText, error=exc
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
        try:
            sock = socket.socket(self._family, socket.SOCK_STREAM)
        except OSError as exc:
            raise error.CannotListenError(self.interface, self.port, exc) from exc
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if self.reusePort:
                _setReusePort(sock)
            if self._family == socket.AF_INET6:
                host = self.interface
                addr: Any = socket.getaddrinfo(
                    host, self.port, socket.AF_INET6, socket.SOCK_STREAM, 0,
                    socket.AI_NUMERICHOST,
                )[0][4]
            else:
                addr = (self.interface, self.port)
            sock.bind(addr)
        except OSError as exc:
            sock.close()
            raise error.CannotListenError(self.interface, self.port, exc) from exc
        return sock

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
                hostname = self._serverHostname
                if hostname is None and self._sslContext.check_hostname:
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


class TCPMixin:
    """Reactor methods for TCP (IReactorTCP); relies on the reactor's _loop."""

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
