"""Tests for torsion.protocols.amp: boxes, argument types, commands and errors (in memory)."""

from __future__ import annotations

import datetime
import decimal
import pathlib
from typing import Any

import pytest

from torsion.internet import defer
from torsion.internet.error import ConnectionLost
from torsion.internet.testing import StringTransport, connectedServerAndClient
from torsion.protocols import amp
from torsion.protocols._amp_box import _BoxParser
from torsion.python.failure import Failure


class Sum(amp.Command):
    """Add two integers."""

    arguments = [(b"a", amp.Integer()), (b"b", amp.Integer())]
    response = [(b"total", amp.Integer())]


class Divide(amp.Command):
    """Divide, with a declared error."""

    arguments = [(b"numerator", amp.Integer()), (b"denominator", amp.Integer())]
    response = [(b"result", amp.Float())]
    errors = {ZeroDivisionError: b"ZERO_DIVISION"}


class Fatal(amp.Command):
    """A command whose declared error closes the connection."""

    fatalErrors = {KeyError: b"KEY_ERROR"}


class Crash(amp.Command):
    """A command whose responder raises an undeclared exception."""


class Later(amp.Command):
    """A command answered asynchronously."""

    response = [(b"value", amp.Unicode())]


class Notify(amp.Command):
    """A command that needs no answer."""

    arguments = [(b"message", amp.Unicode())]
    requiresAnswer = False


class Everything(amp.Command):
    """Every argument type, echoed back."""

    commandName = b"every-thing"
    schema = [
        (b"integer", amp.Integer()),
        (b"string", amp.String()),
        (b"unicode", amp.Unicode()),
        (b"boolean", amp.Boolean()),
        (b"float", amp.Float()),
        (b"decimal", amp.Decimal()),
        (b"datetime", amp.DateTime()),
        (b"listof", amp.ListOf(amp.Integer())),
        (b"amplist", amp.AmpList([(b"x", amp.Integer()), (b"y", amp.Unicode(optional=True))])),
        (b"path", amp.Path()),
        (b"optional", amp.Integer(optional=True)),
        (b"from", amp.Unicode()),
    ]
    arguments = schema
    response = schema


class Server(amp.AMP):
    """The responding side."""

    def __init__(self) -> None:
        super().__init__()
        self.later: defer.Deferred[dict[str, str]] | None = None
        self.notes: list[str] = []

    @Sum.responder
    def sum(self, a: int, b: int) -> dict[str, int]:
        return {"total": a + b}

    @Divide.responder
    def divide(self, numerator: int, denominator: int) -> dict[str, float]:
        return {"result": numerator / denominator}

    @Fatal.responder
    def fatal(self) -> dict[str, Any]:
        raise KeyError("gone")

    @Crash.responder
    def crash(self) -> dict[str, Any]:
        raise RuntimeError("oops")

    @Later.responder
    def laterResponder(self) -> defer.Deferred[dict[str, str]]:
        self.later = defer.Deferred()
        return self.later

    @Notify.responder
    def notify(self, message: str) -> dict[str, Any]:
        self.notes.append(message)
        return {}

    @Everything.responder
    def everything(self, **kw: Any) -> dict[str, Any]:
        return kw

    def amp_RAW(self, box: amp.AmpBox) -> amp.AmpBox:
        return amp.AmpBox(echo=box[b"value"])


def connect() -> tuple[amp.AMP, Server, Any]:
    client, server, pump = connectedServerAndClient(Server, amp.AMP)
    return client, server, pump


def wait(pump: Any, d: defer.Deferred[Any] | None) -> Any:
    assert d is not None
    out: list[Any] = []
    d.addBoth(out.append)
    pump.flush()
    assert out, "Deferred did not fire"
    return out[0]


def test_boxWireFormat() -> None:
    """A box is length-prefixed keys and values ended by an empty key."""
    assert amp.AmpBox({b"k": b"vv"}).serialize() == b"\x00\x01k\x00\x02vv\x00\x00"


def test_parseString() -> None:
    """parseString returns every box in the data."""
    data = amp.AmpBox(a=b"1").serialize() + amp.AmpBox(b=b"").serialize()
    assert amp.parseString(data) == [{b"a": b"1"}, {b"b": b""}]


