# Mirrors Twisted's cancellation and timeout examples (docs/core/howto/defer.rst
# "Cancellation", Deferred.addTimeout): a canceller, CancelledError, TimeoutError.
from twisted.internet import defer, task


def main(reactor):
    def canceller(d):
        print("canceller called")

    d = defer.Deferred(canceller)
    d.addErrback(lambda f: print("cancelled:", f.check(defer.CancelledError).__name__))
    d.cancel()

    fast = task.deferLater(reactor, 0.01, lambda: "in time")
    fast.addTimeout(2, reactor)
    fast.addCallback(lambda r: print("fast:", r))

    def startSlow(_):
        # Started once fast is done, so the output's order never depends on how long
        # the machine took between starting the two.
        slow = task.deferLater(reactor, 5, lambda: "too late")
        slow.addTimeout(0.05, reactor)
        slow.addErrback(lambda f: print("timed out:", f.check(defer.TimeoutError).__name__))
        return slow

    return fast.addCallback(startSlow)


task.react(main)
