"""Static content: in-memory Data and on-disk File trees, with ranges and caching.

Theory of operation: a `File` wraps one filesystem path. Traversal calls
``getChild(segment)``, which accepts only a single plain name (no ``/``, ``\\``, NUL,
``.`` or ``..``, after percent-decoding) and then checks that the child's *real* path
(symlinks resolved) is still inside the real path of the root File, so neither
``../``, ``%2e%2e``, encoded slashes nor a symlink pointing out can leave the root.
Rendering a file answers conditional requests (ETag/If-None-Match, Last-Modified/
If-Modified-Since → 304, RFC 9110 §13), byte ranges (206, multipart/byteranges for
several, 416 when unsatisfiable, RFC 9110 §14), and streams large bodies through a push
producer so the transport's buffer paces the disk reads. Directories redirect to a
trailing slash, then serve an index file or a `DirectoryLister` page (escaped, sorted).
"""

from __future__ import annotations

import errno
import html
import mimetypes
import os
import stat
import time
from collections.abc import Callable, Sequence
from typing import IO, Any
from urllib.parse import quote

from torsion.logger import Logger
from torsion.web import http, resource, server
from torsion.web.util import redirectTo

__all__ = [
    "Data",
    "File",
    "DirectoryLister",
    "NoRangeStaticProducer",
    "SingleRangeStaticProducer",
    "MultipleRangeStaticProducer",
    "loadMimeTypes",
    "getTypeAndEncoding",
    "isDangerous",
    "Registry",
]

_log = Logger()

dangerousPathError = resource.NoResource("Invalid request URL.")


def isDangerous(path: bytes | str) -> bool:
    """Return whether a path segment could climb out of, or cross, directories."""
    if isinstance(path, str):
        path = path.encode("utf-8", "surrogateescape")
    return (
        path in (b"..", b".")
        or b"/" in path
        or b"\\" in path
        or b"\x00" in path
    )


class Registry:
    """State shared by the Files of one tree and the scripts they run (Twisted's Registry).

    Why: a processor such as script.ResourceScript gets the File's registry; .rpy scripts
    keep resources here (``cache()``) and may share objects through the components. A
    cached resource is dropped once its file changes on disk (mtime, size or inode), so
    editing a script takes effect without a restart.
    """

    def __init__(self) -> None:
        self._pathCache: dict[str, tuple[tuple[int, int, int], Any]] = {}
        self._components: dict[Any, Any] = {}

    @staticmethod
    def _signature(path: str) -> tuple[int, int, int] | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def cachePath(self, path: str, rsrc: Any) -> None:
        """Keep `rsrc` as the resource of the file at `path` while the file is unchanged."""
        signature = self._signature(path)
        if signature is not None:
            self._pathCache[path] = (signature, rsrc)

    def getCachedPath(self, path: str) -> Any:
        """Return the resource cached for `path`, or None (also once the file changed)."""
        entry = self._pathCache.get(path)
        if entry is None:
            return None
        if entry[0] != self._signature(path):
            del self._pathCache[path]
            return None
        return entry[1]

    def getComponent(self, interface: Any, default: Any = None) -> Any:
        """Return the component stored for `interface`, or `default`."""
        return self._components.get(interface, default)

    def setComponent(self, interface: Any, component: Any) -> None:
        """Store `component` for `interface`."""
        self._components[interface] = component

    def removeComponent(self, interface: Any) -> None:
        """Forget the component for `interface` (if any)."""
        self._components.pop(interface, None)


class Data(resource.Resource):
    """A resource that serves a fixed byte string with a fixed content type."""

    def __init__(self, data: bytes, type: bytes | str) -> None:
        super().__init__()
        self.data = data
        self.type = type.encode("ascii") if isinstance(type, str) else type

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"content-type", self.type)
        return self.data

    render_HEAD = render_GET


