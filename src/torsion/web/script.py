"""Resources written as Python files: .rpy scripts, .epy pages, directories of scripts.

Theory of operation: a .rpy file (`ResourceScript`) is Python that sets the global
``resource`` to the resource to serve; it runs with ``__file__``, ``registry``,
``cache`` and ``recache`` predefined. As in Twisted it runs again on every request, in
a fresh namespace, so module-level code sees no state from earlier requests; only its
compiled code is reused (kept in the registry while the file's mtime, size and inode
are unchanged). A script that calls ``cache()`` asks for its resource to be kept: on
later requests ``cache()`` stops the script and the kept resource is served, until the
file changes on disk (Twisted keeps it until restart). ``recache()`` replaces it.

Wire it into static.File with ``File.processors = {".rpy": script.ResourceScript}``;
the script runs while the File finds its child, so an error in it (syntax error,
exception, ``resource`` set to something that is not a resource, ``sys.exit``) reaches
the server's processingFailed: the client gets 500 (the traceback only with
``site.displayTracebacks``), the failure is logged, and the reactor carries on.

A .epy file (`PythonScript`) is Python run with ``request`` predefined that writes the
response itself with ``request.write``. `ResourceScriptDirectory` serves every file of a
directory as a .rpy script and its subdirectories as more such directories.
"""

from __future__ import annotations

import builtins
import os
from typing import Any

from torsion.logger import Logger
from torsion.python.failure import Failure
from torsion.web import http, resource, server, static

__all__ = [
    "AlreadyCached",
    "CacheScanner",
    "PythonScript",
    "ResourceScript",
    "ResourceScriptDirectory",
    "ResourceScriptWrapper",
    "noRsrc",
]

_log = Logger()

rpyNoResource = (
    'You forgot to assign to the variable "resource" in your script. For example: '
    "import mygreatresource; resource = mygreatresource.MyGreatResource()"
)

noRsrc = resource.ErrorPage(500, "Whoops! Internal Error", rpyNoResource)
"""What a .rpy script that never sets ``resource`` serves."""


class AlreadyCached(Exception):
    """Raised by ``cache()`` inside a script whose resource is already cached."""


class CacheScanner:
    """The ``cache``/``recache`` functions a .rpy script is given."""

    def __init__(self, path: str, registry: Any) -> None:
        self.path = path
        self.registry = registry
        self.doCache = False

    def cache(self) -> None:
        """Stop the script with the cached resource if there is one, else cache this run's."""
        cached = self.registry.getCachedPath(self.path)
        if cached is not None:
            raise AlreadyCached(cached)
        self.recache()

    def recache(self) -> None:
        """Cache the resource this run of the script sets."""
        self.doCache = True


class _CodeCache:
    """Compiled scripts of one registry, by path, with the file signature they came from."""

    maxEntries = 512

    def __init__(self) -> None:
        self.entries: dict[str, tuple[tuple[int, int, int], Any]] = {}

    def get(self, path: str) -> Any:
        """Return the code of the file at `path`, compiling it if new or changed."""
        with open(path, "rb") as f:
            st = os.fstat(f.fileno())
            signature = (st.st_mtime_ns, st.st_size, st.st_ino)
            entry = self.entries.get(path)
            if entry is not None and entry[0] == signature:
                return entry[1]
            source = f.read()
        code = compile(source, path, "exec", dont_inherit=True)
        if len(self.entries) >= self.maxEntries:
            self.entries.pop(next(iter(self.entries)))
        self.entries[path] = (signature, code)
        return code


def _compiled(path: str, registry: Any) -> Any:
    getComponent = getattr(registry, "getComponent", None)
    if getComponent is None:
        return _CodeCache().get(path)
    codeCache = getComponent(_CodeCache)
    if codeCache is None:
        codeCache = _CodeCache()
        registry.setComponent(_CodeCache, codeCache)
    return codeCache.get(path)


