# Mirrors Twisted's docs/core/howto/listings/pb/pb1client.py, pb2client.py and
# exc_client.py: PBClientFactory.getRootObject, callRemote, a remote reference passed
# back, and a remote pb.Error reaching the errback.
import sys

from twisted.internet import reactor
from twisted.spread import pb


def got_obj1(obj1):
    print("got first object")
    d = obj1.callRemote("echo", {"list": [1, 2.5, "three", None], "tuple": (1, b"x")})
    d.addCallback(lambda v: print("echo:", v))
    d.addCallback(lambda _: obj1.callRemote("getTwo"))
    d.addCallback(lambda two: two.callRemote("three", 12))
    d.addCallback(lambda msg: print("server said:", msg))
    d.addCallback(lambda _: obj1.callRemote("broken"))
    d.addErrback(failed)
    d.addBoth(lambda _: reactor.stop())


def failed(f):
    print("error:", f.getErrorMessage(), f.check(pb.Error) is pb.Error)
    print("trapped:", f.trap(pb.Error).__name__)
    print("type:", f.type, type(f.value).__name__)


factory = pb.PBClientFactory()
reactor.connectTCP("127.0.0.1", int(sys.argv[1]), factory)
factory.getRootObject().addCallback(got_obj1)
reactor.run()
