# Mirrors Twisted's web-in-60 "Generating a Page Dynamically", "Dynamic URL Dispatch" and
# "Error Handling" examples (docs/web/howto/web-in-60): render_GET, getChild,
# isLeaf, NoResource, request.setHeader/setResponseCode.
import sys

from twisted.internet import reactor
from twisted.web.resource import NoResource, Resource
from twisted.web.server import Site


class Calendar(Resource):
    def getChild(self, name, request):
        try:
            year = int(name)
        except ValueError:
            return NoResource()
        return YearPage(year)


class YearPage(Resource):
    isLeaf = True

    def __init__(self, year):
        Resource.__init__(self)
        self.year = year

    def render_GET(self, request):
        request.setHeader(b"content-type", b"text/plain; charset=utf-8")
        return f"year {self.year}, args {sorted(request.args)}".encode()


class Teapot(Resource):
    isLeaf = True

    def render_GET(self, request):
        request.setResponseCode(418)
        request.setHeader("X-Kind", "teapot")
        return b"short and stout"


root = Resource()
root.putChild(b"calendar", Calendar())
root.putChild(b"teapot", Teapot())
reactor.listenTCP(int(sys.argv[1]), Site(root), interface="127.0.0.1")
reactor.run()
