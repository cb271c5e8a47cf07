"""Errors raised by torsion.web.

Theory of operation: every exception a web application or the HTTP machinery raises on
purpose derives from one of two roots, so callers can tell whose fault a failure is:

    Exception
     ├─ Error                       an HTTP-level outcome carrying a status code
     │   ├─ PageRedirect            render this as a redirect to `location`
     │   │   └─ InfiniteRedirection a client followed too many redirects
     │   └─ RedirectWithNoLocation  a 3xx response had no Location header
     ├─ UnsupportedMethod           no render_<METHOD> for this request (405 or 501)
     ├─ RenderError                 a resource returned something that is not a body
     │   └─ MissingRenderMethod     render() found no render_<METHOD>
     ├─ MissingTemplateLoader       a template element has no loader
     ├─ UnexposedMethodError        a template renderer was not exposed
     ├─ UnfilledSlot / UnsupportedType / FlattenerError   template flattening
     ├─ SchemeNotSupported          a client was asked for a URI it cannot fetch
     └─ ValueError                  (builtin) bad header names/values, bad cookies

UnsupportedMethod keeps Twisted's constructor: ``UnsupportedMethod(allowedMethods)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from http import HTTPStatus

__all__ = [
    "Error",
    "PageRedirect",
    "InfiniteRedirection",
    "RedirectWithNoLocation",
    "UnsupportedMethod",
    "RenderError",
    "MissingRenderMethod",
    "MissingTemplateLoader",
    "UnexposedMethodError",
    "UnfilledSlot",
    "UnsupportedType",
    "FlattenerError",
    "SchemeNotSupported",
]


def _toBytes(value: bytes | str | int | None) -> bytes | None:
    """Return `value` as bytes (str as UTF-8, int as its decimal digits)."""
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, int):
        return b"%d" % (value,)
    return value.encode("utf-8")


def _statusMessage(code: bytes | None) -> bytes | None:
    """Return the standard reason phrase for a status code given as bytes, if known."""
    if code is None:
        return None
    try:
        return HTTPStatus(int(code)).phrase.encode("ascii")
    except ValueError:
        return None


class Error(Exception):
    """An HTTP error: a status code, a message and an optional response body.

    Why: resources raise it to abandon rendering with a specific status; `status` is
    bytes (Twisted's contract), `message` defaults to the standard reason phrase.
    """

    def __init__(
        self,
        code: bytes | str | int,
        message: bytes | str | None = None,
        response: bytes | str | None = None,
    ) -> None:
        status = _toBytes(code)
        assert status is not None
        msg = _toBytes(message)
        if msg is None:
            msg = _statusMessage(status)
        super().__init__(status, msg, response)
        self.status: bytes = status
        self.message: bytes | None = msg
        self.response: bytes | None = _toBytes(response)

    def __str__(self) -> str:
        return "%s %s" % (
            self.status.decode("ascii", "replace"),
            (self.message or b"").decode("ascii", "replace"),
        )


class PageRedirect(Error):
    """Render this request as a redirect to `location` (default status 302)."""

    def __init__(
        self,
        code: bytes | str | int,
        message: bytes | str | None = None,
        response: bytes | str | None = None,
        location: bytes | str | None = None,
    ) -> None:
        super().__init__(code, message, response)
        self.location: bytes | None = _toBytes(location)
        if self.message and self.location:
            self.message = self.message + b" to " + self.location


class InfiniteRedirection(PageRedirect):
    """A client gave up after following too many redirects."""


class RedirectWithNoLocation(Error):
    """A redirect response carried no Location header, so it cannot be followed."""

    def __init__(
        self,
        code: bytes | str | int,
        message: bytes | str | None,
        uri: bytes | str,
    ) -> None:
        super().__init__(code, message)
        self.uri: bytes = _toBytes(uri) or b""
        self.message = (self.message or b"") + b" to " + self.uri


class UnsupportedMethod(Exception):
    """The resource has no way to render this HTTP method.

    Why: the server turns it into 405 Method Not Allowed with an Allow header listing
    `allowedMethods` (RFC 9110 §15.5.6) for the methods it knows (GET, HEAD, POST), and
    into 501 Not Implemented (RFC 9110 §15.6.2) for any other, as Twisted does.
    """

    def __init__(self, allowedMethods: Sequence[bytes], *args: object) -> None:
        super().__init__(allowedMethods, *args)
        self.allowedMethods: Sequence[bytes] = allowedMethods


class RenderError(Exception):
    """A resource's render method returned something that is not a response body."""


class MissingRenderMethod(RenderError):
    """An element named a renderer that it does not define."""

    def __init__(self, element: object, renderName: str) -> None:
        super().__init__(element, renderName)
        self.element = element
        self.renderName = renderName


class MissingTemplateLoader(RenderError):
    """An element was rendered without a template loader."""

    def __init__(self, element: object) -> None:
        super().__init__(element)
        self.element = element


class UnexposedMethodError(Exception):
    """A template asked for a renderer method that is not exposed."""


class UnfilledSlot(Exception):
    """A template slot was rendered without having been filled."""


class UnsupportedType(Exception):
    """The template flattener met an object it cannot serialize."""


class FlattenerError(Exception):
    """An error occurred while flattening a template; carries the original exception.

    Why the text: a template failure is found by its place in the document, so str()
    lists the elements being flattened, outermost first (with file, line and column for
    elements loaded from a template file), then the traceback entries given, then the
    original exception.
    """

    def __init__(
        self, exception: BaseException, roots: Sequence[object], traceback: Sequence[object]
    ) -> None:
        super().__init__(exception, roots, traceback)
        self._exception = exception
        self._roots = roots
        self._traceback = traceback

    @staticmethod
    def _formatRoot(root: object) -> str:
        """One element of the path: its repr (shortened), and where a template put it."""
        text = repr(root)
        if len(text) > 120:
            text = text[:117] + "..."
        filename = getattr(root, "filename", None)
        if isinstance(filename, str):
            text += " (%s:%s:%s)" % (filename, getattr(root, "lineNumber", "?"),
                                     getattr(root, "columnNumber", "?"))
        return text

    def __str__(self) -> str:
        import traceback as _tb

        lines = ["Exception while flattening:"]
        lines.extend("  " + self._formatRoot(root) for root in self._roots)
        frames = [entry for entry in self._traceback
                  if isinstance(entry, (_tb.FrameSummary, tuple))]
        if frames:
            for entry in _tb.format_list(frames):
                lines.extend(entry.rstrip("\n").splitlines())
        lines.append("%s: %s" % (type(self._exception).__name__, self._exception))
        return "\n".join(lines)

    __repr__ = __str__


class SchemeNotSupported(Exception):
    """A URI's scheme is not one the client can fetch (Twisted's web.error name)."""
