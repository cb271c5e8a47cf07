# Mirrors Twisted's docs/web/howto/listings/render_1.py / element_1.py with
# renderElement: a template page served by a Resource, read by an Agent in the same
# process, plus a Deferred-returning renderer.
from twisted.internet import defer, task
from twisted.web import resource, server
from twisted.web.client import Agent, readBody
from twisted.web.template import Element, XMLString, renderElement, renderer, tags


class Page(Element):
    loader = XMLString(
        '<html xmlns:t="http://twistedmatrix.com/ns/twisted.web.template/0.1">'
        '<body><p t:render="greeting" /><p t:render="later" /></body></html>')

    @renderer
    def greeting(self, request, tag):
        return tag("Hello, ", request.args.get(b"name", [b"world"])[0].decode())

    @renderer
    def later(self, request, tag):
        return task.deferLater(self.reactor, 0.01, lambda: tag(tags.em("later")))


class Home(resource.Resource):
    isLeaf = True

    def __init__(self, reactor):
        resource.Resource.__init__(self)
        self.reactor = reactor

    def render_GET(self, request):
        page = Page()
        page.reactor = self.reactor
        return renderElement(request, page)


@defer.inlineCallbacks
def main(reactor):
    port = reactor.listenTCP(0, server.Site(Home(reactor)), interface="127.0.0.1")
    url = f"http://127.0.0.1:{port.getHost().port}/?name=you".encode()
    response = yield Agent(reactor).request(b"GET", url)
    print(response.code, response.headers.getRawHeaders(b"content-type"))
    print((yield readBody(response)).decode())
    yield port.stopListening()


task.react(main)
