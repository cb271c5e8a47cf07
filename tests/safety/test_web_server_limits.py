"""Hostile requests to the HTTP/1.1 server, on a StringTransport with a Clock.

Every limit answers with its status code (414, 431, 413, 408, 400) and closes the
connection without calling the resource; timeouts are driven by the site's Clock.
"""

from __future__ import annotations

from typing import Any

from torsion.internet.task import Clock
from torsion.internet.testing import StringTransport
from torsion.web import resource, server
from torsion.web.server import NOT_DONE_YET


class _Recorder(resource.Resource):
    """A leaf that counts renders and answers 'ok' (or holds requests open)."""

    isLeaf = True

    def __init__(self, hold: bool = False) -> None:
        super().__init__()
        self.rendered: list[Any] = []
        self.hold = hold

    def render(self, request: Any) -> Any:
        self.rendered.append(request)
        if self.hold:
            return NOT_DONE_YET
        return b"ok"


class _Conn:
    """A Site channel connected to a StringTransport, with the site's Clock."""

    def __init__(self, res: Any = None, **siteAttrs: Any) -> None:
        self.clock = Clock()
        self.resource = res if res is not None else _Recorder()
        self.site = server.Site(self.resource, reactor=self.clock)
        for name, value in siteAttrs.items():
            setattr(self.site, name, value)
        self.channel = self.site.buildProtocol(None)
        self.transport = StringTransport()
        self.channel.makeConnection(self.transport)

    def send(self, data: bytes) -> None:
        self.channel.dataReceived(data)

    def status(self) -> int:
        value = self.transport.value()
        assert value.startswith(b"HTTP/1.1 "), value[:200]
        return int(value[9:12])


def test_defaultLimits() -> None:
    """The defaults are bounded: 16 KiB target, 64 KiB head, 100 fields, 64 MiB body, timeouts."""
    site = server.Site(_Recorder(), reactor=Clock())
    assert site.maxUriBytes == 16 * 1024
    assert site.maxHeaderBytes == 64 * 1024
    assert site.maxHeaderCount == 100
    assert site.maxBodyBytes == 64 * 1024 * 1024
    assert site.timeOut == 60.0
    assert site.headerTimeout == 30.0
    assert site.maxPipelined == 32


def test_longRequestTargetIs414() -> None:
    """A request target over maxUriBytes is answered 414 and the connection closed."""
    conn = _Conn()
    conn.send(b"GET /" + b"a" * (17 * 1024) + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert conn.status() == 414
    assert conn.transport.disconnecting
    assert conn.resource.rendered == []


def test_longRequestTargetWithoutEndIs414() -> None:
    """A request target trickled in 1 KiB reads with no end is cut at maxUriBytes."""
    conn = _Conn()
    conn.send(b"GET /")
    for _ in range(64):
        if conn.transport.disconnecting:
            break
        conn.send(b"a" * 1024)
    assert conn.transport.disconnecting
    assert conn.status() in (414, 431)


def test_oneHugeHeaderLineIs431() -> None:
    """A single header line over maxHeaderBytes is answered 431."""
    conn = _Conn()
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * (70 * 1024) + b"\r\n\r\n")
    assert conn.status() == 431
    assert conn.transport.disconnecting
    assert conn.resource.rendered == []


def test_endlessHeaderLineIsCutWithBoundedBuffering() -> None:
    """10 MB of header value without CRLF, in 64 KiB reads, is refused after the first reads."""
    conn = _Conn()
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: ")
    reads = 0
    while not conn.transport.disconnecting and reads < 160:
        conn.send(b"v" * 65536)
        reads += 1
    assert conn.transport.disconnecting
    assert reads <= 2
    assert conn.status() == 431


def test_tooManyHeadersIs431() -> None:
    """More than maxHeaderCount header fields are answered 431."""
    conn = _Conn()
    fields = b"".join(b"X-%d: a\r\n" % i for i in range(101))
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert conn.status() == 431
    assert conn.resource.rendered == []


def test_totalHeadSizeIs431() -> None:
    """Many medium headers adding up to more than maxHeaderBytes are answered 431."""
    conn = _Conn()
    fields = b"".join(b"X-%d: %s\r\n" % (i, b"a" * 1200) for i in range(60))
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\n" + fields + b"\r\n")
    assert conn.status() == 431
    assert conn.resource.rendered == []


def test_declaredBodyOverLimitIs413BeforeReadingIt() -> None:
    """Content-Length above maxBodyBytes is answered 413 as soon as the head is read."""
    conn = _Conn()
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n")
    assert conn.status() == 413
    assert conn.transport.disconnecting
    assert conn.resource.rendered == []


def test_declaredBodyOverConfiguredLimitIs413() -> None:
    """A site's maxBodyBytes is honoured: one byte over is 413."""
    conn = _Conn(maxBodyBytes=1000)
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n")
    assert conn.status() == 413


def test_chunkedBodyOverLimitIs413() -> None:
    """A chunked body growing past maxBodyBytes is answered 413 and closed."""
    conn = _Conn(maxBodyBytes=1000)
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(10):
        if conn.transport.disconnecting:
            break
        conn.send(b"100\r\n" + b"a" * 256 + b"\r\n")
    assert conn.transport.disconnecting
    assert conn.status() == 413
    assert conn.resource.rendered == []


def test_overflowingChunkSizeIs400() -> None:
    """A chunk size too large for 64 bits is a 400."""
    conn = _Conn()
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    conn.send(b"f" * 40 + b"\r\n")
    assert conn.status() == 400
    assert conn.transport.disconnecting


