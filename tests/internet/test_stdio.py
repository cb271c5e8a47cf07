"""StandardIO over pipes and a real child's stdin/stdout, on both engines."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from torsion.internet import error
from torsion.internet._reactor import Reactor
from torsion.internet.defer import Deferred
from torsion.internet.protocol import ProcessProtocol, Protocol
from torsion.internet.stdio import PipeAddress, StandardIO
from torsion.python.failure import Failure


class Collector(Protocol):
    """Records data and the end of the connection."""

    def __init__(self) -> None:
        self.received = b""
        self.lost: Deferred[None] = Deferred()
        self.reason: Failure | None = None

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Failure = None) -> None:  # type: ignore[assignment]
        self.reason = reason
        self.lost.callback(None)


class HalfClose(Collector):
    """Answers after the end of input, which it may do as a half-closeable protocol."""

    def readConnectionLost(self) -> None:
        assert self.transport is not None
        self.transport.write(b"total " + str(len(self.received)).encode())
        self.transport.loseConnection()


@pytest.fixture
def pipes() -> Iterator[tuple[int, int, int, int]]:
    """Two pipes: (stdin read end, its write end, stdout read end, stdout write end)."""
    inR, inW = os.pipe()
    outR, outW = os.pipe()
    yield inR, inW, outR, outW
    for fd in (inR, inW, outR, outW):
        try:
            os.close(fd)
        except OSError:
            pass


def test_inputReachesDataReceived(reactor: Reactor, run: Any, pipes: Any) -> None:
    """Bytes on stdin reach dataReceived; end of input closes the connection cleanly."""
    inR, inW, outR, outW = pipes
    proto = Collector()
    StandardIO(proto, stdin=inR, stdout=outW, reactor=reactor)
    os.write(inW, b"hello stdin")
    os.close(inW)
    run(proto.lost)
    assert proto.received == b"hello stdin"
    assert proto.reason is not None and proto.reason.check(error.ConnectionDone)


def test_writeReachesStdout(reactor: Reactor, pipes: Any) -> None:
    """write() puts bytes on stdout at once when the pipe has room."""
    inR, inW, outR, outW = pipes
    proto = Collector()
    transport = StandardIO(proto, stdin=inR, stdout=outW, reactor=reactor)
    transport.write(b"out ")
    transport.writeSequence([b"put"])
    assert os.read(outR, 100) == b"out put"


def test_writeStrRaises(reactor: Reactor, pipes: Any) -> None:
    """Writing str is a TypeError."""
    inR, inW, outR, outW = pipes
    transport = StandardIO(Collector(), stdin=inR, stdout=outW, reactor=reactor)
    with pytest.raises(TypeError):
        transport.write("text")  # type: ignore[arg-type]


def test_largeOutputIsBufferedThenFlushed(reactor: Reactor, run: Any, pipes: Any) -> None:
    """Output larger than the pipe is buffered and all of it arrives, then the close."""
    inR, inW, outR, outW = pipes
    proto = Collector()
    transport = StandardIO(proto, stdin=inR, stdout=outW, reactor=reactor)
    payload = os.urandom(1 << 20)
    transport.write(payload)
    transport.loseConnection()
    chunks: list[bytes] = []

    def drain() -> None:
        try:
            data = os.read(outR, 65536)
        except BlockingIOError:
            return
        chunks.append(data)

    os.set_blocking(outR, False)
    reactor._loop.add_reader(outR, drain)
    run(proto.lost)
    reactor._loop.remove_reader(outR)
    os.set_blocking(outR, True)
    os.close(outW)
    rest = b""
    while True:
        data = os.read(outR, 65536)
        if not data:
            break
        rest += data
    assert b"".join(chunks) + rest == payload


def test_halfCloseableProtocolCanAnswerAfterEOF(reactor: Reactor, run: Any, pipes: Any) -> None:
    """A protocol with readConnectionLost may still write after the end of input."""
    inR, inW, outR, outW = pipes
    proto = HalfClose()
    StandardIO(proto, stdin=inR, stdout=outW, reactor=reactor)
    os.write(inW, b"12345")
    os.close(inW)
    run(proto.lost)
    assert os.read(outR, 100) == b"total 5"


def test_addressesArePipeAddresses(reactor: Reactor, pipes: Any) -> None:
    """getPeer and getHost give PipeAddress."""
    inR, inW, outR, outW = pipes
    transport = StandardIO(Collector(), stdin=inR, stdout=outW, reactor=reactor)
    assert transport.getPeer() == PipeAddress() == transport.getHost()


def test_exceptionInDataReceivedClosesOnlyThisConnection(
    reactor: Reactor, run: Any, pipes: Any
) -> None:
    """An exception in dataReceived is logged and ends the connection with that failure."""
    inR, inW, outR, outW = pipes

    class Broken(Collector):
        def dataReceived(self, data: bytes) -> None:
            raise ValueError("stdin protocol broke")

    proto = Broken()
    StandardIO(proto, stdin=inR, stdout=outW, reactor=reactor)
    os.write(inW, b"x")
    run(proto.lost)
    assert proto.reason is not None and proto.reason.check(ValueError)


def test_realStdinAndStdoutOfAChild(reactor: Reactor, run: Any, tmp_path: Any) -> None:
    """A child using StandardIO with the global reactor echoes its real stdin upper-cased."""
    script = tmp_path / "upper.py"
    script.write_text(textwrap.dedent("""
        from torsion.internet import reactor
        from torsion.internet.protocol import Protocol
        from torsion.internet.stdio import StandardIO

        class Upper(Protocol):
            def dataReceived(self, data):
                self.transport.write(data.upper())
            def connectionLost(self, reason):
                reactor.stop()

        StandardIO(Upper())
        reactor.run()
    """))

    class Child(ProcessProtocol):
        def __init__(self) -> None:
            self.out = b""
            self.ended: Deferred[None] = Deferred()

        def outReceived(self, data: bytes) -> None:
            self.out += data

        def processEnded(self, reason: Failure) -> None:
            self.ended.callback(None)

    child = Child()
    transport = reactor.spawnProcess(child, sys.executable, [sys.executable, str(script)],
                                     env=None)
    transport.write(b"shout this")
    transport.closeStdin()
    run(child.ended)
    assert child.out == b"SHOUT THIS"


def test_regularFileAsStdin(reactor: Reactor, run: Any, tmp_path: Any, pipes: Any) -> None:
    """A regular file as stdin (shell redirection) is read to its end."""
    inR, inW, outR, outW = pipes
    source = tmp_path / "input.txt"
    source.write_bytes(b"from a file" * 1000)
    with open(source, "rb") as f:
        proto = Collector()
        StandardIO(proto, stdin=f.fileno(), stdout=outW, reactor=reactor)
        run(proto.lost)
    assert proto.received == b"from a file" * 1000


def test_producerIsPausedAndResumed(reactor: Reactor, run: Any, pipes: Any) -> None:
    """A streaming producer on stdout is paused when the buffer fills, resumed when drained."""
    inR, inW, outR, outW = pipes
    transport = StandardIO(Collector(), stdin=inR, stdout=outW, reactor=reactor)
    calls: list[str] = []
    resumed: Deferred[None] = Deferred()

    class Producer:
        def pauseProducing(self) -> None:
            calls.append("pause")

        def resumeProducing(self) -> None:
            calls.append("resume")
            resumed.callback(None)

        def stopProducing(self) -> None:
            calls.append("stop")

    transport.registerProducer(Producer(), True)
    transport.write(b"y" * (1 << 20))
    assert calls == ["pause"]

    def drain() -> None:
        try:
            os.read(outR, 1 << 16)
        except BlockingIOError:
            pass

    os.set_blocking(outR, False)
    reactor._loop.add_reader(outR, drain)
    try:
        run(resumed)
    finally:
        reactor._loop.remove_reader(outR)
    assert calls == ["pause", "resume"]


def test_pauseProducingStopsReading(reactor: Reactor, run: Any, pipes: Any) -> None:
    """pauseProducing stops delivering stdin; resumeProducing delivers what waited."""
    inR, inW, outR, outW = pipes
    proto = Collector()
    transport = StandardIO(proto, stdin=inR, stdout=outW, reactor=reactor)
    transport.pauseProducing()
    os.write(inW, b"waiting")
    os.close(inW)
    settled: Deferred[None] = Deferred()
    reactor.callLater(0.02, settled.callback, None)
    run(settled)
    assert proto.received == b""
    transport.resumeProducing()
    run(proto.lost)
    assert proto.received == b"waiting"
