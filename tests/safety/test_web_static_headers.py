"""static.File never leaves its root; response headers refuse CR/LF; vhost survives odd Hosts.

Requests go through a whole Site (so percent-decoding and traversal are the server's own)
on a StringTransport.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from torsion.internet.task import Clock
from torsion.internet.testing import StringTransport
from torsion.web import resource, server, static, vhost


def _get(root: Any, target: bytes, host: bytes = b"x") -> tuple[int, bytes]:
    """Send one GET for `target` to a Site serving `root`; return (status, body)."""
    site = server.Site(root, reactor=Clock())
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(b"GET " + target + b" HTTP/1.1\r\nHost: " + host + b"\r\n\r\n")
    value = transport.value()
    assert value.startswith(b"HTTP/1.1 "), value[:200]
    head, _, body = value.partition(b"\r\n\r\n")
    return int(value[9:12]), body


@pytest.fixture
def tree(tmp_path: Any) -> Any:
    """A web root with one file, next to a secret file and a symlink pointing at it."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "pub.txt").write_bytes(b"public")
    (root / "sub").mkdir()
    (root / "sub" / "inner.txt").write_bytes(b"inner")
    (tmp_path / "secret.txt").write_bytes(b"SECRET")
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    os.symlink(tmp_path, root / "linkdir")
    return root


def test_staticServesInsideRoot(tree: Any) -> None:
    """A file inside the root is served (so the refusals below mean something)."""
    status, body = _get(static.File(str(tree)), b"/sub/inner.txt")
    assert (status, body) == (200, b"inner")


@pytest.mark.parametrize(
    "target",
    [
        b"/../secret.txt",
        b"/sub/../../secret.txt",
        b"/%2e%2e/secret.txt",
        b"/%2E%2E/secret.txt",
        b"/sub/%2e%2e/%2e%2e/secret.txt",
        b"/..%2fsecret.txt",
        b"/sub%2f..%2f..%2fsecret.txt",
        b"/%2fetc%2fpasswd",
        b"/..%5csecret.txt",
        b"/..\\secret.txt",
        b"/pub.txt%00.png",
        b"/link.txt",
        b"/linkdir/secret.txt",
        b"//etc/passwd",
        b"/%252e%252e/secret.txt",
    ],
)
def test_staticNeverEscapesRoot(tree: Any, target: bytes) -> None:
    """Dot segments, encoded dots or slashes, backslash, NUL, symlinks, absolute paths: refused."""
    status, body = _get(static.File(str(tree)), target)
    assert b"SECRET" not in body
    assert b"root:" not in body
    assert status in (400, 403, 404), status


def test_staticAbsoluteFormTargetStaysInRoot(tree: Any) -> None:
    """An absolute-form target (http://host/../x) cannot climb out either."""
    status, body = _get(static.File(str(tree)), b"http://x/../secret.txt")
    assert b"SECRET" not in body


@pytest.mark.parametrize(
    "call",
    [
        lambda r: r.setHeader(b"X-A", b"v\r\nSet-Cookie: evil=1"),
        lambda r: r.setHeader(b"X-A", b"v\nEvil: 1"),
        lambda r: r.setHeader(b"X-A\r\nEvil", b"v"),
        lambda r: r.setHeader("X-A", "v\r\nEvil: 1"),
        lambda r: r.addHeader(b"X-A", b"v\r\n\r\n<html>"),
        lambda r: r.responseHeaders.addRawHeader(b"X-A", b"v\r\nEvil: 1"),
        lambda r: r.responseHeaders.setRawHeaders(b"X-A", [b"ok", b"v\rEvil: 1"]),
        lambda r: r.redirect(b"/next\r\nSet-Cookie: evil=1"),
        lambda r: r.addCookie(b"k", b"v\r\nEvil: 1"),
        lambda r: r.addCookie(b"k\r\nEvil", b"v"),
        lambda r: r.addCookie(b"k", b"v", path=b"/\r\nEvil: 1"),
        lambda r: r.addCookie(b"k", b"v", domain=b"a.b\r\nEvil: 1"),
        lambda r: r.setResponseCode(200, b"OK\r\nEvil: 1"),
    ],
)
def test_crlfInjectionIsRefused(call: Any) -> None:
    """CR/LF through any response-header API raises ValueError and never reaches the wire."""

    class Inject(resource.Resource):
        isLeaf = True
        errors: list[BaseException] = []

        def render(self, request: Any) -> bytes:
            try:
                call(request)
            except ValueError as e:
                self.errors.append(e)
            return b"body"

    res = Inject()
    site = server.Site(res, reactor=Clock())
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    wire = transport.value()
    assert len(res.errors) == 1
    assert b"Evil" not in wire and b"evil" not in wire and b"<html>" not in wire


def test_redirectToRefusesCRLF() -> None:
    """util.redirectTo with a CR/LF in the URL raises instead of writing it."""
    from torsion.web import util

    class R(resource.Resource):
        isLeaf = True
        errors: list[BaseException] = []

        def render(self, request: Any) -> bytes:
            try:
                return util.redirectTo(b"/x\r\nEvil: 1", request)
            except ValueError as e:
                self.errors.append(e)
                return b"refused"

    status, body = _get(R(), b"/")
    assert R.errors and body == b"refused"


