"""Small web helpers: redirects and a resource that waits for a Deferred.

Theory of operation: `redirectTo` sets 302 + Location and returns a tiny HTML page for
clients that ignore Location; the URL is HTML-escaped in the page and, through
``setHeader``, refused if it contains CR or LF, so it cannot inject markup or headers.
"""

from __future__ import annotations

import html
from typing import Any

from torsion.web import resource

__all__ = ["redirectTo", "Redirect", "ParentRedirect", "ChildRedirector", "DeferredResource"]


def redirectTo(URL: bytes, request: Any) -> bytes:
    """Redirect `request` to `URL` and return the body to render."""
    if not isinstance(URL, bytes):
        raise TypeError("URL must be bytes")
    request.setHeader(b"Content-Type", b"text/html; charset=utf-8")
    request.redirect(URL)
    escaped = html.escape(URL.decode("utf-8", "replace"), quote=True)
    content = (
        '<html>\n    <head>\n        <meta http-equiv="refresh" content="0;URL=%s">\n'
        '    </head>\n    <body bgcolor="#FFFFFF" text="#000000">\n'
        '    <a href="%s">click here</a>\n    </body>\n</html>\n' % (escaped, escaped)
    )
    return content.encode("utf-8")


class Redirect(resource.Resource):
    """A leaf resource that redirects every request to one URL."""

    isLeaf = True

    def __init__(self, url: bytes) -> None:
        super().__init__()
        self.url = url

    def render(self, request: Any) -> bytes:
        return redirectTo(self.url, request)

    def getChild(self, name: bytes, request: Any) -> Any:
        return self


class ChildRedirector(Redirect):
    """Redirect any child request to the same child under another URL."""

    isLeaf = False

    def __init__(self, url: bytes) -> None:
        if url.find(b"://") == -1 and not url.startswith(b"/"):
            raise ValueError("It seems you've given me a redirect (%r) that is a child of "
                             "myself! That's not good, it'll cause an infinite redirect." % url)
        super().__init__(url)

    def getChild(self, name: bytes, request: Any) -> Any:
        newUrl = self.url
        if not newUrl.endswith(b"/"):
            newUrl += b"/"
        newUrl += name
        return ChildRedirector(newUrl)


class ParentRedirect(resource.Resource):
    """Redirect to the parent of the URL the request is at."""

    isLeaf = True

    def render(self, request: Any) -> bytes:
        return redirectTo(request.URLPath().here().parent().__bytes__(), request)

    def getChild(self, request: Any, name: bytes) -> Any:  # type: ignore[override]
        return self


class DeferredResource(resource.Resource):
    """A resource that renders whatever resource a Deferred produces."""

    isLeaf = True

    def __init__(self, d: Any) -> None:
        super().__init__()
        self.d = d

    def getChild(self, name: bytes, request: Any) -> Any:
        return self

    def render(self, request: Any) -> int:
        from torsion.web import server

        self.d.addCallback(self._cbChild, request).addErrback(self._ebChild, request)
        return server.NOT_DONE_YET

    def _cbChild(self, child: Any, request: Any) -> None:
        request.render(resource.getChildForRequest(child, request))

    def _ebChild(self, reason: Any, request: Any) -> None:
        request.processingFailed(reason)