def loadMimeTypes(mimetype_locations: Sequence[str] | None = None) -> dict[str, str]:
    """Return a map of file extensions to content types (mimetypes plus a few additions)."""
    db = mimetypes.MimeTypes()
    if mimetype_locations:
        for location in mimetype_locations:
            if os.path.exists(location):
                db.read(location)
    contentTypes = dict(db.types_map[True])
    contentTypes.update(
        {
            ".conf": "text/plain",
            ".diff": "text/plain",
            ".flac": "audio/x-flac",
            ".java": "text/plain",
            ".js": "text/javascript",
            ".json": "application/json",
            ".mjs": "text/javascript",
            ".md": "text/markdown",
            ".oz": "text/x-oz",
            ".py": "text/plain",
            ".rst": "text/x-rst",
            ".svg": "image/svg+xml",
            ".wasm": "application/wasm",
            ".webp": "image/webp",
            ".woff": "font/woff",
            ".woff2": "font/woff2",
            ".txt": "text/plain",
            ".log": "text/plain",
            ".pem": "application/x-pem-file",
        }
    )
    return contentTypes


def getTypeAndEncoding(
    filename: str,
    types: dict[str, str],
    encodings: dict[str, str],
    defaultType: str,
) -> tuple[str | None, str | None]:
    """Return ``(content type, content encoding)`` for `filename` from its extensions."""
    p, ext = os.path.splitext(filename)
    ext = ext.lower()
    enc = None
    if ext in encodings:
        enc = encodings[ext]
        ext = os.path.splitext(p)[1].lower()
    return types.get(ext, defaultType), enc


def formatFileSize(size: int) -> str:
    """Return a human-readable size: ``123B``, ``4K``, ``1M``, ``2G``."""
    if size < 1024:
        return "%iB" % size
    if size < 1024**2:
        return "%iK" % (size / 1024)
    if size < 1024**3:
        return "%iM" % (size / 1024**2)
    return "%iG" % (size / 1024**3)


class DirectoryLister(resource.Resource):
    """An HTML listing of a directory: sorted, every name escaped and URL-quoted."""

    template = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>%(header)s</title>
