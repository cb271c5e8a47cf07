# Mirrors the failure half of Twisted's docs/core/examples/echoclient.py:
# clientConnectionFailed runs with a ConnectionRefusedError when nothing listens.
import sys

from twisted.internet import error, protocol, reactor


class EchoFactory(protocol.ClientFactory):
    protocol = protocol.Protocol

    def startedConnecting(self, connector):
        print("started connecting to", connector.getDestination().port == int(sys.argv[1]))

    def clientConnectionFailed(self, connector, reason):
        print("failed:", reason.check(error.ConnectionRefusedError).__name__)
        reactor.stop()


reactor.connectTCP("127.0.0.1", int(sys.argv[1]), EchoFactory())
reactor.run()
print("done")
