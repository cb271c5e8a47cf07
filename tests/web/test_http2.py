"""HTTP/2 serving (torsion.web._http2): h2's own client against the server over fakes, then
curl and Chromium against a real Site over TLS with ALPN."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.settings
import pytest
from h2.errors import ErrorCodes
from headlesschromium import chromiumCommand, needsChromium
from localports import freePort, waitForTCP

from torsion.internet import ssl
from torsion.internet.defer import Deferred
from torsion.internet.task import Clock
from torsion.internet.testing import StringTransport
from torsion.internet.threads import deferToThreadPool
from torsion.python.failure import Failure
from torsion.web import resource, server, static
from torsion.web._http2 import HIGH_WATER, H2Connection

CURL = shutil.which("curl")
needsCurl = pytest.mark.skipif(CURL is None, reason="curl is not installed (.ci/run installs it)")


# -- an in-memory client ---------------------------------------------------------------------


@dataclass
class Answer:
    """What the client saw on one stream."""

    headers: dict[bytes, bytes] = field(default_factory=dict)
    informational: list[bytes] = field(default_factory=list)
    body: bytes = b""
    ended: bool = False
    reset: int | None = None

    @property
    def status(self) -> int:
        return int(self.headers[b":status"])


class Client:
    """h2's client side wired to a server H2Connection over a StringTransport and a Clock."""

    def __init__(self, root: Any, window: int | None = None, autoAck: bool = True,
                 serverAttributes: dict[str, Any] | None = None, clock: Clock | None = None,
                 **siteAttributes: Any) -> None:
        self.clock = clock if clock is not None else Clock()
        self.site = server.Site(root, reactor=self.clock)
        for name, value in siteAttributes.items():
            setattr(self.site, name, value)
        self.server = H2Connection(self.site)
        for name, value in (serverAttributes or {}).items():
            setattr(self.server, name, value)
        self.transport = StringTransport()
        self.server.makeConnection(self.transport)
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None))
        self.h2.initiate_connection()
        if window is not None:
            self.h2.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
        self.autoAck = autoAck
        self.answers: dict[int, Answer] = {}
        self.terminated: h2.events.ConnectionTerminated | None = None
        self.pump()

    def pump(self) -> None:
        """Move bytes both ways (and run due calls) until nothing moves."""
        for _ in range(10_000):
            moved = False
            data = self.h2.data_to_send()
            if data and not self.transport.disconnecting:
                self.server.dataReceived(data)
                moved = True
            self.clock.advance(0)
            out = self.transport.value()
            if out:
                self.transport.clear()
                for event in self.h2.receive_data(out):
                    self._event(event)
                moved = True
            if not moved:
                return
        raise AssertionError("the connection never settled")

    def _event(self, event: Any) -> None:
        if isinstance(event, h2.events.ResponseReceived):
            self.answers[event.stream_id].headers = dict(event.headers)
        elif isinstance(event, h2.events.InformationalResponseReceived):
            self.answers[event.stream_id].informational.append(dict(event.headers)[b":status"])
        elif isinstance(event, h2.events.DataReceived):
            self.answers[event.stream_id].body += event.data
            if self.autoAck:
                self.h2.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            self.answers[event.stream_id].ended = True
        elif isinstance(event, h2.events.StreamReset):
            self.answers[event.stream_id].reset = event.error_code
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.terminated = event

    def request(self, path: bytes, method: bytes = b"GET", body: bytes | None = None,
                headers: list[tuple[bytes, bytes]] | None = None, end: bool = True) -> int:
        """Send a request (not pumped); return its stream id."""
        sid = self.h2.get_next_available_stream_id()
        self.answers[sid] = Answer()
        self.h2.send_headers(sid, [
            (b":method", method), (b":path", path), (b":scheme", b"https"),
            (b":authority", b"example.com"), *(headers or []),
        ], end_stream=body is None and end)
        if body is not None:
            self.h2.send_data(sid, body, end_stream=end)
        return sid

    def get(self, path: bytes, **kw: Any) -> Answer:
        sid = self.request(path, **kw)
        self.pump()
        return self.answers[sid]


class Echo(resource.Resource):
    """Answers with what it was asked: method, path, protocol, headers and body."""

    isLeaf = True

    def render_GET(self, request: server.Request) -> bytes:
        request.setHeader(b"x-proto", request.clientproto)
        request.setHeader(b"x-host", request.getHeader(b"host") or b"")
        return b"GET " + request.uri

    def render_POST(self, request: server.Request) -> bytes:
        args = b",".join(b"%s=%s" % (k, v[0]) for k, v in sorted(request.args.items()))
        return b"POST " + request.content.read() + b" args:" + args


class Later(resource.Resource):
    """NOT_DONE_YET: answers when its Deferred fires."""

    isLeaf = True

    def __init__(self) -> None:
        super().__init__()
        self.pending: list[tuple[server.Request, Deferred[None]]] = []

    def render_GET(self, request: server.Request) -> int:
        self.pending.append((request, request.notifyFinish()))
        request.write(b"first;")
        return server.NOT_DONE_YET


