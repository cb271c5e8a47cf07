"""Tests of Site and server.Request: rendering results, errors, sessions, gzip, URLs."""

from __future__ import annotations

import gzip
from typing import Any

import pytest

from torsion.internet.defer import Deferred, succeed
from torsion.logger import capturedLogs
from torsion.web import resource, server
from torsion.web.resource import EncodingResourceWrapper

GET = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"


class Leaf(resource.Resource):
    """A leaf whose render_GET is given by the test."""

    isLeaf = True

    def __init__(self, render: Any) -> None:
        super().__init__()
        self._render = render

    def render_GET(self, request: server.Request) -> Any:
        return self._render(request)


def test_deferredBodyIsWrittenWhenFired(connectSite: Any, parse: Any) -> None:
    """A render method returning a Deferred[bytes] answers when it fires."""
    d: Deferred[bytes] = Deferred()
    conn = connectSite(Leaf(lambda r: d))
    assert conn.send(GET) == b""
    d.callback(b"later")
    response = parse(conn.take())[0]
    assert (response.body, response.header(b"content-length")) == (b"later", b"5")


def test_coroutineBodyIsWritten(connectSite: Any, parse: Any) -> None:
    """A render method that is a coroutine answers with what it returns."""
    d: Deferred[bytes] = Deferred()

    async def render(request: server.Request) -> bytes:
        part = await d
        return part + b"!"

    conn = connectSite(Leaf(render))
    conn.send(GET)
    d.callback(b"async")
    assert parse(conn.take())[0].body == b"async!"


def test_failedDeferredRenders500AndLogs(connectSite: Any, parse: Any) -> None:
    """A Deferred that fails becomes a 500 page and a logged failure."""
    d: Deferred[bytes] = Deferred()
    conn = connectSite(Leaf(lambda r: d))
    conn.send(GET)
    with capturedLogs() as events:
        d.errback(ZeroDivisionError("boom"))
    response = parse(conn.take())[0]
    assert response.code == 500 and b"Processing Failed" in response.body
    assert any(e.get("log_failure") is not None for e in events)


def test_exceptionInRenderIs500WithoutTraceback(connectSite: Any, parse: Any) -> None:
    """An exception in render gives 500 with no traceback unless displayTracebacks is set."""
    def boom(request: server.Request) -> bytes:
        raise ValueError("secret <detail>")

    with capturedLogs() as events:
        response = parse(connectSite(Leaf(boom)).send(GET))[0]
    assert response.code == 500 and b"secret" not in response.body
    assert any("ValueError" in e["log_failure"].getTraceback()
               for e in events if e.get("log_failure") is not None)


def test_displayTracebacksShowsEscapedTraceback(connectSite: Any, parse: Any) -> None:
    """With displayTracebacks the 500 page includes the traceback, HTML-escaped."""
    def boom(request: server.Request) -> bytes:
        raise ValueError("secret <detail>")

    with capturedLogs():
        response = parse(connectSite(Leaf(boom), displayTracebacks=True).send(GET))[0]
    assert b"secret &lt;detail&gt;" in response.body and b"<detail>" not in response.body


def test_exceptionAfterStartedWritingClosesConnection(connectSite: Any) -> None:
    """An error after the headers went out closes the connection instead of a 500."""
    d: Deferred[bytes] = Deferred()

    def render(request: server.Request) -> Any:
        request.write(b"partial")
        return d

    conn = connectSite(Leaf(render))
    conn.send(GET)
    with capturedLogs():
        d.errback(RuntimeError("late"))
    assert b"500" not in conn.take()
    assert conn.transport.disconnecting


def test_nonBytesResultIs500(connectSite: Any, parse: Any) -> None:
    """A render method returning str is answered with a 500 page, escaped."""
    response = parse(connectSite(Leaf(lambda r: "<text>")).send(GET))[0]
    assert response.code == 500 and b"<text>" not in response.body


