"""Short forms over Agent: getPage, and treq-style get/post with a response wrapper.

Theory of operation: each call builds ``RedirectAgent(ContentDecoderAgent(Agent))`` on the
given reactor (the global one, imported lazily, when none is given) unless an agent is
passed; ``timeout`` cancels the whole exchange (head and body) after that many seconds.
Close-delimited bodies count as complete here (as in treq): these helpers are for
callers who want the bytes, not the framing. Bodies are read into memory, so they are
bounded by ``maxBodySize`` (DEFAULT_MAX_BODY_SIZE, 64 MiB, unless given; None for no
limit): a bigger body (announced, received, or inflated from gzip) stops the download and
fails with ResponseTooLarge (DESIGN §7).
"""

from __future__ import annotations

import json as _json
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from torsion.internet.defer import Deferred
from torsion.python.failure import Failure
from torsion.web import error
from torsion.web._bytes_producer import _BytesProducer
from torsion.web._client_agent import Agent, PartialDownloadError, ResponseTooLarge, readBody
from torsion.web._client_wrappers import ContentDecoderAgent, GzipDecoder, RedirectAgent
from torsion.web.http_headers import Headers

__all__ = [
    "DEFAULT_MAX_BODY_SIZE", "HTTPResponse", "ResponseTooLarge", "getPage", "get", "post",
    "request",
]

DEFAULT_MAX_BODY_SIZE = 64 * 1024 * 1024
"""The most body bytes the short forms read into memory unless told otherwise (64 MiB)."""


def _toBytes(value: bytes | str) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def _headersFrom(headers: Any) -> Headers:
    """Accept Headers, or a mapping of names to a value or a list of values."""
    if headers is None:
        return Headers()
    if isinstance(headers, Headers):
        return headers.copy()
    result = Headers()
    for name, value in headers.items():
        if isinstance(value, (list, tuple)):
            result.setRawHeaders(name, list(value))
        else:
            result.setRawHeaders(name, [value])
    return result


def _readAll(response: Any, maxSize: int | None) -> Deferred[bytes]:
    """readBody, but a close-delimited body is complete rather than an error."""

    def partial(reason: Failure) -> Any:
        if isinstance(reason.value, PartialDownloadError):
            return reason.value.response
        return reason

    return readBody(response, maxSize).addErrback(partial)


class HTTPResponse:
    """A response with its body a method call away (treq's style).

    Why: most callers want ``code``, ``headers`` and the body as bytes, text or JSON.
    The body is read into memory up to `maxBodySize` bytes (None: no limit); beyond that
    the download stops and content(), text() and json() fail with ResponseTooLarge.
    """

    def __init__(self, response: Any,
                 maxBodySize: int | None = DEFAULT_MAX_BODY_SIZE) -> None:
        self.original = response
        self.maxBodySize = maxBodySize
        self.code: int = response.code
        self.phrase: bytes = response.phrase
        self.headers: Headers = response.headers
        self.length = response.length
        self._content: Deferred[bytes] | None = None
        self._body: bytes | None = None
        self._waiters: list[Deferred[bytes]] = []
        self._failure: Failure | None = None

    def __repr__(self) -> str:
        return "<HTTPResponse %d>" % (self.code,)

    def content(self) -> Deferred[bytes]:
        """Fire with the whole body (read once, then remembered)."""
        if self._content is None:
            self._content = _readAll(self.original, self.maxBodySize)
            self._content.addCallbacks(self._gotBody, self._gotFailure)
        d: Deferred[bytes] = Deferred()
        if self._body is not None:
            d.callback(self._body)
        elif self._failure is not None:
            d.errback(self._failure)
        else:
            self._waiters.append(d)
        return d

    def _gotBody(self, body: bytes) -> None:
        self._body = body
        waiters, self._waiters = self._waiters, []
        for d in waiters:
            d.callback(body)

    def _gotFailure(self, reason: Failure) -> None:
        self._failure = reason
        waiters, self._waiters = self._waiters, []
        for d in waiters:
            d.errback(reason)

    def _charset(self) -> str | None:
        ctype = self.headers.getRawHeaders(b"content-type", [b""])[-1]
        for param in ctype.split(b";")[1:]:
            name, _, value = param.strip().partition(b"=")
            if name.strip().lower() == b"charset":
                return value.strip().strip(b'"').decode("ascii", "replace")
        return None

    def text(self, encoding: str | None = None) -> Deferred[str]:
        """Fire with the body decoded by `encoding`, the charset of Content-Type, or UTF-8."""
        enc = encoding or self._charset() or "utf-8"
        return self.content().addCallback(lambda body: body.decode(enc))

    def json(self, **loadsArgs: Any) -> Deferred[Any]:
        """Fire with the body parsed as JSON (RFC 8259: UTF-8)."""
        return self.content().addCallback(lambda body: _json.loads(body, **loadsArgs))


