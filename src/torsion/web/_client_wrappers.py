"""Agents that wrap another agent: redirects, content decoding, cookies.

Theory of operation: each wrapper is itself an IAgent; it adjusts the request on the way
in and the Response on the way out, so they stack in any order, e.g.
``CookieAgent(RedirectAgent(ContentDecoderAgent(Agent(reactor), [(b"gzip", GzipDecoder)])),
jar)``.
"""

from __future__ import annotations

import zlib
from typing import Any
from urllib.parse import urljoin

from torsion.internet.defer import Deferred
from torsion.internet.protocol import Protocol
from torsion.python.failure import Failure
from torsion.web import error
from torsion.web._client_agent import URI
from torsion.web._cookies_client import _FakeUrllibRequest, _FakeUrllibResponse
from torsion.web._newclient import Response, ResponseDone, ResponseFailed
from torsion.web.http_headers import Headers
from torsion.web.iweb import UNKNOWN_LENGTH

__all__ = [
    "BrowserLikeRedirectAgent",
    "ContentDecoderAgent",
    "CookieAgent",
    "GzipDecoder",
    "RedirectAgent",
]

# Headers that carry credentials: never sent to another origin after a redirect.
_SENSITIVE_HEADERS = (
    b"authorization",
    b"cookie",
    b"cookie2",
    b"proxy-authorization",
    b"www-authenticate",
)


class _Discard(Protocol):
    """Reads and drops a body (so a redirect's connection can go back to the pool)."""

    def connectionLost(self, reason: Failure | None = None) -> None:
        pass


class RedirectAgent:
    """Follows redirects (RFC 9110 §15.4), up to `redirectLimit` of them.

    301, 302, 307 and 308 are followed for GET and HEAD only (other methods fail with
    PageRedirect, as the user must decide whether to re-send); 303 turns into a GET.
    Authorization, Cookie and Proxy-Authorization are dropped when the redirect leaves
    the origin, so credentials never reach a host that did not ask for them.
    """

    _redirectResponses: tuple[int, ...] = (301, 302, 307, 308)
    _seeOtherResponses: tuple[int, ...] = (303,)

    def __init__(self, agent: Any, redirectLimit: int = 20) -> None:
        self._agent = agent
        self._redirectLimit = redirectLimit

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: Any = None,
    ) -> Deferred[Any]:
        """Send the request and follow the redirects of its responses."""
        d: Deferred[Any] = self._agent.request(method, uri, headers, bodyProducer)
        return d.addCallback(self._handleResponse, method, uri, headers, 0)

    def _resolveLocation(self, requestURI: bytes, location: bytes) -> bytes:
        """Resolve a Location that may be relative (RFC 9110 §10.2.2)."""
        return urljoin(requestURI, location)

    def _handleRedirect(
        self,
        response: Any,
        method: bytes,
        uri: bytes,
        headers: Headers | None,
        redirectCount: int,
    ) -> Deferred[Any]:
        locations = response.headers.getRawHeaders(b"location", [])
        if not locations:
            err = error.RedirectWithNoLocation(response.code, b"No location header field", uri)
            raise ResponseFailed([Failure(err)], response)
        location = self._resolveLocation(uri, locations[0])
        if redirectCount >= self._redirectLimit:
            err2 = error.InfiniteRedirection(
                response.code, b"Infinite redirection detected", location=location
            )
            raise ResponseFailed([Failure(err2)], response)
        if headers is not None:
            headers = headers.copy()
            try:
                sameOrigin = URI.fromBytes(uri).origin() == URI.fromBytes(location).origin()
            except ValueError:
                sameOrigin = False
            if not sameOrigin:
                for name in _SENSITIVE_HEADERS:
                    headers.removeHeader(name)
            if method != self._methodAfter(response.code, method):
                # The body is gone: so are the headers that described it.
                for name in (b"content-length", b"content-type", b"content-encoding"):
                    headers.removeHeader(name)
        # Read (and drop) the redirect's body so its connection can serve the next request.
        response.deliverBody(_Discard())
        newMethod = self._methodAfter(response.code, method)
        d: Deferred[Any] = self._agent.request(newMethod, location, headers)

        def setPrevious(newResponse: Any) -> Any:
            newResponse.setPreviousResponse(response)
            return newResponse

        d.addCallback(setPrevious)
        return d.addCallback(self._handleResponse, newMethod, location, headers,
                             redirectCount + 1)

    def _methodAfter(self, code: int, method: bytes) -> bytes:
        """The method of the request that follows a redirect with status `code`."""
        if code in self._seeOtherResponses and method != b"HEAD":
            return b"GET"
        return method

    def _handleResponse(
        self,
        response: Any,
        method: bytes,
        uri: bytes,
        headers: Headers | None,
        redirectCount: int,
    ) -> Any:
        code = response.code
        if code in self._redirectResponses:
            if method not in (b"GET", b"HEAD"):
                err = error.PageRedirect(code, location=uri)
                raise ResponseFailed([Failure(err)], response)
            return self._handleRedirect(response, method, uri, headers, redirectCount)
        if code in self._seeOtherResponses:
            return self._handleRedirect(response, method, uri, headers, redirectCount)
        return response


