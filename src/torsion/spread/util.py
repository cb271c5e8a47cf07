"""Paging: send large data through PB as a stream of remote calls, Twisted-compatible.

A remote method that has much to return takes a *collector* (a Referenceable of the
caller's) and pages the data to it: the pager calls ``collector.gotPage(page)`` for each
page, then ``collector.endedPaging()`` (both without asking for an answer, as Twisted
does, so a Twisted peer on either side understands). The caller usually uses
`getAllPages`, which passes a `CallbackPageCollector` and fires with the list of pages.

Pages are paced by the broker (`Broker.registerPageProducer`): a page per pager while
the connection's write buffer has room, more when it drains, so paging a large string
or file holds at most about a buffer's worth in memory. No pager registers a producer
on the connection's transport: that slot is the broker's (its flow control).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Any

from torsion.internet import defer
from torsion.spread import pb

__all__ = ["CallbackPageCollector", "FilePager", "Pager", "StringPager", "getAllPages"]


class Pager:
    """Pages data out to a remote collector; subclasses say what the next page is.

    `callback(*args, **kw)`, if given, is called once the last page and endedPaging are
    sent. A subclass's `nextPage` must return a page each time it is called until it has
    called `stopPaging`.
    """

    callback: Callable[..., object] | None

    def __init__(self, collector: Any, callback: Callable[..., object] | None = None,
                 *args: Any, **kw: Any) -> None:
        if callable(callback):
            self.callback = callback
            self.callbackArgs = args
            self.callbackKeyword = kw
        else:
            self.callback = None
        if "_stillPaging" not in self.__dict__:  # a subclass may have stopped already
            self._stillPaging = True
        self.collector = collector
        collector.broker.registerPageProducer(self)

    def stillPaging(self) -> bool:
        """(Called by the broker after each page.) Whether more pages follow; on the
        last, tell the collector paging ended and call the callback."""
        if not self._stillPaging:
            self.collector.callRemote("endedPaging", pbanswer=False)
            if self.callback is not None:
                self.callback(*self.callbackArgs, **self.callbackKeyword)
        return self._stillPaging

    def sendNextPage(self) -> None:
        """(Called by the broker.) Send the next page to the collector."""
        self.collector.callRemote("gotPage", self.nextPage(), pbanswer=False)

    def nextPage(self) -> Any:
        """Return the next page (anything PB can send); override this."""
        raise NotImplementedError()

    def stopPaging(self) -> None:
        """Call when the page just returned (or none) is the last."""
        self._stillPaging = False


class StringPager(Pager):
    """Pages a bytes (or str) value in chunks of `chunkSize`."""

    def __init__(self, collector: Any, st: bytes | str, chunkSize: int = 8192,
                 callback: Callable[..., object] | None = None, *args: Any,
                 **kw: Any) -> None:
        if chunkSize <= 0:
            raise ValueError(f"chunkSize must be positive, not {chunkSize}")
        self.string = st
        self.pointer = 0
        self.chunkSize = chunkSize
        Pager.__init__(self, collector, callback, *args, **kw)

    def nextPage(self) -> bytes | str:
        """The next chunk; the last one stops paging."""
        val = self.string[self.pointer:self.pointer + self.chunkSize]
        self.pointer += self.chunkSize
        if self.pointer >= len(self.string):
            self.stopPaging()
        return val


class FilePager(Pager):
    """Pages an open binary file in chunks of `chunkSize`, read as pages are sent.

    The pager reads the file itself, one chunk ahead (so the last page is known to be
    the last); `deferred` fires with None once the whole file is read, or fails with the
    read error (paging then ends there). An empty file sends no page, only endedPaging.
    """

    CHUNK_SIZE = 2 ** 14

    def __init__(self, collector: Any, fd: IO[bytes], callback: Callable[..., object] | None = None,
                 *args: Any, chunkSize: int = CHUNK_SIZE, **kw: Any) -> None:
        if chunkSize <= 0:
            raise ValueError(f"chunkSize must be positive, not {chunkSize}")
        self.fd = fd
        self.chunkSize = chunkSize
        self.deferred: defer.Deferred[None] = defer.Deferred()
        self._ahead = self._read()
        Pager.__init__(self, collector, callback, *args, **kw)

    def _read(self) -> bytes:
        """The next chunk of the file; at its end (or a read error) stop paging."""
        if not self.__dict__.get("_stillPaging", True):
            return b""
        try:
            chunk = self.fd.read(self.chunkSize)
        except OSError:
            self.stopPaging()
            self.deferred.errback()
            return b""
        if not chunk:
            self.stopPaging()
            self.deferred.callback(None)
        return chunk

    def stopPaging(self) -> None:
        """No page after this one."""
        self._stillPaging = False

    def sendNextPage(self) -> None:
        """Send the chunk read ahead and read the next one."""
        page = self._ahead
        if not page:
            return
        self._ahead = self._read()
        self.collector.callRemote("gotPage", page, pbanswer=False)


class CallbackPageCollector(pb.Referenceable):
    """Collects the pages sent to it; calls `callback(pages)` when paging ends."""

    def __init__(self, callback: Callable[[list[Any]], object]) -> None:
        self.pages: list[Any] = []
        self.callback = callback

    def remote_gotPage(self, page: Any) -> None:
        """One more page."""
        self.pages.append(page)

    def remote_endedPaging(self) -> None:
        """The last page came: hand them all to the callback."""
        self.callback(self.pages)


def getAllPages(referenceable: Any, methodName: str | bytes, *args: Any,
                **kw: Any) -> defer.Deferred[list[Any]]:
    """Call remote `methodName` with a page collector first, then `args`; fire with the
    list of pages once paging ends.

    If the remote call itself fails, the returned Deferred fails with that failure.
    """
    d: defer.Deferred[list[Any]] = defer.Deferred()
    called = referenceable.callRemote(methodName, CallbackPageCollector(d.callback), *args, **kw)

    def failed(reason: Any) -> None:
        if not d.called:
            d.errback(reason)

    called.addErrback(failed)
    return d