def _execute(path: str, registry: Any, namespace: dict[str, Any]) -> None:
    """Run the script at `path` in `namespace`; sys.exit in a script is an error, not an exit."""
    code = _compiled(path, registry)
    try:
        exec(code, namespace)
    except SystemExit as e:
        raise RuntimeError("script %s called sys.exit(%r)" % (path, e.code)) from e


def _isResource(obj: object) -> bool:
    return all(hasattr(obj, name) for name in ("render", "getChildWithDefault", "isLeaf"))


def ResourceScript(path: str, registry: Any) -> Any:
    """Run the .rpy file at `path` and return the resource it sets (see the module docstring)."""
    if registry is None:
        registry = static.Registry()
    scanner = CacheScanner(path, registry)
    namespace: dict[str, Any] = {
        "__builtins__": builtins,
        "__name__": "__torsion_rpy__",
        "__file__": path,
        "resource": noRsrc,
        "registry": registry,
        "cache": scanner.cache,
        "recache": scanner.recache,
    }
    try:
        _execute(path, registry, namespace)
    except AlreadyCached as e:
        return e.args[0]
    rsrc = namespace["resource"]
    if not _isResource(rsrc):
        raise TypeError(
            "%s set resource to %r, which is not a resource (no render/getChildWithDefault)"
            % (path, rsrc)
        )
    if scanner.doCache and rsrc is not noRsrc:
        registry.cachePath(path, rsrc)
    return rsrc


class ResourceScriptWrapper(resource.Resource):
    """A resource that runs a .rpy script each time it renders or finds a child."""

    def __init__(self, path: str, registry: Any = None) -> None:
        super().__init__()
        self.path = path
        self.registry = registry if registry is not None else static.Registry()

    def render(self, request: Any) -> Any:
        return ResourceScript(self.path, self.registry).render(request)

    def getChildWithDefault(self, path: bytes, request: Any) -> Any:
        return ResourceScript(self.path, self.registry).getChildWithDefault(path, request)


class ResourceScriptDirectory(resource.Resource):
    """Serve each file of a directory as a .rpy script, each subdirectory likewise.

    Segments that could leave the directory (``..``, ``/``, NUL, ...) get 404.
    """

    def __init__(self, pathname: str | bytes, registry: Any = None) -> None:
        super().__init__()
        self.path = os.fsdecode(pathname)
        self.registry = registry if registry is not None else static.Registry()

    def getChild(self, path: bytes, request: Any) -> Any:
        if not path or static.isDangerous(path):
            return resource.NoResource()
        fn = os.path.join(self.path, os.fsdecode(path))
        if os.path.isdir(fn):
            return ResourceScriptDirectory(fn, self.registry)
        if os.path.isfile(fn):
            return ResourceScript(fn, self.registry)
        return resource.NoResource()

    def render(self, request: Any) -> bytes:
        return resource.NoResource().render(request)


class PythonScript(resource.Resource):
    """A .epy page: Python run per request with ``request`` defined, writing the response.

    The script writes with ``request.write``; the request is finished after it (unless
    the script finished it). An exception gives 500 through processingFailed (logged;
    traceback shown only with ``site.displayTracebacks``), or closes the connection if
    the script had started writing.
    """

    isLeaf = True

    def __init__(self, filename: str, registry: Any = None) -> None:
        super().__init__()
        self.filename = filename
        self.registry = registry if registry is not None else static.Registry()

    def render(self, request: Any) -> int:
        namespace: dict[str, Any] = {
            "__builtins__": builtins,
            "__name__": "__torsion_epy__",
            "__file__": self.filename,
            "request": request,
            "registry": self.registry,
        }
        try:
            _execute(self.filename, self.registry, namespace)
        except FileNotFoundError:
            request.setResponseCode(http.NOT_FOUND)
            request.write(resource.NoResource("File not found.").render(request))
        except Exception:
            failed = getattr(request, "processingFailed", None)
            if failed is None:
                raise
            failed(Failure())
            return server.NOT_DONE_YET
        if not request.finished and not getattr(request, "_disconnected", False):
            request.finish()
        return server.NOT_DONE_YET
