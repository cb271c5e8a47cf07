# Mirrors Twisted's docs/core/howto/endpoints.rst server example (serverFromString +
# listen) with a LineReceiver that answers each line upper-cased.
import sys

from twisted.internet import endpoints, protocol, reactor
from twisted.protocols.basic import LineReceiver


class Upper(LineReceiver):
    def lineReceived(self, line):
        if line == b"quit":
            self.sendLine(b"bye")
            self.transport.loseConnection()
        else:
            self.sendLine(line.upper())


def listening(port):
    print("listening:", port.getHost().port == int(sys.argv[1]), flush=True)


endpoint = endpoints.serverFromString(reactor, f"tcp:{sys.argv[1]}:interface=127.0.0.1")
d = endpoint.listen(protocol.Factory.forProtocol(Upper))
d.addCallback(listening)
reactor.run()
