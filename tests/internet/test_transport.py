"""The stream transport's hot path and footprint: what the loop calls is the user's code."""

from __future__ import annotations

import sys
from typing import Any

from torsion.internet import error
from torsion.internet.defer import Deferred
from torsion.internet.protocol import ClientFactory, Factory, Protocol


class FrameRecorder(Protocol):
    """Records the code object of the frame that called dataReceived."""

    def __init__(self) -> None:
        self.callers: list[str] = []
        self.got: Deferred[None] = Deferred()

    def dataReceived(self, data: bytes) -> None:
        caller = sys._getframe(1)
        self.callers.append(caller.f_code.co_filename)
        if not self.got.called:
            self.got.callback(None)


class Sender(Protocol):
    def connectionMade(self) -> None:
        self.transport.write(b"x")


class Keep(ClientFactory):
    def __init__(self, protocol: Any) -> None:
        self.protocol = protocol
        self.built: Deferred[Any] = Deferred()

    def buildProtocol(self, addr: Any) -> Any:
        p = Factory.buildProtocol(self, addr)
        if not self.built.called:
            self.built.callback(p)
        return p


def _pair(reactor: Any, run: Any, serverProtocol: Any, clientProtocol: Any) -> tuple[Any, Any]:
    sf = Keep(serverProtocol)
    port = reactor.listenTCP(0, sf, interface="127.0.0.1")
    cf = Keep(clientProtocol)
    reactor.connectTCP("127.0.0.1", port.getHost().port, cf)
    return run(sf.built), run(cf.built)


def test_loopCallsDataReceivedWithNoTorsionFrameBetween(reactor: Any, run: Any) -> None:
    """The loop calls the protocol's dataReceived directly: no torsion frame in between."""
    server, client = _pair(reactor, run, FrameRecorder, Sender)
    run(server.got)
    assert server.callers
    # The caller is the loop (asyncio's selector transport) or, under uvloop whose loop is
    # C, the last Python frame below it (the reactor's run); never a transport module.
    transportModules = ("_transport.py", "_tcp.py", "protocol.py")
    assert not any(name.endswith(transportModules) for name in server.callers), server.callers


def test_dataReceivedIsTheProtocolsBoundMethod(reactor: Any, run: Any) -> None:
    """The object the loop holds exposes data_received as the protocol's own dataReceived."""
    server, client = _pair(reactor, run, FrameRecorder, Sender)
    run(server.got)
    conn = server.transport
    assert conn.data_received.__self__ is server
    assert conn._transport.get_protocol() is conn


def test_writeIsTheLoopTransportsBoundMethod(reactor: Any, run: Any) -> None:
    """transport.write and writeSequence are the loop transport's write and writelines."""
    server, client = _pair(reactor, run, FrameRecorder, Sender)
    run(server.got)
    loopTransport = server.transport._transport
    assert server.transport.write == loopTransport.write
    assert server.transport.writeSequence == loopTransport.writelines


def test_connectionObjectIsSmall(reactor: Any, run: Any) -> None:
    """The per-connection object has no __dict__ and stores no bound write methods."""
    server, client = _pair(reactor, run, FrameRecorder, Sender)
    run(server.got)
    conn = server.transport
    assert not hasattr(conn, "__dict__")
    assert "write" not in type(conn).__slots__ and "writeSequence" not in type(conn).__slots__
    assert sys.getsizeof(conn) <= 100


def test_getHandleIsTheSocket(reactor: Any, run: Any) -> None:
    """getHandle() gives the socket, whose name matches getHost()."""
    server, client = _pair(reactor, run, FrameRecorder, Sender)
    run(server.got)
    sock = server.transport.getHandle()
    assert sock.getsockname()[1] == server.transport.getHost().port


def test_logPrefixIsProtocolName(reactor: Any, run: Any) -> None:
    """A connection's logPrefix is its protocol's class name."""
    server, client = _pair(reactor, run, FrameRecorder, Sender)
    run(server.got)
    assert server.transport.logPrefix() == "FrameRecorder"



class Successor(FrameRecorder):
    """The protocol a connection is handed to: records who calls its dataReceived."""


def test_setProtocolHandsReadsToTheNewProtocolDirectly(reactor: Any, run: Any) -> None:
    """After setProtocol the loop calls the new protocol's dataReceived with no frame between."""
    server, client = _pair(reactor, run, Protocol, Protocol)
    successor = Successor()
    server.transport.setProtocol(successor)
    successor.makeConnection(server.transport)
    assert server.transport.protocol is successor
    assert server.transport.data_received.__self__ is successor
    client.transport.write(b"upgraded")
    run(successor.got)
    transportModules = ("_transport.py", "_tcp.py", "protocol.py")
    assert not any(name.endswith(transportModules) for name in successor.callers)


def test_setProtocolSendsConnectionLostToTheNewProtocol(reactor: Any, run: Any) -> None:
    """Once handed over, the end of the connection is reported to the new protocol."""
    server, client = _pair(reactor, run, Protocol, Protocol)
    successor = Protocol()
    lost: Deferred[Any] = Deferred()
    successor.connectionLost = lambda reason: lost.callback(reason.value)  # type: ignore[method-assign]
    server.transport.setProtocol(successor)
    client.transport.loseConnection()
    assert isinstance(run(lost), error.ConnectionDone)
