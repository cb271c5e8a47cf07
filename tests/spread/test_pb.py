"""Tests for torsion.spread.pb over an in-memory connection."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from pbhelpers import Connection, assertFailure

from torsion.internet import defer
from torsion.internet.testing import StringTransport
from torsion.logger import globalLogPublisher
from torsion.spread import banana, jelly, pb


class Child(pb.Referenceable):
    """An object handed out by reference."""

    def __init__(self, name: str) -> None:
        self.name = name

    def remote_name(self) -> str:
        return self.name


class Thing(pb.Copyable):
    """A copyable whose copy tag is registered below."""

    def __init__(self, a: int, secret: str) -> None:
        self.a = a
        self.secret = secret

    def getStateToCopy(self) -> dict[str, Any]:
        return {"a": self.a}


class RemoteThing(pb.RemoteCopy):
    """The local copy of a Thing."""


pb.setUnjellyableForClass(Thing, RemoteThing)


class Unregistered(pb.Copyable):
    """A copyable nobody registered on the receiving side."""


class Root(pb.Root):
    """The server's root object."""

    def __init__(self) -> None:
        self.pending: defer.Deferred[int] | None = None
        self.received: list[Any] = []
        self.child = Child("kid")

    def remote_add(self, a: int, b: int = 0) -> int:
        return a + b

    def remote_echo(self, value: Any) -> Any:
        return value

    def remote_boom(self) -> None:
        raise ValueError("boom")

    def remote_expected(self) -> None:
        raise pb.Error("expected failure")

    def remote_later(self) -> defer.Deferred[int]:
        self.pending = defer.Deferred()
        return self.pending

    def remote_child(self) -> Child:
        return self.child

    def remote_thing(self) -> Thing:
        return Thing(5, "hidden")

    def remote_unregistered(self) -> Unregistered:
        return Unregistered()

    def remote_take(self, value: Any) -> None:
        self.received.append(value)

    def remote_callBack(self, ref: pb.RemoteReference, value: int) -> defer.Deferred[Any]:
        return ref.callRemote("got", value)


class Callback(pb.Referenceable):
    """A client-side object the server calls back."""

    def __init__(self) -> None:
        self.got: list[int] = []

    def remote_got(self, value: int) -> str:
        self.got.append(value)
        return "thanks"


@pytest.fixture
def conn() -> Connection:
    return Connection(Root())


def test_remoteCall(conn: Connection) -> None:
    """callRemote fires with the remote method's result."""
    assert conn.call(conn.root(), "add", 2, 3) == 5


def test_keywordArguments(conn: Connection) -> None:
    """Keyword arguments reach the remote method."""
    assert conn.call(conn.root(), "add", 2, b=40) == 42


def test_richValuesRoundTrip(conn: Connection) -> None:
    """Jellyable values travel both ways unchanged."""
    value = {"list": [1, 2.5, b"x", "y", None, True], "tuple": (1,), "set": {3}}
    assert conn.call(conn.root(), "echo", value) == value


def test_remoteExceptionBecomesCopiedFailure(conn: Connection) -> None:
    """An exception in the remote method fails the call with a CopiedFailure."""
    failure = assertFailure(conn.call(conn.root(), "boom"), ValueError)
    assert isinstance(failure, pb.CopiedFailure)
    assert failure.getErrorMessage() == "boom"
    assert failure.remoteType == b"builtins.ValueError"
    assert "Traceback unavailable" in failure.traceback


def test_remoteExceptionIsLoggedOnServer(conn: Connection) -> None:
    """The server logs an unexpected exception it sends to the peer."""
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        conn.call(conn.root(), "boom")
    finally:
        globalLogPublisher.removeObserver(events.append)
    assert any("log_failure" in e for e in events)


def test_unsafeTracebacksSendTraceback() -> None:
    """With unsafeTracebacks the remote traceback text is sent."""
    conn = Connection(Root(), unsafeTracebacks=True)
    failure = assertFailure(conn.call(conn.root(), "boom"), ValueError)
    assert "remote_boom" in failure.traceback  # type: ignore[attr-defined]


