# Mirrors small API uses from Twisted's howtos (reflect, factories, policies, task):
# reflect.qual/namedAny/namedModule; Factory doStart/doStop counting ports;
# WrappingFactory; LoopingCall.withCount; reactor.resolve; Protocol.getPeer addresses.
from twisted.internet import defer, protocol, task
from twisted.internet.address import IPv4Address
from twisted.protocols import policies
from twisted.python import reflect

print("qual:", reflect.qual(IPv4Address).split(".")[-2:])
print("namedAny:", reflect.namedAny("os.path.join")("a", "b"))
print("namedModule:", reflect.namedModule("json").__name__)
print("address:", IPv4Address("TCP", "127.0.0.1", 80) == IPv4Address("TCP", "127.0.0.1", 80))


class Counting(protocol.Factory):
    protocol = protocol.Protocol

    def startFactory(self):
        print("startFactory, numPorts =", self.numPorts)

    def stopFactory(self):
        print("stopFactory, numPorts =", self.numPorts)


@defer.inlineCallbacks
def main(reactor):
    f = Counting()
    p1 = reactor.listenTCP(0, f, interface="127.0.0.1")
    p2 = reactor.listenTCP(0, policies.WrappingFactory(f), interface="127.0.0.1")
    print("ports open, numPorts =", f.numPorts)
    yield p1.stopListening()
    print("one closed, numPorts =", f.numPorts)
    yield p2.stopListening()
    counts = []
    lc = task.LoopingCall.withCount(counts.append)
    yield task.deferLater(reactor, 0, lambda: None)
    lc.start(0.05)
    yield task.deferLater(reactor, 0.12, lambda: None)
    lc.stop()
    # The first count is 2 if the process stalls an interval long: timing, not API.
    print("withCount:", counts[0] >= 1, sum(counts) >= 2)
    address = yield reactor.resolve("localhost")
    print("resolved:", address in ("127.0.0.1", "::1"))


task.react(main)
