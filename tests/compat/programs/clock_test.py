# Mirrors Twisted's docs/core/howto/listings/trial/calculus/test/test_client_3.py idea:
# time-dependent code tested with task.Clock instead of the real reactor.
from twisted.internet import defer, task


class Timed:
    def __init__(self, clock):
        self.clock = clock

    def ask(self, timeout):
        d = defer.Deferred()
        call = self.clock.callLater(timeout, d.errback, RuntimeError("timeout"))
        d.addBoth(lambda r: (call.active() and call.cancel(), r)[1])
        return d


clock = task.Clock()
t = Timed(clock)
d = t.ask(5)
results = []
d.addErrback(lambda f: results.append(f.getErrorMessage()))
clock.advance(4.9)
print("after 4.9:", results, clock.seconds())
clock.advance(0.1)
print("after 5.0:", results)

d2 = t.ask(5)
d2.callback("answered")
print("pending calls:", len(clock.getDelayedCalls()))
lc = task.LoopingCall(lambda: results.append("tick"))
lc.clock = clock
lc.start(1, now=False)
clock.pump([1, 1, 1])
lc.stop()
print("ticks:", results.count("tick"))
