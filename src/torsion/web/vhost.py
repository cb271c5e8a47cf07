"""Virtual hosting: choose a resource tree by the Host header.

Theory of operation: `NameVirtualHost` maps host names (lower-cased, port removed) to
resources and falls back to `default`; an unknown host gets an escaped 404 page.
`VHostMonsterResource` lets a front-end proxy encode the public scheme, host and port in
the path (``/vhost/http/example.com:80/...``), rewriting the request with ``setHost``.
"""

from __future__ import annotations

from typing import Any

from torsion.web import resource

__all__ = ["NameVirtualHost", "VHostMonsterResource", "VirtualHostCollection"]


class NameVirtualHost(resource.Resource):
    """Serve a different resource tree per requested host name."""

    default: Any = None

    def __init__(self) -> None:
        super().__init__()
        self.hosts: dict[bytes, Any] = {}

    def listStaticEntities(self) -> list[tuple[bytes, Any]]:
        return list(self.hosts.items()) + super().listStaticEntities()

    def getStaticEntity(self, name: bytes) -> Any:
        return self.hosts.get(name, super().getStaticEntity(name))

    def addHost(self, name: bytes, resrc: Any) -> None:
        """Serve `resrc` for host `name`."""
        self.hosts[name.lower()] = resrc

    def removeHost(self, name: bytes) -> None:
        """Stop serving host `name`."""
        del self.hosts[name.lower()]

    def _getResourceForRequest(self, request: Any) -> Any:
        host = request.getHeader(b"host")
        if host is None:
            return self.default or resource.NoResource()
        host = host.lower()
        if host.startswith(b"["):
            hostName = host.split(b"]", 1)[0] + b"]"
        else:
            hostName = host.split(b":", 1)[0]
        found = self.hosts.get(hostName)
        if found is not None:
            return found
        if self.default is not None:
            return self.default
        return resource.NoResource(
            "host %s not in vhost map" % (hostName.decode("utf-8", "replace"),)
        )

    def render(self, request: Any) -> Any:
        """Render the resource chosen for the request's host."""
        return self._getResourceForRequest(request).render(request)

    def getChild(self, path: bytes, request: Any) -> Any:
        """Continue traversal inside the chosen host's tree."""
        resrc = self._getResourceForRequest(request)
        if resrc.isLeaf:
            request.postpath.insert(0, request.prepath.pop(-1))
            return resrc
        return resrc.getChildWithDefault(path, request)


class _HostResource(resource.Resource):
    def getChild(self, path: bytes, request: Any) -> Any:
        if b":" in path:
            host, port = path.split(b":", 1)
            try:
                portNumber = int(port)
            except ValueError:
                return resource.NoResource("bad port")
        else:
            host, portNumber = path, 80
        if not host or any(c in host for c in b"/\\\r\n\x00 "):
            return resource.NoResource("bad host")
        request.setHost(host, portNumber, getattr(request, "_vhostSSL", False))
        prefixLen = 3 + request.isSecure() + 4 + len(path) + len(request.prepath[-3])
        request.path = b"/" + b"/".join(request.postpath)
        request.uri = request.uri[prefixLen:] or b"/"
        del request.prepath[:3]
        return request.site.getResourceFor(request)


class VHostMonsterResource(resource.Resource):
    """Rewrite requests that a proxy sent as ``/<this>/<scheme>/<host:port>/<path>``."""

    def getChild(self, path: bytes, request: Any) -> Any:
        if path == b"http":
            request._vhostSSL = False
        elif path == b"https":
            request._vhostSSL = True
        else:
            return resource.NoResource("scheme must be http or https")
        return _HostResource()


class VirtualHostCollection(resource.Resource):
    """A collection of NameVirtualHost-style host resources keyed by name."""

    def __init__(self, nvh: NameVirtualHost) -> None:
        super().__init__()
        self.nvh = nvh

    def listStaticEntities(self) -> list[tuple[bytes, Any]]:
        return list(self.nvh.hosts.items())

    def getStaticEntity(self, name: bytes) -> Any:
        return self.nvh.hosts.get(name)

    def reallyPutEntity(self, name: bytes, entity: Any) -> None:
        self.nvh.addHost(name, entity)

    def delEntity(self, name: bytes) -> None:
        self.nvh.removeHost(name)
