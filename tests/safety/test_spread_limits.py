"""Hostile PB/banana/jelly input: a clear error and a closed connection, never a hang.

The peer is a raw client on a real socket that speaks just enough banana to get past
dialect negotiation and then sends something hostile.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from rawclient import floodWithoutReading, recordChannels

from torsion.internet.defer import Deferred
from torsion.internet.protocol import ClientFactory, Protocol
from torsion.logger import capturedLogs
from torsion.spread import banana, jelly, pb

_HELLO = banana.encode(b"pb") + banana.encode([b"version", 6])
_sideEffects: list[str] = []


class _Evil:
    """A class nobody registered: the server must never build one."""

    def __init__(self) -> None:
        _sideEffects.append("init")

    def __setstate__(self, state: Any) -> None:
        _sideEffects.append("setstate")


class _Root(pb.Root):
    def remote_echo(self, value: Any) -> Any:
        return value


class _Raw(Protocol):
    """Sends `payload` after the banana handshake; `lost` fires with what it received."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.received = b""
        self.lost: Deferred[bytes] = Deferred()

    def connectionMade(self) -> None:
        self.transport.write(_HELLO + self.payload)

    def dataReceived(self, data: bytes) -> None:
        self.received += data

    def connectionLost(self, reason: Any = None) -> None:
        self.lost.callback(self.received)


def _attack(reactor: Any, run: Any, payload: bytes, closes: bool = True,
            answered: Callable[[bytes], bool] = bool) -> bytes:
    """Serve a PB root, send `payload` from a raw client; return what the server sent back.

    With ``closes``, once the server has closed the connection; else once what came back
    is ``answered`` (or 10 s have passed: a fixed wait loses to a loaded machine).
    """
    port = reactor.listenTCP(0, pb.PBServerFactory(_Root()), interface="127.0.0.1")
    client = _Raw(payload)
    factory = ClientFactory()
    factory.protocol = lambda: client  # type: ignore[assignment]
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
    if closes:
        return run(client.lost)  # type: ignore[no-any-return]
    deadline = time.monotonic() + 10
    while not answered(client.received) and time.monotonic() < deadline:
        done: Deferred[None] = Deferred()
        reactor.callLater(0.02, done.callback, None)
        run(done)
    return client.received


def _stillServes(reactor: Any, run: Any) -> None:
    """A well-behaved PB client still gets answers from a fresh server on this reactor."""
    port = reactor.listenTCP(0, pb.PBServerFactory(_Root()), interface="127.0.0.1")
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)

    async def call() -> Any:
        root = await factory.getRootObject()
        result = await root.callRemote("echo", 42)
        factory.disconnect()
        return result

    assert run(call(), timeout=5) == 42


def test_bananaLimitDefaults() -> None:
    """The banana bounds are set: 64-byte prefixes, 640 KiB strings and lists, depth 200."""
    assert banana.SIZE_LIMIT == 640 * 1024
    assert banana.DEPTH_LIMIT == 200
    assert banana.EXPRESSION_ITEM_LIMIT == 2 * banana.SIZE_LIMIT
    assert pb.Broker().prefixLimit == 64
    assert jelly.DEPTH_LIMIT == 50


@pytest.mark.parametrize(
    "payload",
    [
        b"\x7f" * 100,  # a prefix longer than the limit, no type byte yet
        b"\x7f" * 100 + b"\x81",  # an over-long prefix with its type byte
        banana.int2b128(10**9) + b"\x82",  # a string of a gigabyte, payload never sent
        banana.int2b128(10**9) + b"\x80",  # a list of a billion items
        b"\x01\x80" * 1000,  # lists nested 1000 deep
        b"\x01\xff",  # an unknown type byte
        banana.int2b128(10**6) + b"\x87",  # an unknown vocabulary symbol
    ],
    ids=["prefix", "prefix-typed", "huge-string", "huge-list", "deep", "bad-type", "vocab"],
)
def test_malformedBananaClosesConnection(reactor: Any, run: Any, payload: bytes) -> None:
    """Each malformed banana input is logged and closes the connection at once."""
    with capturedLogs() as events:
        _attack(reactor, run, payload)
    assert any("Banana protocol error" in str(e.get("log_format")) for e in events)
    _stillServes(reactor, run)


def test_nonListStatementClosesConnection(reactor: Any, run: Any) -> None:
    """A PB statement that is not a list closes the connection."""
    _attack(reactor, run, banana.encode(b"hello"))
    _stillServes(reactor, run)


