# Mirrors Twisted's docs/core/howto/defer.rst error handling with Failure: an exception in
# a callback becomes a Failure whose type, value, getErrorMessage and traceback text are
# available to the errback; Failure.raiseException; printing a Failure's traceback.
import io

from twisted.internet import defer
from twisted.python.failure import Failure


def parse(value):
    return int(value)


def errback(f):
    print("type:", f.type.__name__, "| message:", f.getErrorMessage())
    text = io.StringIO()
    f.printTraceback(file=text)
    lines = text.getvalue().splitlines()
    print("first:", lines[0])
    print("last:", lines[-1])
    print("mentions parse:", any("in parse" in line for line in lines))
    try:
        f.raiseException()
    except ValueError as e:
        print("raised again:", e)


d = defer.Deferred()
d.addCallback(parse)
d.addErrback(errback)
d.callback("not a number")

try:
    {}["missing"]
except KeyError:
    f = Failure()
print("captured:", repr(f.value), f.check(LookupError) is LookupError)
print("str:", str(Failure(ZeroDivisionError("zero"))).strip())
