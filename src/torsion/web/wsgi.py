"""Serve a PEP 3333 WSGI application from a resource, running it in a thread pool.

Theory of operation: `WSGIResource.render` builds the environ in the reactor thread
(native strings decoded ISO-8859-1, PEP 3333 §"Unicode issues"), then runs the
application in the given thread pool. From the worker, ``start_response`` records the
status and headers; the first non-empty body chunk (or the end of the iterable) sends
them. Every write crosses back to the reactor thread with ``blockingCallFromThread``, so
the worker waits for each write to be handed to the transport. The response is also the
request's streaming producer: while the transport's buffer is above its high-water mark
(pauseProducing) the worker waits before writing more, so a client that does not read
slows the application instead of filling memory. The iterable's ``close()`` is always
called (PEP 3333 §"Specification Details"). Status and headers are checked in
``start_response`` (CR, LF or NUL, a bad name or non-ISO-8859-1 text raise there, in the
application); an exception before the headers are sent becomes a 500 response; after,
the connection is closed. Errors are logged with their traceback.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from torsion.internet.threads import blockingCallFromThread
from torsion.logger import Logger
from torsion.python.failure import Failure
from torsion.web import server
from torsion.web.resource import Resource

__all__ = ["WSGIResource"]

_log = Logger()

_ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]

# RFC 9110 §5.1: a field name is a token; §5.5: a value holds no CR, LF or NUL.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+\Z")
_BAD_VALUE = re.compile(r"[\r\n\x00]")
# RFC 9112 §4: status-code is three digits; the reason phrase holds no CR or LF.
_STATUS = re.compile(r"[0-9]{3}( [^\r\n\x00]*)?\Z")


def _checkLatin1(text: str, what: str) -> None:
    try:
        text.encode("iso-8859-1")
    except UnicodeEncodeError:
        raise ValueError("%s is not ISO-8859-1 text: %r" % (what, text)) from None


class _ErrorStream:
    """``wsgi.errors``: text written here goes to the log at error level."""

    def flush(self) -> None:
        pass

    def write(self, data: str) -> None:
        if not isinstance(data, str):
            raise TypeError("write() argument must be str, not %r" % (type(data).__name__,))
        _log.error("{wsgiError}", wsgiError=data, isError=True)

    def writelines(self, iovec: Iterable[str]) -> None:
        for line in iovec:
            self.write(line)


class _InputStream:
    """``wsgi.input``: the request body, read from the request's content file."""

    def __init__(self, content: Any) -> None:
        self._wrapped = content

    def read(self, size: int | None = None) -> bytes:
        if size is None or size < 0:
            return bytes(self._wrapped.read())
        return bytes(self._wrapped.read(size))

    def readline(self, size: int | None = None) -> bytes:
        if size is None or size < 0:
            return bytes(self._wrapped.readline())
        return bytes(self._wrapped.readline(size))

    def readlines(self, hint: int | None = None) -> list[bytes]:
        return list(self._wrapped.readlines(hint if hint is not None else -1))

    def __iter__(self) -> Any:
        return iter(self._wrapped)


