"""Unit tests of the HTTP/1.1 client connection over a StringTransport (no sockets)."""

from __future__ import annotations

from typing import Any

import pytest

from torsion.internet.defer import CancelledError, Deferred
from torsion.internet.error import ConnectionDone, ConnectionLost
from torsion.internet.protocol import Protocol
from torsion.internet.testing import StringTransport
from torsion.python.failure import Failure
from torsion.web._newclient import (
    HeadersTooLarge,
    HTTP11ClientProtocol,
    ParseError,
    PotentialDataLoss,
    Request,
    RequestGenerationFailed,
    RequestNotSent,
    Response,
    ResponseDone,
    ResponseFailed,
    ResponseNeverReceived,
    WrongBodyLength,
)
from torsion.web.http_headers import Headers
from torsion.web.iweb import UNKNOWN_LENGTH


class _Body(Protocol):
    """Collects a body and the reason it ended."""

    def __init__(self) -> None:
        self.data = b""
        self.reason: Failure | None = None

    def dataReceived(self, data: bytes) -> None:
        self.data += data

    def connectionLost(self, reason: Failure | None = None) -> None:
        self.reason = reason


class _Connection:
    """A client protocol on a StringTransport, recording when it goes quiescent."""

    def __init__(self) -> None:
        self.quiescent: list[HTTP11ClientProtocol] = []
        self.protocol = HTTP11ClientProtocol(self.quiescent.append)
        self.transport = StringTransport()
        self.protocol.makeConnection(self.transport)

    def request(
        self, method: bytes = b"GET", persistent: bool = True, producer: Any = None
    ) -> Deferred[Response]:
        headers = Headers({b"host": [b"example.com"]})
        return self.protocol.request(Request(method, b"/p?q=1", headers, producer, persistent))

    def responseOf(self, d: Deferred[Response]) -> Response:
        results: list[Any] = []
        d.addBoth(results.append)
        assert results, "no response yet"
        result = results[0]
        if isinstance(result, Failure):
            result.raiseException()
        assert isinstance(result, Response)
        return result


def _failureOf(d: Deferred[Any]) -> Failure:
    results: list[Any] = []
    d.addBoth(results.append)
    assert results and isinstance(results[0], Failure), results
    return results[0]


def _bodyOf(response: Response) -> _Body:
    body = _Body()
    response.deliverBody(body)
    return body


RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: 1\r\n\r\nhello"
CHUNKED = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3\r\nhel\r\n2\r\nlo\r\n0\r\nX-Trailer: t\r\n\r\n")


def test_requestHeadIsWritten() -> None:
    """The request line, the caller's headers and no body framing are written for a GET."""
    c = _Connection()
    c.request()
    assert c.transport.value() == b"GET /p?q=1 HTTP/1.1\r\nHost: example.com\r\n\r\n"


def test_nonPersistentRequestAsksToClose() -> None:
    """A request on a non-persistent connection says Connection: close (RFC 9112 §9.6)."""
    c = _Connection()
    c.request(persistent=False)
    assert b"Connection: close\r\n" in c.transport.value()


def test_postWithoutBodySendsZeroLength() -> None:
    """A POST with no body producer declares Content-Length: 0."""
    c = _Connection()
    c.request(b"POST")
    assert b"Content-Length: 0\r\n" in c.transport.value()


def test_wholeResponseIsParsed() -> None:
    """A Content-Length response delivered at once gives code, phrase, headers and body."""
    c = _Connection()
    d = c.request()
    c.protocol.dataReceived(RESPONSE)
    response = c.responseOf(d)
    assert (response.code, response.phrase, response.length) == (200, b"OK", 5)
    assert response.version == (b"HTTP", 1, 1)
    assert response.headers.getRawHeaders(b"x-a") == [b"1"]
    body = _bodyOf(response)
    assert body.data == b"hello"
    assert body.reason is not None and body.reason.check(ResponseDone)