def test_parseStringRefusesPartialData() -> None:
    """Trailing partial data is malformed."""
    with pytest.raises(amp.MalformedAmpBox):
        amp.parseString(amp.AmpBox(a=b"1").serialize()[:-1])


def test_keyTooLongToSend() -> None:
    """A key over 255 bytes cannot be serialised."""
    with pytest.raises(amp.TooLong) as e:
        amp.AmpBox({b"k" * 256: b""}).serialize()
    assert e.value.isKey and e.value.isLocal


def test_valueTooLongToSend() -> None:
    """A value over 65535 bytes cannot be serialised."""
    with pytest.raises(amp.TooLong) as e:
        amp.AmpBox({b"k": b"v" * 65536}).serialize()
    assert not e.value.isKey and e.value.isLocal


def test_receivedKeyTooLongClosesConnection() -> None:
    """A received key length over 255 closes the connection; pending calls fail TooLong."""
    proto = amp.AMP()
    transport = StringTransport()
    proto.makeConnection(transport)
    d = proto.callRemote(Sum, a=1, b=2)
    assert d is not None
    out: list[Any] = []
    d.addBoth(out.append)
    proto.dataReceived(b"\x01\x00" + b"k" * 256)
    assert transport.disconnecting
    proto.connectionLost(Failure(ConnectionLost()))
    assert isinstance(out[0], Failure) and out[0].check(amp.TooLong)


def test_boxesParsedByteByByte() -> None:
    """Boxes split at every byte boundary are parsed the same."""
    boxes: list[amp.AmpBox] = []
    parser = _BoxParser(boxes.append)
    data = amp.AmpBox(a=b"12345", bb=b"").serialize() * 2
    for byte in data:
        parser.feed(bytes([byte]))
    assert boxes == [{b"a": b"12345", b"bb": b""}] * 2


def test_callRemote() -> None:
    """callRemote fires with the parsed response."""
    client, _, pump = connect()
    assert wait(pump, client.callRemote(Sum, a=2, b=40)) == {"total": 42}


def test_allArgumentTypesRoundTrip() -> None:
    """Every argument type survives the round trip."""
    client, _, pump = connect()
    values = {
        "integer": -(2**100),
        "string": b"\x00\xff",
        "unicode": "h\u00e9",
        "boolean": True,
        "float": 1.5,
        "decimal": decimal.Decimal("-1.50"),
        "datetime": datetime.datetime(2024, 2, 29, 1, 2, 3, 4,
                                      tzinfo=datetime.timezone(datetime.timedelta(hours=-5))),
        "listof": [1, 2, 3],
        "amplist": [{"x": 1, "y": "one"}, {"x": 2, "y": None}],
        "path": pathlib.Path("/tmp/x y"),
        "optional": None,
        "From": "keyword",
    }
    assert wait(pump, client.callRemote(Everything, **values)) == values


def test_dateTimeWireFormat() -> None:
    """DateTime is Twisted's 32-character format."""
    value = datetime.datetime(2020, 1, 2, 3, 4, 5, 6, tzinfo=amp.utc)
    assert amp.DateTime().toString(value) == b"2020-01-02T03:04:05.000006-00:00"


def test_naiveDateTimeRefused() -> None:
    """A naive datetime cannot be sent."""
    with pytest.raises(ValueError):
        amp.DateTime().toString(datetime.datetime(2020, 1, 1))


def test_missingArgumentIsInvalidSignature() -> None:
    """Forgetting a required argument fails the call with InvalidSignature."""
    client, _, pump = connect()
    result = wait(pump, client.callRemote(Sum, a=1))
    assert isinstance(result, Failure) and result.check(amp.InvalidSignature)


def test_unknownArgumentIsInvalidSignature() -> None:
    """Passing an argument the command does not declare fails with InvalidSignature."""
    client, _, pump = connect()
    result = wait(pump, client.callRemote(Sum, a=1, b=2, c=3))
    assert isinstance(result, Failure) and result.check(amp.InvalidSignature)


def test_declaredErrorArrivesAsSameClass() -> None:
    """A declared error raised by the responder fails the call with that class."""
    client, _, pump = connect()
    result = wait(pump, client.callRemote(Divide, numerator=1, denominator=0))
    assert isinstance(result, Failure) and result.check(ZeroDivisionError)
    assert wait(pump, client.callRemote(Sum, a=1, b=1)) == {"total": 2}


