"""HTTP client: Agent and the agents that wrap it, response bodies, short forms.

Theory of operation: `Agent` sends one request per pooled HTTP/1.1 connection
(`torsion.web._newclient`) and fires with a Response as soon as its head arrives; the
body streams to a protocol given to ``Response.deliverBody`` (``readBody`` collects it).
Wrapping agents add behaviour: `RedirectAgent`/`BrowserLikeRedirectAgent` (RFC 9110
§15.4, credentials dropped across origins), `ContentDecoderAgent` with `GzipDecoder`,
`CookieAgent` (http.cookiejar), `ProxyAgent`. `getPage`, `get`, `post` and `request` are
short forms for callers that just want the bytes or a treq-style `HTTPResponse`.

HTTPS verifies the server's certificate chain and host name by default
(`BrowserLikePolicyForHTTPS`, DESIGN §7). Bounded by default: Agent's connection attempts
time out after 30 s unless `connectTimeout` says otherwise, and the short forms read at
most `DEFAULT_MAX_BODY_SIZE` (64 MiB) of body unless `maxBodySize` says otherwise;
readBody keeps Twisted's unlimited default and takes an optional `maxSize`.

Errors (see torsion.web._newclient for the full tree)::

    ResponseFailed(reasons, response)    the response broke off
     └─ ResponseNeverReceived            ... before its head arrived
    RequestGenerationFailed / RequestTransmissionFailed   the request could not be sent
    PartialDownloadError (web.error.Error)   readBody: close-delimited, maybe truncated
    ResponseTooLarge                     a body over its reader's limit: getPage, get,
                                         post, request (maxBodySize, 64 MiB by default)
                                         and readBody(maxSize=...); download stopped
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
    ResponseTooLarge,
    SchemeNotSupported,
    TunnelError,
    readBody,
)
from torsion.web._client_simple import (
    DEFAULT_MAX_BODY_SIZE,
    HTTPResponse,
    get,
    getPage,
    post,
    request,
)
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
    "DEFAULT_MAX_BODY_SIZE",
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
    "ResponseTooLarge",
    "SchemeNotSupported",
    "TunnelError",
    "UNKNOWN_LENGTH",
    "URI",
    "get",
    "getPage",
    "post",
    "readBody",
    "request",
]