class BrowserLikeRedirectAgent(RedirectAgent):
    """Follows redirects as browsers do: 301, 302 and 303 turn any method into GET."""

    _redirectResponses = (307, 308)
    _seeOtherResponses = (301, 302, 303)


# -- content decoding ----------------------------------------------------------------------


class _ResponseProxy:
    """A Response whose body is transformed on its way to the body protocol."""

    def __init__(self, response: Any) -> None:
        self.original = response
        self.version = response.version
        self.code = response.code
        self.phrase = response.phrase
        self.headers = response.headers
        self.length: int | str = UNKNOWN_LENGTH
        self.request = response.request
        self.previousResponse = response.previousResponse

    def setPreviousResponse(self, response: Any) -> None:
        self.previousResponse = response

    def __repr__(self) -> str:
        return "<%s of %r>" % (type(self).__name__, self.original)


#: Most bytes a gzip body is inflated to per step before the body protocol gets them.
_INFLATE_PIECE = 256 * 1024


class _StopNotingTransport:
    """The body transport as a gzip body protocol sees it: stopping it stops inflating.

    Why: the connection closes later, but a bomb must not go on being inflated (and
    delivered) after the protocol said it wants no more.
    """

    def __init__(self, transport: Any, decoder: _GzipProtocol) -> None:
        self._transport = transport
        self._decoder = decoder

    def pauseProducing(self) -> None:
        self._transport.pauseProducing()

    def resumeProducing(self) -> None:
        self._transport.resumeProducing()

    def stopProducing(self) -> None:
        self._decoder._stopped = True
        self._transport.stopProducing()

    def loseConnection(self) -> None:
        self.stopProducing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class _GzipProtocol(Protocol):
    """Decompresses a gzip body on its way to the real body protocol."""

    def __init__(self, protocol: Any, response: Any) -> None:
        self.original = protocol
        self._response = response
        self._zlib = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._failed = False

    _stopped = False

    def makeConnection(self, transport: Any) -> None:
        self.transport = transport
        self.original.makeConnection(_StopNotingTransport(transport, self))

    def dataReceived(self, data: bytes) -> None:
        # Inflate at most _INFLATE_PIECE bytes at a time (DESIGN §7): a few kilobytes of
        # gzip can stand for gigabytes, which must not be made in one allocation, and the
        # body protocol can stop the download between pieces.
        decompress = self._zlib.decompress
        while not (self._failed or self._stopped):
            try:
                raw = decompress(data, _INFLATE_PIECE)
            except zlib.error:
                self._failed = True
                self.original.connectionLost(Failure(ResponseFailed([Failure()], self._response)))
                self.transport.stopProducing()
                return
            data = self._zlib.unconsumed_tail
            if raw:
                self.original.dataReceived(raw)
            if not data and len(raw) < _INFLATE_PIECE:
                return

    def connectionLost(self, reason: Failure | None = None) -> None:
        if self._failed:
            return
        if self._stopped:
            # The body protocol asked for no more: do not inflate what is left.
            self._failed = True
            self.original.connectionLost(reason)
            return
        # The body protocol may stop the download from its dataReceived: nothing more
        # reaches it after this.
        self._failed = True
        try:
            rest = self._zlib.flush()
        except zlib.error:
            self.original.connectionLost(Failure(ResponseFailed([reason or Failure(
                ResponseDone()), Failure()], self._response)))
            return
        if rest:
            self.original.dataReceived(rest)
        if reason is not None and reason.check(ResponseDone) and not self._zlib.eof:
            truncated = Failure(zlib.error("gzip stream is truncated"))
            self.original.connectionLost(Failure(ResponseFailed([truncated], self._response)))
            return
        self.original.connectionLost(reason)


