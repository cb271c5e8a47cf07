# Mirrors Twisted's docs/core/examples/simpleserv.py: the echo server (Protocol,
# Factory, listenTCP, reactor.run).  Port from argv.
import sys

from twisted.internet import protocol, reactor


class Echo(protocol.Protocol):
    """Write back whatever arrives."""

    def dataReceived(self, data):
        self.transport.write(data)


def main():
    factory = protocol.ServerFactory()
    factory.protocol = Echo
    reactor.listenTCP(int(sys.argv[1]), factory, interface="127.0.0.1")
    reactor.run()


if __name__ == "__main__":
    main()
