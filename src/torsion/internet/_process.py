"""Child processes: the reactor's spawnProcess and the IProcessTransport it returns.

Theory of operation
-------------------
The child is started with ``subprocess.Popen`` (so exec errors raise at once in the
parent, and ``path``/``uid``/``gid``/``env`` are applied by the C child code), with one
pipe per ``childFDs`` entry: ``'r'`` is a pipe the parent reads (``childDataReceived``),
``'w'`` one it writes (``writeToChild``), an int is a parent descriptor handed to the child.
The parent ends are plain non-blocking descriptors watched with the loop's
``add_reader``/``add_writer``, which both engines provide and which, unlike the loop's
coroutine-based pipe transports, are ready synchronously: ``makeConnection`` runs before
``spawnProcess`` returns, as in Twisted, and any child descriptor number works.

The child's exit is seen through a pidfd (Linux) on the same loop, or else a thread
blocked in ``waitpid``; only this module reaps its children, so asyncio's and libuv's
child watchers are not disturbed.

Callbacks, as in Twisted: ``childDataReceived(fd, data)`` per chunk,
``childConnectionLost(fd)`` per pipe, ``processExited(reason)`` once the child is reaped,
``processEnded(reason)`` once it is reaped *and* every pipe is closed; ``reason`` wraps
ProcessDone (exit code 0) or ProcessTerminated (``exitCode`` or ``signal``).

Deliberate differences: a child descriptor 0, 1 or 2 left out of ``childFDs`` is connected
to /dev/null rather than left closed (a closed standard descriptor gets reused by the
child's next ``open``, a classic source of corruption).  ``env`` follows Twisted on POSIX:
the default ``{}`` is an empty environment, ``None`` inherits ``os.environ``.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from torsion.internet import error
from torsion.logger import Logger
from torsion.python.failure import Failure

if TYPE_CHECKING:
    from torsion.internet._base import ReactorBase
    from torsion.internet.interfaces import IProcessProtocol

__all__ = ["Process", "ProcessAddress", "spawnProcess"]

_log = Logger(namespace="torsion.internet.process")
_READ_SIZE = 65536
_HIGH_WATER = 64 * 1024

_ChildFDs = Mapping[int, "int | str"]


class ProcessAddress:
    """The address of a process transport's peer and host: there is none to give."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ProcessAddress)

    def __hash__(self) -> int:
        return hash(ProcessAddress)

    def __repr__(self) -> str:
        return "ProcessAddress()"


def _reasonFor(status: int) -> BaseException:
    """Turn a wait status into ProcessDone or ProcessTerminated."""
    if os.WIFEXITED(status):
        code = os.WEXITSTATUS(status)
        if code == 0:
            return error.ProcessDone(status)
        return error.ProcessTerminated(exitCode=code, status=status)
    if os.WIFSIGNALED(status):
        return error.ProcessTerminated(signal=os.WTERMSIG(status), status=status)
    return error.ProcessTerminated(status=status)


def _signalNumber(signalID: str | int) -> int:
    if isinstance(signalID, int):
        return signalID
    name = signalID if signalID.startswith("SIG") else f"SIG{signalID}"
    number = getattr(signal, name, None)
    if not isinstance(number, int):
        raise ValueError(f"unknown signal {signalID!r}")
    return int(number)


# --- the parent's ends of the pipes ------------------------------------------------------------


def _readInto(process: Process, pipe: _ReadPipe | _WritePipe, fd: int, childFD: int) -> None:
    """Read one chunk from ``fd`` and hand it to the protocol as ``childFD``'s data.

    EOF (or an error) closes ``pipe``; an exception from the protocol is logged and
    closes only that descriptor.
    """
    try:
        data = os.read(fd, _READ_SIZE)
    except BlockingIOError:
        return
    except OSError as e:
        # A pty's master reads EIO once the child side is closed: that is its EOF.
        if e.errno != errno.EIO:
            _log.failure("Error reading from child descriptor {fd}", fd=childFD)
        data = b""
    if not data:
        process._pipeClosed(pipe)
        return
    try:
        process._dataReceived(childFD, data)
    except Exception:
        _log.failure("Unhandled error in childDataReceived; closing descriptor {fd}",
                     fd=childFD)
        process._pipeClosed(pipe)


