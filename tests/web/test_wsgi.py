"""Tests of WSGIResource (PEP 3333): environ, start_response, write, close, errors, threads."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest

from torsion.internet.threads import deferToThreadPool
from torsion.logger import capturedLogs
from torsion.web import resource, server
from torsion.web.wsgi import WSGIResource

StartResponse = Callable[..., Callable[[bytes], None]]


class SyncPool:
    """A thread pool stand-in that runs work at once, recording that it was asked."""

    def __init__(self) -> None:
        self.calls = 0

    def callInThread(self, f: Callable[..., object], *args: Any, **kw: Any) -> None:
        self.calls += 1
        f(*args, **kw)


class SyncReactor:
    """callFromThread runs at once: with SyncPool, a WSGI call completes synchronously."""

    def callFromThread(self, f: Callable[..., object], *args: Any, **kw: Any) -> None:
        f(*args, **kw)


def serveApp(connectSite: Any, app: Callable[..., Iterable[bytes]],
             pool: SyncPool | None = None) -> Any:
    root = resource.Resource()
    root.putChild(b"app", WSGIResource(SyncReactor(), pool or SyncPool(), app))
    return connectSite(root)


def test_environDescribesRequest(connectSite: Any, parse: Any) -> None:
    """The environ carries method, script name, path info, query, headers and body."""
    seen: dict[str, Any] = {}

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        seen.update(environ)
        seen["body"] = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    conn = serveApp(connectSite, app)
    out = conn.send(b"POST /app/a/b?x=1 HTTP/1.1\r\nHost: example.com:8080\r\nX-Thing: t\r\n"
                    b"Content-Type: text/plain\r\nContent-Length: 4\r\n\r\ndata")
    assert parse(out)[0].body == b"ok"
    assert (seen["REQUEST_METHOD"], seen["SCRIPT_NAME"], seen["PATH_INFO"]) == (
        "POST", "/app", "/a/b")
    assert (seen["QUERY_STRING"], seen["HTTP_X_THING"], seen["CONTENT_LENGTH"]) == (
        "x=1", "t", "4")
    assert (seen["SERVER_NAME"], seen["wsgi.url_scheme"], seen["body"]) == (
        "example.com", "http", b"data")
    assert "HTTP_CONTENT_TYPE" not in seen and seen["CONTENT_TYPE"] == "text/plain"


def test_statusAndHeadersFromStartResponse(connectSite: Any, parse: Any) -> None:
    """The status line and headers given to start_response are sent."""
    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        start_response("201 Made It", [("X-A", "1"), ("X-A", "2")])
        return [b"a", b"", b"b"]

    response = parse(serveApp(connectSite, app).send(b"GET /app HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
    assert (response.code, response.reason, response.body) == (201, b"Made It", b"ab")
    assert [v for k, v in response.headers if k == b"X-A"] == [b"1", b"2"]


def test_writeCallable(connectSite: Any, parse: Any) -> None:
    """Data passed to the write() callable precedes the iterable's data."""
    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        write = start_response("200 OK", [])
        write(b"first ")
        return [b"second"]

    response = parse(serveApp(connectSite, app).send(b"GET /app HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
    assert response.body == b"first second"


def test_iteratorClosed(connectSite: Any) -> None:
    """The application's iterable has close() called once it is consumed."""
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Iterator[bytes]:
            yield b"x"

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Body:
        start_response("200 OK", [])
        return Body()

    serveApp(connectSite, app).send(b"GET /app HTTP/1.1\r\nHost: x\r\n\r\n")
    assert closed == [True]


def test_errorBeforeHeadersIs500(connectSite: Any, parse: Any) -> None:
    """An exception before any output becomes a 500 and is logged."""
    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        raise RuntimeError("app broke")

    with capturedLogs() as events:
        response = parse(serveApp(connectSite, app).send(
            b"GET /app HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
    assert response.code == 500 and b"app broke" not in response.body
    assert any(e.get("log_failure") is not None for e in events)


def test_errorAfterHeadersClosesConnection(connectSite: Any) -> None:
    """An exception after output started closes the connection."""
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"partial"
        raise RuntimeError("late")

    conn = serveApp(connectSite, app)
    with capturedLogs():
        out = conn.send(b"GET /app HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"partial" in out and conn.transport.disconnecting


def test_startResponseTypesChecked(connectSite: Any, parse: Any) -> None:
    """start_response with bytes headers is a TypeError (PEP 3333 native strings)."""
    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [(b"X", b"y")])
        return [b""]

    with capturedLogs():
        response = parse(serveApp(connectSite, app).send(
            b"GET /app HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
    assert response.code == 500


def test_applicationRunsInThreadPool(connectSite: Any) -> None:
    """The application is started through the thread pool."""
    pool = SyncPool()

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [])
        return [b""]

    serveApp(connectSite, app, pool).send(b"GET /app HTTP/1.1\r\nHost: x\r\n\r\n")
    assert pool.calls == 1


@pytest.mark.integration
def test_realThreadPoolOnRealReactor(reactor: Any, run: Any) -> None:
    """On a real reactor the application runs off the reactor thread and is answered."""
    threads: list[int] = []

    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        threads.append(threading.get_ident())
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"from a thread"]

    site = server.Site(WSGIResource(reactor, reactor.getThreadPool(), app), reactor=reactor)
    port = reactor.listenTCP(0, site, interface="127.0.0.1").getHost().port

    def fetch() -> bytes:
        import urllib.request

        with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=10) as r:
            return bytes(r.read())

    body = run(deferToThreadPool(reactor, reactor.getThreadPool(), fetch), timeout=20)
    assert body == b"from a thread"
    assert threads and threads[0] != threading.get_ident()


def test_headerWithLineBreakIs500AndLogged(connectSite: Any, parse: Any) -> None:
    """A header value with CR/LF is refused in start_response: 500, logged, never sent."""
    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        start_response("200 OK", [("X-A", "v\r\nSet-Cookie: evil=1")])
        return [b"body"]

    with capturedLogs() as events:
        out = serveApp(connectSite, app).send(b"GET /app HTTP/1.1\r\nHost: x\r\n\r\n")
    assert parse(out)[0].code == 500 and b"evil" not in out
    assert any(e.get("log_failure") is not None for e in events)


@pytest.mark.parametrize("status, headers", [
    ("200 OK\r\nX-Evil: 1", []),
    ("OK", []),
    ("200 OK", [("Bad Name", "v")]),
    ("200 OK", [("X-A", "\u20ac")]),
])
def test_badStatusOrHeaderIs500(connectSite: Any, parse: Any, status: str,
                                headers: list[tuple[str, str]]) -> None:
    """A malformed status line, a non-token name or non-Latin-1 text is a 500."""
    def app(environ: dict[str, Any], start_response: StartResponse) -> list[bytes]:
        start_response(status, headers)
        return [b"body"]

    with capturedLogs():
        out = serveApp(connectSite, app).send(b"GET /app HTTP/1.1\r\nHost: x\r\n\r\n")
    assert parse(out)[0].code == 500 and b"Evil" not in out


def test_streamingResponsesOneAfterAnother(connectSite: Any, parse: Any) -> None:
    """The response is the request's producer only while writing: the next one can be too."""
    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterator[bytes]:
        start_response("200 OK", [])
        yield b"a"
        yield b"b"

    conn = serveApp(connectSite, app)
    for _ in range(2):
        out = conn.send(b"GET /app HTTP/1.1\r\nHost: x\r\n\r\n")
        assert parse(out)[0].body == b"ab"
        assert conn.transport.producer is None