class Big(resource.Resource):
    """Streams `size` bytes through a push producer, as static.File does."""

    isLeaf = True

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self.producers: list[Producer] = []

    def render_GET(self, request: server.Request) -> int:
        producer = Producer(request, self.size)
        self.producers.append(producer)
        request.registerProducer(producer, True)
        if not producer.paused:
            producer.resumeProducing()
        return server.NOT_DONE_YET


class Producer:
    """A push producer writing 16 KiB chunks while not paused; records its pauses."""

    def __init__(self, request: server.Request, size: int) -> None:
        self.request = request
        self.left = size
        self.paused = False
        self.pauses = 0
        self.stopped = False

    def pauseProducing(self) -> None:
        self.paused = True
        self.pauses += 1

    def resumeProducing(self) -> None:
        self.paused = False
        while not self.paused and self.left and not self.stopped:
            n = min(16384, self.left)
            self.left -= n
            self.request.write(b"x" * n)
        if not self.left and not self.stopped:
            self.request.unregisterProducer()
            self.request.finish()
            self.left = -1

    def stopProducing(self) -> None:
        self.stopped = True


def tree() -> resource.Resource:
    root = resource.Resource()
    root.putChild(b"echo", Echo())
    return root


# -- unit tests ------------------------------------------------------------------------------


def test_getIsServedByTheSiteOverHTTP2() -> None:
    """A GET on a stream reaches the resource and the response comes back with END_STREAM."""
    client = Client(tree())
    answer = client.get(b"/echo/a?x=1")
    assert answer.status == 200
    assert answer.body == b"GET /echo/a?x=1"
    assert answer.ended
    assert answer.headers[b"x-proto"] == b"HTTP/2"
    assert answer.headers[b"x-host"] == b"example.com"
    assert answer.headers[b"content-length"] == b"15"
    assert b"connection" not in answer.headers


def test_responseHasNoConnectionSpecificHeaders() -> None:
    """A streamed response (no length) carries no Connection or Transfer-Encoding field."""
    later = Later()
    client = Client(later)
    sid = client.request(b"/")
    client.pump()
    request, _ = later.pending[0]
    request.write(b"second")
    request.finish()
    client.pump()
    answer = client.answers[sid]
    assert answer.body == b"first;second" and answer.ended
    assert not {b"connection", b"transfer-encoding"} & set(answer.headers)


def test_postBodyAndFormArguments() -> None:
    """A POST body arrives in request.content and form bodies become request.args."""
    client = Client(tree())
    answer = client.get(b"/echo", method=b"POST", body=b"a=1&b=2",
                        headers=[(b"content-type", b"application/x-www-form-urlencoded")])
    assert answer.body == b"POST a=1&b=2 args:a=1,b=2"


def test_largeUploadIsAcknowledged() -> None:
    """An upload larger than the initial windows completes: received data is acknowledged."""
    client = Client(tree())
    body = b"u" * 300_000
    sid = client.request(b"/echo", method=b"POST", end=False)
    sent = 0
    while sent < len(body):
        room = min(client.h2.local_flow_control_window(sid), 16384, len(body) - sent)
        assert room > 0, "the server stopped opening its window"
        client.h2.send_data(sid, body[sent:sent + room])
        sent += room
        client.pump()
    client.h2.end_stream(sid)
    client.pump()
    assert client.answers[sid].body == b"POST " + body + b" args:"


def test_bodyOverTheSiteLimitIs413() -> None:
    """A body past maxBodyBytes is answered 413 and the stream reset; the connection lives."""
    client = Client(tree(), maxBodyBytes=10)
    sid = client.request(b"/echo", method=b"POST", body=b"x" * 100, end=False)
    client.pump()
    assert client.answers[sid].status == 413
    assert client.get(b"/echo/ok").status == 200


def test_declaredLengthOverTheLimitIs413() -> None:
    """A content-length over maxBodyBytes is answered 413 before any body is read."""
    client = Client(tree(), maxBodyBytes=10)
    answer = client.get(b"/echo", method=b"POST", end=False,
                        headers=[(b"content-length", b"1000")])
    assert answer.status == 413


def test_manyConcurrentStreams() -> None:
    """Fifty requests sent at once are all answered, each on its own stream."""
    client = Client(tree())
    sids = [client.request(b"/echo/%d" % i) for i in range(50)]
    client.pump()
    for i, sid in enumerate(sids):
        assert client.answers[sid].body == b"GET /echo/%d" % i


def test_notDoneYetWithADeferred() -> None:
    """A resource answering later through a Deferred completes its stream when it fires."""

    class Deferring(resource.Resource):
        isLeaf = True
        d: Deferred[bytes] = Deferred()

        def render_GET(self, request: server.Request) -> Deferred[bytes]:
            return self.d

    client = Client(Deferring())
    sid = client.request(b"/")
    client.pump()
    assert not client.answers[sid].ended
    Deferring.d.callback(b"later")
    client.pump()
    assert client.answers[sid].body == b"later" and client.answers[sid].ended


def test_coroutineRendering() -> None:
    """A render method that is a coroutine is driven to its answer."""

    class Coro(resource.Resource):
        isLeaf = True

        async def render_GET(self, request: server.Request) -> bytes:
            return b"coro"

    assert Client(Coro()).get(b"/").body == b"coro"


