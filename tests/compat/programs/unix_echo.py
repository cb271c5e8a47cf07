# Mirrors Twisted's UNIX socket examples (docs/core/howto/servers.rst, endpoints.rst
# "unix:" strings): listenUNIX / connectUNIX and the endpoint string forms.
import os
import sys
import tempfile

from twisted.internet import defer, endpoints, protocol, task


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data.upper())


class Once(protocol.Protocol):
    def connectionMade(self):
        self.done = defer.Deferred()
        self.transport.write(b"over a unix socket")

    def dataReceived(self, data):
        self.transport.loseConnection()
        self.done.callback(data)


@defer.inlineCallbacks
def main(reactor):
    path = os.path.join(tempfile.mkdtemp(), "echo.sock")
    port = reactor.listenUNIX(path, protocol.Factory.forProtocol(Echo))
    print("host type:", type(port.getHost()).__name__, port.getHost().name == path)
    ep = endpoints.clientFromString(reactor, f"unix:path={path}")
    proto = yield endpoints.connectProtocol(ep, Once())
    print("peer:", type(proto.transport.getPeer()).__name__)
    print("reply:", (yield proto.done))
    yield port.stopListening()
    print("socket file removed:", not os.path.exists(path))
    path2 = path + "2"
    server = endpoints.serverFromString(reactor, f"unix:{path2}")
    port2 = yield server.listen(protocol.Factory.forProtocol(Echo))
    proto = yield endpoints.connectProtocol(endpoints.UNIXClientEndpoint(reactor, path2), Once())
    print("endpoint reply:", (yield proto.done))
    yield port2.stopListening()
    sys.stdout.flush()


task.react(main)
