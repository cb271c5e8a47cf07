# Mirrors Twisted's web-in-60 wsgi.rst (WSGIResource on the reactor's thread pool) and
# docs/web/howto/listings/proxy/reverse-proxy.py (ReverseProxyResource), plus vhost's
# NameVirtualHost: one Site routing /app to WSGI and /proxied back to itself.
import sys

from twisted.internet import reactor
from twisted.web import proxy, resource, server, static, vhost
from twisted.web.wsgi import WSGIResource


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("X-App", "wsgi")])
    body = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']} {environ['QUERY_STRING']}"
    return [body.encode("utf-8")]


class OtherHost(resource.Resource):
    isLeaf = True

    def render_GET(self, request):
        return b"the other host, path " + request.path


port = int(sys.argv[1])
root = resource.Resource()
root.putChild(b"app", WSGIResource(reactor, reactor.getThreadPool(), application))
root.putChild(b"plain", static.Data(b"plain data", "text/plain"))
root.putChild(b"proxied", proxy.ReverseProxyResource("127.0.0.1", port, b"/plain"))
hosts = vhost.NameVirtualHost()
hosts.default = root
hosts.addHost(b"other.example", OtherHost())
reactor.listenTCP(port, server.Site(hosts), interface="127.0.0.1")
reactor.run()
