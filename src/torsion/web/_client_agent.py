"""Agent, the connection pool and the body helpers of torsion.web.client.

Theory of operation: ``Agent.request`` parses the URI, picks the pool key
``(scheme, host, port)`` and the endpoint (HostnameEndpoint, wrapped in TLS for https with
a creator from the HTTPS policy), and asks the `HTTPConnectionPool` for a connection. The
pool hands out a cached idle `HTTP11ClientProtocol` for that key if it has one, else
connects a new one. When a response is complete and the connection is still good the
protocol calls back the pool, which caches it (at most ``maxPersistentPerHost`` per key,
each for ``cachedConnectionTimeout`` seconds). A request that fails on a *cached*
connection before any response arrived (the server closed it while idle, RFC 9112
§9.3.1) is retried once on a fresh connection if it is idempotent and has no body.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable
from typing import IO, Any
from urllib.parse import urlsplit

from torsion.internet import task
from torsion.internet.defer import CancelledError, Deferred, fail, succeed
from torsion.internet.endpoints import HostnameEndpoint, wrapClientTLS
from torsion.internet.protocol import Factory, Protocol
from torsion.internet.ssl import optionsForClientTLS
from torsion.python.failure import Failure
from torsion.web import error
from torsion.web._client_tunnel import TunnelError, _TunnelEndpoint
from torsion.web._newclient import (
    HTTP11ClientProtocol,
    PotentialDataLoss,
    Request,
    RequestNotSent,
    Response,
    ResponseDone,
    ResponseNeverReceived,
)
from torsion.web.error import SchemeNotSupported
from torsion.web.http_headers import Headers
from torsion.web.iweb import UNKNOWN_LENGTH

__all__ = [
    "Agent",
    "BrowserLikePolicyForHTTPS",
    "FileBodyProducer",
    "HTTPConnectionPool",
    "HostnameCachingHTTPSPolicy",
    "PartialDownloadError",
    "ProxyAgent",
    "ResponseTooLarge",
    "SchemeNotSupported",
    "TunnelError",
    "URI",
    "readBody",
]


class PartialDownloadError(error.Error):
    """The body ended with the connection and may be incomplete; `response` is the body.

    Why (Twisted's contract): readBody cannot tell a close-delimited body from a
    truncated one (RFC 9112 §6.3), so it hands over what it got with this error.
    """


class ResponseTooLarge(Exception):
    """A response body passed the size limit its reader was given; the download stopped.

    Why (DESIGN §7, bounded by default): a caller who wants the whole body in memory must
    not be made to hold whatever a server (or a compressed body that inflates) sends.
    `maxSize` is the limit, `length` the size the response announced (Content-Length) or
    the bytes received when the limit was passed, `status` and `message` the response's.
    """

    def __init__(self, maxSize: int, length: int, status: int, message: bytes) -> None:
        super().__init__(maxSize, length, status, message)
        self.maxSize = maxSize
        self.length = length
        self.status = status
        self.message = message

    def __str__(self) -> str:
        return (f"response body larger than the limit of {self.maxSize} bytes "
                f"(at least {self.length} bytes; status {self.status})")


# -- URIs ----------------------------------------------------------------------------------


class URI:
    """A parsed absolute http(s) URI: scheme, host, port, path, query (bytes)."""

    def __init__(
        self,
        scheme: bytes,
        netloc: bytes,
        host: bytes,
        port: int,
        path: bytes,
        params: bytes,
        query: bytes,
        fragment: bytes,
    ) -> None:
        self.scheme = scheme
        self.netloc = netloc
        self.host = host
        self.port = port
        self.path = path
        self.params = params
        self.query = query
        self.fragment = fragment

    @classmethod
    def fromBytes(cls, uri: bytes | str, defaultPort: int | None = None) -> URI:
        """Parse an absolute URI; the port defaults to 80/443 by scheme."""
        if isinstance(uri, str):
            uri = uri.encode("utf-8")
        if any(c <= 0x20 or c == 0x7F for c in uri.strip()):
            raise ValueError("URI contains whitespace or control characters: %r" % (uri,))
        parts = urlsplit(uri.strip())
        scheme = parts.scheme.lower()
        netloc = parts.netloc
        host = parts.hostname or b""
        try:
            port = parts.port
        except ValueError as e:
            raise ValueError("invalid port in %r" % (uri,)) from e
        if port is None:
            port = defaultPort if defaultPort is not None else (443 if scheme == b"https" else 80)
        path, _, params = parts.path.partition(b";")
        return cls(scheme, netloc, host, port, path, params, parts.query, parts.fragment)

    @property
    def originForm(self) -> bytes:
        """The request target for an origin server: path and query (RFC 9112 §3.2.1)."""
        target = self.path or b"/"
        if self.params:
            target += b";" + self.params
        if self.query:
            target += b"?" + self.query
        return target

    @property
    def absoluteForm(self) -> bytes:
        """The request target for a proxy: the URI without its fragment (RFC 9112 §3.2.2)."""
        return self.scheme + b"://" + self.netloc + self.originForm

    def toBytes(self) -> bytes:
        """Return the whole URI as bytes, fragment included (as Twisted's URI does)."""
        if self.fragment:
            return self.absoluteForm + b"#" + self.fragment
        return self.absoluteForm

    def hostHeader(self) -> bytes:
        """The Host header value: the host, plus the port when it is not the default."""
        host = self.host
        if b":" in host:
            host = b"[" + host + b"]"
        default = 443 if self.scheme == b"https" else 80
        return host if self.port == default else host + b":%d" % (self.port,)

    def origin(self) -> tuple[bytes, bytes, int]:
        """The origin (scheme, host, port) of RFC 6454, for same-origin checks."""
        return (self.scheme, self.host.lower(), self.port)


# -- HTTPS policy ------------------------------------------------------------------------------


class BrowserLikePolicyForHTTPS:
    """Verify servers like a browser does: trusted chain and matching host name.

    Why: DESIGN §7: TLS clients verify host names by default (RFC 6125); `trustRoot`
    defaults to the platform's store; pass a Certificate to trust a private server.
    """

    def __init__(self, trustRoot: Any = None) -> None:
        self._trustRoot = trustRoot

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        """Return the client TLS options for connecting to `hostname`."""
        return optionsForClientTLS(hostname.decode("idna"), trustRoot=self._trustRoot)


class HostnameCachingHTTPSPolicy:
    """Wraps an HTTPS policy and keeps the creators it made for the last `cacheSize` hosts.

    Why: building a verifying TLS context loads the trust store, which costs far more
    than a request; clients talking to a few hosts make it once per host.
    """

    def __init__(self, policyforHTTPS: Any, cacheSize: int = 20) -> None:
        self._policyForHTTPS = policyforHTTPS
        self._cacheSize = cacheSize
        self._cache: OrderedDict[tuple[bytes, int], Any] = OrderedDict()

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any:
        """Return the cached creator for (hostname, port), making it if needed."""
        key = (hostname, port)
        creator = self._cache.get(key)
        if creator is not None:
            self._cache.move_to_end(key)
            return creator
        creator = self._policyForHTTPS.creatorForNetloc(hostname, port)
        self._cache[key] = creator
        if len(self._cache) > self._cacheSize:
            self._cache.popitem(last=False)
        return creator


# -- pool ----------------------------------------------------------------------------------------

_IDEMPOTENT = frozenset((b"GET", b"HEAD", b"OPTIONS", b"TRACE", b"DELETE", b"PUT"))


class _HTTP11ClientFactory(Factory):
    """Builds HTTP11ClientProtocols that report back to the pool when quiescent."""

    def __init__(self, quiescentCallback: Callable[[HTTP11ClientProtocol], object]) -> None:
        self._quiescentCallback = quiescentCallback

    def buildProtocol(self, addr: Any) -> HTTP11ClientProtocol:
        return HTTP11ClientProtocol(self._quiescentCallback)


class HTTPConnectionPool:
    """Keeps idle HTTP/1.1 connections per (scheme, host, port) for reuse (keep-alive).

    Why: a new TCP (and TLS) handshake per request costs round trips; RFC 9112 §9.3 lets
    the connection carry the next request.
    """

    maxPersistentPerHost = 2
    cachedConnectionTimeout = 240.0
    retryAutomatically = True
    _factory = _HTTP11ClientFactory

    def __init__(self, reactor: Any, persistent: bool = True) -> None:
        self._reactor = reactor
        self.persistent = persistent
        self._connections: dict[Any, list[HTTP11ClientProtocol]] = {}
        self._timeouts: dict[HTTP11ClientProtocol, Any] = {}

    def getConnection(self, key: Any, endpoint: Any) -> Deferred[HTTP11ClientProtocol]:
        """Return an idle cached connection for `key`, or connect `endpoint`."""
        connections = self._connections.get(key)
        while connections:
            connection = connections.pop(0)
            timer = self._timeouts.pop(connection, None)
            if timer is not None and timer.active():
                timer.cancel()
            if connection.state == "QUIESCENT" and connection.transport is not None:
                connection._cachedRetry = True  # type: ignore[attr-defined]
                return succeed(connection)
        return self._newConnection(key, endpoint)

    def _newConnection(self, key: Any, endpoint: Any) -> Deferred[HTTP11ClientProtocol]:
        def quiescent(connection: HTTP11ClientProtocol) -> None:
            self._putConnection(key, connection)

        d: Deferred[HTTP11ClientProtocol] = endpoint.connect(self._factory(quiescent))
        return d

    def _putConnection(self, key: Any, connection: HTTP11ClientProtocol) -> None:
        """Cache `connection` (it just finished a response) or close it."""
        if not self.persistent:
            connection.transport.loseConnection()
            return
        connections = self._connections.setdefault(key, [])
        for dead in [c for c in connections if c.state != "QUIESCENT"]:
            connections.remove(dead)
            self._removeTimer(dead)
        if len(connections) >= self.maxPersistentPerHost:
            dropped = connections.pop(0)
            self._removeTimer(dropped)
            dropped.transport.loseConnection()
        connections.append(connection)

        def expire() -> None:
            self._timeouts.pop(connection, None)
            if connection in connections:
                connections.remove(connection)
            if connection.transport is not None:
                connection.transport.loseConnection()

        self._timeouts[connection] = self._reactor.callLater(self.cachedConnectionTimeout, expire)

    def _removeTimer(self, connection: HTTP11ClientProtocol) -> None:
        timer = self._timeouts.pop(connection, None)
        if timer is not None and timer.active():
            timer.cancel()

    def closeCachedConnections(self) -> Deferred[Any]:
        """Close every idle connection; the Deferred fires once all are closed."""
        from torsion.internet.defer import DeferredList

        results: list[Deferred[Any]] = []
        for connections in self._connections.values():
            for connection in connections:
                self._removeTimer(connection)
                results.append(connection.abort())
        self._connections = {}
        return DeferredList(results).addCallback(lambda _: None)

    def _requestOn(
        self, key: Any, endpoint: Any, request: Request
    ) -> Deferred[Response]:
        """Send `request` on a pooled connection, retrying once if a cached one was stale."""

        def send(connection: HTTP11ClientProtocol) -> Deferred[Response]:
            cached = getattr(connection, "_cachedRetry", False)
            connection._cachedRetry = False  # type: ignore[attr-defined]
            d = connection.request(request)
            if (
                cached
                and self.retryAutomatically
                and request.method in _IDEMPOTENT
                and request.bodyProducer is None
            ):
                def retry(reason: Failure) -> Any:
                    if reason.check(RequestNotSent, ResponseNeverReceived) and not any(
                        r.check(CancelledError) for r in getattr(reason.value, "reasons", [])
                    ):
                        return self._newConnection(key, endpoint).addCallback(
                            lambda c: c.request(request)
                        )
                    return reason

                d.addErrback(retry)
            return d

        return self.getConnection(key, endpoint).addCallback(send)


# -- Agent -------------------------------------------------------------------------------------


def _requireScheme(uri: URI) -> None:
    if uri.scheme not in (b"http", b"https"):
        raise SchemeNotSupported("unsupported scheme: %r" % (uri.scheme,))
    if not uri.host:
        raise ValueError("URI has no host")


class _StandardEndpointFactory:
    """Makes the endpoint for a URI: HostnameEndpoint, TLS-wrapped for https."""

    def __init__(
        self, reactor: Any, contextFactory: Any, connectTimeout: float | None,
        bindAddress: Any,
    ) -> None:
        self._reactor = reactor
        self._policy = contextFactory
        self._connectTimeout = connectTimeout
        self._bindAddress = bindAddress

    def endpointForURI(self, uri: URI) -> Any:
        _requireScheme(uri)
        kwargs: dict[str, Any] = {}
        if self._connectTimeout is not None:
            kwargs["timeout"] = self._connectTimeout
        if self._bindAddress is not None:
            kwargs["bindAddress"] = self._bindAddress
        endpoint = HostnameEndpoint(self._reactor, uri.host, uri.port, **kwargs)
        if uri.scheme == b"https":
            creator = self._policy.creatorForNetloc(uri.host, uri.port)
            return wrapClientTLS(creator, endpoint)
        return endpoint


class _LazyEndpoint:
    """Asks the endpoint factory for the real endpoint only when a connection is needed.

    Why: a request served from the pool needs no endpoint, and making one for https
    builds a TLS context (trust store and all) for nothing.
    """

    def __init__(self, endpointFactory: Any, uri: URI) -> None:
        self._endpointFactory = endpointFactory
        self._uri = uri

    def connect(self, protocolFactory: Any) -> Deferred[Any]:
        try:
            endpoint = self._endpointFactory.endpointForURI(self._uri)
            d: Deferred[Any] = endpoint.connect(protocolFactory)
        except Exception:
            return fail()
        return d


class _AgentBase:
    """What Agent and ProxyAgent share: the pool and request construction."""

    _requestTimeout: float | None = None

    def __init__(self, reactor: Any, pool: HTTPConnectionPool | None) -> None:
        if pool is None:
            pool = HTTPConnectionPool(reactor, persistent=False)
        self._reactor = reactor
        self._pool = pool

    def _requestWithEndpoint(
        self,
        key: Any,
        endpoint: Any,
        method: bytes | str,
        parsedURI: URI,
        headers: Headers | None,
        bodyProducer: Any,
        target: bytes,
    ) -> Deferred[Response]:
        if isinstance(method, str):
            method = method.encode("ascii")
        if headers is None:
            headers = Headers()
        else:
            headers = headers.copy()
        if not headers.hasHeader(b"host"):
            headers.addRawHeader(b"host", parsedURI.hostHeader())
        try:
            request = Request(
                method, target, headers, bodyProducer,
                persistent=self._pool.persistent, parsedURI=parsedURI,
            )
        except (ValueError, TypeError):
            return fail()
        d = self._pool._requestOn(key, endpoint, request)
        if self._requestTimeout is not None:
            d.addTimeout(self._requestTimeout, self._reactor)
        return d


class Agent(_AgentBase):
    """Issues HTTP and HTTPS requests (IAgent), verifying HTTPS host names by default.

    `connectTimeout` bounds each connection attempt (seconds); None, the default, means
    `defaultConnectTimeout` (30 s, connectTCP's default), so a connection attempt to a
    host that never answers cannot hang for ever (DESIGN §7). `requestTimeout` (a torsion
    addition) bounds the wait for the response head, failing with defer.TimeoutError.
    """

    defaultConnectTimeout: float = 30.0

    def __init__(
        self,
        reactor: Any,
        contextFactory: Any = None,
        connectTimeout: float | None = None,
        bindAddress: Any = None,
        pool: HTTPConnectionPool | None = None,
        requestTimeout: float | None = None,
    ) -> None:
        if contextFactory is None:
            contextFactory = BrowserLikePolicyForHTTPS()
        super().__init__(reactor, pool)
        if connectTimeout is None:
            connectTimeout = self.defaultConnectTimeout
        self._endpointFactory: Any = _StandardEndpointFactory(
            reactor, contextFactory, connectTimeout, bindAddress
        )
        self._requestTimeout = requestTimeout

    @classmethod
    def usingEndpointFactory(
        cls, reactor: Any, endpointFactory: Any, pool: HTTPConnectionPool | None = None
    ) -> Agent:
        """Make an Agent that asks `endpointFactory.endpointForURI(uri)` for endpoints."""
        agent = cls(reactor, pool=pool)
        agent._endpointFactory = endpointFactory
        return agent

    def request(
        self,
        method: bytes | str,
        uri: bytes | str,
        headers: Headers | None = None,
        bodyProducer: Any = None,
    ) -> Deferred[Response]:
        """Send a request for `uri`; fire with the Response once its head arrives."""
        try:
            parsedURI = URI.fromBytes(uri)
        except Exception:
            return fail()
        endpoint = _LazyEndpoint(self._endpointFactory, parsedURI)
        key = (parsedURI.scheme, parsedURI.host, parsedURI.port)
        return self._requestWithEndpoint(
            key, endpoint, method, parsedURI, headers, bodyProducer, parsedURI.originForm
        )


class ProxyAgent(_AgentBase):
    """Sends every request through the HTTP proxy reached by `endpoint`.

    http URIs go to the proxy in absolute-form (RFC 9112 §3.2.2). https URIs go through
    a tunnel: ``CONNECT host:port`` to the proxy (RFC 9110 §9.3.6), then TLS with the
    origin inside it, verified by `contextFactory` (BrowserLikePolicyForHTTPS by
    default, as for Agent) against the *origin's* host name, then the request in
    origin-form; the proxy sees neither the request nor its answer. A proxy that does
    not open the tunnel fails the request with `TunnelError` (its `.status` is the
    proxy's, e.g. 407). `proxyHeaders` (e.g. Proxy-Authorization) go to the proxy only:
    on each http request and on each CONNECT, never to an origin through a tunnel.
    `connectTimeout` (default `defaultConnectTimeout`, 30 s) bounds opening a tunnel:
    connecting to the proxy, its answer and the TLS handshake. Tunnels are pooled per
    (proxy, origin host, port), so one origin's connection never carries another's
    requests.
    """

    defaultConnectTimeout: float = 30.0

    def __init__(
        self,
        endpoint: Any,
        reactor: Any = None,
        pool: HTTPConnectionPool | None = None,
        *,
        contextFactory: Any = None,
        proxyHeaders: Headers | None = None,
        connectTimeout: float | None = None,
    ) -> None:
        if reactor is None:
            from torsion.internet import reactor as globalReactor

            reactor = globalReactor
        super().__init__(reactor, pool)
        self._proxyEndpoint = endpoint
        self._policy = contextFactory if contextFactory is not None \
            else BrowserLikePolicyForHTTPS()
        if proxyHeaders is not None and not isinstance(proxyHeaders, Headers):
            raise TypeError("proxyHeaders must be a Headers, not %r"
                            % (type(proxyHeaders).__name__,))
        self._proxyHeaders = proxyHeaders.copy() if proxyHeaders is not None else None
        # Tunnels opened with other proxy credentials are not ours to reuse.
        self._proxyHeadersKey = tuple(
            (name, tuple(values)) for name, values in self._proxyHeaders.getAllRawHeaders()
        ) if self._proxyHeaders is not None else ()
        self._connectTimeout = (
            connectTimeout if connectTimeout is not None else self.defaultConnectTimeout
        )

    def request(
        self,
        method: bytes | str,
        uri: bytes | str,
        headers: Headers | None = None,
        bodyProducer: Any = None,
    ) -> Deferred[Response]:
        """Send a request for `uri` through the proxy (a CONNECT tunnel for https)."""
        try:
            parsedURI = URI.fromBytes(uri)
            if parsedURI.scheme == b"https":
                _requireScheme(parsedURI)
            elif parsedURI.scheme != b"http":
                raise SchemeNotSupported("ProxyAgent proxies http and https, not %r" % (uri,))
        except Exception:
            return fail()
        if parsedURI.scheme == b"http":
            key: Any = ("http-proxy", self._proxyEndpoint)
            return self._requestWithEndpoint(
                key, self._proxyEndpoint, method, parsedURI,
                self._withProxyHeaders(headers), bodyProducer, parsedURI.absoluteForm,
            )
        host = parsedURI.host.lower()
        key = ("https-tunnel", self._proxyEndpoint, host, parsedURI.port,
               self._proxyHeadersKey)
        endpoint = _TunnelEndpoint(
            self._reactor, self._proxyEndpoint, host, parsedURI.port, self._policy,
            self._proxyHeaders, self._connectTimeout,
        )
        return self._requestWithEndpoint(
            key, endpoint, method, parsedURI, headers, bodyProducer, parsedURI.originForm
        )

    def _withProxyHeaders(self, headers: Headers | None) -> Headers | None:
        """Add the proxy headers (those the caller did not set) to a request for the proxy."""
        proxyHeaders = self._proxyHeaders
        if proxyHeaders is None:
            return headers
        headers = Headers() if headers is None else headers.copy()
        for name, values in proxyHeaders.getAllRawHeaders():
            if not headers.hasHeader(name):
                headers.setRawHeaders(name, values)
        return headers


# -- bodies --------------------------------------------------------------------------------------


class _ReadBodyProtocol(Protocol):
    """Collects a response body into bytes for readBody, up to `maxSize` bytes if given."""

    def __init__(self, status: int, message: bytes, deferred: Deferred[bytes],
                 maxSize: int | None = None, length: Any = UNKNOWN_LENGTH) -> None:
        self._status = status
        self._message = message
        self._deferred = deferred
        self._chunks: list[bytes] = []
        self._maxSize = maxSize
        self._length = length
        self._received = 0

    def connectionMade(self) -> None:
        maxSize = self._maxSize
        if maxSize is not None and isinstance(self._length, int) and self._length > maxSize:
            # Content-Length already says it is too big: do not download any of it.
            self._tooLarge(self._length)

    def dataReceived(self, data: bytes) -> None:
        if self._deferred.called:
            return
        self._chunks.append(data)
        if self._maxSize is not None:
            self._received += len(data)
            if self._received > self._maxSize:
                self._tooLarge(self._received)

    def _tooLarge(self, length: int) -> None:
        """Stop the download (the connection is closed) and fail with ResponseTooLarge."""
        assert self._maxSize is not None
        self._chunks = []
        transport = self.transport
        if transport is not None:
            transport.stopProducing()
        if not self._deferred.called:
            self._deferred.errback(Failure(
                ResponseTooLarge(self._maxSize, length, self._status, self._message)
            ))

    def connectionLost(self, reason: Failure | None = None) -> None:
        if self._deferred.called:
            return
        body = b"".join(self._chunks)
        if reason is None or reason.check(ResponseDone):
            self._deferred.callback(body)
        elif reason.check(PotentialDataLoss):
            self._deferred.errback(
                Failure(PartialDownloadError(self._status, self._message, body))
            )
        else:
            self._deferred.errback(reason)


def readBody(response: Any, maxSize: int | None = None) -> Deferred[bytes]:
    """Read the whole body of `response`; fire with the bytes.

    A close-delimited body fails with PartialDownloadError carrying what arrived;
    cancelling stops the download (the connection is closed). By default the body is
    unbounded, as in Twisted; with `maxSize` (a torsion addition) a body announced or
    grown beyond that many bytes stops the download (the connection is closed) and
    fails with ResponseTooLarge, so the caller never holds more than that.
    """
    if maxSize is not None and maxSize < 0:
        raise ValueError(f"maxSize must be None or >= 0, not {maxSize!r}")

    def cancel(d: Deferred[bytes]) -> None:
        transport = protocol.transport
        if transport is not None:
            transport.stopProducing()
        d.errback(Failure(CancelledError()))

    d: Deferred[bytes] = Deferred(cancel)
    protocol = _ReadBodyProtocol(response.code, response.phrase, d, maxSize,
                                 getattr(response, "length", UNKNOWN_LENGTH))
    response.deliverBody(protocol)
    return d


class FileBodyProducer:
    """Produces a request body from a file, in `readSize` pieces paced by a Cooperator.

    Why: a large upload is read as the connection drains, never all into memory.
    """

    def __init__(
        self, inputFile: IO[bytes], cooperator: Any = task, readSize: int = 2**16
    ) -> None:
        self._inputFile = inputFile
        self._cooperate = cooperator.cooperate
        self._readSize = readSize
        self.length: int | str = self._determineLength(inputFile)
        self._task: Any = None

    def _determineLength(self, fObj: IO[bytes]) -> int | str:
        """Return the bytes left in a seekable file, or UNKNOWN_LENGTH."""
        try:
            seek = fObj.seek
            tell = fObj.tell
        except AttributeError:
            return UNKNOWN_LENGTH
        try:
            original = tell()
            seek(0, os.SEEK_END)
            end = tell()
            seek(original, os.SEEK_SET)
        except (OSError, ValueError):
            return UNKNOWN_LENGTH
        return end - original

    def startProducing(self, consumer: Any) -> Deferred[None]:
        """Start writing the file to `consumer`; fire when all of it is written."""
        self._task = self._cooperate(self._writeloop(consumer))
        d: Deferred[Any] = self._task.whenDone()

        def maybeStopped(reason: Failure) -> Any:
            from torsion.internet.task import TaskStopped

            if reason.check(TaskStopped):
                return Deferred()  # stopped by stopProducing: never fires, as in Twisted
            return reason

        return d.addCallbacks(lambda _: None, maybeStopped)

    def _writeloop(self, consumer: Any) -> Any:
        while True:
            data = self._inputFile.read(self._readSize)
            if not data:
                self._inputFile.close()
                break
            consumer.write(data)
            yield None

    def stopProducing(self) -> None:
        """Stop reading and close the file."""
        self._inputFile.close()
        if self._task is not None:
            try:
                self._task.stop()
            except Exception:
                pass

    def pauseProducing(self) -> None:
        """Pause reading the file."""
        if self._task is not None:
            self._task.pause()

    def resumeProducing(self) -> None:
        """Resume reading the file."""
        if self._task is not None:
            self._task.resume()
