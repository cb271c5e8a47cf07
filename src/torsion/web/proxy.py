"""Reverse proxy: forward requests under a resource to another HTTP server.

Theory of operation: `ReverseProxyResource.render` opens one TCP connection per request
with ``reactor.connectTCP`` and a small self-contained HTTP/1.1 client
(`ProxyClient`, parsing the response with httptools). The request is sent with
``Connection: close``; the upstream status, headers (hop-by-hop ones removed, RFC 9110
§7.6.1) and body are relayed to the client as they arrive. If the upstream cannot be
reached, answers garbage or sends a response head larger than `ProxyClient.maxHeaderBytes`
(or with more than `maxHeaderCount` fields), the client gets 502 Bad Gateway. While the
body is relayed the upstream connection is the client request's streaming producer, so a
client that reads slowly pauses reading from the upstream instead of making the proxy
buffer the body. If the client goes away, the upstream connection is dropped.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote as urlquote

import httptools

from torsion.internet.protocol import ClientFactory, Protocol
from torsion.logger import Logger
from torsion.python.failure import Failure
from torsion.web import server
from torsion.web.resource import Resource

__all__ = ["ReverseProxyResource", "ProxyClient", "ProxyClientFactory"]

_log = Logger()

_HOP_BY_HOP = frozenset((
    b"connection", b"keep-alive", b"proxy-authenticate", b"proxy-authorization", b"te",
    b"trailer", b"transfer-encoding", b"upgrade", b"proxy-connection",
))


class _UpstreamHeadTooLarge(Exception):
    """The upstream's response head breaks ProxyClient's limits."""


class ProxyClient(Protocol):
    """Send one request upstream and relay the response to `father` (the client request)."""

    _finished = False
    _headDone = False
    _producing = False
    maxHeaderBytes = 64 * 1024
    """Bound on the upstream's status line and header block, in bytes (502 beyond)."""
    maxHeaderCount = 100
    """Bound on the number of upstream response header fields (502 beyond)."""

    def __init__(self, command: bytes, rest: bytes, version: bytes,
                 headers: list[tuple[bytes, bytes]], data: bytes, father: Any) -> None:
        self.father = father
        self.command = command
        self.rest = rest
        self.headers = headers
        self.data = data
        self._parser = httptools.HttpResponseParser(self)
        self._headerPairs: list[tuple[bytes, bytes]] = []
        self._statusMessage = b""
        self._headBytes = 0

    def connectionMade(self) -> None:
        parts = [b"%s %s HTTP/1.1\r\n" % (self.command, self.rest)]
        for name, value in self.headers:
            parts.append(name + b": " + value + b"\r\n")
        parts.append(b"Connection: close\r\n")
        if self.data or self.command in (b"POST", b"PUT", b"PATCH"):
            parts.append(b"Content-Length: %d\r\n" % (len(self.data),))
        parts.append(b"\r\n")
        parts.append(self.data)
        self.transport.write(b"".join(parts))
        self.father.notifyFinish().addErrback(self._clientGone)

    def _clientGone(self, reason: Failure) -> None:
        self._finished = True
        self._producing = False  # the request dropped its producer when the client left
        if self.transport is not None:
            self.transport.loseConnection()

    def dataReceived(self, data: bytes) -> None:
        if not self._headDone:
            # Bytes seen before the head is complete: an upper bound on the head's size.
            self._headBytes += len(data)
        try:
            self._parser.feed_data(data)
            if not self._headDone and self._headBytes > self.maxHeaderBytes:
                raise _UpstreamHeadTooLarge("more than %d bytes" % (self.maxHeaderBytes,))
        except (httptools.HttpParserError, _UpstreamHeadTooLarge) as e:
            _log.warn("Bad response from upstream: {error}", error=e)
            self._fail()
            self.transport.loseConnection()

    def on_status(self, status: bytes) -> None:
        self._statusMessage += status

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headerPairs.append((name, value))
        if len(self._headerPairs) > self.maxHeaderCount:
            raise _UpstreamHeadTooLarge("more than %d fields" % (self.maxHeaderCount,))

    def on_headers_complete(self) -> None:
        self._headDone = True
        if self._finished:
            return
        father = self.father
        code = self._parser.get_status_code()
        father.setResponseCode(code, self._statusMessage or None)
        father.responseHeaders.removeHeader(b"content-type")
        for name, value in self._headerPairs:
            lower = name.lower()
            if lower in _HOP_BY_HOP:
                continue
            if lower == b"content-length":
                father.responseHeaders.setRawHeaders(name, [value])
            else:
                father.responseHeaders.addRawHeader(name, value)
        # Backpressure: the client's transport pauses and resumes reading upstream.
        if not father._disconnected and father.producer is None:
            self._producing = True
            father.registerProducer(self.transport, True)

    def _stopBeingProducer(self) -> None:
        """Unregister the upstream connection from the client request, if registered."""
        if self._producing:
            self._producing = False
            self.father.unregisterProducer()

    def on_body(self, body: bytes) -> None:
        if not self._finished:
            self.father.write(body)

    def on_message_complete(self) -> None:
        if not self._finished:
            self._finished = True
            self._stopBeingProducer()
            self.father.finish()
        self.transport.loseConnection()

    def _fail(self) -> None:
        if self._finished:
            return
        self._finished = True
        self._stopBeingProducer()
        father = self.father
        if father.startedWriting:
            father._persistent = False
            father.finish()
            father.loseConnection()
        else:
            _badGateway(father)

    def connectionLost(self, reason: Failure | None = None) -> None:
        if not self._finished:
            try:
                self._parser.feed_data(b"")
            except httptools.HttpParserError:
                pass
            if not self._finished:
                self._fail()


