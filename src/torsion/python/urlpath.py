"""URLPath: an immutable URL with path-navigation helpers (Twisted's python.urlpath).

Theory of operation: the URL is split once into scheme, netloc, path, query and
fragment, all kept as bytes; navigation methods (child, sibling, parent, here, click)
return new URLPath objects and never mutate. ``str()`` gives the URL as text.
"""

from __future__ import annotations

from urllib.parse import quote, unquote_to_bytes, urljoin, urlsplit, urlunsplit

__all__ = ["URLPath"]


def _b(value: str | bytes) -> bytes:
    return value if isinstance(value, bytes) else value.encode("utf-8")


class URLPath:
    """An absolute URL that can compute related URLs.

    Why: resources build links relative to the URL they were reached at without
    string surgery.
    """

    def __init__(
        self,
        scheme: bytes = b"",
        netloc: bytes = b"localhost",
        path: bytes = b"",
        query: bytes = b"",
        fragment: bytes = b"",
    ) -> None:
        self.scheme = scheme or b"http"
        self.netloc = netloc
        self.path = path or b"/"
        self.query = query
        self.fragment = fragment

    def pathList(self, unquote: bool = False, copy: bool = True) -> list[bytes]:
        """Return the path split on '/', percent-decoded if `unquote`."""
        segments = self.path.split(b"/")
        if unquote:
            return [unquote_to_bytes(s) for s in segments]
        return list(segments) if copy else segments

    @classmethod
    def fromString(cls, url: str) -> URLPath:
        """Parse a text URL."""
        if not isinstance(url, str):
            raise ValueError("'url' must be a str")
        return cls.fromBytes(url.encode("utf-8"))

    @classmethod
    def fromBytes(cls, url: bytes) -> URLPath:
        """Parse a bytes URL."""
        if not isinstance(url, bytes):
            raise ValueError("'url' must be bytes")
        parts = urlsplit(url)
        return cls(parts.scheme, parts.netloc, parts.path, parts.query, parts.fragment)

    @classmethod
    def fromRequest(cls, request: object) -> URLPath:
        """Return the URL of the resource a request is at (its prePathURL)."""
        prePathURL = getattr(request, "prePathURL")  # noqa: B009
        return cls.fromBytes(prePathURL())

    def _mod(self, newPathsegs: list[bytes], keepQuery: bool) -> URLPath:
        query = self.query if keepQuery else b""
        return URLPath(self.scheme, self.netloc, b"/".join(newPathsegs), query)

    def sibling(self, path: bytes | str, keepQuery: bool = False) -> URLPath:
        """Return the URL of a sibling of this URL's last segment."""
        segments = self.pathList()
        segments[-1] = _quoteSegment(path)
        return self._mod(segments, keepQuery)

    def child(self, path: bytes | str, keepQuery: bool = False) -> URLPath:
        """Return the URL of a child segment below this URL."""
        segments = self.pathList()
        if segments[-1] == b"":
            segments[-1] = _quoteSegment(path)
        else:
            segments.append(_quoteSegment(path))
        return self._mod(segments, keepQuery)

    def parent(self, keepQuery: bool = False) -> URLPath:
        """Return the URL of the parent directory."""
        segments = self.pathList()
        if segments[-1] == b"":
            del segments[-2:]
            segments.append(b"")
        else:
            segments[-2:] = [b""]
        if len(segments) < 2:
            segments = [b"", b""]
        return self._mod(segments, keepQuery)

    def here(self, keepQuery: bool = False) -> URLPath:
        """Return the URL of the current directory."""
        segments = self.pathList()
        if segments[-1] != b"":
            segments[-1] = b""
        return self._mod(segments, keepQuery)

    def click(self, st: bytes | str) -> URLPath:
        """Return the URL a browser would go to on following link `st` from here."""
        return URLPath.fromBytes(urljoin(bytes(self), _b(st)))

    def __bytes__(self) -> bytes:
        return urlunsplit((self.scheme, self.netloc, self.path, self.query, self.fragment))

    def __str__(self) -> str:
        return bytes(self).decode("utf-8", "replace")

    def __repr__(self) -> str:
        return "URLPath(scheme=%r, netloc=%r, path=%r, query=%r, fragment=%r)" % (
            self.scheme, self.netloc, self.path, self.query, self.fragment,
        )

    def __eq__(self, other: object) -> bool:
        if isinstance(other, URLPath):
            return bytes(self) == bytes(other)
        return NotImplemented

    def __hash__(self) -> int:
        return hash(bytes(self))


def _quoteSegment(segment: bytes | str) -> bytes:
    return quote(_b(segment), safe="").encode("ascii")
