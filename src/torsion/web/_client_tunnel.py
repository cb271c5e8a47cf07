"""HTTPS through an HTTP proxy: the CONNECT tunnel of ProxyAgent (RFC 9110 §9.3.6).

Theory of operation: `_TunnelEndpoint.connect(factory)` connects to the proxy with a
`_TunnelProtocol`, which walks one attempt through its states::

    CONNECTING ──proxy connected──▶ AWAITING_ANSWER ──2xx head──▶ HANDSHAKING ──TLS done──▶ OPEN
        │                                 │                            │
        └── connect failed / timeout / non-2xx / close / bad head / TLS error ──▶ FAILED

In AWAITING_ANSWER it has written ``CONNECT host:port HTTP/1.1`` (with Host and the
agent's proxy headers) and collects the proxy's answer up to the blank line, bounded by
`maxHeadBytes`; the head is parsed by httptools, as every torsion HTTP head is. A 2xx
answer turns the connection into a blind tunnel, so TLS starts on the same transport with
the creator of the agent's HTTPS policy for the *origin* host (its certificate and name are
what get verified, never the proxy's). Once the handshake completes the real protocol (an
HTTP11ClientProtocol of the pool) is built, given the connection (``setProtocol``: no
frame of ours per read afterwards) and handed to the caller of ``connect``, which sends
its origin-form request over it. The connect timeout bounds the whole attempt: proxy
connection, CONNECT answer and TLS handshake.

Errors::

    torsion.internet.error.ConnectError
     ├─ TunnelError       the proxy did not open the tunnel: a non-2xx answer (.status,
     │                    .phrase, .headers), or a close, a malformed or an oversized
     │                    answer before one (.status None)
     └─ TimeoutError      no open tunnel within the agent's connect timeout
    (a TLS error of the origin, e.g. ssl.SSLCertVerificationError, is passed on as itself)
"""

from __future__ import annotations

import enum
from typing import Any

import httptools

from torsion.internet import error
from torsion.internet.address import HostnameAddress
from torsion.internet.defer import Deferred, fail
from torsion.internet.endpoints import connectProtocol
from torsion.internet.protocol import Protocol
from torsion.python.failure import Failure
from torsion.web._newclient import MAX_HEADER_BYTES, MAX_HEADER_COUNT
from torsion.web.http_headers import Headers

__all__ = ["TunnelError"]


class TunnelError(error.ConnectError):
    """The HTTP proxy did not open a CONNECT tunnel to the origin.

    Why: the request never reached the origin, so the failure is the connection's, not a
    response's: `status`, `phrase` and `headers` are the proxy's answer when it gave one
    (e.g. 407 with its Proxy-Authenticate challenge), `status` is None when it closed the
    connection or sent something that is not an HTTP answer.
    """

    def __init__(
        self,
        reason: str,
        status: int | None = None,
        phrase: bytes = b"",
        headers: Headers | None = None,
    ) -> None:
        super().__init__(string=reason)
        self.reason = reason
        self.status = status
        self.phrase = phrase
        self.headers = headers if headers is not None else Headers()

    def __str__(self) -> str:
        return self.reason


class _State(enum.Enum):
    CONNECTING = "connecting to the proxy"
    AWAITING_ANSWER = "waiting for the answer to CONNECT"
    HANDSHAKING = "TLS handshake with the origin"
    OPEN = "open"
    FAILED = "failed"


def authorityOf(host: bytes, port: int) -> bytes:
    """The authority-form target of CONNECT: host and port, IPv6 in brackets (RFC 9112 §3.2.3)."""
    if b":" in host:
        host = b"[" + host + b"]"
    return host + b":%d" % (port,)


class _HeadCollector:
    """httptools callbacks collecting one response head, at most `maxCount` fields."""

    def __init__(self, maxCount: int) -> None:
        self.maxCount = maxCount
        self.phrase = b""
        self.fields: list[tuple[bytes, bytes]] = []
        self.complete = False

    def on_status(self, status: bytes) -> None:
        self.phrase += status

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(self.fields) >= self.maxCount:
            raise TunnelError("the proxy's answer to CONNECT has more than %d header fields"
                              % (self.maxCount,))
        self.fields.append((name, value))

    def on_headers_complete(self) -> None:
        self.complete = True


