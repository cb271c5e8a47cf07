"""StandardIO: a protocol connected to the process's standard input and output.

Theory of operation: ``stdin`` is read and ``stdout`` written as non-blocking descriptors
watched by the loop (``add_reader``/``add_writer``), so ``makeConnection`` happens in the
constructor as in Twisted, and pipes, ttys and sockets all work on both engines.  A regular
file (``python app.py < input.txt > out.txt``) cannot be watched by epoll; it is read one
chunk per loop turn and written synchronously, which never blocks for long on a file.

End of input: a protocol with ``readConnectionLost`` (IHalfCloseableProtocol) is told and
may keep writing; any other protocol's connection is closed once the output is flushed.
``connectionLost(ConnectionDone)`` comes when both directions are closed.  Closing
releases the descriptors back to blocking mode (at interpreter exit too, should the
connection never close) but does not close them, so the process can still print after the
protocol is done.
"""

from __future__ import annotations

import atexit
import errno
import os
import stat
from collections.abc import Sequence
from typing import Any

from torsion.internet import error
from torsion.logger import Logger
from torsion.python.failure import Failure

__all__ = ["PipeAddress", "StandardIO"]

_log = Logger(namespace="torsion.internet.stdio")
_READ_SIZE = 65536
_HIGH_WATER = 64 * 1024


