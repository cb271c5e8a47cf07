"""HTTP client: Agent and the agents that wrap it, response bodies, short forms.

Theory of operation: `Agent` sends one request per pooled HTTP/1.1 connection
(`torsion.web._newclient`) and fires with a Response as soon as its head arrives; the
body streams to a protocol given to ``Response.deliverBody`` (``readBody`` collects it).
Wrapping agents add behaviour: `RedirectAgent`/`BrowserLikeRedirectAgent` (RFC 9110
§15.4, credentials dropped across origins), `ContentDecoderAgent` with `GzipDecoder`,
`CookieAgent` (http.cookiejar), `ProxyAgent`. `getPage`, `get`, `post` and `request` are
short forms for callers that just want the bytes or a treq-style `HTTPResponse`.

HTTPS verifies the server's certificate chain and host name by default
(`BrowserLikePolicyForHTTPS`, DESIGN §7).

Errors (see torsion.web._newclient for the full tree)::

    ResponseFailed(reasons, response)    the response broke off
     └─ ResponseNeverReceived            ... before its head arrived
    RequestGenerationFailed / RequestTransmissionFailed   the request could not be sent
    PartialDownloadError (web.error.Error)   readBody: close-delimited, maybe truncated
    SchemeNotSupported                   not http or https
"""

from __future__ import annotations

from torsion.web._client_agent import (
    URI,
    Agent,
    BrowserLikePolicyForHTTPS,
    FileBodyProducer,
    HostnameCachingHTTPSPolicy,
    HTTPConnectionPool,
    PartialDownloadError,
    ProxyAgent,
    SchemeNotSupported,
    readBody,
)
from torsion.web._client_simple import HTTPResponse, get, getPage, post, request
from torsion.web._client_wrappers import (
    BrowserLikeRedirectAgent,
    ContentDecoderAgent,
    CookieAgent,
    GzipDecoder,
    RedirectAgent,
)
from torsion.web._newclient import (
    HTTP11ClientProtocol,
    PotentialDataLoss,
    RequestGenerationFailed,
    RequestNotSent,
    RequestTransmissionFailed,
    Response,
    ResponseDone,
    ResponseFailed,
    ResponseNeverReceived,
)
from torsion.web.error import Error
from torsion.web.http_headers import Headers
from torsion.web.iweb import UNKNOWN_LENGTH

__all__ = [
    "Agent",
    "BrowserLikePolicyForHTTPS",
    "BrowserLikeRedirectAgent",
    "ContentDecoderAgent",
    "CookieAgent",
    "Error",
    "FileBodyProducer",
    "GzipDecoder",
    "HTTP11ClientProtocol",
    "HTTPConnectionPool",
    "HTTPResponse",
    "HostnameCachingHTTPSPolicy",
    "Headers",
    "PartialDownloadError",
    "PotentialDataLoss",
    "ProxyAgent",
    "RedirectAgent",
    "RequestGenerationFailed",
    "RequestNotSent",
    "RequestTransmissionFailed",
    "Response",
    "ResponseDone",
    "ResponseFailed",
    "ResponseNeverReceived",
    "SchemeNotSupported",
    "UNKNOWN_LENGTH",
    "URI",
    "get",
    "getPage",
    "post",
    "readBody",
    "request",
]
