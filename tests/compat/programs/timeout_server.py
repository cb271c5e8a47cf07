# Mirrors Twisted's policies.TimeoutMixin usage (twisted/protocols/policies.py docs):
# a LineReceiver that drops a client after a short idle time, resetting on each line.
import sys

from twisted.internet import protocol, reactor
from twisted.protocols.basic import LineReceiver
from twisted.protocols.policies import TimeoutMixin


class Idle(LineReceiver, TimeoutMixin):
    def connectionMade(self):
        self.setTimeout(1.0)

    def lineReceived(self, line):
        self.resetTimeout()
        self.sendLine(b"ok " + line)

    def timeoutConnection(self):
        self.sendLine(b"timed out")
        TimeoutMixin.timeoutConnection(self)

    def connectionLost(self, reason):
        self.setTimeout(None)


reactor.listenTCP(int(sys.argv[1]), protocol.Factory.forProtocol(Idle), interface="127.0.0.1")
reactor.run()