def parseAnswerHead(head: bytes, maxHeaderCount: int) -> tuple[int, bytes, Headers]:
    """Parse one complete response head (ending in CRLF CRLF): status, phrase, headers.

    Raises TunnelError for anything that is not an HTTP/1.x response head. The framing
    headers are not looked at: RFC 9110 §9.3.6 says a 2xx answer to CONNECT has no
    content whatever Content-Length or Transfer-Encoding say.
    """
    collector = _HeadCollector(maxHeaderCount)
    parser = httptools.HttpResponseParser(collector)
    try:
        parser.feed_data(head)
    except httptools.HttpParserUpgrade:
        pass  # a 101 head: complete; refused below like any other non-2xx answer
    except httptools.HttpParserError as e:
        cause = e.__context__
        if isinstance(cause, TunnelError):
            raise cause from None
        raise TunnelError("the proxy's answer to CONNECT is not HTTP: %r" % (head[:64],)) from e
    if not collector.complete:
        raise TunnelError("the proxy's answer to CONNECT is not HTTP: %r" % (head[:64],))
    version = parser.get_http_version()
    if not version.startswith("1."):
        raise TunnelError("the proxy answered CONNECT with HTTP/%s" % (version,))
    return parser.get_status_code(), collector.phrase, Headers._fromWire(collector.fields)


