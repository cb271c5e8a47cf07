"""The resource tree: Resource, child lookup, and the stock error resources.

Theory of operation: a request's path segments are consumed one at a time by
`getChildForRequest`: while the current resource is not a leaf and ``postpath`` is not
empty, the next segment moves from ``postpath`` to ``prepath`` and
``getChildWithDefault(segment, request)`` picks the child (a dict lookup in ``children``
first, then ``getChild``). The resource reached renders the response through
``render``, which dispatches to ``render_<METHOD>`` or raises UnsupportedMethod (the
server answers 405 with an Allow header, RFC 9110 §15.5.6, for GET/HEAD/POST, and 501
for other methods). No regular expressions are involved.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from torsion.web.error import UnsupportedMethod

if TYPE_CHECKING:
    from torsion.web.server import Request

__all__ = [
    "IResource",
    "Resource",
    "getChildForRequest",
    "NoResource",
    "ForbiddenResource",
    "ErrorPage",
    "EncodingResourceWrapper",
]


@runtime_checkable
class IResource(Protocol):
    """A web resource: something that finds children and renders requests."""

    isLeaf: bool

    def getChildWithDefault(self, name: bytes, request: Any) -> IResource: ...

    def putChild(self, path: bytes, child: IResource) -> None: ...

    def render(self, request: Any) -> Any: ...


_RENDER_NAMES: dict[bytes, str] = {}


def _renderName(method: bytes) -> str:
    """Return ``"render_" + method`` as str, cached (one lookup per request)."""
    name = _RENDER_NAMES.get(method)
    if name is None:
        name = "render_" + method.decode("ascii", "replace")
        if len(_RENDER_NAMES) < 64:
            _RENDER_NAMES[method] = name
    return name


def _computeAllowedMethods(resource: object) -> list[bytes]:
    """Return the methods `resource` has render_ methods for, sorted."""
    allowed = []
    for name in dir(resource):
        if name.startswith("render_"):
            allowed.append(name[len("render_"):].encode("ascii"))
    return sorted(allowed)


def _unsupported(resource: Resource) -> UnsupportedMethod:
    """The UnsupportedMethod error for `resource`: its ``allowedMethods``, else computed."""
    try:
        allowed = resource.allowedMethods
    except AttributeError:
        allowed = _computeAllowedMethods(resource)
    return UnsupportedMethod(allowed)


class Resource:
    """A node of the resource tree (Twisted's resource.Resource).

    Why: subclasses define ``render_GET`` etc. and attach children with putChild; the
    server walks the tree with the request path and calls render on the node it reaches.
    """

    isLeaf = False
    server: Any = None
    allowedMethods: Sequence[bytes]
    getEncoder: Any = None
    """Overridden by EncodingResourceWrapper; None here makes the server's check cheap."""

    def __init__(self) -> None:
        self.children: dict[bytes, Any] = {}

    def listStaticNames(self) -> list[bytes]:
        """Return the names of the static children."""
        return list(self.children.keys())

    def listStaticEntities(self) -> list[tuple[bytes, Any]]:
        """Return ``(name, child)`` for the static children."""
        return list(self.children.items())

    def listNames(self) -> list[bytes]:
        """Return the names of all children known without a request."""
        return self.listStaticNames()

    def listEntities(self) -> list[tuple[bytes, Any]]:
        """Return ``(name, child)`` for all children known without a request."""
        return self.listStaticEntities()

    def getStaticEntity(self, name: bytes) -> Any:
        """Return the static child `name` (KeyError if absent)."""
        return self.children[name]

    def getDynamicEntity(self, name: bytes, request: Any) -> Any:
        """Return the dynamic child `name`, or None."""
        if name not in self.children:
            return self.getChild(name, request)
        return None

    def delEntity(self, name: bytes) -> None:
        """Remove the static child `name`."""
        del self.children[name]

    def reallyPutEntity(self, name: bytes, entity: Any) -> None:
        """Store `entity` as static child `name`."""
        self.children[name] = entity

    def getChild(self, path: bytes, request: Any) -> Any:
        """Return a dynamic child for segment `path`; by default a 404 resource."""
        return NoResource()

    def getChildWithDefault(self, path: bytes, request: Any) -> Any:
        """Return the static child `path` if there is one, else ``getChild``."""
        children = self.children
        if path in children:
            return children[path]
        return self.getChild(path, request)

    def getChildForRequest(self, request: Any) -> Any:
        """Walk the rest of the request's path from this resource."""
        return getChildForRequest(self, request)

    def putChild(self, path: bytes, child: Any) -> None:
        """Attach `child` under the path segment `path` (bytes; TypeError otherwise)."""
        if not isinstance(path, bytes):
            raise TypeError("Path segment must be bytes, but %r is %s" % (path, type(path)))
        self.children[path] = child
        child.server = self.server

    def render(self, request: Request) -> Any:
        """Dispatch to ``render_<METHOD>``; raise UnsupportedMethod when there is none."""
        method = request.method
        m = getattr(self, _RENDER_NAMES.get(method) or _renderName(method), None)
        if m is None:
            raise _unsupported(self)
        return m(request)

    def render_HEAD(self, request: Request) -> Any:
        """Answer HEAD like GET; the server drops the body (RFC 9110 §9.3.2)."""
        render_get = getattr(self, "render_GET", None)
        if render_get is None:
            raise _unsupported(self)
        return render_get(request)


def getChildForRequest(resource: Any, request: Any) -> Any:
    """Traverse `resource`'s tree along ``request.postpath``, moving segments to prepath."""
    postpath = request.postpath
    if postpath and not resource.isLeaf:
        prepath = request.prepath
        while postpath and not resource.isLeaf:
            pathElement = postpath.pop(0)
            prepath.append(pathElement)
            resource = resource.getChildWithDefault(pathElement, request)
    return resource


class ErrorPage(Resource):
    """A resource that renders an HTML error page with a status code.

    Why: one place builds error bodies; `brief` and `detail` are escaped, so a path or
    message echoed into the page cannot inject markup.
    """

    template = """
<html>
  <head><title>%(code)s - %(brief)s</title></head>
  <body>
    <h1>%(brief)s</h1>
    <p>%(detail)s</p>
  </body>
</html>
"""

    def __init__(self, status: int, brief: str, detail: str) -> None:
        super().__init__()
        self.code = status
        self.brief = brief
        self.detail = detail

    def render(self, request: Request) -> bytes:
        request.setResponseCode(self.code)
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        interpolated = self.template % {
            "code": self.code,
            "brief": html.escape(str(self.brief), quote=False),
            "detail": html.escape(str(self.detail), quote=False),
        }
        return interpolated.encode("utf-8")

    def getChild(self, chnam: bytes, request: Any) -> Any:
        return self


class NoResource(ErrorPage):
    """404 Not Found."""

    def __init__(self, message: str = "Sorry. No luck finding that resource.") -> None:
        super().__init__(404, "No Such Resource", message)


class ForbiddenResource(ErrorPage):
    """403 Forbidden."""

    def __init__(self, message: str = "Sorry, resource is forbidden.") -> None:
        super().__init__(403, "Forbidden Resource", message)


class EncodingResourceWrapper(Resource):
    """Wrap a resource so its responses may be content-encoded (e.g. gzip).

    Why: the server asks ``getEncoder(request)`` after traversal; the first encoder
    factory that accepts the request encodes the whole response body.
    """

    def __init__(self, original: Any, encoders: Sequence[Any]) -> None:
        super().__init__()
        self._original = original
        self._encoders = encoders

    def getChildWithDefault(self, path: bytes, request: Any) -> Any:
        return self._original.getChildWithDefault(path, request)

    def getChild(self, path: bytes, request: Any) -> Any:
        return self._original.getChild(path, request)

    def putChild(self, path: bytes, child: Any) -> None:
        self._original.putChild(path, child)

    @property
    def isLeaf(self) -> bool:  # type: ignore[override]
        return bool(self._original.isLeaf)

    def render(self, request: Request) -> Any:
        return self._original.render(request)

    def getEncoder(self, request: Any) -> Any:
        """Return an encoder for this request, or None if no factory applies."""
        for encoderFactory in self._encoders:
            encoder = encoderFactory.encoderForRequest(request)
            if encoder is not None:
                return encoder
        return None
