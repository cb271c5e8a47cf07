# Mirrors Twisted's docs/web/howto/client.rst error handling: readBody on a response cut
# short (PartialDownloadError), a connection refused, BrowserLikeRedirectAgent turning a
# POST answered by 303 into a GET, response.length and a HEAD request.
import socket

from twisted.internet import defer, protocol, task
from twisted.web import client, resource, server, util
from twisted.web.client import Agent, BrowserLikeRedirectAgent, readBody


class Short(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly a bit")
        self.transport.loseConnection()


class Target(resource.Resource):
    isLeaf = True

    def render(self, request):
        return b"method was " + request.method


class PostHere(resource.Resource):
    isLeaf = True

    def render_POST(self, request):
        request.setResponseCode(303)
        request.setHeader(b"location", b"/target")
        return b""


@defer.inlineCallbacks
def main(reactor):
    short = reactor.listenTCP(0, protocol.Factory.forProtocol(Short), interface="127.0.0.1")
    agent = Agent(reactor)
    response = yield agent.request(b"GET", f"http://127.0.0.1:{short.getHost().port}/".encode())
    print("length:", response.length)
    try:
        yield readBody(response)
    except client.PartialDownloadError as e:
        print("partial:", e.response, e.status)
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    closed = s.getsockname()[1]
    s.close()
    try:
        yield agent.request(b"GET", f"http://127.0.0.1:{closed}/".encode())
    except Exception as e:
        print("refused:", type(e).__name__)
    root = resource.Resource()
    root.putChild(b"target", Target())
    root.putChild(b"post", PostHere())
    root.putChild(b"moved", util.Redirect(b"/target"))
    site = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
    base = f"http://127.0.0.1:{site.getHost().port}".encode()
    browser = BrowserLikeRedirectAgent(agent)
    response = yield browser.request(b"POST", base + b"/post")
    print("303 followed:", response.code, (yield readBody(response)))
    response = yield agent.request(b"HEAD", base + b"/target")
    print("head:", response.code, response.length, (yield readBody(response)))
    yield short.stopListening()
    yield site.stopListening()


task.react(main)
