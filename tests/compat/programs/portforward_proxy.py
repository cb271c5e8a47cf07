# Mirrors Twisted's twistd portforward plugin (twisted.protocols.portforward.ProxyFactory):
# listen on one port and relay every connection to another host:port.
import sys

from twisted.internet import reactor
from twisted.protocols import portforward

listen, target = int(sys.argv[1]), int(sys.argv[2])
reactor.listenTCP(listen, portforward.ProxyFactory("127.0.0.1", target), interface="127.0.0.1")
reactor.run()