def test_expectedErrorNotLogged(conn: Connection) -> None:
    """pb.Error reaches the caller and is not logged as a traceback."""
    events: list[dict[str, Any]] = []
    globalLogPublisher.addObserver(events.append)
    try:
        failure = assertFailure(conn.call(conn.root(), "expected"), pb.Error)
    finally:
        globalLogPublisher.removeObserver(events.append)
    assert failure.getErrorMessage() == "expected failure"
    assert not any("log_failure" in e for e in events)


def test_trapReraisesRemoteError(conn: Connection) -> None:
    """Trapping an unrelated error re-raises the remote error as RemoteError."""
    failure = assertFailure(conn.call(conn.root(), "boom"), ValueError)
    with pytest.raises(pb.RemoteError):
        failure.trap(KeyError)


def test_noSuchMethod(conn: Connection) -> None:
    """Calling a method that does not exist fails with NoSuchMethod."""
    assertFailure(conn.call(conn.root(), "nothing"), pb.NoSuchMethod)


def test_deferredResult(conn: Connection) -> None:
    """A remote method returning a Deferred answers when it fires."""
    root = conn.root()
    d = root.callRemote("later")
    out: list[Any] = []
    d.addBoth(out.append)
    conn.pump.flush()
    assert out == []
    assert conn.serverFactory.root.pending is not None  # type: ignore[attr-defined]
    conn.serverFactory.root.pending.callback(7)  # type: ignore[attr-defined]
    conn.pump.flush()
    assert out == [7]


def test_noAnswerCall(conn: Connection) -> None:
    """pbanswer=False sends the call and returns None."""
    root = conn.root()
    assert root.callRemote("take", 1, pbanswer=False) is None
    conn.pump.flush()
    assert conn.serverFactory.root.received == [1]  # type: ignore[attr-defined]


def test_referenceableIsCallable(conn: Connection) -> None:
    """A Referenceable result arrives as a RemoteReference whose calls work."""
    child = conn.call(conn.root(), "child")
    assert isinstance(child, pb.RemoteReference)
    assert conn.call(child, "name") == "kid"


def test_sameObjectSameLuid(conn: Connection) -> None:
    """Sending one object twice gives references to the same remote object."""
    root = conn.root()
    assert conn.call(root, "child") == conn.call(root, "child")


def test_referenceComesBackAsOriginal(conn: Connection) -> None:
    """A RemoteReference sent back to its owner arrives as the original object."""
    root = conn.root()
    child = conn.call(root, "child")
    conn.call(root, "take", child)
    assert conn.serverFactory.root.received == [conn.serverFactory.root.child]  # type: ignore[attr-defined]


def test_serverCallsClientBack(conn: Connection) -> None:
    """A client Referenceable passed as an argument can be called by the server."""
    callback = Callback()
    assert conn.call(conn.root(), "callBack", callback, 9) == "thanks"
    assert callback.got == [9]


def test_decrefReleasesObject(conn: Connection) -> None:
    """Dropping the last reference tells the server to forget the object."""
    root = conn.root()
    child = conn.call(root, "child")
    assert any(isinstance(lob.object, Child) for lob in conn.server.localObjects.values())
    del child
    gc.collect()
    conn.pump.flush()
    assert not any(isinstance(lob.object, Child) for lob in conn.server.localObjects.values())


def test_copyableCopiesState(conn: Connection) -> None:
    """A Copyable arrives as its registered RemoteCopy with getStateToCopy's state."""
    thing = conn.call(conn.root(), "thing")
    assert isinstance(thing, RemoteThing)
    assert thing.__dict__ == {"a": 5}


def test_unregisteredCopyableRefused(conn: Connection) -> None:
    """A copy whose tag is not registered fails the call with InsecureJelly."""
    assertFailure(conn.call(conn.root(), "unregistered"), jelly.InsecureJelly)


def test_unregisteredArgumentRefusedByServer(conn: Connection) -> None:
    """An argument of an unregistered type fails the call; the connection stays up."""
    assertFailure(conn.call(conn.root(), "take", Unregistered()), jelly.InsecureJelly)
    assert conn.call(conn.root(), "add", 1, 1) == 2