class GzipDecoder(_ResponseProxy):
    """A Response whose gzip Content-Encoding (RFC 9110 §8.4.1.3) is decoded."""

    def deliverBody(self, protocol: Any) -> None:
        """Deliver the decompressed body to `protocol`."""
        self.original.deliverBody(_GzipProtocol(protocol, self))


class ContentDecoderAgent:
    """Asks for compressed responses and decodes them (Accept-Encoding / Content-Encoding).

    `decoders` is a list of ``(encodingName, decoderClass)``; a response encoded with
    anything else is returned as it is.
    """

    def __init__(self, agent: Any, decoders: list[tuple[bytes, Any]]) -> None:
        self._agent = agent
        self._decoders = dict(decoders)
        self._supported = b",".join([name for name, _ in decoders])

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: Any = None,
    ) -> Deferred[Any]:
        """Send the request with Accept-Encoding; decode the response."""
        headers = Headers() if headers is None else headers.copy()
        headers.addRawHeader(b"accept-encoding", self._supported)
        d: Deferred[Any] = self._agent.request(method, uri, headers, bodyProducer)
        return d.addCallback(self._handleResponse)

    def _handleResponse(self, response: Any) -> Any:
        values = response.headers.getRawHeaders(b"content-encoding", [])
        encodings = [e.strip().lower() for v in values for e in v.split(b",") if e.strip()]
        if not encodings:
            return response
        # RFC 9110 §8.4: encodings are listed in the order applied; undo the last first.
        applied: list[bytes] = []
        while encodings and encodings[-1] in self._decoders:
            name = encodings.pop()
            response = self._decoders[name](response)
            applied.append(name)
        if applied:
            headers = response.headers.copy()
            if encodings:
                headers.setRawHeaders(b"content-encoding", [b",".join(encodings)])
            else:
                headers.removeHeader(b"content-encoding")
            headers.removeHeader(b"content-length")
            response.headers = headers
        return response


# -- cookies -------------------------------------------------------------------------------------


class CookieAgent:
    """Sends cookies from an http.cookiejar.CookieJar and stores those the server sets."""

    def __init__(self, agent: Any, cookieJar: Any) -> None:
        self._agent = agent
        self.cookieJar = cookieJar

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: Any = None,
    ) -> Deferred[Any]:
        """Send the request with the jar's cookies; store the response's cookies."""
        headers = Headers() if headers is None else headers.copy()
        fake = _FakeUrllibRequest(uri)
        if not headers.hasHeader(b"cookie"):
            self.cookieJar.add_cookie_header(fake)
            cookie = fake.get_header("Cookie")
            if cookie is not None:
                headers.addRawHeader(b"cookie", cookie.encode("utf-8"))
        d: Deferred[Any] = self._agent.request(method, uri, headers, bodyProducer)

        def extract(response: Response) -> Response:
            self.cookieJar.extract_cookies(_FakeUrllibResponse(response), fake)
            return response

        return d.addCallback(extract)
