"""The reactor's UNIX-domain stream socket support (IReactorUNIX), mixed into the Reactor.

A path whose first character is a NUL byte names a socket in Linux's abstract namespace
(no file is created, none is removed), as in Twisted.  ``wantPID`` keeps a
``<path>.lock`` file holding the listener's PID so a second listener is refused and a stale
socket file left by a dead process is replaced; ``checkPID`` makes a client refuse to connect
to a socket whose lock file does not name a live process.

Passing descriptors (SCM_RIGHTS): neither engine can.  Both read stream sockets with plain
``recv()`` (asyncio's selector transport, and uvloop's pipe handles, opened with libuv's
``ipc=0``), and a descriptor that arrives on a socket read that way is dropped by the kernel;
neither has ``sock_recvmsg``/``sock_sendmsg``, and both refuse ``add_reader`` on a descriptor
that one of their transports owns.  So a UNIX connection whose protocol has a
``fileDescriptorReceived`` method (Twisted's IFileDescriptorReceiver) is taken off the loop's
transport when it is made, before the loop has read anything (both engines start reading only
after ``connection_made`` returns): the socket is duplicated, the loop's transport is silenced
and aborted (closing only its own descriptor), and `_DescriptorTransport` carries the
connection with ``recvmsg``/``sendmsg`` through ``add_reader``/``add_writer``.  Every other
UNIX connection keeps the loop's transport and its speed.

Ordering: the kernel hands a descriptor over in the same ``recvmsg`` as the byte it was sent
with and never with a later one, so received descriptors are given to the protocol before the
data read with them.  On the sending side a descriptor is queued with the stream offset of the
next byte written and goes out, by ``sendmsg``, with exactly that byte (descriptors queued
back to back share it: one message carries them all).

startTLS: the loops' ``start_tls`` takes only their own transports, so a descriptor-passing
connection stops reading (the peer's next bytes, its ClientHello perhaps, stay in the
kernel), sends what was written before the call, then gives its socket to a TLS transport
the loop makes on it (``connect_accepted_socket``/``create_unix_connection`` with ``ssl``),
which handshakes from the first byte it reads.  No descriptors pass over TLS after that.
"""

from __future__ import annotations

import array
import asyncio
import os
import socket
import ssl
import stat
from collections import deque
from collections.abc import Iterable
from typing import Any

from torsion.internet import error
from torsion.internet._transport import (
    _LOST,
    Connection,
    Connector,
    Port,
    TLSConnection,
    _fsPath,
    _isAbstractUNIX,
    _takeAdopted,
    startTLSOn,
)
from torsion.internet.address import UNIXAddress
from torsion.logger import Logger

__all__ = ["UNIXConnector", "UNIXMixin", "UNIXPort"]

_log = Logger()


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


#: Bytes asked of one recvmsg (what the loops' own transports read at a time, too).
_READ_SIZE = 256 * 1024
#: Descriptors one recvmsg can take: Linux's SCM_MAX_FD, so none is ever cut off.
_MAX_FDS_PER_READ = 253
_FD_SIZE = array.array("i").itemsize
_ANCILLARY_SPACE = socket.CMSG_SPACE(_MAX_FDS_PER_READ * _FD_SIZE)
#: Received descriptors are close-on-exec from the start where the platform can say so.
_RECV_FLAGS = getattr(socket, "MSG_CMSG_CLOEXEC", 0)


def _descriptorsIn(ancillary: Iterable[tuple[int, int, bytes]]) -> list[int]:
    """The descriptors in recvmsg's ancillary data (SCM_RIGHTS messages; others ignored)."""
    fds = array.array("i")
    for level, kind, data in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(data[: len(data) - len(data) % _FD_SIZE])
    return fds.tolist()


def _closeAll(fds: Iterable[int]) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass


