# Mirrors Twisted's docs/web/howto/client.rst listings (request.py, cookies.py,
# gzipdecoder.py, redirect handling): RedirectAgent, CookieAgent, ContentDecoderAgent with
# GzipDecoder and HTTPConnectionPool, against a twisted.web Site run in the same process.
import gzip
from http.cookiejar import CookieJar

from twisted.internet import defer, task
from twisted.web import resource, server, util
from twisted.web.client import (
    Agent,
    ContentDecoderAgent,
    CookieAgent,
    GzipDecoder,
    HTTPConnectionPool,
    RedirectAgent,
    readBody,
)


class Zipped(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setHeader(b"content-encoding", b"gzip")
        return gzip.compress(b"unzipped body " * 3)


class SetCookie(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        request.addCookie(b"flavour", b"oatmeal", path=b"/")
        return b"cookie set"


class ShowCookie(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"cookie: " + (request.getCookie(b"flavour") or b"none")


@defer.inlineCallbacks
def main(reactor):
    root = resource.Resource()
    root.putChild(b"zipped", Zipped())
    root.putChild(b"set", SetCookie())
    root.putChild(b"show", ShowCookie())
    root.putChild(b"moved", util.Redirect(b"/show"))
    port = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
    base = f"http://127.0.0.1:{port.getHost().port}".encode("ascii")
    pool = HTTPConnectionPool(reactor)
    agent = Agent(reactor, pool=pool)
    gz = ContentDecoderAgent(agent, [(b"gzip", GzipDecoder)])
    response = yield gz.request(b"GET", base + b"/zipped")
    print("gzip:", response.code, (yield readBody(response)))
    jar = CookieJar()
    cookies = CookieAgent(agent, jar)
    yield cookies.request(b"GET", base + b"/set").addCallback(readBody)
    print("jar:", [(c.name, c.value) for c in jar])
    redirecting = RedirectAgent(cookies)
    response = yield redirecting.request(b"GET", base + b"/moved")
    print("redirected:", response.code, (yield readBody(response)),
          response.previousResponse.code)
    response = yield agent.request(b"GET", base + b"/moved")
    print("not followed:", response.code, response.headers.getRawHeaders(b"location"))
    yield readBody(response)
    yield pool.closeCachedConnections()
    yield port.stopListening()


task.react(main)