def test_connectionLostFailsPendingCalls(conn: Connection) -> None:
    """Calls waiting for an answer fail with PBConnectionLost on disconnect."""
    root = conn.root()
    d = root.callRemote("later")
    out: list[Any] = []
    d.addBoth(out.append)
    conn.pump.flush()
    conn.disconnect()
    assertFailure(out[0], pb.PBConnectionLost)


def test_deadReference(conn: Connection) -> None:
    """Calling through a disconnected broker raises DeadReferenceError."""
    root = conn.root()
    conn.disconnect()
    with pytest.raises(pb.DeadReferenceError):
        root.callRemote("add", 1, 2)


def test_notifyOnDisconnect(conn: Connection) -> None:
    """notifyOnDisconnect callbacks run with the reference; removed ones do not."""
    root = conn.root()
    called: list[Any] = []
    removed: list[Any] = []
    root.notifyOnDisconnect(called.append)
    root.notifyOnDisconnect(removed.append)
    root.dontNotifyOnDisconnect(removed.append)
    conn.disconnect()
    assert called == [root] and removed == []


def test_getRootObjectBeforeConnect() -> None:
    """getRootObject called before connecting fires once connected."""
    factory = pb.PBClientFactory()
    d = factory.getRootObject()
    out: list[Any] = []
    d.addBoth(out.append)
    assert out == []
    server = pb.PBServerFactory(Root())
    from torsion.internet.testing import connectedServerAndClient

    connectedServerAndClient(lambda: server.buildProtocol(None),
                             lambda: factory.buildProtocol(None))[2].flush()
    assert isinstance(out[0], pb.RemoteReference)


def test_versionMismatchDisconnects() -> None:
    """A peer announcing another PB version is disconnected."""
    broker = pb.Broker(isClient=True)
    transport = StringTransport()
    broker.makeConnection(transport)
    broker.dataReceived(banana.encode([b"pb"]))
    broker.dataReceived(banana.encode([b"version", 5]))
    assert transport.disconnecting


def test_unknownCommandAnsweredDidNotUnderstand() -> None:
    """An unknown statement is answered with didNotUnderstand."""
    broker = pb.Broker(isClient=True)
    transport = StringTransport()
    broker.makeConnection(transport)
    broker.dataReceived(banana.encode([b"pb"]))
    transport.clear()
    broker.dataReceived(banana.encode([b"frobnicate", 1]))
    assert b"didNotUnderstand" in transport.value()
    assert not transport.disconnecting


def test_answerForUnknownRequestDisconnects() -> None:
    """An answer to a request never made is a protocol violation."""
    broker = pb.Broker(isClient=True)
    transport = StringTransport()
    broker.makeConnection(transport)
    broker.dataReceived(banana.encode([b"pb"]))
    broker.dataReceived(banana.encode([b"answer", 99, 1]))
    assert transport.disconnecting


def test_callThenDisconnectInCallbackIsDelivered(conn: Connection) -> None:
    """A call made in a callback just before disconnect() still reaches the server."""
    root = conn.root()

    def thenLeave(result: int) -> None:
        root.callRemote("take", result, pbanswer=False)
        conn.clientFactory.disconnect()

    root.callRemote("add", 1, 2).addCallback(thenLeave)
    conn.pump.flush()
    assert conn.serverFactory.root.received == [3]  # type: ignore[attr-defined]
    assert conn.client.disconnected


class Leaver(pb.Root):
    """A root whose methods tell the caller something and then close the transport."""

    def remote_noteAndClose(self, ref: pb.RemoteReference) -> None:
        ref.callRemote("got", 1, pbanswer=False)
        ref.broker.transport.loseConnection()

    def remote_noteLaterAndClose(self, ref: pb.RemoteReference) -> defer.Deferred[Any]:
        def thenClose(answer: str) -> None:
            ref.callRemote("got", 2, pbanswer=False)
            ref.broker.transport.loseConnection()

        return ref.callRemote("got", 1).addCallback(thenClose)

    def remote_noteAndAbort(self, ref: pb.RemoteReference) -> None:
        ref.callRemote("got", 1, pbanswer=False)
        ref.broker.transport.abortConnection()


