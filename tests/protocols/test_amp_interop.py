"""AMP wire compatibility with Twisted, and StartTLS, over real sockets on 127.0.0.1.

Twisted runs as a subprocess ($TORSION_TWISTED_PYTHON); those tests skip without it.
"""

from __future__ import annotations

import datetime
import decimal
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from twistedpeer import TwistedServer, runTwistedClient, twistedPython

from torsion.internet import protocol
from torsion.protocols import amp

pytestmark = pytest.mark.integration

COMMANDS = """
class Sum(amp.Command):
    arguments = [(b"a", amp.Integer()), (b"b", amp.Integer())]
    response = [(b"total", amp.Integer())]

class Divide(amp.Command):
    arguments = [(b"numerator", amp.Integer()), (b"denominator", amp.Integer())]
    response = [(b"result", amp.Float())]
    errors = {ZeroDivisionError: b"ZERO_DIVISION"}

class Echo(amp.Command):
    schema = [
        (b"text", amp.Unicode()),
        (b"raw", amp.String()),
        (b"flag", amp.Boolean()),
        (b"number", amp.Float()),
        (b"dec", amp.Decimal()),
        (b"when", amp.DateTime()),
        (b"ints", amp.ListOf(amp.Integer())),
        (b"rows", amp.AmpList([(b"x", amp.Integer()), (b"y", amp.Unicode(optional=True))])),
        (b"maybe", amp.Integer(optional=True)),
    ]
    arguments = schema
    response = schema

class Crash(amp.Command):
    pass
"""

exec(compile(COMMANDS, "<commands>", "exec"), globals())  # the same schema on both sides

TWISTED_SERVER = """
import sys
from twisted.internet import reactor, protocol
from twisted.protocols import amp
""" + COMMANDS + """
class Server(amp.AMP):
    @Sum.responder
    def sum(self, a, b):
        return {"total": a + b}
    @Divide.responder
    def divide(self, numerator, denominator):
        return {"result": numerator / denominator}
    @Echo.responder
    def echo(self, **kw):
        return kw

port = reactor.listenTCP(0, protocol.Factory.forProtocol(Server), interface="127.0.0.1")
print(port.getHost().port, flush=True)
reactor.run()
"""

TWISTED_CLIENT = """
import datetime, decimal, json, sys
from twisted.internet import reactor, defer, protocol, endpoints
from twisted.protocols import amp
""" + COMMANDS + """
out = []

@defer.inlineCallbacks
def main():
    ep = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", int(sys.argv[1]))
    proto = yield endpoints.connectProtocol(ep, amp.AMP())
    out.append(["sum", (yield proto.callRemote(Sum, a=2**70, b=1))["total"] == 2**70 + 1])
    failures = []
    yield proto.callRemote(Divide, numerator=1, denominator=0).addErrback(failures.append)
    out.append(["divide", bool(failures[0].check(ZeroDivisionError))])
    when = datetime.datetime(2024, 5, 6, 7, 8, 9, 10, tzinfo=amp.utc)
    result = yield proto.callRemote(
        Echo, text="h\\u00e9", raw=b"\\x00", flag=False, number=-0.5,
        dec=decimal.Decimal("1.25"), when=when, ints=[1, 2], rows=[{"x": 1, "y": None}],
        maybe=None)
    out.append(["echo", result["text"], result["raw"].hex(), result["flag"], result["number"],
                str(result["dec"]), result["when"] == when, result["ints"],
                [dict(r) for r in result["rows"]], result["maybe"]])
    failures = []
    yield proto.callRemote(Crash).addErrback(failures.append)
    out.append(["crash", bool(failures[0].check(amp.UnknownRemoteError))])

def done(result):
    if hasattr(result, "getTraceback"):
        sys.stderr.write(result.getTraceback())
    print(json.dumps(out), flush=True)
    reactor.stop()

main().addBoth(done)
reactor.run()
"""


