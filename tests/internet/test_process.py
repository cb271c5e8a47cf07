"""spawnProcess with real /bin/sh and Python children, on both engines."""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import pytest

from torsion.internet import error
from torsion.internet._process import Process
from torsion.internet._reactor import Reactor
from torsion.internet.defer import Deferred
from torsion.internet.interfaces import IProcessTransport
from torsion.internet.protocol import ProcessProtocol
from torsion.logger import capturedLogs
from torsion.python.failure import Failure

SH = "/bin/sh"
PY = sys.executable


class Recorder(ProcessProtocol):
    """Collects everything a child sends and the order of the callbacks."""

    def __init__(self) -> None:
        self.data: dict[int, bytes] = {}
        self.events: list[Any] = []
        self.exited: Deferred[None] = Deferred()
        self.ended: Deferred[None] = Deferred()
        self.exitReason: Failure | None = None
        self.endReason: Failure | None = None

    def connectionMade(self) -> None:
        self.events.append("connectionMade")

    def childDataReceived(self, childFD: int, data: bytes) -> None:
        self.data[childFD] = self.data.get(childFD, b"") + data

    def childConnectionLost(self, childFD: int) -> None:
        self.events.append(("lost", childFD))

    def processExited(self, reason: Failure) -> None:
        self.events.append("exited")
        self.exitReason = reason
        self.exited.callback(None)

    def processEnded(self, reason: Failure) -> None:
        self.events.append("ended")
        self.endReason = reason
        self.ended.callback(None)


def ended(run: Any, proto: Recorder) -> Any:
    """Run until ``proto``'s process ended and return the reason (a Failure)."""
    run(proto.ended)
    return proto.endReason


def _sh(reactor: Reactor, script: str, **kw: Any) -> tuple[Recorder, Process]:
    proto = Recorder()
    transport = reactor.spawnProcess(proto, SH, [SH, "-c", script], **kw)
    return proto, transport


def test_stdoutAndCleanExit(reactor: Reactor, run: Any) -> None:
    """A child's stdout reaches childDataReceived(1) and exit 0 ends with ProcessDone."""
    proto, transport = _sh(reactor, "echo hello")
    reason = ended(run, proto)
    assert proto.data[1] == b"hello\n"
    assert reason.check(error.ProcessDone)
    assert reason.value.exitCode == 0
    assert isinstance(transport, IProcessTransport)


def test_stderrIsChildFD2(reactor: Reactor, run: Any) -> None:
    """The child's stderr arrives on descriptor 2."""
    proto, _ = _sh(reactor, "echo oops >&2")
    run(proto.ended)
    assert proto.data == {2: b"oops\n"}


def test_exitCodeIsReported(reactor: Reactor, run: Any) -> None:
    """A non-zero exit ends with ProcessTerminated carrying exitCode."""
    proto, _ = _sh(reactor, "exit 3")
    reason = ended(run, proto)
    assert reason.check(error.ProcessTerminated)
    assert reason.value.exitCode == 3 and reason.value.signal is None


def test_callbackOrder(reactor: Reactor, run: Any) -> None:
    """makeConnection comes first, processEnded last, after every pipe is lost."""
    proto, _ = _sh(reactor, "true")
    run(proto.ended)
    assert proto.events[0] == "connectionMade"
    assert proto.events[-1] == "ended"
    assert sorted(e for e in proto.events if isinstance(e, tuple)) == [
        ("lost", 0), ("lost", 1), ("lost", 2)]
    assert "exited" in proto.events


def test_stdinIsWrittenAndClosed(reactor: Reactor, run: Any) -> None:
    """Data written to the transport is the child's stdin; closeStdin gives it EOF."""
    proto, transport = _sh(reactor, "cat")
    transport.write(b"line one\n")
    transport.writeSequence([b"line ", b"two\n"])
    transport.closeStdin()
    run(proto.ended)
    assert proto.data[1] == b"line one\nline two\n"


