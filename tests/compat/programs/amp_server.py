# Mirrors Twisted's docs/core/examples/ampserver.py: Sum and Divide commands with typed
# arguments, a declared error, responders on an AMP subclass.
import sys

from twisted.internet import reactor
from twisted.internet.protocol import Factory
from twisted.protocols import amp


class Sum(amp.Command):
    arguments = [(b"a", amp.Integer()), (b"b", amp.Integer())]
    response = [(b"total", amp.Integer())]


class Divide(amp.Command):
    arguments = [(b"numerator", amp.Integer()), (b"denominator", amp.Integer())]
    response = [(b"result", amp.Float())]
    errors = {ZeroDivisionError: b"ZERO_DIVISION"}


class Math(amp.AMP):
    def sum(self, a, b):
        total = a + b
        print(f"Did a sum: {a} + {b} = {total}", flush=True)
        return {"total": total}

    Sum.responder(sum)

    def divide(self, numerator, denominator):
        result = float(numerator) / denominator
        print(f"Divided: {numerator} / {denominator} = {result}", flush=True)
        return {"result": result}

    Divide.responder(divide)


reactor.listenTCP(int(sys.argv[1]), Factory.forProtocol(Math), interface="127.0.0.1")
reactor.run()
