# Mirrors Twisted's web-in-60 "Asynchronous Responses" and "Asynchronous Responses (via
# Deferred)" examples: NOT_DONE_YET with callLater, request.write/finish, and
# notifyFinish for an interrupted response.
import sys

from twisted.internet import reactor, task
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Site


class DelayedResource(Resource):
    isLeaf = True

    def _delayedRender(self, request):
        request.write(b"<html><body>Sorry to keep you waiting.</body></html>")
        request.finish()

    def render_GET(self, request):
        reactor.callLater(0.05, self._delayedRender, request)
        return NOT_DONE_YET


class Streamed(Resource):
    isLeaf = True

    def render_GET(self, request):
        d = task.deferLater(reactor, 0.02, lambda: None)

        def send(_):
            for i in range(3):
                request.write(b"chunk %d\n" % i)
            request.finish()

        d.addCallback(send)
        request.notifyFinish().addErrback(lambda f: d.cancel())
        return NOT_DONE_YET


root = Resource()
root.putChild(b"delayed", DelayedResource())
root.putChild(b"streamed", Streamed())
reactor.listenTCP(int(sys.argv[1]), Site(root), interface="127.0.0.1")
reactor.run()