def test_largeStdinIsBuffered(reactor: Reactor, run: Any) -> None:
    """More stdin than a pipe holds is buffered and delivered whole."""
    payload = os.urandom(1 << 20)
    proto = Recorder()
    transport = reactor.spawnProcess(
        proto, PY, [PY, "-c", "import sys; sys.stdout.buffer.write(sys.stdin.buffer.read())"],
        env=None,
    )
    transport.write(payload)
    transport.closeStdin()
    run(proto.ended)
    assert proto.data[1] == payload


def test_writeStrRaisesTypeError(reactor: Reactor, run: Any) -> None:
    """Writing str to a child is a TypeError: only bytes go on a pipe."""
    proto, transport = _sh(reactor, "cat")
    with pytest.raises(TypeError):
        transport.write("text")  # type: ignore[arg-type]
    transport.closeStdin()
    run(proto.ended)


def test_signalTerminatesChild(reactor: Reactor, run: Any) -> None:
    """signalProcess("TERM") kills the child: ProcessTerminated carries the signal."""
    proto, transport = _sh(reactor, "exec sleep 30")
    transport.signalProcess("TERM")
    reason = ended(run, proto)
    assert reason.check(error.ProcessTerminated)
    assert reason.value.signal == signal.SIGTERM and reason.value.exitCode is None


def test_signalByNumber(reactor: Reactor, run: Any) -> None:
    """signalProcess accepts a signal number."""
    proto, transport = _sh(reactor, "exec sleep 30")
    transport.signalProcess(signal.SIGKILL)
    reason = ended(run, proto)
    assert reason.value.signal == signal.SIGKILL


def test_signalAfterExitRaises(reactor: Reactor, run: Any) -> None:
    """signalProcess after the child was reaped raises ProcessExitedAlready; pid is None."""
    proto, transport = _sh(reactor, "true")
    assert isinstance(transport.pid, int)
    run(proto.ended)
    assert transport.pid is None
    with pytest.raises(error.ProcessExitedAlready):
        transport.signalProcess("KILL")


def test_defaultEnvironmentIsEmpty(reactor: Reactor, run: Any) -> None:
    """Without env the child gets an empty environment, as in Twisted on POSIX."""
    proto = Recorder()
    reactor.spawnProcess(proto, PY, [PY, "-c", "import os; print(sorted(os.environ))"])
    run(proto.ended)
    names = eval(proto.data[1])
    assert "HOME" not in names and "PATH" not in names


def test_defaultEnvIsEmptyInInterfaceAndReactor() -> None:
    """IReactorProcess and the Reactor both document an empty mapping as env's default."""
    import inspect

    from torsion.internet.interfaces import IReactorProcess

    for spawn in (IReactorProcess.spawnProcess, Reactor.spawnProcess):
        default = inspect.signature(spawn).parameters["env"].default
        assert default is not None and dict(default) == {}


