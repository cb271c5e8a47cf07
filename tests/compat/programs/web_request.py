# Mirrors Twisted's docs/web/howto/web-in-60 and using-twistedweb.rst request attributes:
# method, uri, path, args, prepath/postpath, headers, client address, host, cookies,
# URLPath, and a response with setLastModified / conditional GET.
import sys

from twisted.internet import reactor
from twisted.web.resource import Resource
from twisted.web.server import Site


class Show(Resource):
    isLeaf = True

    def render(self, request):
        lines = [
            f"method={request.method!r}",
            f"uri={request.uri!r}",
            f"path={request.path!r}",
            f"args={sorted(request.args.items())!r}",
            f"prepath={request.prepath!r} postpath={request.postpath!r}",
            f"header={request.getHeader(b'x-test')!r} missing={request.getHeader(b'x-no')!r}",
            f"host={request.getRequestHostname()!r} secure={request.isSecure()!r}",
            f"client={request.getClientAddress().host!r}",
            f"cookie={request.getCookie(b'c')!r}",
            f"urlpath={str(request.URLPath())!r}",
            f"content={request.content.read()!r}",
        ]
        return "\n".join(lines).encode("utf-8")


class Cached(Resource):
    isLeaf = True

    def render_GET(self, request):
        if request.setLastModified(1_000_000_000) == b"conditional GET":
            return b""
        return b"fresh content"


root = Resource()
root.putChild(b"show", Show())
root.putChild(b"cached", Cached())
reactor.listenTCP(int(sys.argv[1]), Site(root), interface="127.0.0.1")
reactor.run()
