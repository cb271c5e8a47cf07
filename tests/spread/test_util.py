"""torsion.spread.util paging: in memory, over TCP on both engines, and from a Twisted server."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pbhelpers import Connection, assertFailure
from twistedpeer import TwistedServer

from torsion.spread import pb, util

MEGABYTE = bytes(range(256)) * 4096


class Pages(pb.Root):
    """Pages a string or a file to the caller's collector."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.pagers: list[util.Pager] = []
        self.done: list[str] = []

    def remote_string(self, collector: Any, size: int, chunkSize: int) -> None:
        self.pagers.append(util.StringPager(collector, MEGABYTE[:size], chunkSize,
                                            self.done.append, "string"))

    def remote_file(self, collector: Any) -> None:
        assert self.path is not None
        self.pagers.append(util.FilePager(collector, open(self.path, "rb"),
                                          self.done.append, "file"))

    def remote_broken(self, collector: Any) -> None:
        raise ValueError("no pages for you")


def test_megabyteStringPagedInMemory() -> None:
    """A 1 MB string arrives whole through getAllPages, in pages of chunkSize."""
    root = Pages()
    c = Connection(root)
    pages = c.wait(util.getAllPages(c.root(), "string", len(MEGABYTE), 8192))
    assert b"".join(pages) == MEGABYTE
    assert len(pages) == 128
    assert root.done == ["string"]


def test_filePagedInMemory(tmp_path: Path) -> None:
    """A file arrives whole, in pages of FilePager.CHUNK_SIZE, the file read as pages go."""
    path = tmp_path / "data"
    path.write_bytes(MEGABYTE + b"tail")
    root = Pages(path)
    c = Connection(root)
    pages = c.wait(util.getAllPages(c.root(), "file"))
    assert b"".join(pages) == MEGABYTE + b"tail"
    assert max(len(p) for p in pages) == util.FilePager.CHUNK_SIZE
    assert root.done == ["file"]


def test_emptyFileSendsNoPage(tmp_path: Path) -> None:
    """An empty file ends paging at once, with no page."""
    path = tmp_path / "empty"
    path.write_bytes(b"")
    c = Connection(Pages(path))
    assert c.wait(util.getAllPages(c.root(), "file")) == []


def test_fileReadErrorFailsTheDeferredAndEndsPaging() -> None:
    """A read error fails the pager's deferred and ends paging after the pages read."""

    class Failing(io.BytesIO):
        reads = 0

        def read(self, n: int | None = -1) -> bytes:
            self.reads += 1
            if self.reads > 2:
                raise OSError("disk gone")
            return b"x" * 10

    pagers: list[util.FilePager] = []

    class Root(pb.Root):
        def remote_file(self, collector: Any) -> None:
            pagers.append(util.FilePager(collector, Failing(), chunkSize=10))

    c = Connection(Root())
    assert c.wait(util.getAllPages(c.root(), "file")) == [b"x" * 10] * 2
    assertFailure(c.wait(pagers[0].deferred), OSError)


def test_pagingWaitsWhileTheWriteBufferIsFull() -> None:
    """While the broker's transport says its buffer is full no page is sent; paging
    resumes when it drains."""
    received: list[list[bytes]] = []

    class Root(pb.Root):
        def remote_collector(self) -> util.CallbackPageCollector:
            return util.CallbackPageCollector(received.append)

    c = Connection(Root())
    collector = c.call(c.root(), "collector")
    c.client.pauseProducing()
    pager = util.StringPager(collector, MEGABYTE[:100_000], 1000)
    c.pump.flush()
    assert pager.pointer == 0 and not received
    c.client.resumeProducing()
    c.pump.flush()
    assert b"".join(received[0]) == MEGABYTE[:100_000]


def test_remoteFailureFailsGetAllPages() -> None:
    """If the paging method fails, getAllPages fails with its error."""
    c = Connection(Pages())
    assertFailure(c.wait(util.getAllPages(c.root(), "broken")), pb.Error, ValueError)


def test_badChunkSizeRefused() -> None:
    """A chunk size under 1 is a clear ValueError, not an endless paging loop."""
    with pytest.raises(ValueError):
        util.StringPager(object(), b"x", 0)