def test_unsupportedKnownMethodGives405WithAllow(connectSite: Any, parse: Any) -> None:
    """POST (one of GET/HEAD/POST) without render_POST gets 405 and an Allow header."""
    conn = connectSite(Leaf(lambda r: b"x"))
    response = parse(conn.send(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"))[0]
    assert response.code == 405
    assert response.header(b"allow") == b"GET, HEAD"
    assert b'with the method "POST".  I only allow the methods GET, HEAD here.' in response.body


def test_unsupportedOtherMethodGives501(connectSite: Any, parse: Any) -> None:
    """A method outside GET/HEAD/POST that no render_* handles gets 501, without Allow."""
    conn = connectSite(Leaf(lambda r: b"x"))
    response = parse(conn.send(b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
    assert response.code == 501
    assert response.header(b"allow") is None
    assert b"I don't know how to treat a DELETE request." in response.body


def test_otherMethodWithRenderMethodIsRendered(connectSite: Any, parse: Any) -> None:
    """A method outside GET/HEAD/POST is still rendered by a resource that defines it."""
    class Deletable(Leaf):
        def render_DELETE(self, request: server.Request) -> bytes:
            return b"deleted"

    response = parse(connectSite(Deletable(lambda r: b"x")).send(
        b"DELETE / HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
    assert (response.code, response.body) == (200, b"deleted")


def test_allowedMethodsAttributeIsUsed(connectSite: Any, parse: Any) -> None:
    """A resource's allowedMethods attribute is what the Allow header lists."""
    leaf = Leaf(lambda r: b"x")
    leaf.allowedMethods = (b"GET",)
    response = parse(connectSite(leaf).send(
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"))[0]
    assert response.header(b"allow") == b"GET"


def test_missingChildPageHasTwistedWording(connectSite: Any, parse: Any) -> None:
    """A path no child matches gets Twisted's 404 page: 'No Such Resource', 'Sorry. No luck...'."""
    response = parse(connectSite(resource.Resource()).send(
        b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
    assert response.code == 404
    assert b"<title>404 - No Such Resource</title>" in response.body
    assert b"<p>Sorry. No luck finding that resource.</p>" in response.body


def test_headFallsBackToGet(connectSite: Any, parse: Any) -> None:
    """A resource with render_GET only and no render_HEAD still answers HEAD, bodiless."""
    class OnlyGet:
        isLeaf = True

        def render(self, request: server.Request) -> bytes:
            from torsion.web.error import UnsupportedMethod

            if request.method != b"GET":
                raise UnsupportedMethod([b"GET"])
            return b"abc"

    out = connectSite(OnlyGet()).send(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert parse(out, head=True)[0].header(b"content-length") == b"3"
    assert out.endswith(b"\r\n\r\n")


def test_notDoneYetLetsResourceFinish(connectSite: Any, parse: Any) -> None:
    """NOT_DONE_YET leaves the request open until the resource finishes it."""
    held: list[server.Request] = []

    def render(request: server.Request) -> int:
        held.append(request)
        return server.NOT_DONE_YET

    conn = connectSite(Leaf(render))
    assert conn.send(GET) == b""
    held[0].setHeader(b"content-length", b"2")
    held[0].write(b"ok")
    held[0].finish()
    assert parse(conn.take())[0].body == b"ok"


def test_traversalUsesPutChildAndDecodesSegments(connectSite: Any, parse: Any) -> None:
    """The path is walked child by child; segments are percent-decoded in postpath."""
    seen: list[tuple[list[bytes], list[bytes]]] = []

    def render(request: server.Request) -> bytes:
        seen.append((list(request.prepath), list(request.postpath)))
        return b"leaf"

    root = resource.Resource()
    sub = resource.Resource()
    root.putChild(b"a b", sub)
    sub.putChild(b"c", Leaf(render))
    out = parse(connectSite(root).send(b"GET /a%20b/c/d/e HTTP/1.1\r\nHost: x\r\n\r\n"))[0]
    assert out.body == b"leaf"
    assert seen == [([b"a b", b"c"], [b"d", b"e"])]


def test_missingChildIs404(connectSite: Any, parse: Any) -> None:
    """A path with no matching child is answered 404."""
    assert parse(connectSite(resource.Resource()).send(
        b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"))[0].code == 404


def test_gzipEncodingWhenAccepted(connectSite: Any, parse: Any) -> None:
    """EncodingResourceWrapper+GzipEncoderFactory gzips for clients accepting gzip."""
    wrapped = EncodingResourceWrapper(Leaf(lambda r: b"z" * 1000),
                                      [server.GzipEncoderFactory()])
    out = connectSite(wrapped).send(b"GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n")
    response = parse(out)[0]
    assert response.header(b"content-encoding") == b"gzip"
    assert response.header(b"vary") == b"Accept-Encoding"
    assert gzip.decompress(response.body) == b"z" * 1000
    assert int(response.header(b"content-length") or 0) == len(response.body)


def test_gzipStreamedWrites(connectSite: Any, parse: Any) -> None:
    """Streaming writes through the gzip encoder produce one valid gzip stream."""
    held: list[server.Request] = []

    def render(request: server.Request) -> int:
        held.append(request)
        return server.NOT_DONE_YET

    conn = connectSite(EncodingResourceWrapper(Leaf(render), [server.GzipEncoderFactory()]))
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nAccept-Encoding: deflate, gzip\r\n\r\n")
    held[0].write(b"a" * 100)
    held[0].write(b"b" * 100)
    held[0].finish()
    assert gzip.decompress(parse(conn.take())[0].body) == b"a" * 100 + b"b" * 100


def test_noGzipWhenNotAccepted(connectSite: Any, parse: Any) -> None:
    """Without gzip in Accept-Encoding the body is sent as is."""
    wrapped = EncodingResourceWrapper(Leaf(lambda r: b"plain"), [server.GzipEncoderFactory()])
    response = parse(connectSite(wrapped).send(GET))[0]
    assert response.body == b"plain" and response.header(b"content-encoding") is None


def test_sessionCreatedWithSecureCookie(connectSite: Any, parse: Any) -> None:
    """getSession sets an HttpOnly, SameSite cookie holding an unguessable id."""
    sessions: list[server.Session] = []
    conn = connectSite(Leaf(lambda r: sessions.append(r.getSession()) or b""))
    response = parse(conn.send(GET))[0]
    uid = sessions[0].uid
    assert len(uid) == 64
    cookie = response.header(b"set-cookie") or b""
    assert cookie.startswith(b"TORSION_SESSION=" + uid) and b"HttpOnly" in cookie
    assert b"SameSite=Lax" in cookie


def test_sessionFoundAgainFromCookie(connectSite: Any) -> None:
    """A request carrying the session cookie gets the same session back."""
    sessions: list[server.Session] = []
    conn = connectSite(Leaf(lambda r: sessions.append(r.getSession()) or b""))
    conn.send(GET)
    uid = sessions[0].uid
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nCookie: TORSION_SESSION=" + uid + b"\r\n\r\n")
    assert sessions[1] is sessions[0]


def test_unknownSessionCookieGetsNewSession(connectSite: Any) -> None:
    """A forged or expired session id does not resurrect a session."""
    sessions: list[server.Session] = []
    conn = connectSite(Leaf(lambda r: sessions.append(r.getSession()) or b""))
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nCookie: TORSION_SESSION=forged\r\n\r\n")
    assert sessions[0].uid != b"forged"


def test_sessionExpiresAfterTimeout(connectSite: Any) -> None:
    """An unused session expires after sessionTimeout on the site's clock and notifies."""
    sessions: list[server.Session] = []
    conn = connectSite(Leaf(lambda r: sessions.append(r.getSession()) or b""))
    conn.send(GET)
    session = sessions[0]
    expired: list[bool] = []
    session.notifyOnExpire(lambda: expired.append(True))
    conn.clock.advance(session.sessionTimeout - 1)
    session.touch()
    conn.clock.advance(session.sessionTimeout - 1)
    assert not expired and session.uid in conn.site.sessions
    conn.clock.advance(2)
    assert expired == [True] and session.uid not in conn.site.sessions


def test_sessionExpireNow(connectSite: Any) -> None:
    """Session.expire removes it from the site at once."""
    sessions: list[server.Session] = []
    conn = connectSite(Leaf(lambda r: sessions.append(r.getSession()) or b""))
    conn.send(GET)
    sessions[0].expire()
    assert conn.site.sessions == {}
    with pytest.raises(KeyError):
        conn.site.getSession(sessions[0].uid)


def test_prePathURLAndURLPath(connectSite: Any) -> None:
    """prePathURL and URLPath describe where the resource sits."""
    urls: list[bytes] = []
    root = resource.Resource()
    root.putChild(b"dir", Leaf(lambda r: urls.append(r.prePathURL())
                               or urls.append(bytes(r.URLPath().child(b"kid"))) or b""))
    connectSite(root).send(b"GET /dir HTTP/1.1\r\nHost: example.com:8080\r\n\r\n")
    assert urls == [b"http://example.com:12345/dir", b"http://example.com:12345/dir/kid"]


def test_redirectSetsLocation(connectSite: Any, parse: Any) -> None:
    """request.redirect answers 302 with a Location header."""
    def render(request: server.Request) -> bytes:
        request.redirect(b"/elsewhere")
        return b""

    response = parse(connectSite(Leaf(render)).send(GET))[0]
    assert (response.code, response.header(b"location")) == (302, b"/elsewhere")


def test_conditionalLastModified(connectSite: Any, parse: Any) -> None:
    """setLastModified returns CACHED and 304 for a current If-Modified-Since."""
    from torsion.web import http

    def render(request: server.Request) -> bytes:
        if request.setLastModified(1000) is http.CACHED:
            return b""
        return b"fresh"

    conn = connectSite(Leaf(render))
    stamp = http.datetimeToString(2000)
    response = parse(conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: " + stamp
                               + b"\r\n\r\n"), head=True)[0]
    assert response.code == 304


def test_succeededDeferredAnswersAtOnce(connectSite: Any, parse: Any) -> None:
    """An already-fired Deferred is answered during the same dataReceived."""
    assert parse(connectSite(Leaf(lambda r: succeed(b"now"))).send(GET))[0].body == b"now"


def test_noContentResponseHasNoBody(connectSite: Any, parse: Any) -> None:
    """A 204 carries no body nor Content-Length, and the connection carries on."""
    def render(request: server.Request) -> bytes:
        request.setResponseCode(204)
        return b"dropped"

    conn = connectSite(Leaf(render))
    out = conn.send(GET)
    assert out.startswith(b"HTTP/1.1 204 No Content\r\n") and out.endswith(b"\r\n\r\n")
    assert b"dropped" not in out and b"Content-Length" not in out
    assert not conn.transport.disconnecting
    assert parse(conn.send(GET))[0].code == 204


# -- Request._serve: the one-frame path for plain requests must act like the steps ----------


def test_plainRequestAnsweredWithStandardHead(connectSite: Any, parse: Any) -> None:
    """A leaf returning bytes is answered 200 with length, type, date and server fields."""
    conn = connectSite(Leaf(lambda r: b"hello"))
    response = parse(conn.send(GET))[0]
    assert (response.code, response.body) == (200, b"hello")
    assert response.header(b"content-length") == b"5"
    assert response.header(b"content-type") == b"text/html"
    assert response.header(b"server") and response.header(b"date")
    assert not conn.transport.disconnecting


def test_plainRequestAttributesAreTwisteds(connectSite: Any) -> None:
    """After the one-frame path, the request has Twisted's attributes set as the steps set them."""
    seen: list[server.Request] = []

    def render(request: server.Request) -> bytes:
        seen.append(request)
        return b"x"

    root = resource.Resource()
    root.putChild(b"a", Leaf(render))
    conn = connectSite(root)
    conn.send(b"GET /a/b%20c?q=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    request = seen[0]
    assert request.path == b"/a/b%20c" and request.uri == b"/a/b%20c?q=1"
    assert request.prepath == [b"a"] and request.postpath == [b"b c"]
    assert request.sitepath == [] and request.site is conn.site
    assert request.finished and request.startedWriting and request.sentLength == 1
    assert request.code == 200 and request.args == {b"q": [b"1"]}


def test_headerSetByRenderIsSent(connectSite: Any, parse: Any) -> None:
    """A render that sets a response header leaves the one-frame path and the header goes out."""
    def render(request: server.Request) -> bytes:
        request.setHeader(b"x-a", b"1")
        return b"body"

    response = parse(connectSite(Leaf(render)).send(GET))[0]
    assert response.header(b"x-a") == b"1" and response.body == b"body"


def test_codeAssignedDirectlyIsSent(connectSite: Any, parse: Any) -> None:
    """A render that assigns request.code directly (no setResponseCode) gets that code."""
    def render(request: server.Request) -> bytes:
        request.code = 404
        request.code_message = b"Not Found"
        return b"gone"

    assert parse(connectSite(Leaf(render)).send(GET))[0].code == 404


def test_notifyFinishDuringRenderFires(connectSite: Any) -> None:
    """A Deferred asked for during render fires when the response is written."""
    fired: list[object] = []

    def render(request: server.Request) -> bytes:
        request.notifyFinish().addCallback(fired.append)
        return b"x"

    connectSite(Leaf(render)).send(GET)
    assert fired == [None]


def test_subclassOverridingProcessIsCalled(connectSite: Any, parse: Any) -> None:
    """A Request subclass that overrides process gets its process called."""
    class Mine(server.Request):
        def process(self) -> None:
            self.setResponseCode(202)
            self.finish()

    conn = connectSite(Leaf(lambda r: b"unused"), requestFactory=Mine)
    conn.channel.requestFactory = Mine
    assert parse(conn.send(GET))[0].code == 202


def test_subclassChangingDefaultCodeIsHonoured(connectSite: Any, parse: Any) -> None:
    """A Request subclass with another class-level code answers with it."""
    class Teapot(server.Request):
        code = 418
        code_message = b"I'm a teapot"

    conn = connectSite(Leaf(lambda r: b"tea"))
    conn.channel.requestFactory = Teapot
    assert parse(conn.send(GET))[0].code == 418


def test_siteOverridingGetResourceForIsUsed(connectSite: Any, parse: Any) -> None:
    """A Site subclass's own getResourceFor picks the resource."""
    class MySite(server.Site):
        def getResourceFor(self, request: Any) -> Any:
            return Leaf(lambda r: b"mine")

    site = MySite(Leaf(lambda r: b"not mine"))
    channel = site.buildProtocol(None)
    from torsion.internet.testing import StringTransport

    transport = StringTransport()
    channel.makeConnection(transport)
    channel.dataReceived(GET)
    assert parse(transport.value())[0].body == b"mine"


def test_http10KeepAliveRequestIsHttp10(connectSite: Any) -> None:
    """An HTTP/1.0 request is seen as HTTP/1.0 whatever its Connection field says."""
    seen: list[bytes] = []

    def render(request: server.Request) -> bytes:
        seen.append(request.clientproto)
        return b"x"

    conn = connectSite(Leaf(render))
    conn.send(b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n")
    conn.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert seen == [b"HTTP/1.0", b"HTTP/1.1", b"HTTP/1.1"]