def _badGateway(request: Any) -> None:
    if request._disconnected or request.finished:
        return
    request.setResponseCode(502)
    request.responseHeaders.removeHeader(b"content-length")
    request.setHeader(b"content-type", b"text/html")
    request._writeWhole(b"<html><head><title>502 Bad Gateway</title></head>"
                        b"<body><h1>502 Bad Gateway</h1></body></html>")


class ProxyClientFactory(ClientFactory):
    """Builds the ProxyClient for one proxied request; 502 if the connection fails."""

    protocol = ProxyClient  # type: ignore[assignment]
    noisy = False

    def __init__(self, command: bytes, rest: bytes, version: bytes,
                 headers: list[tuple[bytes, bytes]], data: bytes, father: Any) -> None:
        self.father = father
        self.command = command
        self.rest = rest
        self.headers = headers
        self.data = data
        self.version = version

    def buildProtocol(self, addr: Any) -> ProxyClient:
        return ProxyClient(self.command, self.rest, self.version, self.headers, self.data,
                           self.father)

    def clientConnectionFailed(self, connector: Any, reason: Failure) -> None:
        _log.info("Proxy upstream connection failed: {reason}", reason=reason.getErrorMessage())
        _badGateway(self.father)


class ReverseProxyResource(Resource):
    """Forward every request below this resource to `host`:`port` under `path`."""

    proxyClientFactoryClass = ProxyClientFactory

    def __init__(self, host: str, port: int, path: bytes, reactor: Any = None) -> None:
        super().__init__()
        if reactor is None:
            from torsion.internet import reactor as globalReactor

            reactor = globalReactor
        self.host = host
        self.port = port
        self.path = path
        self.reactor = reactor

    def getChild(self, path: bytes, request: Any) -> ReverseProxyResource:
        """Extend the upstream path with one (re-quoted) segment."""
        return ReverseProxyResource(
            self.host, self.port, self.path + b"/" + urlquote(path, safe="").encode("ascii"),
            self.reactor,
        )

    def render(self, request: Any) -> int:
        """Send the request upstream; the response is relayed as it arrives."""
        host = self.host.encode("ascii")
        if self.port != 80:
            host += b":%d" % (self.port,)
        headers = []
        for name, values in request.requestHeaders.getAllRawHeaders():
            lower = name.lower()
            if lower in _HOP_BY_HOP or lower in (b"host", b"content-length", b"expect"):
                continue
            for value in values:
                headers.append((name, value))
        headers.insert(0, (b"Host", host))
        peer = request.getClientAddressHost()
        if peer != "-":
            headers.append((b"X-Forwarded-For", peer.encode("ascii")))
        content = request.content
        content.seek(0, 0)
        data = content.read()
        _, sep, qs = request.uri.partition(b"?")
        rest = self.path or b"/"
        if sep:
            rest = rest + b"?" + qs
        clientFactory = self.proxyClientFactoryClass(
            request.method, rest, request.clientproto, headers, data, request)
        self.reactor.connectTCP(self.host, self.port, clientFactory)
        return server.NOT_DONE_YET
