"""Interfaces of torsion.web, as typing.Protocol classes (Twisted's twisted.web.iweb).

Theory of operation: these are structural types: anything with the right methods
provides the interface, no registration needed (DESIGN §4: no zope.interface). The
server-side ones (IRequest, IResource) describe what torsion.web.server implements;
the client-side ones (IAgent, IResponse, IBodyProducer) are the contract the HTTP client
implements.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from torsion.web.resource import IResource

if TYPE_CHECKING:
    from torsion.internet.defer import Deferred
    from torsion.web.http_headers import Headers

__all__ = [
    "IRequest",
    "IResource",
    "IBodyProducer",
    "IAgent",
    "IResponse",
    "IAgentEndpointFactory",
    "IPolicyForHTTPS",
    "ICredentialFactory",
    "IRenderable",
    "ITemplateLoader",
    "IAccessLogFormatter",
    "UNKNOWN_LENGTH",
]

UNKNOWN_LENGTH = "twisted.web.iweb.UNKNOWN_LENGTH"
"""IBodyProducer.length when the producer cannot say in advance how much it will write."""


@runtime_checkable
class IRequest(Protocol):
    """An HTTP request being served: read the request, write the response."""

    method: bytes
    uri: bytes
    path: bytes
    args: dict[bytes, list[bytes]]
    clientproto: bytes
    code: int
    requestHeaders: Headers
    responseHeaders: Headers
    content: Any
    prepath: list[bytes]
    postpath: list[bytes]

    def getHeader(self, key: bytes) -> Any: ...

    def getCookie(self, key: bytes) -> bytes | None: ...

    def getAllHeaders(self) -> dict[bytes, bytes]: ...

    def getRequestHostname(self) -> bytes: ...

    def getHost(self) -> Any: ...

    def getClientAddress(self) -> Any: ...

    def getUser(self) -> bytes: ...

    def getPassword(self) -> bytes: ...

    def isSecure(self) -> bool: ...

    def getSession(self, sessionInterface: Any = None) -> Any: ...

    def URLPath(self) -> Any: ...

    def prePathURL(self) -> bytes: ...

    def rememberRootURL(self) -> None: ...

    def getRootURL(self) -> bytes | None: ...

    def finish(self) -> None: ...

    def write(self, data: bytes) -> None: ...

    def addCookie(self, k: bytes, v: bytes, *args: Any, **kwargs: Any) -> None: ...

    def setResponseCode(self, code: int, message: bytes | None = None) -> None: ...

    def setHeader(self, name: bytes, value: bytes) -> None: ...

    def redirect(self, url: bytes) -> None: ...

    def setLastModified(self, when: float) -> object: ...

    def setETag(self, etag: bytes) -> object: ...

    def setHost(self, host: bytes, port: int, ssl: bool = False) -> None: ...

    def notifyFinish(self) -> Deferred[None]: ...


class IAccessLogFormatter(Protocol):
    """Formats one access-log line: ``(timestamp, request) -> str``."""

    def __call__(self, timestamp: str, request: Any) -> str: ...


@runtime_checkable
class IBodyProducer(Protocol):
    """Produces a request body for the HTTP client, paced by the connection."""

    length: int | str

    def startProducing(self, consumer: Any) -> Deferred[None]: ...

    def pauseProducing(self) -> None: ...

    def resumeProducing(self) -> None: ...

    def stopProducing(self) -> None: ...


@runtime_checkable
class IResponse(Protocol):
    """An HTTP response as the client sees it."""

    version: tuple[bytes, int, int]
    code: int
    phrase: bytes
    headers: Headers
    length: int | str
    request: Any
    previousResponse: Any

    def deliverBody(self, protocol: Any) -> None: ...

    def setPreviousResponse(self, response: Any) -> None: ...


@runtime_checkable
class IAgent(Protocol):
    """Issues HTTP requests and returns Deferred responses."""

    def request(
        self,
        method: bytes,
        uri: bytes,
        headers: Headers | None = None,
        bodyProducer: IBodyProducer | None = None,
    ) -> Deferred[IResponse]: ...


class IAgentEndpointFactory(Protocol):
    """Makes the endpoint an Agent connects to for a URI."""

    def endpointForURI(self, uri: Any) -> Any: ...


class IPolicyForHTTPS(Protocol):
    """Chooses TLS settings for an HTTPS connection to a host."""

    def creatorForNetloc(self, hostname: bytes, port: int) -> Any: ...


class ICredentialFactory(Protocol):
    """Builds credentials from an HTTP Authorization header (for guard)."""

    scheme: bytes

    def getChallenge(self, request: Any) -> dict[str, Any]: ...

    def decode(self, response: bytes, request: Any) -> Any: ...


class IRenderable(Protocol):
    """Something the template flattener can render for a request."""

    def lookupRenderMethod(self, name: str) -> Any: ...

    def render(self, request: Any) -> Any: ...


class ITemplateLoader(Protocol):
    """Loads a template document."""

    def load(self) -> list[Any]: ...