def test_envNoneInheritsEnvironment(reactor: Reactor, run: Any,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """env=None passes the parent's os.environ."""
    monkeypatch.setenv("TORSION_TEST_INHERITED", "yes")
    proto, _ = _sh(reactor, "printf %s \"$TORSION_TEST_INHERITED\"", env=None)
    run(proto.ended)
    assert proto.data[1] == b"yes"


def test_envDictIsTheWholeEnvironment(reactor: Reactor, run: Any) -> None:
    """A dict env is the child's complete environment; bytes and str both work."""
    proto, _ = _sh(reactor, "printf '%s-%s' \"$A\" \"$B\"", env={"A": "1", b"B": b"2"})
    run(proto.ended)
    assert proto.data[1] == b"1-2"


def test_pathIsTheWorkingDirectory(reactor: Reactor, run: Any, tmp_path: Any) -> None:
    """path sets the child's working directory."""
    proto, _ = _sh(reactor, "pwd", path=str(tmp_path))
    run(proto.ended)
    assert proto.data[1].strip() == os.fsencode(os.path.realpath(tmp_path))


def test_missingExecutableRaises(reactor: Reactor) -> None:
    """A missing executable raises at once and leaks no descriptor."""
    before = set(os.listdir("/proc/self/fd"))
    with pytest.raises(FileNotFoundError):
        reactor.spawnProcess(Recorder(), "/nonexistent/program", ["x"])
    assert set(os.listdir("/proc/self/fd")) <= before


def test_usePTYGivesTheChildATerminal(reactor: Reactor, run: Any) -> None:
    """With usePTY the child's stdin is a terminal and its output comes on descriptor 1."""
    proto = Recorder()
    reactor.spawnProcess(
        proto, PY,
        [PY, "-c", "import os, sys; print(os.isatty(0), os.isatty(1))"],
        usePTY=True,
    )
    reason = ended(run, proto)
    assert reason.check(error.ProcessDone)
    assert proto.data[1].strip() == b"True True"


def test_usePTYEchoesInput(reactor: Reactor, run: Any) -> None:
    """Bytes written to a pty child are read by it as terminal input."""
    proto = Recorder()
    transport = reactor.spawnProcess(
        proto, PY, [PY, "-c", "print('got', input())"], usePTY=True)
    transport.write(b"typed\n")
    run(proto.ended)
    assert b"got typed" in proto.data[1]


def test_pauseProducingPausesPTYOutput(reactor: Reactor, run: Any) -> None:
    """pauseProducing holds a pty child's output until resumeProducing, as for pipes."""
    from torsion.internet import task

    proto = Recorder()
    transport = reactor.spawnProcess(
        proto, PY, [PY, "-c", "print('hello from the pty')"], usePTY=True)
    transport.pauseProducing()
    # The child has long printed and exited by now; nothing may have been read.
    run(task.deferLater(reactor, 0.3, lambda: None))
    assert proto.data.get(1, b"") == b""
    transport.resumeProducing()
    run(proto.ended)
    assert b"hello from the pty" in proto.data[1]


def test_childFDsExtraReadPipe(reactor: Reactor, run: Any) -> None:
    """childFDs can open extra descriptors: the child writes to fd 3, the parent reads."""
    proto = Recorder()
    reactor.spawnProcess(
        proto, SH, [SH, "-c", "echo out; echo three >&3"],
        childFDs={0: "w", 1: "r", 2: "r", 3: "r"},
    )
    run(proto.ended)
    assert proto.data == {1: b"out\n", 3: b"three\n"}


def test_childFDsExtraWritePipe(reactor: Reactor, run: Any) -> None:
    """writeToChild writes to an extra descriptor the child reads."""
    proto = Recorder()
    transport = reactor.spawnProcess(
        proto, SH, [SH, "-c", "cat <&4"], childFDs={1: "r", 4: "w"})
    transport.writeToChild(4, b"via four")
    transport.closeChildFD(4)
    run(proto.ended)
    assert proto.data == {1: b"via four"}


def test_childFDsMapsParentDescriptor(reactor: Reactor, run: Any, tmp_path: Any) -> None:
    """An int in childFDs hands that parent descriptor to the child."""
    target = tmp_path / "out.txt"
    with open(target, "wb") as f:
        proto = Recorder()
        reactor.spawnProcess(proto, SH, [SH, "-c", "echo to-file"], childFDs={1: f.fileno()})
        run(proto.ended)
    assert target.read_bytes() == b"to-file\n"


def test_writeToReadPipeRaises(reactor: Reactor, run: Any) -> None:
    """writeToChild on a descriptor the parent reads is a KeyError."""
    proto, transport = _sh(reactor, "cat")
    with pytest.raises(KeyError):
        transport.writeToChild(1, b"x")
    transport.closeStdin()
    run(proto.ended)


def test_loseConnectionClosesPipes(reactor: Reactor, run: Any) -> None:
    """loseConnection closes stdin (the child sees EOF) and the output pipes."""
    proto, transport = _sh(reactor, "cat; exit 4")
    transport.loseConnection()
    reason = ended(run, proto)
    assert reason.value.exitCode == 4


def test_exceptionInProtocolIsLogged(reactor: Reactor, run: Any) -> None:
    """An exception in childDataReceived is logged; the process still ends normally."""

    class Broken(Recorder):
        def childDataReceived(self, childFD: int, data: bytes) -> None:
            raise RuntimeError("protocol broke")

    proto = Broken()
    with capturedLogs() as events:
        reactor.spawnProcess(proto, SH, [SH, "-c", "echo x"])
        reason = ended(run, proto)
    assert reason.check(error.ProcessDone)
    assert any("protocol broke" in str(e.get("log_failure")) for e in events)


def test_processExitedBeforeGrandchildClosesPipe(reactor: Reactor, run: Any) -> None:
    """processExited fires when the child exits even while a grandchild holds its stdout."""
    # The grandchild keeps the stdout pipe until its stdin (ours, saved as fd 3) is closed
    # by loseConnection: no timing involved, and no orphan left behind.
    proto, transport = _sh(reactor, "exec 3<&0; read line <&3 & echo started")
    run(proto.exited)
    assert not proto.ended.called
    transport.loseConnection()
    run(proto.ended)


@pytest.mark.skipif(os.geteuid() != 0, reason="changing uid/gid needs root")
def test_uidAndGidAreApplied(reactor: Reactor, run: Any) -> None:
    """uid and gid run the child as that user and group."""
    proto, _ = _sh(reactor, "echo $(id -u) $(id -g)", uid=65534, gid=65534,
                   env={"PATH": "/usr/bin:/bin"})
    run(proto.ended)
    assert proto.data[1] == b"65534 65534\n"


def test_pauseProducingHoldsOutputUntilResumed(reactor: Reactor, run: Any) -> None:
    """While paused, the child's output stays in the pipe; resumeProducing delivers it."""
    proto, transport = _sh(reactor, "echo held")
    transport.pauseProducing()
    run(proto.exited)
    assert proto.data == {}
    transport.resumeProducing()
    run(proto.ended)
    assert proto.data == {1: b"held\n"}


class Producer:
    """A streaming producer that records pause/resume calls."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.resumed: Deferred[None] = Deferred()

    def pauseProducing(self) -> None:
        self.calls.append("pause")

    def resumeProducing(self) -> None:
        self.calls.append("resume")
        if not self.resumed.called:
            self.resumed.callback(None)

    def stopProducing(self) -> None:
        self.calls.append("stop")


def test_stdinProducerIsPausedAndResumed(reactor: Reactor, run: Any) -> None:
    """A streaming producer on stdin is paused when the buffer fills, resumed once drained."""
    proto = Recorder()
    transport = reactor.spawnProcess(
        proto, PY, [PY, "-c", "import sys; sys.stdout.write(str(len(sys.stdin.buffer.read())))"])
    producer = Producer()
    transport.registerProducer(producer, True)
    transport.write(b"x" * (1 << 20))
    assert producer.calls == ["pause"]
    run(producer.resumed)
    transport.unregisterProducer()
    transport.closeStdin()
    run(proto.ended)
    assert proto.data[1] == str(1 << 20).encode()


def test_childFDsMapsParentStandardDescriptorHigher(reactor: Reactor, run: Any) -> None:
    """A parent descriptor 0-2 can be given to the child at a higher number."""
    readEnd, writeEnd = os.pipe()
    saved = os.dup(0)
    try:
        os.dup2(writeEnd, 0)  # the parent's descriptor 0 is our pipe, for this spawn only
        proto = Recorder()
        reactor.spawnProcess(proto, SH, [SH, "-c", "echo via-five >&5"],
                             childFDs={1: "r", 5: 0})
    finally:
        os.dup2(saved, 0)
        os.close(saved)
        os.close(writeEnd)
    run(proto.ended)
    os.set_blocking(readEnd, False)
    assert os.read(readEnd, 100) == b"via-five\n"
    os.close(readEnd)