class _TunnelProtocol(Protocol):
    """One attempt at a tunnel: CONNECT, the proxy's answer, TLS, then the real protocol.

    Why one object: the attempt's state, its timer and its result belong together, so
    every way it can end (answer, close, timeout, cancel) goes through `_fail` or
    `handshakeCompleted` exactly once.
    """

    maxHeadBytes = MAX_HEADER_BYTES
    maxHeaderCount = MAX_HEADER_COUNT

    def __init__(
        self,
        reactor: Any,
        host: bytes,
        port: int,
        proxyHeaders: Headers | None,
        creator: Any,
        factory: Any,
        timeout: float | None,
    ) -> None:
        self.state = _State.CONNECTING
        self.result: Deferred[Any] = Deferred(self._cancel)
        self._reactor = reactor
        self._host = host
        self._port = port
        self._authority = authorityOf(host, port)
        self._proxyHeaders = proxyHeaders
        self._creator = creator
        self._factory = factory
        self._timeout = timeout
        self._timer: Any = None
        self._proxyConnecting: Deferred[Any] | None = None
        self._buffer = b""
        self._headBytes = 0
        self._early: list[bytes] = []
        self._inner: Any = None
        self._handedOff = False

    # -- driving the attempt ---------------------------------------------------------------

    def start(self, proxyEndpoint: Any) -> Deferred[Any]:
        """Connect to the proxy; the result fires with the real protocol once TLS is up."""
        if self._timeout is not None:
            self._timer = self._reactor.callLater(self._timeout, self._timedOut)
        try:
            connecting: Deferred[Any] = connectProtocol(proxyEndpoint, self)
        except Exception:
            self._fail(Failure())
            return self.result
        if self.state is _State.CONNECTING:
            self._proxyConnecting = connecting
        connecting.addCallbacks(self._proxyConnected, self._proxyConnectFailed)
        return self.result

    def _proxyConnected(self, _: object) -> None:
        self._proxyConnecting = None

    def _proxyConnectFailed(self, reason: Failure) -> None:
        self._proxyConnecting = None
        self._fail(reason)  # no-op if the attempt already ended (we cancelled it)

    def _timedOut(self) -> None:
        self._timer = None
        self._fail(error.TimeoutError(
            string="no tunnel to %s through the proxy within %s seconds (%s)"
            % (self._authority.decode("ascii", "replace"), self._timeout, self.state.value)
        ))

    def _cancel(self, d: Deferred[Any]) -> None:
        """Cancelling the attempt stops it; the Deferred then fails with CancelledError."""
        self._stop()

    def _stop(self) -> bool:
        """End the attempt (connection, timer); return False if it had already ended."""
        if self.state in (_State.OPEN, _State.FAILED):
            return False
        self.state = _State.FAILED
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()
        connecting, self._proxyConnecting = self._proxyConnecting, None
        if connecting is not None:
            connecting.addErrback(lambda _: None)
            connecting.cancel()
        if self.transport is not None:
            self.transport.abortConnection()
        return True

    def _fail(self, reason: Exception | Failure) -> None:
        """Fail the attempt with `reason` unless it has already ended."""
        if self._stop() and not self.result.called:
            self.result.errback(reason if isinstance(reason, Failure) else Failure(reason))

    # -- the proxy's side --------------------------------------------------------------------

    def connectionMade(self) -> None:
        if self.state is not _State.CONNECTING:
            self.transport.abortConnection()
            return
        self.state = _State.AWAITING_ANSWER
        parts = [b"CONNECT ", self._authority, b" HTTP/1.1\r\nHost: ", self._authority, b"\r\n"]
        if self._proxyHeaders is not None:
            self._proxyHeaders._serialize(parts)
        parts.append(b"\r\n")
        self.transport.write(b"".join(parts))

    def dataReceived(self, data: bytes) -> None:
        state = self.state
        if state is _State.AWAITING_ANSWER:
            self._answerReceived(data)
        elif state is _State.HANDSHAKING:
            self._early.append(data)  # origin bytes before the hand-off: keep for it
        elif state is _State.OPEN and self._inner is not None:
            self._inner.dataReceived(data)  # transports without setProtocol (fakes)

    def _answerReceived(self, data: bytes) -> None:
        """Collect the answer up to its blank line (bounded), then act on its status."""
        old = len(self._buffer)
        buffered = self._buffer + data
        searchFrom = max(0, old - 3)
        while True:
            end = buffered.find(b"\r\n\r\n", searchFrom)
            if end < 0:
                if self._headBytes + len(buffered) > self.maxHeadBytes:
                    self._fail(TunnelError("the proxy's answer to CONNECT exceeds %d bytes"
                                           % (self.maxHeadBytes,)))
                    return
                self._buffer = buffered
                return
            head, buffered = buffered[: end + 4], buffered[end + 4:]
            searchFrom = 0
            self._headBytes += len(head)
            if self._headBytes > self.maxHeadBytes:
                self._fail(TunnelError("the proxy's answer to CONNECT exceeds %d bytes"
                                       % (self.maxHeadBytes,)))
                return
            try:
                status, phrase, headers = parseAnswerHead(head, self.maxHeaderCount)
            except TunnelError as e:
                self._fail(e)
                return
            if 100 <= status < 200 and status != 101:
                continue  # RFC 9110 §15.2: an interim answer; the final one follows
            break
        self._buffer = b""
        if not 200 <= status < 300:
            self._fail(TunnelError(
                "the proxy refused the tunnel to %s: %d %s"
                % (self._authority.decode("ascii", "replace"), status,
                   phrase.decode("latin-1")),
                status, phrase, headers,
            ))
            return
        if buffered:
            # The origin cannot speak before our ClientHello: these bytes are the proxy's,
            # and whatever it meant by them, they are not a tunnel.
            self._fail(TunnelError("the proxy sent %d bytes after its %d answer to CONNECT"
                                   % (len(buffered), status), status, phrase, headers))
            return
        self.state = _State.HANDSHAKING
        try:
            self.transport.startTLS(self._creator)
        except Exception:
            self._fail(Failure())

    # -- the origin's side ---------------------------------------------------------------------

    def handshakeCompleted(self) -> None:
        """TLS with the origin is up: hand the connection to the real protocol."""
        if self.state is not _State.HANDSHAKING:
            return
        try:
            inner = self._factory.buildProtocol(HostnameAddress(self._host, self._port))
            if inner is None:
                raise error.NoProtocol()
        except Exception:
            self._fail(Failure())
            return
        self.state = _State.OPEN
        timer, self._timer = self._timer, None
        if timer is not None and timer.active():
            timer.cancel()
        self._inner = inner
        transport = self.transport
        setProtocol = getattr(transport, "setProtocol", None)
        if setProtocol is not None:
            setProtocol(inner)
            self._handedOff = True
        inner.makeConnection(transport)
        early, self._early = self._early, []
        for data in early:
            inner.dataReceived(data)
        self.result.callback(inner)

    def connectionLost(self, reason: Failure | None = None) -> None:
        if reason is None:
            reason = Failure(error.ConnectionDone())
        state = self.state
        if state is _State.OPEN:
            if self._inner is not None and not self._handedOff:
                self._inner.connectionLost(reason)
            return
        if state is _State.AWAITING_ANSWER:
            self._fail(TunnelError(
                "the proxy closed the connection before answering CONNECT (%d bytes received)"
                % (self._headBytes + len(self._buffer),)
            ))
        else:
            self._fail(reason)  # e.g. the origin's certificate failed verification


class _TunnelEndpoint:
    """An endpoint whose connections are TLS to the origin through a proxy's CONNECT tunnel.

    Why an endpoint: the pool connects, caches and retries through endpoints, so a tunnel
    is pooled exactly like a direct connection, under a key naming the origin.
    """

    def __init__(
        self,
        reactor: Any,
        proxyEndpoint: Any,
        host: bytes,
        port: int,
        policy: Any,
        proxyHeaders: Headers | None,
        timeout: float | None,
    ) -> None:
        self._reactor = reactor
        self._proxyEndpoint = proxyEndpoint
        self._host = host
        self._port = port
        self._policy = policy
        self._proxyHeaders = proxyHeaders
        self._timeout = timeout

    def connect(self, protocolFactory: Any) -> Deferred[Any]:
        """Open a tunnel and TLS in it; fire with the protocol `protocolFactory` built."""
        try:
            creator = self._policy.creatorForNetloc(self._host, self._port)
        except Exception:
            return fail()
        tunnel = _TunnelProtocol(
            self._reactor, self._host, self._port, self._proxyHeaders, creator,
            protocolFactory, self._timeout,
        )
        return tunnel.start(self._proxyEndpoint)
