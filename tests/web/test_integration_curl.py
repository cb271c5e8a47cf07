"""Integration tests: a real Site on 127.0.0.1 driven by curl (keep-alive, chunked upload,
ranges, gzip, HEAD, 100-continue, pipelining over a raw socket)."""

from __future__ import annotations

import gzip
import shutil
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from webrawclient import rawRequest

from torsion.internet.threads import deferToThreadPool
from torsion.web import resource, server, static

pytestmark = pytest.mark.integration

CURL = shutil.which("curl")
needsCurl = pytest.mark.skipif(CURL is None, reason="curl is not installed (.ci/run installs it)")


class Upload(resource.Resource):
    """Echoes the body it receives and how it was framed."""

    isLeaf = True

    def render_POST(self, request: server.Request) -> bytes:
        framing = b"chunked" if request.requestHeaders.hasHeader(b"transfer-encoding") else b"cl"
        return framing + b":" + request.content.read()

    render_PUT = render_POST

    def render_GET(self, request: server.Request) -> bytes:
        return b"hello " * 200


def makeTree(tmp_path: Path) -> resource.Resource:
    root = resource.Resource()
    root.putChild(b"upload", Upload())
    root.putChild(b"gz", resource.EncodingResourceWrapper(Upload(), [server.GzipEncoderFactory()]))
    (tmp_path / "file.txt").write_bytes(b"0123456789abcdef")
    root.putChild(b"files", static.File(str(tmp_path)))
    return root


def listen(reactor: Any, tmp_path: Path) -> int:
    site = server.Site(makeTree(tmp_path), reactor=reactor)
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    return int(port.getHost().port)