def test_hugeChunkSizeCountsAgainstBodyLimit() -> None:
    """A chunk announcing more than maxBodyBytes cannot make the server accept that much."""
    conn = _Conn(maxBodyBytes=1000)
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    conn.send(b"ffffff\r\n" + b"a" * 2000)
    assert conn.transport.disconnecting
    assert conn.status() == 413


def test_endlessChunkSizeLineIsRefused() -> None:
    """A chunk-size line of endless leading zeros is refused once it exceeds maxHeaderBytes."""
    conn = _Conn()
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(32):
        if conn.transport.disconnecting:
            break
        conn.send(b"0" * 65536)
    assert conn.transport.disconnecting


def test_endlessChunkExtensionIsRefused() -> None:
    """A chunk extension of endless bytes is refused once it exceeds maxHeaderBytes."""
    conn = _Conn()
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;ext=")
    for _ in range(32):
        if conn.transport.disconnecting:
            break
        conn.send(b"a" * 65536)
    assert conn.transport.disconnecting


def test_slowlorisIsCutAtHeaderTimeout() -> None:
    """A client trickling one header byte per second is answered 408 at headerTimeout."""
    conn = _Conn()
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    seconds = 0
    while not conn.transport.disconnecting and seconds < 120:
        conn.clock.advance(1)
        seconds += 1
        conn.send(b"a")
    assert conn.transport.disconnecting
    assert 29 <= seconds <= 31
    assert conn.status() == 408
    assert conn.resource.rendered == []


def test_configuredHeaderTimeoutIsHonoured() -> None:
    """A site's headerTimeout applies to its connections."""
    conn = _Conn(headerTimeout=5.0)
    conn.send(b"GET / HTTP/1.1\r\n")
    conn.clock.advance(4)
    assert not conn.transport.disconnecting
    conn.clock.advance(1.5)
    assert conn.transport.disconnecting
    assert conn.status() == 408


def test_idleConnectionIsClosedAtTimeOut() -> None:
    """A connection that sends nothing is closed after timeOut seconds."""
    conn = _Conn()
    conn.clock.advance(59)
    assert not conn.transport.disconnecting
    conn.clock.advance(2)
    assert conn.transport.disconnecting


def test_stalledBodyIsClosedAtTimeOut() -> None:
    """A client that stops in the middle of a body is closed after timeOut seconds."""
    conn = _Conn()
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")
    conn.clock.advance(61)
    assert conn.transport.disconnecting
    assert conn.resource.rendered == []


def test_pipelinedFloodPausesReading() -> None:
    """Requests pipelined behind one that never finishes pause the transport at maxPipelined."""
    conn = _Conn(_Recorder(hold=True))
    one = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    sent = 0
    while conn.transport.producerState != "paused" and sent < 10000:
        conn.send(one)
        sent += 1
    assert conn.transport.producerState == "paused"
    assert sent <= conn.site.maxPipelined + 1
    assert len(conn.resource.rendered) == sent


def test_pipelinedReadingResumesWhenQueueDrains() -> None:
    """Reading resumes once the held requests finish."""
    conn = _Conn(_Recorder(hold=True))
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n" * 40)
    assert conn.transport.producerState == "paused"
    for request in list(conn.resource.rendered):
        request.finish()
    assert conn.transport.producerState == "producing"


def test_bytesAfterUpgradeRequestAreBounded() -> None:
    """Bytes sent after an Upgrade request still being answered are bounded (pause or close)."""
    conn = _Conn(_Recorder(hold=True))
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n")
    for _ in range(160):
        if conn.transport.disconnecting or conn.transport.producerState == "paused":
            break
        conn.send(b"z" * 65536)
    assert conn.transport.disconnecting or conn.transport.producerState == "paused"


def test_malformedRequestLineIs400() -> None:
    """Garbage instead of a request line is answered 400 and closed."""
    conn = _Conn()
    conn.send(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n")
    assert conn.status() == 400
    assert conn.transport.disconnecting


def test_nulInHeaderValueIs400() -> None:
    """A NUL in a header value is answered 400."""
    conn = _Conn()
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n")
    assert conn.status() == 400
    assert conn.resource.rendered == []


class _Args(resource.Resource):
    """A leaf that reads request.args and answers with the number of values."""

    isLeaf = True

    def render(self, request: Any) -> bytes:
        return b"%d" % (sum(len(v) for v in request.args.values()),)


def test_formFieldFloodIsBounded() -> None:
    """A urlencoded body of 131072 empty fields is refused (or cut), not parsed in full.

    Why: parsing costs ~70 bytes and ~1 us per field: the default 64 MiB body would hold the
    reactor for half a minute and take gigabytes; multipart already stops at 1000 parts.
    """
    conn = _Conn(_Args())
    body = b"a&" * 65536
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    value = conn.transport.value()
    answered = value.rpartition(b"\r\n\r\n")[2]
    assert conn.status() in (400, 413) or int(answered) <= 1000


def test_multipartPartFloodIsRefused() -> None:
    """A multipart body of 5000 parts is refused at the 1000-part limit with a 400 (Twisted)."""
    conn = _Conn(_Args())
    part = b'--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n'
    body = part * 5000 + b"--b--\r\n"
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    assert conn.status() in (400, 413)


def test_malformedMultipartIs400() -> None:
    """A multipart body without its boundary is a client error (400), not a server error."""
    conn = _Conn(_Args())
    body = b"no boundary here"
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"
              b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    assert conn.status() == 400
