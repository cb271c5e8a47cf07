# Mirrors Twisted's docs/core/howto/listings/trial/calculus (base_3.py with test_base_2.py,
# test_client_3.py): a trial TestCase with setUp, a Deferred-returning test, a protocol
# tested on StringTransport, timeouts on task.Clock, and one expected failure.
from twisted.internet import defer, task
from twisted.internet.testing import StringTransport
from twisted.protocols import basic
from twisted.trial import unittest


class Calculation:
    def add(self, a, b):
        return int(a) + int(b)


class RemoteCalculation(basic.LineReceiver):
    def __init__(self, clock):
        self.clock = clock
        self.results = []

    def ask(self, line):
        d = defer.Deferred()
        self.results.append(d)
        self.sendLine(line)
        call = self.clock.callLater(5, d.errback, defer.TimeoutError("timeout"))
        d.addBoth(lambda r: (call.active() and call.cancel(), r)[1])
        return d

    def lineReceived(self, line):
        self.results.pop(0).callback(int(line))


class CalculationTestCase(unittest.TestCase):
    def setUp(self):
        self.calc = Calculation()

    def test_add(self):
        self.assertEqual(self.calc.add(3, 8), 11)

    def test_invalidArguments(self):
        self.assertRaises(ValueError, self.calc.add, "x", 1)

    def test_deferred(self):
        from twisted.internet import reactor

        d = task.deferLater(reactor, 0.01, self.calc.add, 1, 2)
        d.addCallback(self.assertEqual, 3)
        return d

    def test_expectedFailure(self):
        self.assertEqual(self.calc.add(1, 1), 3)


class ClientTestCase(unittest.TestCase):
    def setUp(self):
        self.clock = task.Clock()
        self.proto = RemoteCalculation(self.clock)
        self.tr = StringTransport()
        self.proto.makeConnection(self.tr)

    def test_answer(self):
        d = self.proto.ask(b"add 1 2")
        self.assertEqual(self.tr.value(), b"add 1 2\r\n")
        self.proto.dataReceived(b"3\r\n")
        self.assertEqual(self.successResultOf(d), 3)

    def test_timeout(self):
        d = self.proto.ask(b"add 1 2")
        self.clock.advance(5)
        self.failureResultOf(d, defer.TimeoutError)
