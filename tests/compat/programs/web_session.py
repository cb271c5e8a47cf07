# Mirrors Twisted's web-in-60 "Session Basics" and "Storing Objects in the Session":
# request.getSession(), a per-session counter kept on the session object.
import sys

from twisted.internet import reactor
from twisted.web.resource import Resource
from twisted.web.server import Site


class Counter(Resource):
    isLeaf = True

    def render_GET(self, request):
        session = request.getSession()
        count = getattr(session, "compat_count", 0) + 1
        session.compat_count = count
        return b"visit %d" % count


reactor.listenTCP(int(sys.argv[1]), Site(Counter()), interface="127.0.0.1")
reactor.run()
