# Mirrors Twisted's docs/core/howto/defer.rst "Unhandled Errors" and logging.rst: a failed
# Deferred nobody handled is logged when collected; log.err inside an errback;
# Failure.getErrorMessage/getBriefTraceback; twisted.python.log.startLogging to stdout.
import gc
import sys

from twisted.internet import defer
from twisted.python import log

log.startLogging(sys.stdout, setStdout=False)


def fail():
    raise ValueError("nobody handles me")


d = defer.maybeDeferred(fail)
del d
gc.collect()

d = defer.maybeDeferred(fail)
d.addErrback(log.err, "handled by log.err")
d.addCallback(lambda r: print("after log.err the result is", r))

d = defer.Deferred()
d.addErrback(lambda f: print("brief:", f.getBriefTraceback().strip().splitlines()[-1]))
d.errback(KeyError("k"))
log.msg("the end")
