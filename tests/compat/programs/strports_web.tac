# Mirrors Twisted's docs/web/howto/using-twistedweb.rst .tac examples: strports.service
# serving a twisted.web Site with a small resource tree, run by twistd -ny (torsion -ny).
import os

from twisted.application import service, strports
from twisted.web import resource, server, static

root = resource.Resource()
root.putChild(b"", static.Data(b"<h1>root</h1>", "text/html"))
root.putChild(b"hello", static.Data(b"hello, tac", "text/plain"))

application = service.Application("web")
site = server.Site(root)
strports.service(f"tcp:{os.environ['COMPAT_PORT']}:interface=127.0.0.1",
                 site).setServiceParent(application)
