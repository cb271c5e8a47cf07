"""Tests of the HTTP/1.1 channel and Request over a StringTransport and a Clock."""

from __future__ import annotations

import tempfile
from typing import Any

import pytest

from torsion.internet.error import ConnectionLost
from torsion.logger import capturedLogs
from torsion.python.failure import Failure
from torsion.web import resource, server


class Echo(resource.Resource):
    """Answers with the method, path and body it received; records each request."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[server.Request] = []

    def render_GET(self, request: server.Request) -> bytes:
        self.requests.append(request)
        return b"GET " + request.path

    def render_POST(self, request: server.Request) -> bytes:
        self.requests.append(request)
        return b"POST " + request.content.read()

    render_PUT = render_POST


class Later(resource.Resource):
    """Holds every request open (NOT_DONE_YET) until the test finishes it."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[server.Request] = []

    def render_GET(self, request: server.Request) -> int:
        self.pending.append(request)
        return server.NOT_DONE_YET


class Tree(resource.Resource):
    """/slow is held open, anything else echoes."""

    def __init__(self) -> None:
        super().__init__()
        self.later = Later()
        self.echo = Echo()
        self.putChild(b"slow", self.later)

    def getChild(self, path: bytes, request: Any) -> Any:
        return self.echo


GET = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n"


