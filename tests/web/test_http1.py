"""Sans-I/O tests of torsion.web._http1: whole, byte by byte, trailing data, and bad input."""

from __future__ import annotations

import pytest

from torsion.web._http1 import (
    TRANSITIONS,
    Limits,
    ParseError,
    RequestHead,
    RequestParser,
    State,
    chunk,
    statusLine,
)


class Recorder(RequestParser):
    """A parser that records what it reports."""

    def __init__(self, limits: Limits | None = None) -> None:
        super().__init__(limits)
        self.events: list[object] = []

    def _headReceived(self) -> None:
        self.events.append(self.currentHead())

    def _bodyReceived(self, data: bytes) -> None:
        if self.events and isinstance(self.events[-1], bytes):
            self.events[-1] += data
        else:
            self.events.append(data)

    def _messageComplete(self) -> None:
        self.events.append("done")


POST = (
    b"POST /form?a=1 HTTP/1.1\r\nHost: example.com\r\nContent-Length: 5\r\n"
    b"Content-Type: text/plain\r\n\r\nhello"
)
CHUNKED = (
    b"POST /up HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\nX-Trailer: t\r\n\r\n"
)


def feedWhole(data: bytes, limits: Limits | None = None) -> Recorder:
    p = Recorder(limits)
    p.feed(data)
    return p


def feedBytewise(data: bytes) -> Recorder:
    p = Recorder()
    for i in range(len(data)):
        p.feed(data[i : i + 1])
    return p


def test_wholeRequestReportsHeadBodyAndEnd() -> None:
    """A request fed in one piece yields its head, its body and the end, in order."""
    p = feedWhole(POST)
    head, body, done = p.events
    assert isinstance(head, RequestHead)
    assert (head.method, head.uri, head.version) == (b"POST", b"/form?a=1", b"HTTP/1.1")
    assert head.contentLength == 5 and not head.chunked and head.keepAlive
    assert (body, done) == (b"hello", "done")


def test_byteByByteGivesSameResultAsWhole() -> None:
    """Feeding one byte at a time yields exactly what feeding the whole request does."""
    assert feedBytewise(POST).events == feedWhole(POST).events
    assert feedBytewise(CHUNKED).events == feedWhole(CHUNKED).events


def test_chunkedBodyIsDecodedAndTrailersDropped() -> None:
    """Chunked framing and chunk extensions are removed; trailers do not become headers."""
    p = feedWhole(CHUNKED)
    head = p.events[0]
    assert isinstance(head, RequestHead) and head.chunked and head.contentLength is None
    assert p.events[1:] == [b"abcdefg", "done"]
    assert (b"X-Trailer", b"t") not in head.headers


def test_trailingDataStartsNextRequest() -> None:
    """Bytes after a complete request are parsed as the start of the next one."""
    p = Recorder()
    p.feed(POST + b"GET /next HTTP/1.1\r\nHo")
    assert p.events[-1] == "done" and p.state is State.HEAD
    p.feed(b"st: a\r\n\r\n")
    assert isinstance(p.events[-2], RequestHead) and p.events[-2].uri == b"/next"
    assert p.events[-1] == "done"


def test_stateFollowsTransitionTable() -> None:
    """The parser's state moves IDLE → HEAD → BODY → IDLE through TRANSITIONS."""
    p = Recorder()
    assert p.state is State.IDLE
    p.feed(b"POST / HTTP/1.1\r\n")
    assert p.state is State.HEAD
    p.feed(b"Host: a\r\nContent-Length: 2\r\n\r\n")
    assert p.state is State.BODY
    p.feed(b"ok")
    assert p.state is State.IDLE
    assert all(v in State.ALL for v in TRANSITIONS.values())


@pytest.mark.parametrize(
    "raw,code",
    [
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
         400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd",
         400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -3\r\n\r\nabc", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
         b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
         b"ffffffffffffffffffff\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;\"\r\nabc\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\rX: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\nHost: a\n\n", 400),
        (b"GET /a\rb HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET /a\nb HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"G\rET / HTTP/1.1\r\nHost: a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\x00\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417),
    ],
    ids=[
        "duplicate-cl", "conflicting-cl", "plus-cl", "minus-cl", "cl-with-te", "bad-chunk-size",
        "negative-chunk", "huge-chunk", "bad-chunk-ext", "te-not-final-chunked", "bare-cr",
        "bare-lf-value", "bare-lf-lines", "cr-in-uri", "lf-in-uri", "cr-in-method",
        "space-before-colon", "obs-fold", "nul-in-value", "missing-host", "two-hosts",
        "unknown-expectation",
    ],
)
def test_badRequestsAreRejected(raw: bytes, code: int) -> None:
    """Each smuggling or malformed-framing vector raises ParseError with the right code."""
    p = Recorder()
    with pytest.raises(ParseError) as info:
        p.feed(raw)
    assert info.value.code == code
    assert p.state is State.CLOSED
    assert "done" not in p.events


