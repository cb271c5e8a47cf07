# Mirrors Twisted's docs/core/howto/listings/pb/copy_sender.py / copy_receiver.tac and
# cache_classes.py: a pb.Copyable sent to a RemoteCopy registered with
# setUnjellyableForClass, getStateToCopy trimming state, remote calls on a Root.
from twisted.internet import defer, task
from twisted.spread import pb


class LilyPond(pb.Copyable):
    def __init__(self, frogs, secret):
        self.frogs = frogs
        self.secret = secret

    def getStateToCopy(self):
        state = self.__dict__.copy()
        del state["secret"]
        return state


class ReceiverPond(pb.RemoteCopy):
    def setCopyableState(self, state):
        self.__dict__ = state
        self.received = True

    def count(self):
        return self.frogs


pb.setUnjellyableForClass(LilyPond, ReceiverPond)


class Receiver(pb.Root):
    def remote_takePond(self, pond):
        print("server got a", type(pond).__name__, "with", pond.count(), "frogs;",
              "secret copied:", hasattr(pond, "secret"), "| received:", pond.received)
        return pond.count() * 2

    def remote_givePond(self):
        return LilyPond(7, "hidden")


@defer.inlineCallbacks
def main(reactor):
    port = reactor.listenTCP(0, pb.PBServerFactory(Receiver()), interface="127.0.0.1")
    factory = pb.PBClientFactory()
    reactor.connectTCP("127.0.0.1", port.getHost().port, factory)
    root = yield factory.getRootObject()
    print("doubled:", (yield root.callRemote("takePond", LilyPond(12, "do not send"))))
    pond = yield root.callRemote("givePond")
    print("client got a", type(pond).__name__, "with", pond.count(), "frogs")
    factory.disconnect()
    yield port.stopListening()


task.react(main)
