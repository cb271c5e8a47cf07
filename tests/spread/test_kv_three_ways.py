"""The key-value store served by line protocol, PB and web at once, over real sockets."""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
from kv_three_ways import Running, serveThreeWays

from torsion.internet import defer, protocol
from torsion.internet.threads import deferToThreadPool
from torsion.protocols.basic import LineReceiver
from torsion.spread import pb

pytestmark = pytest.mark.integration


class LineClient(LineReceiver):
    """Sends commands one at a time and collects the reply lines."""

    delimiter = b"\n"

    def __init__(self) -> None:
        self.waiting: list[defer.Deferred[bytes]] = []

    def command(self, line: bytes) -> defer.Deferred[bytes]:
        d: defer.Deferred[bytes] = defer.Deferred()
        self.waiting.append(d)
        self.sendLine(line)
        return d

    def lineReceived(self, line: bytes) -> None:
        self.waiting.pop(0).callback(line)


def curl(reactor: Any, url: str) -> defer.Deferred[tuple[str, str]]:
    """Fetch `url` with curl in a thread: (status code, body)."""
    path = shutil.which("curl")
    if path is None:
        pytest.skip("curl is not installed")

    def fetch() -> tuple[str, str]:
        done = subprocess.run(
            [path, "-s", "-o", "-", "-w", "\n%{http_code}", url],
            capture_output=True, text=True, timeout=20, check=True,
        )
        body, _, code = done.stdout.rpartition("\n")
        return code, body

    return deferToThreadPool(reactor, reactor.getThreadPool(), fetch)


@pytest.fixture
def running(reactor: Any) -> Any:
    kv = serveThreeWays(reactor)
    yield kv
    kv.stop()


def test_threeFrontEndsShareOneStore(reactor: Any, run: Any, running: Running) -> None:
    """A value set by the line protocol is read by PB and the web page, and the reverse."""
    webURL = f"http://127.0.0.1:{running.webPort.getHost().port}/"

    async def session() -> None:
        line = await protocol.ClientCreator(reactor, LineClient).connectTCP(
            "127.0.0.1", running.linePort.getHost().port)
        assert await line.command(b"SET colour blue") == b"OK"

        client = pb.PBClientFactory()
        reactor.connectTCP("127.0.0.1", running.pbPort.getHost().port, client)
        root = await client.getRootObject()
        assert await root.callRemote("get", b"colour") == b"blue"
        assert await curl(reactor, webURL + "?key=colour") == ("200", "<p>blue</p>\n")

        await root.callRemote("set", b"shape", b"<circle>")
        assert await line.command(b"GET shape") == b"VALUE <circle>"
        assert await curl(reactor, webURL + "?key=shape") == ("200", "<p>&lt;circle&gt;</p>\n")

        assert await root.callRemote("delete", b"colour") is True
        assert await line.command(b"GET colour") == b"NOT_FOUND"
        assert (await curl(reactor, webURL + "?key=colour"))[0] == "404"
        assert await line.command(b"DEL shape") == b"DELETED"
        assert await root.callRemote("get", b"shape") is None
        assert await line.command(b"FROB") == b"ERROR unknown command"

        client.disconnect()
        line.transport.loseConnection()

    run(session(), timeout=30)


def test_webReportsMissingKey(reactor: Any, run: Any, running: Running) -> None:
    """The web page answers 400 without a key."""
    url = f"http://127.0.0.1:{running.webPort.getHost().port}/"
    code, _ = run(curl(reactor, url), timeout=30)
    assert code == "400"