class _WSGIResponse:
    """Drive one application call for one request (Twisted's _WSGIResponse)."""

    _requestFinished = False

    def __init__(self, reactor: Any, threadpool: Any, application: Callable[..., Any],
                 request: Any) -> None:
        self.started = False
        self.reactor = reactor
        self.threadpool = threadpool
        self.application = application
        self.request = request
        self.status: str | None = None
        self.headers: list[tuple[str, str]] | None = None
        self._writable = threading.Event()
        self._writable.set()
        self._producing = False
        request.notifyFinish().addBoth(self._finished)
        self.environ = self._buildEnviron(request)

    def _finished(self, ignored: object) -> None:
        self._requestFinished = True
        self._writable.set()

    # -- IPushProducer, registered on the request while the body is written --------------

    def pauseProducing(self) -> None:
        """The transport's buffer is full: the worker waits before its next write."""
        self._writable.clear()

    def resumeProducing(self) -> None:
        """The buffer drained: let the worker write again."""
        self._writable.set()

    def stopProducing(self) -> None:
        """The connection is gone: stop waiting and stop iterating."""
        self._requestFinished = True
        self._writable.set()

    def _stopBeingProducer(self) -> None:
        """Unregister from the request before it finishes (reactor thread)."""
        if self._producing:
            self._producing = False
            self.request.unregisterProducer()

    @staticmethod
    def _buildEnviron(request: Any) -> dict[str, Any]:
        def native(b: bytes) -> str:
            return b.decode("iso-8859-1")

        if request.prepath:
            scriptName = b"/" + b"/".join(request.prepath)
        else:
            scriptName = b""
        if request.postpath:
            pathInfo = b"/" + b"/".join(request.postpath)
        else:
            pathInfo = b""
        _, _, query = request.uri.partition(b"?")
        host = request.getHost()
        environ: dict[str, Any] = {
            "REQUEST_METHOD": native(request.method),
            "REMOTE_ADDR": request.getClientAddressHost(),
            "SCRIPT_NAME": native(scriptName),
            "PATH_INFO": native(pathInfo),
            "QUERY_STRING": native(query),
            "CONTENT_TYPE": native(request.requestHeaders._getOne(b"content-type") or b""),
            "CONTENT_LENGTH": native(request.requestHeaders._getOne(b"content-length") or b""),
            "SERVER_NAME": native(request.getRequestHostname()),
            "SERVER_PORT": str(getattr(host, "port", "")),
            "SERVER_PROTOCOL": native(request.clientproto),
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "https" if request.isSecure() else "http",
            "wsgi.run_once": False,
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.errors": _ErrorStream(),
            "wsgi.input": _InputStream(request.content),
        }
        for name, values in request.requestHeaders.getAllRawHeaders():
            key = "HTTP_" + native(name).upper().replace("-", "_")
            if key in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                continue
            environ[key] = ",".join(native(v) for v in values)
        return environ

    def start(self) -> None:
        """Run the application in the thread pool."""
        self.threadpool.callInThread(self.run)

    def startResponse(self, status: str, headers: list[tuple[str, str]],
                      excInfo: _ExcInfo | None = None) -> Callable[[bytes], None]:
        """PEP 3333 start_response: record status and headers; return write()."""
        if excInfo is not None:
            try:
                if self.started:
                    raise excInfo[1].with_traceback(excInfo[2])
            finally:
                excInfo = None
        elif self.headers is not None:
            raise RuntimeError("start_response called twice without exc_info")
        if not isinstance(status, str):
            raise TypeError("status must be str, not %r" % (status,))
        if not isinstance(headers, list):
            raise TypeError("headers must be a list, not %r" % (headers,))
        if not _STATUS.match(status):
            raise ValueError("status must be three digits, a space and a reason: %r"
                             % (status,))
        _checkLatin1(status, "status")
        for header in headers:
            if not (isinstance(header, tuple) and len(header) == 2
                    and isinstance(header[0], str) and isinstance(header[1], str)):
                raise TypeError("header must be a (str, str) tuple, not %r" % (header,))
            name, value = header
            if not _TOKEN.match(name):
                raise ValueError("header name is not a token: %r" % (name,))
            if _BAD_VALUE.search(value):
                raise ValueError("header value contains CR, LF or NUL: %r" % (header,))
            _checkLatin1(value, "header value")
        self.status = status
        self.headers = headers
        return self.write

    def write(self, data: bytes) -> None:
        """PEP 3333 write(): send `data` (after the headers), waiting for the reactor."""
        if not isinstance(data, bytes):
            raise TypeError("data must be bytes, not %r" % (type(data).__name__,))
        if self.status is None:
            raise RuntimeError("write() called before start_response()")
        started = self.started
        self.started = True

        def wsgiWrite(started: bool) -> None:
            request = self.request
            if not started:
                self._sendResponseHeaders()
            if not request._disconnected and not request.finished:
                if not self._producing:
                    self._producing = True
                    request.registerProducer(self, True)
                request.write(data)

        blockingCallFromThread(self.reactor, wsgiWrite, started)
        # Backpressure: wait while the transport holds more than its high-water mark.
        self._writable.wait()

    def _sendResponseHeaders(self) -> None:
        assert self.status is not None and self.headers is not None
        code, _, message = self.status.partition(" ")
        self.request.setResponseCode(int(code), message.encode("iso-8859-1"))
        for name, value in self.headers:
            if name.lower() not in ("server", "date"):
                self.request.responseHeaders.addRawHeader(
                    name.encode("iso-8859-1"), value.encode("iso-8859-1"))
            else:
                self.request.responseHeaders.setRawHeaders(
                    name.encode("iso-8859-1"), [value.encode("iso-8859-1")])

    def run(self) -> None:
        """Call the application and iterate its response (in a worker thread)."""
        try:
            appIterator = self.application(self.environ, self.startResponse)
            try:
                for elem in appIterator:
                    if elem:
                        self.write(elem)
                    if self._requestFinished:
                        break
            finally:
                close = getattr(appIterator, "close", None)
                if close is not None:
                    close()
        except BaseException:
            failure = Failure()

            def wsgiError(started: bool, failure: Failure) -> None:
                _log.failure("WSGI application error", failure=failure)
                request = self.request
                self._stopBeingProducer()
                if request._disconnected or request.finished:
                    return
                if started:
                    request._persistent = False
                    request.finish()
                    request.loseConnection()
                else:
                    request.setResponseCode(500)
                    request.setHeader(b"content-type", b"text/plain")
                    request._writeWhole(b"Internal Server Error")

            self.reactor.callFromThread(wsgiError, self.started, failure)
            if isinstance(failure.value, (KeyboardInterrupt, SystemExit)):
                raise
        else:
            def wsgiFinish(started: bool) -> None:
                request = self.request
                self._stopBeingProducer()
                if request._disconnected or request.finished:
                    return
                if not started:
                    if self.status is None:
                        request.setResponseCode(500)
                        request._writeWhole(b"start_response() was never called")
                        return
                    self._sendResponseHeaders()
                request.finish()

            self.reactor.callFromThread(wsgiFinish, self.started)
        self.started = True


class WSGIResource(Resource):
    """A leaf resource that runs a WSGI application (PEP 3333) in a thread pool.

    Why: lets Flask/Django-style applications sit in a torsion resource tree; the
    thread pool keeps their blocking code off the reactor thread.
    """

    isLeaf = True

    def __init__(self, reactor: Any, threadpool: Any, application: Callable[..., Any]) -> None:
        super().__init__()
        self._reactor = reactor
        self._threadpool = threadpool
        self._application = application

    def render(self, request: Any) -> int:
        """Start the application for `request`; it finishes the request itself."""
        response = _WSGIResponse(self._reactor, self._threadpool, self._application, request)
        response.start()
        return server.NOT_DONE_YET

    def getChild(self, path: bytes, request: Any) -> Any:
        raise RuntimeError("Cannot get IResource children from WSGIResource")

    def putChild(self, path: bytes, child: Any) -> None:
        raise RuntimeError("Cannot put IResource children under WSGIResource")



