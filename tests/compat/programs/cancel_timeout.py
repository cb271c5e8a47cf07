# Mirrors Twisted's cancellation and timeout examples (docs/core/howto/defer.rst
# "Cancellation", Deferred.addTimeout): a canceller, CancelledError, TimeoutError.
from twisted.internet import defer, task


def main(reactor):
    def canceller(d):
        print("canceller called")

    d = defer.Deferred(canceller)
    d.addErrback(lambda f: print("cancelled:", f.check(defer.CancelledError).__name__))
    d.cancel()

    slow = task.deferLater(reactor, 5, lambda: "too late")
    slow.addTimeout(0.05, reactor)
    slow.addErrback(lambda f: print("timed out:", f.check(defer.TimeoutError).__name__))

    fast = task.deferLater(reactor, 0.01, lambda: "in time")
    fast.addTimeout(2, reactor)
    fast.addCallback(lambda r: print("fast:", r))
    return defer.gatherResults([slow, fast])


task.react(main)