class _Reading:
    """Pausing and resuming the reads of a descriptor the parent reads.

    Shared by the output pipes and the pty master (pauseProducing/resumeProducing).
    """

    process: Process
    fd: int
    paused = False

    def _readable(self) -> None:
        raise NotImplementedError

    def pause(self) -> None:
        if not self.paused and self.fd >= 0:
            self.paused = True
            self.process._loop.remove_reader(self.fd)

    def resume(self) -> None:
        if self.paused and self.fd >= 0:
            self.paused = False
            self.process._loop.add_reader(self.fd, self._readable)


class _ReadPipe(_Reading):
    """A descriptor the parent reads; each chunk goes to childDataReceived."""

    def __init__(self, process: Process, childFD: int, fd: int) -> None:
        self.process = process
        self.childFD = childFD
        self.fd = fd
        self.paused = False
        os.set_blocking(fd, False)
        process._loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        _readInto(self.process, self, self.fd, self.childFD)

    def close(self) -> None:
        if self.fd >= 0:
            if not self.paused:
                self.process._loop.remove_reader(self.fd)
            os.close(self.fd)
            self.fd = -1


class _WritePipe:
    """A descriptor the parent writes, with a buffer flushed when the pipe is writable.

    The descriptor is also watched for reading: a pipe's write end only becomes
    "readable" when the child closed its end, which is how a child closing its stdin is
    noticed without waiting for a write to fail.
    """

    paused = False  # the reader watching for the child's close is never paused

    def __init__(self, process: Process, childFD: int, fd: int) -> None:
        self.process = process
        self.childFD = childFD
        self.fd = fd
        self.buffer = bytearray()
        self.disconnecting = False
        self.producer: Any = None
        self.streaming = False
        self.producerPaused = False
        os.set_blocking(fd, False)
        process._loop.add_reader(fd, self._peerClosed)

    def write(self, data: bytes) -> None:
        if self.fd < 0 or self.disconnecting:
            return
        if not self.buffer:
            try:
                written = os.write(self.fd, data)
            except BlockingIOError:
                written = 0
            except OSError:
                self.process._pipeClosed(self)
                return
            if written == len(data):
                return
            data = data[written:]
            self.process._loop.add_writer(self.fd, self._writable)
        self.buffer += data
        if len(self.buffer) > _HIGH_WATER and self.producer is not None and self.streaming:
            if not self.producerPaused:
                self.producerPaused = True
                self.producer.pauseProducing()

    def _writable(self) -> None:
        try:
            written = os.write(self.fd, self.buffer)
        except BlockingIOError:
            return
        except OSError:
            self.process._pipeClosed(self)
            return
        del self.buffer[:written]
        if self.buffer:
            return
        self.process._loop.remove_writer(self.fd)
        if self.disconnecting:
            self.process._pipeClosed(self)
        elif self.producer is not None:
            if self.streaming and self.producerPaused:
                self.producerPaused = False
                self.producer.resumeProducing()
            elif not self.streaming:
                self.producer.resumeProducing()

    def _peerClosed(self) -> None:
        self.process._pipeClosed(self)

    def loseConnection(self) -> None:
        if self.buffer:
            self.disconnecting = True
        else:
            self.process._pipeClosed(self)

    def close(self) -> None:
        if self.fd >= 0:
            loop = self.process._loop
            if not self.paused:
                loop.remove_reader(self.fd)
            if self.buffer:
                loop.remove_writer(self.fd)
            os.close(self.fd)
            self.fd = -1
            self.buffer.clear()


class _PTYPipe(_Reading, _WritePipe):
    """A pty master: written like stdin, read as the child's output (descriptor 1)."""

    def __init__(self, process: Process, fd: int) -> None:
        super().__init__(process, 0, fd)
        self.paused = False
        process._loop.remove_reader(fd)
        process._loop.add_reader(fd, self._readable)

    def _readable(self) -> None:
        _readInto(self.process, self, self.fd, 1)


