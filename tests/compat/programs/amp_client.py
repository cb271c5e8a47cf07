# Mirrors Twisted's docs/core/examples/ampclient.py: ClientCreator-style connection
# (endpoints + connectProtocol), callRemote of Sum and Divide, a declared error trapped.
import sys

from twisted.internet import defer, endpoints, task
from twisted.protocols import amp


class Sum(amp.Command):
    arguments = [(b"a", amp.Integer()), (b"b", amp.Integer())]
    response = [(b"total", amp.Integer())]


class Divide(amp.Command):
    arguments = [(b"numerator", amp.Integer()), (b"denominator", amp.Integer())]
    response = [(b"result", amp.Float())]
    errors = {ZeroDivisionError: b"ZERO_DIVISION"}


@defer.inlineCallbacks
def main(reactor):
    endpoint = endpoints.TCP4ClientEndpoint(reactor, "127.0.0.1", int(sys.argv[1]))
    ampProto = yield endpoints.connectProtocol(endpoint, amp.AMP())
    results = yield defer.gatherResults([
        ampProto.callRemote(Sum, a=13, b=81),
        ampProto.callRemote(Divide, numerator=1234, denominator=2)])
    print("Done with math:", [results[0]["total"], results[1]["result"]])
    try:
        yield ampProto.callRemote(Divide, numerator=1, denominator=0)
    except ZeroDivisionError:
        print("Divided by zero: returning INF")
    ampProto.transport.loseConnection()


task.react(main)
