# Mirrors Twisted's docs/core/examples/echoserv_ssl.py and echoclient_ssl.py: listenSSL with
# ssl.DefaultOpenSSLContextFactory(key, cert), connectSSL with ssl.ClientContextFactory,
# and the same over endpoints with an "ssl:" server string.  Key and cert paths from argv.
import sys

from twisted.internet import defer, endpoints, protocol, ssl, task  # noqa: F401


class Echo(protocol.Protocol):
    def dataReceived(self, data):
        self.transport.write(data)


class Once(protocol.Protocol):
    def connectionMade(self):
        self.done = defer.Deferred()
        self.transport.write(b"secret message")

    def dataReceived(self, data):
        self.transport.loseConnection()
        self.done.callback(data)


class OnceFactory(protocol.ClientFactory):
    def __init__(self):
        self.done = defer.Deferred()

    def buildProtocol(self, addr):
        proto = Once()
        proto.connectionMade = lambda: (Once.connectionMade(proto),
                                        proto.done.chainDeferred(self.done))
        return proto

    def clientConnectionFailed(self, connector, reason):
        self.done.errback(reason)


@defer.inlineCallbacks
def main(reactor):
    key, cert = sys.argv[1], sys.argv[2]
    factory = protocol.Factory.forProtocol(Echo)
    port = reactor.listenSSL(0, factory, ssl.DefaultOpenSSLContextFactory(key, cert),
                             interface="127.0.0.1")
    client = OnceFactory()
    reactor.connectSSL("127.0.0.1", port.getHost().port, client, ssl.ClientContextFactory())
    try:
        print("listenSSL/connectSSL:", (yield client.done))
    except Exception as e:
        print("listenSSL/connectSSL failed:", type(e).__name__)
    yield port.stopListening()
    server = endpoints.serverFromString(
        reactor, f"ssl:0:interface=127.0.0.1:privateKey={key}:certKey={cert}")
    port2 = yield server.listen(factory)
    ep = endpoints.SSL4ClientEndpoint(reactor, "127.0.0.1", port2.getHost().port,
                                      ssl.ClientContextFactory())
    proto = yield endpoints.connectProtocol(ep, Once())
    print("endpoints:", (yield proto.done))
    yield port2.stopListening()


task.react(main)