# --- exit watching -----------------------------------------------------------------------------


class _ExitWatcher:
    """Reap one child on the reactor thread: pidfd on the loop, else a waitpid thread."""

    def __init__(self, process: Process, pid: int) -> None:
        self.process = process
        self.pid = pid
        self.pidfd = -1
        try:
            self.pidfd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            thread = threading.Thread(target=self._waitInThread, name=f"waitpid-{pid}",
                                      daemon=True)
            thread.start()
        else:
            process._loop.add_reader(self.pidfd, self._pidfdReadable)

    def _pidfdReadable(self) -> None:
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, 255 << 8
        if pid == 0:
            return
        self.close()
        self.process._reaped(status)

    def _waitInThread(self) -> None:
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            status = 255 << 8
        loop = self.process._loop
        if not loop.is_closed():
            loop.call_soon_threadsafe(self.process._reaped, status)

    def close(self) -> None:
        if self.pidfd >= 0:
            loop = self.process._loop
            if not loop.is_closed():
                loop.remove_reader(self.pidfd)
            os.close(self.pidfd)
            self.pidfd = -1


# --- the transport -----------------------------------------------------------------------------


class Process:
    """An IProcessTransport: a running child, its pipes and its signals."""

    disconnecting = False

    def __init__(self, reactor: ReactorBase, proto: IProcessProtocol) -> None:
        self._reactor = reactor
        self._loop = reactor._loop
        self.proto: IProcessProtocol | None = proto
        self.pipes: dict[int, _ReadPipe | _WritePipe] = {}
        self.pid: int | None = None
        self.status: int | None = None
        self._popen: subprocess.Popen[bytes] | None = None
        self._watcher: _ExitWatcher | None = None
        self._isPTY = False
        self._ptyFD = -1
        self._writeFDs: frozenset[int] = frozenset()

    def __repr__(self) -> str:
        return f"<Process pid={self.pid} status={self.status}>"

    # --- IProcessTransport ------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        """Write ``data`` to the child's standard input (or its pty)."""
        self.writeToChild(0, data)

    def writeSequence(self, data: Iterable[bytes]) -> None:
        """Write every chunk of ``data`` to the child's standard input."""
        for chunk in data:
            self.writeToChild(0, chunk)

    def writeToChild(self, childFD: int, data: bytes) -> None:
        """Write ``data`` to the child's descriptor ``childFD`` (opened with ``'w'``)."""
        if not isinstance(data, bytes | bytearray | memoryview):
            raise TypeError(f"data must be bytes, not {type(data).__name__}")
        pipe = self.pipes.get(childFD)
        if isinstance(pipe, _WritePipe):
            pipe.write(bytes(data))
        elif childFD not in self._writeFDs:
            raise KeyError(f"child descriptor {childFD} is not a pipe written by the parent")

    def closeChildFD(self, childFD: int) -> None:
        """Close the parent's end of the child's descriptor ``childFD`` (after flushing)."""
        pipe = self.pipes.get(childFD)
        if pipe is None:
            return
        if self._isPTY:
            return
        if isinstance(pipe, _WritePipe):
            pipe.loseConnection()
        else:
            self._pipeClosed(pipe)

    def closeStdin(self) -> None:
        """Close the child's standard input: it reads EOF once the buffer is written."""
        self.closeChildFD(0)

    def closeStdout(self) -> None:
        """Stop reading the child's standard output."""
        self.closeChildFD(1)

    def closeStderr(self) -> None:
        """Stop reading the child's standard error."""
        self.closeChildFD(2)

    def loseConnection(self) -> None:
        """Close every pipe (stdin after its buffer is written)."""
        if self._isPTY:
            for pipe in list(self.pipes.values()):
                self._pipeClosed(pipe)
            return
        for childFD in list(self.pipes):
            self.closeChildFD(childFD)

    def abortConnection(self) -> None:
        """Close every pipe at once, dropping unwritten data; the child keeps running."""
        for pipe in list(self.pipes.values()):
            self._pipeClosed(pipe)

    def signalProcess(self, signalID: str | int) -> None:
        """Send a signal ("TERM", "KILL", "INT", "HUP", "STOP"..., or a number).

        ProcessExitedAlready once the child has been reaped.
        """
        number = _signalNumber(signalID)
        if self.pid is None:
            raise error.ProcessExitedAlready()
        try:
            os.kill(self.pid, number)
        except ProcessLookupError:
            raise error.ProcessExitedAlready() from None

    def getPeer(self) -> ProcessAddress:
        """A process has no network address."""
        return ProcessAddress()

    def getHost(self) -> ProcessAddress:
        """A process has no network address."""
        return ProcessAddress()

    def registerProducer(self, producer: Any, streaming: bool) -> None:
        """Let ``producer`` feed the child's stdin, paused while the buffer is full."""
        pipe = self.pipes.get(0)
        if not isinstance(pipe, _WritePipe):
            raise RuntimeError("the child's stdin is not a pipe written by the parent")
        if pipe.producer is not None:
            raise RuntimeError(f"Cannot register producer {producer!r}: {pipe.producer!r} is "
                               "already registered")
        pipe.producer, pipe.streaming = producer, streaming
        if not streaming:
            producer.resumeProducing()

    def unregisterProducer(self) -> None:
        """Stop asking the registered producer for stdin data."""
        pipe = self.pipes.get(0)
        if isinstance(pipe, _WritePipe):
            pipe.producer = None

    def pauseProducing(self) -> None:
        """Stop reading the child's output descriptors (the pty master included)."""
        for pipe in self.pipes.values():
            if isinstance(pipe, _Reading):
                pipe.pause()

    def resumeProducing(self) -> None:
        """Read the child's output descriptors again (the pty master included)."""
        for pipe in self.pipes.values():
            if isinstance(pipe, _Reading):
                pipe.resume()

    def stopProducing(self) -> None:
        """Close every pipe."""
        self.loseConnection()

    # --- events -------------------------------------------------------------------------------

    def _dataReceived(self, childFD: int, data: bytes) -> None:
        if self.proto is not None:
            self.proto.childDataReceived(childFD, data)

    def _pipeClosed(self, pipe: _ReadPipe | _WritePipe) -> None:
        if self.pipes.get(pipe.childFD) is not pipe:
            return
        del self.pipes[pipe.childFD]
        pipe.close()
        if self._isPTY:
            # One descriptor stands for the whole terminal, as in Twisted.
            self._ptyFD = -1
        elif self.proto is not None:
            try:
                self.proto.childConnectionLost(pipe.childFD)
            except Exception:
                _log.failure("Unhandled error in childConnectionLost")
        self._maybeEnded()

    def _reaped(self, status: int) -> None:
        if self.status is not None:
            return
        self.status = status
        self.pid = None
        popen = self._popen
        if popen is not None:
            popen.returncode = status  # so subprocess never waits for this pid again
        reason = _reasonFor(status)
        if self.proto is not None:
            try:
                self.proto.processExited(Failure(reason))
            except Exception:
                _log.failure("Unhandled error in processExited")
        self._maybeEnded()

    def _maybeEnded(self) -> None:
        if self.status is None or self.pipes or self.proto is None:
            return
        self._reactor._openTransports.pop(self, None)
        proto, self.proto = self.proto, None
        try:
            proto.processEnded(Failure(_reasonFor(self.status)))
        except Exception:
            _log.failure("Unhandled error in processEnded")