def curl(
    reactor: Any, run: Any, *args: str, data: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run curl in the reactor's thread pool while the reactor serves."""
    assert CURL is not None
    d = deferToThreadPool(
        reactor, reactor.getThreadPool(), subprocess.run, [CURL, "-sS", *args],
        input=data, capture_output=True, timeout=30,
    )
    result: subprocess.CompletedProcess[bytes] = run(d, timeout=30)
    return result


@needsCurl
def test_curlReusesKeptAliveConnection(reactor: Any, run: Any, tmp_path: Path) -> None:
    """curl fetching two URLs in one invocation reuses the connection (keep-alive)."""
    port = listen(reactor, tmp_path)
    url = "http://127.0.0.1:%d/files/file.txt" % port
    out = curl(reactor, run, "-v", url, url)
    assert out.stdout == b"0123456789abcdef" * 2
    assert b"Re-using existing connection" in out.stderr


@needsCurl
def test_curlChunkedUpload(reactor: Any, run: Any, tmp_path: Path) -> None:
    """A chunked upload from curl arrives whole in request.content."""
    port = listen(reactor, tmp_path)
    body = b"x" * 100000
    out = curl(reactor, run, "-H", "Transfer-Encoding: chunked", "--data-binary", "@-",
               "http://127.0.0.1:%d/upload" % port, data=body)
    assert out.stdout == b"chunked:" + body


@needsCurl
def test_curlRange(reactor: Any, run: Any, tmp_path: Path) -> None:
    """curl -r gets exactly the requested byte range."""
    port = listen(reactor, tmp_path)
    out = curl(reactor, run, "-r", "4-9", "-D", "-", "http://127.0.0.1:%d/files/file.txt" % port)
    assert out.stdout.startswith(b"HTTP/1.1 206 Partial Content")
    assert b"Content-Range: bytes 4-9/16" in out.stdout
    assert out.stdout.endswith(b"\r\n\r\n456789")


@needsCurl
def test_curlCompressed(reactor: Any, run: Any, tmp_path: Path) -> None:
    """curl --compressed gets a gzip body and decodes it to the original."""
    port = listen(reactor, tmp_path)
    url = "http://127.0.0.1:%d/gz" % port
    decoded = curl(reactor, run, "--compressed", "-D", "-", url)
    assert b"Content-Encoding: gzip" in decoded.stdout
    assert decoded.stdout.endswith(b"hello " * 200)
    raw = curl(reactor, run, "-H", "Accept-Encoding: gzip", url)
    assert gzip.decompress(raw.stdout) == b"hello " * 200


@needsCurl
def test_curlHead(reactor: Any, run: Any, tmp_path: Path) -> None:
    """curl -I gets headers with the file's length and no body."""
    port = listen(reactor, tmp_path)
    out = curl(reactor, run, "-I", "http://127.0.0.1:%d/files/file.txt" % port)
    assert out.stdout.startswith(b"HTTP/1.1 200 OK")
    assert b"Content-Length: 16" in out.stdout and out.stdout.endswith(b"\r\n\r\n")


@needsCurl
def test_curlExpectContinue(reactor: Any, run: Any, tmp_path: Path) -> None:
    """curl's Expect: 100-continue upload gets 100 Continue, then the final response."""
    port = listen(reactor, tmp_path)
    body = b"y" * 5000
    out = curl(reactor, run, "-v", "-H", "Expect: 100-continue", "--data-binary", "@-",
               "http://127.0.0.1:%d/upload" % port, data=body)
    assert b"HTTP/1.1 100 Continue" in out.stderr
    assert out.stdout == b"cl:" + body


def test_pipelinedOverSocketAnsweredInOrder(reactor: Any, run: Any, tmp_path: Path) -> None:
    """Three requests sent in one packet come back as three responses, in order."""
    port = listen(reactor, tmp_path)

    out = rawRequest(reactor, run, port,
                     b"GET /files/file.txt HTTP/1.1\r\nHost: a\r\n\r\n"
                     b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nhi"
                     b"GET /files/file.txt HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
    first = out.index(b"0123456789abcdef")
    second = out.index(b"cl:hi")
    third = out.index(b"0123456789abcdef", first + 1)
    assert first < second < third
    assert out.count(b"HTTP/1.1 200 OK") == 3


def test_smugglingAttemptGets400OverSocket(reactor: Any, run: Any, tmp_path: Path) -> None:
    """A request with both Content-Length and Transfer-Encoding gets 400 and a close."""
    port = listen(reactor, tmp_path)

    out = rawRequest(reactor, run, port,
                     b"POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /files/file.txt HTTP/1.1"
                     b"\r\nHost: a\r\n\r\n")
    assert out.startswith(b"HTTP/1.1 400 Bad Request") and out.count(b"HTTP/1.1") == 1


@needsCurl
def test_curlLargeFileStreamsIntact(reactor: Any, run: Any, tmp_path: Path) -> None:
    """A 20 MB file streamed through the producer arrives byte-identical."""
    import hashlib
    import os

    data = os.urandom(20 * 1024 * 1024)
    (tmp_path / "big.bin").write_bytes(data)
    port = listen(reactor, tmp_path)
    out = curl(reactor, run, "http://127.0.0.1:%d/files/big.bin" % port)
    assert hashlib.sha256(out.stdout).digest() == hashlib.sha256(data).digest()


def test_clientDisconnectFailsNotifyFinish(reactor: Any, run: Any) -> None:
    """A client closing its socket mid-request makes notifyFinish's Deferred fail."""
    from torsion.internet.defer import Deferred

    outcome: Deferred[str] = Deferred()
    arrived: Deferred[None] = Deferred()

    class Hang(resource.Resource):
        isLeaf = True

        def render_GET(self, request: server.Request) -> int:
            request.notifyFinish().addCallbacks(
                lambda _: outcome.callback("finished"),
                lambda f: outcome.callback("failed: " + f.type.__name__),
            )
            arrived.callback(None)
            return server.NOT_DONE_YET

    port = reactor.listenTCP(0, server.Site(Hang(), reactor=reactor),
                             interface="127.0.0.1").getHost().port
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    run(arrived, timeout=10)
    sock.close()
    assert run(outcome, timeout=10).startswith("failed: Connection")


def test_slowReaderPausesFileProducer(reactor: Any, run: Any, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A client that stops reading makes the transport pause the file producer."""

    from torsion.internet.defer import Deferred

    paused: Deferred[None] = Deferred()
    original = static._StaticProducer.pauseProducing

    def spy(self: Any) -> None:
        if not paused.called:
            paused.callback(None)
        original(self)

    monkeypatch.setattr(static._StaticProducer, "pauseProducing", spy)
    (tmp_path / "huge.bin").write_bytes(b"\0" * (16 * 1024 * 1024))
    port = listen(reactor, tmp_path)
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    sock.sendall(b"GET /files/huge.bin HTTP/1.1\r\nHost: a\r\n\r\n")
    try:
        run(paused, timeout=20)  # fails the test if the producer is never paused
    finally:
        sock.close()