def test_notifyFinishFiresWhenTheStreamEnds() -> None:
    """notifyFinish's Deferred fires with None when the response finishes."""
    later = Later()
    client = Client(later)
    client.request(b"/")
    client.pump()
    request, done = later.pending[0]
    request.finish()
    assert done.called and done.result is None


def test_largeResponseObeysFlowControl() -> None:
    """With a small client window, the server stops sending, pauses the producer, and
    resumes as the client opens its window."""
    big = Big(1_000_000)
    client = Client(big, window=1000, autoAck=False)
    sid = client.request(b"/")
    client.pump()
    answer = client.answers[sid]
    assert len(answer.body) == 1000
    producer = big.producers[0]
    assert producer.paused and producer.pauses >= 1
    assert client.server._streams[sid]._outBytes <= HIGH_WATER + 16384
    received = 1000
    while not answer.ended:
        client.h2.acknowledge_received_data(len(answer.body) - received + 1000, sid)
        received = len(answer.body) + 1000
        client.h2.increment_flow_control_window(200_000, sid)
        client.h2.increment_flow_control_window(200_000)
        client.pump()
    assert answer.body == b"x" * 1_000_000


def test_resetMidResponseTellsTheRequest() -> None:
    """RST_STREAM from the client errbacks notifyFinish and stops the producer."""
    big = Big(10_000_000)
    root = tree()
    root.putChild(b"big", big)
    client = Client(root, window=1000, autoAck=False)
    sid = client.request(b"/big")
    client.pump()
    producer = big.producers[0]
    request = producer.request
    failures: list[Failure] = []
    request.notifyFinish().addErrback(failures.append)
    client.h2.reset_stream(sid, ErrorCodes.CANCEL)
    client.pump()
    assert producer.stopped
    assert len(failures) == 1
    assert sid not in client.server._streams
    # The connection carries on with other streams.
    assert client.get(b"/echo/after").body == b"GET /echo/after"


def test_resetBeforeTheResponseStarts() -> None:
    """A stream reset while a NOT_DONE_YET response waits makes later writes harmless."""
    later = Later()
    client = Client(later)
    sid = client.request(b"/")
    client.pump()
    request, done = later.pending[0]
    failures: list[Failure] = []
    done.addErrback(failures.append)
    client.h2.reset_stream(sid, ErrorCodes.CANCEL)
    client.pump()
    assert failures
    request.write(b"ignored")
    request.finish()
    client.pump()
    assert not client.transport.disconnecting


def test_errorAfterWritingResetsTheStream() -> None:
    """A render failing after the response started resets the stream (no clean end)."""

    class Fails(resource.Resource):
        isLeaf = True

        def render_GET(self, request: server.Request) -> Deferred[bytes]:
            request.write(b"partial")
            d: Deferred[bytes] = Deferred()
            d.errback(RuntimeError("boom"))
            return d

    client = Client(Fails())
    answer = client.get(b"/")
    assert answer.reset == ErrorCodes.INTERNAL_ERROR
    assert not answer.ended


def test_accessLogSaysHTTP2() -> None:
    """The access log line of an HTTP/2 request names the protocol."""
    lines: list[str] = []
    client = Client(tree(), _accessLog=True, _logFormatter=lambda ts, r: "%s %s" % (
        r.clientproto.decode(), r.uri.decode()))
    client.site.log = lambda request: lines.append(  # type: ignore[method-assign]
        client.site._logFormatter("", request))
    client.get(b"/echo/x")
    assert lines == ["HTTP/2 /echo/x"]


def test_idleConnectionTimesOutWithGoAway() -> None:
    """After timeOut seconds without input or open streams, GOAWAY and close."""
    client = Client(tree(), timeOut=5)
    client.get(b"/echo/x")
    client.clock.advance(6)
    assert client.transport.disconnecting
    for event in client.h2.receive_data(client.transport.value()):
        client._event(event)
    assert client.terminated is not None
    assert client.terminated.error_code == ErrorCodes.NO_ERROR


def test_longPollIsNotTimedOut() -> None:
    """A served request still being answered keeps a quiet connection open."""
    later = Later()
    client = Client(later, timeOut=5)
    client.request(b"/")
    client.pump()
    client.clock.advance(60)
    assert not client.transport.disconnecting


def test_clientThatStopsReadingIsTimedOut() -> None:
    """A response stuck behind a closed window with no word from the client times out."""
    big = Big(1_000_000)
    client = Client(big, window=1000, autoAck=False, timeOut=5)
    client.request(b"/")
    client.pump()
    client.clock.advance(4)
    assert not client.transport.disconnecting
    client.clock.advance(2)
    assert client.transport.disconnecting
    client.server.connectionLost(Failure(ConnectionError("closed")))
    assert big.producers[0].stopped