def test_unregisteredClassIsNeverBuilt(reactor: Any, run: Any) -> None:
    """A call whose arguments name an unregistered class is refused; the class is never built."""
    name = (_Evil.__module__ + "._Evil").encode()
    args = [b"tuple", [name, [b"dictionary", [b"a", 1]]]]
    message = [b"message", 1, b"root", b"echo", 1, args, [b"dictionary"]]
    _sideEffects.clear()
    def refused(received: bytes) -> bool:
        return b"InsecureJelly" in received or b"error" in received

    received = _attack(reactor, run, banana.encode(message), closes=False, answered=refused)
    assert _sideEffects == []
    assert refused(received)


def test_unjellyRefusesUnregisteredClass() -> None:
    """unjelly of an instance of an unregistered class raises InsecureJelly."""
    name = (_Evil.__module__ + "._Evil").encode()
    _sideEffects.clear()
    with pytest.raises(jelly.InsecureJelly):
        jelly.unjelly([name, [b"dictionary"]])
    assert _sideEffects == []


def test_unjellyRefusesDeepNesting() -> None:
    """unjelly of lists nested deeper than the limits raises InsecureJelly, not RecursionError."""
    sexp: Any = [b"list"]
    for _ in range(5000):
        sexp = [b"list", sexp]
    with pytest.raises(jelly.InsecureJelly):
        jelly.unjelly(sexp)


def test_jellyCyclesRoundTrip() -> None:
    """A self-referencing list survives jelly/unjelly without recursion."""
    value: list[Any] = [1]
    value.append(value)
    out = jelly.unjelly(jelly.jelly(value))
    assert out[0] == 1 and out[1] is out


def test_unjellyDanglingReferenceIsRefused() -> None:
    """A dereference to an id never defined is an InsecureJelly, not a hang or KeyError."""
    with pytest.raises(jelly.InsecureJelly):
        jelly.unjelly([b"list", [b"dereference", 99]])


def test_floodOfTinyStatementsIsAnswered(reactor: Any, run: Any) -> None:
    """Ten thousand unknown statements in one burst are answered and the reactor keeps serving."""
    def answered(received: bytes) -> bool:
        return received.count(b"didNotUnderstand") >= 1 or len(received) > 10000

    received = _attack(reactor, run, banana.encode([b"nonsense"]) * 10000, closes=False,
                       answered=answered)
    assert answered(received)
    _stillServes(reactor, run)


def test_callFloodFromNonReadingClientIsBounded(reactor: Any, run: Any) -> None:
    """A client flooding calls without reading answers cannot grow the server's buffer unbounded."""
    factory = pb.PBServerFactory(_Root())
    brokers = recordChannels(factory)
    port = reactor.listenTCP(0, factory, interface="127.0.0.1")
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port.getHost().port))
    sock.setblocking(False)
    call = banana.encode(
        [b"message", 1, b"root", b"echo", 1, [b"tuple", b"x" * 1000], [b"dictionary"]]
    )
    try:
        floodWithoutReading(
            reactor, run, sock, call, total=16_000_000, sendsPerTick=100, greeting=_HELLO
        )
        held = brokers[0]._rawTransport._transport.get_write_buffer_size()
    finally:
        sock.close()
    assert held < 4_000_000, f"server holds {held} bytes of answers"


def test_cyclicArgumentsRoundTripOverTheWire(reactor: Any, run: Any) -> None:
    """A self-referencing list sent as a PB argument comes back with its cycle, no hang."""
    port = reactor.listenTCP(0, pb.PBServerFactory(_Root()), interface="127.0.0.1")
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
    value: list[Any] = [1]
    value.append(value)

    async def call() -> Any:
        root = await factory.getRootObject()
        result = await root.callRemote("echo", value)
        factory.disconnect()
        return result

    result = run(call(), timeout=5)
    assert result[0] == 1 and result[1] is result


def test_deepArgumentIsRefusedWithAClearError(reactor: Any, run: Any) -> None:
    """An argument nested deeper than the jelly limit fails the call with an error, no crash."""
    port = reactor.listenTCP(0, pb.PBServerFactory(_Root()), interface="127.0.0.1")
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
    value: Any = []
    for _ in range(jelly.DEPTH_LIMIT + 10):
        value = [value]

    async def call() -> Any:
        root = await factory.getRootObject()
        try:
            return await root.callRemote("echo", value)
        finally:
            factory.disconnect()

    with pytest.raises(Exception) as info:
        run(call(), timeout=5)
    assert "deep" in str(info.value).lower() or "nest" in str(info.value).lower(), info.value
