"""Tests of static.Data and static.File: types, ranges, caching, listings and the root jail."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from torsion.web import static


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A served directory with a few files, a subdirectory and a secret outside it."""
    www = tmp_path / "www"
    www.mkdir()
    (www / "hello.txt").write_bytes(b"0123456789")
    (www / "page.html").write_bytes(b"<p>hi</p>")
    (www / "sub").mkdir()
    (www / "sub" / "index.html").write_bytes(b"sub index")
    (www / "b<x>&.txt").write_bytes(b"odd")
    (www / "empty").mkdir()
    (tmp_path / "secret.txt").write_bytes(b"TOP SECRET")
    return www


def get(connectSite: Any, parse: Any, root: Path, path: bytes, headers: bytes = b"",
        head: bool = False) -> Any:
    method = b"HEAD" if head else b"GET"
    conn = connectSite(static.File(str(root)))
    out = conn.send(method + b" " + path + b" HTTP/1.1\r\nHost: x\r\n" + headers + b"\r\n")
    return parse(out, head=head)[0]


def test_dataServesBytesWithType(connectSite: Any, parse: Any) -> None:
    """static.Data answers with its bytes and content type."""
    from torsion.web.resource import Resource

    top = Resource()
    top.putChild(b"d", static.Data(b"data!", "text/plain"))
    r = parse(connectSite(top).send(b"GET /d HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
    assert (r.body, r.header(b"content-type")) == (b"data!", b"text/plain")


def test_fileServedWithTypeAndLength(connectSite: Any, parse: Any, root: Path) -> None:
    """A file is served with its size and a type guessed from the extension."""
    r = get(connectSite, parse, root, b"/hello.txt")
    assert (r.code, r.body) == (200, b"0123456789")
    assert r.header(b"content-type") == b"text/plain"
    assert r.header(b"content-length") == b"10"


def test_textFileTypeHasNoCharsetAdded(connectSite: Any, parse: Any, root: Path) -> None:
    """A text/* file goes out with the bare mimetypes type, as Twisted sends (no charset guess)."""
    (root / "latin1.txt").write_bytes("caf\u00e9".encode("latin-1"))
    r = get(connectSite, parse, root, b"/latin1.txt")
    assert r.header(b"content-type") == b"text/plain"


def test_explicitContentTypeWithCharsetIsKept(connectSite: Any, parse: Any, root: Path) -> None:
    """A type given in contentTypes, charset included, is sent exactly as given."""
    f = static.File(str(root))
    f.contentTypes = {**f.contentTypes, ".txt": "text/plain; charset=iso-8859-1"}
    conn = connectSite(f)
    r = parse(conn.send(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
    assert r.header(b"content-type") == b"text/plain; charset=iso-8859-1"


def test_defaultTypeIsSentForUnknownExtension(connectSite: Any, parse: Any, root: Path) -> None:
    """A file whose extension has no known type gets the File's defaultType, unchanged."""
    (root / "blob.unknownext").write_bytes(b"?")
    conn = connectSite(static.File(str(root), defaultType="text/x-mine"))
    r = parse(conn.send(b"GET /blob.unknownext HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
    assert r.header(b"content-type") == b"text/x-mine"


def test_headOnFile(connectSite: Any, parse: Any, root: Path) -> None:
    """HEAD on a file gives its length and no body."""
    r = get(connectSite, parse, root, b"/hello.txt", head=True)
    assert r.header(b"content-length") == b"10" and r.body == b""


def test_singleRange(connectSite: Any, parse: Any, root: Path) -> None:
    """A single byte range gets 206 and Content-Range."""
    r = get(connectSite, parse, root, b"/hello.txt", b"Range: bytes=2-5\r\n")
    assert (r.code, r.body, r.header(b"content-range")) == (206, b"2345", b"bytes 2-5/10")


def test_suffixAndOpenRanges(connectSite: Any, parse: Any, root: Path) -> None:
    """``-3`` means the last three bytes and ``7-`` the rest from 7."""
    assert get(connectSite, parse, root, b"/hello.txt", b"Range: bytes=-3\r\n").body == b"789"
    assert get(connectSite, parse, root, b"/hello.txt", b"Range: bytes=7-\r\n").body == b"789"


def test_multipleRangesAreMultipart(connectSite: Any, parse: Any, root: Path) -> None:
    """Several ranges come back as multipart/byteranges with one part each."""
    r = get(connectSite, parse, root, b"/hello.txt", b"Range: bytes=0-1,8-9\r\n")
    ctype = r.header(b"content-type") or b""
    assert r.code == 206 and ctype.startswith(b"multipart/byteranges; boundary=")
    boundary = ctype.split(b'boundary="')[1].rstrip(b'"')
    assert int(r.header(b"content-length")) == len(r.body)
    parts = r.body.split(b"--" + boundary)
    assert b"Content-Range: bytes 0-1/10\r\n\r\n01" in parts[1]
    assert b"Content-Range: bytes 8-9/10\r\n\r\n89" in parts[2]
    assert parts[-1] == b"--\r\n"


def test_unsatisfiableRangeIs416(connectSite: Any, parse: Any, root: Path) -> None:
    """A range wholly past the end gets 416 with ``Content-Range: bytes */size``."""
    r = get(connectSite, parse, root, b"/hello.txt", b"Range: bytes=50-60\r\n")
    assert (r.code, r.header(b"content-range")) == (416, b"bytes */10")


def test_malformedRangeIsIgnored(connectSite: Any, parse: Any, root: Path) -> None:
    """A syntactically invalid Range header is ignored: the whole file is sent."""
    r = get(connectSite, parse, root, b"/hello.txt", b"Range: bytes=5-2\r\n")
    assert (r.code, r.body) == (200, b"0123456789")


def test_etagIfNoneMatchGives304(connectSite: Any, parse: Any, root: Path) -> None:
    """Sending back the ETag in If-None-Match gets 304 with no body."""
    etag = get(connectSite, parse, root, b"/hello.txt").header(b"etag")
    assert etag
    r = get(connectSite, parse, root, b"/hello.txt", b"If-None-Match: " + etag + b"\r\n",
            head=True)
    assert r.code == 304


def test_ifModifiedSinceGives304(connectSite: Any, parse: Any, root: Path) -> None:
    """A Last-Modified date sent back in If-Modified-Since gets 304."""
    modified = get(connectSite, parse, root, b"/hello.txt").header(b"last-modified")
    assert modified
    r = get(connectSite, parse, root, b"/hello.txt",
            b"If-Modified-Since: " + modified + b"\r\n", head=True)
    assert r.code == 304


def test_directoryRedirectsToSlash(connectSite: Any, parse: Any, root: Path) -> None:
    """A directory without a trailing slash redirects to the slashed URL."""
    r = get(connectSite, parse, root, b"/sub?x=1")
    assert (r.code, r.header(b"location")) == (302, b"/sub/?x=1")


def test_directoryIndexServed(connectSite: Any, parse: Any, root: Path) -> None:
    """A directory with index.html serves it."""
    assert get(connectSite, parse, root, b"/sub/").body == b"sub index"


def test_directoryListingIsSortedAndEscaped(connectSite: Any, parse: Any, root: Path) -> None:
    """The listing names every entry, sorted, with names escaped and links quoted."""
    body = get(connectSite, parse, root, b"/").body.decode()
    assert "b&lt;x&gt;&amp;.txt" in body and "<x>" not in body
    assert 'href="b%3Cx%3E%26.txt"' in body
    names = ["b&lt;x&gt;&amp;.txt", "hello.txt", "page.html"]
    assert [body.index(n) for n in names] == sorted(body.index(n) for n in names)
    assert body.index("empty/") < body.index("hello.txt")


def test_listingTitleEscapesPath(connectSite: Any, parse: Any, root: Path) -> None:
    """The request path shown in the listing title is escaped."""
    (root / "<script>").mkdir()
    body = get(connectSite, parse, root, b"/%3Cscript%3E/").body
    assert b"<script>" not in body and b"&lt;script&gt;" in body


@pytest.mark.parametrize("path", [
    b"/../secret.txt",
    b"/%2e%2e/secret.txt",
    b"/%2E%2E/secret.txt",
    b"/sub/../../secret.txt",
    b"/..%2fsecret.txt",
    b"/sub%2f..%2f..%2fsecret.txt",
    b"/..%5csecret.txt",
    b"/%00secret.txt",
])
def test_traversalNeverLeavesRoot(connectSite: Any, parse: Any, root: Path, path: bytes) -> None:
    """Dot-dot, encoded dots, encoded slashes and backslashes never reach outside the root."""
    r = get(connectSite, parse, root, path)
    assert r.code in (400, 403, 404) and b"TOP SECRET" not in r.body


def test_symlinkOutOfRootIsForbidden(connectSite: Any, parse: Any, root: Path) -> None:
    """A symlink inside the root pointing outside it is refused."""
    os.symlink(root.parent / "secret.txt", root / "link.txt")
    os.symlink(root.parent, root / "linkdir")
    assert get(connectSite, parse, root, b"/link.txt").code == 403
    assert get(connectSite, parse, root, b"/linkdir/secret.txt").code == 403


def test_symlinkInsideRootIsServed(connectSite: Any, parse: Any, root: Path) -> None:
    """A symlink to a file inside the root is followed."""
    os.symlink(root / "hello.txt", root / "alias.txt")
    assert get(connectSite, parse, root, b"/alias.txt").body == b"0123456789"


def test_missingFileIs404(connectSite: Any, parse: Any, root: Path) -> None:
    """A missing file is 404."""
    assert get(connectSite, parse, root, b"/nope.txt").code == 404


def test_largeFileStreamsThroughProducer(connectSite: Any, parse: Any, root: Path) -> None:
    """A file above smallFileSize is sent through a producer registered on the transport."""
    data = os.urandom(300 * 1024)
    (root / "big.bin").write_bytes(data)
    conn = connectSite(static.File(str(root)))
    registered: list[Any] = []
    original = conn.transport.registerProducer

    def spy(producer: Any, streaming: bool) -> None:
        registered.append((producer, streaming))
        original(producer, streaming)

    conn.transport.registerProducer = spy  # type: ignore[method-assign]
    r = parse(conn.send(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
    assert r.body == data
    assert registered and registered[0][1] is True
    assert conn.transport.producer is None


def test_producerPausesWithBackpressure(connectSite: Any, root: Path) -> None:
    """When the transport pauses the producer, reading stops until it resumes."""
    data = b"x" * (512 * 1024)
    (root / "big.bin").write_bytes(data)
    conn = connectSite(static.File(str(root)))
    original = conn.transport.registerProducer

    def pausingRegister(producer: Any, streaming: bool) -> None:
        original(producer, streaming)
        producer.pauseProducing()

    conn.transport.registerProducer = pausingRegister  # type: ignore[method-assign]
    out = conn.send(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    assert len(out) < 1024
    producer = conn.transport.producer
    assert producer is not None
    producer.resumeProducing()
    assert len(conn.take()) > len(data)


def test_ignoredExtension(connectSite: Any, parse: Any, root: Path) -> None:
    """With ignoreExt, /page finds page.html."""
    f = static.File(str(root))
    f.ignoreExt(".html")
    conn = connectSite(f)
    assert parse(conn.send(b"GET /page HTTP/1.1\r\nHost: x\r\n\r\n"))[0].body == b"<p>hi</p>"


def test_ignoreAnyExtension(connectSite: Any, parse: Any, root: Path) -> None:
    """ignoreExt("*") (twistd web's --allow-ignore-ext): /notes finds the first notes.<ext>
    by name; a name with no such file stays 404, and '..' is still refused."""
    (root / "notes.txt").write_bytes(b"text notes")
    (root / "notes.zz").write_bytes(b"zz notes")
    f = static.File(str(root))
    f.ignoreExt("*")
    conn = connectSite(f)
    assert parse(conn.send(b"GET /notes HTTP/1.1\r\nHost: x\r\n\r\n"))[0].body == b"text notes"
    assert parse(conn.send(b"GET /nothing HTTP/1.1\r\nHost: x\r\n\r\n"))[0].code == 404
    assert parse(conn.send(b"GET /.. HTTP/1.1\r\nHost: x\r\n\r\n"))[0].code in (400, 403, 404)


def test_customIndexName(connectSite: Any, parse: Any, root: Path) -> None:
    """indexNames controls which file serves a directory."""
    (root / "empty" / "home.txt").write_bytes(b"home")
    f = static.File(str(root))
    f.indexNames = ["home.txt"]
    r = parse(connectSite(f).send(b"GET /empty/ HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
    assert r.body == b"home"


def test_contentTypesIncludeAdditions() -> None:
    """The type map has the standard types and torsion's additions."""
    types = static.loadMimeTypes()
    assert types[".html"] == "text/html" and types[".wasm"] == "application/wasm"


def test_overlappingRangesServeWholeFile(connectSite: Any, parse: Any, root: Path) -> None:
    """Ranges adding up to more than the file are ignored: 200 with the file once."""
    r = get(connectSite, parse, root, b"/hello.txt", b"Range: bytes=0-,0-,0-\r\n")
    assert (r.code, r.body) == (200, b"0123456789")


def test_nonUtf8NameListedAndServed(connectSite: Any, parse: Any, root: Path) -> None:
    """A file whose name is not UTF-8 is listed (with a quoted link) and can be fetched."""
    with open(os.path.join(os.fsencode(root), b"caf\xe9.txt"), "wb") as f:
        f.write(b"latin")
    listing = get(connectSite, parse, root, b"/")
    assert listing.code == 200 and b'href="caf%E9.txt"' in listing.body
    assert get(connectSite, parse, root, b"/caf%E9.txt").body == b"latin"


@pytest.mark.timeout(10)
def test_fifoIsForbiddenWithoutBlocking(connectSite: Any, parse: Any, root: Path) -> None:
    """A named pipe in the tree is answered 403 at once (opening it normally would block)."""
    os.mkfifo(root / "pipe")
    assert get(connectSite, parse, root, b"/pipe").code == 403


def test_openRegularReadsRegularFilesWhole(root: Path) -> None:
    """_openRegular's non-blocking open still reads a regular file's bytes in full."""
    with static._openRegular(str(root / "hello.txt")) as f:
        assert f.read() == b"0123456789"
