# Mirrors Twisted's docs/core/howto/endpoints.rst client example: clientFromString /
# TCP4ClientEndpoint, connectProtocol, a Deferred fired when the reply comes, task.react.
import sys

from twisted.internet import defer, endpoints, protocol, task
from twisted.protocols.basic import LineReceiver


class Greeter(LineReceiver):
    def connectionMade(self):
        self.answers = []
        self.done = defer.Deferred()

    def lineReceived(self, line):
        self.answers.append(line)
        if len(self.answers) == 2:
            self.transport.loseConnection()

    def connectionLost(self, reason):
        self.done.callback(self.answers)


@defer.inlineCallbacks
def main(reactor):
    port = int(sys.argv[1])
    endpoint = endpoints.clientFromString(reactor, f"tcp:host=127.0.0.1:port={port}")
    proto = yield endpoints.connectProtocol(endpoint, Greeter())
    proto.sendLine(b"hello")
    proto.sendLine(b"world")
    answers = yield proto.done
    print("answers:", answers)
    second = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port)
    proto2 = yield second.connect(protocol.Factory.forProtocol(Greeter))
    proto2.sendLine(b"again")
    proto2.sendLine(b"done")
    print("answers:", (yield proto2.done))


task.react(main)