class _DescriptorTransport(asyncio.Transport):
    """A UNIX stream transport that passes descriptors: recvmsg/sendmsg on the loop's poller.

    Used only for connections whose protocol receives descriptors (see the module
    docstring); it keeps the asyncio transport contract `Connection` relies on: write
    buffering with high/low water marks and pause_writing/resume_writing, pause_reading,
    eof_received (True keeps the write side open), write_eof, close after the buffer
    drains, abort, and connection_lost exactly once, on a later loop iteration.

    `sendFileDescriptor` duplicates the descriptor at once, so the caller may close its
    own copy right away; the duplicate is closed once sent or when the connection ends.
    """

    #: At most this many descriptors wait for their byte: each holds a duplicate in this
    #: process, so a sender that outruns its peer meets a clear error, not EMFILE later.
    maxPendingDescriptors = _MAX_FDS_PER_READ

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket,
                 protocol: Any, extra: dict[str, Any]) -> None:
        super().__init__(extra)
        self._loop = loop
        self._sock = sock
        self._protocol = protocol
        self._buffer = bytearray()
        self._sent = 0  # bytes sent so far: the stream offset of _buffer[0]
        self._fds: deque[tuple[int, int]] = deque()  # (offset of its byte, our duplicate)
        self._reading = False
        self._readEOF = False
        self._writing = False  # a writer is registered with the loop
        self._eof = False  # write_eof() was called
        self._closing = False
        self._lostScheduled = False
        self._writePaused = False  # protocol.pause_writing() was called
        self._high = 64 * 1024
        self._low = 16 * 1024
        self._flushWaiters: list[asyncio.Future[None]] = []
        self._handedOver = False  # handOver() gave the socket to the loop (startTLS)

    @classmethod
    def takeOver(cls, loop: asyncio.AbstractEventLoop, loopTransport: Any,
                 protocol: Any) -> _DescriptorTransport:
        """Carry a connection the loop's transport has just been made for, from now on.

        Called from ``connection_made``, before the engine has read anything: the socket
        is duplicated, the loop's transport gets a protocol that ignores everything and is
        aborted, which closes only its own descriptor (no shutdown: the peer sees nothing).
        """
        handle = loopTransport.get_extra_info("socket")
        sock = socket.socket(fileno=os.dup(handle.fileno()))
        sock.setblocking(False)
        extra = {
            "socket": sock,
            "sockname": loopTransport.get_extra_info("sockname"),
            "peername": loopTransport.get_extra_info("peername"),
        }
        loopTransport.set_protocol(asyncio.Protocol())
        loopTransport.abort()
        transport = cls(loop, sock, protocol, extra)
        transport.resume_reading()
        return transport

    # -- reading --------------------------------------------------------------------------------

    def _readable(self) -> None:
        try:
            data, ancillary, _, _ = self._sock.recvmsg(_READ_SIZE, _ANCILLARY_SPACE, _RECV_FLAGS)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._forceClose(exc)
            return
        fds = _descriptorsIn(ancillary) if ancillary else []
        if not data:
            _closeAll(fds)
            self._endOfInput()
            return
        try:
            if fds:
                self._protocol._descriptorsReceived(fds)
            self._protocol.data_received(data)
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal(exc)

    def _endOfInput(self) -> None:
        self.pause_reading()
        self._readEOF = True
        try:
            keepOpen = self._protocol.eof_received()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._fatal(exc)
            return
        if not keepOpen:
            self.close()

    def is_reading(self) -> bool:
        return self._reading

    def pause_reading(self) -> None:
        if self._reading:
            self._reading = False
            self._loop.remove_reader(self._sock)

    def resume_reading(self) -> None:
        if not self._reading and not self._closing and not self._readEOF:
            self._reading = True
            self._loop.add_reader(self._sock, self._readable)

    # -- writing --------------------------------------------------------------------------------

    def sendFileDescriptor(self, descriptor: int) -> None:
        """Queue a duplicate of ``descriptor`` to go with the next byte written."""
        if self._eof or self._closing:
            return
        if len(self._fds) >= self.maxPendingDescriptors:
            raise RuntimeError(
                f"{len(self._fds)} descriptors are already waiting to be sent; the peer is "
                "not reading (or no bytes were written after them)"
            )
        self._fds.append((self._sent + len(self._buffer), os.dup(descriptor)))

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        if self._eof:
            raise RuntimeError("Cannot call write() after write_eof()")
        if self._lostScheduled or not data:
            return
        self._buffer += data
        if not self._writing:
            self._flush()

    def writelines(self, list_of_data: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in list_of_data:
            self.write(data)

    def _writable(self) -> None:
        self._flush()

    def _flush(self) -> None:
        """Send what the socket takes; due descriptors ride on their byte (one sendmsg)."""
        buf, fds, sock = self._buffer, self._fds, self._sock
        try:
            while buf:
                if fds and fds[0][0] <= self._sent:
                    # All descriptors queued before this byte go with it, in one message.
                    due = [fd for offset, fd in fds if offset <= self._sent]
                    rights = array.array("i", due)
                    n = sock.sendmsg([buf[:1]], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, rights)])
                    for _ in due:
                        os.close(fds.popleft()[1])
                else:
                    limit = fds[0][0] - self._sent if fds else len(buf)
                    with memoryview(buf)[:limit] as chunk:
                        n = sock.send(chunk)
                del buf[:n]
                self._sent += n
        except (BlockingIOError, InterruptedError):
            pass
        except OSError as exc:
            self._forceClose(exc)
            return
        if buf and not self._writing:
            self._writing = True
            self._loop.add_writer(sock, self._writable)
        elif not buf and self._writing:
            self._writing = False
            self._loop.remove_writer(sock)
        self._checkWaterMarks()
        if not buf:
            self._wakeFlushWaiters(None)
            if self._closing:
                self._scheduleLost(None)
            elif self._eof:
                self._shutdownWrite()

    def _checkWaterMarks(self) -> None:
        size = len(self._buffer)
        try:
            if not self._writePaused and size > self._high:
                self._writePaused = True
                self._protocol.pause_writing()
            elif self._writePaused and size <= self._low:
                self._writePaused = False
                self._protocol.resume_writing()
        except (SystemExit, KeyboardInterrupt):
            raise
        except BaseException as exc:
            self._loop.call_exception_handler({
                "message": "protocol.pause_writing() or resume_writing() failed",
                "exception": exc, "transport": self, "protocol": self._protocol,
            })

    def _shutdownWrite(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError as exc:
            self._forceClose(exc)

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        if self._closing or self._eof:
            return
        self._eof = True
        if not self._buffer:
            self._shutdownWrite()

    def get_write_buffer_size(self) -> int:
        return len(self._buffer)

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (self._low, self._high)

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        if high is None:
            high = 64 * 1024 if low is None else 4 * low
        if low is None:
            low = high // 4
        if not high >= low >= 0:
            raise ValueError(f"high ({high!r}) must be >= low ({low!r}) must be >= 0")
        self._high, self._low = high, low
        self._checkWaterMarks()

    # -- closing --------------------------------------------------------------------------------

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        if self._closing:
            return
        self._closing = True
        self.pause_reading()
        if not self._buffer:
            self._scheduleLost(None)

    def abort(self) -> None:
        self._forceClose(None)

    def _fatal(self, exc: BaseException) -> None:
        """A protocol callback raised: report it as the loops do, then drop the connection."""
        self._loop.call_exception_handler({
            "message": "Fatal error on transport", "exception": exc,
            "transport": self, "protocol": self._protocol,
        })
        self._forceClose(exc)

    def _forceClose(self, exc: BaseException | None) -> None:
        if self._handedOver:
            # startTLS's handshake runs on the loop's transport over this socket: shutting
            # the socket down makes it fail at once (the connection then ends aborted).
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        if self._lostScheduled:
            return
        self._wakeFlushWaiters(exc or error.ConnectionLost("the connection was closed"))
        self._buffer.clear()
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._sock)
        self._closing = True
        self.pause_reading()
        self._scheduleLost(exc)

    def _scheduleLost(self, exc: BaseException | None) -> None:
        if not self._lostScheduled:
            self._lostScheduled = True
            self._loop.call_soon(self._callLost, exc)

    def _callLost(self, exc: BaseException | None) -> None:
        try:
            self._protocol.connection_lost(exc)
        finally:
            unsent = [fd for _, fd in self._fds]
            self._fds.clear()
            _closeAll(unsent)
            self._sock.close()
        if unsent and exc is None:
            _log.warn("{count} descriptor(s) passed to sendFileDescriptor were not sent: no "
                      "byte was written after them", count=len(unsent))

    # -- handing the socket to the loop (startTLS) ----------------------------------------------

    def whenFlushed(self) -> asyncio.Future[None]:
        """A future done once every byte written so far is sent; failed if the connection
        ends first."""
        waiter: asyncio.Future[None] = self._loop.create_future()
        if self._lostScheduled or self._handedOver:
            waiter.set_exception(error.ConnectionLost("the connection was closed"))
        elif not self._buffer:
            waiter.set_result(None)
        else:
            self._flushWaiters.append(waiter)
        return waiter

    def _wakeFlushWaiters(self, exc: BaseException | None) -> None:
        waiters, self._flushWaiters = self._flushWaiters, []
        for waiter in waiters:
            if waiter.done():
                continue
            if exc is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(exc)

    def handOver(self) -> socket.socket:
        """Give up the socket (to the loop's TLS transport): from now on this transport
        reads, writes and reports nothing, and ``abort`` shuts the socket down.

        Called with reading paused and the write buffer empty, so no byte is lost: bytes
        the peer sent since the last ``recvmsg`` are still in the kernel, for the new
        transport.  Descriptors with no byte written after them can no longer be sent in
        order (the next bytes are TLS records); they are closed, with a warning.
        """
        if self._buffer or self._lostScheduled or self._handedOver:
            raise RuntimeError("handOver() needs a live transport with nothing left to send")
        self.pause_reading()
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._sock)
        self._handedOver = True
        self._closing = True
        self._lostScheduled = True  # connection_lost is the loop transport's to report
        unsent = [fd for _, fd in self._fds]
        self._fds.clear()
        _closeAll(unsent)
        if unsent:
            _log.warn("{count} descriptor(s) passed to sendFileDescriptor were not sent: no "
                      "byte was written after them before startTLS", count=len(unsent))
        return self._sock

    def get_protocol(self) -> Any:
        return self._protocol

    def set_protocol(self, protocol: Any) -> None:
        self._protocol = protocol