class Server(amp.AMP):
    @Sum.responder  # type: ignore[name-defined]  # noqa: F821
    def sum(self, a: int, b: int) -> dict[str, int]:
        return {"total": a + b}

    @Divide.responder  # type: ignore[name-defined]  # noqa: F821
    def divide(self, numerator: int, denominator: int) -> dict[str, float]:
        return {"result": numerator / denominator}

    @Echo.responder  # type: ignore[name-defined]  # noqa: F821
    def echo(self, **kw: Any) -> dict[str, Any]:
        return kw

    @Crash.responder  # type: ignore[name-defined]  # noqa: F821
    def crash(self) -> dict[str, Any]:
        raise RuntimeError("undeclared")


@pytest.fixture(scope="module")
def twistedServer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    peer = TwistedServer(tmp_path_factory.mktemp("amppeer"), TWISTED_SERVER)
    try:
        yield peer.ports[0]
    finally:
        peer.stop()


def connectAMP(reactor: Any, port: int) -> Any:
    return protocol.ClientCreator(reactor, amp.AMP).connectTCP("127.0.0.1", port)


def test_torsionClientTwistedServer(reactor: Any, run: Any, twistedServer: int) -> None:
    """Our client's commands, argument types and declared errors work against Twisted."""

    async def session() -> None:
        proto = await connectAMP(reactor, twistedServer)
        assert await proto.callRemote(Sum, a=2**70, b=1) == {"total": 2**70 + 1}  # noqa: F821
        failures: list[Any] = []
        await proto.callRemote(Divide, numerator=1, denominator=0).addErrback(  # noqa: F821
            failures.append)
        assert failures[0].check(ZeroDivisionError)
        values = {
            "text": "h\u00e9", "raw": b"\x00\xff", "flag": True, "number": 2.5,
            "dec": decimal.Decimal("-3.10"),
            "when": datetime.datetime(2024, 1, 2, 3, 4, 5, 6,
                                      tzinfo=datetime.timezone(datetime.timedelta(hours=2))),
            "ints": [1, -2], "rows": [{"x": 1, "y": "a"}, {"x": 2, "y": None}], "maybe": 7,
        }
        assert await proto.callRemote(Echo, **values) == values  # noqa: F821
        failures = []
        await proto.callRemote(Crash).addErrback(failures.append)  # noqa: F821
        assert failures[0].check(amp.UnhandledCommand)
        proto.transport.loseConnection()

    run(session())


def test_twistedClientTorsionServer(reactor: Any, run: Any, tmp_path: Path) -> None:
    """A Twisted AMP client's commands and errors are answered by our server."""
    twistedPython()
    port = reactor.listenTCP(0, protocol.Factory.forProtocol(Server), interface="127.0.0.1")
    output = run(runTwistedClient(reactor, tmp_path, TWISTED_CLIENT, str(port.getHost().port),
                                  timeout=30), timeout=40)
    results = {item[0]: item[1:] for item in json.loads(output)}
    assert results["sum"] == [True]
    assert results["divide"] == [True]
    assert results["echo"] == ["h\u00e9", "00", False, -0.5, "1.25", True, [1, 2],
                               [{"x": 1, "y": None}], None]
    assert results["crash"] == [True]


def test_startTLS(reactor: Any, run: Any) -> None:
    """StartTLS switches both sides to TLS and commands keep working over it."""
    from torsion.internet import ssl

    serverCert = ssl.selfSignedPair("localhost")

    class TLSServer(Server):
        @amp.StartTLS.responder
        def startTLS(self) -> dict[str, Any]:
            return {"tls_localCertificate": serverCert}

    port = reactor.listenTCP(0, protocol.Factory.forProtocol(TLSServer), interface="127.0.0.1")

    async def session() -> Any:
        proto = await connectAMP(reactor, port.getHost().port)
        await proto.callRemote(amp.StartTLS, tls_verifyAuthorities=[serverCert])
        total = await proto.callRemote(Sum, a=1, b=2)  # noqa: F821
        peer = proto.transport.getPeerCertificate()
        proto.transport.loseConnection()
        return total, peer

    total, peer = run(session())
    assert total == {"total": 3}
    assert peer == serverCert
