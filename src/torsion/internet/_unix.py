"""The reactor's UNIX-domain stream socket support (IReactorUNIX), mixed into the Reactor.

A path whose first character is a NUL byte names a socket in Linux's abstract namespace
(no file is created, none is removed), as in Twisted.  ``wantPID`` keeps a
``<path>.lock`` file holding the listener's PID so a second listener is refused and a stale
socket file left by a dead process is replaced; ``checkPID`` makes a client refuse to connect
to a socket whose lock file does not name a live process.
"""

from __future__ import annotations

import asyncio
import os
import socket
import stat
from typing import Any

from torsion.internet import error
from torsion.internet._transport import (
    Connection,
    Connector,
    Port,
    _fsPath,
    _isAbstractUNIX,
    _takeAdopted,
)
from torsion.internet.address import UNIXAddress

__all__ = ["UNIXConnector", "UNIXMixin", "UNIXPort"]


def _unixAddress(sockaddr: Any) -> UNIXAddress:
    """Turn the loop's view of a UNIX socket name into a UNIXAddress (None when unbound)."""
    if not sockaddr:
        return UNIXAddress(None)
    return UNIXAddress(sockaddr)


def _lockPath(path: str | bytes) -> str:
    return _fsPath(path) + ".lock"


def _lockOwnerAlive(lockPath: str) -> bool:
    """Tell whether the PID recorded in ``lockPath`` is a live process."""
    try:
        pid = int(os.readlink(lockPath))
    except (OSError, ValueError):
        try:
            with open(lockPath) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class UNIXPort(Port):
    """A listening UNIX-domain stream socket."""

    _kind = "UNIX"

    def __init__(
        self,
        reactor: Any,
        address: str | bytes,
        factory: Any,
        backlog: int = 50,
        mode: int = 0o666,
        wantPID: bool = False,
    ) -> None:
        super().__init__(reactor, factory, backlog)
        self.port = address
        self.mode = mode
        self.wantPID = wantPID
        self._realPortNumber = address
        self._ownsLock = False

    def _portText(self) -> str:
        return repr(self.port)

    def _closedMessage(self) -> str:
        return f"(UNIX Port {self.port!r} Closed)"

    def _portNumberOf(self, sock: socket.socket) -> Any:
        return self.port

    def _makeSocket(self) -> socket.socket:
        path = self.port
        abstract = _isAbstractUNIX(path)
        if self.wantPID and not abstract:
            self._takeLock()
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.bind(path)
            if not abstract:
                os.chmod(path, self.mode)
        except OSError as exc:
            sock.close()
            self._releaseLock()
            raise error.CannotListenError(None, _fsPath(path), exc) from exc
        return sock

    def _takeLock(self) -> None:
        """Claim ``<path>.lock`` for this process, removing a dead listener's leftovers."""
        lock = _lockPath(self.port)
        if os.path.lexists(lock):
            if _lockOwnerAlive(lock):
                raise error.CannotListenError(
                    None, _fsPath(self.port), OSError("Cannot acquire lock")
                )
            os.remove(lock)
            try:
                if stat.S_ISSOCK(os.stat(self.port).st_mode):
                    os.remove(self.port)
            except FileNotFoundError:
                pass
        try:
            os.symlink(str(os.getpid()), lock)
        except OSError as exc:
            raise error.CannotListenError(None, _fsPath(self.port), exc) from exc
        self._ownsLock = True

    def _releaseLock(self) -> None:
        if self._ownsLock:
            self._ownsLock = False
            try:
                os.remove(_lockPath(self.port))
            except OSError:
                pass

    def _cleanUp(self) -> None:
        if not _isAbstractUNIX(self.port):
            try:
                os.remove(self.port)
            except OSError:
                pass
        self._releaseLock()

    async def _createServer(self, sock: socket.socket) -> asyncio.AbstractServer:
        server: asyncio.AbstractServer = await self._reactor._loop.create_unix_server(
            self._newConnection, sock=sock, backlog=self.backlog
        )
        return server

    def _address(self, sockaddr: Any) -> Any:
        return _unixAddress(sockaddr)

    def getHost(self) -> Any:
        """Return the UNIXAddress the port listens on."""
        return UNIXAddress(self.port)


class _AdoptedUNIXPort(UNIXPort):
    """A UNIX port on a socket bound elsewhere; its socket file is left alone on close."""

    def __init__(self, reactor: Any, sock: socket.socket, factory: Any) -> None:
        super().__init__(reactor, sock.getsockname(), factory)
        self._adopted: socket.socket | None = sock

    def _makeSocket(self) -> socket.socket:
        return _takeAdopted(self, None, _fsPath(self.port))

    def _cleanUp(self) -> None:
        pass


class UNIXConnector(Connector):
    """Connects to a UNIX-domain stream socket."""

    _kind = "UNIX"

    def __init__(
        self,
        reactor: Any,
        address: str | bytes,
        factory: Any,
        timeout: float | None = 30,
        checkPID: bool = False,
    ) -> None:
        super().__init__(reactor, factory, timeout)
        self.address = address
        self.checkPID = checkPID

    def getDestination(self) -> Any:
        return UNIXAddress(self.address)

    def _address(self, sockaddr: Any) -> Any:
        return _unixAddress(sockaddr)

    async def _open(self, conn: Connection) -> None:
        if self.checkPID and not _isAbstractUNIX(self.address):
            if not _lockOwnerAlive(_lockPath(self.address)):
                raise error.BadFileError(string="No PID file or its process is gone")
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.setblocking(False)
            await self._reactor._loop.sock_connect(sock, self.address)
            await self._reactor._loop.create_unix_connection(lambda: conn, sock=sock)
        except BaseException as exc:
            if conn._transport is None:
                sock.close()
            if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
                raise error.BadFileError(exc.errno, exc.strerror or "") from exc
            raise


class UNIXMixin:
    """Reactor methods for UNIX sockets (IReactorUNIX); relies on the reactor's _loop."""

    _loop: asyncio.AbstractEventLoop

    def listenUNIX(
        self,
        address: str | bytes,
        factory: Any,
        backlog: int = 50,
        mode: int = 0o666,
        wantPID: bool = False,
    ) -> UNIXPort:
        """Listen on a UNIX socket path (a leading NUL byte: the abstract namespace)."""
        p = UNIXPort(self, address, factory, backlog, mode, wantPID)
        p.startListening()
        return p

    def connectUNIX(
        self,
        address: str | bytes,
        factory: Any,
        timeout: float = 30,
        checkPID: bool = False,
    ) -> UNIXConnector:
        """Connect to a UNIX socket path; the factory hears about success or failure."""
        c = UNIXConnector(self, address, factory, timeout, checkPID)
        c.connect()
        return c