def _receivesDescriptors(protocol: Any) -> bool:
    """Whether ``protocol`` takes descriptors (Twisted's IFileDescriptorReceiver)."""
    return callable(getattr(protocol, "fileDescriptorReceived", None))


#: A `Connection._flags` bit of this module's: the protocol is being attached, inside the
#: loop's connection_made, so the loop has read nothing and the protocol written nothing.
_ATTACHING = 1 << 16


class _UNIXConnection(Connection):
    """A UNIX stream connection; IUNIXTransport (sendFileDescriptor) when its protocol
    receives descriptors, which puts it on `_DescriptorTransport` (module docstring).

    The protocol is looked at when it is attached, and again if it hands the connection on
    with setProtocol while being attached, as the endpoints' connect wrapper does.
    """

    __slots__ = ()

    def _attach(self, protocol: Any) -> None:
        if _receivesDescriptors(protocol) and not self._carryDescriptors():
            return
        self._flags |= _ATTACHING
        try:
            super()._attach(protocol)
        finally:
            self._flags &= ~_ATTACHING

    def setProtocol(self, protocol: Any) -> None:
        if (
            self._flags & _ATTACHING
            and _receivesDescriptors(protocol)
            and not isinstance(self._transport, _DescriptorTransport)
            and self._transport.get_write_buffer_size() == 0
        ):
            loopTransport = self._transport
            if self._carryDescriptors() and self._sink is loopTransport:
                self._sink = self._transport  # _attach pointed writes at the loop's
        super().setProtocol(protocol)

    def _carryDescriptors(self) -> bool:
        """Move this connection onto a `_DescriptorTransport`; False (and aborted) if not."""
        try:
            self._transport = _DescriptorTransport.takeOver(
                self._owner._reactor._loop, self._transport, self)
        except OSError:
            _log.failure("Cannot take over UNIX connection for descriptor passing")
            self.abortConnection()
            return False
        return True

    def sendFileDescriptor(self, descriptor: int) -> None:
        """Send a duplicate of ``descriptor`` to the peer, with the next byte written.

        The peer's protocol gets it in ``fileDescriptorReceived`` before the data that byte
        is part of.  Ignored, like a write, once the connection or its write side is gone.
        """
        if isinstance(descriptor, bool) or not isinstance(descriptor, int):
            raise TypeError(f"descriptor must be an int, not {type(descriptor).__name__}")
        transport = self._transport
        if not isinstance(transport, _DescriptorTransport):
            raise NotImplementedError(
                "this UNIX connection cannot pass descriptors: its protocol has no "
                "fileDescriptorReceived method, so it runs on the event loop's own transport "
                "(which reads with recv() and would drop them); give the protocol one "
                "(IFileDescriptorReceiver) to get a descriptor-passing connection"
            )
        transport.sendFileDescriptor(descriptor)

    def _descriptorsReceived(self, fds: list[int]) -> None:
        """Give each received descriptor to the protocol (it owns them), or close them."""
        receiver = getattr(self.protocol, "fileDescriptorReceived", None)
        if receiver is None:
            _log.warn("{protocol} does not receive descriptors; closing {count} received "
                      "from {peer}", protocol=self.logPrefix(), count=len(fds), peer=self._peer)
            _closeAll(fds)
            return
        for i, fd in enumerate(fds):
            try:
                receiver(fd)
            except BaseException:
                _closeAll(fds[i + 1:])
                raise

    def startTLS(self, contextFactory: Any, normal: bool = True) -> None:
        """Upgrade to TLS (STARTTLS), as on TCP; a descriptor-passing connection first hands
        its socket back to the event loop.

        Reading stops at once (the rest of the peer's bytes belong to TLS and stay in the
        kernel); bytes and descriptors written before this call are sent in the clear, in
        order; then the loop's own transport takes the socket with TLS from its first byte
        (`_handOverForTLS`), and writes made meanwhile follow, encrypted.  From then on the
        connection passes no descriptors (`_TLSUNIXConnection`).
        """
        transport = self._transport
        if isinstance(transport, _DescriptorTransport):
            startTLSOn(self, contextFactory, normal, self._handOverForTLS(transport))
        else:
            super().startTLS(contextFactory, normal)
        self.__class__ = _TLSUNIXConnection  # type: ignore[assignment]  # (same layout)

    def _handOverForTLS(self, transport: _DescriptorTransport) -> Any:
        """The ``establish`` step of `startTLSOn` for a descriptor-passing connection.

        The loop's ``start_tls`` only takes the loop's own transports, and a plain loop
        transport made for the socket would start reading (uvloop ignores a pause made in
        its ``connection_made``) before ``start_tls`` could take over, so the TLS transport
        is made directly on the socket, handshaking from the first byte it reads.
        """
        loop = self._owner._reactor._loop

        async def establish(context: ssl.SSLContext, serverSide: bool,
                            hostname: str | None) -> Any:
            await transport.whenFlushed()
            sock = transport.handOver()
            successor = _Successor(self)
            tls: Any
            if serverSide:
                tls, _ = await loop.connect_accepted_socket(lambda: successor, sock, ssl=context)
            else:
                # "" (no name) is how create_unix_connection is told not to send or check one.
                tls, _ = await loop.create_unix_connection(
                    lambda: successor, sock=sock, ssl=context, server_hostname=hostname or "")
            if not self._flags & _LOST:
                tls.set_protocol(self)
            return tls

        return establish