def test_badPrefaceIsAProtocolError() -> None:
    """Bytes that are not the HTTP/2 preface get GOAWAY PROTOCOL_ERROR and a close."""
    clock = Clock()
    conn = H2Connection(server.Site(tree(), reactor=clock))
    transport = StringTransport()
    conn.makeConnection(transport)
    conn.dataReceived(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert transport.disconnecting
    reader = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    reader.initiate_connection()
    events = reader.receive_data(transport.value())
    ends = [e for e in events if isinstance(e, h2.events.ConnectionTerminated)]
    assert [e.error_code for e in ends] == [ErrorCodes.PROTOCOL_ERROR]
    conn.dataReceived(b"more garbage")  # ignored, no exception


def _raw(client: Client, data: bytes) -> None:
    client.server.dataReceived(data)
    out = client.transport.value()
    client.transport.clear()
    for event in client.h2.receive_data(out):
        client._event(event)


def test_missingPseudoHeaderClosesTheConnection() -> None:
    """A request without :path is a protocol error: GOAWAY, never an exception."""
    client = Client(tree())
    client.h2.config.validate_outbound_headers = False
    client.h2.send_headers(1, [(b":method", b"GET"), (b":scheme", b"https"),
                               (b":authority", b"x")], end_stream=True)
    client.answers[1] = Answer()
    client.pump()
    assert client.terminated is not None
    assert client.terminated.error_code == ErrorCodes.PROTOCOL_ERROR
    assert client.transport.disconnecting


def test_uppercaseHeaderNameClosesTheConnection() -> None:
    """RFC 9113 §8.2.1: an upper-case field name is malformed: PROTOCOL_ERROR."""
    client = Client(tree())
    client.h2.config.validate_outbound_headers = False
    client.h2.config.normalize_outbound_headers = False
    client.h2.send_headers(1, [(b":method", b"GET"), (b":path", b"/"), (b":scheme", b"https"),
                               (b":authority", b"x"), (b"X-Bad", b"1")], end_stream=True)
    client.answers[1] = Answer()
    client.pump()
    assert client.terminated is not None
    assert client.terminated.error_code == ErrorCodes.PROTOCOL_ERROR


def test_pathNotOriginFormIs400() -> None:
    """A :path that is not origin-form is answered 400 on its stream."""
    client = Client(tree())
    assert client.get(b"http://evil/").status == 400
    assert client.get(b"/echo/ok").status == 200


def test_connectIs501() -> None:
    """CONNECT (tunnelling) is not served: 501 on the stream."""
    client = Client(tree())
    sid = client.h2.get_next_available_stream_id()
    client.answers[sid] = Answer()
    client.h2.send_headers(sid, [(b":method", b"CONNECT"), (b":authority", b"x:443")])
    client.pump()
    assert client.answers[sid].status == 501


def test_tooManyStreamsIsRefused() -> None:
    """More open streams than SETTINGS_MAX_CONCURRENT_STREAMS ends the connection cleanly,
    and the requests already open hear that their connection was lost."""
    later = Later()
    client = Client(later, serverAttributes={"maxConcurrentStreams": 3})
    assert client.h2.remote_settings.max_concurrent_streams == 3
    for _ in range(3):
        client.request(b"/")
    client.pump()
    assert len(later.pending) == 3 and not client.transport.disconnecting
    failures: list[Failure] = []
    for _, d in later.pending:
        d.addErrback(failures.append)
    # A client ignoring the limit: h2 would refuse to send, so lie to it about the limit.
    client.h2.remote_settings = h2.settings.Settings(client=False, initial_values={
        h2.settings.SettingCodes.MAX_CONCURRENT_STREAMS: 100})
    client.request(b"/")
    client.pump()
    assert client.terminated is not None
    assert client.terminated.error_code == ErrorCodes.PROTOCOL_ERROR
    assert client.transport.disconnecting
    client.server.connectionLost(Failure(ConnectionError("closed")))
    assert len(failures) == 3


def test_concurrentStreamLimitIsAdvertised() -> None:
    """The server's SETTINGS carry its stream limit and header list size."""
    client = Client(tree(), maxHeaderBytes=8192)
    assert client.h2.remote_settings.max_concurrent_streams == 100
    assert client.h2.remote_settings.max_header_list_size == 8192


def test_headerFloodIsRefused() -> None:
    """A header block past maxHeaderBytes ends the connection (ENHANCE_YOUR_CALM)."""
    client = Client(tree(), maxHeaderBytes=4096)
    client.request(b"/echo", headers=[(b"x-%d" % i, b"v" * 100) for i in range(100)])
    client.pump()
    assert client.terminated is not None
    assert client.terminated.error_code == ErrorCodes.ENHANCE_YOUR_CALM


def test_tooManyHeaderFieldsIs431() -> None:
    """More header fields than maxHeaderCount is answered 431 on the stream."""
    client = Client(tree(), maxHeaderCount=5)
    answer = client.get(b"/echo", headers=[(b"x-%d" % i, b"v") for i in range(10)])
    assert answer.status == 431


def test_windowOverflowIsAFlowControlError() -> None:
    """A WINDOW_UPDATE pushing the window past 2**31-1 gets GOAWAY FLOW_CONTROL_ERROR."""
    client = Client(tree())
    # WINDOW_UPDATE on stream 0 by 2**31-1: with the initial 65535 that overflows.
    frame = b"\x00\x00\x04\x08\x00\x00\x00\x00\x00" + (2**31 - 1).to_bytes(4, "big")
    _raw(client, frame)
    assert client.terminated is not None
    assert client.terminated.error_code == ErrorCodes.FLOW_CONTROL_ERROR
    assert client.transport.disconnecting


def test_rapidResetIsCalmedDown() -> None:
    """A client resetting streams faster than the bucket refills gets ENHANCE_YOUR_CALM."""
    client = Client(tree(), serverAttributes={"resetBurst": 5, "resetRate": 1.0})
    for _ in range(7):
        sid = client.request(b"/echo", end=False)
        client.h2.reset_stream(sid, ErrorCodes.CANCEL)
    client.pump()
    assert client.terminated is not None
    assert client.terminated.error_code == ErrorCodes.ENHANCE_YOUR_CALM


def test_occasionalResetsAreFine() -> None:
    """Resets no faster than the refill rate never end the connection."""
    client = Client(tree(), serverAttributes={"resetBurst": 5, "resetRate": 1.0})
    for _ in range(20):
        sid = client.request(b"/echo", end=False)
        client.h2.reset_stream(sid, ErrorCodes.CANCEL)
        client.pump()
        client.clock.advance(1)
    assert client.terminated is None
    assert client.get(b"/echo/x").status == 200


def test_closingConnectionIsAbortedIfItDoesNotDrain() -> None:
    """After GOAWAY, a connection still open abortTimeout seconds later is aborted."""
    client = Client(tree())
    client.server.loseConnection()
    assert client.transport.disconnecting and not client.transport.aborted
    client.clock.advance(15)
    assert client.transport.aborted


def test_clientGoAwayClosesTheConnection() -> None:
    """GOAWAY from the client closes the connection; open requests learn they were lost."""
    later = Later()
    client = Client(later)
    client.request(b"/")
    client.pump()
    client.h2.close_connection()
    client.pump()
    assert client.transport.disconnecting
    failures: list[Failure] = []
    later.pending[0][1].addErrback(failures.append)
    client.server.connectionLost(Failure(ConnectionError("closed")))
    assert len(failures) == 1


def test_loseConnectionSendsGoAway() -> None:
    """The server closing gracefully sends GOAWAY NO_ERROR first."""
    client = Client(tree())
    client.get(b"/echo/x")
    client.server.loseConnection()
    for event in client.h2.receive_data(client.transport.value()):
        client._event(event)
    assert client.terminated is not None and client.terminated.last_stream_id == 1


class ShutdownClock(Clock):
    """A Clock that keeps system event triggers, so a test can fire "before shutdown"."""

    def __init__(self) -> None:
        super().__init__()
        self.triggers: list[tuple[str, str, Any, tuple[Any, ...]]] = []

    def addSystemEventTrigger(self, phase: str, eventType: str, f: Any, *args: Any) -> Any:
        self.triggers.append((phase, eventType, f, args))
        return (eventType, len(self.triggers))

    def fire(self, phase: str, eventType: str) -> None:
        for p, e, f, args in self.triggers:
            if (p, e) == (phase, eventType):
                f(*args)


def test_reactorShutdownSendsGoAway() -> None:
    """Before the reactor shuts down, each open HTTP/2 connection sends GOAWAY NO_ERROR;
    one trigger serves every connection of the reactor, and closed ones are forgotten."""
    clock = ShutdownClock()
    first = Client(tree(), clock=clock)
    second = Client(tree(), clock=clock)
    third = Client(tree(), clock=clock)
    assert len(clock.triggers) == 1
    first.get(b"/echo/x")
    third.server.connectionLost(Failure(ConnectionError("gone")))
    clock.fire("before", "shutdown")
    for client in (first, second):
        for event in client.h2.receive_data(client.transport.value()):
            client._event(event)
        assert client.terminated is not None
        assert client.terminated.error_code == ErrorCodes.NO_ERROR
        assert client.transport.disconnecting
    assert first.terminated is not None and first.terminated.last_stream_id == 1
    assert not third.transport.disconnecting


def test_connectionLostFailsOpenRequests() -> None:
    """When the connection drops, each open request's notifyFinish errbacks."""
    later = Later()
    client = Client(later)
    client.request(b"/")
    client.request(b"/")
    client.pump()
    failures: list[Failure] = []
    for _, d in later.pending:
        d.addErrback(failures.append)
    client.server.connectionLost(Failure(ConnectionError("gone")))
    assert len(failures) == 2


def test_transportBackpressurePausesProducers() -> None:
    """The transport pausing its producer pauses the streams' producers and reading."""
    big = Big(10_000_000)
    client = Client(big)
    client.request(b"/")
    client.server.pauseProducing()
    client.pump()
    producer = big.producers[0]
    assert producer.paused
    assert client.transport.producerState == "paused"
    client.server.resumeProducing()
    assert client.transport.producerState == "producing"


def test_transportBackpressureHoldsBufferedData() -> None:
    """While the transport is paused, buffered response bytes stay in the stream."""
    later = Later()
    client = Client(later)
    sid = client.request(b"/")
    client.pump()
    request, _ = later.pending[0]
    client.server.pauseProducing()
    request.write(b"b" * 5000)
    client.pump()
    assert client.answers[sid].body == b"first;"
    assert client.server._streams[sid]._outBytes == 5000
    client.server.resumeProducing()
    request.finish()
    client.pump()
    assert client.answers[sid].body == b"first;" + b"b" * 5000
    assert client.answers[sid].ended


def test_expectContinueGets100() -> None:
    """A request with Expect: 100-continue is sent an informational 100 first."""
    client = Client(tree())
    sid = client.request(b"/echo", method=b"POST", end=False,
                         headers=[(b"expect", b"100-continue")])
    client.pump()
    assert client.answers[sid].informational == [b"100"]
    client.h2.send_data(sid, b"body", end_stream=True)
    client.pump()
    assert client.answers[sid].body == b"POST body args:"


def test_exceptionInRenderIs500() -> None:
    """A render raising an exception answers 500 on its stream; others go on."""

    class Raises(resource.Resource):
        isLeaf = True

        def render_GET(self, request: server.Request) -> bytes:
            raise RuntimeError("boom")

    root = tree()
    root.putChild(b"raises", Raises())
    client = Client(root)
    assert client.get(b"/raises").status == 500
    assert client.get(b"/echo/x").status == 200


def test_pullProducerIsAskedOncePerTurn() -> None:
    """A pull producer's resumeProducing is called until it finishes the response."""

    class Pull:
        def __init__(self, request: server.Request) -> None:
            self.request = request
            self.calls = 0

        def resumeProducing(self) -> None:
            self.calls += 1
            if self.calls <= 5:
                self.request.write(b"%d;" % self.calls)
            else:
                self.request.unregisterProducer()
                self.request.finish()

        def stopProducing(self) -> None:
            pass

    class Pulled(resource.Resource):
        isLeaf = True

        def render_GET(self, request: server.Request) -> int:
            request.registerProducer(Pull(request), False)
            return server.NOT_DONE_YET

    answer = Client(Pulled()).get(b"/")
    assert answer.body == b"1;2;3;4;5;" and answer.ended


def test_requestSeesTheConnection() -> None:
    """isSecure, getClientAddress and getHost answer for the connection under the stream."""
    seen: list[Any] = []

    class Looks(resource.Resource):
        isLeaf = True

        def render_GET(self, request: server.Request) -> bytes:
            seen.extend([request.isSecure(), request.getClientAddress(), request.getHost()])
            return b""

    client = Client(Looks())
    client.get(b"/")
    assert seen == [False, client.transport.getPeer(), client.transport.getHost()]


def test_malformedRawHeadResetsTheStream() -> None:
    """A Request subclass writing a malformed head gets its stream reset, not a crash."""

    class Raw(server.Request):
        def process(self) -> None:
            self.transport.write(b"HTTP/1.1 200 OK\r\nbad line\r\n\r\nbody")

    root = tree()
    client = Client(root)
    client.site.requestFactory = Raw
    client.server.requestFactory = Raw
    answer = client.get(b"/")
    assert answer.reset == ErrorCodes.INTERNAL_ERROR
    assert not client.transport.disconnecting


def test_headRequestHasNoBody() -> None:
    """HEAD is answered with the headers of GET and no DATA."""
    client = Client(tree())
    answer = client.get(b"/echo/x", method=b"HEAD")
    assert answer.status == 200 and answer.body == b"" and answer.ended


class FakeTLS(StringTransport):
    """A StringTransport that says its TLS handshake chose h2 by ALPN."""

    TLS = True
    negotiatedProtocol = b"h2"


def test_siteSpeaksHTTP2WhenALPNChoseH2() -> None:
    """A Site's protocol on a TLS connection that negotiated h2 speaks HTTP/2."""
    clock = Clock()
    site = server.Site(tree(), reactor=clock)
    channel = site.buildProtocol(None)
    transport = FakeTLS()
    channel.makeConnection(transport)
    # The server's SETTINGS frame (type 4) comes first.
    assert transport.value()[3:4] == b"\x04"
    c = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                              header_encoding=None))
    c.initiate_connection()
    c.send_headers(1, [(b":method", b"GET"), (b":path", b"/echo/q"), (b":scheme", b"https"),
                       (b":authority", b"x")], end_stream=True)
    transport.clear()
    channel.dataReceived(c.data_to_send())
    clock.advance(0)
    events = c.receive_data(transport.value())
    bodies = [e.data for e in events if isinstance(e, h2.events.DataReceived)]
    assert bodies == [b"GET /echo/q"]