class _Leaf(resource.Resource):
    isLeaf = True

    def __init__(self, body: bytes) -> None:
        super().__init__()
        self.body = body

    def render(self, request: Any) -> bytes:
        return self.body


def _vhost() -> vhost.NameVirtualHost:
    nvh = vhost.NameVirtualHost()
    nvh.default = _Leaf(b"default")
    nvh.addHost(b"a.example", _Leaf(b"site-a"))
    return nvh


@pytest.mark.parametrize(
    "host",
    [
        b"A.EXAMPLE:80",
        b"[::1]:80",
        b"a.example:99999999999999999999",
        b"../../etc",
        b"a" * 8000,
        b"a.example.",
        b"%61.example",
        b"[",
        b":",
    ],
)
def test_vhostOddHostsGetDefaultOrMatch(host: bytes) -> None:
    """Odd Host values reach a resource (the match or the default), never a 500."""
    status, body = _get(_vhost(), b"/", host=host)
    assert status == 200, (status, body[:200])
    assert body in (b"default", b"site-a")


def test_vhostEmptyHostIsDefault() -> None:
    """An empty Host header gets the default resource."""
    status, body = _get(_vhost(), b"/", host=b"")
    assert (status, body) == (200, b"default")


def test_vhostUnknownHostWithoutDefaultIsEscaped404() -> None:
    """An unknown Host without a default is a 404 whose page escapes the name."""
    nvh = vhost.NameVirtualHost()
    status, body = _get(nvh, b"/", host=b"<script>x</script>")
    assert status == 404
    assert b"<script>" not in body


def test_vhostMonsterRefusesBadHost() -> None:
    """VHostMonster refuses a host segment carrying a path separator."""
    root = resource.Resource()
    root.putChild(b"vhost", vhost.VHostMonsterResource())
    root.putChild(b"", static.Data(b"root", "text/plain"))
    status, body = _get(root, b"/vhost/http/a%2fb:80/")
    assert status == 404


def test_staticFifoDoesNotBlockTheReactor(tmp_path: Any) -> None:
    """A named pipe inside the root is refused at once; opening it would block the reactor."""
    import threading

    root = tmp_path / "root"
    root.mkdir()
    os.mkfifo(root / "pipe")
    result: list[tuple[int, bytes]] = []
    worker = threading.Thread(target=lambda: result.append(_get(static.File(str(root)),
                                                                b"/pipe")), daemon=True)
    worker.start()
    worker.join(1.0)
    if worker.is_alive():
        # Unblock the open() the server is stuck in, so the thread ends.
        fd = os.open(root / "pipe", os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        worker.join(5.0)
        pytest.fail("serving a FIFO blocked for more than a second")
    assert result and result[0][0] in (403, 404)


def test_staticRangeFloodIsNotAmplified(tree: Any) -> None:
    """A Range header listing the whole file a thousand times is not answered a thousand times."""
    (tree / "big.txt").write_bytes(b"z" * 10000)
    site = server.Site(static.File(str(tree)), reactor=Clock())
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    ranges = b",".join([b"0-"] * 1000)
    channel.dataReceived(b"GET /big.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=" + ranges
                         + b"\r\n\r\n")
    assert len(transport.value()) < 2 * 10000 + 4096


def test_directoryListingEscapesNames(tmp_path: Any) -> None:
    """File names with markup are escaped in a directory listing."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "<img src=x onerror=alert(1)>").write_bytes(b"x")
    status, body = _get(static.File(str(root)), b"/")
    assert status == 200
    assert b"<img" not in body
    assert b"&lt;img" in body


def test_errorPagesEscapeTheRequestTarget() -> None:
    """The 405 page that quotes the request target escapes markup in it."""

    class GetOnly(resource.Resource):
        isLeaf = True

        def render_GET(self, request: Any) -> bytes:
            return b"x"

    site = server.Site(GetOnly(), reactor=Clock())
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(b'POST /a?"><script>x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n')
    value = transport.value()
    assert value.startswith(b"HTTP/1.1 405 ")
    assert b"<script>" not in value and b"&lt;script&gt;" in value


@pytest.mark.parametrize(
    "header",
    [
        b"If-Modified-Since: garbage",
        b"If-Modified-Since: Mon, 99 Foo 99999 99:99:99 GMT",
        b"If-Modified-Since: " + b"9" * 1000,
        b"If-Unmodified-Since: x",
        b"Range: bytes=garbage",
        b"Range: bytes=5-1",
        b"Range: bytes=-99999999999999999999999",
        b"Range: bytes=99999999999999999999-",
        b"Range: items=0-1",
        b"Range: bytes=" + b"1-2," * 5000,
        b"If-None-Match: " + b'"x",' * 5000,
        b"If-Range: garbage",
        b"Accept-Encoding: " + b"gzip;q=2," * 1000,
        b"Cookie: " + b"a=b; " * 5000,
    ],
)
def test_malformedRequestHeadersNeverCause5xx(tree: Any, header: bytes) -> None:
    """Malformed or huge conditional, range, encoding and cookie headers are not server errors."""
    site = server.Site(static.File(str(tree)), reactor=Clock())
    channel = site.buildProtocol(None)
    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(b"GET /pub.txt HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n\r\n")
    status = int(transport.value()[9:12])
    assert status < 500