<style>
.even-dir { background-color: #efe0ef } .even { background-color: #eee }
.odd-dir { background-color: #f0d0ef } .odd { background-color: #dedede }
.icon { text-align: center } .listing { margin-left: auto; margin-right: auto;
width: 50%%; padding: 0.1em; }
body { border: 0; padding: 0; margin: 0; background-color: #efefef; }
h1 { padding: 0.1em; background-color: #777; color: white; border-bottom: thin white dashed; }
</style>
</head>
<body>
<h1>%(header)s</h1>
<table id="listing">
<thead><tr><th>Filename</th><th>Size</th><th>Content type</th><th>Content encoding</th></tr></thead>
<tbody>
%(tableContent)s
</tbody>
</table>
</body>
</html>
"""

    linePattern = """<tr class="%(class)s">
    <td><a href="%(href)s">%(text)s</a></td>
    <td>%(size)s</td>
    <td>%(type)s</td>
    <td>%(encoding)s</td>
</tr>
"""

    def __init__(
        self,
        pathname: str,
        dirs: list[str] | None = None,
        contentTypes: dict[str, str] | None = None,
        contentEncodings: dict[str, str] | None = None,
        defaultType: str = "text/html",
    ) -> None:
        super().__init__()
        self.contentTypes = contentTypes if contentTypes is not None else File.contentTypes
        self.contentEncodings = (
            contentEncodings if contentEncodings is not None else File.contentEncodings
        )
        self.defaultType = defaultType
        self.dirs = dirs
        self.path = pathname

    def _getFilesAndDirectories(
        self, directory: list[str]
    ) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
        files = []
        dirs = []
        for path in directory:
            # Names that are not UTF-8 come back from listdir with surrogate escapes:
            # link to their raw bytes, show them with replacement characters.
            raw = path.encode("utf-8", "surrogateescape")
            url = quote(raw, safe="")
            escapedPath = html.escape(raw.decode("utf-8", "replace"))
            childPath = os.path.join(self.path, path)
            if os.path.isdir(childPath):
                dirs.append({"text": escapedPath + "/", "href": url + "/", "size": "",
                             "type": "[Directory]", "encoding": ""})
            else:
                mimetype, encoding = getTypeAndEncoding(
                    path, self.contentTypes, self.contentEncodings, self.defaultType
                )
                try:
                    size = os.stat(childPath).st_size
                except OSError:
                    continue
                files.append({
                    "text": escapedPath, "href": url, "size": formatFileSize(size),
                    "type": "[%s]" % html.escape(mimetype or ""),
                    "encoding": "[%s]" % html.escape(encoding) if encoding else "",
                })
        return dirs, files

    def _buildTableContent(self, elements: list[dict[str, str]]) -> list[str]:
        tableContent = []
        rowClasses = ["odd", "even"]
        for index, element in enumerate(elements):
            element = dict(element)
            element["class"] = rowClasses[index % 2]
            tableContent.append(self.linePattern % element)
        return tableContent

    def render(self, request: Any) -> bytes:
        """Render the listing (GET and HEAD alike)."""
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        if self.dirs is None:
            directory = sorted(os.listdir(self.path))
        else:
            directory = sorted(self.dirs)
        dirs, files = self._getFilesAndDirectories(directory)
        tableContent = "".join(self._buildTableContent(dirs + files))
        requestPath = request.path.decode("utf-8", "replace")
        from urllib.parse import unquote

        header = "Directory listing for %s" % (html.escape(unquote(requestPath)),)
        return (self.template % {"header": header, "tableContent": tableContent}).encode(
            "utf-8"
        )

    def __repr__(self) -> str:
        return "<DirectoryLister of %r>" % (self.path,)


def _parseRanges(value: bytes, size: int) -> list[tuple[int, int]] | None:
    """Parse a Range header into inclusive ``(start, end)`` pairs clipped to `size`.

    RFC 9110 §14.1.2: returns None when the header is not a valid bytes range set (the
    server then ignores it); returns [] when valid but nothing is satisfiable (416).
    """
    unit, sep, spec = value.partition(b"=")
    if not sep or unit.strip().lower() != b"bytes":
        return None
    ranges = []
    for part in spec.split(b","):
        part = part.strip()
        if not part:
            continue
        first, dash, last = part.partition(b"-")
        first, last = first.strip(), last.strip()
        if not dash or (first and not first.isdigit()) or (last and not last.isdigit()):
            return None
        if not first:
            if not last:
                return None
            suffix = int(last)
            if suffix == 0:
                continue
            ranges.append((max(size - suffix, 0), size - 1))
            continue
        start = int(first)
        end = int(last) if last else size - 1
        if end < start:
            return None
        if start >= size:
            continue
        ranges.append((start, min(end, size - 1)))
    if len(ranges) > 64 or sum(end - start + 1 for start, end in ranges) > size:
        # RFC 9110 §14.2: many or overlapping ranges can multiply the response; a server
        # may ignore such a Range and send the whole representation instead.
        return None
    return ranges


class _StaticProducer:
    """Base of the file producers: push chunks while the transport wants more."""

    bufferSize = 64 * 1024

    def __init__(self, request: Any, fileObject: IO[bytes]) -> None:
        self.request: Any = request
        self.fileObject: IO[bytes] | None = fileObject
        self._paused = False
        self._producing = False

    def start(self) -> None:
        """Register with the request and begin sending."""
        self.request.registerProducer(self, True)
        if not self._paused:
            self.resumeProducing()

    def pauseProducing(self) -> None:
        self._paused = True

    def resumeProducing(self) -> None:
        self._paused = False
        if self._producing:
            return  # re-entered from inside write(): the loop below carries on
        self._producing = True
        try:
            while not self._paused and self.request is not None:
                if not self._produceOne():
                    break
        finally:
            self._producing = False

    def _produceOne(self) -> bool:
        raise NotImplementedError

    def stopProducing(self) -> None:
        """Close the file; the client went away."""
        if self.fileObject is not None:
            self.fileObject.close()
            self.fileObject = None
        self.request = None

    def _finish(self) -> None:
        request = self.request
        self.stopProducing()
        if request is not None:
            request.unregisterProducer()
            if not request._disconnected:
                request.finish()


class NoRangeStaticProducer(_StaticProducer):
    """Send a whole file."""

    def _produceOne(self) -> bool:
        assert self.fileObject is not None
        data = self.fileObject.read(self.bufferSize)
        if not data:
            self._finish()
            return False
        self.request.write(data)
        return True


class SingleRangeStaticProducer(_StaticProducer):
    """Send one byte range of a file."""

    def __init__(self, request: Any, fileObject: IO[bytes], offset: int, size: int) -> None:
        super().__init__(request, fileObject)
        self.offset = offset
        self.size = size
        self.bytesWritten = 0

    def start(self) -> None:
        assert self.fileObject is not None
        self.fileObject.seek(self.offset)
        super().start()

    def _produceOne(self) -> bool:
        assert self.fileObject is not None
        left = self.size - self.bytesWritten
        data = self.fileObject.read(min(self.bufferSize, left)) if left > 0 else b""
        if not data:
            self._finish()
            return False
        self.bytesWritten += len(data)
        self.request.write(data)
        return True


class MultipleRangeStaticProducer(_StaticProducer):
    """Send several byte ranges of a file, each preceded by its part header."""

    def __init__(
        self, request: Any, fileObject: IO[bytes], rangeInfo: list[tuple[bytes, int, int]]
    ) -> None:
        super().__init__(request, fileObject)
        self.rangeInfo = list(rangeInfo)
        self._current: tuple[int, int] | None = None

    def _produceOne(self) -> bool:
        assert self.fileObject is not None
        if self._current is None:
            if not self.rangeInfo:
                self._finish()
                return False
            partBoundary, offset, size = self.rangeInfo.pop(0)
            self.fileObject.seek(offset)
            self._current = (size, 0)
            self.request.write(partBoundary)
            return True
        size, written = self._current
        data = self.fileObject.read(min(self.bufferSize, size - written))
        written += len(data)
        self._current = None if (written >= size or not data) else (size, written)
        if data:
            self.request.write(data)
        return True


def _openRegular(path: str) -> IO[bytes]:
    """Open `path` for reading without ever blocking.

    Why: opening a FIFO for reading blocks until a writer appears (and a device may
    block or never end), which would stall the reactor. O_NONBLOCK makes the open
    return at once whatever the file is; the caller then serves only regular files
    (checked with fstat on the opened descriptor, so a file swapped in between a check
    and the open cannot slip through). Reads of a regular file ignore O_NONBLOCK.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    return os.fdopen(fd, "rb")


class File(resource.Resource):
    """Serve a file or a directory tree from disk (Twisted's static.File).

    Why: the workhorse of ``torsion web --path``; safe by construction (see the module
    docstring), cache-friendly and range-capable.
    """

    contentTypes: dict[str, str] = loadMimeTypes()
    contentEncodings: dict[str, str] = {".gz": "gzip", ".bz2": "bzip2"}
    indexNames: list[str] = ["index", "index.html", "index.htm"]
    childNotFound: resource.Resource = resource.NoResource("File not found.")
    forbidden: resource.Resource = resource.ForbiddenResource()
    smallFileSize = 64 * 1024
    """Files up to this size are read and sent in one write; larger ones are streamed."""
    processors: dict[str, Callable[[str, Any], Any]] = {}
    """Extension (with its dot) → ``processor(path, registry)`` returning the resource
    that serves such files instead of their bytes, e.g. ``{".rpy": script.ResourceScript}``.
    Extensions match case-insensitively, so ``X.RPY`` can never be served as source.
    Assign a new dict (on the class or an instance); children share their parent's."""

    def __init__(
        self,
        path: str | bytes,
        defaultType: str = "text/html",
        ignoredExts: Sequence[str] = (),
        registry: Any = None,
        allowExt: int = 0,
    ) -> None:
        super().__init__()
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        self.path = os.path.abspath(path)
        self.defaultType = defaultType
        self.ignoredExts = list(ignoredExts)
        self.registry = registry if registry is not None else Registry()
        self.type: str | None = None
        self.encoding: str | None = None
        self._root = os.path.realpath(self.path)

    def __repr__(self) -> str:
        return "<%s %r>" % (type(self).__name__, self.path)

    # -- filesystem helpers ---------------------------------------------------------------

    def exists(self) -> bool:
        return os.path.exists(self.path)

    def isdir(self) -> bool:
        return os.path.isdir(self.path)

    def basename(self) -> str:
        return os.path.basename(self.path)

    def listNames(self) -> list[str]:  # type: ignore[override]
        if not self.isdir():
            return []
        return sorted(os.listdir(self.path))

    def ignoreExt(self, ext: str) -> None:
        """Let ``foo`` find ``foo.ext`` when there is no exact match (``"*"``: any
        extension, the first such name in sorted order)."""
        self.ignoredExts.append(ext)

    def _inRoot(self, path: str) -> bool:
        """Return whether `path`, symlinks resolved, stays inside the root."""
        real = os.path.realpath(path)
        root = self._root
        return real == root or real.startswith(root.rstrip(os.sep) + os.sep)

    def createSimilarFile(self, path: str) -> File:
        """Return a File for `path` sharing this one's settings and root."""
        f = self.__class__(path, self.defaultType, self.ignoredExts, self.registry)
        f.processors = self.processors
        f.indexNames = self.indexNames[:]
        f.childNotFound = self.childNotFound
        f.forbidden = self.forbidden
        f.contentTypes = self.contentTypes
        f.contentEncodings = self.contentEncodings
        f._root = self._root
        return f

    def directoryListing(self) -> DirectoryLister:
        """Return the listing resource for this directory."""
        return DirectoryLister(self.path, self.listNames(), self.contentTypes,
                               self.contentEncodings, self.defaultType)

    # -- traversal ----------------------------------------------------------------------

    def getChild(self, path: bytes, request: Any) -> Any:
        """Return the child for one path segment, never leaving the root."""
        if not self.isdir():
            return self.childNotFound
        if path == b"":
            for name in self._indexCandidates():
                candidate = os.path.join(self.path, name)
                if os.path.isfile(candidate) and self._inRoot(candidate):
                    return self._childFor(candidate)
            return self.directoryListing()
        if isDangerous(path):
            return dangerousPathError
        name = os.fsdecode(path)  # surrogate escapes keep non-UTF-8 names reachable
        candidate = os.path.join(self.path, name)
        if not os.path.exists(candidate):
            for ext in self.ignoredExts:
                found = self._withAnyExtension(name) if ext == "*" else candidate + ext
                if found is not None and os.path.exists(found):
                    candidate = found
                    break
            else:
                return self.childNotFound
        if not self._inRoot(candidate):
            return self.forbidden
        return self._childFor(candidate)

    def _withAnyExtension(self, name: str) -> str | None:
        """The first (by name) ``name.<ext>`` in this directory: ``ignoreExt("*")``."""
        prefix = name + "."
        try:
            names = sorted(n for n in os.listdir(self.path) if n.startswith(prefix))
        except OSError:
            return None
        return os.path.join(self.path, names[0]) if names else None

    def _indexCandidates(self) -> list[str]:
        """indexNames, then ``index<ext>`` for each processor (Twisted lists index.rpy).

        Why only with a processor: without one, an index.rpy would be served as source.
        """
        names = list(self.indexNames)
        for ext in self.processors:
            name = "index" + ext
            if name not in names:
                names.append(name)
        return names

    def _childFor(self, path: str) -> Any:
        """The resource for an existing child: its processor's, else a File."""
        if self.processors and os.path.isfile(path):
            ext = os.path.splitext(path)[1].lower()
            for known, processor in self.processors.items():
                if known.lower() == ext:
                    return processor(path, self.registry)
        return self.createSimilarFile(path)

    # -- rendering ------------------------------------------------------------------------

    def render_GET(self, request: Any) -> Any:
        """Serve this file (or redirect/list/index for a directory)."""
        if not self.exists():
            return self.childNotFound.render(request)
        if not self._inRoot(self.path):
            return self.forbidden.render(request)
        if self.isdir():
            if not request.path.endswith(b"/"):
                return redirectTo(_addSlash(request), request)
            return self.getChild(b"", request).render(request)
        try:
            fileForReading = _openRegular(self.path)
        except OSError as e:
            if e.errno == errno.EACCES:
                return self.forbidden.render(request)
            raise
        try:
            st = os.fstat(fileForReading.fileno())
        except OSError:
            fileForReading.close()
            raise
        if not stat.S_ISREG(st.st_mode):
            fileForReading.close()
            return self.forbidden.render(request)
        size = st.st_size
        ctype, encoding = getTypeAndEncoding(
            self.basename(), self.contentTypes, self.contentEncodings, self.defaultType
        )
        self.type, self.encoding = ctype, encoding
        etag = b'W/"%x-%x"' % (size, st.st_mtime_ns)
        request.setHeader(b"accept-ranges", b"bytes")
        if request.setETag(etag) is http.CACHED or (
            request.setLastModified(st.st_mtime) is http.CACHED
        ):
            fileForReading.close()
            return b""
        if ctype:
            # The bare type, as Twisted sends: the file's charset is unknown, and a
            # guessed one would mislabel a file that is not UTF-8.
            request.setHeader(b"content-type", ctype.encode("ascii"))
        if encoding:
            request.setHeader(b"content-encoding", encoding.encode("ascii"))
        rangeHeader = request.requestHeaders._getOne(b"range")
        ranges = None
        if rangeHeader is not None and self._ifRangeAllows(request, etag, st.st_mtime):
            ranges = _parseRanges(rangeHeader, size)
        if ranges is not None and not ranges:
            fileForReading.close()
            request.setResponseCode(http.REQUESTED_RANGE_NOT_SATISFIABLE)
            request.setHeader(b"content-range", b"bytes */%d" % (size,))
            request.setHeader(b"content-type", b"text/plain")
            return b""
        if ranges is not None and len(ranges) == 1:
            start, end = ranges[0]
            request.setResponseCode(http.PARTIAL_CONTENT)
            request.setHeader(b"content-range", b"bytes %d-%d/%d" % (start, end, size))
            length = end - start + 1
            request.setHeader(b"content-length", b"%d" % (length,))
            if request.method == b"HEAD":
                fileForReading.close()
                return b""
            SingleRangeStaticProducer(request, fileForReading, start, length).start()
            return server.NOT_DONE_YET
        if ranges:
            boundary = b"%x%x" % (int(time.time() * 1000000), os.getpid())
            partType = request.responseHeaders._getOne(b"content-type") or b"bytes"
            rangeInfo = []
            total = 0
            for start, end in ranges:
                partHead = (
                    b"\r\n--" + boundary + b"\r\nContent-Type: " + partType
                    + b"\r\nContent-Range: bytes %d-%d/%d\r\n\r\n" % (start, end, size)
                )
                rangeInfo.append((partHead, start, end - start + 1))
                total += len(partHead) + end - start + 1
            closing = b"\r\n--" + boundary + b"--\r\n"
            total += len(closing)
            request.setResponseCode(http.PARTIAL_CONTENT)
            request.setHeader(b"content-type",
                              b'multipart/byteranges; boundary="' + boundary + b'"')
            request.setHeader(b"content-length", b"%d" % (total,))
            if request.method == b"HEAD":
                fileForReading.close()
                return b""
            rangeInfo.append((closing, 0, 0))
            MultipleRangeStaticProducer(request, fileForReading, rangeInfo).start()
            return server.NOT_DONE_YET
        request.setHeader(b"content-length", b"%d" % (size,))
        if request.method == b"HEAD":
            fileForReading.close()
            return b""
        if size <= self.smallFileSize:
            with fileForReading:
                return fileForReading.read()
        NoRangeStaticProducer(request, fileForReading).start()
        return server.NOT_DONE_YET

    render_HEAD = render_GET

    def _ifRangeAllows(self, request: Any, etag: bytes, mtime: float) -> bool:
        """RFC 9110 §13.1.5: honour Range only if If-Range (when sent) still matches."""
        ifRange = request.requestHeaders._getOne(b"if-range")
        if ifRange is None:
            return True
        if ifRange.startswith(b'"') or ifRange.startswith(b"W/"):
            return False if ifRange.startswith(b"W/") else ifRange == etag
        try:
            return http.stringToDatetime(ifRange) >= int(mtime)
        except ValueError:
            return False


def _addSlash(request: Any) -> bytes:
    """Return the request URL with a slash appended to its path (query kept)."""
    uri: bytes = request.uri
    path, sep, query = uri.partition(b"?")
    return path + b"/" + (b"?" + query if sep else b"")