@pytest.mark.parametrize("raw", [RESPONSE, CHUNKED], ids=["length", "chunked"])
def test_responseFedByteByByte(raw: bytes) -> None:
    """A response fed one byte at a time parses the same as one fed whole."""
    c = _Connection()
    d = c.request()
    body = _Body()
    d.addCallback(lambda r: r.deliverBody(body))
    for i in range(len(raw)):
        c.protocol.dataReceived(raw[i:i + 1])
    assert body.data == b"hello"
    assert body.reason is not None and body.reason.check(ResponseDone)


def test_chunkedResponseIsDecoded() -> None:
    """A chunked body is delivered without its chunk framing (RFC 9112 §7.1)."""
    c = _Connection()
    d = c.request()
    c.protocol.dataReceived(CHUNKED)
    response = c.responseOf(d)
    assert response.length == UNKNOWN_LENGTH
    assert _bodyOf(response).data == b"hello"


def test_connectionReusableAfterCompleteResponse() -> None:
    """After a complete keep-alive response the connection reports itself quiescent."""
    c = _Connection()
    d = c.request()
    c.protocol.dataReceived(RESPONSE)
    c.responseOf(d)
    assert c.quiescent == [c.protocol]
    assert c.protocol.state == "QUIESCENT"


def test_trailingDataAfterResponseBreaksConnection() -> None:
    """Bytes after a complete response, with no request pending, close the connection."""
    c = _Connection()
    d = c.request()
    c.protocol.dataReceived(RESPONSE + b"HTTP/1.1 200 OK\r\n")
    assert _bodyOf(c.responseOf(d)).data == b"hello"
    assert c.transport.aborted
    assert c.quiescent == [c.protocol]
    assert c.protocol.state == "CONNECTION_LOST"