class PipeAddress:
    """The address of either end of a standard I/O connection: there is none to give."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PipeAddress)

    def __hash__(self) -> int:
        return hash(PipeAddress)

    def __repr__(self) -> str:
        return "PipeAddress()"


def _isRegularFile(fd: int) -> bool:
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode)
    except OSError:
        return False


class StandardIO:
    """An ITransport over two descriptors (default 0 and 1) for ``protocol``.

    ``reactor`` defaults to the global reactor (imported only if none is given).
    """

    disconnecting = False

    def __init__(self, protocol: Any, stdin: int = 0, stdout: int = 1,
                 reactor: Any = None) -> None:
        if reactor is None:
            from torsion.internet import reactor as globalReactor

            reactor = globalReactor
        self._reactor = reactor
        self._loop = reactor._loop
        self.protocol = protocol
        self._readFD = stdin
        self._writeFD = stdout
        self._readBlocking = os.get_blocking(stdin)
        self._writeBlocking = os.get_blocking(stdout)
        self._buffer = bytearray()
        self._writing = False
        self._reading = False
        self._readPoll: Any = None
        self._readClosed = False
        self._writeClosed = False
        self._writeDisconnecting = False
        self._paused = False
        self._producer: Any = None
        self._streaming = False
        self._producerPaused = False
        self._lost = False
        self._reason: Failure | None = None
        self._readFile = _isRegularFile(stdin)
        self._writeFile = _isRegularFile(stdout)
        os.set_blocking(stdin, False)
        if not self._writeFile:
            os.set_blocking(stdout, False)
        # A terminal left non-blocking breaks the shell's next programs: undo it at exit
        # even if the connection never closes.
        atexit.register(self._restoreBlocking)
        protocol.makeConnection(self)
        if not self._lost:
            self.startReading()

    # --- reading --------------------------------------------------------------------------

    def startReading(self) -> None:
        """Read standard input (again, after stopReading/pauseProducing)."""
        self._paused = False
        if self._reading or self._readClosed:
            return
        self._reading = True
        if self._readFile:
            self._readPoll = self._loop.call_soon(self._fileReadable)
            return
        try:
            self._loop.add_reader(self._readFD, self._readable)
        except (OSError, ValueError):
            self._readFile = True
            self._readPoll = self._loop.call_soon(self._fileReadable)

    def stopReading(self) -> None:
        """Stop reading standard input until startReading."""
        self._paused = True
        if not self._reading:
            return
        self._reading = False
        if self._readPoll is not None:
            self._readPoll.cancel()
            self._readPoll = None
        elif not self._readClosed:
            self._loop.remove_reader(self._readFD)

    def _fileReadable(self) -> None:
        self._readPoll = None
        self._readable()
        if self._reading and not self._readClosed:
            self._readPoll = self._loop.call_soon(self._fileReadable)

    def _readable(self) -> None:
        try:
            data = os.read(self._readFD, _READ_SIZE)
        except BlockingIOError:
            return
        except OSError as e:
            if e.errno not in (errno.EIO, errno.EBADF):
                _log.failure("Error reading standard input")
            data = b""
        if not data:
            self._readEOF()
            return
        try:
            self.protocol.dataReceived(data)
        except Exception:
            _log.failure("Unhandled error in dataReceived of {protocol}", protocol=self.protocol)
            self._closeBoth(Failure())

    def _readEOF(self) -> None:
        self._closeRead()
        readConnectionLost = getattr(self.protocol, "readConnectionLost", None)
        if readConnectionLost is not None:
            try:
                readConnectionLost()
            except Exception:
                _log.failure("Unhandled error in readConnectionLost")
                self._closeBoth(Failure())
                return
            self._maybeLost()
        else:
            self.loseConnection()

    def _closeRead(self) -> None:
        if self._readClosed:
            return
        self.stopReading()
        self._readClosed = True
        _restoreBlocking(self._readFD, self._readBlocking)

    # --- writing --------------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Write ``data`` to standard output (buffered while the pipe is full)."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        if self._writeClosed or self._writeDisconnecting or not data:
            return
        if self._buffer:
            self._buffer += data
        else:
            written = self._writeSome(bytes(data))
            if written < 0:
                return
            if written == len(data):
                return
            self._buffer += data[written:]
            self._startWriting()
        if len(self._buffer) > _HIGH_WATER and self._producer is not None and self._streaming:
            if not self._producerPaused:
                self._producerPaused = True
                self._producer.pauseProducing()

    def writeSequence(self, seq: Sequence[bytes]) -> None:
        """Write every chunk of ``seq``."""
        for data in seq:
            self.write(data)

    def _writeSome(self, data: bytes | bytearray) -> int:
        """Write what the descriptor takes now; -1 if the reader is gone."""
        try:
            if self._writeFile:
                view = memoryview(data)
                total = 0
                while total < len(view):
                    total += os.write(self._writeFD, view[total:])
                return total
            return os.write(self._writeFD, data)
        except BlockingIOError:
            return 0
        except OSError:
            self._writeGone()
            return -1

    def _startWriting(self) -> None:
        if not self._writing:
            self._writing = True
            self._loop.add_writer(self._writeFD, self._writable)

    def _writable(self) -> None:
        written = self._writeSome(self._buffer)
        if written < 0:
            return
        del self._buffer[:written]
        if self._buffer:
            return
        self._writing = False
        self._loop.remove_writer(self._writeFD)
        if self._writeDisconnecting:
            self._closeWrite()
            return
        if self._producer is not None:
            if not self._streaming:
                self._producer.resumeProducing()
            elif self._producerPaused:
                self._producerPaused = False
                self._producer.resumeProducing()

    def _writeGone(self) -> None:
        """The output's reader went away (EPIPE): close the write side."""
        self._buffer.clear()
        self._closeWrite()

    def _closeWrite(self) -> None:
        if self._writeClosed:
            return
        self._writeClosed = True
        if self._writing:
            self._writing = False
            self._loop.remove_writer(self._writeFD)
        _restoreBlocking(self._writeFD, self._writeBlocking)
        writeConnectionLost = getattr(self.protocol, "writeConnectionLost", None)
        if writeConnectionLost is not None and not self._readClosed:
            try:
                writeConnectionLost()
            except Exception:
                _log.failure("Unhandled error in writeConnectionLost")
        self._maybeLost()

    def loseWriteConnection(self) -> None:
        """Close standard output once the buffer is flushed; keep reading."""
        self._writeDisconnecting = True
        if not self._buffer:
            self._closeWrite()

    def loseConnection(self) -> None:
        """Flush the output, then close both directions; connectionLost follows."""
        if self.disconnecting:
            return
        self.disconnecting = True
        self._closeRead()
        self.loseWriteConnection()
        self._maybeLost()

    def _closeBoth(self, reason: Failure) -> None:
        self._reason = reason
        self._closeRead()
        self._buffer.clear()
        self._closeWrite()

    def _restoreBlocking(self) -> None:
        _restoreBlocking(self._readFD, self._readBlocking)
        _restoreBlocking(self._writeFD, self._writeBlocking)

    def _maybeLost(self) -> None:
        if self._lost or not (self._readClosed and self._writeClosed):
            return
        self._lost = True
        atexit.unregister(self._restoreBlocking)
        reason = self._reason
        try:
            self.protocol.connectionLost(
                reason if reason is not None else Failure(error.ConnectionDone())
            )
        except Exception:
            _log.failure("Unhandled error in connectionLost")

    # --- producer / consumer ------------------------------------------------------------

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        """Let ``producer`` feed standard output, paused while the buffer is full."""
        if self._producer is not None:
            raise RuntimeError(
                f"Cannot register producer {producer!r}: {self._producer!r} is registered"
            )
        self._producer, self._streaming = producer, streaming
        if not streaming:
            producer.resumeProducing()

    def unregisterProducer(self) -> None:
        """Forget the registered producer."""
        self._producer = None

    def pauseProducing(self) -> None:
        """Stop reading standard input."""
        self.stopReading()

    def resumeProducing(self) -> None:
        """Read standard input again."""
        self.startReading()

    def stopProducing(self) -> None:
        """Close the connection."""
        self.loseConnection()

    # --- addresses ------------------------------------------------------------------------

    def getPeer(self) -> PipeAddress:
        """Standard I/O has no network address."""
        return PipeAddress()

    def getHost(self) -> PipeAddress:
        """Standard I/O has no network address."""
        return PipeAddress()

    def __repr__(self) -> str:
        return f"<StandardIO in={self._readFD} out={self._writeFD} protocol={self.protocol!r}>"


def _restoreBlocking(fd: int, blocking: bool) -> None:
    try:
        os.set_blocking(fd, blocking)
    except OSError:
        pass

