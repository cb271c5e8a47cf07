# Mirrors Twisted's docs/web/howto/using-twistedweb.rst "Site logging": a Site run with
# log.startLogging(stdout) writes a start line and one access-log line per request
# (combined log format).
import sys

from twisted.internet import reactor
from twisted.python import log
from twisted.web import server, static

log.startLogging(sys.stdout, setStdout=False)
root = static.Data(b"logged", "text/plain")
reactor.listenTCP(int(sys.argv[1]), server.Site(root), interface="127.0.0.1")
reactor.run()