@pytest.mark.integration
def test_stringAndFilePagedOverTCP(reactor: Any, run: Any, tmp_path: Path) -> None:
    """A 1 MB string and a 1 MB file are paged whole to a client over real TCP."""
    path = tmp_path / "data"
    path.write_bytes(MEGABYTE[::-1])
    port = reactor.listenTCP(0, pb.PBServerFactory(Pages(path)), interface="127.0.0.1")
    client = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port.getHost().port, client)

    async def session() -> tuple[bytes, bytes]:
        root = await client.getRootObject()
        string = b"".join(await util.getAllPages(root, "string", len(MEGABYTE), 8192))
        data = b"".join(await util.getAllPages(root, "file"))
        client.disconnect()
        return string, data

    try:
        assert run(session()) == (MEGABYTE, MEGABYTE[::-1])
    finally:
        port.stopListening()


TWISTED_SERVER = """
import sys
from twisted.internet import reactor
from twisted.spread import pb, util

DATA = bytes(range(256)) * 4096

class Pages(pb.Root):
    def remote_string(self, collector):
        util.StringPager(collector, DATA, 8192)
    def remote_file(self, collector):
        util.FilePager(collector, open(sys.argv[1], "rb"))

port = reactor.listenTCP(0, pb.PBServerFactory(Pages()), interface="127.0.0.1")
print(port.getHost().port, flush=True)
reactor.run()
"""


@pytest.fixture(scope="module")
def twistedPager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    directory = tmp_path_factory.mktemp("pagerpeer")
    (directory / "data").write_bytes(MEGABYTE[::-1] + b"end")
    peer = TwistedServer(directory, TWISTED_SERVER, str(directory / "data"))
    try:
        yield peer.ports[0]
    finally:
        peer.stop()


@pytest.mark.integration
def test_twistedServerPagesToUs(reactor: Any, run: Any, twistedPager: int) -> None:
    """Twisted's StringPager and FilePager page a 1 MB string and file to our getAllPages."""
    client = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", twistedPager, client)

    async def session() -> tuple[bytes, bytes]:
        root = await client.getRootObject()
        string = b"".join(await util.getAllPages(root, "string"))
        data = b"".join(await util.getAllPages(root, "file"))
        client.disconnect()
        return string, data

    assert run(session(), timeout=30) == (MEGABYTE, MEGABYTE[::-1] + b"end")


TWISTED_CLIENT = """
import sys
from twisted.internet import reactor
from twisted.spread import pb, util

factory = pb.PBClientFactory()
reactor.connectTCP("127.0.0.1", int(sys.argv[1]), factory)

def got(pages):
    print(len(pages), len(b"".join(pages)), b"".join(pages) == bytes(range(256)) * 4096,
          flush=True)
    reactor.stop()

def failed(reason):
    sys.stderr.write(reason.getTraceback())
    reactor.stop()

factory.getRootObject().addCallback(
    lambda root: util.getAllPages(root, "string", 1048576, 8192)).addCallbacks(got, failed)
reactor.run()
"""


@pytest.mark.integration
def test_wePageToATwistedClient(reactor: Any, run: Any, tmp_path: Path) -> None:
    """Twisted's getAllPages collects the 1 MB string our StringPager pages to it."""
    from twistedpeer import runTwistedClient, twistedPython

    twistedPython()
    port = reactor.listenTCP(0, pb.PBServerFactory(Pages()), interface="127.0.0.1")
    try:
        output = run(runTwistedClient(reactor, tmp_path, TWISTED_CLIENT,
                                      str(port.getHost().port), timeout=30), timeout=40)
    finally:
        port.stopListening()
    assert output.split() == ["128", str(len(MEGABYTE)), "True"]


@pytest.mark.integration
def test_pagingOverTCPStopsAtAFullWriteBuffer(reactor: Any, run: Any) -> None:
    """Over TCP a pager does not push everything at once: paging stops when the socket's
    write buffer fills and the rest follows as it drains."""
    big = MEGABYTE * 16
    sentAtOnce: list[int] = []

    class Root(pb.Root):
        def remote_big(self, collector: Any) -> None:
            pager = util.StringPager(collector, big, 65536)
            sentAtOnce.append(pager.pointer)

    port = reactor.listenTCP(0, pb.PBServerFactory(Root()), interface="127.0.0.1")
    client = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port.getHost().port, client)

    async def session() -> int:
        root = await client.getRootObject()
        total = sum(len(page) for page in await util.getAllPages(root, "big"))
        client.disconnect()
        return total

    try:
        assert run(session()) == len(big)
    finally:
        port.stopListening()
    assert sentAtOnce[0] < len(big) // 2