def test_siteStaysHTTP1WithoutALPN() -> None:
    """A TLS connection without h2 negotiated keeps HTTP/1.1."""
    clock = Clock()
    site = server.Site(tree(), reactor=clock)
    channel = site.buildProtocol(None)
    transport = FakeTLS()
    transport.negotiatedProtocol = b"http/1.1"  # type: ignore[misc]
    channel.makeConnection(transport)
    channel.dataReceived(b"GET /echo/q HTTP/1.1\r\nHost: x\r\n\r\n")
    assert transport.value().startswith(b"HTTP/1.1 200 OK")


def test_withoutH2EverythingStaysHTTP1(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the h2 library, a Site offers only http/1.1 and never switches."""
    monkeypatch.setattr(server, "_H2", False)
    clock = Clock()
    site = server.Site(tree(), reactor=clock)
    assert site.acceptableProtocols() == [b"http/1.1"]
    channel = site.buildProtocol(None)
    transport = FakeTLS()
    channel.makeConnection(transport)
    channel.dataReceived(b"GET /echo/q HTTP/1.1\r\nHost: x\r\n\r\n")
    assert transport.value().startswith(b"HTTP/1.1 200 OK")


def test_siteAdvertisesH2() -> None:
    """Site.acceptableProtocols lists h2 first when h2 is installed."""
    assert server.Site(tree()).acceptableProtocols() == [b"h2", b"http/1.1"]


# -- integration: curl and Chromium over TLS ------------------------------------------------


def _listenTLS(reactor: Any, root: Any) -> int:
    cert = ssl.selfSignedPair("localhost")
    site = server.Site(root, reactor=reactor)
    options = ssl.CertificateOptions(privateKey=cert.privateKey.original,
                                     certificate=cert.original,
                                     acceptableProtocols=site.acceptableProtocols())
    port = reactor.listenSSL(0, site, options, interface="127.0.0.1")
    return int(port.getHost().port)


def _curl(reactor: Any, run: Any, *args: str, data: bytes | None = None) -> bytes:
    assert CURL is not None
    d = deferToThreadPool(reactor, reactor.getThreadPool(), subprocess.run,
                          [CURL, "-sS", "-k", "--max-time", "30", *args],
                          input=data, capture_output=True, check=False, timeout=60)
    done = run(d, timeout=60)
    assert done.returncode == 0, done.stderr
    return bytes(done.stdout)


@pytest.fixture
def served(tmp_path: Path) -> resource.Resource:
    root = tree()
    (tmp_path / "big.bin").write_bytes(os.urandom(3_000_000))
    root.putChild(b"files", static.File(str(tmp_path)))
    return root


@pytest.mark.integration
@needsCurl
def test_curlDownloadsAFileOverHTTP2(reactor: Any, run: Any, served: Any,
                                     tmp_path: Path) -> None:
    """curl --http2 gets h2 by ALPN and downloads a static.File intact."""
    port = _listenTLS(reactor, served)
    out = tmp_path / "out.bin"
    version = _curl(reactor, run, "--http2", "-o", str(out), "-w", "%{http_version}",
                    "https://127.0.0.1:%d/files/big.bin" % port)
    assert version == b"2"
    assert out.read_bytes() == (tmp_path / "big.bin").read_bytes()


@pytest.mark.integration
@needsCurl
def test_curlUploadsOverHTTP2(reactor: Any, run: Any, served: Any) -> None:
    """curl --http2 uploads a body larger than the flow-control windows."""
    port = _listenTLS(reactor, served)
    body = b"z" * 500_000
    out = _curl(reactor, run, "--http2", "--data-binary", "@-", "-w", "|%{http_version}",
                "-H", "content-type: application/octet-stream",
                "https://127.0.0.1:%d/echo" % port, data=body)
    assert out == b"POST " + body + b" args:|2"


@pytest.mark.integration
@needsCurl
def test_curlHTTP11StillWorksOnTheSamePort(reactor: Any, run: Any, served: Any) -> None:
    """A client that does not offer h2 gets HTTP/1.1 from the same port."""
    port = _listenTLS(reactor, served)
    out = _curl(reactor, run, "--http1.1", "-w", "|%{http_version}",
                "https://127.0.0.1:%d/echo/one" % port)
    assert out == b"GET /echo/one|1.1"


@pytest.mark.integration
@needsCurl
def test_curlManyRequestsOnOneConnection(reactor: Any, run: Any, served: Any) -> None:
    """curl multiplexes several requests on one HTTP/2 connection."""
    port = _listenTLS(reactor, served)
    urls = ["https://127.0.0.1:%d/echo/%d" % (port, i) for i in range(10)]
    outputs = [arg for _ in urls for arg in ("-o", "/dev/null")]
    out = _curl(reactor, run, "--http2", "--parallel", "-w",
                "%{http_version} %{num_connects} %{response_code}\n", *outputs, *urls)
    lines = [line.split() for line in out.decode().splitlines()]
    assert len(lines) == 10
    assert {(v, code) for v, _, code in lines} == {("2", "200")}
    assert sum(int(n) for _, n, _ in lines) == 1


class _SlowReader:
    """A blocking h2 client over a real TLS socket that reads only when told to."""

    def __init__(self, port: int) -> None:
        import socket
        import ssl as stdssl

        context = stdssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = stdssl.CERT_NONE
        context.set_alpn_protocols(["h2"])
        raw = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.sock = context.wrap_socket(raw)
        assert self.sock.selected_alpn_protocol() == "h2"
        self.h2 = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding=None))
        self.h2.initiate_connection()
        self.h2.update_settings({h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: 1000})
        self.body = b""
        self.ended = False

    def start(self, path: bytes) -> int:
        """Ask for `path`; return once the first 1000 bytes of body arrived."""
        self.h2.send_headers(1, [(b":method", b"GET"), (b":path", path),
                                 (b":scheme", b"https"), (b":authority", b"127.0.0.1")],
                             end_stream=True)
        self._roundTrips(lambda: len(self.body) >= 1000, ack=False)
        return len(self.body)

    def finish(self) -> bytes:
        """Open the windows and read the rest."""
        self.h2.increment_flow_control_window(2**30)
        self.h2.increment_flow_control_window(2**30, 1)
        self._roundTrips(lambda: self.ended, ack=True)
        self.sock.close()
        return self.body

    def _roundTrips(self, done: Any, ack: bool) -> None:
        while not done():
            self.sock.sendall(self.h2.data_to_send())
            data = self.sock.recv(65536)
            assert data, "the server closed the connection"
            for event in self.h2.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    self.body += event.data
                    if ack:
                        self.h2.acknowledge_received_data(event.flow_controlled_length, 1)
                elif isinstance(event, h2.events.StreamEnded):
                    self.ended = True
        self.sock.sendall(self.h2.data_to_send())


@pytest.mark.integration
def test_slowReaderOverRealTLSHoldsBoundedBuffer(reactor: Any, run: Any, served: Any,
                                                 tmp_path: Path) -> None:
    """Over a real TLS connection, a client with a 1000-byte window gets 1000 bytes; the
    server holds a bounded buffer with the file producer paused, then sends the rest."""
    channels: list[Any] = []

    class Recording(server.Site):
        def buildProtocol(self, addr: Any) -> Any:
            channel = super().buildProtocol(addr)
            channels.append(channel)
            return channel

    cert = ssl.selfSignedPair("localhost")
    site = Recording(served, reactor=reactor)
    options = ssl.CertificateOptions(privateKey=cert.privateKey.original,
                                     certificate=cert.original,
                                     acceptableProtocols=site.acceptableProtocols())
    port = reactor.listenSSL(0, site, options, interface="127.0.0.1").getHost().port
    pool = reactor.getThreadPool()
    client = run(deferToThreadPool(reactor, pool, _SlowReader, port))
    got = run(deferToThreadPool(reactor, pool, client.start, b"/files/big.bin"))
    assert got == 1000
    conn = channels[0]._upgradedTo
    assert isinstance(conn, H2Connection)
    stream = conn._streams[1]
    assert stream._outBytes <= HIGH_WATER + 64 * 1024
    assert stream.producer is not None and stream._producerPaused
    body = run(deferToThreadPool(reactor, pool, client.finish), timeout=60)
    assert body == (tmp_path / "big.bin").read_bytes()


@pytest.mark.integration
@needsCurl
def test_webPluginHttpsOffersH2(tmp_path: Path) -> None:
    """`torsion web --https` offers h2 by ALPN: curl --http2 gets HTTP/2, --http1.1 1.1."""
    (tmp_path / "www").mkdir()
    (tmp_path / "www" / "hello.txt").write_bytes(b"hello h2")
    cert = ssl.selfSignedPair("127.0.0.1", str(tmp_path))
    port = freePort()
    proc = subprocess.Popen(
        [sys.executable, "-m", "torsion", "web", "--path", str(tmp_path / "www"),
         "--https", str(port), "--certificate", str(cert.certPath),
         "--privkey", str(cert.keyPath)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        waitForTCP(port, proc, timeout=30)
        assert CURL is not None
        url = "https://127.0.0.1:%d/hello.txt" % port
        for flag, version in (("--http2", b"2"), ("--http1.1", b"1.1")):
            done = subprocess.run([CURL, "-sS", "-k", flag, "-w", "|%{http_version}", url],
                                  capture_output=True, timeout=30, check=False)
            assert done.stdout == b"hello h2|" + version, done.stderr
    finally:
        proc.terminate()
        proc.communicate(timeout=30)


@pytest.mark.integration
@needsChromium
def test_chromiumLoadsAPageOverH2(reactor: Any, run: Any) -> None:
    """Headless Chromium negotiates h2 and reports nextHopProtocol h2 for the page."""

    class Page(resource.Resource):
        isLeaf = True

        def render_GET(self, request: server.Request) -> bytes:
            return (b"<html><body><script>document.title = "
                    b"performance.getEntriesByType('navigation')[0].nextHopProtocol"
                    b" + '|' + '" + request.clientproto + b"';</script></body></html>")

    port = _listenTLS(reactor, Page())
    with tempfile.TemporaryDirectory() as profile:
        command = chromiumCommand(profile, "--ignore-certificate-errors", "--dump-dom",
                                  "https://127.0.0.1:%d/" % port)
        d = deferToThreadPool(reactor, reactor.getThreadPool(), subprocess.run, command,
                              capture_output=True, check=False, timeout=90)
        done = run(d, timeout=120)
    assert b"<title>h2|HTTP/2</title>" in done.stdout, (done.stdout, done.stderr[-2000:])

