# Mirrors Twisted's docs/web/howto/web-in-60/static-content.rst: serving a directory with
# static.File (plus a file and directory created here so the output is known).
import os
import sys
import tempfile

from twisted.internet import reactor
from twisted.web.server import Site
from twisted.web.static import File

root = tempfile.mkdtemp()
with open(os.path.join(root, "index.html"), "wb") as f:
    f.write(b"<h1>index</h1>\n")
with open(os.path.join(root, "notes.txt"), "wb") as f:
    f.write(b"0123456789" * 10)
os.mkdir(os.path.join(root, "sub"))

resource = File(root)
reactor.listenTCP(int(sys.argv[1]), Site(resource), interface="127.0.0.1")
reactor.run()