def test_fatalErrorClosesConnection() -> None:
    """A fatal declared error is delivered, then the connection closes."""
    client, _, pump = connect()
    result = wait(pump, client.callRemote(Fatal))
    assert isinstance(result, Failure) and result.check(KeyError)
    assert client.transport is None


def test_undeclaredErrorIsUnknownAndCloses() -> None:
    """An undeclared exception gives UnknownRemoteError and closes the connection."""
    client, _, pump = connect()
    result = wait(pump, client.callRemote(Crash))
    assert isinstance(result, Failure) and result.check(amp.UnknownRemoteError)
    assert client.transport is None


def test_unhandledCommand() -> None:
    """A command without responder fails with UnhandledCommand; the connection stays."""

    class Nobody(amp.Command):
        pass

    client, _, pump = connect()
    result = wait(pump, client.callRemote(Nobody))
    assert isinstance(result, Failure) and result.check(amp.UnhandledCommand)
    assert wait(pump, client.callRemote(Sum, a=1, b=1)) == {"total": 2}


def test_deferredResponder() -> None:
    """A responder returning a Deferred answers when it fires."""
    client, server, pump = connect()
    d = client.callRemote(Later)
    assert d is not None
    out: list[Any] = []
    d.addBoth(out.append)
    pump.flush()
    assert out == [] and server.later is not None
    server.later.callback({"value": "done"})
    pump.flush()
    assert out == [{"value": "done"}]


def test_noAnswerCommand() -> None:
    """A command with requiresAnswer False returns None and is still delivered."""
    client, server, pump = connect()
    assert client.callRemote(Notify, message="hi") is None
    pump.flush()
    assert server.notes == ["hi"]


def test_simpleStringLocator() -> None:
    """amp_NAME methods answer raw boxes."""
    client, _, pump = connect()
    box = wait(pump, client.callRemoteString(b"raw", value=b"x"))
    assert box[b"echo"] == b"x"


def test_connectionLostFailsOutstanding() -> None:
    """Outstanding calls fail when the connection is lost, and later calls fail at once."""
    client, server, pump = connect()
    d = client.callRemote(Later)
    assert d is not None
    out: list[Any] = []
    d.addBoth(out.append)
    pump.flush()
    client.transport.loseConnection()
    pump.flush()
    assert isinstance(out[0], Failure)
    later = wait(pump, client.callRemote(Sum, a=1, b=2))
    assert isinstance(later, Failure)


def test_emptyBoxClosesConnection() -> None:
    """A box that is neither command nor answer closes the connection."""
    proto = amp.AMP()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(b"\x00\x00")
    assert transport.disconnecting


def test_answerToUnknownTagClosesConnection() -> None:
    """An answer for a request never made closes the connection."""
    proto = amp.AMP()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(amp.AmpBox({amp.ANSWER: b"99"}).serialize())
    assert transport.disconnecting


def test_badArgumentValueAnsweredUnknown() -> None:
    """A command with an unparseable argument is answered with an error, not a crash."""
    client, _, pump = connect()
    box = wait(pump, client.callRemoteString(b"Sum", a=b"one", b=b"2"))
    assert isinstance(box, Failure) and box.check(amp.RemoteAmpError)


def test_commandNameDefaultsToClassName() -> None:
    """A Command's name is its class name unless given."""
    assert Sum.commandName == b"Sum"
    assert Everything.commandName == b"every-thing"


def test_errorsInherited() -> None:
    """Error mappings accumulate down the Command class tree."""

    class Base(amp.Command):
        errors = {KeyError: b"KEY"}

    class Derived(Base):
        errors = {ValueError: b"VALUE"}

    assert Derived.allErrors == {KeyError: b"KEY", ValueError: b"VALUE"}
    assert Derived.reverseErrors[b"KEY"] is KeyError


def _pair(key: bytes, value: bytes) -> bytes:
    return len(key).to_bytes(2, "big") + key + len(value).to_bytes(2, "big") + value