class _Successor(asyncio.Protocol):
    """The first protocol of the loop's TLS transport that takes over a descriptor-passing
    connection in startTLS: it passes every event on to the `_UNIXConnection` except
    ``connection_made`` (the user's protocol is connected already), until startTLS makes
    the connection itself the transport's protocol."""

    def __init__(self, conn: _UNIXConnection) -> None:
        self._conn = conn

    def data_received(self, data: bytes) -> None:
        self._conn.data_received(data)

    def eof_received(self) -> bool | None:
        return self._conn.eof_received()

    def connection_lost(self, exc: Exception | None) -> None:
        self._conn.connection_lost(exc)

    def pause_writing(self) -> None:
        self._conn.pause_writing()

    def resume_writing(self) -> None:
        self._conn.resume_writing()


class _TLSUNIXConnection(TLSConnection):
    """A UNIX connection after startTLS: ISSLTransport, and no more descriptor passing."""

    __slots__ = ()

    def sendFileDescriptor(self, descriptor: int) -> None:
        """Refused: the connection runs TLS now.

        Twisted would still attach the descriptor to the next encrypted bytes, but its
        receiving side then hands it to the TLS layer, which is no descriptor receiver,
        and it is closed; torsion's TLS transport reads with plain ``recv()``, which drops
        it.  A clear error is better than a descriptor lost in silence.
        """
        raise NotImplementedError(
            "this UNIX connection runs TLS (startTLS was called), and descriptors cannot be "
            "passed over TLS; pass them before startTLS or over another connection"
        )


class UNIXPort(Port):
    """A listening UNIX-domain stream socket."""

    _kind = "UNIX"
    _connectionClass = _UNIXConnection

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
    _connectionClass = _UNIXConnection

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