def test_secondRequestOnSameConnection() -> None:
    """A second request on a quiescent connection gets its own response."""
    c = _Connection()
    d1 = c.request()
    c.protocol.dataReceived(RESPONSE)
    c.responseOf(d1)
    c.transport.clear()
    d2 = c.request()
    c.protocol.dataReceived(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    assert c.responseOf(d2).code == 404


def test_closeDelimitedBodyEndsWithPotentialDataLoss() -> None:
    """A body without length or chunking ends when the connection closes, flagged as such."""
    c = _Connection()
    d = c.request()
    c.protocol.dataReceived(b"HTTP/1.0 200 OK\r\n\r\nsome")
    body = _bodyOf(c.responseOf(d))
    c.protocol.dataReceived(b" data")
    c.protocol.connectionLost(Failure(ConnectionDone()))
    assert body.data == b"some data"
    assert body.reason is not None and body.reason.check(PotentialDataLoss)
    assert c.quiescent == []


def test_truncatedLengthBodyFails() -> None:
    """A Content-Length body cut short by the connection closing fails with ResponseFailed."""
    c = _Connection()
    d = c.request()
    c.protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    body = _bodyOf(c.responseOf(d))
    c.protocol.connectionLost(Failure(ConnectionDone()))
    assert body.reason is not None and body.reason.check(ResponseFailed)


def test_connectionLostBeforeResponse() -> None:
    """A connection that closes before any response fails with ResponseNeverReceived."""
    c = _Connection()
    d = c.request()
    c.protocol.connectionLost(Failure(ConnectionLost()))
    f = _failureOf(d)
    assert f.check(ResponseNeverReceived)
    assert f.value.reasons[0].check(ConnectionLost)


def test_malformedStatusLineFails() -> None:
    """A response that is not HTTP fails with ResponseNeverReceived and aborts."""
    c = _Connection()
    d = c.request()
    c.protocol.dataReceived(b"SSH-2.0-OpenSSH\r\n\r\n")
    f = _failureOf(d)
    assert f.check(ResponseNeverReceived)
    assert f.value.reasons[0].check(ParseError)
    assert c.transport.aborted


def test_headTooLargeFails() -> None:
    """A response head larger than maxHeaderBytes fails with HeadersTooLarge."""
    c = _Connection()
    c.protocol.maxHeaderBytes = 100
    d = c.request()
    c.protocol.dataReceived(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 200)
    assert _failureOf(d).value.reasons[0].check(HeadersTooLarge)


def test_tooManyHeaderFieldsFails() -> None:
    """A response with more fields than maxHeaderCount fails with HeadersTooLarge."""
    c = _Connection()
    c.protocol.maxHeaderCount = 3
    d = c.request()
    c.protocol.dataReceived(b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 4 + b"\r\n")
    assert _failureOf(d).value.reasons[0].check(HeadersTooLarge)


def test_headResponseHasNoBody() -> None:
    """A HEAD response ends at its head even though it declares a Content-Length."""
    c = _Connection()
    d = c.request(b"HEAD")
    c.protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\n")
    response = c.responseOf(d)
    body = _bodyOf(response)
    assert (response.length, body.data) == (0, b"")
    assert body.reason is not None and body.reason.check(ResponseDone)
    assert c.quiescent == [c.protocol]


def test_interimResponseIsSkipped() -> None:
    """A 100 Continue before the final response is skipped (RFC 9110 §15.2)."""
    c = _Connection()
    d = c.request()
    c.protocol.dataReceived(b"HTTP/1.1 100 Continue\r\n\r\n" + RESPONSE)
    response = c.responseOf(d)
    assert response.code == 200
    assert _bodyOf(response).data == b"hello"


def test_noContentResponseHasNoBody() -> None:
    """A 204 response is complete at its head."""
    c = _Connection()
    d = c.request()
    c.protocol.dataReceived(b"HTTP/1.1 204 No Content\r\n\r\n")
    assert _bodyOf(c.responseOf(d)).reason is not None
    assert c.quiescent == [c.protocol]


def test_busyConnectionRefusesSecondRequest() -> None:
    """A request made while another is in flight fails with RequestNotSent."""
    c = _Connection()
    c.request()
    assert _failureOf(c.request()).check(RequestNotSent)


def test_cancelAbortsConnection() -> None:
    """Cancelling before the response head fails with CancelledError and aborts."""
    c = _Connection()
    d = c.request()
    d.cancel()
    assert _failureOf(d).check(CancelledError)
    assert c.transport.aborted


def test_bodyBufferedUntilDelivered() -> None:
    """Body bytes that arrive before deliverBody are kept and delivered in order."""
    c = _Connection()
    d = c.request()
    c.protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nabc")
    response = c.responseOf(d)
    c.protocol.dataReceived(b"def")
    assert _bodyOf(response).data == b"abcdef"


class _Producer:
    """A body producer the test drives by hand."""

    def __init__(self, length: int | str) -> None:
        self.length = length
        self.consumer: Any = None
        self.finished: Deferred[None] = Deferred()
        self.stopped = False

    def startProducing(self, consumer: Any) -> Deferred[None]:
        self.consumer = consumer
        return self.finished

    def stopProducing(self) -> None:
        self.stopped = True

    def pauseProducing(self) -> None:
        pass

    def resumeProducing(self) -> None:
        pass


def test_bodyOfKnownLengthIsWritten() -> None:
    """A producer of known length gets a Content-Length and its bytes written as is."""
    c = _Connection()
    producer = _Producer(5)
    c.request(b"POST", producer=producer)
    producer.consumer.write(b"hello")
    producer.finished.callback(None)
    value = c.transport.value()
    assert b"Content-Length: 5\r\n" in value and value.endswith(b"\r\n\r\nhello")


def test_bodyOfUnknownLengthIsChunked() -> None:
    """A producer of unknown length is sent chunked, ending with the last chunk."""
    c = _Connection()
    producer = _Producer(UNKNOWN_LENGTH)
    c.request(b"POST", producer=producer)
    producer.consumer.write(b"hello")
    producer.finished.callback(None)
    value = c.transport.value()
    assert b"Transfer-Encoding: chunked\r\n" in value
    assert value.endswith(b"5\r\nhello\r\n0\r\n\r\n")


def test_shortBodyFailsRequest() -> None:
    """A producer that writes fewer bytes than it declared fails the request."""
    c = _Connection()
    producer = _Producer(10)
    d = c.request(b"POST", producer=producer)
    producer.consumer.write(b"abc")
    producer.finished.callback(None)
    f = _failureOf(d)
    assert f.check(RequestGenerationFailed)
    assert f.value.reasons[0].check(WrongBodyLength)


def test_notQuiescentUntilBodySent() -> None:
    """An early response does not free the connection while the body is still being sent."""
    c = _Connection()
    producer = _Producer(3)
    d = c.request(b"POST", producer=producer)
    c.protocol.dataReceived(b"HTTP/1.1 413 Too Large\r\nContent-Length: 0\r\n\r\n")
    assert c.responseOf(d).code == 413
    assert c.quiescent == []
    producer.consumer.write(b"abc")
    producer.finished.callback(None)
    assert c.quiescent == [c.protocol]


def test_invalidMethodRejected() -> None:
    """A method with whitespace cannot be sent (it would split the request line)."""
    with pytest.raises(ValueError):
        Request(b"GET /x", b"/", Headers(), None)


@pytest.mark.parametrize("raw", [
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX: a\r\n b\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nX: a\x00b\r\n\r\n",
    b"HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n",
], ids=["length-and-chunked", "two-lengths", "negative-length", "obs-fold", "nul", "http2"])
def test_ambiguousOrInvalidHeadIsRefused(raw: bytes) -> None:
    """A response head that could be framed two ways, or is invalid, is refused (RFC 9112 §6)."""
    c = _Connection()
    d = c.request()
    c.protocol.dataReceived(raw)
    assert _failureOf(d).value.reasons[0].check(ParseError)
    assert c.transport.aborted


def test_badChunkSizeFailsBody() -> None:
    """A chunk-size line that is not hex fails the body with ResponseFailed."""
    c = _Connection()
    d = c.request()
    c.protocol.dataReceived(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
    body = _bodyOf(c.responseOf(d))
    c.protocol.dataReceived(b"zz\r\nabc\r\n")
    assert body.reason is not None and body.reason.check(ResponseFailed)
    assert c.transport.aborted


def test_bytesAfterHeadResponseCloseConnection() -> None:
    """Bytes after a HEAD response's head make the connection unusable, not a response."""
    c = _Connection()
    d = c.request(b"HEAD")
    c.protocol.dataReceived(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    assert _bodyOf(c.responseOf(d)).reason is not None
    assert c.quiescent == []
    assert c.transport.disconnecting


def _requestAgainWhenBodyEnds(c: _Connection) -> list[Deferred[Response]]:
    """Make a request whose body reader makes a second request when the body ends.

    Returns the list that the second request's Deferred is appended to.
    """
    d = c.request()
    second: list[Deferred[Response]] = []

    class Reader(_Body):
        def connectionLost(self, reason: Failure | None = None) -> None:
            second.append(c.request())

    d.addCallback(lambda r: r.deliverBody(Reader()))
    return second


def test_requestMadeWhenBodyEndsGetsConnection() -> None:
    """A request made by the code reading the end of a body can use the same connection."""
    c = _Connection()
    second = _requestAgainWhenBodyEnds(c)
    c.protocol.dataReceived(RESPONSE)
    c.protocol.dataReceived(b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n")
    assert c.responseOf(second[0]).code == 201


def test_bytesAfterResponseInSameReadAreNotNextResponse() -> None:
    """Bytes that followed a response in one read never answer a request sent afterwards."""
    c = _Connection()
    second = _requestAgainWhenBodyEnds(c)
    c.protocol.dataReceived(RESPONSE + b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nforged")
    assert _failureOf(second[0]).check(ResponseNeverReceived)
    assert c.transport.aborted