def test_boxOverSizeLimitClosesConnection() -> None:
    """Pairs past boxSizeLimit bytes, with no end of box, close the connection."""

    class Small(amp.AMP):
        boxSizeLimit = 1000

    proto = Small()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(_pair(b"a", b"x" * 400) + _pair(b"b", b"x" * 400))
    assert not transport.disconnecting
    proto.dataReceived(_pair(b"c", b"x" * 400))
    assert transport.disconnecting


def test_boxOverKeyLimitClosesConnection() -> None:
    """More than boxKeyLimit keys in one box close the connection."""

    class Few(amp.AMP):
        boxKeyLimit = 3

    proto = Few()
    transport = StringTransport()
    proto.makeConnection(transport)
    proto.dataReceived(b"".join(_pair(b"k%d" % n, b"") for n in range(3)))
    assert not transport.disconnecting
    proto.dataReceived(_pair(b"k3", b""))
    assert transport.disconnecting


def test_boxSizeCountsOnlyTheCurrentBox() -> None:
    """Boxes that are each under the limit are accepted however many arrive."""
    received: list[amp.AmpBox] = []
    parser = _BoxParser(received.append, sizeLimit=100)
    box = _pair(b"k", b"x" * 80) + b"\x00\x00"
    for _ in range(10):
        parser.feed(box)
    assert len(received) == 10


def readyProtocol() -> tuple[amp.AMP, StringTransport]:
    """An AMP protocol connected to a StringTransport."""
    proto = Server()
    transport = StringTransport()
    proto.makeConnection(transport)
    return proto, transport


def test_protocolIsStreamingProducerOfItsTransport() -> None:
    """AMP registers itself as its transport's streaming producer."""
    proto, transport = readyProtocol()
    assert transport.producer is proto and transport.streaming


def test_fullOutputPausesReading() -> None:
    """A full write buffer stops reading the peer's boxes; a drained one resumes it."""
    proto, transport = readyProtocol()
    proto.pauseProducing()
    assert transport.producerState == "paused"
    proto.resumeProducing()
    assert transport.producerState == "producing"


def test_fullOutputKeepsReadingWhileAwaitingAnswers() -> None:
    """Reading goes on while an answer from the peer is awaited, and stops once it came."""
    proto, transport = readyProtocol()
    d = proto.callRemote(Sum, a=1, b=2)
    assert d is not None
    results: list[Any] = []
    d.addBoth(results.append)
    proto.pauseProducing()
    assert transport.producerState == "producing"
    tag = amp.parseString(transport.value())[0][amp.ASK]
    proto.dataReceived(amp.AmpBox({amp.ANSWER: tag, b"total": b"3"}).serialize())
    assert results == [{"total": 3}]
    assert transport.producerState == "paused"


def test_commandWhilePausedResumesReading() -> None:
    """Sending a command while reading is paused resumes reading."""
    proto, transport = readyProtocol()
    proto.pauseProducing()
    proto.callRemote(Sum, a=1, b=2)
    assert transport.producerState == "producing"


def test_oneWayCommandKeepsReadingUntilDrained() -> None:
    """After a one-way command reading goes on until the buffer drains, then may pause."""
    proto, transport = readyProtocol()
    proto.callRemote(Notify, message="hi")
    proto.pauseProducing()
    assert transport.producerState == "producing"
    proto.resumeProducing()
    proto.pauseProducing()
    assert transport.producerState == "paused"


def test_transportWithProducerLeavesFlowControlOff() -> None:
    """A transport that already has a producer is used without flow control."""
    transport = StringTransport()
    other = object()
    transport.registerProducer(other, True)  # type: ignore[arg-type]
    proto = Server()
    proto.makeConnection(transport)
    assert transport.producer is other


def test_commandsAgainstTinyBufferAllAnswered() -> None:
    """With tiny write buffers a burst of commands in both directions is all answered."""
    client, server, pump = connectedServerAndClient(Server, Server)
    client.transport.bufferSize = server.transport.bufferSize = 64
    results: list[Any] = []
    for n in range(200):
        d = client.callRemote(Sum, a=n, b=1)
        e = server.callRemote(Sum, a=n, b=2)
        assert d is not None and e is not None
        d.addBoth(results.append)
        e.addBoth(results.append)
    pump.flush()
    assert len(results) == 400 and all(isinstance(r, dict) for r in results)
