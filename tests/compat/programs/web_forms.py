# Mirrors Twisted's web-in-60 "Handling POSTs" and "Redirects" examples: render_POST
# reading request.args, html-escaping input, util.redirectTo, request.content.
import html
import sys

from twisted.internet import reactor
from twisted.web.resource import Resource
from twisted.web.server import Site
from twisted.web.util import redirectTo


class FormPage(Resource):
    isLeaf = True

    def render_GET(self, request):
        return b'<html><body><form method="POST"><input name="the-field"></form></body></html>'

    def render_POST(self, request):
        field = request.args[b"the-field"][0].decode("utf-8")
        return f"You submitted: {html.escape(field)}".encode()


class Raw(Resource):
    isLeaf = True

    def render_PUT(self, request):
        body = request.content.read()
        return b"got %d bytes: %s" % (len(body), body[::-1])


class Old(Resource):
    isLeaf = True

    def render_GET(self, request):
        return redirectTo(b"/form", request)


root = Resource()
root.putChild(b"form", FormPage())
root.putChild(b"raw", Raw())
root.putChild(b"old", Old())
reactor.listenTCP(int(sys.argv[1]), Site(root), interface="127.0.0.1")
reactor.run()