def test_closedParserIgnoresFurtherInput() -> None:
    """After an error, more bytes are ignored rather than parsed as a new request."""
    p = Recorder()
    with pytest.raises(ParseError):
        p.feed(b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")
    p.feed(b"GET / HTTP/1.1\r\nHost: a\r\n\r\n")
    assert p.events == []


def test_headerCountLimit() -> None:
    """More header fields than maxHeaderCount is answered 431."""
    raw = b"GET / HTTP/1.1\r\nHost: a\r\n" + b"X: y\r\n" * 5 + b"\r\n"
    with pytest.raises(ParseError) as info:
        feedWhole(raw, Limits(maxHeaderCount=5))
    assert info.value.code == 431


def test_headerBytesLimit() -> None:
    """A header block larger than maxHeaderBytes is answered 431."""
    raw = b"GET / HTTP/1.1\r\nHost: a\r\nX: " + b"y" * 2000 + b"\r\n\r\n"
    with pytest.raises(ParseError) as info:
        feedWhole(raw, Limits(maxHeaderBytes=1000))
    assert info.value.code == 431


def test_unfinishedHugeHeaderIsBounded() -> None:
    """A header line that never ends is refused once it passes maxHeaderBytes."""
    p = Recorder(Limits(maxHeaderBytes=1000))
    p.feed(b"GET / HTTP/1.1\r\nHost: a\r\nX: ")
    with pytest.raises(ParseError) as info:
        for _ in range(20):
            p.feed(b"y" * 100)
    assert info.value.code == 431


def test_uriLimit() -> None:
    """A request target longer than maxUriBytes is answered 414."""
    with pytest.raises(ParseError) as info:
        feedWhole(b"GET /" + b"a" * 100 + b" HTTP/1.1\r\nHost: a\r\n\r\n", Limits(maxUriBytes=50))
    assert info.value.code == 414


def test_declaredBodyLimit() -> None:
    """A Content-Length above maxBodyBytes is refused with 413 before the body arrives."""
    with pytest.raises(ParseError) as info:
        feedWhole(b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 101\r\n\r\n",
                  Limits(maxBodyBytes=100))
    assert info.value.code == 413


def test_chunkedBodyLimit() -> None:
    """A chunked body growing past maxBodyBytes is refused with 413."""
    p = Recorder(Limits(maxBodyBytes=10))
    p.feed(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
    with pytest.raises(ParseError) as info:
        p.feed(b"8\r\n12345678\r\n8\r\n12345678\r\n")
    assert info.value.code == 413


def test_expectContinueIsReported() -> None:
    """``Expect: 100-continue`` on an HTTP/1.1 request is flagged in the head."""
    p = feedWhole(b"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n")
    head = p.events[0]
    assert isinstance(head, RequestHead) and head.expectContinue


def test_http10WithoutKeepAliveIsNotPersistent() -> None:
    """An HTTP/1.0 request without keep-alive does not keep the connection open."""
    head = feedWhole(b"GET / HTTP/1.0\r\n\r\n").events[0]
    assert isinstance(head, RequestHead)
    assert head.version == b"HTTP/1.0" and not head.keepAlive


def test_connectionCloseIsNotPersistent() -> None:
    """``Connection: close`` on HTTP/1.1 ends persistence."""
    head = feedWhole(b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n").events[0]
    assert isinstance(head, RequestHead) and not head.keepAlive


def test_ignoredUpgradeContinuesParsing() -> None:
    """After a request asking for an Upgrade, following requests are still parsed."""
    p = feedWhole(
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: foo\r\n\r\n"
        b"GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
    )
    heads = [e for e in p.events if isinstance(e, RequestHead)]
    assert [h.uri for h in heads] == [b"/", b"/2"]


def test_statusLineIsPrebuiltAndValidated() -> None:
    """Standard status lines come prebuilt; a reason phrase with CR/LF is refused."""
    assert statusLine(200) == b"HTTP/1.1 200 OK\r\n"
    assert statusLine(299) == b"HTTP/1.1 299 Unknown Status\r\n"
    with pytest.raises(ValueError):
        statusLine(200, b"OK\r\nX: y")


def test_chunkFraming() -> None:
    """chunk() frames data with its hexadecimal size."""
    assert chunk(b"a" * 26) == b"1a\r\n" + b"a" * 26 + b"\r\n"


def test_endlessChunkSizeZerosRefused() -> None:
    """A chunk-size line of endless leading zeros raises 400 once past maxHeaderBytes."""
    p = Recorder(Limits(maxHeaderBytes=1000))
    p.feed(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
    p.feed(b"0" * 900)
    with pytest.raises(ParseError) as e:
        p.feed(b"0" * 200)
    assert e.value.code == 400 and p.state is State.CLOSED


def test_chunkFramingCountsOnlyFraming() -> None:
    """Body bytes do not count towards the framing bound, however many arrive."""
    p = Recorder(Limits(maxHeaderBytes=100))
    p.feed(b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")
    for _ in range(50):
        p.feed(b"1f4\r\n" + b"x" * 500 + b"\r\n")
    p.feed(b"0\r\n\r\n")
    assert p.events[-1] == "done" and p.events[-2] == b"x" * 25000