def test_keepAliveServesSeveralRequests(connectSite: Any, parse: Any) -> None:
    """Two requests on one HTTP/1.1 connection are both answered and it stays open."""
    conn = connectSite(Echo())
    out = conn.send(GET + b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n")
    responses = parse(out)
    assert [r.body for r in responses] == [b"GET /a", b"GET /b"]
    assert responses[0].header(b"content-length") == b"6"
    assert not conn.transport.disconnecting


def test_responseIsOneTransportWrite(connectSite: Any) -> None:
    """A rendered bytes body goes out with its headers in a single transport write."""
    conn = connectSite(Echo())
    writes: list[bytes] = []
    conn.transport.write = writes.append  # type: ignore[method-assign]
    conn.channel.dataReceived(GET)
    assert len(writes) == 1 and writes[0].endswith(b"GET /a")


def test_connectionCloseRequestCloses(connectSite: Any, parse: Any) -> None:
    """``Connection: close`` is echoed and the connection is closed after the response."""
    conn = connectSite(Echo())
    out = conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert parse(out)[0].header(b"connection") == b"close"
    assert conn.transport.disconnecting


def test_http10KeepAliveIsHonoured(connectSite: Any, parse: Any) -> None:
    """An HTTP/1.0 client asking for keep-alive gets ``Connection: keep-alive``."""
    conn = connectSite(Echo())
    out = conn.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    assert parse(out)[0].header(b"connection") == b"keep-alive"
    assert not conn.transport.disconnecting


def test_http10WithoutKeepAliveCloses(connectSite: Any) -> None:
    """A plain HTTP/1.0 request is answered and the connection closed."""
    conn = connectSite(Echo())
    conn.send(b"GET / HTTP/1.0\r\n\r\n")
    assert conn.transport.disconnecting


def test_pipelinedResponsesAreInRequestOrder(connectSite: Any, parse: Any) -> None:
    """A fast second response waits, buffered, until the slow first one finishes."""
    tree = Tree()
    conn = connectSite(tree)
    out = conn.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out == b""
    slow = tree.later.pending[0]
    slow.write(b"first")
    slow.finish()
    responses = parse(conn.take())
    assert [r.body for r in responses] == [b"first", b"GET /fast"]


def test_pipelinedByteByByte(connectSite: Any, parse: Any) -> None:
    """Pipelined requests fed one byte at a time are answered, in order."""
    conn = connectSite(Echo())
    data = GET + b"POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc" + GET
    out = b""
    for i in range(len(data)):
        out += conn.send(data[i : i + 1])
    assert [r.body for r in parse(out)] == [b"GET /a", b"POST abc", b"GET /a"]


def test_laterResponseBufferedWhileEarlierStreams(connectSite: Any, parse: Any) -> None:
    """While request 1 streams, request 2's complete output is held back."""
    tree = Tree()
    conn = connectSite(tree)
    conn.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    first, second = tree.later.pending
    second.write(b"two")
    second.finish()
    first.write(b"one")
    assert b"two" not in conn.transport.value()
    first.finish()
    assert [r.body for r in parse(conn.take())] == [b"one", b"two"]


def test_writeWithoutLengthIsChunked(connectSite: Any, parse: Any) -> None:
    """Writes without a Content-Length are sent chunked and end with the last chunk."""
    tree = Tree()
    conn = connectSite(tree)
    conn.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    request = tree.later.pending[0]
    request.write(b"hello ")
    request.write(b"world")
    request.finish()
    raw = conn.take()
    assert b"Transfer-Encoding: chunked" in raw and raw.endswith(b"0\r\n\r\n")
    assert parse(raw)[0].body == b"hello world"


def test_http10StreamedBodyClosesConnection(connectSite: Any) -> None:
    """An HTTP/1.0 response of unknown length is delimited by closing the connection."""
    tree = Tree()
    conn = connectSite(tree)
    conn.send(b"GET /slow HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    request = tree.later.pending[0]
    request.write(b"data")
    request.finish()
    raw = conn.take()
    assert b"chunked" not in raw and raw.endswith(b"\r\n\r\ndata")
    assert conn.transport.disconnecting


def test_chunkedUploadIsDecoded(connectSite: Any, parse: Any) -> None:
    """A chunked request body reaches request.content decoded."""
    conn = connectSite(Echo())
    out = conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    b"5\r\nhello\r\n1;x=y\r\n!\r\n0\r\n\r\n")
    assert parse(out)[0].body == b"POST hello!"


def test_expectContinueSendsInterimResponse(connectSite: Any, parse: Any) -> None:
    """``Expect: 100-continue`` gets ``100 Continue`` before the body is read."""
    conn = connectSite(Echo())
    out = conn.send(b"PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                    b"Content-Length: 4\r\n\r\n")
    assert out == b"HTTP/1.1 100 Continue\r\n\r\n"
    assert parse(conn.send(b"data"))[0].body == b"POST data"


def test_expectContinueRefusedForTooLargeBody(connectSite: Any, parse: Any) -> None:
    """A too-large body announced with Expect gets 413 instead of 100 Continue."""
    conn = connectSite(Echo())
    conn.site.maxBodyBytes = 10
    conn.channel.limits = conn.site.limits
    out = conn.send(b"PUT / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                    b"Content-Length: 400\r\n\r\n")
    assert b"100 Continue" not in out and parse(out)[0].code == 413
    assert conn.transport.disconnecting


def test_headHasLengthButNoBody(connectSite: Any, parse: Any) -> None:
    """HEAD gets GET's Content-Length and no body."""
    conn = connectSite(Echo())
    out = conn.send(b"HEAD /abc HTTP/1.1\r\nHost: x\r\n\r\n")
    assert out.endswith(b"\r\n\r\n")
    assert parse(out, head=True)[0].header(b"content-length") == b"8"


def test_headThenGetOnSameConnection(connectSite: Any, parse: Any) -> None:
    """After a HEAD response the connection carries on with the next request."""
    conn = connectSite(Echo())
    out = conn.send(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert not conn.transport.disconnecting
    assert parse(conn.send(GET))[0].body == b"GET /a"
    assert out.endswith(b"\r\n\r\n")


def test_badRequestGets400AndClose(connectSite: Any, parse: Any) -> None:
    """A malformed request is answered 400 and the connection closed."""
    conn = connectSite(Echo())
    out = conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")
    assert parse(out)[0].code == 400
    assert conn.transport.disconnecting


def test_badRequestAfterPendingOneKeepsOrder(connectSite: Any, parse: Any) -> None:
    """A 400 for a bad pipelined request is sent only after the earlier response."""
    tree = Tree()
    conn = connectSite(tree)
    out = conn.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\nGET /\x01 HTTP/1.1\r\n\r\n")
    assert out == b""
    tree.later.pending[0].write(b"ok")
    tree.later.pending[0].finish()
    responses = parse(conn.take())
    assert [r.code for r in responses] == [200, 400]
    assert conn.transport.disconnecting


def test_idleTimeoutCloses(connectSite: Any) -> None:
    """A connection idle for timeOut seconds is closed."""
    conn = connectSite(Echo(), timeOut=5, headerTimeout=None)
    conn.send(GET)
    conn.clock.advance(4.9)
    assert not conn.transport.disconnecting
    conn.clock.advance(0.2)
    assert conn.transport.disconnecting


def test_activityPostponesIdleTimeout(connectSite: Any) -> None:
    """Data arriving resets the idle clock."""
    conn = connectSite(Echo(), timeOut=5, headerTimeout=None)
    conn.clock.advance(4)
    conn.send(GET)
    conn.clock.advance(4)
    assert not conn.transport.disconnecting
    conn.clock.advance(1.1)
    assert conn.transport.disconnecting


def test_slowHeadersGet408(connectSite: Any, parse: Any) -> None:
    """A request head still incomplete after headerTimeout is answered 408 and closed."""
    conn = connectSite(Echo(), timeOut=60, headerTimeout=3)
    conn.send(b"GET / HTTP/1.1\r\n")
    for _ in range(4):
        conn.clock.advance(1)
        conn.channel.dataReceived(b"X: y\r\n")
    assert parse(conn.take())[0].code == 408
    assert conn.transport.disconnecting


def test_noTimeoutWhileResponding(connectSite: Any) -> None:
    """A request being processed is not cut off by the idle timeout."""
    tree = Tree()
    conn = connectSite(tree, timeOut=5)
    conn.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    conn.clock.advance(30)
    assert not conn.transport.disconnecting
    tree.later.pending[0].finish()
    conn.clock.advance(5.1)
    conn.clock.advance(5.1)
    assert conn.transport.disconnecting


def test_tooManyHeadersGet431(connectSite: Any, parse: Any) -> None:
    """More request headers than the site's maxHeaderCount get 431."""
    conn = connectSite(Echo())
    conn.site.maxHeaderCount = 3
    conn.channel.limits = conn.site.limits
    out = conn.send(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"A: b\r\n" * 3 + b"\r\n")
    assert parse(out)[0].code == 431


def test_bodyOverLimitGets413(connectSite: Any, parse: Any) -> None:
    """A body larger than maxBodyBytes gets 413."""
    conn = connectSite(Echo())
    conn.site.maxBodyBytes = 4
    conn.channel.limits = conn.site.limits
    out = conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
    assert parse(out)[0].code == 413


def test_setHeaderRejectsCRLF() -> None:
    """setHeader with CR/LF in the name or value raises ValueError (no response splitting)."""
    request = server.Request()
    with pytest.raises(ValueError):
        request.setHeader(b"X-A", b"1\r\nSet-Cookie: evil=1")
    with pytest.raises(ValueError):
        request.setHeader(b"X-A\r\nB", b"1")
    with pytest.raises(ValueError):
        request.setResponseCode(200, b"OK\r\nEvil: 1")


def test_writeRejectsStr() -> None:
    """Request.write(str) raises TypeError."""
    with pytest.raises(TypeError):
        server.Request().write("text")  # type: ignore[arg-type]


def test_notifyFinishFiresOnFinish(connectSite: Any) -> None:
    """notifyFinish's Deferred fires with None when the response is finished."""
    tree = Tree()
    conn = connectSite(tree)
    conn.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    results: list[object] = []
    tree.later.pending[0].notifyFinish().addCallback(results.append)
    tree.later.pending[0].finish()
    assert results == [None]


def test_notifyFinishErrbacksWhenClientLeaves(connectSite: Any) -> None:
    """notifyFinish's Deferred fails when the connection is lost before finish."""
    tree = Tree()
    conn = connectSite(tree)
    conn.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    failures: list[Failure] = []
    tree.later.pending[0].notifyFinish().addErrback(failures.append)
    conn.channel.connectionLost(Failure(ConnectionLost()))
    assert failures and failures[0].check(ConnectionLost)
    tree.later.pending[0].write(b"ignored")  # writing after the loss is harmless
    tree.later.pending[0].finish()


def test_largeBodyIsSpooledToDisk(connectSite: Any) -> None:
    """A body above maxMemoryBody ends up in a temporary file, not in memory."""
    echo = Echo()
    conn = connectSite(echo)
    size = server.Request.maxMemoryBody + 10
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size + b"z" * size)
    content = echo.requests[0].content
    assert isinstance(content, tempfile.SpooledTemporaryFile)
    assert content._rolled  # type: ignore[attr-defined]


def test_argsFromQueryAndForm(connectSite: Any) -> None:
    """Query-string and urlencoded body arguments are merged into request.args."""
    echo = Echo()
    conn = connectSite(echo)
    body = b"b=2&a=3&c=%41+B"
    conn.send(b"POST /?a=1 HTTP/1.1\r\nHost: x\r\n"
              b"Content-Type: application/x-www-form-urlencoded\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert echo.requests[0].args == {b"a": [b"1", b"3"], b"b": [b"2"], b"c": [b"A B"]}


def test_formFieldWithoutEqualsIsDropped(connectSite: Any) -> None:
    """A urlencoded body field without '=' is dropped, as Twisted's parse_qs does."""
    echo = Echo()
    conn = connectSite(echo)
    _postForm(conn, b"application/x-www-form-urlencoded", b"body!&k=v&empty=")
    assert echo.requests[0].args == {b"k": [b"v"], b"empty": [b""]}


def test_queryFieldWithoutEqualsIsDropped(connectSite: Any) -> None:
    """A query-string field without '=' is dropped; 'y=' stays as an empty value."""
    echo = Echo()
    conn = connectSite(echo)
    conn.send(b"GET /?flag&x=1&y= HTTP/1.1\r\nHost: x\r\n\r\n")
    assert echo.requests[0].args == {b"x": [b"1"], b"y": [b""]}


def test_parseQsStrictRejectsFieldWithoutEquals() -> None:
    """http.parse_qs with strict_parsing raises ValueError for a field without '='."""
    from torsion.web import http

    assert http.parse_qs(b"a&b=1;c=2", 1) == {b"b": [b"1"], b"c": [b"2"]}
    with pytest.raises(ValueError):
        http.parse_qs(b"a&b=1", 1, 1)


def test_argsFromMultipart(connectSite: Any) -> None:
    """multipart/form-data fields (files included) appear in request.args."""
    echo = Echo()
    conn = connectSite(echo)
    body = (b"--XyZ\r\nContent-Disposition: form-data; name=\"field\"\r\n\r\nvalue\r\n"
            b"--XyZ\r\nContent-Disposition: form-data; name=\"up\"; filename=\"a.txt\"\r\n"
            b"Content-Type: text/plain\r\n\r\nfile\r\nbody\r\n--XyZ--\r\n")
    conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ"
              b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert echo.requests[0].args == {b"field": [b"value"], b"up": [b"file\r\nbody"]}


def _postForm(conn: Any, ctype: bytes, body: bytes) -> bytes:
    return conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: " + ctype
                     + b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)


def test_formFieldsUpToTheLimitAreParsed(connectSite: Any) -> None:
    """A urlencoded body of exactly maxFormFields fields reaches the resource whole."""
    echo = Echo()
    conn = connectSite(echo)
    _postForm(conn, b"application/x-www-form-urlencoded", b"&".join([b"a=1"] * 1000))
    assert echo.requests[0].args == {b"a": [b"1"] * 1000}


def test_formFieldsPastTheLimitAre400(connectSite: Any, parse: Any) -> None:
    """One field more than maxFormFields is answered 400 and closed; the resource is not called."""
    echo = Echo()
    conn = connectSite(echo)
    out = _postForm(conn, b"application/x-www-form-urlencoded", b"&".join([b"a=1"] * 1001))
    assert parse(out)[0].code == 400 and conn.transport.disconnecting
    assert echo.requests == []


def test_multipartWithoutBoundaryParamIs400(connectSite: Any, parse: Any) -> None:
    """multipart/form-data with no boundary parameter is a client error."""
    echo = Echo()
    conn = connectSite(echo)
    out = _postForm(conn, b"multipart/form-data", b"--x\r\n\r\n--x--\r\n")
    assert parse(out)[0].code == 400 and echo.requests == []


def test_badFormAfterPendingRequestKeepsOrder(connectSite: Any, parse: Any) -> None:
    """A bad form behind a pending request is answered 400 after that request's response."""
    conn = connectSite(Tree())
    body = b"&" * 2000
    conn.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"
              b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
              b"\r\nContent-Length: %d\r\n\r\n" % len(body) + body)
    assert conn.take() == b""
    pending = conn.site.resource.later.pending[0]
    pending.write(b"first")
    pending.finish()
    assert [r.code for r in parse(conn.take())] == [200, 400]
    assert conn.transport.disconnecting


def test_addCookieFormatsAttributes(connectSite: Any, parse: Any) -> None:
    """addCookie emits Set-Cookie with every attribute given."""
    class C(resource.Resource):
        isLeaf = True

        def render_GET(self, request: server.Request) -> bytes:
            request.addCookie(b"k", b"v", path=b"/", domain=b"example.com", max_age=60,
                              expires=b"Sun, 22 Nov 2026 10:00:00 GMT", secure=True,
                              httpOnly=True, sameSite="strict")
            return b""

    out = parse(connectSite(C()).send(GET))[0]
    assert out.header(b"set-cookie") == (
        b"k=v; Expires=Sun, 22 Nov 2026 10:00:00 GMT; Max-Age=60; Domain=example.com; "
        b"Path=/; Secure; HttpOnly; SameSite=Strict")


@pytest.mark.parametrize("kwargs", [
    {"k": b"bad name", "v": b"v"},
    {"k": b"k", "v": b"a;b"},
    {"k": b"k", "v": b"a\r\nb"},
    {"k": b"k", "v": b"v", "path": b"/;evil"},
    {"k": b"k", "v": b"v", "sameSite": "sometimes"},
    {"k": b"k", "v": b"v", "max_age": b"10; x"},
])
def test_addCookieRejectsUnsafeInput(kwargs: dict[str, Any]) -> None:
    """Cookie names, values and attributes that could inject attributes raise ValueError."""
    with pytest.raises(ValueError):
        server.Request().addCookie(**kwargs)


def test_getCookieReadsRequestCookies(connectSite: Any) -> None:
    """getCookie returns values from the Cookie header(s)."""
    echo = Echo()
    conn = connectSite(echo)
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1; b=2\r\nCookie: c=3\r\n\r\n")
    request = echo.requests[0]
    assert (request.getCookie(b"a"), request.getCookie(b"c"), request.getCookie(b"z")) == (
        b"1", b"3", None)


def test_accessLogCombinedFormat(connectSite: Any) -> None:
    """With a logFormatter, each request produces one combined-format line."""
    lines: list[str] = []
    conn = connectSite(Echo())
    conn.site._accessLog = True
    conn.site._logFormatter = lambda ts, req: lines.append(
        server.http.combinedLogFormatter("[ts]", req)) or "x"
    with capturedLogs():
        conn.send(b"GET /p?q HTTP/1.1\r\nHost: x\r\nUser-Agent: ua\"x\r\nReferer: r\r\n\r\n")
    assert lines == ['"192.168.1.1" - - [ts] "GET /p?q HTTP/1.1" 200 6 "r" "ua\\"x"']


def test_accessLogFile(tmp_path: Any) -> None:
    """Site(logPath=...) appends combined-format lines to that file."""
    from torsion.internet.task import Clock
    from torsion.internet.testing import StringTransport

    path = tmp_path / "access.log"
    site = server.Site(Echo(), logPath=str(path), reactor=Clock())
    site.startFactory()
    channel = site.buildProtocol(None)
    channel.makeConnection(StringTransport())
    channel.dataReceived(GET)
    site.stopFactory()
    line = path.read_text()
    assert line.startswith('"192.168.1.1" - - [') and '"GET /a HTTP/1.1" 200 6 "-" "-"' in line


def test_connectionLostCancelsTimer(connectSite: Any) -> None:
    """After connectionLost no timeout call is left pending."""
    conn = connectSite(Echo())
    conn.channel.connectionLost(Failure(ConnectionLost()))
    assert all(not c.active() for c in conn.clock.getDelayedCalls())


def test_requestsAfterConnectionCloseAreNotProcessed(connectSite: Any, parse: Any) -> None:
    """A request pipelined after ``Connection: close`` is neither processed nor answered."""
    echo = Echo()
    conn = connectSite(echo)
    out = conn.send(b"GET /1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    b"GET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert [r.path for r in echo.requests] == [b"/1"]
    assert [r.body for r in parse(out)] == [b"GET /1"]
    assert conn.transport.disconnecting


def test_dataAfterCloseIsIgnored(connectSite: Any) -> None:
    """Bytes arriving after the server decided to close are not parsed."""
    echo = Echo()
    conn = connectSite(echo)
    conn.send(b"GET /1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert conn.send(GET) == b""
    assert len(echo.requests) == 1


def test_chunkHelpersRoundTrip() -> None:
    """toChunk frames data that fromChunk splits back off, leaving the rest."""
    from torsion.web.http import fromChunk, toChunk

    framed = b"".join(toChunk(b"hello")) + b"more"
    assert fromChunk(framed) == (b"hello", b"more")
    with pytest.raises(ValueError):
        fromChunk(b"-5\r\nhello\r\n")
    with pytest.raises(ValueError):
        fromChunk(b"5\r\nhelloXX")


def test_parseContentRange() -> None:
    """parseContentRange reads ``bytes a-b/n`` and ``bytes a-b/*``, refusing other units."""
    from torsion.web.http import parseContentRange

    assert parseContentRange(b"bytes 0-9/100") == (0, 9, 100)
    assert parseContentRange(b"bytes 5-6/*") == (5, 6, None)
    with pytest.raises(ValueError):
        parseContentRange(b"items 0-9/100")


def test_dateRoundTrip() -> None:
    """datetimeToString output parses back with stringToDatetime."""
    from torsion.web.http import datetimeToString, stringToDatetime

    assert datetimeToString(784111777) == b"Sun, 06 Nov 1994 08:49:37 GMT"
    assert stringToDatetime(b"Sun, 06 Nov 1994 08:49:37 GMT") == 784111777
    assert stringToDatetime(b"Sunday, 06-Nov-94 08:49:37 GMT") == 784111777
    with pytest.raises(ValueError):
        stringToDatetime(b"yesterday")


def test_finishTwiceWarns(connectSite: Any) -> None:
    """A second finish() warns (as Twisted does) and writes nothing more."""
    tree = Tree()
    conn = connectSite(tree)
    conn.send(b"GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
    request = tree.later.pending[0]
    request.finish()
    conn.take()
    with pytest.warns(UserWarning, match="finish called twice"):
        request.finish()
    assert conn.take() == b""


def test_subclassMakingHeadersInInitStillGetsThem(connectSite: Any) -> None:
    """A Request subclass that builds requestHeaders in __init__ still sees the request's."""
    from torsion.web.http_headers import Headers

    seen: list[bytes | None] = []

    class Mine(server.Request):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.requestHeaders = Headers()

        def process(self) -> None:
            seen.append(self.requestHeaders._getOne(b"x-probe"))
            self.finish()

    conn = connectSite(Echo(), requestFactory=Mine)
    conn.channel.requestFactory = Mine
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nX-Probe: here\r\n\r\n")
    assert seen == [b"here"]


@pytest.mark.parametrize("raw", [
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\na",
    b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nq\r\n",
    b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;\x01\r\na\r\n",
    b"GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n",
    b"GET /a\rb HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GE\nT / HTTP/1.1\r\nHost: x\r\n\r\n",
], ids=["signed-cl", "cl-and-te", "bad-chunk-size", "bad-chunk-ext", "bare-cr", "cr-in-uri",
        "lf-in-method"])
def test_smugglingVectorsAnswered400OnTheWire(connectSite: Any, parse: Any, raw: bytes) -> None:
    """Each framing attack is answered 400, nothing is rendered, and the connection closes."""
    echo = Echo()
    conn = connectSite(echo)
    out = conn.send(raw + GET)
    assert [r.code for r in parse(out)] == [400]
    assert echo.requests == [] and conn.transport.disconnecting
