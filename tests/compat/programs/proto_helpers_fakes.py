# An old-style unit test of a protocol with the fakes from twisted.test.proto_helpers
# (Twisted's "Unit Tests in Twisted" howto used this import path for years).
from twisted.internet import protocol
from twisted.protocols import basic
from twisted.test import proto_helpers
from twisted.test.proto_helpers import (
    AccumulatingProtocol,
    LineSendingProtocol,
    MemoryReactor,
    MemoryReactorClock,
    StringTransport,
    StringTransportWithDisconnection,
)


class Upper(basic.LineReceiver):
    def lineReceived(self, line):
        if line == b"quit":
            self.transport.loseConnection()
        else:
            self.sendLine(line.upper())


class UpperFactory(protocol.Factory):
    protocol = Upper


proto = UpperFactory().buildProtocol(("127.0.0.1", 0))
transport = StringTransport()
proto.makeConnection(transport)
proto.dataReceived(b"hello\r\nwor")
proto.dataReceived(b"ld\r\n")
print("written:", transport.value())
transport.clear()
proto.dataReceived(b"quit\r\n")
print("after quit:", transport.value(), transport.disconnecting)

closing = StringTransportWithDisconnection()
accumulating = AccumulatingProtocol()
accumulating.closedDeferred = None
closing.protocol = accumulating
accumulating.makeConnection(closing)
accumulating.dataReceived(b"some data")
closing.loseConnection()
print("accumulated:", accumulating.data, bool(accumulating.made), bool(accumulating.closed))

sender = LineSendingProtocol([b"one", b"two"])
sendTransport = StringTransport()
sender.makeConnection(sendTransport)
sender.dataReceived(b"reply\r\n")
print("line sender:", sendTransport.value(), sender.response)

reactor = MemoryReactor()
reactor.listenTCP(8080, UpperFactory(), interface="127.0.0.1")
reactor.connectTCP("example.com", 80, protocol.ClientFactory(), timeout=5)
port, factory, backlog, interface = reactor.tcpServers[0]
host, cport, cfactory, timeout, bindAddress = reactor.tcpClients[0]
print("memory reactor:", port, type(factory).__name__, interface, host, cport, timeout)

clock = MemoryReactorClock()
fired = []
clock.callLater(2, fired.append, "later")
clock.advance(1)
print("before:", fired)
clock.advance(1)
print("after:", fired, clock.seconds())
print("module names:", sorted(n for n in proto_helpers.__all__ if not n.startswith("_")))
