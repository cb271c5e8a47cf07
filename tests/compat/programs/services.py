# Mirrors Twisted's docs/core/howto/application.rst and clientservice.rst: a MultiService
# holding a TCPServer, a TimerService and a ClientService that connects to that server
# (whenConnected), started and stopped in order.
from twisted.application import internet, service
from twisted.internet import defer, endpoints, protocol, task
from twisted.protocols.basic import LineReceiver


class Hello(LineReceiver):
    def connectionMade(self):
        self.sendLine(b"hello from the server")


class Listener(LineReceiver):
    def lineReceived(self, line):
        self.factory.lines.append(line)
        self.factory.gotLine.callback(None)


class Named(service.Service):
    def startService(self):
        print("start", self.name)
        service.Service.startService(self)

    def stopService(self):
        print("stop", self.name)
        return service.Service.stopService(self)


@defer.inlineCallbacks
def main(reactor):
    probe = reactor.listenTCP(0, protocol.Factory(), interface="127.0.0.1")
    port = probe.getHost().port
    yield probe.stopListening()
    top = service.MultiService()
    for name in ("first", "second"):
        named = Named()
        named.setName(name)
        named.setServiceParent(top)
    internet.TCPServer(port, protocol.Factory.forProtocol(Hello),
                       interface="127.0.0.1").setServiceParent(top)
    ticks = []
    internet.TimerService(0.02, ticks.append, "tick").setServiceParent(top)
    factory = protocol.Factory.forProtocol(Listener)
    factory.lines = []
    factory.gotLine = defer.Deferred()
    endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", port)
    client = internet.ClientService(endpoint, factory)
    client.setServiceParent(top)
    top.startService()
    print("running:", top.running, [s.name for s in top if s.name])
    proto = yield client.whenConnected()
    yield factory.gotLine  # the server's line, however long the machine takes to send it
    yield task.deferLater(reactor, 0.1, lambda: None)
    print("client got:", proto.factory.lines, "ticks > 1:", len(ticks) > 1)
    print("named lookup:", top.getServiceNamed("second").name)
    yield top.stopService()
    print("running after stop:", top.running)


task.react(main)
