"""Adapters between the HTTP client and the stdlib's http.cookiejar.

Theory of operation: ``CookieJar.add_cookie_header`` and ``extract_cookies`` expect a
urllib ``Request`` and an ``http.client`` response; `_FakeUrllibRequest` and
`_FakeUrllibResponse` provide exactly the methods they call, backed by the client's URI and
Headers, so all cookie policy (domain, path, Secure, expiry: RFC 6265) stays the jar's.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from torsion.web.http_headers import Headers

__all__ = ["_FakeUrllibRequest", "_FakeUrllibResponse"]


class _FakeUrllibRequest:
    """What http.cookiejar reads from (and adds the Cookie header to) a request."""

    def __init__(self, uri: bytes) -> None:
        self.uri = uri.decode("utf-8", "surrogateescape")
        parts = urlsplit(self.uri)
        self.type = parts.scheme
        self.host = parts.netloc
        self.headers: dict[str, str] = {}
        self.unverifiable = False
        self.origin_req_host = parts.hostname or ""

    def get_full_url(self) -> str:
        return self.uri

    def get_host(self) -> str:
        return self.host

    def get_type(self) -> str:
        return self.type

    def get_origin_req_host(self) -> str:
        return self.origin_req_host

    def is_unverifiable(self) -> bool:
        return self.unverifiable

    def has_header(self, header: str) -> bool:
        return header.lower() in (k.lower() for k in self.headers)

    def get_header(self, header: str, default: str | None = None) -> str | None:
        for k, v in self.headers.items():
            if k.lower() == header.lower():
                return v
        return default

    def header_items(self) -> list[tuple[str, str]]:
        return list(self.headers.items())

    def add_unredirected_header(self, header: str, value: str) -> None:
        self.headers[header] = value


class _FakeHeaders:
    """The ``info()`` of a fake response: the multi-valued header lookup the jar uses."""

    def __init__(self, headers: Headers) -> None:
        self._headers = headers

    def get_all(self, name: str, default: Any = None) -> Any:
        values = self._headers.getRawHeaders(name.encode("iso-8859-1"))
        if not values:
            return default
        return [v.decode("iso-8859-1") for v in values]


class _FakeUrllibResponse:
    """What http.cookiejar reads Set-Cookie headers from."""

    def __init__(self, response: Any) -> None:
        self.response = response

    def info(self) -> _FakeHeaders:
        return _FakeHeaders(self.response.headers)