# --- spawning ----------------------------------------------------------------------------------


def _dupMapper(mapping: dict[int, int], ctty: bool) -> Any:
    """Build the preexec function that places parent descriptors at child numbers.

    Every source is first duplicated above all targets, so a target that is also another
    mapping's source is never clobbered before it is read.
    """
    import fcntl

    base = max([*mapping, *mapping.values(), 2]) + 1

    def preexec() -> None:
        if ctty:
            import termios

            fcntl.ioctl(0, termios.TIOCSCTTY, 0)
        staged = {target: fcntl.fcntl(source, fcntl.F_DUPFD, base)
                  for target, source in mapping.items()}
        for target, temp in staged.items():
            os.dup2(temp, target)
            os.close(temp)

    return preexec


def spawnProcess(
    reactor: ReactorBase,
    processProtocol: IProcessProtocol,
    executable: bytes | str,
    args: Sequence[bytes | str] = (),
    env: Mapping[Any, Any] | None = None,
    path: bytes | str | None = None,
    uid: int | None = None,
    gid: int | None = None,
    usePTY: bool | tuple[int, int, str] = False,
    childFDs: _ChildFDs | None = None,
) -> Process:
    """Start ``executable`` and connect ``processProtocol`` to it (see the module docstring)."""
    if usePTY and childFDs is not None:
        raise ValueError("Using childFDs is not supported with usePTY=True.")
    argv = list(args) if args else [executable]
    environment = os.environ if env is None else env
    process = Process(reactor, processProtocol)
    parentEnds: list[tuple[int, str, int]] = []  # (childFD, kind, parent fd)
    childEnds: dict[int, int] = {}
    closeAfter: list[int] = []
    closeAfterFailure: list[int] = []
    popenKw: dict[str, Any] = {}
    try:
        if usePTY:
            if isinstance(usePTY, tuple):
                master, slave = usePTY[0], usePTY[1]
            else:
                import pty

                master, slave = pty.openpty()
                closeAfter.append(slave)
            popenKw.update(stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
                           preexec_fn=_dupMapper({}, ctty=True))
            process._isPTY = True
            process._ptyFD = master
            if not isinstance(usePTY, tuple):
                closeAfterFailure = [master]
        else:
            for childFD, target in (childFDs or {0: "w", 1: "r", 2: "r"}).items():
                if target == "r":
                    readEnd, writeEnd = os.pipe()
                    parentEnds.append((childFD, "r", readEnd))
                    childEnds[childFD] = writeEnd
                    closeAfter.append(writeEnd)
                elif target == "w":
                    readEnd, writeEnd = os.pipe()
                    parentEnds.append((childFD, "w", writeEnd))
                    childEnds[childFD] = readEnd
                    closeAfter.append(readEnd)
                elif isinstance(target, int) and not isinstance(target, bool):
                    childEnds[childFD] = target
                else:
                    raise ValueError(f"childFDs[{childFD}] must be 'r', 'w' or a descriptor, "
                                     f"not {target!r}")
            std = ("stdin", "stdout", "stderr")
            for number in (0, 1, 2):
                popenKw[std[number]] = childEnds.pop(number, subprocess.DEVNULL)
            if childEnds:
                # By the time the mapper runs, the child's 0-2 are already replaced: a
                # parent standard descriptor going to a higher number is duplicated first.
                for childFD, source in list(childEnds.items()):
                    if source <= 2:
                        childEnds[childFD] = os.dup(source)
                        closeAfter.append(childEnds[childFD])
                popenKw.update(preexec_fn=_dupMapper(dict(childEnds), ctty=False),
                               close_fds=False)
        popen = subprocess.Popen(
            argv,
            executable=executable,
            env=environment,
            cwd=path,
            user=uid,
            group=gid,
            **popenKw,
        )
    except BaseException:
        for _childFD, _kind, fd in parentEnds:
            os.close(fd)
        for fd in closeAfter:
            os.close(fd)
        for fd in closeAfterFailure:
            os.close(fd)
        raise
    for fd in closeAfter:
        os.close(fd)
    process._popen = popen
    process.pid = popen.pid
    if process._isPTY:
        process.pipes[0] = _PTYPipe(process, process._ptyFD)
    for childFD, kind, fd in parentEnds:
        if kind == "r":
            process.pipes[childFD] = _ReadPipe(process, childFD, fd)
        else:
            process.pipes[childFD] = _WritePipe(process, childFD, fd)
    process._writeFDs = frozenset(
        fd for fd, pipe in process.pipes.items() if isinstance(pipe, _WritePipe)
    )
    reactor._openTransports[process] = None
    processProtocol.makeConnection(process)
    process._watcher = _ExitWatcher(process, popen.pid)
    return process
