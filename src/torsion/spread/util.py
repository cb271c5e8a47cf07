"""PB helpers, Twisted-compatible: local stand-ins for remote references, and paging.

`LocalAsRemote` and `LocalAsyncForwarder` give a local object the ``callRemote`` of a
`pb.RemoteReference` (a Deferred for every call, errors as failures), so code written
against a remote reference runs unchanged against an object in the same process;
`LocalMethod` is ``remoteMethod``'s bound form.

Paging: send large data through PB as a stream of remote calls.

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

import inspect
import typing
from collections.abc import Callable
from types import CoroutineType
from typing import IO, Any, Protocol

from torsion.internet import defer
from torsion.logger import Logger, LogLevel
from torsion.python.failure import Failure
from torsion.python.reflect import qual
from torsion.spread import pb

__all__ = [
    "CallbackPageCollector",
    "FilePager",
    "LocalAsRemote",
    "LocalAsyncForwarder",
    "LocalMethod",
    "Pager",
    "StringPager",
    "getAllPages",
]

_log = Logger()


class _CallsRemote(Protocol):
    def callRemote(self, name: str, /, *args: Any, **kw: Any) -> Any: ...


class LocalMethod:
    """One method of an object with ``callRemote``, as a callable.

    Calling it calls ``local.callRemote(name, *args, **kw)`` (what
    `LocalAsRemote.remoteMethod` returns), so it can be passed where a callback is wanted.
    """

    def __init__(self, local: _CallsRemote, name: str) -> None:
        self.local = local
        self.name = name

    def __call__(self, *args: Any, **kw: Any) -> Any:
        """``callRemote`` the method; its result (usually a Deferred)."""
        return self.local.callRemote(self.name, *args, **kw)

    def __repr__(self) -> str:
        return f"<LocalMethod {self.name!r} of {self.local!r}>"


def _asDeferred(result: Any) -> defer.Deferred[Any]:
    """A method's result as a Deferred: passed through, run (a coroutine), or wrapped."""
    if isinstance(result, defer.Deferred):
        return result
    if isinstance(result, Failure):
        return defer.fail(result)
    if isinstance(result, CoroutineType):
        return defer.Deferred.fromCoroutine(result)
    return defer.succeed(result)


class LocalAsRemote:
    """A mixin giving a local object a remote reference's ``callRemote``.

    ``callRemote("x", ...)`` looks for, in this order:

    - ``sync_x``: called, and its result returned as it is (return a Deferred to look
      remote; an exception it raises reaches the caller directly);
    - ``async_x``, then ``remote_x``: called, and the result handed back in a Deferred --
      fired with the value, chained to a Deferred the method returns, or run if it is a
      coroutine; an exception it raises becomes the Deferred's failure.

    ``async_`` and ``sync_`` are Twisted's; ``remote_`` (torsion's addition) lets a
    `pb.Referenceable`'s own methods be called locally exactly as the peer would call them.
    A name with none of the three fails with AttributeError.  With `reportAllTracebacks`
    (the default, as in Twisted) a failure is also logged, since a local caller that drops
    the Deferred would otherwise never hear of it.
    """

    reportAllTracebacks = True

    def callRemote(self, name: str | bytes, /, *args: Any, **kw: Any) -> Any:
        """Call the local method for `name` the way a remote reference would."""
        methodName = name.decode("utf-8", "replace") if isinstance(name, bytes) else name
        sync = getattr(self, "sync_" + methodName, None)
        if sync is not None:
            return sync(*args, **kw)
        try:
            method = getattr(self, "async_" + methodName, None)
            if method is None:
                method = getattr(self, "remote_" + methodName, None)
            if method is None:
                raise AttributeError(
                    f"{qual(type(self))} has no sync_{methodName}, async_{methodName} or "
                    f"remote_{methodName} method")
            result = method(*args, **kw)
        except BaseException:
            failure = Failure()
            if self.reportAllTracebacks:
                _log.failure("Error in {method!r} called through callRemote on {obj!r}",
                             failure, level=LogLevel.error, method=methodName, obj=self)
            return defer.fail(failure)
        return _asDeferred(result)

    def remoteMethod(self, name: str) -> LocalMethod:
        """The method `name` as a callable that calls ``callRemote(name, ...)``."""
        return LocalMethod(self, name)


_PROTOCOL_MACHINERY = frozenset({object, typing.Generic, Protocol})


def _interfaceMethods(interfaceClass: type) -> frozenset[str]:
    """The public method names an interface (a Protocol, an ABC, any class) declares."""
    names: set[str] = set()
    for klass in interfaceClass.__mro__:
        if klass in _PROTOCOL_MACHINERY:
            continue
        for name, value in vars(klass).items():
            if name.startswith("_"):
                continue
            if isinstance(value, staticmethod | classmethod) or inspect.isfunction(value):
                names.add(name)
    return frozenset(names)


class LocalAsyncForwarder:
    """Forwards ``callRemote`` to the methods of `interfaceClass` on a local object.

    `interfaceClass` (a `typing.Protocol`, as torsion's interfaces are, or any class) says
    which methods may be called: ``callRemote("m", ...)`` of one of them calls
    ``forwarded.m(...)`` and returns a Deferred of its result -- a Deferred it returns is
    passed through and a coroutine (an ``async def`` method) is run -- or of its
    exception.  A name the interface does not declare gives a Deferred of None, or, with
    `failWhenNotImplemented`, one failing with NotImplementedError.  `forwarded` must
    have every method the interface declares (TypeError otherwise), as Twisted asserts
    that it provides the interface.
    """

    def __init__(self, forwarded: object, interfaceClass: type,
                 failWhenNotImplemented: bool = False) -> None:
        methods = _interfaceMethods(interfaceClass)
        missing = sorted(m for m in methods if not callable(getattr(forwarded, m, None)))
        if missing:
            raise TypeError(f"{forwarded!r} does not provide {qual(interfaceClass)}: it has "
                            f"no {', '.join(missing)}")
        self.forwarded = forwarded
        self.interfaceClass = interfaceClass
        self.failWhenNotImplemented = failWhenNotImplemented
        self._methods = methods

    def _callMethod(self, method: str, *args: Any, **kw: Any) -> Any:
        return getattr(self.forwarded, method)(*args, **kw)

    def callRemote(self, method: str | bytes, /, *args: Any, **kw: Any) -> defer.Deferred[Any]:
        """Call `method` on the forwarded object if the interface declares it."""
        name = method.decode("utf-8", "replace") if isinstance(method, bytes) else method
        if name in self._methods:
            return defer.maybeDeferred(self._callMethod, name, *args, **kw)
        if self.failWhenNotImplemented:
            return defer.fail(Failure(NotImplementedError(
                f"No Such Method in Interface: {name} ({qual(self.interfaceClass)})")))
        return defer.succeed(None)


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
