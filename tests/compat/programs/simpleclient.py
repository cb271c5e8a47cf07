# Mirrors Twisted's docs/core/examples/simpleclient.py: a client that sends one message on
# connect, prints what the server said and stops the reactor when the connection goes.
import sys

from twisted.internet import protocol, reactor


class EchoClient(protocol.Protocol):
    def connectionMade(self):
        self.transport.write(b"hello, world!")

    def dataReceived(self, data):
        print("Server said:", data)
        self.transport.loseConnection()

    def connectionLost(self, reason):
        print("connection lost")


class EchoFactory(protocol.ClientFactory):
    protocol = EchoClient

    def clientConnectionFailed(self, connector, reason):
        print("Connection failed - goodbye!")
        reactor.stop()

    def clientConnectionLost(self, connector, reason):
        print("Connection lost - goodbye!")
        reactor.stop()


def main():
    reactor.connectTCP("127.0.0.1", int(sys.argv[1]), EchoFactory())
    reactor.run()


if __name__ == "__main__":
    main()
