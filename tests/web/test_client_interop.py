"""Wire interoperability of the web client and XML-RPC with Twisted as the peer.

Twisted runs as a subprocess with the interpreter named by $TORSION_TWISTED_PYTHON (torsion
never imports Twisted); every test skips when it is not set.
"""

from __future__ import annotations

import ast
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from twistedpeer import TwistedServer, twistedPython

from torsion.internet.defer import Deferred
from torsion.internet.threads import deferToThreadPool
from torsion.web import server
from torsion.web.client import (
    Agent,
    ContentDecoderAgent,
    GzipDecoder,
    RedirectAgent,
    readBody,
)
from torsion.web.xmlrpc import XMLRPC, Fault, Proxy

TWISTED_SERVER = """
import sys
from twisted.internet import reactor
from twisted.web import resource, server, static, util, xmlrpc
from twisted.web.resource import EncodingResourceWrapper
from twisted.web.server import GzipEncoderFactory

class Chunked(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        request.write(b"part1-")
        def rest():
            request.write(b"part2")
            request.finish()
        reactor.callLater(0.01, rest)
        return server.NOT_DONE_YET

class Headers(resource.Resource):
    isLeaf = True
    def render_GET(self, request):
        return repr(sorted((k.lower(), v) for k, v in
                           request.requestHeaders.getAllRawHeaders())).encode()

class RPC(xmlrpc.XMLRPC):
    def xmlrpc_add(self, a, b):
        return a + b
    def xmlrpc_fault(self):
        raise xmlrpc.Fault(7, "seven")

root = resource.Resource()
root.putChild(b"chunked", Chunked())
root.putChild(b"headers", Headers())
root.putChild(b"redirect", util.Redirect(b"/chunked"))
root.putChild(b"gzip", EncodingResourceWrapper(static.Data(b"z" * 10000, "text/plain"),
                                               [GzipEncoderFactory()]))
root.putChild(b"RPC2", RPC())
port = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
print(port.getHost().port, flush=True)
reactor.run()
"""

TWISTED_XMLRPC_CLIENT = """
import sys
from twisted.internet import reactor
from twisted.web.xmlrpc import Proxy

out = []
def done(result):
    out.append(repr(result))
    reactor.stop()
def failed(f):
    out.append("FAULT %s %s" % (f.value.faultCode, f.value.faultString))
    reactor.stop()
Proxy(sys.argv[1].encode()).callRemote(sys.argv[2], *map(int, sys.argv[3:])).addCallbacks(
    done, failed)
reactor.run()
print(out[0])
"""


@pytest.fixture(scope="module")
def twistedServer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Twisted web server (subprocess) for the module; yields its base URL."""
    peer = TwistedServer(tmp_path_factory.mktemp("twisted_web"), TWISTED_SERVER)
    try:
        yield "http://127.0.0.1:%d" % (peer.ports[0],)
    finally:
        peer.stop()


def _fetch(agent: Any, url: str) -> Deferred[Any]:
    async def go() -> Any:
        response = await agent.request(b"GET", url.encode("ascii"))
        return response, await readBody(response)

    return Deferred.fromCoroutine(go())


def test_chunkedBodyFromTwisted(reactor: Any, run: Any, twistedServer: str) -> None:
    """A body Twisted sends chunked, in two writes, arrives whole."""
    response, body = run(_fetch(Agent(reactor), twistedServer + "/chunked"))
    assert (response.code, body) == (200, b"part1-part2")
    assert response.headers.getRawHeaders(b"transfer-encoding") == [b"chunked"]


def test_requestHeadersAsTwistedSeesThem(reactor: Any, run: Any, twistedServer: str) -> None:
    """Twisted parses the request: Host with the port, and Connection: close."""
    port = twistedServer.rsplit(":", 1)[1]
    _, body = run(_fetch(Agent(reactor), twistedServer + "/headers"))
    seen = ast.literal_eval(body.decode())
    assert (b"host", [("127.0.0.1:%s" % port).encode()]) in seen
    assert (b"connection", [b"close"]) in seen


def test_redirectFromTwisted(reactor: Any, run: Any, twistedServer: str) -> None:
    """RedirectAgent follows Twisted's util.Redirect."""
    response, body = run(_fetch(RedirectAgent(Agent(reactor)), twistedServer + "/redirect"))
    assert body == b"part1-part2"
    assert response.previousResponse.code == 302


def test_gzipFromTwisted(reactor: Any, run: Any, twistedServer: str) -> None:
    """ContentDecoderAgent decodes Twisted's GzipEncoderFactory output."""
    agent = ContentDecoderAgent(Agent(reactor), [(b"gzip", GzipDecoder)])
    _, body = run(_fetch(agent, twistedServer + "/gzip"))
    assert body == b"z" * 10000


def test_proxyCallsTwistedXMLRPC(reactor: Any, run: Any, twistedServer: str) -> None:
    """torsion's Proxy calls a Twisted XMLRPC server and receives its Faults."""
    proxy = Proxy(twistedServer + "/RPC2", reactor=reactor)
    assert run(proxy.callRemote("add", 2, 3)) == 5
    with pytest.raises(Fault) as info:
        run(proxy.callRemote("fault"))
    assert (info.value.faultCode, info.value.faultString) == (7, "seven")


class Adder(XMLRPC):
    """A torsion XML-RPC service for Twisted's Proxy."""

    def xmlrpc_add(self, a: int, b: int) -> int:
        return a + b

    def xmlrpc_fault(self) -> None:
        raise Fault(9, "nine")


def test_twistedProxyCallsTorsionXMLRPC(reactor: Any, run: Any, tmp_path: Path) -> None:
    """Twisted's xmlrpc.Proxy calls torsion's XMLRPC resource, results and Faults."""
    python = twistedPython()
    script = tmp_path / "client.py"
    script.write_text(textwrap.dedent(TWISTED_XMLRPC_CLIENT))
    port = reactor.listenTCP(0, server.Site(Adder(), reactor=reactor), interface="127.0.0.1")
    url = "http://127.0.0.1:%d/" % (port.getHost().port,)
    pool = reactor.getThreadPool()

    def call(*args: str) -> str:
        done = subprocess.run([python, str(script), url, *args], capture_output=True,
                              text=True, timeout=30, check=True)
        return done.stdout.strip()

    assert run(deferToThreadPool(reactor, pool, call, "add", "20", "22"), timeout=30) == "42"
    assert run(deferToThreadPool(reactor, pool, call, "fault"), timeout=30) == "FAULT 9 nine"