def test_messageBeforeDirectLoseConnectionIsDelivered() -> None:
    """A message sent by a remote method just before transport.loseConnection() arrives."""
    conn = Connection(Leaver())
    callback = Callback()
    conn.root().callRemote("noteAndClose", callback)
    conn.pump.flush()
    assert callback.got == [1]
    assert conn.client.disconnected


def test_messageBeforeLoseConnectionInCallbackIsDelivered() -> None:
    """A message sent in a callback just before transport.loseConnection() arrives."""
    conn = Connection(Leaver())
    callback = Callback()
    conn.root().callRemote("noteLaterAndClose", callback).addErrback(
        lambda f: f.trap(pb.PBConnectionLost)
    )
    conn.pump.flush()
    assert callback.got == [1, 2]
    assert conn.client.disconnected


class OrderRecordingTransport(StringTransport):
    """A StringTransport that records the order of writes and closes."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, data: bytes) -> None:
        self.calls.append("write")
        super().write(data)

    def loseConnection(self) -> None:
        self.calls.append("lose")
        super().loseConnection()

    def abortConnection(self) -> None:
        self.calls.append("abort")
        super().abortConnection()


def sendThenClose(close: str) -> list[str]:
    """Return the transport calls made when a callback sends, then closes with `close`."""
    broker = pb.Broker(isClient=True)
    transport = OrderRecordingTransport()
    broker.makeConnection(transport)
    broker.dataReceived(banana.encode([b"pb"]))
    transport.calls.clear()

    def sendAndClose(sexp: Any) -> None:
        broker.sendCall(b"version", 6)
        getattr(broker.transport, close)()

    broker.expressionReceived = sendAndClose  # type: ignore[method-assign]
    broker.dataReceived(banana.encode([b"version", 6]))
    return transport.calls


def test_abortConnectionWritesCollectedMessagesFirst() -> None:
    """transport.abortConnection() inside a callback first hands the collected writes over."""
    assert sendThenClose("abortConnection")[:2] == ["write", "abort"]


def test_loseConnectionWritesCollectedMessagesFirst() -> None:
    """transport.loseConnection() inside a callback first hands the collected writes over."""
    assert sendThenClose("loseConnection")[:2] == ["write", "lose"]


def readyServer() -> tuple[pb.Broker, StringTransport]:
    """A server broker past negotiation on a StringTransport."""
    broker = pb.PBServerFactory(Root()).buildProtocol(None)
    transport = StringTransport()
    broker.makeConnection(transport)
    broker.dataReceived(banana.encode(b"pb"))
    return broker, transport


def test_brokerIsStreamingProducerOfItsTransport() -> None:
    """The broker registers itself as its transport's streaming producer."""
    broker, transport = readyServer()
    assert transport.producer is broker and transport.streaming


def test_fullOutputPausesReading() -> None:
    """On the server a full write buffer stops reading calls; a drained one resumes it."""
    broker, transport = readyServer()
    broker.pauseProducing()
    assert transport.producerState == "paused"
    broker.resumeProducing()
    assert transport.producerState == "producing"


def test_clientBrokerKeepsReadingWhenOutputFull() -> None:
    """A client broker never stops reading, so two brokers cannot both wait for the other."""
    broker = pb.Broker(isClient=True)
    transport = StringTransport()
    broker.makeConnection(transport)
    broker.dataReceived(banana.encode([b"pb"]))
    broker.pauseProducing()
    assert transport.producerState == "producing"


def test_callsAgainstSmallWriteBufferAllAnswered() -> None:
    """With a tiny write buffer a burst of calls is still answered in full."""
    conn = Connection(Root())
    root = conn.root()
    conn.server.transport.bufferSize = 64
    results: list[Any] = []
    for n in range(200):
        root.callRemote("echo", b"x" * n).addBoth(results.append)
    conn.pump.flush()
    assert results == [b"x" * n for n in range(200)]
