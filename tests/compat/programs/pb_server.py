# Mirrors Twisted's docs/core/howto/listings/pb/pb1server.py and pb2server.py: a Root
# Referenceable with remote_ methods, one returning another Referenceable.
import sys

from twisted.internet import reactor
from twisted.spread import pb


class Two(pb.Referenceable):
    def remote_three(self, arg):
        return "Two.three was given " + repr(arg)


class One(pb.Root):
    def remote_getTwo(self):
        return Two()

    def remote_echo(self, value):
        return value

    def remote_broken(self):
        raise pb.Error("remote failure")


reactor.listenTCP(int(sys.argv[1]), pb.PBServerFactory(One()), interface="127.0.0.1")
reactor.run()
