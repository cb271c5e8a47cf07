# Mirrors Twisted's DeferredList examples (docs/core/howto/defer.rst "DeferredList"):
# results as (success, value) pairs, fireOnOneCallback, consumeErrors, gatherResults
# failing with FirstError.
from twisted.internet import defer

d1, d2, d3 = defer.Deferred(), defer.Deferred(), defer.Deferred()
dl = defer.DeferredList([d1, d2, d3], consumeErrors=True)


def printResults(results):
    for success, value in results:
        if success:
            print("Success:", value)
        else:
            print("Failure:", value.getErrorMessage())


dl.addCallback(printResults)
d1.callback("one")
d3.errback(ValueError("three failed"))
print("fired before d2:", dl.called)
d2.callback("two")

first = defer.DeferredList([defer.Deferred(), defer.succeed("fast")], fireOnOneCallback=True)
first.addCallback(lambda r: print("first:", r))

g = defer.gatherResults([defer.succeed(1), defer.fail(KeyError("x"))], consumeErrors=True)
g.addErrback(lambda f: print("gather failed:", f.type.__name__, f.value.subFailure.type.__name__))