def _makeAgent(reactor: Any, timeout: float | None, followRedirects: bool) -> Any:
    agent: Any = ContentDecoderAgent(Agent(reactor), [(b"gzip", GzipDecoder)])
    if followRedirects:
        agent = RedirectAgent(agent)
    return agent


def _withTimeout(d: Deferred[Any], timeout: float | None, reactor: Any) -> Deferred[Any]:
    if timeout is not None:
        d.addTimeout(timeout, reactor)
    return d


def request(
    method: bytes | str,
    url: bytes | str,
    headers: Any = None,
    data: Any = None,
    json: Any = None,
    params: Mapping[str, Any] | None = None,
    reactor: Any = None,
    agent: Any = None,
    timeout: float | None = None,
    allowRedirects: bool = True,
    maxBodySize: int | None = DEFAULT_MAX_BODY_SIZE,
) -> Deferred[HTTPResponse]:
    """Send a request; fire with an HTTPResponse.

    `data` is bytes (sent as is) or a mapping (sent form-encoded); `json` is any JSON
    value (sent as application/json); `params` are added to the URL's query.
    `maxBodySize` bounds the body the response's content()/text()/json() read into
    memory (64 MiB by default, None for no limit): beyond it the download stops and they
    fail with ResponseTooLarge.
    """
    if maxBodySize is not None and maxBodySize < 0:
        raise ValueError(f"maxBodySize must be None or >= 0, not {maxBodySize!r}")
    if reactor is None:
        from torsion.internet import reactor as globalReactor

        reactor = globalReactor
    method = _toBytes(method).upper()
    url = _toBytes(url)
    hdrs = _headersFrom(headers)
    if params:
        url += (b"&" if b"?" in url else b"?") + urlencode(params, doseq=True).encode("ascii")
    body: bytes | None = None
    if json is not None:
        body = _json.dumps(json, separators=(",", ":")).encode("utf-8")
        if not hdrs.hasHeader(b"content-type"):
            hdrs.setRawHeaders(b"content-type", [b"application/json"])
    elif isinstance(data, Mapping):
        body = urlencode(data, doseq=True).encode("ascii")
        if not hdrs.hasHeader(b"content-type"):
            hdrs.setRawHeaders(b"content-type", [b"application/x-www-form-urlencoded"])
    elif data is not None:
        body = _toBytes(data)
    if agent is None:
        agent = _makeAgent(reactor, timeout, allowRedirects)
    producer = _BytesProducer(body) if body is not None else None
    d: Deferred[Any] = agent.request(method, url, hdrs, producer)
    d.addCallback(HTTPResponse, maxBodySize)
    return _withTimeout(d, timeout, reactor)


def get(url: bytes | str, headers: Any = None, **kwargs: Any) -> Deferred[HTTPResponse]:
    """GET `url`; fire with an HTTPResponse (see `request` for the keywords)."""
    return request(b"GET", url, headers=headers, **kwargs)


def post(
    url: bytes | str, data: Any = None, json: Any = None, headers: Any = None, **kwargs: Any
) -> Deferred[HTTPResponse]:
    """POST `data` (bytes or form mapping) or `json` to `url`; fire with an HTTPResponse."""
    return request(b"POST", url, headers=headers, data=data, json=json, **kwargs)


def getPage(
    url: bytes | str,
    method: bytes = b"GET",
    headers: Any = None,
    data: bytes | None = None,
    reactor: Any = None,
    timeout: float | None = None,
    followRedirect: bool = True,
    maxBodySize: int | None = DEFAULT_MAX_BODY_SIZE,
) -> Deferred[bytes]:
    """Fetch `url` and fire with its body; a non-2xx status fails with web.error.Error.

    The Error carries the status (bytes), the reason phrase and the body as `response`.
    `timeout` bounds the whole fetch, body included. A body over `maxBodySize` bytes
    (64 MiB by default, None for no limit) stops the download and fails the fetch with
    ResponseTooLarge.
    """
    if reactor is None:
        from torsion.internet import reactor as globalReactor

        reactor = globalReactor
    d = request(method, url, headers=headers, data=data, reactor=reactor,
                allowRedirects=followRedirect, maxBodySize=maxBodySize)

    def gotResponse(response: HTTPResponse) -> Deferred[bytes]:
        def check(body: bytes) -> bytes:
            if not 200 <= response.code < 300:
                raise error.Error(response.code, response.phrase or None, body)
            return body

        return response.content().addCallback(check)

    result: Deferred[bytes] = d.addCallback(gotResponse)
    return _withTimeout(result, timeout, reactor)
