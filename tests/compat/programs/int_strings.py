# Mirrors Twisted's framing examples (twisted.protocols.basic Int32StringReceiver and
# NetstringReceiver, as used in docs/core/howto/servers.rst): length-prefixed messages
# over a real connection in one process.
import struct

from twisted.internet import defer, endpoints, protocol, task
from twisted.protocols.basic import Int32StringReceiver, NetstringReceiver


class Reverser(Int32StringReceiver):
    def stringReceived(self, string):
        self.sendString(string[::-1])


class NetReverser(NetstringReceiver):
    def stringReceived(self, string):
        self.sendString(string.upper())


class Collect(protocol.Protocol):
    def connectionMade(self):
        self.data = b""
        self.done = defer.Deferred()

    def dataReceived(self, data):
        self.data += data
        if len(self.data) >= self.factory_expect:
            self.transport.loseConnection()
            self.done.callback(self.data)


@defer.inlineCallbacks
def main(reactor):
    for factory, payload, expect in [
        (Reverser, struct.pack("!I", 5) + b"hello" + struct.pack("!I", 3) + b"abc", 16),
        (NetReverser, b"5:hello,3:abc,", 14),
    ]:
        port = reactor.listenTCP(0, protocol.Factory.forProtocol(factory), interface="127.0.0.1")
        ep = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port.getHost().port)
        c = Collect()
        c.factory_expect = expect
        yield endpoints.connectProtocol(ep, c)
        c.transport.write(payload)
        print(factory.__name__, (yield c.done))
        yield port.stopListening()


task.react(main)
