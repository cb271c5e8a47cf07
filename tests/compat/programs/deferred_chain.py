# Mirrors Twisted's Deferred howto listings (docs/core/howto/defer.rst examples and
# listings/deferred/synch-validation.py): callback/errback chains, Failure.trap,
# addBoth, synchronous results with succeed/fail/maybeDeferred.
from twisted.internet import defer
from twisted.python import failure


class InvalidUsername(Exception):
    pass


def synchronousIsValidUser(user):
    if user not in ("alice", "angus"):
        raise InvalidUsername(user)
    return True


def printResult(result):
    print("result:", result)
    return result


def printError(f):
    f.trap(InvalidUsername)
    print("invalid user:", f.getErrorMessage())
    return False


for name in ("alice", "bob"):
    d = defer.maybeDeferred(synchronousIsValidUser, name)
    d.addCallbacks(printResult, printError)
    d.addBoth(lambda r: print("chain done with", r))

d = defer.Deferred()
d.addCallback(lambda x: x * 2)
d.addCallback(lambda x: 1 / (x - 4))
d.addErrback(lambda f: print("caught", f.type.__name__) or -1)
d.addCallback(printResult)
d.callback(2)

d = defer.fail(ValueError("boom"))
d.addCallback(lambda _: print("never"))
d.addErrback(lambda f: print("errback:", repr(f.value)))

d = defer.succeed("ok")
print("called:", d.called)
d.addCallback(printResult)

f = failure.Failure(KeyError("k"))
print("check:", f.check(ValueError, KeyError).__name__, "trap ok:", f.trap(KeyError).__name__)
try:
    f.trap(ValueError)
except KeyError as e:
    print("trap re-raised", repr(e))

d1, d2 = defer.Deferred(), defer.Deferred()
d1.addCallback(lambda r: d2)
d1.addCallback(lambda r: print("chained result:", r))
d1.callback(None)
print("paused on inner:", d1.called)
d2.callback("inner")
