# Mirrors smaller idioms from Twisted's howtos: protocol.ClientCreator (clients.rst),
# basic.FileSender (producers), loopback.loopbackAsync (trial.rst), defer.returnValue in
# old inlineCallbacks code, task.react passing argv, web.client.URI, Deferred.fromCoroutine.
import io
import warnings

from twisted.internet import defer, protocol, task
from twisted.protocols import basic, loopback
from twisted.web.client import URI

warnings.simplefilter("ignore", DeprecationWarning)


class Collect(protocol.Protocol):
    def connectionMade(self):
        self.data = b""

    def dataReceived(self, data):
        self.data += data


class Sender(protocol.Protocol):
    def connectionMade(self):
        sender = basic.FileSender()
        d = sender.beginFileTransfer(io.BytesIO(b"z" * 70000), self.transport)
        d.addCallback(lambda last: self.transport.loseConnection())


@defer.inlineCallbacks
def oldStyle(x):
    yield None
    defer.returnValue(x + 1)


async def coro():
    return "from a coroutine"


@defer.inlineCallbacks
def main(reactor, *argv):
    print("argv:", argv)
    print("returnValue:", (yield oldStyle(1)))
    print("fromCoroutine:", (yield defer.Deferred.fromCoroutine(coro())))
    uri = URI.fromBytes(b"http://user@example.com:8080/a/b?c=d#frag")
    print("URI:", uri.scheme, uri.host, uri.port, uri.path, uri.query, uri.toBytes())
    port = reactor.listenTCP(0, protocol.Factory.forProtocol(Sender), interface="127.0.0.1")
    creator = protocol.ClientCreator(reactor, Collect)
    client = yield creator.connectTCP("127.0.0.1", port.getHost().port)
    lost = defer.Deferred()
    client.connectionLost = lambda reason: lost.callback(None)
    yield lost
    print("FileSender over ClientCreator:", len(client.data))
    yield port.stopListening()
    server, clientProto = Collect(), Collect()
    server.connectionMade = lambda: (Collect.connectionMade(server),
                                     server.transport.write(b"over loopback"),
                                     server.transport.loseConnection())
    yield loopback.loopbackAsync(server, clientProto)
    print("loopbackAsync:", clientProto.data)


task.react(main, ["first", "second"])
