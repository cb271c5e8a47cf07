# Mirrors Twisted's docs/core/howto/clients.rst ReconnectingClientFactory example: a client
# that keeps retrying until a server appears (started after the first failure), then
# resets its delay and talks.
from twisted.internet import protocol, reactor
from twisted.protocols.basic import LineReceiver


class Echo(LineReceiver):
    def lineReceived(self, line):
        self.sendLine(b"echo " + line)


class Client(LineReceiver):
    def connectionMade(self):
        print("connected; resetting delay")
        self.factory.resetDelay()
        self.sendLine(b"hi")

    def lineReceived(self, line):
        print("received", line)
        self.factory.stopTrying()
        self.transport.loseConnection()


class EchoClientFactory(protocol.ReconnectingClientFactory):
    initialDelay = 0.05
    maxDelay = 0.1
    protocol = Client

    def clientConnectionFailed(self, connector, reason):
        if self.retries == 0:
            print("connection failed; will retry")
            reactor.callLater(0.1, reactor.listenTCP, port, protocol.Factory.forProtocol(Echo),
                              interface="127.0.0.1")
        protocol.ReconnectingClientFactory.clientConnectionFailed(self, connector, reason)

    def clientConnectionLost(self, connector, reason):
        print("connection lost; continueTrying =", self.continueTrying)
        protocol.ReconnectingClientFactory.clientConnectionLost(self, connector, reason)
        reactor.callLater(0.05, reactor.stop)


probe = reactor.listenTCP(0, protocol.Factory.forProtocol(Echo), interface="127.0.0.1")
port = probe.getHost().port
probe.stopListening()
factory = EchoClientFactory()
reactor.connectTCP("127.0.0.1", port, factory)
reactor.run()
print("retried:", factory.retries == 0 and not factory.continueTrying)
