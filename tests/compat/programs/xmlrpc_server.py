# Mirrors Twisted's docs/web/howto/xmlrpc.rst server example: an XMLRPC resource with
# xmlrpc_ methods, a Fault, and a method returning a Deferred.
import sys

from twisted.internet import reactor, task
from twisted.web import server, xmlrpc


class Example(xmlrpc.XMLRPC):
    def xmlrpc_echo(self, x):
        return x

    def xmlrpc_add(self, a, b):
        return a + b

    def xmlrpc_fault(self):
        raise xmlrpc.Fault(123, "The fault procedure is faulty.")

    def xmlrpc_slow(self, x):
        return task.deferLater(reactor, 0.01, lambda: x * 2)


reactor.listenTCP(int(sys.argv[1]), server.Site(Example()), interface="127.0.0.1")
reactor.run()
