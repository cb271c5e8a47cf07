# Mirrors Twisted's docs/core/howto/logging.rst with servers.rst: log.startLogging(stdout)
# for a LineReceiver server -- the port and factory lines, an exception in lineReceived
# (logged, that connection dropped, the server goes on), an exception in a delayed call,
# and the shutdown lines after SIGTERM.
import sys

from twisted.internet import protocol, reactor
from twisted.protocols.basic import LineReceiver
from twisted.python import log


class Fragile(LineReceiver):
    def connectionMade(self):
        log.msg("connection from", self.transport.getPeer().host)

    def lineReceived(self, line):
        if line == b"crash":
            raise ZeroDivisionError("crashed on purpose")
        self.sendLine(b"fine: " + line)

    def connectionLost(self, reason):
        log.msg("connection lost:", reason.type.__name__)


class FragileFactory(protocol.ServerFactory):
    protocol = Fragile


def broken():
    raise KeyError("in a delayed call")


log.startLogging(sys.stdout, setStdout=False)
reactor.listenTCP(int(sys.argv[1]), FragileFactory(), interface="127.0.0.1")
reactor.callLater(0, broken)
reactor.run()
